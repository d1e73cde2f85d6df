/* test_ladderlib.c -- unit tests for ladder_svg() (ladder/ladderlib.h): the server's side of one
 * recorded HTTPS connection (tests/unit/ladderlib_conn.jsonl: build/server --log-format json
 * --capture, one curl fetching two URLs, the lines of conn 1) drawn from memory; damaged,
 * oversized and foreign inputs refused with -1; every allocation failure returns -1 with
 * nothing left allocated, and the next call draws the same picture. HSLAB_LADDERLIB_LOG=FILE:
 * the same on FILE, the events of one connection from a live server
 * (tests/test_ladderlib.py), with the names every HTTPS exchange has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../ladder/ladder.h"
#include "../../ladder/ladderlib.h"

#define FIXTURE	"tests/unit/ladderlib_conn.jsonl"

/* The log, NUL-terminated; its length in *len; NULL if it cannot be read. */
static char *
read_fixture(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = calloc(1, LADDER_SVG_IN_MAX + 1);
	*len = buf != NULL ? fread(buf, 1, LADDER_SVG_IN_MAX, f) : 0;
	fclose(f);
	return buf;
}

/* s with every from replaced by to (the same length), in a new string. */
static char *
replaced(const char *s, const char *from, const char *to)
{
	char *t = strdup(s), *p = t;

	while (t != NULL && (p = strstr(p, from)) != NULL) {
		memcpy(p, to, strlen(to));
		p += strlen(to);
	}
	return t;
}

/* ladder_svg() on s (len bytes) refuses it: -1, *svg NULL, no ladder block left. */
static int
refused(const char *s, size_t len)
{
	char *svg = (char *)1;
	size_t n = 1;
	int r = ladder_svg(s, len, 0, &svg, &n);

	if (r == 0)
		free(svg);
	return r == -1 && svg == NULL && n == 0 && lad_blocks() == 0;
}

void
test_ladderlib(void)
{
	/* in any HTTPS exchange; then in the fixture's (--capture, GET / and GET /x) */
	static const char *const names[] = {
		"ClientHello", "ServerHello", "EncryptedExtensions", "Certificate",
		"CertificateVerify", "Finished", "GET /", "200", "accept(): handshake done",
		"Client 127.0.0.1:", "Server 127.0.0.1:", "the server&apos;s log alone",
		"TLSv1.3",
		"NewSessionTicket", "GET /x", "404", "close_notify", "SYN seq=x", "SYN+ACK seq=y",
	};
	const char *live = getenv("HSLAB_LADDERLIB_LOG");
	size_t nnames = live != NULL ? 13 : sizeof(names) / sizeof(names[0]);
	char *in, *svg = NULL, *svg2 = NULL, *zh = NULL, *bad, *two;
	const char *p;
	size_t len = 0, n = 0, n2 = 0, nzh = 0, i;
	long nth;
	int r;

	in = read_fixture(live != NULL ? live : FIXTURE, &len);
	CHECK(in != NULL && len > 1000 && len < LADDER_SVG_IN_MAX);
	if (in == NULL)
		return;

	/* the drawing: an inline <svg> element with every message the server saw or sent */
	r = ladder_svg(in, len, 0, &svg, &n);
	CHECK(r == 0 && svg != NULL);
	if (r != 0 || svg == NULL) {
		free(in);
		return;
	}
	CHECK(n == strlen(svg));
	CHECK(strncmp(svg, "<svg ", 5) == 0);
	CHECK(n > 7 && strcmp(svg + n - 7, "</svg>\n") == 0);
	for (i = 0; i < nnames; i++) {
		if (strstr(svg, names[i]) == NULL)
			fprintf(stderr, "FAIL: '%s' is not in the SVG\n", names[i]);
		CHECK(strstr(svg, names[i]) != NULL);
	}
	/* the server's own log: no client end, and no "?" column for it either */
	CHECK(strstr(svg, ">?<") == NULL);
	CHECK(lad_blocks() == 0);
	CHECK(ladder_zh == 0);

	/* times from the server's own first event: not from the demo's HSLAB_T0 (build/ladder
	 * takes it when it lies less than a day before the first event) */
	if ((p = strstr(in, "\"ts_us\":")) != NULL) {
		char t0[32];

		snprintf(t0, sizeof(t0), "%lld", strtoll(p + 8, NULL, 10) - 5000000);
		setenv("HSLAB_T0", t0, 1);
		r = ladder_svg(in, len, 0, &svg2, &n2);
		unsetenv("HSLAB_T0");
		CHECK(r == 0 && n2 == n && memcmp(svg2, svg, n) == 0);
		free(svg2);
		svg2 = NULL;
	}
	CHECK(p != NULL);

	/* Chinese labels; the switch is put back after the call */
	r = ladder_svg(in, len, 1, &zh, &nzh);
	CHECK(r == 0 && zh != NULL && strstr(zh, "服务器") != NULL && strstr(zh, "客户端") != NULL);
	CHECK(ladder_zh == 0);
	free(zh);

	/* refused: nothing, too much, a damaged line, a NUL byte, no record, a client's log,
	 * two connections */
	CHECK(refused(in, 0));
	CHECK(refused(NULL, 10));
	CHECK(ladder_svg(in, len, 0, NULL, &n2) == -1);
	CHECK(refused(in, LADDER_SVG_IN_MAX + 1));
	bad = replaced(in, "\"event\":\"established\",", "\"event\":\"established\" ");
	CHECK(bad != NULL && refused(bad, len));	/* not JSON: "a" "b" */
	free(bad);
	bad = strdup(in);
	if (bad != NULL)
		bad[len / 2] = '\0';
	CHECK(bad != NULL && refused(bad, len));
	free(bad);
	CHECK(refused("hello\nnot a log\n", 16));
	CHECK(refused("{\"a\":1}\n", 8));
	bad = replaced(in, "\"side\":\"server\"", "\"side\":\"client\"");
	CHECK(bad != NULL && refused(bad, len));
	free(bad);
	bad = replaced(in, "\"conn\":1,", "\"conn\":2,");
	two = calloc(1, 2 * len + 1);
	if (two != NULL && bad != NULL) {
		memcpy(two, in, len);
		memcpy(two + len, bad, len);
	}
	CHECK(two != NULL && bad != NULL && refused(two, 2 * len));
	free(bad);
	free(two);

	/* every allocation in turn fails: -1, nothing left allocated, never an exit; then the
	 * call with no failure draws the same picture again */
	for (nth = 1; nth < 100000; nth++) {
		char *s = NULL;
		size_t sn = 0;

		ladder_fail_at = nth;
		r = ladder_svg(in, len, 0, &s, &sn);
		if (r == 0) {
			svg2 = s;
			n2 = sn;
			break;
		}
		if (s != NULL || lad_blocks() != 0) {
			fprintf(stderr, "FAIL: allocation %ld failed: svg %p, %zu block(s) left\n",
			    nth, (void *)s, lad_blocks());
			break;
		}
	}
	ladder_fail_at = 0;
	CHECK(nth > 20);	/* one block per event at least: the failures were real */
	CHECK(svg2 != NULL && n2 == n && memcmp(svg2, svg, n) == 0);
	CHECK(lad_blocks() == 0);
	free(svg2);
	free(svg);
	free(in);
}
