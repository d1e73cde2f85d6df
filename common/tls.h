/* tls.h -- TLS context set-up for either side and TLS in words (tls.c), and the OpenSSL
 * callbacks that turn every handshake message, alert and certificate check into an event
 * (tls_log.c). */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct conn;

struct tls_opts {
	const char	*cert;		/* PEM certificate (chain) file: server; client for mTLS later */
	const char	*key;
	const char	*cafile;	/* client: extra trust anchors (--cacert) */
	int		 min_version;	/* TLS1_2_VERSION ...; 0: library default */
	int		 max_version;
	const char	*ciphers;	/* TLS 1.2 cipher list (OpenSSL syntax) */
	const char	*keylog;	/* NSS key log file, or NULL */
	const char	*crlfile;	/* client: check revocation against these CRLs (PEM) */
	const char	*client_ca;	/* server: CA(s) for client certificates (mutual TLS) */
	int		 client_auth;	/* server: TLS_CLIENT_AUTH_* */
	int		 weak_ok;	/* 1: OpenSSL security level 0 (the gallery's weak keys) */
	const char	*groups;	/* key exchange groups, "X25519:P-256" (--groups); NULL: default */
	int		 dissect;	/* 1: log every field of every handshake message (--dissect) */
	const char	*alpn;		/* server: the ALPN protocols it speaks, by preference,
					 * ',' between ("http/1.1"); NULL: ignore ALPN */
};

enum { TLS_CLIENT_AUTH_NONE, TLS_CLIENT_AUTH_OPTIONAL, TLS_CLIENT_AUTH_REQUIRE };

/* One certificate error, as a verify callback saw it. */
struct tls_verify_err {
	int	depth;
	int	error;
};

#define TLS_MAX_VERIFY_ERRS 16

/* What the TLS layer keeps about one connection (curl's filter context): c->tls, allocated
 * with the connection (conn.c's conn_new()), only for a connection that starts with TLS. The
 * callbacks in tls_log.c write it; conn*.c read hs_done and alert_out and set hs_done and
 * handshake_ms; the application asks tls_alert_received() and tls_verify_errors(). */
struct tls_state {
	struct tls_verify_err	*verify;	/* TLS_MAX_VERIFY_ERRS of them once one is seen */
	unsigned		 verify_logged;	/* bit per depth that has a verify event */
	int			 handshake_ms;	/* client: bound on the TLS handshake, 0: none */
	int64_t			 rec_us;	/* when the last record we wrote was sealed */
	int64_t			 out_us;	/* when the first record of the message, alert or
						 * CCS being written was sealed, before it went to
						 * the socket; 0: none pending */
	int16_t			 alert_in;	/* the last fatal alert received, -1: none */
	int16_t			 alert_out;	/* the last fatal alert we sent, -1: none */
	uint8_t			 nverify;	/* verify[0 .. nverify - 1] */
	uint8_t			 hs_done;	/* the handshake finished (libevent said so) */
	uint8_t			 notify_in;	/* the peer's close_notify came */
	uint8_t			 hrr;		/* a HelloRetryRequest went by: one more round trip */
	uint8_t			 sh_seen;	/* a ServerHello (not an HRR) went by: keys exist */
};

/* One certificate, in the words the log and the trust prompt use. */
struct tls_cert_info {
	char	subject[256];
	char	issuer[256];
	char	not_before[32];		/* 2026-11-25T15:00:00Z */
	char	not_after[32];
	char	sha256[100];		/* AB:CD:... */
};

/* tls.c */
int		 tls_parse_version(const char *);
const char	*tls_version_name(int);
const char	*tls_handshake_name(int hs_type, const unsigned char *body, size_t len);
const char	*tls_alert_name(int desc);
const char	*tls_verify_plain(int error);
SSL_CTX		*tls_ctx_server(const struct tls_opts *, char *err, size_t errlen);
SSL_CTX		*tls_ctx_client(const struct tls_opts *, char *err, size_t errlen);
void		 tls_ctx_free(SSL_CTX *);
void		 tls_bind(SSL *, struct conn *);
struct conn	*tls_conn(const SSL *);
void		 tls_hello_summary(const unsigned char *, size_t, char *, size_t);
int		 tls_check_groups(const char *list, char *err, size_t errlen);
void		 tls_cert_info(X509 *, struct tls_cert_info *);
const char	*tls_group_name(SSL *);

/* tls_tap.c */
/* Each TLS record's 5-byte header, received (out 0) or sent (out 1), while logging is on,
 * goes to fn (NULL: none). The server keeps them: what an eavesdropper saw of the
 * connection. */
typedef void	(*tls_record_tap_fn)(struct conn *, int out, const unsigned char *hdr);
void		 tls_set_record_tap(tls_record_tap_fn fn);
void		 tls_record_tapped(struct conn *, int out, const unsigned char *hdr);
/* Each ClientHello received (the whole handshake message, header included) is handed to fn
 * while logging is on; NULL: none. The server keeps it for the visitor's page. */
typedef void	(*tls_hello_tap_fn)(struct conn *, const unsigned char *msg, size_t len);
void		 tls_set_hello_tap(tls_hello_tap_fn fn);
void		 tls_hello_tapped(struct conn *, const unsigned char *msg, size_t len);

/* tls_log.c */
void		 tls_state_init(struct tls_state *);
void		 tls_state_clear(struct tls_state *);
int		 tls_alert_received(const struct conn *);
int		 tls_close_notify_received(const struct conn *);
int		 tls_verify_errors(const struct conn *, const struct tls_verify_err **);
int		 tls_log_setup(SSL_CTX *, const struct tls_opts *, char *err, size_t errlen);
void		 tls_keylog_close(void);
void		 tls_log_session(struct conn *);
int		 tls_log_errors(struct conn *, const char *what);
int		 tls_server_verify_cb(int ok, X509_STORE_CTX *);
void		 tls_verify_record(struct conn *, int ok, X509_STORE_CTX *);
int		 tls_verify_first_error(const struct conn *, int *depth);

#endif
