/* http1.c -- parses an HTTP/1.1 message head and decodes a chunked body, pure over bytes. */
#include <stdint.h>
#include <string.h>

#include "evlog.h"
#include "http1.h"

#define LENGTH_MAX          ((uint64_t)INT64_MAX)  /* largest Content-Length or chunk size */
#define CHUNK_LINE_MAX      1024                   /* chunk-size line or trailer line */
#define CHUNK_TRAILERS_MAX  HTTP1_MAX_HEADERS

/* Decoder states: one per place in "size [;ext] CRLF data CRLF ... 0 CRLF trailers CRLF". */
enum {
	CH_SIZE,        /* hex digits of the chunk size */
	CH_SIZE_WS,     /* blanks after the size, before ';' or the line end */
	CH_EXT,         /* a chunk extension, skipped */
	CH_SIZE_LF,     /* CR seen at the end of the size line */
	CH_DATA,        /* chunk data */
	CH_DATA_CR,     /* the CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER,     /* a trailer line, or the final empty line */
	CH_TRAILER_LF,
	CH_DONE,
	CH_ERROR
};

/* --lang zh: the same error in Chinese (what the log and the error page say); the English is
 * the key, so each call below keeps its one string. */
static const char *
error_words(const char *text)
{
	static const char *const words[][2] = {
		{ "HTTP version not supported",
		    "不支持这个 HTTP 版本" },
		{ "bad Content-Length value",
		    "Content-Length 的值不合法" },
		{ "both Content-Length and Transfer-Encoding",
		    "同时有 Content-Length 和 Transfer-Encoding" },
		{ "control character in a header value",
		    "首部的值中有控制字符" },
		{ "control character in the reason phrase",
		    "原因短语中有控制字符" },
		{ "control character or non-ASCII byte in the target",
		    "请求目标中有控制字符或非 ASCII 字节" },
		{ "empty header name",
		    "首部名为空" },
		{ "empty request line",
		    "请求行为空" },
		{ "empty status line",
		    "状态行为空" },
		{ "empty target (or two spaces) in the request line",
		    "请求行中的目标为空（或者有两个空格）" },
		{ "header line starts with whitespace (obsolete line folding)",
		    "首部行以空白开头（已废弃的折行）" },
		{ "header line without a colon",
		    "首部行没有冒号" },
		{ "invalid character in a header name",
		    "首部名中有非法字符" },
		{ "malformed HTTP version in the request line",
		    "请求行中的 HTTP 版本格式错误" },
		{ "malformed HTTP version in the status line",
		    "状态行中的 HTTP 版本格式错误" },
		{ "malformed status line",
		    "状态行格式错误" },
		{ "message head too large",
		    "报文头部太大" },
		{ "method too long",
		    "方法名太长" },
		{ "several Content-Length headers with different values",
		    "有多个值不同的 Content-Length 首部" },
		{ "several Host headers",
		    "有多个 Host 首部" },
		{ "status code out of range (100-599)",
		    "状态码超出范围（100-599）" },
		{ "the Host header is not a host[:port]",
		    "Host 首部不是 host[:port] 形式" },
		{ "the method is not an uppercase token",
		    "方法名不是大写的记号（token）" },
		{ "the request line does not start with a method",
		    "请求行不是以方法开头" },
		{ "the request line has no HTTP version",
		    "请求行没有 HTTP 版本" },
		{ "the request line has no target",
		    "请求行没有请求目标" },
		{ "the status code is not three digits",
		    "状态码不是三位数字" },
		{ "too many header lines",
		    "首部行太多" },
		{ "unsupported HTTP version in the status line",
		    "状态行中的 HTTP 版本不受支持" },
		{ "unsupported Transfer-Encoding (only chunked is understood)",
		    "不支持的 Transfer-Encoding（只认识 chunked）" },
		{ "whitespace in a header name or before its colon",
		    "首部名中或冒号前有空白" },
		{ "request line too long",
		    "请求行太长" },
		{ "status line too long",
		    "状态行太长" },
	};
	size_t i;

	for (i = 0; evlog_zh() && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(text, words[i][0]) == 0)
			return words[i][1];
	return text;
}

static int
fail(struct http1_msg *m, int status, const char *text)
{
	/* A client has nobody to answer, so every response violation is a plain 400. */
	m->error_status = m->kind == HTTP1_RESPONSE ? 400 : status;
	m->error_text = error_words(text);
	return -1;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII case-insensitive equality of s[0..n) and the C string t, whatever the locale. */
static int
ieqn(const char *s, size_t n, const char *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] == '\0' || lower((unsigned char)s[i]) != lower((unsigned char)t[i]))
			return 0;
	return t[n] == '\0';
}

static int
ieq(const char *s, const char *t)
{
	return ieqn(s, strlen(s), t);
}

static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A control character other than HTAB: never allowed in a field value or a reason phrase. */
static int
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Does the comma-separated list v (Connection) hold token t? */
static int
has_token(const char *v, const char *t)
{
	const char *s, *e;

	for (;;) {
		while (is_blank(*v) || *v == ',')
			v++;
		if (*v == '\0')
			return 0;
		s = v;
		while (*v != '\0' && *v != ',')
			v++;
		for (e = v; e > s && is_blank(e[-1]); e--)
			;
		if (ieqn(s, (size_t)(e - s), t))
			return 1;
	}
}

/* RFC 3986 3.2.2-3.2.3, as RFC 9112 3.2 asks of Host: uri-host [ ":" port ], where uri-host
 * is an IP literal in brackets or a reg-name (unreserved, pct-encoded, sub-delims). Empty is
 * valid (a target without an authority). Blanks, controls, '/', '@' and non-ASCII are not. */
static int
valid_host(const char *v)
{
	static const char sub[] = "-._~!$&'()*+,;=";
	const char *p = v;

	if (*p == '[') {
		for (p++; *p != ']'; p++)
			if (*p == '\0' || !(((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == ':' || strchr(sub, *p) != NULL))
				return 0;
		if (p == v + 1)
			return 0;
		p++;
	} else
		for (; *p != '\0' && *p != ':'; p++) {
			if (*p == '%') {
				if (hexval((unsigned char)p[1]) < 0 || hexval((unsigned char)p[2]) < 0)
					return 0;
				p += 2;
			} else if (!(((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
			    (*p >= '0' && *p <= '9') || strchr(sub, *p) != NULL))
				return 0;
		}
	if (*p == ':')
		for (p++; *p != '\0'; p++)
			if (*p < '0' || *p > '9')
				return 0;
	return *p == '\0';
}

/* "HTTP/1.1" is exactly 8 bytes: returns the minor version as sent (0-9) of HTTP/1, -2 for
 * a well-formed version of another major (HTTP/2.0, HTTP/0.9), -1 for anything else. */
static int
parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -1;
	if (p[5] != '1')
		return -2;
	return p[7] - '0';
}

/* method SP request-target SP HTTP-version, in p[0..n) with p[n] writable. */
static int
parse_request_line(struct http1_msg *m, char *p, size_t n)
{
	size_t i, t;
	int v;

	if (n == 0)
		return fail(m, 400, "empty request line");
	for (i = 0; i < n && p[i] != ' '; i++) {
		if (!is_tchar((unsigned char)p[i]) || (p[i] >= 'a' && p[i] <= 'z'))
			return fail(m, 400, "the method is not an uppercase token");
		if (i + 1 >= HTTP1_MAX_METHOD)
			return fail(m, 400, "method too long");
	}
	if (i == 0)
		return fail(m, 400, "the request line does not start with a method");
	if (i == n)
		return fail(m, 400, "the request line has no target");
	p[i] = '\0';
	m->method = p;

	for (t = ++i; i < n && p[i] != ' '; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return fail(m, 400, "control character or non-ASCII byte in the target");
	if (i == t)
		return fail(m, 400, "empty target (or two spaces) in the request line");
	if (i == n)
		return fail(m, 400, "the request line has no HTTP version");
	p[i] = '\0';
	m->target = p + t;

	i++;
	if ((v = parse_version(p + i, n - i)) == -2)
		return fail(m, 505, "HTTP version not supported");
	if (v == -1)
		return fail(m, 400, "malformed HTTP version in the request line");
	/* RFC 9110 6.2, RFC 9112 2.6: a higher minor version of HTTP/1 (HTTP/1.2) is read
	 * as the highest we speak, 1.1, and answered as HTTP/1.1 (as nginx does); only
	 * another major version gets 505. */
	m->minor_received = v;
	m->version_minor = v > 1 ? 1 : v;
	return 0;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase], in p[0..n). */
static int
parse_status_line(struct http1_msg *m, char *p, size_t n)
{
	size_t i;
	int v;

	if (n == 0)
		return fail(m, 400, "empty status line");
	if (n < 12 || p[8] != ' ' || (n > 12 && p[12] != ' '))
		return fail(m, 400, "malformed status line");
	if ((v = parse_version(p, 8)) == -2 || v > 1)	/* curl refuses HTTP/1.2 too */
		return fail(m, 400, "unsupported HTTP version in the status line");
	if (v == -1)
		return fail(m, 400, "malformed HTTP version in the status line");
	m->version_minor = m->minor_received = v;
	for (i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return fail(m, 400, "the status code is not three digits");
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (m->status < 100 || m->status > 599)
		return fail(m, 400, "status code out of range (100-599)");
	for (i = 13; i < n; i++)
		if (is_ctl((unsigned char)p[i]))
			return fail(m, 400, "control character in the reason phrase");
	/* With no reason, p[12] is the line end that the caller turned into a NUL. */
	m->reason = n > 12 ? p + 13 : p + 12;
	return 0;
}

/* field-name ":" OWS field-value OWS, in p[0..n) with p[n] writable; p[0] is not a blank. */
static int
parse_header(struct http1_msg *m, char *p, size_t n)
{
	struct http1_header *h;
	size_t i, v, e;

	for (i = 0; i < n && p[i] != ':'; i++) {
		if (is_blank(p[i]))
			return fail(m, 400, "whitespace in a header name or before its colon");
		if (!is_tchar((unsigned char)p[i]))
			return fail(m, 400, "invalid character in a header name");
	}
	if (i == n)
		return fail(m, 400, "header line without a colon");
	if (i == 0)
		return fail(m, 400, "empty header name");
	for (v = i + 1; v < n && is_blank(p[v]); v++)
		;
	for (e = v; e < n; e++)
		if (is_ctl((unsigned char)p[e]))
			return fail(m, 400, "control character in a header value");
	while (e > v && is_blank(p[e - 1]))
		e--;
	p[i] = '\0';
	p[e] = '\0';
	h = &m->headers[m->nheaders++];
	h->name = p;
	h->value = p + v;
	return 0;
}

/* Content-Length: 1*DIGIT, at most 2^63-1. */
static int
parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (LENGTH_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* RFC 9112 section 6: how the body is delimited and whether the connection lives on. */
static int
framing(struct http1_msg *m, int to_head)
{
	const struct http1_header *h;
	uint64_t v;
	int i, have_cl = 0, te = 0, chunked = 0, close = 0, keep = 0, host = 0;

	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (ieq(h->name, "Content-Length")) {
			if (parse_length(h->value, &v) == -1)
				return fail(m, 400, "bad Content-Length value");
			if (have_cl && v != m->content_length)
				return fail(m, 400,
				    "several Content-Length headers with different values");
			have_cl = 1;
			m->content_length = v;
		} else if (ieq(h->name, "Transfer-Encoding")) {
			te++;
			chunked = ieq(h->value, "chunked");
		} else if (ieq(h->name, "Connection")) {
			close |= has_token(h->value, "close");
			keep |= has_token(h->value, "keep-alive");
		} else if (ieq(h->name, "Host")) {
			/* RFC 9112 3.2: two Hosts, or one that is no host, MUST get 400 (which one
			 * would a proxy in front of us have believed?). */
			if (m->kind == HTTP1_REQUEST && host++)
				return fail(m, 400, "several Host headers");
			if (m->kind == HTTP1_REQUEST && !valid_host(h->value))
				return fail(m, 400, "the Host header is not a host[:port]");
		} else if (ieq(h->name, "Expect")) {
			/* RFC 9110 10.1.1: the client waits for 100 (Continue) before its body. */
			m->expect_continue |= has_token(h->value, "100-continue");
		}
	}
	/* Two framings at once is how request smuggling starts: refuse, do not pick one. */
	if (have_cl && te)
		return fail(m, 400, "both Content-Length and Transfer-Encoding");
	if (te > 1 || (te && !chunked))
		return fail(m, 501, "unsupported Transfer-Encoding (only chunked is understood)");

	if (m->version_minor >= 1)
		m->keep_alive = !close;
	else
		m->keep_alive = keep && !close;
	/* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is suspect. */
	if (te && m->version_minor == 0)
		m->keep_alive = 0;

	if (m->kind == HTTP1_RESPONSE && (to_head || m->status / 100 == 1 ||
	    m->status == 204 || m->status == 304))
		m->body = HTTP1_BODY_NONE;
	else if (te)
		m->body = HTTP1_BODY_CHUNKED;
	else if (have_cl)
		m->body = m->content_length > 0 ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	else if (m->kind == HTTP1_RESPONSE) {
		/* No length given: the server marks the end of the body by closing. */
		m->body = HTTP1_BODY_CLOSE;
		m->keep_alive = 0;
	} else
		m->body = HTTP1_BODY_NONE;
	return 1;
}

static void
reset(struct http1_msg *m, enum http1_kind kind)
{
	m->kind = kind;
	m->head_len = 0;
	m->version_minor = 0;
	m->minor_received = 0;
	m->method = NULL;
	m->target = NULL;
	m->status = 0;
	m->reason = NULL;
	m->nheaders = 0;
	m->body = HTTP1_BODY_NONE;
	m->content_length = 0;
	m->keep_alive = 0;
	m->expect_continue = 0;
	m->error_status = 0;
	m->error_text = NULL;
}

int
http1_parse(struct http1_msg *m, enum http1_kind kind, const char *buf, size_t len, int to_head)
{
	char *h = m->head, *lf;
	size_t n, pos = 0, lim, end, ll;
	int req = kind == HTTP1_REQUEST;

	reset(m, kind);
	n = len < HTTP1_MAX_HEAD ? len : HTTP1_MAX_HEAD;
	if (n > 0)
		memcpy(h, buf, n);
	h[n] = '\0';

	/* RFC 9112 2.2: ignore one empty line before a request line (old clients sent a CRLF
	 * after a POST body). */
	if (req && n >= 1 && h[0] == '\n')
		pos = 1;
	else if (req && n >= 2 && h[0] == '\r' && h[1] == '\n')
		pos = 2;

	/* The start line: say "too long" as soon as the limit is passed, not when the LF comes. */
	lim = n - pos;
	if (lim > HTTP1_MAX_START_LINE + 2)
		lim = HTTP1_MAX_START_LINE + 2;
	if ((lf = memchr(h + pos, '\n', lim)) == NULL) {
		ll = lim;
		if (ll > 0 && h[pos + ll - 1] == '\r')
			ll--;
		if (ll > HTTP1_MAX_START_LINE)
			return fail(m, 414, req ? "request line too long" : "status line too long");
		if (len > HTTP1_MAX_HEAD)
			return fail(m, 431, "message head too large");
		return 0;
	}
	end = (size_t)(lf - h);
	ll = end - pos;
	if (ll > 0 && h[end - 1] == '\r')
		ll--;
	if (ll > HTTP1_MAX_START_LINE)
		return fail(m, 414, req ? "request line too long" : "status line too long");
	h[pos + ll] = '\0';
	if ((req ? parse_request_line(m, h + pos, ll) : parse_status_line(m, h + pos, ll)) == -1)
		return -1;
	pos = end + 1;

	/* Header lines up to the empty line; each complete line is checked as it arrives. */
	for (;;) {
		if ((lf = memchr(h + pos, '\n', n - pos)) == NULL) {
			if (len > HTTP1_MAX_HEAD)
				return fail(m, 431, "message head too large");
			return 0;
		}
		end = (size_t)(lf - h);
		ll = end - pos;
		if (ll > 0 && h[end - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (is_blank(h[pos]))
			return fail(m, 400,
			    "header line starts with whitespace (obsolete line folding)");
		if (m->nheaders == HTTP1_MAX_HEADERS)
			return fail(m, 431, "too many header lines");
		h[pos + ll] = '\0';
		if (parse_header(m, h + pos, ll) == -1)
			return -1;
		pos = end + 1;
	}
	h[end] = '\0';
	m->head_len = end + 1;
	return framing(m, to_head);
}

const char *
http1_header(const struct http1_msg *m, const char *name)
{
	int i;

	for (i = 0; i < m->nheaders; i++)
		if (ieq(m->headers[i].name, name))
			return m->headers[i].value;
	return NULL;
}

void
http1_chunked_init(struct http1_chunked *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->state = CH_SIZE;
}

/* The size line ended: data follows, or for the last chunk (size 0) the trailer section. */
static void
chunk_size_done(struct http1_chunked *ch)
{
	ch->line_len = 0;
	ch->state = ch->remaining > 0 ? CH_DATA : CH_TRAILER;
}

/* A trailer line ended; the empty one ends the message. */
static int
chunk_trailer_done(struct http1_chunked *ch)
{
	if (ch->line_len == 0) {
		ch->state = CH_DONE;
		return 0;
	}
	if (++ch->trailer_lines > CHUNK_TRAILERS_MAX)
		return -1;
	ch->line_len = 0;
	ch->state = CH_TRAILER;
	return 0;
}

/* Count one more byte of a size or trailer line against the limit. */
static int
chunk_line_byte(struct http1_chunked *ch)
{
	return ++ch->line_len > CHUNK_LINE_MAX ? -1 : 0;
}

int
http1_chunked_decode(struct http1_chunked *ch, const char *in, size_t inlen,
    char *out, size_t *outlen, size_t *consumed)
{
	size_t i = 0, o = 0, cap = *outlen, k;
	unsigned char c;
	int d, r = 0;

	while (i < inlen && r == 0 && ch->state != CH_DONE && ch->state != CH_ERROR) {
		if (ch->state == CH_DATA) {
			k = inlen - i;
			if (k > cap - o)
				k = cap - o;
			if (k > ch->remaining)
				k = (size_t)ch->remaining;
			if (k == 0)
				break;          /* out is full */
			memcpy(out + o, in + i, k);
			i += k;
			o += k;
			ch->remaining -= k;
			ch->total += k;
			if (ch->remaining == 0)
				ch->state = CH_DATA_CR;
			continue;
		}
		c = (unsigned char)in[i++];
		switch (ch->state) {
		case CH_SIZE:
			if ((d = hexval(c)) >= 0) {
				if (ch->remaining > (LENGTH_MAX - (uint64_t)d) / 16)
					r = -1;         /* size overflow */
				else {
					ch->remaining = ch->remaining * 16 + (uint64_t)d;
					r = chunk_line_byte(ch);
				}
				break;
			}
			if (ch->line_len == 0) {
				r = -1;                 /* no hex digit at all */
				break;
			}
			/* FALLTHROUGH */
		case CH_SIZE_WS:
			if (is_blank((char)c) || c == ';') {
				ch->state = c == ';' ? CH_EXT : CH_SIZE_WS;
				r = chunk_line_byte(ch);
			} else if (c == '\r')
				ch->state = CH_SIZE_LF;
			else if (c == '\n')
				chunk_size_done(ch);
			else
				r = -1;
			break;
		case CH_EXT:
			/* Extensions carry nothing we use: skip them, within the line limit. */
			if (c == '\r')
				ch->state = CH_SIZE_LF;
			else if (c == '\n')
				chunk_size_done(ch);
			else if (is_ctl(c))
				r = -1;
			else
				r = chunk_line_byte(ch);
			break;
		case CH_SIZE_LF:
			if (c == '\n')
				chunk_size_done(ch);
			else
				r = -1;
			break;
		case CH_DATA_CR:
			if (c == '\r')
				ch->state = CH_DATA_LF;
			else if (c == '\n')
				ch->state = CH_SIZE;
			else
				r = -1;                 /* the data is longer than its size said */
			break;
		case CH_DATA_LF:
			if (c == '\n')
				ch->state = CH_SIZE;
			else
				r = -1;
			break;
		case CH_TRAILER:
			if (c == '\r')
				ch->state = CH_TRAILER_LF;
			else if (c == '\n')
				r = chunk_trailer_done(ch);
			else if (is_ctl(c))
				r = -1;
			else
				r = chunk_line_byte(ch);
			break;
		case CH_TRAILER_LF:
			if (c == '\n')
				r = chunk_trailer_done(ch);
			else
				r = -1;
			break;
		default:
			r = -1;
			break;
		}
	}
	if (r == -1)
		ch->state = CH_ERROR;
	*outlen = o;
	*consumed = i;
	if (ch->state == CH_ERROR)
		return -1;
	return ch->state == CH_DONE ? 1 : 0;
}

const char *
http1_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return "";
	}
}
