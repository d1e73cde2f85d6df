/* page_ladder.c -- a connection's ladder diagram for its page and /live, drawn from its record
 * by the ladder's own code (the same as build/ladder draws from a log). */
#include <stdlib.h>

#include "server.h"

/* Not wired yet: the ladder is not linked into the server. */
int
page_ladder_svg(const struct record *r, int small, char **svg, size_t *len)
{
	(void)r;
	(void)small;
	*svg = NULL;
	*len = 0;
	return -1;
}
