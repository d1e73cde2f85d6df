/* server.h -- what the server's files share: its options, its listeners, the sessions they
 * start, and the page each one gets. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "cmdline.h"

struct conn;
struct event;
struct event_base;
struct evconnlistener;

#define GALLERY_MAX	32
#define MAX_BINDS	8

/* What a listener serves. K_RSA: the RSA certificate, for TLS 1.2 RSA key transport
 * (--rsa-port); K_GALLERY: one certificate scenario of the gallery. */
enum kind { K_HTTP, K_HTTPS, K_SELFSIGNED, K_RSA, K_GALLERY, K_LAST };

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

/* The server's options. */
struct options {
	const char	*binds[MAX_BINDS];	/* --bind */
	int		 nbinds;		/* 0: 127.0.0.1 and ::1 */
	int		 port[K_LAST];		/* by kind; 0: the kernel picks, -2: off */
	const char	*certs_dir;		/* --certs */
	int		 idle_ms;		/* --idle-timeout */
	int		 header_ms;		/* --header-timeout */
	int		 accept_delay_ms;	/* --accept-delay */
	int		 backlog;		/* --backlog */
	int		 client_auth;		/* --client-auth: TLS_CLIENT_AUTH_* */
	const char	*client_ca;		/* --client-ca */
	int		 gallery;		/* --gallery */
	int		 gallery_base;		/* --gallery-base: first port, 0: kernel picks */
	int		 live_off;		/* --live off */
	const char	*live_token;		/* --live-token, or NULL */
	struct cmdline	 common;		/* the flags the client takes too */
};

/* One listening socket: a service on one address. */
struct listener {
	enum kind		 kind;
	struct scenario		*sc;		/* K_GALLERY: its scenario */
	struct evconnlistener	*lev;
	struct event		*resume;	/* --accept-delay: accept again after the delay */
	struct event		*ready;		/* --accept-delay: a connection waits */
	struct event		*pause;		/* out of fds: accept again shortly */
	SSL_CTX			*ctx;
	char			 addr_s[64];
	char			 url_host[64];	/* the host its try: URLs name (listen_url_host) */
	int			 port;
};

/* options.c */
extern const struct flags_prog server_flags;	/* the table, --help and the man page */
struct options	options_parse(int argc, char **argv);

/* listen.c */
extern const char *const kind_names[];	/* by enum kind; checked against K_LAST there */
/* Load the certificates and the gallery, then listen on every service and address; on
 * failure err says why. */
int	listen_start(struct event_base *, const struct options *, char *err, size_t errlen);
/* --capture: the capture, filtered on our ports. */
void	listen_capture(struct event_base *, const struct options *);
/* The listen events, then what to try: whoever reads them may connect at once. */
void	listen_announce(void);
const struct scenario *listen_scenarios(int *n);
/* The host a URL to this address names: localhost for 127.0.0.1, ::1 and the wildcards
 * (localhost reaches them, and the demo certificates name it), else the address itself. */
void	listen_url_host(const struct sockaddr *, char *, size_t);
void	listen_stop(void);		/* no new connections */
void	listen_free(void);

/* session.c */
void	session_init(struct event_base *, const struct options *);
/* A connection accept() gave us, served as HTTP (over TLS if the listener has a context). */
void	session_accept(struct listener *, int fd, struct sockaddr *, socklen_t);
/* Stop: close every connection; the loop ends once the last one is gone. */
void	session_stop_all(void);
int	session_stopping(void);
void	session_free(void);

/* record.c */
#define RECORD_MAX		(16 * 1024)	/* a connection's packed events kept, at most */
#define RECORD_HELLO_MAX	8192		/* the ClientHello's bytes kept, at most */
#define RECORD_REQ_MAX		2048		/* plain HTTP: the last request head's bytes kept */
#define RECORD_TLSREC_FIRST	24		/* TLS record headers kept: the first ones ... */
#define RECORD_TLSREC_LAST	8		/* ... and the last ones (a ring) */

/* One TLS record header as it crossed the wire (what an eavesdropper sees of it). */
struct record_tlsrec {
	uint64_t	t_us;		/* since the accept */
	uint16_t	version;	/* the header's version field */
	uint16_t	len;		/* the record's length */
	uint8_t		in;		/* 1: from the client */
	uint8_t		type;		/* content type: 20-23 */
};

/* One served connection's events (the log's records without gloss and explain, packed:
 * record_events() gives them as JSON lines), kept from its established event on; its first
 * ClientHello; plain HTTP: its last request head; TLS: its record headers. */
struct record {
	unsigned	 id;
	int64_t		 t0_us;		/* the established event's time (the accept) */
	int64_t		 ts0_us;	/* its wall-clock stamp */
	unsigned char	*pk;		/* the events packed (record_pack.c), pk_len bytes of an
					 * allocation of pk_cap; record_events() gives the JSON */
	size_t		 pk_len, pk_cap;
	unsigned	 nev;		/* events kept */
	unsigned	 dropped;	/* events not kept: the record was full */
	unsigned char	*hello;		/* the ClientHello, hello_len bytes of hello_full */
	size_t		 hello_len, hello_full;
	char		*req;		/* plain HTTP: the last request head, req_len bytes (at most
					 * RECORD_REQ_MAX) of req_full; malloc'd to its size */
	size_t		 req_len, req_full;
	struct record_tlsrec *tlsrec;	/* TLS: 24 + 8 entries of 16 bytes (512 B), malloc'd at
					 * the first record; plain HTTP: NULL */
	unsigned	 ntlsrec;	/* record headers seen (the first 24 kept, the last 8) */
	unsigned	 closed:1;	/* the connection is gone; kept in the history */
	unsigned	 full:1;	/* an event did not fit: the later ones are counted only */
	unsigned	 hidden:1;	/* live.c: a /live viewer's own connection, not shown */
	struct record	*next;		/* hash chain */
	struct record	*hist_prev, *hist_next;	/* the history, oldest first */
};
struct evrec;
/* Called for every record the log emits, after it was kept: r is its connection's record
 * (NULL: none). It formats what it needs itself (nothing, while /live has no viewer). */
typedef void	(*record_listener_fn)(const struct evrec *, struct record *r);
/* Closed connections' records to keep for /live (0: none). */
void	record_init(int history);
void	record_set_listener(record_listener_fn);
void	record_tap(const struct evrec *);	/* evlog_set_tap(record_tap) */
void	record_hello(struct conn *, const unsigned char *msg, size_t len);
/* A plain HTTP request head as it came (the eavesdropper's view), the last one kept. */
void	record_request(struct conn *, const char *head, size_t len);
/* A TLS record's 5-byte header, in (from the client) or out (tls_set_record_tap). */
void	record_tls_header(struct conn *, int out, const unsigned char *hdr);
/* The i-th kept TLS record header, oldest first (i < record_tlsrec_kept(r)); its number
 * among all the connection's records in *seq. */
unsigned record_tlsrec_kept(const struct record *);
const struct record_tlsrec *record_tlsrec_get(const struct record *, unsigned i, unsigned *seq);
struct record *record_find(unsigned id);
/* r's events as JSON lines (*n bytes, not NUL-terminated), exactly as the JSON log printed
 * them without gloss and explain: valid until the next call for another record or until r
 * gets another event; NULL (*n 0) if out of memory. */
const char *record_events(const struct record *r, size_t *n);
/* The connection closed: its record goes to the history, or is freed. */
void	record_closed(unsigned id);
const struct record *record_history(void);	/* oldest first, along hist_next */
/* fn(r, arg) for every record held (open and closed), in no order. */
void	record_each(void (*fn)(const struct record *, void *), void *arg);
void	record_free(void);

/* record_pack.c */
/* ev packed into buf (at most len bytes), its times as differences from t0/ts0: the length,
 * 0 if it does not fit. */
size_t	record_pack(const struct evrec *ev, int64_t t0_us, int64_t ts0_us, unsigned char *buf,
	    size_t len);
/* The event at *p back into r (its strings point into the packed bytes), *p moved past it;
 * -1 if the bytes are not a packed event. */
int	record_unpack(const unsigned char **p, const unsigned char *end, unsigned conn,
	    int64_t t0_us, int64_t ts0_us, struct evrec *r);

/* page_ladder.c */
/* r's ladder diagram (the server's side: what it saw and sent, times from the accept) as an
 * inline SVG element, malloc'd (*svg, *len bytes; the caller frees); its viewBox lets a page
 * show it at any width (/live's rows: a thumbnail). -1 when it cannot be drawn (*svg NULL). */
int	page_ladder_svg(const struct record *r, char **svg, size_t *len);

/* live.c */
#define LIVE_VIEWERS	8		/* /live/events streams at once, at most */
#define LIVE_QUEUE	(256 * 1024)	/* a viewer's queued output, at most: beyond, dropped */
#define LIVE_SNDBUF	(64 * 1024)	/* a viewer's SO_SNDBUF (the kernel doubles it) */
#define LIVE_HISTORY	50		/* closed connections kept for /live/conn/N */
#define LIVE_HB_MS	15000		/* the heartbeat, at most (and half --idle-timeout) */

/* What a /live request gets: a response (status, ctype, body of len bytes, malloc'd or NULL:
 * the caller frees it; an error's body says why), or a stream (the connection is a viewer now:
 * live.c wrote its head and writes to it until it closes). */
struct live_answer {
	int		 status;
	const char	*ctype;
	char		*body;
	size_t		 len;
	const char	*extra;		/* header lines to add (its Content-Security-Policy), or NULL */
	int		 stream;
};
/* Set up from the options: the records' history and the event stream (none with --live off). */
void	live_init(struct event_base *, const struct options *);
/* path (plen bytes before its query) is /live or under it: live_serve() answers it. */
int	live_path(const char *path, size_t plen);
void	live_serve(struct conn *, const char *method, const char *path, int head,
	    struct live_answer *);
void	live_drained(struct conn *);	/* a viewer's output went to the kernel */
void	live_gone(struct conn *);	/* a viewer's connection closed */
void	live_stop(void);		/* the server stops: tell the viewers */
void	live_free(void);

/* page.c */
/* What the connection page is rendered from: the connection's record (and the server-wide
 * state: the listener, the options), so it can be drawn for one that has closed too. */
struct page_req {
	struct conn		*c;		/* the connection asking; NULL: from the record alone */
	const struct record	*r;		/* its record; NULL: no event log (-q) */
	const struct listener	*li;
	const struct options	*opt;
	int			 requests;	/* this request's number on its connection */
	int			 text;		/* the plain-text form (/?text) */
	const char		*host_hdr;	/* the request's Host header, or NULL */
	const struct scenario	*sc;		/* the gallery to list (nsc may be 0) */
	int			 nsc;
};
/* Render the connection page into *page (malloc'd, *len bytes; the caller frees). The
 * gallery's links name the host of host_hdr if it is a valid one, else the address c
 * reached. -1: out of memory or past PAGE_MAX (server/page.h). */
int	page_render(const struct page_req *, char **page, size_t *len);
/* /redirect/N[?code=3xx]: a chain of N redirects on this server (client -L): the status,
 * with the Location header line in hdr and a body; 0: not such a path; -1: malformed. */
int	page_redirect(const char *path, char *hdr, size_t hlen, char *body, size_t blen);
/* gallery.c */
int	gallery_load(const char *dir, struct scenario *, int max, char *err, size_t errlen);

#endif
