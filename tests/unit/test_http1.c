/* test_http1.c -- unit tests for the HTTP/1.1 head parser, chunked decoder and reason phrases. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "http1.h"
#include "unit.h"

static struct http1_msg m;
static char big[3 * HTTP1_MAX_HEAD];

static int
req(const char *s)
{
	return http1_parse(&m, HTTP1_REQUEST, s, strlen(s), 0);
}

static int
resp(const char *s, int to_head)
{
	return http1_parse(&m, HTTP1_RESPONSE, s, strlen(s), to_head);
}

/* A violation: -1, the given status, and some words saying why. */
static int
rejected(int r, int status)
{
	return r == -1 && m.error_status == status && m.error_text != NULL &&
	    m.error_text[0] != '\0';
}

/* Every proper prefix of s needs more bytes; all of s parses. */
static int
prefixes_incomplete(enum http1_kind kind, const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (http1_parse(&m, kind, s, i, 0) != 0)
			return 0;
	return http1_parse(&m, kind, s, n, 0) == 1 && m.head_len == n;
}

/* "GET /" padded so that the request line has exactly len bytes before its CRLF. */
static size_t
long_request_line(size_t len)
{
	size_t n;

	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', len - 5 - 9);
	memcpy(big + len - 9, " HTTP/1.1", 9);
	n = len;
	big[n] = '\0';
	return n;
}

/* A request whose head (blank line included) is exactly len bytes, one big header. */
static size_t
request_of_head_len(size_t len)
{
	const char *pre = "GET / HTTP/1.1\r\nX: ";
	size_t p = strlen(pre);

	memcpy(big, pre, p);
	memset(big + p, 'v', len - p - 4);
	memcpy(big + len - 4, "\r\n\r\n", 4);
	big[len] = '\0';
	return len;
}

static void
test_request_line(void)
{
	const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n"
	    "User-Agent: t/1\r\n\r\nBODY";

	CHECK(req(s) == 1);
	CHECK_STR(m.method, "GET");
	CHECK_STR(m.target, "/index.html?x=1");
	CHECK(m.kind == HTTP1_REQUEST);
	CHECK(m.version_minor == 1);
	CHECK(m.nheaders == 2);
	CHECK_STR(m.headers[0].name, "Host");
	CHECK_STR(m.headers[0].value, "example.com");
	CHECK_STR(m.headers[1].name, "User-Agent");
	CHECK_STR(m.headers[1].value, "t/1");
	CHECK(m.head_len == strlen(s) - 4);
	CHECK(m.body == HTTP1_BODY_NONE);
	CHECK(m.keep_alive == 1);
	CHECK(m.error_status == 0 && m.error_text == NULL);

	/* bare LF, and a mix of LF and CRLF */
	CHECK(req("GET / HTTP/1.0\nHost: a\n\n") == 1);
	CHECK(m.version_minor == 0 && m.nheaders == 1 && m.head_len == 24);
	CHECK_STR(m.headers[0].value, "a");
	CHECK(req("GET / HTTP/1.1\nA: 1\r\nB: 2\n\r\n") == 1);
	CHECK(m.nheaders == 2 && m.head_len == 28);
	CHECK_STR(m.headers[1].value, "2");

	/* methods: any uppercase token, at most HTTP1_MAX_METHOD-1 characters */
	CHECK(req("M-SEARCH * HTTP/1.1\r\n\r\n") == 1);
	CHECK_STR(m.method, "M-SEARCH");
	CHECK_STR(m.target, "*");
	CHECK(req("ABCDEFGHIJKLMNO / HTTP/1.1\r\n\r\n") == 1);
	CHECK(strlen(m.method) == HTTP1_MAX_METHOD - 1);
	CHECK(rejected(req("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("get / HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("G(T / HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req(" GET / HTTP/1.1\r\n\r\n"), 400));

	/* target and separators */
	CHECK(rejected(req("GET  / HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /  HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1 \r\n\r\n"), 400));
	CHECK(rejected(req("GET /a b HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\x01 HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\t HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\x7f HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\rx HTTP/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET /\r\n\r\n"), 400));          /* HTTP/0.9 style */
	CHECK(rejected(req("GET\r\n\r\n"), 400));
	CHECK(rejected(req("\r\n\r\n"), 400));   /* one empty line is skipped, then empty */
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, "\0GET / HTTP/1.1\r\n\r\n", 19, 0), 400));

	/* versions: 1.0 and 1.1; a later HTTP/1 minor read as 1.1 (RFC 9110 6.2); other
	 * majors 505; garbage 400 */
	CHECK(req("GET / HTTP/1.0\r\n\r\n") == 1 && m.version_minor == 0 &&
	    m.minor_received == 0);
	CHECK(rejected(req("GET / HTTP/2.0\r\n\r\n"), 505));
	CHECK_STR(m.error_text, "HTTP version not supported");
	CHECK(req("GET / HTTP/1.2\r\n\r\n") == 1 && m.version_minor == 1 &&
	    m.minor_received == 2);
	CHECK(req("GET / HTTP/1.9\r\n\r\n") == 1 && m.version_minor == 1 &&
	    m.minor_received == 9);
	CHECK(rejected(req("GET / HTTP/3.1\r\n\r\n"), 505));
	CHECK(rejected(req("GET / HTTP/0.9\r\n\r\n"), 505));
	CHECK(rejected(req("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505));
	CHECK(rejected(req("GET / http/1.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1x\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/11\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/a.1\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\r\n\r\n"), 400));

	/* a bad start line is reported before the rest of the head arrives */
	CHECK(rejected(req("GET / HTTP/2.0\r\n"), 505));
	CHECK(rejected(req("get / HTTP/1.1\n"), 400));

	/* one empty line before the request line is ignored (RFC 9112 2.2), two are not */
	CHECK(req("\r\nGET / HTTP/1.1\r\n\r\n") == 1);
	CHECK(m.head_len == 20);
	CHECK_STR(m.method, "GET");
	CHECK(req("\nGET / HTTP/1.1\r\n\r\n") == 1 && m.head_len == 19);
	CHECK(rejected(req("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 400));
}

static void
test_incremental(void)
{
	const char *r = "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
	size_t i;
	int ok;

	CHECK(req("") == 0);
	CHECK(http1_parse(&m, HTTP1_REQUEST, "GET", 3, 0) == 0);
	CHECK(prefixes_incomplete(HTTP1_REQUEST, r));
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == 3);
	CHECK(prefixes_incomplete(HTTP1_REQUEST, "GET / HTTP/1.1\nA: b\n\n"));
	CHECK(prefixes_incomplete(HTTP1_REQUEST, "\r\nGET / HTTP/1.1\r\n\r\n"));
	CHECK(prefixes_incomplete(HTTP1_RESPONSE, s));
	CHECK(m.status == 200 && m.body == HTTP1_BODY_LENGTH && m.content_length == 2);

	/* a complete head followed by body bytes: the same answer whatever follows */
	memcpy(big, r, strlen(r));
	memcpy(big + strlen(r), "abcXYZ", 6);
	for (ok = 1, i = strlen(r); i <= strlen(r) + 6; i++)
		if (http1_parse(&m, HTTP1_REQUEST, big, i, 0) != 1 || m.head_len != strlen(r))
			ok = 0;
	CHECK(ok);

	/* the message is reset on each call: nothing leaks from the previous one */
	CHECK(req("GET /a HTTP/1.1\r\nA: 1\r\nB: 2\r\nConnection: close\r\n\r\n") == 1);
	CHECK(m.nheaders == 3 && m.keep_alive == 0);
	CHECK(req("GET /b HTTP/1.1\r\n\r\n") == 1);
	CHECK(m.nheaders == 0 && m.keep_alive == 1 && m.status == 0 && m.reason == NULL);
	CHECK(rejected(req("BAD\r\n\r\n"), 400));
	CHECK(req("GET /c HTTP/1.1\r\n\r\n") == 1);
	CHECK(m.error_status == 0 && m.error_text == NULL);
	CHECK(resp("HTTP/1.1 404 Not Found\r\n\r\n", 0) == 1);
	CHECK(m.method == NULL && m.target == NULL && m.kind == HTTP1_RESPONSE);
}

static void
test_limits(void)
{
	size_t n, i;
	int ok;

	/* the request line: HTTP1_MAX_START_LINE bytes is fine, one more is 414 */
	n = long_request_line(HTTP1_MAX_START_LINE);
	memcpy(big + n, "\r\n\r\n", 5);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, n + 4, 0) == 1);
	CHECK(strlen(m.target) == HTTP1_MAX_START_LINE - 4 - 9);
	CHECK(m.head_len == HTTP1_MAX_START_LINE + 4);
	memcpy(big + n, "\n\n", 3);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, n + 2, 0) == 1);
	n = long_request_line(HTTP1_MAX_START_LINE + 1);
	memcpy(big + n, "\r\n\r\n", 5);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, n + 4, 0), 414));
	CHECK_STR(m.error_text, "request line too long");

	/* ... and it is detected as soon as the limit is passed, before any line end */
	memset(big, 'a', HTTP1_MAX_START_LINE + 2);
	memcpy(big, "GET /", 5);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 1, 0), 414));
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 2, 0), 414));
	big[HTTP1_MAX_START_LINE] = '\r';   /* a CR may still be the end of a line at the limit */
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 1, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 2, 0), 414));
	/* with the skipped empty line in front, the limit applies to the request line itself */
	big[0] = '\r';
	big[1] = '\n';
	memcpy(big + 2, "GET /", 5);
	memset(big + 7, 'a', HTTP1_MAX_START_LINE);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 2, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_START_LINE + 3, 0), 414));

	/* a too-long status line is a plain 400 (there is nobody to send a 414 to) */
	memcpy(big, "HTTP/1.1 200 ", 13);
	memset(big + 13, 'r', HTTP1_MAX_START_LINE);
	CHECK(http1_parse(&m, HTTP1_RESPONSE, big, HTTP1_MAX_START_LINE, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_RESPONSE, big, HTTP1_MAX_START_LINE + 1, 0), 400));
	CHECK_STR(m.error_text, "status line too long");
	memcpy(big + HTTP1_MAX_START_LINE, "\r\n\r\n", 4);
	CHECK(http1_parse(&m, HTTP1_RESPONSE, big, HTTP1_MAX_START_LINE + 4, 0) == 1);
	CHECK(strlen(m.reason) == HTTP1_MAX_START_LINE - 13);

	/* the whole head: HTTP1_MAX_HEAD bytes is fine, one more is 431 */
	n = request_of_head_len(HTTP1_MAX_HEAD);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, n, 0) == 1);
	CHECK(m.head_len == HTTP1_MAX_HEAD);
	CHECK(strlen(http1_header(&m, "X")) == HTTP1_MAX_HEAD - 23);
	memcpy(big + n, "more body", 10);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, n + 9, 0) == 1 && m.head_len == n);
	n = request_of_head_len(HTTP1_MAX_HEAD + 1);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_HEAD, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, n, 0), 431));
	CHECK_STR(m.error_text, "message head too large");
	memcpy(big, "HTTP/1.1 200 O\r\n", 16);
	CHECK(http1_parse(&m, HTTP1_RESPONSE, big, HTTP1_MAX_HEAD, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_RESPONSE, big, n, 0), 400));
	CHECK_STR(m.error_text, "message head too large");
	/* ... detected as soon as the limit is passed, whatever the bytes are */
	n = request_of_head_len(2 * HTTP1_MAX_HEAD);
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_HEAD, 0) == 0);
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, HTTP1_MAX_HEAD + 1, 0), 431));
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, n, 0), 431));
	/* a blank line's CR inside the limit and its LF past it is still too large */
	n = request_of_head_len(HTTP1_MAX_HEAD + 1);
	CHECK(big[HTTP1_MAX_HEAD - 1] == '\r');
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, n, 0), 431));

	/* header lines: HTTP1_MAX_HEADERS is fine, one more is 431 */
	strcpy(big, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP1_MAX_HEADERS; i++)
		strcat(big, "H: v\r\n");
	n = strlen(big);
	strcat(big, "\r\n");
	CHECK(req(big) == 1 && m.nheaders == HTTP1_MAX_HEADERS);
	CHECK_STR(m.headers[HTTP1_MAX_HEADERS - 1].value, "v");
	strcpy(big + n, "H: v\r\n\r\n");
	CHECK(rejected(req(big), 431));
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, big, n + 6, 0), 431));
	CHECK(http1_parse(&m, HTTP1_REQUEST, big, n + 5, 0) == 0);
	memcpy(big, "HTTP/1.1 200 O\r\n", 16);
	CHECK(rejected(resp(big, 0), 400));
	CHECK_STR(m.error_text, "too many header lines");
	big[n] = '\0';
	CHECK(resp(big, 0) == 0);
	strcat(big, "\r\n");
	CHECK(resp(big, 0) == 1 && m.nheaders == HTTP1_MAX_HEADERS);

	/* any prefix of an over-long head is either incomplete or already rejected */
	n = request_of_head_len(HTTP1_MAX_HEAD + 100);
	for (ok = 1, i = 0; i <= n; i++) {
		int r = http1_parse(&m, HTTP1_REQUEST, big, i, 0);

		if ((i <= HTTP1_MAX_HEAD && r != 0) || (i > HTTP1_MAX_HEAD && r != -1))
			ok = 0;
	}
	CHECK(ok);
}

static void
test_headers(void)
{
	CHECK(req("GET / HTTP/1.1\r\nX-Pad:   a b \t \r\nEmpty:\r\nTabbed:\tv\t\r\n"
	    "cOnTeNt-TyPe: text/plain\r\nDup: first\r\nDup: second\r\n\r\n") == 1);
	CHECK(m.nheaders == 6);
	CHECK_STR(m.headers[0].value, "a b");
	CHECK_STR(m.headers[1].value, "");
	CHECK_STR(m.headers[2].value, "v");
	CHECK_STR(m.headers[3].name, "cOnTeNt-TyPe");
	CHECK_STR(http1_header(&m, "content-type"), "text/plain");
	CHECK_STR(http1_header(&m, "CONTENT-TYPE"), "text/plain");
	CHECK_STR(http1_header(&m, "dup"), "first");
	CHECK_STR(http1_header(&m, "empty"), "");
	CHECK(http1_header(&m, "Content") == NULL);
	CHECK(http1_header(&m, "Content-Type-X") == NULL);
	CHECK(http1_header(&m, "Missing") == NULL);

	/* token characters in names; obs-text in values */
	CHECK(req("GET / HTTP/1.1\r\nX!#$%&'*+-.^_`|~9: ok\r\nV: caf\xc3\xa9\r\n\r\n") == 1);
	CHECK_STR(m.headers[0].name, "X!#$%&'*+-.^_`|~9");
	CHECK_STR(m.headers[1].value, "caf\xc3\xa9");
	CHECK(req("GET / HTTP/1.1\r\nA:b:c\r\n\r\n") == 1);
	CHECK_STR(m.headers[0].value, "b:c");

	CHECK(rejected(req("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\n: value\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA(b): c\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA\xc3\xa9: c\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), 400));     /* obs-fold */
	CHECK(strstr(m.error_text, "line folding") != NULL);
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\n A: b\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.1\r\nA: b\r\r\n\r\n"), 400));
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n",
	    26, 0), 400));
	CHECK(rejected(http1_parse(&m, HTTP1_REQUEST, "GET / HTTP/1.1\r\nA\0: b\r\n\r\n",
	    25, 0), 400));
	/* a bad header line is reported before the head is complete */
	CHECK(rejected(req("GET / HTTP/1.1\r\nHost : a\r\n"), 400));
}

static void
test_framing(void)
{
	/* Content-Length */
	CHECK(req("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == 42);
	CHECK(req("POST / HTTP/1.1\r\ncontent-length:007\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == 7);
	CHECK(req("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_NONE && m.content_length == 0);
	CHECK(req("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == (uint64_t)INT64_MAX);
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n"),
	    400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n"),
	    400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
	    400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), 400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), 400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), 400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), 400));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400));
	CHECK(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == 5);
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	    400));
	CHECK_STR(m.error_text, "several Content-Length headers with different values");

	/* Transfer-Encoding */
	CHECK(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_CHUNKED && m.keep_alive == 1);
	CHECK(req("POST / HTTP/1.1\r\ntransfer-encoding: ChUnKeD \r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_CHUNKED);
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501));
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501));
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
	    501));
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 501));
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n"), 501));
	CHECK(rejected(req("POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400));
	CHECK_STR(m.error_text, "both Content-Length and Transfer-Encoding");
	CHECK(rejected(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n"), 400));

	/* keep-alive */
	CHECK(req("GET / HTTP/1.1\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") == 1 && m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n") == 1 && m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n") == 1 &&
	    m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.1\r\nConnection: upgrade\r\nConnection: close\r\n\r\n") == 1 &&
	    m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.0\r\n\r\n") == 1 && m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == 1 && m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.0\r\nConnection: foo ,\tkeep-alive ,\r\n\r\n") == 1 &&
	    m.keep_alive == 1);
	CHECK(req("GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n") == 1 &&
	    m.keep_alive == 0);
	CHECK(req("GET / HTTP/1.0\r\nConnection: keep-alived\r\n\r\n") == 1 &&
	    m.keep_alive == 0);
	/* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means close afterwards */
	CHECK(req("POST / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == 1);
	CHECK(m.body == HTTP1_BODY_CHUNKED && m.keep_alive == 0);
}

static void
test_response(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

	CHECK(resp(s, 0) == 1);
	CHECK(m.kind == HTTP1_RESPONSE && m.status == 200 && m.version_minor == 1);
	CHECK_STR(m.reason, "OK");
	CHECK(m.method == NULL && m.target == NULL);
	CHECK(m.head_len == strlen(s) - 5);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.content_length == 5 && m.keep_alive == 1);

	CHECK(resp("HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n", 0) == 1);
	CHECK(m.status == 404 && m.body == HTTP1_BODY_NONE && m.keep_alive == 1);
	CHECK_STR(m.reason, "Not  Found ");
	CHECK(resp("HTTP/1.1 200\r\n\r\n", 0) == 1);
	CHECK_STR(m.reason, "");
	CHECK(resp("HTTP/1.1 200 \r\n\r\n", 0) == 1);
	CHECK_STR(m.reason, "");
	CHECK(resp("HTTP/1.0 599 Whatever\tit is \xc3\xa9\n\n", 0) == 1);
	CHECK(m.status == 599 && m.version_minor == 0);
	CHECK_STR(m.reason, "Whatever\tit is \xc3\xa9");

	/* until close: no length given */
	CHECK(resp("HTTP/1.1 200 OK\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_CLOSE && m.keep_alive == 0);
	CHECK(resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_CLOSE && m.keep_alive == 0);
	CHECK(resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
	    0) == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.keep_alive == 1);
	CHECK(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.keep_alive == 0);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_LENGTH && m.keep_alive == 0);

	/* chunked */
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_CHUNKED && m.keep_alive == 1);

	/* no body: HEAD, 1xx, 204, 304, whatever the headers say */
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 1) == 1);
	CHECK(m.body == HTTP1_BODY_NONE && m.keep_alive == 1 && m.content_length == 100);
	CHECK(resp("HTTP/1.1 200 OK\r\n\r\n", 1) == 1);
	CHECK(m.body == HTTP1_BODY_NONE && m.keep_alive == 1);
	CHECK(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1) == 1);
	CHECK(m.body == HTTP1_BODY_NONE);
	CHECK(resp("HTTP/1.1 204 No Content\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_NONE && m.keep_alive == 1);
	CHECK(resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_NONE);
	CHECK(resp("HTTP/1.1 100 Continue\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_NONE && m.status == 100);
	CHECK(resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_NONE);
	CHECK(resp("HTTP/1.1 205 Reset Content\r\n\r\n", 0) == 1);
	CHECK(m.body == HTTP1_BODY_CLOSE);

	/* violations in a response are all 400 */
	CHECK(rejected(resp("HTTP/1.1 20 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 2000 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 200OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 abc OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1  200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 099 Low\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 600 High\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/2.0 200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.2 200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.x 200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("ICY 200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1\r\n\r\n", 0), 400));
	CHECK(rejected(resp("\r\n\r\n", 0), 400));
	CHECK(rejected(resp("\r\nHTTP/1.1 200 OK\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 200 O\x01K\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0), 400));
	CHECK(rejected(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 0), 400));
	CHECK_STR(m.error_text, "both Content-Length and Transfer-Encoding");
	CHECK(rejected(resp("HTTP/1.1 200 OK\r\n folded\r\n\r\n", 0), 400));
}

/* Feed in[0..n) to a fresh decoder in pieces of the given sizes (cycled), with an output
 * buffer of outcap bytes; returns the decoder's last answer and fills out/outn/used. */
static int
feed(const char *in, size_t n, const size_t *pieces, size_t npieces, size_t outcap,
    char *out, size_t *outn, size_t *used)
{
	struct http1_chunked ch;
	size_t i = 0, k = 0, piece, ol, c;
	int r = 0;

	http1_chunked_init(&ch);
	*outn = 0;
	while (i < n) {
		piece = pieces[k++ % npieces];
		if (piece > n - i)
			piece = n - i;
		/* keep calling on this piece until it is used up or the decoder stops */
		for (;;) {
			ol = outcap;
			r = http1_chunked_decode(&ch, in + i, piece, out + *outn, &ol, &c);
			*outn += ol;
			i += c;
			piece -= c;
			if (r != 0 || piece == 0 || (c == 0 && ol == 0))
				break;
		}
		if (r != 0)
			break;
	}
	if (r == 1 && ch.total != *outn)
		r = -2;
	*used = i;
	return r;
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_chunked(void)
{
	static const char body[] =
	    "5\r\nhello\r\n"
	    "6;name=value;x\r\n world\r\n"
	    "A \t; ext\r\n, chunked!\r\n"
	    "0000001\r\n\n\r\n"
	    "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
	    "0\r\nX-Trailer: yes\r\nOther: 1\r\n\r\n"
	    "NEXT";
	const char *want = "hello world, chunked!\nabcdefghijklmnopqrstuvwxyz";
	size_t n = sizeof(body) - 1 - 4, wn = strlen(want);
	size_t one = 1, all = sizeof(body) - 1, pieces[8], outn, used, i;
	struct http1_chunked ch;
	char out[256], small[4];
	uint32_t seed = 12345;
	int r, ok, t;

	/* all at once: the trailing "NEXT" belongs to the next message */
	CHECK(feed(body, all, &all, 1, sizeof(out), out, &outn, &used) == 1);
	CHECK(outn == wn && memcmp(out, want, wn) == 0);
	CHECK(used == n);

	/* byte by byte, and with a one-byte output buffer */
	CHECK(feed(body, all, &one, 1, sizeof(out), out, &outn, &used) == 1);
	CHECK(outn == wn && memcmp(out, want, wn) == 0 && used == n);
	CHECK(feed(body, all, &one, 1, 1, out, &outn, &used) == 1);
	CHECK(outn == wn && memcmp(out, want, wn) == 0 && used == n);
	CHECK(feed(body, all, &all, 1, 1, out, &outn, &used) == 1);
	CHECK(outn == wn && memcmp(out, want, wn) == 0 && used == n);

	/* every split into two pieces */
	for (ok = 1, i = 1; i < n; i++) {
		pieces[0] = i;
		pieces[1] = all;
		if (feed(body, all, pieces, 2, sizeof(out), out, &outn, &used) != 1 ||
		    outn != wn || memcmp(out, want, wn) != 0 || used != n)
			ok = 0;
	}
	CHECK(ok);

	/* random splits and random output sizes */
	for (ok = 1, t = 0; t < 2000; t++) {
		for (i = 0; i < 8; i++)
			pieces[i] = rnd(&seed) % 9;    /* zero-length pieces too */
		pieces[0]++;
		if (feed(body, all, pieces, 8, 1 + rnd(&seed) % 7, out, &outn, &used) != 1 ||
		    outn != wn || memcmp(out, want, wn) != 0 || used != n)
			ok = 0;
	}
	CHECK(ok);

	/* the output fills up: 0, and the rest comes on the next call */
	http1_chunked_init(&ch);
	outn = sizeof(small);
	r = http1_chunked_decode(&ch, body, all, small, &outn, &used);
	CHECK(r == 0 && outn == 4 && memcmp(small, "hell", 4) == 0 && used == 7);
	CHECK(ch.total == 4);
	outn = sizeof(out);
	r = http1_chunked_decode(&ch, body + used, all - used, out, &outn, &i);
	CHECK(r == 1 && outn == wn - 4 && used + i == n && ch.total == wn);
	/* finished: stays finished, consumes nothing more */
	outn = sizeof(out);
	CHECK(http1_chunked_decode(&ch, "5\r\n", 3, out, &outn, &used) == 1);
	CHECK(used == 0 && outn == 0);

	/* a zero-capacity output still walks through size lines */
	http1_chunked_init(&ch);
	outn = 0;
	CHECK(http1_chunked_decode(&ch, "0\r\n\r\n", 5, NULL, &outn, &used) == 1 && used == 5);
	http1_chunked_init(&ch);
	outn = 0;
	CHECK(http1_chunked_decode(&ch, "", 0, NULL, &outn, &used) == 0 && used == 0);

	/* the last chunk only, with bare LFs */
	CHECK(feed("0\n\n", 3, &one, 1, 4, out, &outn, &used) == 1 && outn == 0 && used == 3);
	CHECK(feed("2\nab\n0\nT: 1\n\n", 13, &one, 1, 4, out, &outn, &used) == 1 &&
	    outn == 2 && used == 13);
	/* not finished yet */
	CHECK(feed("5\r\nhello\r\n0\r\n\r", 14, &all, 1, 8, out, &outn, &used) == 0);
	CHECK(used == 14 && outn == 5);
	CHECK(feed("0\r\nT: 1\r\n", 9, &all, 1, 8, out, &outn, &used) == 0);

	/* malformed */
#define BAD(s) (feed((s), sizeof(s) - 1, &all, 1, sizeof(out), out, &outn, &used) == -1 && \
	    feed((s), sizeof(s) - 1, &one, 1, 1, out, &outn, &used) == -1)
	CHECK(BAD("g\r\n"));
	CHECK(BAD("\r\n"));
	CHECK(BAD(";ext\r\n"));
	CHECK(BAD(" 5\r\nhello\r\n"));
	CHECK(BAD("-1\r\n"));
	CHECK(BAD("0x5\r\n"));
	CHECK(BAD("5 5\r\n"));
	CHECK(BAD("5\rX"));
	CHECK(BAD("5\r\nhelloX"));
	CHECK(BAD("5\r\nhello\rX"));
	CHECK(BAD("5\r\nhello world\r\n0\r\n\r\n"));
	CHECK(BAD("5\x01\r\n"));
	CHECK(BAD("5;a\x01\r\n"));
	CHECK(BAD("0\r\nT: \x01\r\n\r\n"));
	CHECK(BAD("0\r\nT: 1\r\rX"));
	CHECK(BAD("8000000000000000\r\n"));            /* 2^63: over the limit */
	CHECK(BAD("ffffffffffffffffffff\r\n"));
	CHECK(BAD("10000000000000000\r\n"));           /* 2^64 */
	/* 2^63-1 is a size we accept (and then wait for the data) */
	CHECK(feed("7fffffffffffffff\r\nab", 20, &one, 1, 4, out, &outn, &used) == 0 &&
	    outn == 2);
	CHECK(feed("5\0\r\n", 4, &all, 1, 4, out, &outn, &used) == -1);
#undef BAD

	/* after an error, every call fails */
	http1_chunked_init(&ch);
	outn = sizeof(out);
	CHECK(http1_chunked_decode(&ch, "zz", 2, out, &outn, &used) == -1 && used == 1);
	outn = sizeof(out);
	CHECK(http1_chunked_decode(&ch, "0\r\n\r\n", 5, out, &outn, &used) == -1);

	/* size line of exactly 1 KiB is fine, one byte more is not; the count spans calls */
	memset(big, '0', 1024);
	memcpy(big + 1023, "1\r\nx\r\n0\r\n\r\n", 12);
	CHECK(feed(big, 1023 + 11, &one, 1, 4, out, &outn, &used) == 1 && outn == 1);
	memset(big, '0', 1025);
	memcpy(big + 1024, "1\r\nx\r\n0\r\n\r\n", 12);
	CHECK(feed(big, 1024 + 11, &one, 1, 4, out, &outn, &used) == -1 && used == 1025);
	memcpy(big, "1;", 2);
	memset(big + 2, 'e', 1022);
	memcpy(big + 1024, "\r\nx\r\n0\r\n\r\n", 11);
	CHECK(feed(big, 1024 + 10, &all, 1, 4, out, &outn, &used) == 1);
	memset(big + 2, 'e', 1023);
	memcpy(big + 1025, "\r\nx\r\n0\r\n\r\n", 11);
	CHECK(feed(big, 1025 + 10, &all, 1, 4, out, &outn, &used) == -1);
	/* same for a trailer line, and a bounded number of trailer lines */
	memcpy(big, "0\r\n", 3);
	memset(big + 3, 't', 1024);
	memcpy(big + 1027, "\r\n\r\n", 5);
	CHECK(feed(big, 1031, &one, 1, 4, out, &outn, &used) == 1 && used == 1031);
	memset(big + 3, 't', 1025);
	memcpy(big + 1028, "\r\n\r\n", 5);
	CHECK(feed(big, 1032, &one, 1, 4, out, &outn, &used) == -1);
	strcpy(big, "0\r\n");
	for (i = 0; i < HTTP1_MAX_HEADERS; i++)
		strcat(big, "T: 1\r\n");
	strcat(big, "\r\n");
	CHECK(feed(big, strlen(big), &all, 1, 4, out, &outn, &used) == 1);
	strcpy(big + strlen(big) - 2, "T: 1\r\n\r\n");
	CHECK(feed(big, strlen(big), &all, 1, 4, out, &outn, &used) == -1);
}

/* RFC 9112 3.2: one Host, whose value is uri-host [":" port] (issue 12, item 9); and the
 * Expect: 100-continue the server answers. */
static void
test_host(void)
{
	static const char *good[] = { "a", "example.com:8443", "127.0.0.1:80", "[::1]:8443",
	    "[::1]:", "xn--bcher-kva.example", "a_b-c~d", "h%41", "", "a:", "[::1]" };
	static const char *bad[] = { "a b", "a\tb", "a/b", "u@a", "a:80x", "a:8 0", "[::1",
	    "[]", "[::1]x", "h%4", "h%zz", "caf\xc3\xa9", "a,b c", "[a b]" };
	char r[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		if (req(r) != 1)
			fprintf(stderr, "  Host: [%s] refused\n", good[i]);
		CHECK(req(r) == 1);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		if (!rejected(req(r), 400))
			fprintf(stderr, "  Host: [%s] accepted\n", bad[i]);
		CHECK(rejected(req(r), 400));
	}
	CHECK(rejected(req("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400));
	CHECK_STR(m.error_text, "several Host headers");
	CHECK(rejected(req("GET / HTTP/1.1\r\nhost: a\r\nX: y\r\nHOST: b\r\n\r\n"), 400));
	CHECK(rejected(req("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400));
	/* a response is not a request: its Host (if any) is nobody's business here */
	CHECK(resp("HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nContent-Length: 0\r\n\r\n",
	    0) == 1);

	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Expect: 100-Continue\r\n\r\n") == 1);
	CHECK(m.expect_continue == 1);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n") == 1);
	CHECK(m.expect_continue == 0);
	CHECK(req("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continuer\r\n\r\n") == 1);
	CHECK(m.expect_continue == 0);
}

static void
test_reason(void)
{
	static const int codes[] = { 100, 101, 200, 201, 204, 206, 301, 302, 304, 400, 401,
	    403, 404, 405, 408, 411, 413, 414, 415, 431, 500, 501, 502, 503, 505 };
	size_t i;
	int ok;

	for (ok = 1, i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (http1_reason(codes[i]) == NULL || http1_reason(codes[i])[0] == '\0')
			ok = 0;
	CHECK(ok);
	CHECK_STR(http1_reason(200), "OK");
	CHECK_STR(http1_reason(404), "Not Found");
	CHECK_STR(http1_reason(414), "URI Too Long");
	CHECK_STR(http1_reason(431), "Request Header Fields Too Large");
	CHECK_STR(http1_reason(501), "Not Implemented");
	CHECK_STR(http1_reason(505), "HTTP Version Not Supported");
	CHECK_STR(http1_reason(999), "");
	CHECK_STR(http1_reason(0), "");
	CHECK_STR(http1_reason(-1), "");
}

void
test_http1(void)
{
	test_request_line();
	test_incremental();
	test_limits();
	test_headers();
	test_framing();
	test_response();
	test_chunked();
	test_host();
	test_reason();
}
