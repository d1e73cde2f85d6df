/* server.h -- what the server's files share: one served connection and the page it gets. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct conn;

/* page.c */
/* Render the connection page for c into buf; text != 0 gives the plain-text variant.
 * Returns the length, or -1 if it does not fit. */
int	page_render(struct conn *c, int text, const char *listener, char *buf, size_t len);

#endif
