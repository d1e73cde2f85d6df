/* client.h -- what the client's files share: the trust prompt. */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "tls.h"

struct conn;

/* What the verify callback saw of the first failing certificate. */
#define TRUST_MAX_DEPTH 8

struct trust_seen {
	int			 have;
	int			 depth;
	int			 error;
	struct tls_cert_info	 cert;
	/* the whole chain as the verify callback walked it, by depth */
	unsigned		 chain_mask;
	struct tls_cert_info	 chain[TRUST_MAX_DEPTH];
};

/* trust.c */
void	trust_warn(FILE *, const struct conn *, const struct trust_seen *, const char *host,
	    int color);
int	trust_ask(FILE *in, FILE *out);
const char *trust_advice(int error);
void	trust_show_chain(FILE *, SSL *);

#endif
