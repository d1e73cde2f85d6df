/* slab.c -- see slab.h. A block holds objects of one size; a free object is on its block's free
 * list; an empty block goes back to the kernel at once. Under AddressSanitizer a free object is
 * poisoned, so a use after free is still caught. */
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define SLAB_BYTES	65536		/* a block; also its alignment (the header is found by mask) */
#define SLAB_SIZES	4

struct slab_class;

struct slab {
	struct slab_class	*cls;
	struct slab		*next, *prev;	/* the class's blocks with a free object */
	void			*free;		/* free objects, linked through their first bytes */
	unsigned		 used, fresh;	/* objects handed out; never handed out from here on */
};

struct slab_class {
	size_t		 size;		/* 0: class unused */
	struct slab	*avail;
};

static struct slab_class classes[SLAB_SIZES];

#define HDR	((sizeof(struct slab) + 15) & ~(size_t)15)

static unsigned
nobjs(const struct slab_class *k)
{
	return (unsigned)((SLAB_BYTES - HDR) / k->size);
}

static struct slab *
block_new(struct slab_class *k)
{
	uint8_t *m, *a;
	uintptr_t u;
	struct slab *s;

	/* twice the size, then the unaligned ends go back */
	if ((m = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0)) == MAP_FAILED)
		return NULL;
	u = ((uintptr_t)m + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1);
	a = (uint8_t *)u;
	if (a > m)
		munmap(m, (size_t)(a - m));
	if (a + SLAB_BYTES < m + 2 * SLAB_BYTES)
		munmap(a + SLAB_BYTES, (size_t)(m + 2 * SLAB_BYTES - (a + SLAB_BYTES)));
	s = (struct slab *)a;
	memset(s, 0, sizeof(*s));
	s->cls = k;
	POISON(a + HDR, SLAB_BYTES - HDR);
	return s;
}

static void
avail_unlink(struct slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->cls->avail = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void
avail_push(struct slab *s)
{
	s->prev = NULL;
	s->next = s->cls->avail;
	if (s->next != NULL)
		s->next->prev = s;
	s->cls->avail = s;
}

/* With HSLAB_SLAB=off in the environment (make valgrind sets it) objects come from calloc, so
 * memcheck's leak check sees a connection that is never freed. (Under AddressSanitizer the slab
 * stays, its free objects poisoned.) Decided once, before the first object. */
static int
use_malloc(void)
{
	static int decided = -1;
	const char *v;

	if (decided == -1)
		decided = (v = getenv("HSLAB_SLAB")) != NULL && strcmp(v, "off") == 0;
	return decided;
}

void *
slab_alloc(size_t size)
{
	struct slab_class *k = NULL;
	struct slab *s;
	void *p;
	size_t i;

	if (use_malloc())
		return calloc(1, size);
	size = (size + 7) & ~(size_t)7;		/* 8-byte aligned objects */
	if (size == 0 || size > (SLAB_BYTES - HDR) / 8)
		return NULL;
	for (i = 0; i < SLAB_SIZES && k == NULL; i++)
		if (classes[i].size == size)
			k = &classes[i];
	for (i = 0; i < SLAB_SIZES && k == NULL; i++)
		if (classes[i].size == 0) {
			k = &classes[i];
			k->size = size;
		}
	if (k == NULL)
		return NULL;
	if ((s = k->avail) == NULL) {
		if ((s = block_new(k)) == NULL)
			return NULL;
		avail_push(s);
	}
	if (s->free != NULL) {
		p = s->free;
		UNPOISON(p, size);
		memcpy(&s->free, p, sizeof(void *));
	} else {
		p = (uint8_t *)s + HDR + (size_t)s->fresh * size;
		UNPOISON(p, size);
		s->fresh++;
	}
	s->used++;
	if (s->free == NULL && s->fresh == nobjs(k))
		avail_unlink(s);
	memset(p, 0, size);
	return p;
}

void
slab_free(void *p)
{
	struct slab *s;
	struct slab_class *k;

	if (p == NULL)
		return;
	if (use_malloc()) {
		free(p);
		return;
	}
	s = (struct slab *)((uintptr_t)p & ~(uintptr_t)(SLAB_BYTES - 1));
	k = s->cls;
	if (s->free == NULL && s->fresh == nobjs(k))
		avail_push(s);		/* it was full */
	memcpy(p, &s->free, sizeof(void *));
	s->free = p;
	POISON(p, k->size);
	if (--s->used == 0) {
		avail_unlink(s);
		munmap(s, SLAB_BYTES);
	}
}
