/* textwidth.c -- text that fits a terminal: display widths (CJK two columns) and word wrap,
 * computed here from the bytes, the same on every machine whatever its locale. libc only. */
#include <sys/ioctl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textwidth.h"

/* The East Asian Wide and Fullwidth blocks (Unicode UAX #11) a log or a name can hold. */
static const struct { uint32_t lo, hi; } wide[] = {
	{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff }, { 0x3400, 0x4dbf },
	{ 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
	{ 0xfe30, 0xfe4f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
	{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

int
tw_cp_width(uint32_t cp)
{
	size_t i;

	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200d) || cp == 0xfeff)
		return 0;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i].lo && cp <= wide[i].hi)
			return 2;
	return 1;
}

/* One UTF-8 sequence at p: its length and code point; an invalid byte is itself, length 1. */
static int
decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	int n, i;
	uint32_t c = p[0];

	n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
	if (n == 1 || end - p < n) {
		*cp = c;
		return 1;
	}
	c &= n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*cp = p[0];
			return 1;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	*cp = c;
	return n;
}

/* A terminal escape (CSI: ESC [ ... final byte) at p: its length, else 0. */
static size_t
escape_len(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q;

	if (p + 1 >= end || p[0] != 0x1b || p[1] != '[')
		return 0;
	for (q = p + 2; q < end; q++)
		if (*q >= 0x40 && *q <= 0x7e)
			return (size_t)(q - p) + 1;
	return (size_t)(end - p);
}

size_t
tw_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t w = 0, e;
	uint32_t cp;

	while (p < end) {
		if ((e = escape_len(p, end)) > 0) {
			p += e;
			continue;
		}
		p += decode(p, end, &cp);
		w += (size_t)tw_cp_width(cp);
	}
	return w;
}

int
tw_columns(int fd)
{
	struct winsize ws;
	const char *c;
	int n;

	if (!isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((c = getenv("COLUMNS")) != NULL && (n = atoi(c)) > 0)
		return n;
	return 80;
}

/* No line starts with a closing mark, none ends with an opening one (the rule Chinese
 * typesetting keeps: "，" stays with the word before it, "（" with the one after). */
static int
closer(uint32_t cp)
{
	return (cp < 0x80 && strchr(",.;:!?)]}", (int)cp) != NULL && cp != 0) || cp == 0x3001 ||
	    cp == 0x3002 || cp == 0x3009 || cp == 0x300b || cp == 0x300d || cp == 0x300f ||
	    cp == 0x3011 || cp == 0xff01 || cp == 0xff09 || cp == 0xff0c || cp == 0xff1a ||
	    cp == 0xff1b || cp == 0xff1f;
}

static int
opener(uint32_t cp)
{
	return (cp < 0x80 && cp != 0 && strchr("([{", (int)cp) != NULL) || cp == 0x3008 ||
	    cp == 0x300a || cp == 0x300c || cp == 0x300e || cp == 0x3010 || cp == 0xff08;
}

/* The unbreakable unit that starts at p (not a space): up to a space, or up to a place
 * between two characters where one is wide. Its width goes to *w. */
static const unsigned char *
unit(const unsigned char *p, const unsigned char *end, size_t *w)
{
	uint32_t cp, prev = 0;
	size_t e;
	int n, cw, prev_w = 0;

	*w = 0;
	while (p < end && *p != ' ') {
		if ((e = escape_len(p, end)) > 0) {
			p += e;
			continue;
		}
		n = decode(p, end, &cp);
		cw = tw_cp_width(cp);
		if (*w > 0 && (cw == 2 || prev_w == 2) && !closer(cp) && !opener(prev))
			break;
		*w += (size_t)cw;
		if (cw > 0) {
			prev = cp;
			prev_w = cw;
		}
		p += n;
	}
	return p;
}

struct wout {
	char	*buf;
	size_t	 len, pos;
};

static void
wput(struct wout *o, const void *s, size_t n)
{
	if (o->len == 0 || o->pos + 1 >= o->len)
		return;
	if (n > o->len - 1 - o->pos)
		n = o->len - 1 - o->pos;
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void
wpad(struct wout *o, int n)
{
	while (n-- > 0)
		wput(o, " ", 1);
}

static void
newline(struct wout *o, int *col, int lead)
{
	wput(o, "\n", 1);
	wpad(o, lead);
	*col = lead;
}

size_t
tw_wrap(char *out, size_t len, const char *s, int col, int width, int indent, int min_indent)
{
	struct wout o = { out, len, 0 };
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s), *u, *q;
	size_t w, e;
	uint32_t cp;
	int spaces = 0, placed = 0, n, cw;

	if (len > 0)
		out[0] = '\0';
	if (min_indent > indent)
		min_indent = indent;
	while (p < end) {
		if (*p == ' ') {
			spaces++;
			p++;
			continue;
		}
		u = unit(p, end, &w);
		if (col + spaces + (int)w > width) {
			if (placed || col > indent)
				newline(&o, &col, (int)w > width - indent ? min_indent : indent);
			else if (col > min_indent && (int)w <= width - min_indent)
				newline(&o, &col, min_indent);
			spaces = 0;
		}
		wpad(&o, spaces);
		col += spaces;
		spaces = 0;
		if (col + (int)w <= width) {
			wput(&o, p, (size_t)(u - p));
			col += (int)w;
		} else {
			/* Wider than any line: cut between characters, the only way it fits. */
			for (q = p; q < u; q += n) {
				if ((e = escape_len(q, u)) > 0) {
					wput(&o, q, e);
					n = (int)e;
					continue;
				}
				n = decode(q, u, &cp);
				cw = tw_cp_width(cp);
				if (col + cw > width && col > min_indent)
					newline(&o, &col, min_indent);
				wput(&o, q, (size_t)n);
				col += cw;
			}
		}
		placed = 1;
		p = u;
	}
	return o.pos;
}

/* A mark that ends a clause (",", ";", ":", "、", "，", "；", "：") or a space: left out
 * where a line is cut, so "…" follows the last word itself. */
static size_t
dangling(const unsigned char *start, const unsigned char *end)
{
	if (end > start && (end[-1] == ' ' || end[-1] == ',' || end[-1] == ';' || end[-1] == ':'))
		return 1;
	if (end - start >= 3 && ((end[-3] == 0xe3 && end[-2] == 0x80 && end[-1] == 0x81) ||
	    (end[-3] == 0xef && end[-2] == 0xbc && (end[-1] == 0x8c || end[-1] == 0x9b ||
	    end[-1] == 0x9a))))
		return 3;
	return 0;
}

size_t
tw_cut(char *out, size_t len, const char *s, int width, int words)
{
	struct wout o = { out, len, 0 };
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s), *u, *cut = p;
	size_t w, e, d;
	uint32_t cp;
	int col = 0, room = width - 1, n;	/* room: the columns left of the "…" */

	if (len > 0)
		out[0] = '\0';
	if (width < 1)
		return 0;
	if ((int)tw_width(s, strlen(s)) <= width) {
		wput(&o, s, strlen(s));
		return o.pos;
	}
	while (p < end) {
		if ((e = escape_len(p, end)) > 0) {
			p += e;
			cut = p;
			continue;
		}
		if (words) {
			for (u = p; u < end && *u == ' '; u++)
				;
			if (u < end)
				u = unit(u, end, &w);
			w = tw_width((const char *)p, (size_t)(u - p));
		} else {
			n = decode(p, end, &cp);
			u = p + n;
			w = (size_t)tw_cp_width(cp);
		}
		if (col + (int)w > room)
			break;
		col += (int)w;
		p = u;
		cut = p;
	}
	while ((d = dangling((const unsigned char *)s, cut)) > 0)
		cut -= d;
	/* The escapes before the cut (a colour switched on) go too: the caller resets. */
	wput(&o, s, (size_t)(cut - (const unsigned char *)s));
	wput(&o, "\xe2\x80\xa6", 3);
	return o.pos;
}

/* The words of s, for tw_says_same: lower-case ASCII words of 4+ letters, and each pair of
 * wide characters; calls f(word, n, arg) for each. Returns how many. */
static int
words(const char *s, int (*f)(const char *, size_t, void *), void *arg)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s), *q;
	uint32_t cp, cp2;
	int n, count = 0;

	while (p < end) {
		if (isalpha(*p)) {
			for (q = p; q < end && isalpha(*q); q++)
				;
			if (q - p >= 4) {
				count++;
				f((const char *)p, (size_t)(q - p), arg);
			}
			p = q;
			continue;
		}
		n = decode(p, end, &cp);
		if (tw_cp_width(cp) == 2 && p + n < end) {
			decode(p + n, end, &cp2);
			if (tw_cp_width(cp2) == 2 && !closer(cp2) && !closer(cp)) {
				count++;
				f((const char *)p, (size_t)n + (size_t)decode(p + n, end, &cp2), arg);
			}
		}
		p += n;
	}
	return count;
}

struct same {
	const char	*b;
	int		 found;
};

/* Is the word (n bytes at w) in b, ignoring ASCII case? */
static int
found_in(const char *w, size_t n, void *arg)
{
	struct same *sm = arg;
	const char *p;

	for (p = sm->b; *p; p++)
		if (strncasecmp(p, w, n) == 0) {
			sm->found++;
			return 1;
		}
	return 0;
}

int
tw_says_same(const char *a, const char *b)
{
	struct same sm = { b, 0 };
	int n = words(a, found_in, &sm);

	return n >= 3 && sm.found * 2 >= n;
}
