/* sbuf.c -- the ladder's growing strings (every renderer writes into one) and snprintf into a
 * fixed buffer that never leaves half a UTF-8 character. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

void
die_oom(void)
{
	fputs("ladder: out of memory\n", stderr);
	exit(1);
}

void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (n >= SIZE_MAX / 2 - b->len)
		die_oom();
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			die_oom();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sb_put(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void
sb_rep(struct sbuf *b, const char *s, int n)
{
	while (n-- > 0)
		sb_put(b, s);
}

/* snprintf into a fixed buffer; a longer text is cut (labels are truncated later anyway). */
void
bprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= len)
		utf8_trim(buf);
}

