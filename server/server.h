/* server.h -- what the server's files share: one served connection and the page it gets. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct conn;

#define GALLERY_MAX 32

/* One certificate scenario of the gallery (certs/make-certs.sh --gallery). */
struct scenario {
	char	name[64];
	char	chain[512];		/* PEM: leaf first, then what the server sends */
	char	key[512];
	int	expected;		/* the first X509_V_ERR a client should report, 0: ok */
	int	weak;			/* needs security level 0 to load */
	int	crl;			/* the verdict needs the client to check gallery/crl.pem */
	char	description[512];
	int	port;			/* bound port */
};

/* page.c */
/* Render the connection page for c into buf; text != 0 gives the plain-text variant. The
 * gallery (n scenarios, may be 0) is listed with links. Returns the length, or -1. */
int	page_render(struct conn *c, int text, const char *listener, const struct scenario *,
	    int n, char *buf, size_t len);
/* gallery.c */
int	gallery_load(const char *dir, struct scenario *, int max, char *err, size_t errlen);

#endif
