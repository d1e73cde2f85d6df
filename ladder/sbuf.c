/* sbuf.c -- the ladder's memory (every block it allocates, so that ladder_svg() can free them
 * all after a failed allocation), its growing strings (every renderer writes into one) and
 * snprintf into a fixed buffer that never leaves half a UTF-8 character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

/* A block's header: the list of the blocks alive, aligned for anything after it. */
union blk {
	struct {
		union blk	*prev, *next;
	}		 l;
	max_align_t	 align;
};

static union blk *blocks;	/* the blocks alive, newest first */
static size_t	 nblocks;
jmp_buf		*ladder_oom_jmp;
long		 ladder_fail_at;

void
die_oom(void)
{
	if (ladder_oom_jmp != NULL)
		longjmp(*ladder_oom_jmp, 1);
	fputs("ladder: out of memory\n", stderr);
	exit(1);
}

static void
blk_link(union blk *b)
{
	b->l.prev = NULL;
	b->l.next = blocks;
	if (blocks != NULL)
		blocks->l.prev = b;
	blocks = b;
	nblocks++;
}

static void
blk_unlink(union blk *b)
{
	if (b->l.prev != NULL)
		b->l.prev->l.next = b->l.next;
	else
		blocks = b->l.next;
	if (b->l.next != NULL)
		b->l.next->l.prev = b->l.prev;
	nblocks--;
}

/* The allocation failure a test asked for (ladder_fail_at). */
static int
fail_now(void)
{
	return ladder_fail_at > 0 && --ladder_fail_at == 0;
}

void *
lad_calloc(size_t n, size_t size)
{
	union blk *b;

	if (size != 0 && n > (SIZE_MAX - sizeof(*b)) / size)
		die_oom();
	if (fail_now() || (b = calloc(1, sizeof(*b) + n * size)) == NULL)
		die_oom();
	blk_link(b);
	return b + 1;
}

void *
lad_realloc(void *p, size_t size)
{
	union blk *b = p != NULL ? (union blk *)p - 1 : NULL, *nb;

	if (size > SIZE_MAX - sizeof(*b) || fail_now())
		die_oom();
	if (b != NULL)
		blk_unlink(b);
	if ((nb = realloc(b, sizeof(*nb) + size)) == NULL) {
		if (b != NULL)
			blk_link(b);	/* still ours: lad_free_all() frees it */
		die_oom();
	}
	blk_link(nb);
	return nb + 1;
}

void
lad_free(void *p)
{
	union blk *b;

	if (p == NULL)
		return;
	b = (union blk *)p - 1;
	blk_unlink(b);
	free(b);
}

void
lad_free_all(void)
{
	while (blocks != NULL)
		lad_free(blocks + 1);
}

size_t
lad_blocks(void)
{
	return nblocks;
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
		p = lad_realloc(b->p, cap);
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

