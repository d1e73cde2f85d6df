/* main.c -- the client: fetch one URL over HTTP or HTTPS, address by address like curl, and log
 * each step; the trust prompt when the certificate check fails; curl-like exit codes. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "client.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "seglog.h"
#include "tcpwatch.h"
#include "tls.h"
#include "url.h"

/* --kx: which TLS 1.2 key exchange to offer. */
enum { KX_ANY, KX_RSA, KX_ECDHE };

/* Exit codes, curl's where curl has one. */
enum {
	EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_RESOLVE = 6, EXIT_CONNECT = 7,
	EXIT_WEIRD = 8, EXIT_PARTIAL = 18, EXIT_WRITE = 23, EXIT_TIMEOUT = 28, EXIT_TLS = 35,
	EXIT_EMPTY = 52, EXIT_RECV = 56, EXIT_UNTRUSTED = 60, EXIT_FILESIZE = 63
};

/* The largest body we take without --max-filesize: an endless body must not fill the disk. */
#define MAX_FILESIZE_DEFAULT	(100LL * 1024 * 1024)

static struct {
	const char	*url;
	const char	*cafile;
	const char	*crlfile;
	const char	*cert, *key;		/* mutual TLS */
	int		 show_certs;
	const char	*ciphers;
	const char	*keylog;
	const char	*groups;		/* --groups: key exchange groups, in order */
	int		 dissect;		/* --dissect: every field of every message */
	const char	*output;
	const char	*method;
	int		 insecure;
	int		 server_closes_first;	/* --close-first server */
	int		 hold_close_ms;		/* --hold-close: wait before our FIN when passive */
	int		 abort;			/* --abort: RST instead of FIN */
	int		 half_close;		/* --half-close: FIN right after the request */
	int		 capture;		/* --capture: libpcap on lo */
	int		 wire;			/* --wire: payloads as an eavesdropper sees them */
	int		 explain;		/* --explain: a sentence of why under each event */
	int		 lang;			/* --lang: enum evlog_lang */
	int		 pause_read_ms;		/* --pause-read: stop reading after the request */
	int		 linger_ms;		/* --linger-watch, -1: by default */
	int		 tls_min, tls_max;
	int		 kx;			/* --kx: KX_* */
	int		 requests;		/* -n: requests per connection */
	int		 reconnect;		/* --reconnect: connections in a row */
	int		 connect_timeout_ms, max_time_ms;
	long long	 max_filesize;		/* --max-filesize, 0: no limit */
	int		 quiet, verbose, color;
	enum evlog_format format;
} opt = {
	.method = "GET",
	.requests = 1,
	.reconnect = 1,
	.connect_timeout_ms = 10000,
	.max_filesize = MAX_FILESIZE_DEFAULT,
	.linger_ms = -1,
	.color = -1,
};

static struct {
	struct event_base	*base;
	struct url		 u;
	SSL_CTX			*ctx;
	struct addrinfo		*ai_list, *ai_next;
	struct conn		*c;
	struct event		*connect_timer, *max_timer, *hold_timer, *pause_timer;
	FILE			*out;
	int			 interactive;
	int			 exit_code;
	char			 error[512];
	char			 last_attempt[256];	/* why the last address failed */
	struct trust_seen	 seen;
	/* the response */
	struct http1_msg	 resp;
	int			 have_head;
	int			 done;
	uint64_t		 body_bytes;
	uint64_t		 body_left;
	struct http1_chunked	 ch;
	int			 got_bytes;
	int64_t			 t0;		/* the transfer starts: name lookup */
	int64_t			 t_request;
	/* -n and --reconnect */
	struct addrinfo		*ai_cur, *ai_ok;	/* the address being tried; the one that worked */
	int			 req_no;		/* requests sent on this connection */
	int			 conn_no;		/* connections made (1 = the first) */
	int64_t			 t_first_request;	/* on this connection */
	uint64_t		 body_start;		/* st.body_bytes when this response began */
	int			 decided;		/* the first connection's trust: 1 trusted, 2 proceed */
	struct repeat_conn	 cur;
	int64_t			 t_tcp, t_tls, t_first, t_end;
} st;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: client [options] URL\n"
"Fetch URL (http:// or https://; a name, an IPv4 address or [IPv6]) and log every step:\n"
"TCP handshake, TLS handshake and certificate check, request and response, the close.\n"
"The event log goes to standard error, the response body to standard output.\n"
"\n"
"  --cacert FILE          also trust the CA certificate(s) in FILE (PEM), e.g.\n"
"                         certs/out/ca.crt; the system's CAs are always trusted\n"
"  -k, --insecure         go on even if the certificate cannot be trusted\n"
"  --crlfile FILE         check the server's certificate against these CRLs (PEM)\n"
"  --show-certs           print the certificate chain the server presented\n"
"  --cert FILE --key FILE our own certificate and key, for a server that asks for one\n"
"                         (mutual TLS; e.g. certs/out/client.crt and client.key)\n"
"  --tls-min 1.2|1.3      lowest TLS version to offer (default: OpenSSL's)\n"
"  --tls-max 1.2|1.3      highest TLS version to offer (default 1.3)\n"
"  --kx rsa|ecdhe         TLS 1.2 key exchange to offer: rsa = static RSA key transport\n"
"                         (the textbook's; no forward secrecy; needs an RSA\n"
"                         certificate: server --rsa-port), ecdhe = ephemeral ECDH;\n"
"                         both imply --tls-max 1.2 (TLS 1.3 is always (EC)DHE)\n"
"  --ciphers LIST         TLS 1.2 cipher list (OpenSSL syntax; TLS 1.3 suites stay as\n"
"                         they are: add --tls-max 1.2), or TLS 1.3 suite names (TLS_...)\n"
"  --keylog FILE          append the TLS secrets to FILE for Wireshark (NSS key log;\n"
"                         also SSLKEYLOGFILE); FILE is created mode 0600\n"
"  --groups LIST          key exchange groups to offer, in order (e.g. X25519:P-256);\n"
"                         the key share goes only with the first: a server that wants\n"
"                         another answers with a HelloRetryRequest (one more round trip)\n"
"  --dissect              decode every field of every handshake message (versions,\n"
"                         suites, extensions, key shares, certificates) under its event\n"
"  -I, --head             send HEAD instead of GET\n"
"  -n N                   send N requests one after the other over one keep-alive\n"
"                         connection (1-1000, default 1): one handshake, N requests\n"
"  --reconnect N          make N connections one after the other (1-100), each\n"
"                         resuming the TLS session of the one before (session ticket /\n"
"                         PSK: no certificate); with -n M, M requests on each\n"
"  -o, --output FILE      write the body to FILE instead of standard output\n"
"  --close-first client|server  who sends the first FIN (default client; server: the\n"
"                         request says 'Connection: close' and the client waits)\n"
"  --hold-close MS        when the server closed first, wait MS ms before our FIN\n"
"                         (CLOSE_WAIT here, FIN_WAIT2 there, long enough to see)\n"
"  --half-close           send our FIN right after the request and still read the\n"
"                         response (plain HTTP or TLS 1.3)\n"
"  --abort                end with RST instead of FIN (SO_LINGER {1, 0}): no TIME_WAIT\n"
"  --pause-read MS        stop reading for MS ms after the request: with a large body\n"
"                         (URL ?pad=N) the window fills and the server's FIN waits:\n"
"                         FIN_WAIT1 (or LAST_ACK) becomes visible on its side\n"
"  --linger-watch SEC     after close(), follow TIME_WAIT for SEC seconds (default 3\n"
"                         on a terminal, 0 otherwise); other states are always followed\n"
"  --capture              capture our segments on lo (libpcap) and log their absolute\n"
"                         seq/ack numbers (needs root or 'setcap cap_net_raw+ep')\n"
"  --wire                 the eavesdropper's view (implies --capture): under each segment\n"
"                         with data, its bytes as anyone on the path sees them: HTTP\n"
"                         text, or for HTTPS only TLS record headers around ciphertext\n"
"  --explain              under each event, one sentence: what happens and why\n"
"  --lang en|zh           zh: also the Chinese textbook's step names (第一次握手 ...)\n"
"                         beside the English ones (default en)\n"
"  --connect-timeout SEC  give up on an address after SEC seconds (default 10)\n"
"  --max-time SEC         give up on the whole transfer after SEC seconds (default: no limit)\n"
"  --max-filesize BYTES   refuse a body larger than BYTES (default 104857600, 100 MiB;\n"
"                         0: no limit)\n"
"  --log-format text|json event log format (default text)\n"
"  --color auto|always|never  colour in the text log (default auto: on a terminal)\n"
"  -v, --verbose          also log each connection's internal phase changes\n"
"  -q, --quiet            no event log; errors still get one line\n"
"  -h, --help             this help\n"
"\n"
"When the certificate check fails, the client explains why; on a terminal it asks\n"
"'Proceed anyway? [y/N]', otherwise it refuses (unless -k).\n"
"\n"
"Exit status (curl's numbers): 0 done, 1 other failure, 2 usage, 6 cannot resolve the host, 7 cannot\n"
"connect, 8 malformed response head, 18 body cut short, 23 cannot write the output,\n"
"28 timeout, 35 TLS handshake failed, 52 empty reply, 56 connection broken while\n"
"receiving, 60 certificate not trusted, 63 body larger than --max-filesize.\n");
}

static void
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "client: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'client --help')\n");
	exit(EXIT_USAGE);
}

/* The transfer is over: remember the first failure, stop the loop. */
static void
finish(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void maybe_exit(void *);
static void body_done(struct conn *, const char *);

static void
finish(int code, const char *fmt, ...)
{
	va_list ap;

	if (st.exit_code == 0 && code != 0) {
		st.exit_code = code;
		va_start(ap, fmt);
		vsnprintf(st.error, sizeof(st.error), fmt, ap);
		va_end(ap);
	}
	st.done = 1;
	maybe_exit(NULL);
}

/* The loop ends once the transfer is over, the connection closed, and the kernel's states
 * after close() followed (tcpwatch calls this when its last watch ends). */
static void
maybe_exit(void *arg)
{
	(void)arg;
	/* After a failure nobody waits for the story of the close: exit at once. */
	if (st.done && st.c == NULL && (!tcpwatch_active() || st.exit_code != 0))
		event_base_loopexit(st.base, NULL);
}

/* A whole number from 0 to max (milliseconds or seconds, as the flag says). */
static int
parse_ms(const char *flag, const char *s, long max)
{
	long v = url_parse_number(s, 0, max);

	if (v == -1)
		die_usage(flag, s);
	return (int)v;
}

static int
parse_seconds(const char *flag, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0.001 || v > 86400)
		die_usage(flag, s);
	return (int)(v * 1000);
}

/* ---- the certificate check ---- */

static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? tls_conn(ssl) : NULL;
	X509 *cert;

	if (c == NULL)
		return ok;
	tls_verify_record(c, ok, xs);
	if ((cert = X509_STORE_CTX_get_current_cert(xs)) != NULL) {
		int d = X509_STORE_CTX_get_error_depth(xs);

		if (d >= 0 && d < TRUST_MAX_DEPTH && !(st.seen.chain_mask & (1u << d))) {
			st.seen.chain_mask |= 1u << d;
			tls_cert_info(cert, &st.seen.chain[d]);
		}
	}
	if (ok)
		return 1;
	if (!st.seen.have && (cert = X509_STORE_CTX_get_current_cert(xs)) != NULL) {
		st.seen.have = 1;
		st.seen.depth = X509_STORE_CTX_get_error_depth(xs);
		st.seen.error = X509_STORE_CTX_get_error(xs);
		tls_cert_info(cert, &st.seen.cert);
	}
	/* On a terminal (or with -k) let the handshake finish and ask afterwards; otherwise
	 * refuse inside the handshake, so the server sees our alert, as with curl. */
	return opt.insecure || st.interactive;
}

static int
peer_has_san(SSL *ssl)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	return x == NULL || X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0;
}

static void
log_hostname(struct conn *c, int checked)
{
	struct evrec r;
	const struct tls_verify_err *v;
	int i, match = 1, n = tls_verify_errors(c, &v);

	/* A refused handshake stops at its first error: the name was checked only if that
	 * error is the name's own. */
	for (i = 0; i < n; i++)
		if (v[i].depth == 0 && (v[i].error == X509_V_ERR_HOSTNAME_MISMATCH ||
		    v[i].error == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
			match = 0;
			checked = 1;
		}
	if (!evrec_begin(&r, EVT_HOSTNAME, c->id, c->fd))
		return;
	evrec_str(&r, "name", st.u.host);
	evrec_str(&r, "kind", st.u.host_is_ip ? "ip" : "dns");
	evrec_bool(&r, "checked", checked);
	evrec_bool(&r, "match", checked && match);
	if (!checked)
		evrec_detail(&r, "%s: not checked (the check stopped at an earlier error)", st.u.host);
	else
		evrec_detail(&r, "%s %s", st.u.host, match ? "matches the certificate" :
		    "is NOT in the certificate");
	if (checked && match && c->ssl != NULL && !peer_has_san(c->ssl))
		evrec_gloss(&r, "the certificate has no subjectAltName: OpenSSL (and curl) matched "
		    "the name against its CN, an old fallback; browsers refuse such certificates");
	else
		evrec_gloss(&r, "%s", st.u.host_is_ip ? "the IP address we connected to must be "
		    "among the certificate's IP SANs" : "the name we typed must be among the "
		    "certificate's DNS names (subjectAltName)");
	evrec_emit(&r);
}

static void
log_trust(struct conn *c, const char *decision, int prompted, const char *detail)
{
	struct evrec r;
	int e = tls_verify_first_error(c, NULL);

	if (!evrec_begin(&r, EVT_TRUST_DECISION, c->id, c->fd))
		return;
	evrec_str(&r, "decision", decision);
	evrec_bool(&r, "prompted", prompted);
	evrec_int(&r, "error", e);
	evrec_str(&r, "error_text", e ? X509_verify_cert_error_string(e) : "");
	if (e) {
		evrec_str(&r, "explanation", tls_verify_plain(e));
		evrec_str(&r, "advice", trust_advice(e));
	}
	evrec_detail(&r, "%s", detail);
	evrec_emit(&r);
}

/* Show the warning (framed in text mode, as fields in JSON mode, one line with -q). */
static void
warn_untrusted(struct conn *c)
{
	int e = tls_verify_first_error(c, NULL);

	/* In JSON the trust_decision event carries the explanation; with -q one line says it
	 * before the question (without a question the final error line says it). */
	if (opt.quiet && st.interactive && !opt.insecure)
		fprintf(stderr, "client: certificate of %s not trusted: %s (error %d)\n",
		    st.u.host, tls_verify_plain(e), e);
	else if (!opt.quiet && (opt.format == EVLOG_TEXT || (st.interactive && !opt.insecure)))
		/* A person about to be asked sees the explanation first, even in JSON mode. */
		trust_warn(stderr, c, &st.seen, st.u.host, evlog_color());
}

/* Returns 1 to go on with the request. */
static int
decide_trust(struct conn *c)
{
	if (c->ssl != NULL && SSL_session_reused(c->ssl) && st.decided) {
		/* No Certificate in an abbreviated handshake: nothing to check again. The
		 * session itself proves the server is the one we checked before. */
		log_trust(c, st.decided == 1 ? "trusted" : "proceed", 0, st.decided == 1 ?
		    "session resumed: no certificate this time; the server proved it holds the "
		    "session we made after checking its certificate on the first connection" :
		    "session resumed: no certificate this time; on the first connection you "
		    "chose to proceed without trust");
		return 1;
	}
	log_hostname(c, 1);
	if (tls_verify_errors(c, NULL) == 0) {
		log_trust(c, "trusted", 0, "certificate chain verified: issued by a CA we trust, in "
		    "date, for this name: no warning");
		st.decided = 1;
		return 1;
	}
	st.decided = 2;
	warn_untrusted(c);
	if (opt.insecure) {
		log_trust(c, "proceed", 0, "-k/--insecure: proceeding without trust (the traffic "
		    "is encrypted, but to whom?)");
		return 1;
	}
	/* The question blocks this program: first let our Finished reach the server, so its
	 * side of the handshake completes while the user reads. */
	conn_flush_now(c);
	if (trust_ask(stdin, stderr)) {
		log_trust(c, "proceed", 1, "you answered yes: proceeding with an untrusted "
		    "certificate");
		return 1;
	}
	log_trust(c, "refused", 1, "you answered no: closing the connection");
	return 0;
}

/* ---- the request and the response ---- */

static void
send_request(struct conn *c)
{
	char req[URL_MAX_PATH + 512], host[URL_MAX_HOST + 16];
	struct evrec r;
	int n;

	url_host_header(&st.u, host, sizeof(host));
	/* "Connection: close" asks the server to close first (--close-first server). */
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: handshake-lab"
	    "\r\nAccept: */*\r\n%s\r\n", opt.method, st.u.path, host,
	    opt.server_closes_first ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		finish(EXIT_FAIL, "request too long");
		conn_close(c, "request too long");
		return;
	}
	st.req_no++;
	st.cur.requests++;
	if (evrec_begin(&r, EVT_REQUEST, c->id, c->fd)) {
		evrec_str(&r, "method", opt.method);
		evrec_str(&r, "target", st.u.path);
		evrec_str(&r, "host", host);
		evrec_int(&r, "len", n);
		evrec_int(&r, "req", st.req_no);
		if (opt.requests > 1)
			evrec_label(&r, "> %s %s (%d/%d)", opt.method, st.u.path, st.req_no,
			    opt.requests);
		else
			evrec_label(&r, "> %s %s", opt.method, st.u.path);
		evrec_detail(&r, "HTTP/1.1  Host: %s  (%d B)", host, n);
		if (st.req_no > 1)
			evrec_gloss(&r, "request %d on the same connection (keep-alive): no new TCP "
			    "or TLS handshake", st.req_no);
		else
			evrec_gloss(&r, "%s", c->use_tls ? "the request travels inside encrypted TLS "
			    "records" : "the request travels in clear text: anyone on the path can "
			    "read it");
		evrec_emit(&r);
	}
	st.t_request = evlog_now_us();
	if (st.req_no == 1)
		st.t_first_request = st.t_request;
	conn_write(c, req, (size_t)n);
	if (opt.pause_read_ms > 0 && st.pause_timer != NULL) {
		struct timeval tv = clock_tv_ms(opt.pause_read_ms);
		struct evrec pr;

		conn_pause_read(c, 1);
		evtimer_add(st.pause_timer, &tv);
		if (evrec_begin(&pr, EVT_PAUSE_READ, c->id, c->fd)) {
			evrec_int(&pr, "ms", opt.pause_read_ms);
			evrec_detail(&pr, "not reading for %d ms (--pause-read)", opt.pause_read_ms);
			evrec_gloss(&pr, "unread data fills our receive buffer and we advertise a zero "
			    "window: the server's data, and its FIN behind it, must wait (the server "
			    "sits in FIN_WAIT1 or LAST_ACK, probing the window)");
			evrec_emit(&pr);
		}
	}
	if (opt.half_close) {
		if (c->ssl != NULL && SSL_version(c->ssl) != TLS1_3_VERSION)
			evlog(EVT_WARNING, c->id, c->fd, "--half-close needs plain HTTP or TLS 1.3: "
			    "TLS 1.2 ends the whole session at close_notify; closing normally");
		else
			conn_shutdown_write(c, "--half-close: the request is all we send");
	}
}

static void
client_ready(struct conn *c)
{
	if (st.conn_no <= 1) {
		st.t_tcp = c->t_tcp;
		st.t_tls = c->t_tls;
	}
	st.ai_ok = st.ai_cur;
	if (c->ssl != NULL) {
		st.cur.handshake_done = 1;
		st.cur.resumed = SSL_session_reused(c->ssl);
		snprintf(st.cur.version, sizeof(st.cur.version), "%s", SSL_get_version(c->ssl));
	}
	if (opt.show_certs && c->ssl != NULL)
		trust_show_chain(stderr, c->ssl);
	if (c->use_tls && !decide_trust(c)) {
		finish(EXIT_UNTRUSTED, "certificate of %s not trusted: %s", st.u.host,
		    tls_verify_plain(tls_verify_first_error(c, NULL)));
		conn_close(c, "certificate refused");
		return;
	}
	send_request(c);
}

static int
write_body(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	/* Per response, as curl's per file (-n and --reconnect fetch several). */
	if (opt.max_filesize > 0 &&
	    st.body_bytes - st.body_start + n > (uint64_t)opt.max_filesize) {
		finish(EXIT_FILESIZE, "maximum file size exceeded: the body is larger than %lld "
		    "bytes (--max-filesize)", opt.max_filesize);
		return -1;
	}
	if (fwrite(p, 1, n, st.out) != n) {
		finish(EXIT_WRITE, "cannot write the body to %s: %s", opt.output ? opt.output :
		    "standard output", strerror(errno));
		return -1;
	}
	st.body_bytes += n;
	return 0;
}

/* -n: the next request on the same connection, with a fresh response state. */
static void
next_request(struct conn *c)
{
	memset(&st.resp, 0, sizeof(st.resp));
	st.have_head = 0;
	st.body_left = 0;
	st.body_start = st.body_bytes;
	st.done = 0;
	c->t_first_byte = 0;
	send_request(c);
}

/* We stop taking the body: a refused size is ended with RST (the rest stays unread, as when
 * curl gives up), a write error with the normal close. */
static void
body_failed(struct conn *c)
{
	if (st.exit_code == EXIT_FILESIZE)
		conn_reset(c, "maximum file size exceeded: not reading the rest");
	else
		conn_close(c, "cannot write the body");
}

/* The whole response is here: log it, then (unless the server is to close first) close. */
static void
response_complete(struct conn *c, const char *how)
{
	body_done(c, how);
	st.cur.responses++;
	st.cur.requests_ms = (evlog_now_us() - st.t_first_request) / 1000.0;
	if (st.req_no < opt.requests && st.exit_code == 0) {
		if (st.resp.keep_alive && !c->half_close) {
			next_request(c);
			return;
		}
		finish(EXIT_FAIL, "the server closes the connection after request %d of %d "
		    "(Connection: close): -n needs a keep-alive server", st.req_no,
		    opt.requests);
	}
	if (opt.abort)
		conn_reset(c, "--abort: the response is complete");
	else if (!opt.server_closes_first && (st.resp.keep_alive || c->half_close))
		conn_close(c, "response complete");
}

static void
body_done(struct conn *c, const char *how)
{
	struct evrec r;

	if (fflush(st.out) != 0 || ferror(st.out))
		finish(EXIT_WRITE, "cannot write the body to %s: %s", opt.output ? opt.output :
		    "standard output", strerror(errno));
	st.done = 1;
	if (evrec_begin(&r, EVT_BODY, c->id, c->fd)) {
		uint64_t n = st.body_bytes - st.body_start;

		evrec_int(&r, "bytes", (long long)n);
		evrec_str(&r, "framing", how);
		evrec_int(&r, "req", st.req_no);
		evrec_detail(&r, "%llu B received (%s)", (unsigned long long)n, how);
		if (st.req_no < opt.requests && st.resp.keep_alive && !opt.abort)
			evrec_gloss(&r, "the whole response is here; the connection stays open for "
			    "the next request (keep-alive)");
		else if (opt.abort)
			evrec_gloss(&r, "the whole response is here; --abort: we end the connection "
			    "with RST, not FIN");
		else if (opt.server_closes_first)
			evrec_gloss(&r, "the whole response is here; we asked the server to close "
			    "first (Connection: close), so we wait for its FIN");
		else if (c->fin_received)
			evrec_gloss(&r, "the server's FIN ended the body: the server closed first");
		else if (!st.resp.keep_alive && !c->half_close)
			evrec_gloss(&r, "the whole response is here; the server said it closes "
			    "(Connection: close), so we wait for its FIN");
		else if (!c->half_close)
			evrec_gloss(&r, "the whole response is here; the client now closes first "
			    "(so the client will hold TIME_WAIT)");
		evrec_emit(&r);
	}
}

static void
log_response(struct conn *c)
{
	struct evrec r;
	const struct http1_msg *m = &st.resp;
	const char *cl = http1_header(m, "Content-Length");

	if (!evrec_begin(&r, EVT_RESPONSE, c->id, c->fd))
		return;
	evrec_int(&r, "status", m->status);
	evrec_int(&r, "length", m->body == HTTP1_BODY_LENGTH ? (long long)m->content_length :
	    m->body == HTTP1_BODY_NONE ? 0 : -1);
	evrec_str(&r, "reason", m->reason ? m->reason : "");
	evrec_strf(&r, "version", "HTTP/1.%d", m->version_minor);
	evrec_int(&r, "req", st.req_no);
	if (opt.requests > 1)
		evrec_label(&r, "< %d %s (%d/%d)", m->status, m->reason ? m->reason : "",
		    st.req_no, opt.requests);
	else
		evrec_label(&r, "< %d %s", m->status, m->reason ? m->reason : "");
	evrec_detail(&r, "HTTP/1.%d  %s", m->version_minor,
	    m->body == HTTP1_BODY_CHUNKED ? "chunked body" :
	    m->body == HTTP1_BODY_CLOSE ? "body until the server closes" :
	    m->body == HTTP1_BODY_NONE ? "no body" : cl ? "Content-Length set" : "");
	if (m->body == HTTP1_BODY_LENGTH)
		evrec_detail(&r, "HTTP/1.%d  Content-Length: %llu", m->version_minor,
		    (unsigned long long)m->content_length);
	evrec_gloss(&r, "time to first byte: %.3f ms after the request was sent",
	    (double)(c->t_first_byte - st.t_request) / 1000.0);
	evrec_emit(&r);
}

static void
client_read(struct conn *c, struct evbuffer *in)
{
	unsigned char *p;
	size_t len, n;
	int r;

	st.got_bytes = 1;
	if (st.t_first == 0)
		st.t_first = c->t_first_byte;
	while (!st.done && conn_readable(c) && (len = evbuffer_get_length(in)) > 0) {
		if (!st.have_head) {
			n = len < HTTP1_MAX_HEAD + 1 ? len : HTTP1_MAX_HEAD + 1;
			p = evbuffer_pullup(in, (ev_ssize_t)n);
			r = http1_parse(&st.resp, HTTP1_RESPONSE, (const char *)p, n,
			    strcmp(opt.method, "HEAD") == 0);
			if (r == 0)
				return;
			if (r < 0) {
				evlog(EVT_HTTP_ERROR, c->id, c->fd, "bad response: %s",
				    st.resp.error_text);
				finish(EXIT_WEIRD, "bad response from the server: %s",
				    st.resp.error_text);
				conn_close(c, "bad response");
				return;
			}
			evbuffer_drain(in, st.resp.head_len);
			st.have_head = 1;
			log_response(c);
			if (st.resp.status >= 100 && st.resp.status < 200) {
				st.have_head = 0;	/* 1xx: the real response follows */
				continue;
			}
			if (st.resp.body == HTTP1_BODY_NONE) {
				response_complete(c, "no body");
				return;
			}
			st.body_left = st.resp.content_length;
			http1_chunked_init(&st.ch);
			if (st.resp.body == HTTP1_BODY_LENGTH && opt.max_filesize > 0 &&
			    st.body_left > (uint64_t)opt.max_filesize) {
				finish(EXIT_FILESIZE, "maximum file size exceeded: the server "
				    "announces %llu bytes (Content-Length), more than %lld "
				    "(--max-filesize)", (unsigned long long)st.body_left,
				    opt.max_filesize);
				body_failed(c);
				return;
			}
			if (st.resp.body == HTTP1_BODY_LENGTH && st.body_left == 0) {
				response_complete(c, "Content-Length: 0");
				return;
			}
			continue;
		}
		if (st.resp.body == HTTP1_BODY_CHUNKED) {
			char out[16384];
			size_t outlen = sizeof(out), used = 0;

			n = len < sizeof(out) ? len : sizeof(out);
			p = evbuffer_pullup(in, (ev_ssize_t)n);
			r = http1_chunked_decode(&st.ch, (const char *)p, n, out, &outlen, &used);
			evbuffer_drain(in, used);
			if (r < 0) {
				finish(EXIT_RECV, "malformed chunked body from the server");
				conn_close(c, "malformed chunked body");
				return;
			}
			if (write_body(out, outlen) == -1) {
				body_failed(c);
				return;
			}
			if (r == 1) {
				response_complete(c, "chunked");
				return;
			}
			if (used == 0 && outlen == 0)
				return;
			continue;
		}
		n = len;
		if (st.resp.body == HTTP1_BODY_LENGTH && n > st.body_left)
			n = (size_t)st.body_left;
		p = evbuffer_pullup(in, (ev_ssize_t)n);
		if (write_body((const char *)p, n) == -1) {
			body_failed(c);
			return;
		}
		evbuffer_drain(in, n);
		if (st.resp.body == HTTP1_BODY_LENGTH) {
			st.body_left -= n;
			if (st.body_left == 0) {
				response_complete(c, "Content-Length");
				return;
			}
		}
	}
	if (conn_readable(c) && st.done)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* The server closed before we had the whole response: complete if the body was
 * close-delimited, else an empty (52) or cut (56) reply, as curl says. */
static void
server_closed_early(struct conn *c)
{
	if (st.have_head && st.resp.body == HTTP1_BODY_CLOSE)
		body_done(c, "closed by the server");
	else if (!st.got_bytes)
		finish(EXIT_EMPTY, "the server closed the connection without answering "
		    "(empty reply)");
	else if (st.have_head && st.resp.body == HTTP1_BODY_LENGTH)
		finish(EXIT_PARTIAL, "transfer closed with %llu bytes remaining to read",
		    (unsigned long long)st.body_left);
	else if (st.have_head && st.resp.body == HTTP1_BODY_CHUNKED)
		finish(EXIT_PARTIAL, "transfer closed with outstanding read data remaining "
		    "(the chunked body has no last chunk)");
	else
		finish(EXIT_RECV, "the server closed the connection before the response was "
		    "complete");
}

static void
client_peer_closed(struct conn *c)
{
	if (!st.done)
		server_closed_early(c);
	if (opt.abort) {
		conn_reset(c, "--abort: the server closed its side");
		return;
	}
	if (opt.hold_close_ms > 0 && st.hold_timer != NULL) {
		struct timeval tv = clock_tv_ms(opt.hold_close_ms);
		struct evrec r;

		if (evrec_begin(&r, EVT_HOLD_CLOSE, c->id, c->fd)) {
			evrec_int(&r, "ms", opt.hold_close_ms);
			evrec_detail(&r, "holding our FIN for %d ms (--hold-close)",
			    opt.hold_close_ms);
			evrec_gloss(&r, "the passive side may still have data to send: we stay in "
			    "CLOSE_WAIT, the server in FIN_WAIT2");
			evrec_emit(&r);
		}
		evtimer_add(st.hold_timer, &tv);
		return;
	}
	conn_close(c, "the server closed its side");
}

static void
pause_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (st.c != NULL) {
		evlog(EVT_PAUSE_READ, st.c->id, st.c->fd, "reading again");
		conn_pause_read(st.c, 0);
	}
}

static void
hold_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (st.c != NULL)
		conn_close(st.c, "the server closed its side (after --hold-close)");
}

static void
client_timeout(struct conn *c)
{
	finish(EXIT_TIMEOUT, "timed out waiting for the server");
	conn_close(c, "timeout");
}

static void try_next_address(void);
static void next_address_cb(evutil_socket_t, short, void *);

/* This connection's figures for the summary (-n, --reconnect). */
static void
record_conn(struct conn *c)
{
	st.cur.conn_id = c->id;
	st.cur.tls = c->use_tls;
	st.cur.connect_ms = c->t_tcp ? (c->t_tcp - c->t_start) / 1000.0 : 0;
	st.cur.handshake_ms = c->t_tls && c->t_tcp ? (c->t_tls - c->t_tcp) / 1000.0 : 0;
	st.cur.total_ms = (evlog_now_us() - c->t_start) / 1000.0;
	repeat_record(&st.cur);
	memset(&st.cur, 0, sizeof(st.cur));
}

/* --reconnect: the next connection, to the address that worked, after the last one has
 * gone (not from inside its closed callback). */
static void
reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (st.exit_code != 0)
		return;
	st.conn_no++;
	memset(&st.resp, 0, sizeof(st.resp));
	st.have_head = 0;
	st.body_left = 0;
	st.body_start = st.body_bytes;
	st.req_no = 0;
	st.done = 0;
	st.got_bytes = 0;
	st.last_attempt[0] = '\0';
	st.ai_next = st.ai_ok;
	try_next_address();
}

static void
client_closed(struct conn *c)
{
	int e;

	st.t_end = evlog_now_us();
	if (st.conn_no <= 1) {
		st.t_tcp = c->t_tcp;
		st.t_tls = c->t_tls;
	}
	if (st.c == c)
		st.c = NULL;
	if (st.connect_timer)
		evtimer_del(st.connect_timer);
	if (st.hold_timer)
		evtimer_del(st.hold_timer);
	if (c->error == CONN_OK && !st.done) {
		/* Closed cleanly before the response was whole (e.g. after a half-close). */
		server_closed_early(c);
	}
	if (c->t_tcp != 0)
		record_conn(c);
	if (st.done && st.exit_code == 0 && st.conn_no < opt.reconnect && st.ai_ok != NULL) {
		if (event_base_once(st.base, -1, EV_TIMEOUT, reconnect_cb, NULL, NULL) == 0)
			return;
		finish(EXIT_FAIL, "cannot start connection %d of %d (--reconnect): out of "
		    "memory", st.conn_no + 1, opt.reconnect);
		return;
	}
	if (c->error == CONN_OK || st.done) {
		st.done = 1;
		maybe_exit(NULL);
		return;
	}
	switch (c->error) {
	case CONN_ERR_REFUSED:
	case CONN_ERR_CONNECT:
	case CONN_ERR_TIMEOUT:
		if (c->error_phase == PHASE_CONNECTING) {
			snprintf(st.last_attempt, sizeof(st.last_attempt), "%s", conn_error_text(c));
			/* Not from inside this callback: a failure can come from within
			 * conn_connect() itself (connect() failing at once). */
			if (event_base_once(st.base, -1, EV_TIMEOUT, next_address_cb, NULL,
			    NULL) == 0)
				return;
			finish(EXIT_FAIL, "cannot try the next address: out of memory");
			return;
		}
		finish(c->error == CONN_ERR_TIMEOUT ? EXIT_TIMEOUT : EXIT_RECV, "%s",
		    conn_error_text(c));
		return;
	case CONN_ERR_TLS:
		if (c->error_phase == PHASE_TLS_HANDSHAKE &&
		    (e = tls_verify_first_error(c, NULL)) != 0 && !opt.insecure) {
			finish(EXIT_UNTRUSTED, "certificate of %s not trusted: %s (error %d)",
			    st.u.host, tls_verify_plain(e), e);
			return;
		}
		if (tls_alert_received(c) == 116) {
			/* TLS 1.3: our side of the handshake was done; the refusal comes on the
			 * first read. curl exits 56 here; it is a handshake failure, so 35. */
			finish(EXIT_TLS, "the server requires a client certificate (TLS alert "
			    "certificate_required, 116): pass --cert FILE --key FILE");
			return;
		}
		if (tls_alert_received(c) == 40 && opt.groups != NULL) {
			finish(EXIT_TLS, "the server ended the TLS session with alert "
			    "handshake_failure (40): most likely it accepts none of the key "
			    "exchange groups we offered (--groups %s)", opt.groups);
			return;
		}
		if (tls_alert_received(c) == 40 && opt.kx == KX_RSA) {
			finish(EXIT_TLS, "the server ended the TLS session with alert "
			    "handshake_failure (40): static RSA key transport (--kx rsa) needs an "
			    "RSA certificate; ours is an ECDSA one at the default ports: try the "
			    "server's --rsa-port");
			return;
		}
		if (tls_alert_received(c) >= 0) {
			finish(EXIT_TLS, "the server ended the TLS session with alert %s (%d)",
			    tls_alert_name(tls_alert_received(c)), tls_alert_received(c));
			return;
		}
		finish(c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS : EXIT_RECV,
		    "%s with %s", c->error_phase == PHASE_TLS_HANDSHAKE ?
		    "TLS handshake failed" : "TLS error", conn_remote_str(c));
		return;
	case CONN_ERR_RESET:
		finish(c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS : EXIT_RECV,
		    "connection reset by %s", conn_remote_str(c));
		return;
	default:
		finish(c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS :
		    st.got_bytes ? EXIT_RECV : EXIT_EMPTY, "%s", conn_error_text(c)[0] ?
		    conn_error_text(c) : "connection failed");
		return;
	}
}

/* A failure, before the connection's closed event: explain a refused certificate. */
static void
client_failed(struct conn *c)
{
	/* Refused inside the handshake (not a terminal); after the prompt it is something else. */
	if (opt.show_certs && c->ssl != NULL && c->error_phase == PHASE_TLS_HANDSHAKE)
		trust_show_chain(stderr, c->ssl);
	if (c->error == CONN_ERR_TLS && c->error_phase == PHASE_TLS_HANDSHAKE &&
	    tls_verify_first_error(c, NULL) != 0 && !opt.insecure) {
		log_hostname(c, 0);
		warn_untrusted(c);
		log_trust(c, "refused", 0, "not a terminal, so no question: refusing the "
		    "untrusted certificate (use --cacert FILE to trust its CA, or -k)");
	}
}

static const struct conn_ops client_ops = {
	.failed = client_failed,
	.ready = client_ready,
	.read = client_read,
	.peer_closed = client_peer_closed,
	.timeout = client_timeout,
	.closed = client_closed,
};

/* ---- connecting, address by address ---- */

static SSL *
new_ssl(void)
{
	SSL *ssl;

	if ((ssl = SSL_new(st.ctx)) == NULL)
		return NULL;
	/* --reconnect: offer the session of the connection before (ticket / PSK). */
	if (st.conn_no > 1)
		repeat_offer_session(ssl);
	if (!st.u.host_is_ip) {
		/* SNI goes only with names; the name check is done by OpenSSL itself. */
		SSL_set_tlsext_host_name(ssl, st.u.host);
		SSL_set1_host(ssl, st.u.host);
	} else
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), st.u.host);
	return ssl;
}

static void
connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (st.c != NULL && st.c->phase == PHASE_CONNECTING) {
		char msg[CONN_ERROR_TEXT_LEN];

		snprintf(msg, sizeof(msg), "connect to %s: no answer within %d ms "
		    "(--connect-timeout)", conn_remote_str(st.c), opt.connect_timeout_ms);
		conn_abort(st.c, CONN_ERR_TIMEOUT, msg);
	}
}

static void
max_time_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	finish(EXIT_TIMEOUT, "the transfer took longer than %d ms (--max-time)",
	    opt.max_time_ms);
	if (st.c != NULL)
		conn_abort(st.c, CONN_ERR_TIMEOUT, "--max-time reached");
}

static void
next_address_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	try_next_address();
}

static void
try_next_address(void)
{
	struct addrinfo *ai;
	struct timeval tv;
	SSL *ssl = NULL;

	while ((ai = st.ai_next) != NULL) {
		st.ai_next = ai->ai_next;
		st.ai_cur = ai;
		if (st.u.tls && (ssl = new_ssl()) == NULL) {
			finish(EXIT_FAIL, "cannot create a TLS session");
			return;
		}
		memset(&st.seen, 0, sizeof(st.seen));
		st.c = conn_connect(st.base, ai->ai_addr, ai->ai_addrlen, ssl, &client_ops, NULL);
		if (st.c == NULL)
			return;		/* it failed at once: client_closed() goes on */
		/* curl's --connect-timeout covers the TLS handshake too. */
		conn_set_handshake_timeout(st.c, opt.connect_timeout_ms);
		tv = clock_tv_ms(opt.connect_timeout_ms);
		evtimer_add(st.connect_timer, &tv);
		return;
	}
	if (st.last_attempt[0] && strstr(st.last_attempt, "--connect-timeout") != NULL)
		finish(EXIT_TIMEOUT, "%s", st.last_attempt);
	else
		finish(EXIT_CONNECT, "cannot connect to %s port %d (%s)", st.u.host, st.u.port,
		    st.last_attempt[0] ? st.last_attempt : "no address worked");
}

static int
resolve(void)
{
	struct addrinfo hints;
	char port[8], list[512] = "", a[64];
	struct addrinfo *ai;
	struct evrec r;
	size_t l;
	int e, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (st.u.host_is_ip)
		hints.ai_flags = AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%d", st.u.port);
	if ((e = getaddrinfo(st.u.host, port, &hints, &st.ai_list)) != 0) {
		finish(EXIT_RESOLVE, "cannot resolve host '%s': %s", st.u.host, gai_strerror(e));
		return -1;
	}
	for (ai = st.ai_list; ai != NULL; ai = ai->ai_next, n++) {
		conn_addr_str(ai->ai_addr, a, sizeof(a));
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", a);
	}
	if (evrec_begin(&r, EVT_RESOLVE, 0, -1)) {
		evrec_str(&r, "host", st.u.host);
		evrec_str(&r, "addresses", list);
		evrec_int(&r, "count", n);
		evrec_detail(&r, "%s -> %s", st.u.host, list);
		if (n > 1)
			evrec_gloss(&r, "%d addresses: tried one after the other, like curl", n);
		evrec_emit(&r);
	}
	st.ai_next = st.ai_list;
	return 0;
}

static void
log_timing(void)
{
	struct evrec r;
	/* Like curl -w: from the start of the transfer (name lookup), not of the program, whose
	 * first milliseconds go on loading the system's trust store. 0: the step never ended. */
	double tcp = st.t_tcp ? (st.t_tcp - st.t0) / 1000.0 : 0,
	    tls = st.t_tls ? (st.t_tls - st.t0) / 1000.0 : 0,
	    first = st.t_first ? (st.t_first - st.t0) / 1000.0 : 0,
	    total = (st.t_end - st.t0) / 1000.0;

	if (!evrec_begin(&r, EVT_TIMING, 0, -1))
		return;
	evrec_float(&r, "time_connect_ms", tcp);
	evrec_float(&r, "time_appconnect_ms", tls);
	evrec_float(&r, "time_starttransfer_ms", first);
	evrec_float(&r, "time_total_ms", total);
	evrec_int(&r, "body_bytes", (long long)st.body_bytes);
	evrec_int(&r, "exit", st.exit_code);
	evrec_detail(&r, "TCP connect %.3f ms, TLS handshake done %.3f ms, first byte %.3f ms, "
	    "total %.3f ms", tcp, tls, first, total);
	evrec_gloss(&r, "curl -w: time_connect, time_appconnect, time_starttransfer, "
	    "time_total, all counted from the name lookup");
	evrec_emit(&r);
}

/* The TLS flags with an http:// URL: no TLS, so they do nothing; say so (curl ignores them
 * silently). */
static void
warn_tls_flags(void)
{
	const struct { int given; const char *flag; } f[] = {
		{ opt.tls_min != 0, "--tls-min" }, { opt.tls_max != 0, "--tls-max" },
		{ opt.kx != KX_ANY, "--kx" }, { opt.ciphers != NULL, "--ciphers" },
		{ opt.groups != NULL, "--groups" }, { opt.dissect, "--dissect" },
	};
	size_t i;

	if (st.u.tls)
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].given)
			evlog(EVT_WARNING, 0, -1, "%s has no effect on http://: plain HTTP has no "
			    "TLS handshake", f[i].flag);
}

/* Why --kx means TLS 1.2 at most. */
static const char *
kx_why_12(void)
{
	return opt.kx == KX_RSA ? "TLS 1.3 has no RSA key transport (it was removed for lack of "
	    "forward secrecy)" : "--kx picks a TLS 1.2 key exchange, and TLS 1.3 has no choice "
	    "to make (it always uses (EC)DHE)";
}

/* --kx, -n and --reconnect against the other flags. */
static void
check_variants(void)
{
	char msg[256];

	if (opt.kx != KX_ANY && opt.ciphers != NULL)
		die_usage("--kx and --ciphers do not go together: --kx picks the TLS 1.2 cipher "
		    "suites itself%s", "");
	/* --kx chooses among TLS 1.2 key exchanges: TLS 1.3 has its own ((EC)DHE always). */
	if (opt.kx != KX_ANY && (opt.tls_min == TLS1_3_VERSION || opt.tls_max == TLS1_3_VERSION)) {
		snprintf(msg, sizeof(msg), "--kx %s and --tls-%s 1.3 do not go together: %s; %s",
		    opt.kx == KX_RSA ? "rsa" : "ecdhe", opt.tls_min == TLS1_3_VERSION ? "min" :
		    "max", kx_why_12(), opt.tls_min == TLS1_3_VERSION ? "leave --tls-min out" :
		    "use --tls-max 1.2 or leave --tls-max out");
		die_usage("%s", msg);
	}
	if (opt.requests > 1 && opt.server_closes_first)
		die_usage("-n needs a keep-alive connection; --close-first server asks the server "
		    "to close after the first response%s", "");
	if (opt.requests > 1 && opt.half_close)
		die_usage("-n and --half-close do not go together: after our FIN we cannot send the "
		    "next request%s", "");
}

/* --kx: the TLS 1.2 cipher suites that use this key exchange (AEAD ones only). */
static const char *
kx_ciphers(void)
{
	switch (opt.kx) {
	case KX_RSA:	return "kRSA+AESGCM";
	case KX_ECDHE:	return "kECDHE+AESGCM:kECDHE+CHACHA20";
	default:	return NULL;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cacert",		required_argument, NULL, 1 },
		{ "insecure",		no_argument,	   NULL, 'k' },
		{ "tls-min",		required_argument, NULL, 2 },
		{ "tls-max",		required_argument, NULL, 3 },
		{ "ciphers",		required_argument, NULL, 4 },
		{ "keylog",		required_argument, NULL, 5 },
		{ "output",		required_argument, NULL, 'o' },
		{ "head",		no_argument,	   NULL, 'I' },
		{ "connect-timeout",	required_argument, NULL, 6 },
		{ "max-time",		required_argument, NULL, 7 },
		{ "log-format",		required_argument, NULL, 8 },
		{ "close-first",	required_argument, NULL, 10 },
		{ "hold-close",		required_argument, NULL, 11 },
		{ "abort",		no_argument,	   NULL, 12 },
		{ "half-close",		no_argument,	   NULL, 13 },
		{ "linger-watch",	required_argument, NULL, 14 },
		{ "capture",		no_argument,	   NULL, 15 },
		{ "wire",		no_argument,	   NULL, 40 },
		{ "explain",		no_argument,	   NULL, 41 },
		{ "lang",		required_argument, NULL, 42 },
		{ "pause-read",		required_argument, NULL, 16 },
		{ "crlfile",		required_argument, NULL, 17 },
		{ "cert",		required_argument, NULL, 18 },
		{ "key",		required_argument, NULL, 19 },
		{ "show-certs",		no_argument,	   NULL, 20 },
		{ "kx",			required_argument, NULL, 21 },
		{ "reconnect",		required_argument, NULL, 22 },
		{ "groups",		required_argument, NULL, 23 },
		{ "dissect",		no_argument,	   NULL, 24 },
		{ "max-filesize",	required_argument, NULL, 25 },
		{ "color",		required_argument, NULL, 9 },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tls_opts to;
	char err[512];
	const char *env;
	int ch, v;

	while ((ch = getopt_long(argc, argv, "ko:Iqvhn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 1: opt.cafile = optarg; break;
		case 'k': opt.insecure = 1; break;
		case 2: case 3:
			if (tls_parse_version(optarg) == -1)
				die_usage("TLS version must be 1.2 or 1.3, not '%s'", optarg);
			if (ch == 2)
				opt.tls_min = tls_parse_version(optarg);
			else
				opt.tls_max = tls_parse_version(optarg);
			break;
		case 4: opt.ciphers = optarg; break;
		case 5: opt.keylog = optarg; break;
		case 'o': opt.output = optarg; break;
		case 'I': opt.method = "HEAD"; break;
		case 6:
			opt.connect_timeout_ms = parse_seconds("--connect-timeout: '%s' is not a "
			    "number of seconds", optarg);
			break;
		case 7:
			opt.max_time_ms = parse_seconds("--max-time: '%s' is not a number of "
			    "seconds", optarg);
			break;
		case 8:
			if ((v = evlog_parse_format(optarg)) == -1)
				die_usage("--log-format: '%s' is not text or json", optarg);
			opt.format = (enum evlog_format)v;
			break;
		case 9:
			if ((opt.color = evlog_parse_color(optarg)) == -2)
				die_usage("--color: '%s' is not auto, always or never", optarg);
			break;
		case 10:
			if ((opt.server_closes_first = url_parse_closer(optarg)) == -1)
				die_usage("--close-first: '%s' is not client or server", optarg);
			break;
		case 11:
			opt.hold_close_ms = parse_ms("--hold-close: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 60000);
			break;
		case 12: opt.abort = 1; break;
		case 13: opt.half_close = 1; break;
		case 15: opt.capture = 1; break;
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
		case 17: opt.crlfile = optarg; break;
		case 18: opt.cert = optarg; break;
		case 19: opt.key = optarg; break;
		case 20: opt.show_certs = 1; break;
		case 21:
			if (strcmp(optarg, "rsa") == 0)
				opt.kx = KX_RSA;
			else if (strcmp(optarg, "ecdhe") == 0)
				opt.kx = KX_ECDHE;
			else
				die_usage("--kx: '%s' is not rsa or ecdhe", optarg);
			break;
		case 'n':
			opt.requests = (int)url_parse_number(optarg, 1, 1000);
			if (opt.requests == -1)
				die_usage("-n: '%s' is not a number of requests (1-1000)", optarg);
			break;
		case 22:
			opt.reconnect = (int)url_parse_number(optarg, 1, REPEAT_MAX_CONNS);
			if (opt.reconnect == -1)
				die_usage("--reconnect: '%s' is not a number of connections (1-100)",
				    optarg);
			break;
		case 23:
			if (tls_check_groups(optarg, err, sizeof(err)) == -1)
				die_usage("%s", err);
			opt.groups = optarg;
			break;
		case 24: opt.dissect = 1; break;
		case 25:
			if ((opt.max_filesize = url_parse_number(optarg, 0, LONG_MAX)) == -1)
				die_usage("--max-filesize: '%s' is not a number of bytes", optarg);
			break;
		case 16:
			opt.pause_read_ms = parse_ms("--pause-read: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 60000);
			break;
		case 14:
			opt.linger_ms = parse_ms("--linger-watch: '%s' is not a number of seconds "
			    "(0-120)", optarg, 120) * 1000;
			break;
		case 'q': opt.quiet = 1; break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "(see 'client --help')\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		die_usage("no URL given (e.g. https://localhost:8443/)%s", "");
	if (optind + 1 < argc)
		die_usage("one URL at a time ('%s' is extra)", argv[optind + 1]);
	opt.url = argv[optind];
	if (url_parse(&st.u, opt.url, err, sizeof(err)) == -1)
		die_usage("bad URL: %s", err);
	if ((opt.cert == NULL) != (opt.key == NULL))
		die_usage("--cert and --key go together%s", "");
	if (opt.half_close && opt.server_closes_first)
		die_usage("--half-close and --close-first server do not go together: with "
		    "--half-close the client sends the first FIN%s", "");
	if (opt.tls_min && opt.tls_max && opt.tls_min > opt.tls_max)
		die_usage("--tls-min is above --tls-max%s", "");
	check_variants();
	if (opt.keylog == NULL && (env = secure_getenv("SSLKEYLOGFILE")) != NULL && *env)
		opt.keylog = env;

	signal(SIGPIPE, SIG_IGN);
	evlog_init(EVLOG_CLIENT, opt.format, opt.quiet, opt.color, stderr);
	evlog_set_verbose(opt.verbose);
	evlog_set_explain(opt.explain, opt.lang);
	seglog_wire(opt.wire);
	warn_tls_flags();
	st.interactive = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	/* Following TIME_WAIT is for a person watching: a few seconds on a terminal, off for
	 * scripts (the watch of the other states after close() is short either way). */
	tcpwatch_set_linger(opt.linger_ms >= 0 ? opt.linger_ms :
	    isatty(STDERR_FILENO) ? 3000 : 0);
	tcpwatch_on_idle(maybe_exit, NULL);

	st.out = stdout;
	if (opt.output != NULL && (st.out = fopen(opt.output, "w")) == NULL) {
		fprintf(stderr, "client: cannot write to '%s': %s\n", opt.output, strerror(errno));
		return EXIT_WRITE;
	}
	if (st.u.tls) {
		memset(&to, 0, sizeof(to));
		to.cafile = opt.cafile;
		to.crlfile = opt.crlfile;
		to.cert = opt.cert;
		to.key = opt.key;
		/* --kx picks a TLS 1.2 key exchange (static RSA exists only up to TLS 1.2;
		 * TLS 1.3 always uses (EC)DHE): it offers TLS 1.2 at most. */
		if (opt.kx != KX_ANY && opt.tls_max == 0)
			opt.tls_max = TLS1_2_VERSION;
		to.min_version = opt.tls_min;
		to.max_version = opt.tls_max;
		to.ciphers = opt.kx != KX_ANY ? kx_ciphers() : opt.ciphers;
		to.keylog = opt.keylog;
		to.groups = opt.groups;
		to.dissect = opt.dissect;
		if ((st.ctx = tls_ctx_client(&to, err, sizeof(err))) == NULL) {
			fprintf(stderr, "client: %s\n", err);
			return EXIT_USAGE;
		}
		SSL_CTX_set_verify(st.ctx, SSL_VERIFY_PEER, verify_cb);
		if (opt.reconnect > 1)
			repeat_init(st.ctx);
		if (opt.kx != KX_ANY)
			evlog(EVT_WARNING, 0, -1, "--kx %s: offering only TLS 1.2 cipher suites with "
			    "%s key exchange (%s) and TLS 1.2 at most: %s",
			    opt.kx == KX_RSA ? "rsa" : "ecdhe", opt.kx == KX_RSA ? "static RSA" :
			    "ECDHE", kx_ciphers(), kx_why_12());
	}
	if ((st.base = new_base()) == NULL) {
		fprintf(stderr, "client: cannot create the event loop\n");
		return EXIT_FAIL;
	}
	st.connect_timer = evtimer_new(st.base, connect_timeout_cb, NULL);
	st.hold_timer = evtimer_new(st.base, hold_done_cb, NULL);
	st.pause_timer = evtimer_new(st.base, pause_done_cb, NULL);
	if (opt.max_time_ms > 0) {
		struct timeval tv = clock_tv_ms(opt.max_time_ms);
		st.max_timer = evtimer_new(st.base, max_time_cb, NULL);
		evtimer_add(st.max_timer, &tv);
	}
	if (opt.capture) {
		char filter[32];

		/* Our local port is known only after connect(): filter on the server's port and
		 * match our connection's 4-tuple in seglog. */
		snprintf(filter, sizeof(filter), "tcp port %d", st.u.port);
		/* One plain line, whatever the log format (the JSON log gets the event too). */
		if (seglog_open(st.base, filter, err, sizeof(err)) == -1) {
			fprintf(stderr, "client: %s; going on without %s\n", err,
			    seglog_flags(opt.capture == 1));
			if (opt.format == EVLOG_JSON)
				evlog(EVT_WARNING, 0, -1, "%s; going on without %s",
				    err, seglog_flags(opt.capture == 1));
		}
	}
	st.t0 = evlog_now_us();
	st.conn_no = 1;
	if (resolve() == 0) {
		try_next_address();
		if (!st.done)
			event_base_dispatch(st.base);
	}
	if (st.c != NULL)
		conn_abort(st.c, CONN_ERR_TIMEOUT, "stopped");
	tcpwatch_on_idle(NULL, NULL);
	tcpwatch_stop_all();
	seglog_close();
	if (st.t_end == 0)
		st.t_end = evlog_now_us();
	if (opt.requests > 1 || opt.reconnect > 1)
		repeat_log_summary();
	if (st.ai_list)
		log_timing();
	if (st.exit_code != 0) {
		/* One clear line: the error event, or with -q a plain line. */
		if (!evlog_on())
			fprintf(stderr, "client: %s (exit %d)\n", st.error, st.exit_code);
		evlog(EVT_ERROR, 0, -1, "%s (exit %d)", st.error, st.exit_code);
	}
	if (st.out != NULL && (st.out == stdout ? fflush(stdout) : fclose(st.out)) != 0 &&
	    st.exit_code == 0) {
		fprintf(stderr, "client: cannot write the body to %s: %s (exit %d)\n",
		    opt.output ? opt.output : "standard output", strerror(errno), EXIT_WRITE);
		st.exit_code = EXIT_WRITE;
	}
	if (st.ai_list)
		freeaddrinfo(st.ai_list);
	if (st.connect_timer)
		event_free(st.connect_timer);
	if (st.max_timer)
		event_free(st.max_timer);
	if (st.hold_timer)
		event_free(st.hold_timer);
	if (st.pause_timer)
		event_free(st.pause_timer);
	repeat_free();
	SSL_CTX_free(st.ctx);
	tls_keylog_close();
	event_base_free(st.base);
	return st.exit_code;
}
