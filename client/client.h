/* client.h -- what the client's files share: exit codes, flags, the trust prompt, the repeat
 * summary. */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "cmdline.h"
#include "tls.h"

struct conn;

/* Exit codes, curl's where curl has one. */
enum {
	EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_RESOLVE = 6, EXIT_CONNECT = 7,
	EXIT_WEIRD = 8, EXIT_PARTIAL = 18, EXIT_WRITE = 23, EXIT_TIMEOUT = 28, EXIT_TLS = 35,
	EXIT_EMPTY = 52, EXIT_RECV = 56, EXIT_UNTRUSTED = 60, EXIT_FILESIZE = 63
};

/* The client's own flags; the shared ones are enum cmdline_flag. */
enum client_flag {
	F_CACERT = F_SHARED_LAST, F_INSECURE, F_CRLFILE, F_SHOW_CERTS, F_TLS_MIN, F_TLS_MAX,
	F_KX, F_CIPHERS, F_KEYLOG, F_HEAD, F_REQUESTS, F_RECONNECT, F_OUTPUT, F_HALF_CLOSE,
	F_PAUSE_READ, F_CONNECT_TIMEOUT, F_MAX_TIME, F_MAX_FILESIZE
};

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

/* options.c */
extern const struct flags_prog client_flags;	/* the table, --help and the man page */

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
