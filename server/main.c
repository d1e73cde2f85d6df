/* main.c -- the server: flags, loopback listeners (HTTP, HTTPS CA-signed, HTTPS self-signed),
 * the HTTP/1.1 request loop and a clean stop on SIGINT/SIGTERM. */
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "server.h"
#include "tcpinfo.h"
#include "seglog.h"
#include "tcpwatch.h"
#include "tls.h"
#include "url.h"

#define MAX_BINDS	8
#define MAX_LISTENERS	96
#define MAX_BODY	(1024 * 1024)	/* request bodies are read and dropped, up to this */
#define OUT_HIGH	(1024 * 1024)	/* queued response bytes above which we stop reading */
#define PARK_DELAY_MS	200		/* an idle connection that carried requests: parked after */

/* K_RSA: the RSA certificate, for TLS 1.2 RSA key transport (--rsa-port). */
enum kind { K_HTTP, K_HTTPS, K_SELFSIGNED, K_RSA, K_GALLERY, K_LAST };
static const char *const kind_names[] = { "http", "https", "selfsigned", "rsa", "gallery" };
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == K_LAST, "kind_names");

struct listener {
	enum kind		 kind;
	struct scenario		*sc;		/* K_GALLERY: its scenario */
	struct evconnlistener	*lev;
	struct event		*resume;	/* --accept-delay: accept again after the delay */
	struct event		*ready;		/* --accept-delay: a connection waits */
	struct event		*pause;		/* out of fds: accept again shortly */
	SSL_CTX			*ctx;
	char			 addr_s[64];
	int			 port;
};

/* One served connection: the parser state of the request being read. Small on purpose: one
 * per idle keep-alive connection. */
struct session {
	struct listener		*li;
	struct http1_msg	*req;		/* the request being read; NULL while idle */
	struct http1_chunked	*ch;		/* only while a chunked body is read */
	uint64_t		 body_left;
	struct conn		*c;
	struct event		*hold;		/* --hold-close timer */
	struct event		*head_timer;	/* --header-timeout: the request head's deadline */
	int			 requests;
	unsigned		 in_body:1;	/* reading (and dropping) a request body */
	unsigned		 chunked:1;
	unsigned		 keep_alive:1;
	unsigned		 got_bytes:1;	/* some bytes of the current head arrived */
	unsigned		 bp_paused:1;	/* not reading until our responses leave */
};

static struct {
	const char	*binds[MAX_BINDS];
	int		 nbinds;
	int		 port[K_LAST];
	const char	*cert, *key, *certs_dir;
	int		 idle_ms;
	int		 header_ms;		/* --header-timeout */
	int		 server_closes_first;	/* --close-first server */
	int		 hold_close_ms;		/* --hold-close */
	int		 abort;			/* --abort: RST instead of FIN */
	int		 linger_ms;		/* --linger-watch; -1: by default */
	int		 accept_delay_ms;	/* --accept-delay */
	int		 backlog;		/* --backlog */
	int		 capture;		/* --capture */
	int		 wire;			/* --wire: payloads as an eavesdropper sees them */
	int		 explain;		/* --explain: a sentence of why under each event */
	int		 lang;			/* --lang: enum evlog_lang */
	int		 client_auth;		/* --client-auth: TLS_CLIENT_AUTH_* */
	int		 gallery;		/* --gallery */
	int		 gallery_base;		/* --gallery-base: first port, 0: kernel picks */
	const char	*client_ca;		/* --client-ca */
	const char	*groups;		/* --groups: key exchange groups accepted */
	int		 dissect;		/* --dissect: every field of every message */
	int		 quiet, verbose, color;
	enum evlog_format format;
} opt = {
	.port = { 8080, 8443, 8444, -2 },	/* -2: off (--rsa-port) */
	.idle_ms = 30000,
	.header_ms = 20000,
	.linger_ms = -1,
	.backlog = 128,
	.gallery_base = 8450,
	.color = -1,
};

static struct event_base *base;
static struct scenario scenarios[GALLERY_MAX];
static int nscenarios;
static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static int stopping;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: server [options]\n"
"Serve HTTP and HTTPS on loopback and log every step of each connection:\n"
"the TCP handshake, the TLS handshake, the request and response, the close.\n"
"\n"
"  -b, --bind ADDR        address to listen on (IPv4 or IPv6; repeatable);\n"
"                         default 127.0.0.1 and ::1\n"
"  --http-port PORT       plain HTTP port (default 8080)\n"
"  --https-port PORT      HTTPS with the CA-signed certificate (default 8443)\n"
"  --selfsigned-port PORT HTTPS with the self-signed certificate (default 8444)\n"
"  --rsa-port PORT        HTTPS with the RSA certificate DIR/server-rsa.crt, for TLS 1.2\n"
"                         RSA key transport (client --tls-max 1.2 --kx rsa); also\n"
"                         ECDHE and TLS 1.3 (default off; e.g. 8445)\n"
"                         PORT: a number, 0 = let the kernel pick, off = no listener\n"
"  --certs DIR            where the demo certificates are (default certs/out)\n"
"  --cert FILE --key FILE certificate and key for --https-port\n"
"                         (default DIR/server.crt and DIR/server.key)\n"
"  --idle-timeout SEC     close a connection idle this long: keep-alive, TLS handshake,\n"
"                         request body (default 30)\n"
"  --header-timeout SEC   a request head must be complete within SEC seconds of its\n"
"                         first byte, however slowly it trickles in; on a new\n"
"                         connection from accept(), TLS handshake included (default 20)\n"
"  --close-first client|server  who sends the first FIN (default client: the server\n"
"                         keeps the connection open until the client closes; server:\n"
"                         'Connection: close' and the server closes after each reply)\n"
"  --hold-close MS        when the client closed first, wait MS ms before our FIN\n"
"                         (CLOSE_WAIT here, FIN_WAIT2 there, long enough to see)\n"
"  --abort                close with RST instead of FIN (SO_LINGER {1, 0})\n"
"  --linger-watch SEC     after close(), follow TIME_WAIT for SEC seconds (default 3\n"
"                         on a terminal, 0 otherwise); other states are always followed\n"
"  --accept-delay MS      wait MS ms before each accept(), so new connections wait in\n"
"                         the accept queue (and, once it is full, SYNs are dropped:\n"
"                         the client sits in SYN_SENT)\n"
"  --backlog N            listen() backlog, the accept queue's size (default 128;\n"
"                         0 lets one connection wait)\n"
"  --capture              capture our segments on lo (libpcap) and log their absolute\n"
"                         seq/ack numbers (needs root or 'setcap cap_net_raw+ep')\n"
"  --wire                 the eavesdropper's view (implies --capture): under each segment\n"
"                         with data, its bytes as anyone on the path sees them: HTTP\n"
"                         text, or for HTTPS only TLS record headers around ciphertext\n"
"  --explain              under each event, one sentence: what happens and why\n"
"  --lang en|zh           zh: also the Chinese textbook's step names (第一次握手 ...)\n"
"                         beside the English ones (default en)\n"
"  --client-auth none|optional|require  ask HTTPS clients for a certificate (mutual\n"
"                         TLS); require refuses a client without one\n"
"  --client-ca FILE       the CA(s) client certificates must chain to (PEM), e.g.\n"
"                         certs/out/ca.crt\n"
"  --groups LIST          key exchange groups to accept (e.g. P-256): a client whose\n"
"                         key share is for another group gets a HelloRetryRequest\n"
"  --dissect              decode every field of every handshake message (versions,\n"
"                         suites, extensions, key shares, certificates) under its event\n"
"  --gallery              also serve the certificate gallery (certs/make-certs.sh\n"
"                         --gallery): one HTTPS port per certificate problem, listed\n"
"                         on the HTTP page\n"
"  --gallery-base PORT    the gallery's first port (default 8450; 0: the kernel picks)\n"
"  --log-format text|json event log format on standard output (default text)\n"
"  --color auto|always|never  colour in the text log (default auto: on a terminal)\n"
"  -v, --verbose          also log each connection's internal phase changes\n"
"  -q, --quiet            no event log (errors still go to standard error)\n"
"  -h, --help             this help\n"
"\n"
"Exit status: 0 stopped by SIGINT/SIGTERM, 1 runtime error, 2 usage error.\n");
}

static void
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "server: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'server --help')\n");
	exit(2);
}

static int
parse_num(const char *flag, const char *s, long min, long max)
{
	long v = url_parse_number(s, min, max);

	if (v == -1)
		die_usage(flag, s);
	return (int)v;
}

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "server: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* ---- responses ---- */

static void
http_date(char *buf, size_t len)
{
	static time_t last = -1;
	static char cached[64];
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	if (len > 0) {
		size_t n = strlen(cached) < len ? strlen(cached) : len - 1;

		memcpy(buf, cached, n);
		buf[n] = '\0';
	}
}

static void
respond(struct conn *c, struct session *s, int status, const char *ctype, const char *body,
    size_t blen, int head_only, const char *extra, size_t pad)
{
	static const char filler[] = "handshake-lab filler: ?pad= asks for it.\n";
	char hdr[768], date[64], one[4096];
	struct evrec r;
	size_t left;
	int n;

	http_date(date, sizeof(date));
	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 %d %s\r\nServer: handshake-lab\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: %s\r\n%s\r\n",
	    status, http1_reason(status), date, ctype, blen + pad, s->keep_alive ? "keep-alive" :
	    "close", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return;
	if (!head_only && blen > 0 && (size_t)n + blen <= sizeof(one)) {
		/* Head and body in one write: over TLS one record, not two. */
		memcpy(one, hdr, (size_t)n);
		memcpy(one + n, body, blen);
		conn_write(c, one, (size_t)n + blen);
	} else {
		conn_write(c, hdr, (size_t)n);
		if (!head_only && blen > 0)
			conn_write(c, body, blen);
	}
	for (left = head_only ? 0 : pad; left > 0; ) {
		size_t k = left < sizeof(filler) - 1 ? left : sizeof(filler) - 1;

		conn_write(c, filler, k);
		left -= k;
	}
	blen += pad;
	if (evrec_begin(&r, EVT_RESPONSE, c->id, c->fd)) {
		evrec_int(&r, "status", status);
		evrec_int(&r, "length", (long long)blen);
		evrec_bool(&r, "keep_alive", s->keep_alive);
		evrec_label(&r, "> %d %s", status, http1_reason(status));
		evrec_detail(&r, "%zu B body%s, Connection: %s", blen, head_only ? " (HEAD: not sent)"
		    : "", s->keep_alive ? "keep-alive" : "close");
		evrec_gloss(&r, "%s", c->ssl ? "the response goes out as encrypted TLS records" :
		    "the response goes out in clear text: anyone on the path can read it");
		evrec_emit(&r);
	}
}

static void
respond_error(struct conn *c, struct session *s, int status, const char *why)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body), "%d %s: %s\n", status, http1_reason(status), why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	respond(c, s, status, "text/plain; charset=utf-8", body, (size_t)n, 0,
	    status == 405 ? "Allow: GET, HEAD\r\n" : NULL, 0);
}

static int
wants_text(const struct http1_msg *m)
{
	const char *q = strchr(m->target, '?');
	const char *accept = http1_header(m, "Accept");

	if (q != NULL && strncmp(q + 1, "text", 4) == 0 && (q[5] == '\0' || q[5] == '&'))
		return 1;
	return accept != NULL && strncasecmp(accept, "text/plain", 10) == 0;
}

static long query_pad(const char *);

/* RFC 9112 3.2.2: a server MUST accept the absolute-form ("GET http://host/path"), as a proxy
 * would receive it; what counts is its path ("/" when it has none). */
static const char *
target_path(const char *target)
{
	const char *p;

	if (strncasecmp(target, "http://", 7) == 0)
		p = target + 7;
	else if (strncasecmp(target, "https://", 8) == 0)
		p = target + 8;
	else
		return target;
	p += strcspn(p, "/?");
	return *p == '/' ? p : "/";
}

static void
serve(struct conn *c, struct session *s)
{
	const struct http1_msg *m = s->req;
	const char *path = target_path(m->target);
	char page[16384];
	size_t plen;
	long pad;
	int head = strcmp(m->method, "HEAD") == 0, text, n;

	/* The only page is generated, never a file: whatever the path says (.., %2e%2e, %00),
	 * nothing but "/" exists. */
	plen = strcspn(path, "?");
	if (strcmp(m->method, "GET") != 0 && !head) {
		respond_error(c, s, 405, "this server only answers GET and HEAD");
		return;
	}
	if (m->version_minor == 1 && http1_header(m, "Host") == NULL) {
		s->keep_alive = 0;
		respond_error(c, s, 400, "an HTTP/1.1 request needs a Host header");
		return;
	}
	if (plen != 1 || path[0] != '/') {
		respond_error(c, s, 404, "the only page here is /");
		return;
	}
	text = wants_text(m);
	n = page_render(c, text, s->li->sc ? s->li->sc->name : kind_names[s->li->kind],
	    scenarios, s->li->kind == K_HTTP ? nscenarios : 0, page, sizeof(page));
	if (n < 0) {
		respond_error(c, s, 500, "page too large");
		return;
	}
	if ((pad = query_pad(m->target)) < 0) {
		respond_error(c, s, 400, "pad= takes a number of bytes up to 16777216");
		return;
	}
	respond(c, s, 200, text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8",
	    page, (size_t)n, head, NULL, (size_t)pad);
}

/* ?pad=N: N filler bytes after the page (at most 16 MiB), so a reader that stops reading
 * fills its receive window and our FIN has to wait behind the data (FIN_WAIT1, LAST_ACK). */
static long
query_pad(const char *target)
{
	const char *q = strchr(target, '?'), *p;
	char *end;
	long v;

	for (p = q; p != NULL; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, "pad=", 4) == 0) {
			errno = 0;
			v = strtol(p + 5, &end, 10);
			if (errno || end == p + 5 || (*end && *end != '&') || v < 0 ||
			    v > 16L * 1024 * 1024)
				return -1;
			return v;
		}
	return 0;
}

static void
log_request(struct conn *c, const struct http1_msg *m)
{
	struct evrec r;
	const char *host = http1_header(m, "Host");

	if (!evrec_begin(&r, EVT_REQUEST, c->id, c->fd))
		return;
	evrec_str(&r, "method", m->method);
	evrec_str(&r, "target", m->target);
	evrec_str(&r, "host", host ? host : "");
	evrec_strf(&r, "version", "HTTP/1.%d", m->version_minor);
	evrec_label(&r, "< %s %s", m->method, m->target);
	evrec_detail(&r, "HTTP/1.%d  Host: %s", m->version_minor, host ? host : "(none)");
	evrec_gloss(&r, "%s", c->ssl ? "the request arrived inside TLS records: only the two ends "
	    "can read it" : "the request arrived in clear text");
	evrec_emit(&r);
}

/* After a complete request (and its body): answer, then keep the connection or close it. */
/* The server's own close: FIN (the four-way close), or RST with --abort. */
static void
server_close(struct conn *c, const char *reason)
{
	char why[200];

	if (opt.abort) {
		snprintf(why, sizeof(why), "--abort (%s)", reason);
		conn_reset(c, why);
	} else
		conn_close(c, reason);
}

/* A parsed request takes ~10 KB (the head and its header table): an idle keep-alive
 * connection holds none, one spare is kept for the next request of any connection. */
static struct http1_msg *req_spare;

static struct http1_msg *
req_get(void)
{
	struct http1_msg *m = req_spare;

	req_spare = NULL;
	return m != NULL ? m : malloc(sizeof(*m));
}

static void
req_put(struct session *s)
{
	if (req_spare == NULL)
		req_spare = s->req;
	else
		free(s->req);
	s->req = NULL;
}

static void
finish_request(struct conn *c, struct session *s)
{
	s->in_body = 0;
	free(s->ch);
	s->ch = NULL;
	s->requests++;
	serve(c, s);
	req_put(s);
	if (!s->keep_alive || stopping)
		server_close(c, stopping ? "server stopping" : opt.server_closes_first ?
		    "--close-first server" : "Connection: close");
	else
		conn_set_timeout(c, opt.idle_ms);
}

/* The plain-text request on the HTTPS port gets nginx's answer: a 400 page that says so. */
static void
respond_plain_on_tls(struct conn *c, struct session *s)
{
	static const char page[] =
	    "<html>\n<head><title>400 The plain HTTP request was sent to HTTPS port</title>"
	    "</head>\n<body>\n<center><h1>400 Bad Request</h1></center>\n"
	    "<center>The plain HTTP request was sent to HTTPS port</center>\n"
	    "<hr><center>handshake-lab</center>\n</body>\n</html>\n";

	s->keep_alive = 0;
	respond(c, s, 400, "text/html", page, sizeof(page) - 1, 0, NULL, 0);
}

/* The http_error event: status is what we send; parsed, if it differs, what the request
 * itself deserved (plain HTTP on the HTTPS port always gets nginx's 400 page). */
static void
log_http_error(struct conn *c, int status, int parsed, const char *why)
{
	struct evrec er;

	if (evrec_begin(&er, EVT_HTTP_ERROR, c->id, c->fd)) {
		evrec_int(&er, "status", status);
		if (parsed != status)
			evrec_int(&er, "request_status", parsed);
		evrec_str(&er, "reason", why);
		if (parsed != status)
			evrec_detail(&er, "bad request: %s -> %d (sent as %d: plain HTTP on the "
			    "HTTPS port)", why, parsed, status);
		else
			evrec_detail(&er, "bad request: %s -> %d", why, status);
		evrec_emit(&er);
	}
}

/* Answer a request we cannot serve with status and why, and close (close_reason NULL:
 * "bad request (STATUS)"). */
static void
reject(struct conn *c, struct session *s, int status, const char *why,
    const char *close_reason)
{
	char reason[32];
	int sent = c->plain_on_tls ? 400 : status;

	log_http_error(c, sent, status, why);
	s->keep_alive = 0;
	if (c->plain_on_tls)
		respond_plain_on_tls(c, s);
	else
		respond_error(c, s, status, why);
	if (close_reason == NULL) {
		snprintf(reason, sizeof(reason), "bad request (%d)", sent);
		close_reason = reason;
	}
	conn_close(c, close_reason);
}

/* Bytes that cannot begin a request, said at once rather than after the parser waited for a
 * line end that may never come (a ClientHello has none). NULL: maybe a request. */
static const char *
bad_start(const unsigned char *p, size_t n)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i = 0, j;

	if (n > 0 && p[0] == 0x16)
		return "a TLS handshake record (0x16, a ClientHello?) on the plain HTTP port: "
		    "use http:// here, https:// on the HTTPS port";
	if (n > 0 && p[0] == '\n')
		i = 1;
	else if (n > 1 && p[0] == '\r' && p[1] == '\n')
		i = 2;
	for (j = i; j < n && j - i <= HTTP1_MAX_METHOD && p[j] != ' '; j++)
		if (!(p[j] >= 'A' && p[j] <= 'Z') && !(p[j] >= '0' && p[j] <= '9') &&
		    (p[j] == '\0' || strchr(tchar, p[j]) == NULL))
			return "the first bytes are not an HTTP method (not HTTP at all?)";
	if (j - i > HTTP1_MAX_METHOD)
		return "the first bytes are not an HTTP method (not HTTP at all?)";
	return NULL;
}

static void head_timeout_cb(evutil_socket_t, short, void *);

/* The request head's deadline (--header-timeout): starts at its first byte; a new connection's
 * starts at accept(), so the TLS handshake counts too. The timer exists only while a head is
 * due: an idle keep-alive connection holds none. */
static void
head_timer_start(struct session *s)
{
	struct timeval tv = clock_tv_ms(opt.header_ms);

	if (s->head_timer == NULL)
		s->head_timer = evtimer_new(base, head_timeout_cb, s);
	if (s->head_timer != NULL && !evtimer_pending(s->head_timer, NULL))
		evtimer_add(s->head_timer, &tv);
}

static void
head_timer_stop(struct session *s)
{
	if (s->head_timer != NULL) {
		event_free(s->head_timer);
		s->head_timer = NULL;
	}
}

static void
head_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct conn *c = s->c;
	char why[160];

	(void)fd;
	(void)what;
	if (c == NULL || c->phase > PHASE_OPEN)
		return;
	if (c->phase != PHASE_OPEN) {
		snprintf(why, sizeof(why), "the TLS handshake did not finish within %d s "
		    "(--header-timeout)", opt.header_ms / 1000);
		conn_abort(c, CONN_ERR_TIMEOUT, why);
		return;
	}
	if (s->in_body)
		return;
	if (!s->got_bytes && s->requests == 0 && conn_input_length(c) == 0) {
		snprintf(why, sizeof(why), "no request within %d s (--header-timeout)",
		    opt.header_ms / 1000);
		server_close(c, why);
		return;
	}
	snprintf(why, sizeof(why), "the request head did not arrive within %d s "
	    "(--header-timeout): a client too slow, or a slowloris", opt.header_ms / 1000);
	reject(c, s, 408, why, "request head timeout");
}

/* Back-pressure: a client that sends requests but does not read the responses would make us
 * queue them without end. Above OUT_HIGH queued bytes we stop reading (its requests then wait
 * in the kernel, and its sending stops once the window is full) until the queue is empty. */
static int
output_full(struct conn *c, struct session *s)
{
	size_t out = evbuffer_get_length(bufferevent_get_output(c->bev));
	struct evrec r;

	if (out <= OUT_HIGH)
		return 0;
	s->bp_paused = 1;
	conn_pause_read(c, 1);
	/* Reading is off, so only a write timeout can notice a client that never reads. */
	conn_set_write_timeout(c, opt.idle_ms);
	if (evrec_begin(&r, EVT_PAUSE_READ, c->id, c->fd)) {
		evrec_int(&r, "queued", (long long)out);
		evrec_detail(&r, "not reading: %zu B of responses wait to be sent (back-pressure)",
		    out);
		evrec_gloss(&r, "the client sends requests faster than it reads the answers: we "
		    "stop reading until they have gone, so its requests wait in the kernel");
		evrec_emit(&r);
	}
	return 1;
}

static void session_read(struct conn *, struct evbuffer *);

static void
session_drained(struct conn *c)
{
	struct session *s = c->arg;

	if (s == NULL)
		return;
	if (!s->bp_paused) {
		/* Answered, nothing more to read: an idle keep-alive connection waits for its
		 * next request without a bufferevent (conn_park: ~1 KB less per connection).
		 * After its first answer at once (a browser's spare connection, a one-shot
		 * client); once it has carried more, after PARK_DELAY_MS without a request: a
		 * busy client's next request comes at once, and parking for each would cost
		 * CPU for nothing. */
		if (s->requests > 0 && s->req == NULL && !s->in_body && !s->got_bytes &&
		    s->keep_alive && s->hold == NULL && !stopping)
			conn_park(c, s->requests == 1 ? 0 : PARK_DELAY_MS);
		return;
	}
	s->bp_paused = 0;
	evlog(EVT_PAUSE_READ, c->id, c->fd, "reading again: the responses have gone to the "
	    "kernel");
	conn_pause_read(c, 0);
	conn_set_timeout(c, opt.idle_ms);
	/* Requests already read wait in our input buffer: no read event will announce them. */
	session_read(c, bufferevent_get_input(c->bev));
}

static void
session_read(struct conn *c, struct evbuffer *in)
{
	struct session *s = c->arg;
	unsigned char *p;
	const char *why;
	size_t len, n;
	int r;

	while (c->phase == PHASE_OPEN && (len = evbuffer_get_length(in)) > 0) {
		if (s->in_body) {
			if (!s->chunked) {
				n = len < s->body_left ? len : (size_t)s->body_left;
				evbuffer_drain(in, n);
				s->body_left -= n;
				if (s->body_left == 0)
					finish_request(c, s);
				continue;
			}
			char out[4096];
			size_t outlen = sizeof(out), used = 0;
			n = len < 4096 ? len : 4096;
			p = evbuffer_pullup(in, (ev_ssize_t)n);
			r = http1_chunked_decode(s->ch, (const char *)p, n, out, &outlen, &used);
			evbuffer_drain(in, used);
			if (r < 0 || s->ch->total > MAX_BODY) {
				reject(c, s, r < 0 ? 400 : 413, r < 0 ? "malformed chunked body" :
				    "request body too large", NULL);
				return;
			}
			if (r == 1)
				finish_request(c, s);
			else if (used == 0)
				return;
			continue;
		}
		if (s->bp_paused || output_full(c, s))
			return;
		n = len < HTTP1_MAX_HEAD + 1 ? len : HTTP1_MAX_HEAD + 1;
		p = evbuffer_pullup(in, (ev_ssize_t)n);
		if ((why = bad_start(p, n)) != NULL) {
			evbuffer_drain(in, len);
			reject(c, s, 400, why, NULL);
			return;
		}
		if (s->req == NULL && (s->req = req_get()) == NULL) {
			conn_close(c, "out of memory");
			return;
		}
		r = http1_parse(s->req, HTTP1_REQUEST, (const char *)p, n, 0);
		if (r == 0) {
			/* Only a head that takes more than one read needs the deadline. */
			if (!s->got_bytes) {
				s->got_bytes = 1;
				head_timer_start(s);
			}
			return;
		}
		if (r < 0) {
			evbuffer_drain(in, len);
			reject(c, s, s->req->error_status, s->req->error_text, NULL);
			return;
		}
		evbuffer_drain(in, s->req->head_len);
		s->got_bytes = 0;
		head_timer_stop(s);
		log_request(c, s->req);
		if (c->plain_on_tls) {
			reject(c, s, 400, "plain HTTP request sent to the HTTPS port", NULL);
			return;
		}
		s->keep_alive = s->req->keep_alive && !opt.server_closes_first;
		/* The idle timeout also bounds a request body that stops coming. */
		conn_set_timeout(c, opt.idle_ms);
		if (s->req->body == HTTP1_BODY_LENGTH) {
			if (s->req->content_length > MAX_BODY) {
				reject(c, s, 413, "request body too large", NULL);
				return;
			}
			s->in_body = 1;
			s->chunked = 0;
			s->body_left = s->req->content_length;
		} else if (s->req->body == HTTP1_BODY_CHUNKED) {
			if (s->ch == NULL && (s->ch = malloc(sizeof(*s->ch))) == NULL) {
				conn_close(c, "out of memory");
				return;
			}
			s->in_body = 1;
			s->chunked = 1;
			http1_chunked_init(s->ch);
		} else
			finish_request(c, s);
	}
}

static void
session_ready(struct conn *c)
{
	conn_set_timeout(c, opt.idle_ms);
}

static void
hold_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	server_close(s->c, "the client closed its side (after --hold-close)");
}

static void
session_peer_closed(struct conn *c)
{
	struct session *s = c->arg;
	struct timeval tv = clock_tv_ms(opt.hold_close_ms);
	struct evrec r;

	if (opt.hold_close_ms > 0 && (s->hold = evtimer_new(base, hold_done_cb, s)) != NULL) {
		/* The textbook's "the server may still have data to send": stay in CLOSE_WAIT
		 * a while, the client in FIN_WAIT2. */
		conn_set_timeout(c, 0);
		if (evrec_begin(&r, EVT_HOLD_CLOSE, c->id, c->fd)) {
			evrec_int(&r, "ms", opt.hold_close_ms);
			evrec_detail(&r, "holding our FIN for %d ms (--hold-close)",
			    opt.hold_close_ms);
			evrec_gloss(&r, "the passive side may still have data to send: we stay in "
			    "CLOSE_WAIT, the client in FIN_WAIT2");
			evrec_emit(&r);
		}
		evtimer_add(s->hold, &tv);
		return;
	}
	server_close(c, "the client closed its side");
}

static void
session_timeout(struct conn *c)
{
	struct session *s = c->arg;
	char why[96];

	if (s != NULL && s->bp_paused)
		snprintf(why, sizeof(why), "the client read none of its responses for %d ms",
		    opt.idle_ms);
	else
		snprintf(why, sizeof(why), "idle for %d ms (keep-alive timeout)", opt.idle_ms);
	server_close(c, why);
}

static void
check_stopped(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (stopping && conn_count() == 0)
		event_base_loopexit(base, NULL);
}

static void
session_closed(struct conn *c)
{
	struct session *s = c->arg;

	if (s != NULL && s->hold != NULL)
		event_free(s->hold);
	if (s != NULL && s->head_timer != NULL)
		event_free(s->head_timer);
	if (s != NULL && s->req != NULL)
		req_put(s);
	if (s != NULL)
		free(s->ch);
	c->arg = NULL;		/* allocated with c (session_ops.arg_size), freed with it */
	if (stopping)
		event_base_once(base, -1, EV_TIMEOUT, check_stopped, NULL, NULL);
}

static const struct conn_ops session_ops = {
	.ready = session_ready,
	.read = session_read,
	.peer_closed = session_peer_closed,
	.timeout = session_timeout,
	.closed = session_closed,
	.drained = session_drained,
	.arg_size = sizeof(struct session),	/* allocated with the connection */
};

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct listener *li = arg;
	struct session init = { .li = li, .keep_alive = 1 };
	struct session *s;
	struct conn *c;

	(void)lev;
	/* conn_accept() copies init into the connection's own allocation (session_ops.arg_size) */
	c = conn_accept(base, fd, sa, (socklen_t)salen, li->ctx, &session_ops, &init);
	if (c != NULL && c->phase != PHASE_CLOSED && (s = c->arg) != NULL) {
		s->c = c;
		head_timer_start(s);
	}
	/* A client that never finishes its TLS handshake must not hold the connection. */
	if (c != NULL && c->phase == PHASE_TLS_HANDSHAKE)
		conn_set_timeout(c, opt.idle_ms);
	if (opt.accept_delay_ms > 0 && li->resume != NULL) {
		/* One accept() per delay: stop, and wait for the next finished handshake. */
		evconnlistener_disable(li->lev);
		event_add(li->ready, NULL);
	}
}

static void
log_accept_queue(struct listener *li, int delay_ms)
{
	struct tcp_info ti;
	struct evrec r;
	int lfd = evconnlistener_get_fd(li->lev);

	if (tcpinfo_get(lfd, &ti) != 0 || !evrec_begin(&r, EVT_ACCEPT_WAIT, 0, lfd))
		return;
	evrec_str(&r, "addr", li->addr_s);
	evrec_int(&r, "accept_queue", ti.tcpi_unacked);
	evrec_int(&r, "backlog", ti.tcpi_sacked);
	evrec_int(&r, "delay_ms", delay_ms);
	if (delay_ms > 0) {
		evrec_detail(&r, "a connection waits on %s; accept() in %d ms (--accept-delay); "
		    "accept queue %u, backlog %u", li->addr_s, delay_ms, ti.tcpi_unacked,
		    ti.tcpi_sacked);
		evrec_gloss(&r, "the kernel finished the handshake and queued the connection in "
		    "the accept queue (全连接队列); when the queue is full it drops new SYNs");
	} else
		evrec_detail(&r, "calling accept() on %s now; accept queue %u, backlog %u",
		    li->addr_s, ti.tcpi_unacked, ti.tcpi_sacked);
	evrec_emit(&r);
}

/* --accept-delay: the listening socket is readable, a finished handshake waits. */
static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;
	struct timeval tv = clock_tv_ms(opt.accept_delay_ms);

	(void)fd;
	(void)what;
	if (li->lev == NULL)
		return;
	log_accept_queue(li, opt.accept_delay_ms);
	evtimer_add(li->resume, &tv);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)fd;
	(void)what;
	if (li->lev == NULL)
		return;
	log_accept_queue(li, 0);
	evconnlistener_enable(li->lev);
}

static void
unpause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)fd;
	(void)what;
	if (li->lev != NULL && !stopping)
		evconnlistener_enable(li->lev);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *li = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, 100 * 1000 };

	(void)lev;
	evlog(EVT_WARNING, 0, -1, "accept on %s failed: %s", li->addr_s, strerror(e));
	/* Out of file descriptors: the waiting connection stays readable, so pause accepting
	 * briefly instead of spinning (httpd does the same). */
	if ((e == EMFILE || e == ENFILE) && li->pause != NULL) {
		evconnlistener_disable(li->lev);
		evtimer_add(li->pause, &tv);
	}
}

/* ---- listeners ---- */

/* Bind addr:port; port 0 lets the kernel pick. Returns the bound port, -1 on error (errno). */
static int
open_listener(struct listener *li, const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd = -1, on = 1, fam;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = fam = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = fam = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*s6);
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* LEV_OPT_REUSEABLE's job, done here so we can bind first: a server that closed first
	 * leaves TIME_WAIT connections on its port, and must still be able to restart. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		goto fail;
	sslen = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	li->port = ntohs(fam == AF_INET ? s4->sin_port : s6->sin6_port);
	conn_addr_str((struct sockaddr *)&ss, li->addr_s, sizeof(li->addr_s));
	/* listen() here: libevent takes a backlog of 0 to mean "already listening", and 0 is a
	 * backlog a class may want (--backlog 0: one connection may wait). */
	if (listen(fd, opt.backlog) == -1)
		goto fail;
	li->lev = evconnlistener_new(base, accept_cb, li, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (li->lev == NULL)
		goto fail;
	evconnlistener_set_error_cb(li->lev, accept_error_cb);
	li->pause = evtimer_new(base, unpause_cb, li);
	if (opt.accept_delay_ms > 0) {
		li->resume = evtimer_new(base, resume_cb, li);
		li->ready = event_new(base, fd, EV_READ, ready_cb, li);
		if (li->resume == NULL || li->ready == NULL)
			die("cannot create the --accept-delay events");
		evconnlistener_disable(li->lev);
		event_add(li->ready, NULL);
	}
	return li->port;
fail:
	{
		int e = errno;
		char where[80];

		if (fam == AF_INET6)
			snprintf(where, sizeof(where), "[%s]:%d", addr, port);
		else
			snprintf(where, sizeof(where), "%s:%d", addr, port);
		if (e == EADDRINUSE)
			snprintf(err, errlen, "cannot listen on %s: port %d is already in use "
			    "(another server running? choose another port, or 0 to let the kernel "
			    "pick)", where, port);
		else if (e == EACCES)
			snprintf(err, errlen, "cannot listen on %s: %s (ports below 1024 need "
			    "privileges; choose a port above 1023)", where, strerror(e));
		else
			snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(e));
		if (fd != -1)
			close(fd);
		errno = e;
	}
	return -1;
}

static void
log_listen(const struct listener *li, const char *certfile)
{
	struct evrec r;
	int fd = evconnlistener_get_fd(li->lev);

	if (!evrec_begin(&r, EVT_LISTEN, 0, fd))
		return;
	evrec_str(&r, "kind", kind_names[li->kind]);
	if (li->sc != NULL) {
		evrec_str(&r, "scenario", li->sc->name);
		evrec_int(&r, "expected", li->sc->expected);
	}
	evrec_str(&r, "addr", li->addr_s);
	evrec_int(&r, "port", li->port);
	evrec_str(&r, "cert", certfile ? certfile : "");
	evrec_detail(&r, "%-10s %s%s%s", li->sc ? li->sc->name : kind_names[li->kind], li->addr_s,
	    certfile ? "  cert " : "", certfile ? certfile : "");
	evrec_gloss(&r, "listen(): the kernel now answers SYNs on this port and queues finished "
	    "handshakes until accept()");
	evrec_emit(&r);
}

static int
is_default_ipv6_missing(int e, const char *addr)
{
	return opt.nbinds == 0 && strcmp(addr, "::1") == 0 &&
	    (e == EADDRNOTAVAIL || e == EAFNOSUPPORT);
}

/* Listen for one service on every bind address. With port 0 the first address gets a
 * kernel-picked port and the others reuse it, so one port number reaches the service on
 * every address. Returns the port, or 0 if no address could be used (dies on real errors). */
static int
bind_service(enum kind k, SSL_CTX *ctx, struct scenario *sc, int port,
    const char *const *binds, int nb)
{
	static int warned;
	char err[512];
	int b, p, bound = 0;

	for (b = 0; b < nb; b++) {
		struct listener *li;

		if (nlisteners == MAX_LISTENERS)
			die("too many listeners (at most %d)", MAX_LISTENERS);
		li = &listeners[nlisteners];
		li->kind = k;
		li->ctx = ctx;
		li->sc = sc;
		p = open_listener(li, binds[b], port, err, sizeof(err));
		if (p == -1) {
			if (is_default_ipv6_missing(errno, binds[b])) {
				if (!warned++) {
					evlog(EVT_WARNING, 0, -1, "::1 is not available here (no "
					    "IPv6 loopback); listening on 127.0.0.1 only");
					fprintf(stderr, "server: warning: ::1 is not available; "
					    "listening on 127.0.0.1 only\n");
				}
				continue;
			}
			die("%s", err);
		}
		port = bound = p;
		nlisteners++;
	}
	return bound;
}

/* ---- start and stop ---- */

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval bound = { 3, 0 };
	int i;

	(void)what;
	(void)arg;
	if (stopping) {
		evlog(EVT_STOP, 0, -1, "second signal: stopping now");
		event_base_loopbreak(base);
		return;
	}
	stopping = 1;
	evlog(EVT_STOP, 0, -1, "%s: no new connections; closing %d open connection(s)",
	    sig == SIGINT ? "SIGINT" : "SIGTERM", conn_count());
	for (i = 0; i < nlisteners; i++) {
		evconnlistener_free(listeners[i].lev);
		listeners[i].lev = NULL;
		if (listeners[i].resume)
			evtimer_del(listeners[i].resume);
		if (listeners[i].ready)
			event_del(listeners[i].ready);
		if (listeners[i].pause)
			event_del(listeners[i].pause);
	}
	conn_close_all("server stopping", 0);
	if (conn_count() == 0)
		event_base_loopexit(base, NULL);
	else
		event_base_loopexit(base, &bound);
}

static const char *
default_certs_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (access("certs/out", F_OK) == 0)
		return "certs/out";
	/* Run from elsewhere: look beside the binary (build/server -> certs/out). */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%.*s/../certs/out", (int)(sizeof(dir) - 20), exe);
			if (access(dir, F_OK) == 0)
				return dir;
		}
	}
	return "certs/out";
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bind",		required_argument, NULL, 'b' },
		{ "http-port",		required_argument, NULL, 1 },
		{ "https-port",		required_argument, NULL, 2 },
		{ "selfsigned-port",	required_argument, NULL, 3 },
		{ "certs",		required_argument, NULL, 4 },
		{ "cert",		required_argument, NULL, 5 },
		{ "key",		required_argument, NULL, 6 },
		{ "log-format",		required_argument, NULL, 7 },
		{ "color",		required_argument, NULL, 8 },
		{ "idle-timeout",	required_argument, NULL, 9 },
		{ "close-first",	required_argument, NULL, 10 },
		{ "hold-close",		required_argument, NULL, 11 },
		{ "abort",		no_argument,	   NULL, 12 },
		{ "linger-watch",	required_argument, NULL, 13 },
		{ "accept-delay",	required_argument, NULL, 14 },
		{ "backlog",		required_argument, NULL, 15 },
		{ "capture",		no_argument,	   NULL, 16 },
		{ "wire",		no_argument,	   NULL, 40 },
		{ "explain",		no_argument,	   NULL, 41 },
		{ "lang",		required_argument, NULL, 42 },
		{ "client-auth",	required_argument, NULL, 17 },
		{ "client-ca",		required_argument, NULL, 18 },
		{ "gallery",		no_argument,	   NULL, 19 },
		{ "gallery-base",	required_argument, NULL, 20 },
		{ "rsa-port",		required_argument, NULL, 21 },
		{ "groups",		required_argument, NULL, 23 },
		{ "dissect",		no_argument,	   NULL, 24 },
		{ "header-timeout",	required_argument, NULL, 25 },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const default_binds[] = { "127.0.0.1", "::1" };
	char path[K_LAST][2][PATH_MAX], err[512];
	const char *const *binds;
	struct event *sigint, *sigterm;
	struct tls_opts to;
	SSL_CTX *ctxs[K_LAST] = { NULL }, *gctx[GALLERY_MAX] = { NULL };
	int ch, nb, k, bound_any, i, port;
	long v;

	while ((ch = getopt_long(argc, argv, "b:qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (opt.nbinds == MAX_BINDS)
				die_usage("too many --bind addresses (at most 8)%s", "");
			if (url_ip_literal(optarg) == 0)
				die_usage("--bind: '%s' is not an IPv4 or IPv6 address", optarg);
			opt.binds[opt.nbinds++] = optarg;
			break;
		case 1: case 2: case 3: case 21:
			if ((port = url_parse_port(optarg, 1)) == -1)
				die_usage("bad port '%s' (a number 0-65535, 0 = any free port, or "
				    "'off')", optarg);
			opt.port[ch == 21 ? K_RSA : ch - 1] = port;
			break;
		case 4: opt.certs_dir = optarg; break;
		case 5: opt.cert = optarg; break;
		case 6: opt.key = optarg; break;
		case 7:
			if ((v = evlog_parse_format(optarg)) == -1)
				die_usage("--log-format: '%s' is not text or json", optarg);
			opt.format = (enum evlog_format)v;
			break;
		case 8:
			if ((opt.color = evlog_parse_color(optarg)) == -2)
				die_usage("--color: '%s' is not auto, always or never", optarg);
			break;
		case 9:
			opt.idle_ms = parse_num("--idle-timeout: '%s' is not a number of seconds "
			    "(1-3600)", optarg, 1, 3600) * 1000;
			break;
		case 10:
			if ((opt.server_closes_first = url_parse_closer(optarg)) == -1)
				die_usage("--close-first: '%s' is not client or server", optarg);
			break;
		case 11:
			opt.hold_close_ms = parse_num("--hold-close: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 0, 60000);
			break;
		case 12: opt.abort = 1; break;
		case 13:
			opt.linger_ms = parse_num("--linger-watch: '%s' is not a number of seconds "
			    "(0-120)", optarg, 0, 120) * 1000;
			break;
		case 14:
			opt.accept_delay_ms = parse_num("--accept-delay: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 0, 60000);
			break;
		case 15:
			opt.backlog = parse_num("--backlog: '%s' is not a number (0-4096)", optarg,
			    0, 4096);
			break;
		case 16: opt.capture = 1; break;
		case 40:	/* --wire implies --capture (2: not given itself) */
			opt.wire = 1;
			if (!opt.capture)
				opt.capture = 2;
			break;
		case 41: opt.explain = 1; break;
		case 42:
			if ((opt.lang = evlog_parse_lang(optarg)) == -1)
				die_usage("--lang: '%s' is not en or zh", optarg);
			break;
		case 17:
			if (strcmp(optarg, "optional") == 0)
				opt.client_auth = TLS_CLIENT_AUTH_OPTIONAL;
			else if (strcmp(optarg, "require") == 0)
				opt.client_auth = TLS_CLIENT_AUTH_REQUIRE;
			else if (strcmp(optarg, "none") == 0)
				opt.client_auth = TLS_CLIENT_AUTH_NONE;
			else
				die_usage("--client-auth: '%s' is not none, optional or require",
				    optarg);
			break;
		case 18: opt.client_ca = optarg; break;
		case 19: opt.gallery = 1; break;
		case 20:
			opt.gallery_base = parse_num("--gallery-base: '%s' is not a port (0 lets the "
			    "kernel pick each one)", optarg, 0, 65535 - GALLERY_MAX);
			break;
		case 23:
			if (tls_check_groups(optarg, err, sizeof(err)) == -1)
				die_usage("%s", err);
			opt.groups = optarg;
			break;
		case 24: opt.dissect = 1; break;
		case 25:
			opt.header_ms = parse_num("--header-timeout: '%s' is not a number of "
			    "seconds (1-3600)", optarg, 1, 3600) * 1000;
			break;
		case 'q': opt.quiet = 1; break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "(see 'server --help')\n");
			return 2;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if ((opt.cert == NULL) != (opt.key == NULL))
		die_usage("--cert and --key go together%s", "");
	if (opt.client_auth != TLS_CLIENT_AUTH_NONE && opt.client_ca == NULL)
		die_usage("--client-auth needs --client-ca FILE (the CA that signs the client "
		    "certificates, e.g. certs/out/ca.crt)%s", "");

	signal(SIGPIPE, SIG_IGN);	/* a peer that resets mid-response must not kill us */
	raise_fd_limit();
	evlog_init(EVLOG_SERVER, opt.format, opt.quiet, opt.color, stdout);
	evlog_set_verbose(opt.verbose);
	evlog_set_explain(opt.explain, opt.lang);
	seglog_wire(opt.wire);
	tcpwatch_set_linger(opt.linger_ms >= 0 ? opt.linger_ms :
	    isatty(STDOUT_FILENO) ? 3000 : 0);

	if (opt.certs_dir == NULL)
		opt.certs_dir = default_certs_dir();
	snprintf(path[K_HTTPS][0], PATH_MAX, "%s", opt.cert ? opt.cert : "");
	snprintf(path[K_HTTPS][1], PATH_MAX, "%s", opt.key ? opt.key : "");
	if (opt.cert == NULL) {
		snprintf(path[K_HTTPS][0], PATH_MAX, "%s/server.crt", opt.certs_dir);
		snprintf(path[K_HTTPS][1], PATH_MAX, "%s/server.key", opt.certs_dir);
	}
	snprintf(path[K_SELFSIGNED][0], PATH_MAX, "%s/selfsigned.crt", opt.certs_dir);
	snprintf(path[K_SELFSIGNED][1], PATH_MAX, "%s/selfsigned.key", opt.certs_dir);
	snprintf(path[K_RSA][0], PATH_MAX, "%s/server-rsa.crt", opt.certs_dir);
	snprintf(path[K_RSA][1], PATH_MAX, "%s/server-rsa.key", opt.certs_dir);

	if ((base = new_base()) == NULL)
		die("cannot create the event loop");
	evlog_set_base(base);
	/* Before the first listen event: whoever reads it may stop us at once. */
	sigint = evsignal_new(base, SIGINT, stop_cb, NULL);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, NULL);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) == -1 ||
	    evsignal_add(sigterm, NULL) == -1)
		die("cannot install the signal handlers");
	binds = opt.nbinds ? (const char *const *)opt.binds : default_binds;
	nb = opt.nbinds ? opt.nbinds : 2;
	if (opt.gallery) {
		char gdir[PATH_MAX];

		snprintf(gdir, sizeof(gdir), "%s/gallery", opt.certs_dir);
		if ((nscenarios = gallery_load(gdir, scenarios, GALLERY_MAX, err, sizeof(err))) < 0)
			die("%s", err);
	}
	/* Load every certificate before opening any port, so a bad file fails fast. */
	for (k = K_HTTPS; k < K_GALLERY; k++) {
		if (opt.port[k] == -2)
			continue;
		memset(&to, 0, sizeof(to));
		to.cert = path[k][0];
		to.key = path[k][1];
		to.client_auth = opt.client_auth;
		to.client_ca = opt.client_ca;
		to.groups = opt.groups;
		to.dissect = opt.dissect;
		if ((ctxs[k] = tls_ctx_server(&to, err, sizeof(err))) == NULL)
			die("%s (--%s-port needs it; or turn it off with --%s-port off)", err,
			    kind_names[k], kind_names[k]);
	}
	bound_any = 0;
	for (k = 0; k < K_GALLERY; k++)
		if (opt.port[k] != -2)
			bound_any |= bind_service(k, ctxs[k], NULL, opt.port[k], binds, nb) > 0;
	for (i = 0; i < nscenarios; i++) {
		struct scenario *sc = &scenarios[i];

		memset(&to, 0, sizeof(to));
		to.cert = sc->chain;
		to.key = sc->key;
		to.weak_ok = sc->weak;
		to.groups = opt.groups;
		to.dissect = opt.dissect;
		if ((gctx[i] = tls_ctx_server(&to, err, sizeof(err))) == NULL)
			die("gallery scenario %s: %s (remake it: certs/make-certs.sh --gallery)",
			    sc->name, err);
		sc->port = bind_service(K_GALLERY, gctx[i], sc, opt.gallery_base ?
		    opt.gallery_base + i : 0, binds, nb);
		bound_any |= sc->port > 0;
	}
	if (!bound_any)
		die("nothing to listen on: every port is off");
	if (opt.capture) {
		char filter[2048] = "";
		size_t l;

		for (i = 0; i < nlisteners; i++) {
			if (i > 0 && listeners[i].port == listeners[i - 1].port)
				continue;
			l = strlen(filter);
			snprintf(filter + l, sizeof(filter) - l, "%stcp port %d", l ? " or " : "",
			    listeners[i].port);
		}
		/* One plain line on standard error; the log (standard output) gets the event. */
		if (seglog_open(base, filter, err, sizeof(err)) == -1) {
			fprintf(stderr, "server: %s; going on without %s\n", err,
			    seglog_flags(opt.capture == 1));
			evlog(EVT_WARNING, 0, -1, "%s; going on without %s", err,
			    seglog_flags(opt.capture == 1));
		}
	}
	/* The listen events come last: whoever reads them may connect at once, and the capture
	 * must already be running to see that SYN. */
	for (i = 0; i < nlisteners; i++)
		log_listen(&listeners[i], listeners[i].kind == K_HTTP ? NULL :
		    listeners[i].sc ? listeners[i].sc->chain : path[listeners[i].kind][0]);
	if (nscenarios > 0)
		evlog(EVT_START, 0, -1, "gallery: try build/client --cacert %s/gallery/trust.pem "
		    "(and --crlfile %s/gallery/crl.pem) https://localhost:PORT/", opt.certs_dir,
		    opt.certs_dir);
	for (i = 0; i < nscenarios; i++) {
		struct evrec r;

		if (!evrec_begin(&r, EVT_START, 0, -1))
			break;
		evrec_str(&r, "scenario", scenarios[i].name);
		evrec_int(&r, "port", scenarios[i].port);
		evrec_int(&r, "expected", scenarios[i].expected);
		if (scenarios[i].expected)
			evrec_detail(&r, "gallery %-17s https://localhost:%-5d  expect: error %d "
			    "(%s)%s", scenarios[i].name, scenarios[i].port, scenarios[i].expected,
			    X509_verify_cert_error_string(scenarios[i].expected),
			    scenarios[i].crl ? " with --crlfile" : "");
		else
			evrec_detail(&r, "gallery %-17s https://localhost:%-5d  expect: trusted",
			    scenarios[i].name, scenarios[i].port);
		evrec_emit(&r);
	}
	for (i = 0; i < nlisteners; i++)
		if (listeners[i].kind != K_GALLERY &&
		    (i == 0 || listeners[i].kind != listeners[i - 1].kind)) {
			const struct listener *li = &listeners[i];
			char cafile[PATH_MAX];

			snprintf(cafile, sizeof(cafile), "%s/ca.crt", opt.certs_dir);
			if (li->kind == K_HTTP)
				evlog(EVT_START, 0, -1, "try: build/client http://localhost:%d/",
				    li->port);
			else if (li->kind == K_HTTPS && opt.client_auth != TLS_CLIENT_AUTH_NONE)
				evlog(EVT_START, 0, -1, "try: build/client --cacert %s --cert "
				    "%s/client.crt --key %s/client.key https://localhost:%d/", cafile,
				    opt.certs_dir, opt.certs_dir, li->port);
			else if (li->kind == K_HTTPS)
				evlog(EVT_START, 0, -1, "try: build/client --cacert %s "
				    "https://localhost:%d/", cafile, li->port);
			else if (li->kind == K_RSA)
				evlog(EVT_START, 0, -1, "try: build/client --cacert %s --tls-max 1.2 "
				    "--kx rsa https://localhost:%d/  (RSA key transport)", cafile,
				    li->port);
			else
				evlog(EVT_START, 0, -1, "try: build/client https://localhost:%d/  "
				    "(self-signed: expect the trust warning)", li->port);
		}

	event_base_dispatch(base);

	conn_close_all("server stopped before the close finished", 1);
	tcpwatch_stop_all();
	seglog_close();
	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].lev)
			evconnlistener_free(listeners[i].lev);
		if (listeners[i].resume)
			event_free(listeners[i].resume);
		if (listeners[i].ready)
			event_free(listeners[i].ready);
		if (listeners[i].pause)
			event_free(listeners[i].pause);
	}
	for (k = 0; k < K_LAST; k++)
		tls_ctx_free(ctxs[k]);
	for (i = 0; i < nscenarios; i++)
		tls_ctx_free(gctx[i]);
	evlog(EVT_STOP, 0, -1, "stopped");
	free(req_spare);
	evlog_set_base(NULL);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	return 0;
}
