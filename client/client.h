/* client.h -- what the client's files share: the trust prompt, the repeat summary. */
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

/* One connection of a run, for the summary (-n, --reconnect). */
#define REPEAT_MAX_CONNS 100

struct repeat_conn {
	unsigned	 conn_id;
	int		 tls;
	int		 handshake_done;
	int		 resumed;
	char		 version[16];		/* "TLSv1.3", "" without TLS */
	int		 requests;		/* requests sent */
	int		 responses;		/* responses received whole */
	double		 connect_ms;		/* connect() to ESTABLISHED */
	double		 handshake_ms;		/* TCP up to TLS handshake done */
	double		 requests_ms;		/* first request sent to last response whole */
	double		 total_ms;		/* connect() to closed */
};

/* repeat.c */
void	repeat_init(SSL_CTX *);
int	repeat_offer_session(SSL *);
int	repeat_have_session(void);
void	repeat_free(void);
void	repeat_record(const struct repeat_conn *);
void	repeat_log_summary(void);

/* trust.c */
void	trust_warn(FILE *, const struct conn *, const struct trust_seen *, const char *host,
	    int color);
int	trust_ask(FILE *in, FILE *out);
const char *trust_advice(int error);
void	trust_show_chain(FILE *, SSL *);

#endif
