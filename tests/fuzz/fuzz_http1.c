/* fuzz_http1.c -- libFuzzer harness for the HTTP/1.1 head parser: the whole input as a request,
 * then with its first byte choosing request, response, or response to HEAD for the rest. */
#include <stdint.h>
#include <string.h>

#include "http1.h"
#include "fuzz.h"

/* Static: a struct http1_msg holds a copy of the head (8 KiB), too much for each call's stack. */
static struct http1_msg m, again;

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* What a complete head promises the server and the client that act on it. */
static void
check_head(const char *buf, size_t len, int to_head)
{
	const char *p;
	int i;

	FUZZ_CHECK(m.head_len > 0 && m.head_len <= len && m.head_len <= HTTP1_MAX_HEAD);
	FUZZ_CHECK(buf[m.head_len - 1] == '\n');
	FUZZ_CHECK(m.version_minor == 0 || m.version_minor == 1);
	FUZZ_CHECK(m.error_status == 0);
	FUZZ_CHECK(m.keep_alive == 0 || m.keep_alive == 1);
	if (m.kind == HTTP1_REQUEST) {
		FUZZ_CHECK(fuzz_str_within(m.method, m.head, m.head_len));
		FUZZ_CHECK(fuzz_str_within(m.target, m.head, m.head_len));
		FUZZ_CHECK(m.method[0] != '\0' && strlen(m.method) < HTTP1_MAX_METHOD);
		for (p = m.method; *p != '\0'; p++)
			FUZZ_CHECK(is_tchar((unsigned char)*p) && !(*p >= 'a' && *p <= 'z'));
		FUZZ_CHECK(m.target[0] != '\0');
		for (p = m.target; *p != '\0'; p++)
			FUZZ_CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
		FUZZ_CHECK(m.body != HTTP1_BODY_CLOSE);
	} else {
		FUZZ_CHECK(m.status >= 100 && m.status <= 599);
		FUZZ_CHECK(fuzz_str_within(m.reason, m.head, m.head_len));
		if (to_head || m.status / 100 == 1 || m.status == 204 || m.status == 304)
			FUZZ_CHECK(m.body == HTTP1_BODY_NONE);
		if (m.body == HTTP1_BODY_CLOSE)
			FUZZ_CHECK(!m.keep_alive);
	}
	FUZZ_CHECK(m.nheaders >= 0 && m.nheaders <= HTTP1_MAX_HEADERS);
	for (i = 0; i < m.nheaders; i++) {
		FUZZ_CHECK(fuzz_str_within(m.headers[i].name, m.head, m.head_len));
		FUZZ_CHECK(fuzz_str_within(m.headers[i].value, m.head, m.head_len));
		FUZZ_CHECK(m.headers[i].name[0] != '\0');
		for (p = m.headers[i].name; *p != '\0'; p++)
			FUZZ_CHECK(is_tchar((unsigned char)*p));
		FUZZ_CHECK(http1_header(&m, m.headers[i].name) != NULL);
	}
	FUZZ_CHECK(m.body >= HTTP1_BODY_NONE && m.body <= HTTP1_BODY_CLOSE);
	if (m.body == HTTP1_BODY_LENGTH)
		FUZZ_CHECK(m.content_length > 0 && m.content_length <= (uint64_t)INT64_MAX);
}

/* Parse buf[0..len) as kind, check the result, and check that the parser agrees with itself when
 * the same bytes arrive in two reads (the server re-parses its buffer as it grows). */
static void
check(enum http1_kind kind, const char *buf, size_t len, int to_head)
{
	size_t head_len, k;
	int r, r2;

	r = http1_parse(&m, kind, buf, len, to_head);
	FUZZ_CHECK(r == -1 || r == 0 || r == 1);
	FUZZ_CHECK(m.kind == kind);
	if (r == -1) {
		FUZZ_CHECK(m.error_text != NULL && m.error_text[0] != '\0');
		if (kind == HTTP1_RESPONSE)
			FUZZ_CHECK(m.error_status == 400);
		else
			FUZZ_CHECK(m.error_status == 400 || m.error_status == 414 ||
			    m.error_status == 431 || m.error_status == 501 ||
			    m.error_status == 505);
		return;
	}
	if (r == 0) {
		/* More than the head limit without a complete head is an error, never "wait". */
		FUZZ_CHECK(len <= HTTP1_MAX_HEAD);
		head_len = len;
	} else {
		check_head(buf, len, to_head);
		head_len = m.head_len;
		/* The bytes after the head (a body, a pipelined request) change nothing. */
		r2 = http1_parse(&again, kind, buf, head_len, to_head);
		FUZZ_CHECK(r2 == 1 && again.head_len == head_len && again.body == m.body &&
		    again.nheaders == m.nheaders && again.keep_alive == m.keep_alive);
	}
	/* Any shorter read of a head that is fine so far needs more bytes: try one place
	 * chosen by the data and the place just before the final LF. */
	if (head_len == 0)
		return;
	k = ((size_t)(unsigned char)buf[0] * 131 + (unsigned char)buf[len - 1]) % head_len;
	FUZZ_CHECK(http1_parse(&again, kind, buf, k, to_head) == 0);
	FUZZ_CHECK(http1_parse(&again, kind, buf, head_len - 1, to_head) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	unsigned sel;

	check(HTTP1_REQUEST, buf, size, 0);
	if (size == 0)
		return 0;
	/* First byte mod 3: 0 request, 1 response, 2 response to a HEAD request. */
	sel = data[0] % 3;
	check(sel == 0 ? HTTP1_REQUEST : HTTP1_RESPONSE, buf + 1, size - 1, sel == 2);
	return 0;
}
