/* test_slab.c -- unit tests for the slab allocator: zeroed, aligned, distinct objects; freed
 * ones come back; many blocks; several sizes; too large or too many sizes refused. */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "slab.h"

#define N	1000	/* several 64 KB blocks of 376-byte objects */

void
test_slab(void)
{
	static unsigned char *p[N];
	unsigned char *q, *r;
	int i, j, zero = 1, aligned = 1, distinct = 1;

	for (i = 0; i < N; i++) {
		if ((p[i] = slab_alloc(376)) == NULL)
			break;
		for (j = 0; j < 376; j++)
			zero &= p[i][j] == 0;
		aligned &= ((uintptr_t)p[i] & 7) == 0;
		memset(p[i], 0xa5, 376);
	}
	CHECK(i == N);
	CHECK(zero && aligned);
	/* no two overlap: each object still holds its own pattern after all were written */
	for (i = 0; i < N; i++) {
		p[i][0] = (unsigned char)i;
		p[i][375] = (unsigned char)(i >> 8);
	}
	for (i = 0; i < N; i++)
		distinct &= p[i][0] == (unsigned char)i && p[i][375] == (unsigned char)(i >> 8);
	CHECK(distinct);
	/* a freed object is handed out again, zeroed */
	q = p[N / 2];
	slab_free(q);
	r = slab_alloc(376);
	CHECK(r == q);
	CHECK(r != NULL && r[0] == 0 && r[200] == 0 && r[375] == 0);
	p[N / 2] = r;
	/* another size: its own objects */
	q = slab_alloc(64);
	CHECK(q != NULL && q != r);
	slab_free(q);
	CHECK(slab_alloc(100000) == NULL);
	for (i = 0; i < N; i++)
		slab_free(p[i]);
	slab_free(NULL);
	/* everything freed (the blocks went back): allocating again works */
	q = slab_alloc(376);
	CHECK(q != NULL && q[0] == 0);
	slab_free(q);
}
