/* slab.h -- fixed-size objects packed in 64 KB mmap'd blocks, away from malloc's heap: objects
 * that live long (an idle connection) do not pin the holes that short-lived ones (bufferevents,
 * buffers) leave in the heap, and cost no malloc header. */
#ifndef SLAB_H
#define SLAB_H

#include <stddef.h>

/* slab.c */
void	*slab_alloc(size_t size);	/* zeroed, 8-byte aligned; NULL: no memory, too large
					 * (over 8 KB), or too many sizes in use */
void	 slab_free(void *p);		/* p from slab_alloc() */

#endif
