/* client.h -- what the client's files share: the options, the state of the one transfer, and
 * each file's functions.
 *
 * Contents:
 *   the options		struct client_opts (main.c parses them), exit codes, --kx, flag ids
 *   the transfer		struct client: one, made in main.c and passed to every file
 *   connect.c		the event loop, name lookup, address by address, the connection's events
 *   fetch.c		the request and the response, the timing line, the final error
 *   trust.c		the certificate check, the trust decision, the warning, the question
 *			(asked once the refused connection is closed) and the certificate
 *			accepted there
 *   options.c		the flag table (--help, the man page)
 *   repeat.c		-n and --reconnect: the session kept between connections, the summary
 *   redirect.c		-L: a 3xx's Location, the next hop (on this connection or a new one)
 *   writeout.c		-w/--write-out as curl: the format or @FILE, the variables, the output
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "cmdline.h"
#include "evlog.h"
#include "http1.h"
#include "tls.h"
#include "url.h"

struct addrinfo;
struct conn;
struct evbuffer;
struct event;
struct event_base;

/* --kx: which TLS 1.2 key exchange to offer. */
enum { KX_ANY, KX_RSA, KX_ECDHE };

/* Exit codes, curl's where curl has one. */
enum {
	EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_RESOLVE = 6, EXIT_CONNECT = 7,
	EXIT_WEIRD = 8, EXIT_PARTIAL = 18, EXIT_WRITE = 23, EXIT_TIMEOUT = 28, EXIT_TLS = 35,
	EXIT_URL_MALFORMAT = 3, EXIT_TOO_MANY_REDIRECTS = 47, EXIT_OPTION_SYNTAX = 49,
	EXIT_EMPTY = 52, EXIT_RECV = 56, EXIT_UNTRUSTED = 60, EXIT_FILESIZE = 63
};

/* One response's heads, its interim (1xx) ones included: a server that sends 100 Continue
 * forever is stopped (exit 56) by their total size, as curl stops it (300 KB, "Too large
 * response headers"), and by their number, so that the log it writes stays short. */
#define FETCH_MAX_HEADS_BYTES	(300 * 1024)
#define FETCH_MAX_INTERIM	100

/* The client's own flags; the shared ones are enum cmdline_flag. */
enum client_flag {
	/* where to connect: -L, --max-redirs, --resolve, --connect-to, -4, -6 */
	F_LOCATION = F_SHARED_LAST, F_MAX_REDIRS, F_RESOLVE, F_CONNECT_TO, F_IPV4, F_IPV6,
	F_CACERT, F_INSECURE, F_CRLFILE, F_SHOW_CERTS, F_TLS_MIN, F_TLS_MAX,
	F_KX, F_CIPHERS, F_KEYLOG, F_HEAD, F_REQUESTS, F_RECONNECT, F_OUTPUT, F_HALF_CLOSE,
	F_PAUSE_READ, F_CONNECT_TIMEOUT, F_MAX_TIME, F_MAX_FILESIZE, F_REUSE_TICKET,
	/* curl's output and request flags (-i -H -d -0 -w -s -S) */
	F_INCLUDE, F_HEADER, F_DATA, F_DATA_BINARY, F_HTTP10, F_WRITE_OUT, F_SILENT,
	F_SHOW_ERROR
};

/* -H: at most this many headers of our own. */
#define CLIENT_MAX_HEADERS	64
/* -d, --data-binary: the request body, at most (the server takes 1 MiB). */
#define CLIENT_MAX_DATA		(16 * 1024 * 1024)
/* --resolve and --connect-to, each at most this many times. */
#define CLIENT_MAX_MAPS	16

/* The options, as main.c parses them (its `opt`, with the defaults); read-only after that. */
struct client_opts {
	const char	*url;
	const char	*cafile;
	const char	*crlfile;
	int		 show_certs;
	const char	*ciphers;
	const char	*keylog;
	const char	*output;
	const char	*method;
	int		 insecure;
	int		 half_close;		/* --half-close: FIN right after the request */
	int		 pause_read_ms;		/* --pause-read: stop reading after the request */
	int		 tls_min, tls_max;
	int		 kx;			/* --kx: KX_* */
	int		 requests;		/* -n: requests per connection */
	int		 reconnect;		/* --reconnect: connections in a row */
	int		 reuse_ticket;		/* --reuse-ticket: offer a TLS 1.3 ticket again */
	/* where to connect (connect.c, redirect.c) */
	int		 location;		/* -L: follow redirects */
	int		 max_redirs;		/* --max-redirs, -1: no limit */
	const char	*resolve[CLIENT_MAX_MAPS];	/* --resolve HOST:PORT:ADDR[,ADDR] */
	int		 nresolve;
	const char	*connect_to[CLIENT_MAX_MAPS];	/* --connect-to H1:P1:H2:P2 */
	int		 nconnect_to;
	int		 family;		/* -4 AF_INET, -6 AF_INET6, else AF_UNSPEC */
	int		 connect_timeout_ms, max_time_ms;
	long long	 max_filesize;		/* --max-filesize, 0: no limit */
	struct cmdline	 common;		/* the flags the server takes too */
	/* curl's output and request flags */
	int		 include;		/* -i, and -I: the response head on the output */
	int		 http10;		/* -0: an HTTP/1.0 request */
	int		 silent, show_error;	/* -s, -S */
	const char	*write_out;		/* -w: the format, after the transfer */
	const char	*headers[CLIENT_MAX_HEADERS];	/* -H, in order */
	int		 nheaders;
	char		*data;			/* -d, --data-binary: the POST body, or NULL */
	size_t		 data_len;
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
	int			 refused;	/* the verify callback refused it (0 returned) */
	/* the server's own certificate (depth 0), whatever failed: what a yes accepts */
	int			 leaf_have;
	unsigned char		 leaf_md[32];	/* its SHA-256 */
	char			 leaf_sha256[100];	/* the same, AB:CD:... */
	/* the errors and the peer, kept for the warning after the connection is gone */
	unsigned		 conn_id;
	int			 alert_out;	/* the alert we sent, -1: none */
	char			 remote[64];
	int			 nerr;
	struct tls_verify_err	 errs[TLS_MAX_VERIFY_ERRS];
};

/* The certificate accepted at the question, for the rest of this run: a new connection's
 * verify callback accepts exactly this one (by SHA-256), as a browser after "Proceed". */
struct trust_pin {
	int			 on;
	unsigned		 conn_id;	/* the connection that refused it in its handshake */
	unsigned char		 md[32];
	char			 sha256[100];
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
	int		 tickets;		/* sessions (tickets) the server sent on it */
	int		 retried;		/* made to send a request again (-n) */
	double		 connect_ms;		/* connect() to ESTABLISHED */
	double		 handshake_ms;		/* TCP up to TLS handshake done */
	double		 requests_ms;		/* first request sent to last response whole */
	double		 total_ms;		/* connect() to closed */
};

/* The one transfer of a run (one URL; with -n and --reconnect several requests and
 * connections). main.c owns it and hands it to each file; a connection's callbacks find it
 * in c->arg. Grouped by the file that writes the fields. */
struct client {
	const struct client_opts *opt;
	struct url		 u;		/* the URL (main.c parses it) */
	int			 interactive;	/* stdin and stderr are a terminal: ask */

	/* how it ends: fetch_finish() */
	int			 done;		/* the transfer is over */
	int			 next_pending;	/* a next connection is scheduled (retry,
						 * --reconnect, the next address): no exit */
	int			 exit_code;	/* the first failure's, 0 without one */
	char			 error[512];	/* and what it was */

	/* connect.c */
	struct event_base	*base;
	SSL_CTX			*ctx;		/* NULL for http:// */
	struct addrinfo		*ai_list, *ai_next;	/* all the addresses; the next to try */
	struct addrinfo		*ai_cur;		/* the address being tried */
	struct addrinfo		*ai_ok;			/* the one that worked (--reconnect) */
	struct conn		*c;			/* the connection, NULL once closed */
	struct event		*connect_timer, *max_timer, *hold_timer, *pause_timer;
	char			 last_attempt[256];	/* why the last address failed */
	int			 conn_no;		/* connections made (1 = the first) */
	int			 retries;		/* of them, to send a request again */
	struct repeat_conn	 cur;			/* this connection's figures (repeat.c) */

	/* redirect.c: -L */
	int			 hops;		/* redirects followed so far */
	int			 hop_request;	/* the next request is a hop's first */
	int			 redirect_pending;	/* the next hop needs a new connection */
	int			 redirect_status;	/* the 3xx that led to this hop */
	const char		*method;	/* this hop's method (a 303 turns it to GET) */

	/* trust.c */
	struct trust_seen	 seen;		/* this connection's certificate check */
	int			 decided;	/* first connection: 1 trusted, 2 proceed */
	int			 ask;		/* refused in the handshake: ask once it is closed */
	struct trust_pin	 pin;
	struct event		*ask_settle;	/* waits for the close to settle, then asks */
	struct event		*ask_answer;	/* standard input, while the question is open */
	int64_t			 t_ask;		/* the close we wait on to settle, then the question */
	int64_t			 ask_wait_us;	/* how long the question waited for the answer */
	char			 answer[64];
	size_t			 answer_len;

	/* fetch.c: the response */
	FILE			*out;		/* the body goes here */
	struct http1_msg	 resp;
	int			 have_head;
	uint64_t		 body_bytes;
	uint64_t		 body_left;
	struct http1_chunked	 ch;
	int			 got_bytes;
	int			 req_no;		/* requests sent on this connection */
	uint64_t		 body_start;		/* body_bytes when this response began */
	int			 resp_got;		/* a byte of this response came */
	size_t			 heads_bytes;		/* its heads so far, 1xx included */
	int			 interim;		/* its 1xx responses so far */
	int			 retry;			/* send the request again, on a fresh
							 * connection (the server closed) */
	int			 sent_close;		/* the request said Connection: close */

	/* times (evlog_now_us()) for the timing line, like curl -w */
	int64_t			 t0;			/* the transfer starts: name lookup */
	int64_t			 t_request;
	int64_t			 t_first_request;	/* on this connection */
	int64_t			 t_tcp, t_tls, t_first, t_end;

	/* fetch.c: for -w (curl's --write-out, written by writeout.c) */
	int			 w_status;		/* the last final response's, 0: none */
	long			 w_verify;		/* SSL_get_verify_result() */
	char			 w_ip[64];		/* the server's address, "" before one */
	int			 w_port;
	int			 w_connects;		/* connections made (TCP up) */
	unsigned		 w_conn_id;		/* the last one noted */
	uint64_t		 w_body_start;		/* body_bytes when the last hop began (-L) */
	uint64_t		 w_header_bytes;	/* every head received */
	int64_t			 w_hop_t0;		/* -L: when this hop began, 0: t0 */
	int			 w_hop_first;		/* its first byte came */
	int64_t			 w_starttransfer_us;	/* each hop's time to it, added */
	int64_t			 w_t_done;		/* the last body whole */
	int			 w_hop_timed;		/* this hop's connect times are added */
	int64_t			 w_connect_us, w_appconnect_us;	/* each hop's, added */
	unsigned		 body_pending;		/* -d: the connection whose body goes
							 * once its head has; 0: none */
};

/* connect.c */
int	connect_tls_setup(struct client *);
int	connect_setup(struct client *);
void	connect_run(struct client *);
void	connect_free(struct client *);
void	connect_maybe_exit(void *client);
void	connect_pause_read(struct client *, struct conn *);
void	connect_again(struct client *);

/* fetch.c */
void	fetch_finish(struct client *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	fetch_open_output(struct client *);
void	fetch_request(struct client *, struct conn *);
void	fetch_read(struct conn *, struct evbuffer *);
void	fetch_server_closed(struct client *, struct conn *);
int	fetch_retry(struct client *, struct conn *);
void	fetch_reset(struct client *);
void	fetch_report(struct client *);
void	fetch_note_connection(struct client *, struct conn *);

/* writeout.c */
void	write_out(struct client *, const char *fmt);	/* -w, after the transfer */

/* redirect.c */
const char *redirect_method(const struct client *);
int	redirect_skip_body(const struct client *);
void	redirect_log_response(struct client *, struct evrec *);
void	redirect_log_request(struct client *, struct evrec *);
void	redirect_log_body(struct client *, struct conn *, struct evrec *);
int	redirect_follow(struct client *, struct conn *);

/* trust.c */
int	trust_verify_cb(int ok, X509_STORE_CTX *);
int	trust_decide(struct client *, struct conn *);
void	trust_failed(struct conn *);
int	trust_ask_after_close(struct client *, struct conn *);
void	trust_stop(struct client *);
void	trust_show_chain(FILE *, SSL *);

/* options.c */
extern const struct flags_prog client_flags;	/* the table, --help and the man page */
void	options_parse(struct client_opts *, struct url *, int argc, char **argv);
const char *options_kx_why_12(int kx);
#define OPTIONS_FIELD_LEN	512	/* one field of --resolve or --connect-to */
int	options_map_fields(const char *, char f[][OPTIONS_FIELD_LEN], int max);

/* repeat.c */
void	repeat_init(SSL_CTX *, int reuse_ticket);
int	repeat_offer_session(SSL *);
void	repeat_log_offer(struct conn *);
void	repeat_check_resumed(struct conn *, int resumed);
int	repeat_have_session(void);
void	repeat_free(void);
void	repeat_record(const struct repeat_conn *);
void	repeat_log_summary(void);

#endif
