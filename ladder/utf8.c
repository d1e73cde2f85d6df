/* utf8.c -- the ladder's UTF-8: strict decoding, code points made safe for a terminal, XML and
 * Mermaid, and widths and cuts counted in characters. */
#include <stdint.h>
#include <string.h>

#include "ladder.h"

/* One strictly valid UTF-8 sequence at p: its length, 0 if invalid (overlong, surrogate,
 * beyond U+10FFFF, cut short). */
int
utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	uint32_t c;
	int n, i;

	if (p >= end)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (end - p < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Writes a code point that is safe in every output: on a terminal, in XML 1.0, in Mermaid.
 * Control characters, C1 controls, bidirectional overrides and noncharacters become '?',
 * tab and line breaks (also U+2028/U+2029) a space. Never writes more than 4 bytes. */
char *
utf8_put(char *o, uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029)
		cp = ' ';
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
		cp = '?';
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* The columns one code point takes on a terminal: 2 for the East Asian wide ranges (CJK
 * ideographs and punctuation, Hangul, full-width forms: --lang zh's labels), else 1. Counted
 * here, not by the locale, so a diagram lines up the same wherever it is drawn. */
static int
cp_width(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
	    (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD) ? 2 : 1;
}

/* The code point starting at s (valid UTF-8) and its width; returns its length in bytes. */
static int
next_width(const char *s, int *w)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = 0;
	int n = utf8_decode(p, p + strnlen(s, 4), &cp);

	if (n <= 0) {
		*w = 1;
		return 1;
	}
	*w = cp_width(cp);
	return n;
}

/* Display width of a valid UTF-8 string: one column per code point, two for a wide one. */
int
utf8_width(const char *s)
{
	int w = 0, cw;

	while (*s) {
		s += next_width(s, &cw);
		w += cw;
	}
	return w;
}

/* Drops a UTF-8 sequence cut short at the end of s (snprintf cuts bytes, not characters). */
void
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && n - i < 3)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* Cuts s (valid UTF-8, in a buffer of size bytes) to at most max columns, ending with ell
 * ("…" or "...") if it was cut. */
void
utf8_fit(char *s, size_t size, int max, const char *ell)
{
	int ew = utf8_width(ell), w = 0;
	size_t el = strlen(ell), cut = 0, i;

	if (utf8_width(s) <= max)
		return;
	if (max < ew) {
		s[0] = '\0';
		return;
	}
	/* the byte offset where max - ew columns end (a wide character that would cross
	 * it is left out) */
	for (i = 0; s[i]; ) {
		int cw, n = next_width(s + i, &cw);

		if (w + cw > max - ew)
			break;
		w += cw;
		i += (size_t)n;
	}
	cut = i;
	/* the ellipsis can be longer in bytes than what it replaces: step back */
	while (cut > 0 && cut + el + 1 > size) {
		cut--;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	if (cut + el + 1 > size) {
		s[0] = '\0';
		return;
	}
	memcpy(s + cut, ell, el + 1);
}

