/* page_out.c -- the connection page's output: a buffer that grows up to PAGE_MAX, and the
 * calls that write into it, escaping for HTML or plain text whatever came from the network. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evlog.h"
#include "page.h"

void
pb_put(struct pbuf *b, const char *s, size_t n)
{
	size_t want;
	char *p;

	if (b->err)
		return;
	if (b->len + n > b->cap) {
		want = b->cap ? b->cap : 16384;
		while (want < b->len + n)
			want *= 2;
		if (want > PAGE_MAX || (p = realloc(b->p, want)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void
pb_raw(struct pbuf *b, const char *markup)
{
	if (!b->text)
		pb_put(b, markup, strlen(markup));
}

/* The code point of the valid UTF-8 sequence p[0..k) (k 2-4). */
static unsigned
cpoint(const unsigned char *p, size_t k)
{
	if (k == 2)
		return (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	if (k == 3)
		return (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	return (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12 |
	    (unsigned)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
}

/* The length of the valid UTF-8 character at s (n bytes left) if it is no C1 control
 * (U+0080-U+009F: shown byte by byte, \xc2\x9b), else 0: the log's own strict check
 * (evlog_utf8_len), once the lead byte says the whole sequence is within n. */
static size_t
utf8_ok(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (len > n || (s[0] == 0xc2 && n > 1 && s[1] < 0xa0))
		return 0;
	return (size_t)evlog_utf8_len(s);
}

/* Escaped for the form: in HTML the five markup characters as entities; in both, control
 * bytes and bytes that are no UTF-8 as \xNN, and the characters the JSON log writes \uXXXX
 * (C1, bidirectional controls) as \uXXXX, so nothing from the network can write markup,
 * drive a terminal or reorder what the page says. */
void
pb_esc(struct pbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char hex[16];
	unsigned cp;
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (u[i] >= 0x80) {
			if ((k = utf8_ok(u + i, n - i)) > 0 &&
			    evlog_shown_escaped(cp = cpoint(u + i, k))) {
				/* shown, not obeyed: a C1 control or a bidi control would reorder
				 * or hide what the page says (a right-to-left override in a Host) */
				snprintf(hex, sizeof(hex), "\\u%04x", cp);
				pb_put(b, hex, 6);
				i += k - 1;
				continue;
			}
			if (k > 0) {
				pb_put(b, s + i, k);
				i += k - 1;
				continue;
			}
		} else if (u[i] >= 0x20 && u[i] != 0x7f) {
			if (!b->text && strchr("<>&\"'", s[i]) != NULL) {
				pb_put(b, s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : s[i] == '&' ?
				    "&amp;" : s[i] == '"' ? "&quot;" : "&#39;", s[i] == '<' ||
				    s[i] == '>' ? 4 : s[i] == '&' || s[i] == '\'' ? 5 : 6);
				continue;
			}
			pb_put(b, s + i, 1);
			continue;
		}
		snprintf(hex, sizeof(hex), "\\x%02x", u[i]);
		pb_put(b, hex, 4);
	}
}

static void
vescf(struct pbuf *b, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	pb_esc(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void
pb_escf(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vescf(b, fmt, ap);
	va_end(ap);
}

void
pb_h2(struct pbuf *b, const char *title)
{
	pb_put(b, b->text ? "\n== " : "<h2>", b->text ? 4 : 4);
	pb_esc(b, title, strlen(title));
	pb_put(b, b->text ? " ==\n" : "</h2>\n", b->text ? 4 : 6);
}

void
pb_p(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;

	pb_raw(b, "<p>");
	va_start(ap, fmt);
	vescf(b, fmt, ap);
	va_end(ap);
	pb_put(b, b->text ? "\n" : "</p>\n", b->text ? 1 : 5);
}

void
pb_table(struct pbuf *b)
{
	pb_raw(b, "<table>\n");
}

void
pb_end_table(struct pbuf *b)
{
	pb_raw(b, "</table>\n");
}

void
pb_row(struct pbuf *b, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (b->text)
		pb_escf(b, "  %-22s ", key);
	else {
		pb_raw(b, "<tr><th>");
		pb_esc(b, key, strlen(key));
		pb_raw(b, "</th><td>");
	}
	va_start(ap, fmt);
	vescf(b, fmt, ap);
	va_end(ap);
	pb_put(b, b->text ? "\n" : "</td></tr>\n", b->text ? 1 : 11);
}

void
pb_ul(struct pbuf *b)
{
	pb_raw(b, "<ul>\n");
	b->depth++;
}

void
pb_end_ul(struct pbuf *b)
{
	pb_raw(b, "</ul>\n");
	b->depth--;
}

void
pb_li(struct pbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->text)
		pb_put(b, b->depth > 1 ? "      - " : "  - ", b->depth > 1 ? 8 : 4);
	else
		pb_raw(b, "<li>");
	va_start(ap, fmt);
	vescf(b, fmt, ap);
	va_end(ap);
	pb_put(b, b->text ? "\n" : "</li>\n", b->text ? 1 : 6);
}

/* Bytes as they crossed the wire: printable ASCII as it is, CR and LF shown as \r and \n
 * (a line break after each \n), every other byte as \xNN. */
void
pb_bytes(struct pbuf *b, const unsigned char *p, size_t n)
{
	size_t i, s;

	pb_raw(b, "<pre class=\"wire\">");
	pb_put(b, b->text ? "    " : "", b->text ? 4 : 0);
	for (i = 0; i < n; i = s) {
		for (s = i; s < n && p[s] >= 0x20 && p[s] < 0x7f; s++)
			;
		pb_esc(b, (const char *)p + i, s - i);
		if (s == n)
			break;
		if (p[s] == '\r')
			pb_put(b, "\\r", 2);
		else if (p[s] == '\n')
			pb_put(b, b->text ? "\\n\n    " : "\\n\n", b->text ? 7 : 3);
		else
			pb_esc(b, (const char *)p + s, 1);
		s++;
	}
	pb_raw(b, "</pre>\n");
	pb_put(b, b->text ? "\n" : "", b->text ? 1 : 0);
}
