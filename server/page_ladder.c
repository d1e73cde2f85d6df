/* page_ladder.c -- a connection's ladder diagram for its page and /live, drawn from its record
 * by the ladder's own code (ladder/lib.c: the same files as build/ladder). */
#include <stdlib.h>

#include "evlog.h"
#include "../ladder/ladderlib.h"
#include "server.h"

int
page_ladder_svg(const struct record *r, char **svg, size_t *len)
{
	const char *ev;
	size_t n;

	*svg = NULL;
	*len = 0;
	if (r == NULL || (ev = record_events(r, &n)) == NULL || n == 0)
		return -1;
	return ladder_svg(ev, n, evlog_zh(), svg, len);
}
