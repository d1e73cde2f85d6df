/* session.c -- one served connection: read HTTP/1.1 requests (heads, bodies, the deadlines
 * they must meet), answer them, and close as the flags say (FIN, RST, or after a hold). */
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "server.h"
#include "session.h"
#include "tcpinfo.h"

#define MAX_BODY	(1024 * 1024)	/* request bodies are read and dropped, up to this */
#define OUT_HIGH	(1024 * 1024)	/* queued response bytes above which we stop reading */
#define PARK_DELAY_MS	200		/* an idle connection that carried requests: parked after */
#define PAD_QUEUE	(256 * 1024)	/* ?pad= filler queued per connection, at most */
#define PAD_QUEUE_MIN	(16 * 1024)	/* ... and at least, however many connections pad */
#define PAD_TOTAL	(32 * 1024 * 1024)	/* filler queued by all connections together */


static struct event_base *base;
static const struct options *opt;
static int stopping;
static int padding;		/* connections producing ?pad= filler now */

/* A connection's filler is all produced (or it closed). When none pads any more, the
 * freed buffers go back to the kernel (glibc keeps them otherwise: after 100 clients that
 * asked for 16 MiB each, tens of MB of RSS would stay). */
static void
pad_trim(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (padding == 0)
		malloc_trim(0);
}

static void
pad_done(void)
{
	/* on the next turn of the loop: a closing connection's buffers are freed by then */
	if (--padding == 0)
		event_base_once(base, -1, EV_TIMEOUT, pad_trim, NULL, NULL);
}

/* ?pad= filler is produced as the socket drains, never queued whole: a client asking for
 * 16 MiB and reading nothing costs us PAD_QUEUE, not 16 MiB (issue 12). Over all connections
 * the filler queued stays under PAD_TOTAL: with many padding at once, each queues less. */
static void
pad_fill(struct conn *c, struct session *s)
{
	static const char filler[] = "handshake-lab filler: ?pad= asks for it.\n";
	char chunk[16 * 1024];
	size_t want = PAD_QUEUE, k, i;

	if (padding > 0 && PAD_TOTAL / (size_t)padding < want)
		want = PAD_TOTAL / (size_t)padding;
	if (want < PAD_QUEUE_MIN)
		want = PAD_QUEUE_MIN;
	for (i = 0; i + sizeof(filler) - 1 <= sizeof(chunk); i += sizeof(filler) - 1)
		memcpy(chunk + i, filler, sizeof(filler) - 1);
	/* whole fillers per chunk, so the text repeats without a seam across chunks */
	while (s->pad_left > 0 && conn_output_length(c) < want) {
		k = i < s->pad_left ? i : (size_t)s->pad_left;
		if (conn_write(c, chunk, k) == -1)
			break;
		s->pad_left -= k;
	}
	if (s->pad_left == 0 || c->phase != PHASE_OPEN) {
		s->pad_left = 0;
		pad_done();
	}
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

void
session_respond(struct conn *c, struct session *s, int status, const char *ctype, const char *body,
    size_t blen, int head_only, const char *extra, size_t pad)
{
	char hdr[768], date[64], one[4096];
	struct evrec r;
	int64_t t_write = evlog_on() ? evlog_now_us() : 0;	/* before the bytes go out */
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
	if (!head_only && pad > 0 && s->pad_left == 0) {
		/* the rest as the output drains (session_drained) */
		s->pad_left = pad;
		padding++;
		pad_fill(c, s);
	}
	blen += pad;
	if (evrec_begin(&r, EVT_RESPONSE, c->id, c->fd)) {
		evrec_set_time(&r, t_write);
		evrec_int(&r, "status", status);
		evrec_int(&r, "length", (long long)blen);
		evrec_bool(&r, "keep_alive", s->keep_alive);
		if (s->post)
			evrec_int(&r, "request_body", (long long)s->body_got);
		evrec_label(&r, "> %d %s", status, http1_reason(status));
		if (s->post)
			evrec_detail(&r, TR("%zu B body, Connection: %s; the POST's body: %llu B "
			    "received, not stored", "%zu B 响应体，Connection: %s；POST 的请求体："
			    "收到 %llu B，未保存"), blen, s->keep_alive ? "keep-alive" : "close",
			    (unsigned long long)s->body_got);
		else
			evrec_detail(&r, TR("%zu B body%s, Connection: %s", "响应体 %zu B%s，"
			    "Connection: %s"), blen, head_only ? TR(" (HEAD: not sent)",
			    "（HEAD：不发送）") : "", s->keep_alive ? "keep-alive" : "close");
		evrec_gloss(&r, "%s", c->ssl ? TR("the response goes out as encrypted TLS records",
		    "响应装在加密的 TLS 记录里发出") : TR("the response goes out in clear text: "
		    "anyone on the path can read it", "响应以明文发出：路径上的任何人都能读到"));
		evrec_emit(&r);
	}
}

void
session_error(struct conn *c, struct session *s, int status, const char *why)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body), "%d %s: %s\n", status, http1_reason(status), why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	session_respond(c, s, status, "text/plain; charset=utf-8", body, (size_t)n, 0,
	    status == 405 ? "Allow: GET, HEAD, POST\r\n" : NULL, 0);
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
	evrec_strf(&r, "version", "HTTP/1.%d", m->minor_received);
	if (m->minor_received != m->version_minor)
		evrec_strf(&r, "read_as", "HTTP/1.%d", m->version_minor);
	evrec_label(&r, "< %s %s", m->method, m->target);
	evrec_detail(&r, "HTTP/1.%d  Host: %s", m->minor_received, host ? host :
	    TR("(none)", "（无）"));
	if (m->minor_received != m->version_minor)
		evrec_gloss(&r, TR("HTTP/1.%d: a later minor version of HTTP/1, read and answered "
		    "as HTTP/1.%d, the highest we speak (RFC 9110 6.2, RFC 9112 2.6; nginx does "
		    "the same); only another major version gets 505", "HTTP/1.%d：HTTP/1 的一个"
		    "更高的次版本，按我们支持的最高版本 HTTP/1.%d 读取和应答（RFC 9110 6.2，"
		    "RFC 9112 2.6；nginx 也这样做）；只有主版本不同才回 505"), m->minor_received,
		    m->version_minor);
	else
		evrec_gloss(&r, "%s", c->ssl ? TR("the request arrived inside TLS records: only "
		    "the two ends can read it", "请求装在 TLS 记录里到达：只有通信的两端能读到") :
		    TR("the request arrived in clear text", "请求以明文到达"));
	evrec_emit(&r);
}

/* The server's own close: FIN (the four-way close), or RST with --abort. */
static void
server_close(struct conn *c, const char *reason)
{
	char why[320];

	if (opt->common.abort) {
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

/* Bytes of our responses not yet taken by the client: queued here, or in the kernel not yet
 * acknowledged (SIOCOUTQ). *acked: the kernel's count of our bytes the client acknowledged. */
static size_t
send_pending(struct conn *c, uint64_t *acked)
{
	struct tcp_info ti;
	int outq = 0;

	*acked = tcpinfo_get(c->fd, &ti) == 0 ? ti.tcpi_bytes_acked : 0;
	if (c->fd < 0 || ioctl(c->fd, SIOCOUTQ, &outq) == -1 || outq < 0)
		outq = 0;
	return conn_output_length(c) + (size_t)outq;
}

/* The response went (or is queued whole): close as the request or the flags asked. */
static void
close_after_response(struct conn *c)
{
	server_close(c, stopping ? TR("server stopping", "服务器正在停止") :
	    opt->common.server_closes_first ? "--close-first server" : "Connection: close");
}

/* After a complete request (and its body): answer, then keep the connection or close it. */
static void
finish_request(struct conn *c, struct session *s)
{
	s->body_got = s->req->body == HTTP1_BODY_LENGTH ? s->req->content_length :
	    s->req->body == HTTP1_BODY_CHUNKED && s->ch != NULL ? s->ch->total : 0;
	s->in_body = 0;
	free(s->ch);
	s->ch = NULL;
	s->requests++;
	route(c, s);
	req_put(s);
	if (s->live)
		return;		/* a /live stream: open until one end closes (live.c) */
	if ((!s->keep_alive || stopping) && s->pad_left > 0 && !stopping) {
		/* the close waits for the filler still to come (session_drained) */
		s->close_after_pad = 1;
		send_pending(c, &s->acked);
		conn_set_timeout(c, opt->idle_ms);
	} else if (!s->keep_alive || stopping)
		close_after_response(c);
	else {
		/* The idle timeout from now; while the response still leaves, session_timeout()
		 * tells a slow reader (progress since this mark) from one that reads nothing. */
		send_pending(c, &s->acked);
		conn_set_timeout(c, opt->idle_ms);
	}
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
	session_respond(c, s, 400, "text/html", page, sizeof(page) - 1, 0, NULL, 0);
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
			evrec_detail(&er, TR("bad request: %s -> %d (sent as %d: plain HTTP on the "
			    "HTTPS port)", "错误请求：%s -> %d（按 %d 发出：HTTPS 端口上的明文 "
			    "HTTP）"), why, parsed, status);
		else
			evrec_detail(&er, TR("bad request: %s -> %d", "错误请求：%s -> %d"), why,
			    status);
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
		session_error(c, s, status, why);
	if (close_reason == NULL) {
		snprintf(reason, sizeof(reason), TR("bad request (%d)", "错误请求（%d）"), sent);
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
		return TR("a TLS handshake record (0x16, a ClientHello?) on the plain HTTP port: "
		    "use http:// here, https:// on the HTTPS port", "明文 HTTP 端口上来了一个 TLS "
		    "握手记录（0x16，ClientHello 客户端问候？）：这里用 http://，HTTPS 端口上才用 "
		    "https://");
	if (n > 0 && p[0] == '\n')
		i = 1;
	else if (n > 1 && p[0] == '\r' && p[1] == '\n')
		i = 2;
	for (j = i; j < n && j - i <= HTTP1_MAX_METHOD && p[j] != ' '; j++)
		if (!(p[j] >= 'A' && p[j] <= 'Z') && !(p[j] >= '0' && p[j] <= '9') &&
		    (p[j] == '\0' || strchr(tchar, p[j]) == NULL))
			return TR("the first bytes are not an HTTP method (not HTTP at all?)",
			    "开头的字节不是 HTTP 方法（根本不是 HTTP？）");
	if (j - i > HTTP1_MAX_METHOD)
		return TR("the first bytes are not an HTTP method (not HTTP at all?)",
		    "开头的字节不是 HTTP 方法（根本不是 HTTP？）");
	return NULL;
}

static void head_timeout_cb(evutil_socket_t, short, void *);

/* The request head's deadline (--header-timeout): starts at its first byte; a new connection's
 * starts at accept(), so the TLS handshake counts too. The timer exists only while a head is
 * due: an idle keep-alive connection holds none. */
static void
head_timer_start(struct session *s)
{
	struct timeval tv = clock_tv_ms(opt->header_ms);

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
		snprintf(why, sizeof(why), TR("the TLS handshake did not finish within %d s "
		    "(--header-timeout)", "TLS 握手在 %d s 内没有完成（--header-timeout）"),
		    opt->header_ms / 1000);
		conn_abort(c, CONN_ERR_TIMEOUT, why);
		return;
	}
	if (s->in_body)
		return;
	if (s->bp_paused || s->pad_left > 0) {
		/* we are not reading (our responses wait): not the client's delay; look again */
		struct timeval tv = clock_tv_ms(opt->header_ms);

		evtimer_add(s->head_timer, &tv);
		return;
	}
	if (!s->got_bytes && s->requests == 0 && conn_input_length(c) == 0) {
		snprintf(why, sizeof(why), TR("no request within %d s (--header-timeout)",
		    "%d s 内没有请求（--header-timeout）"), opt->header_ms / 1000);
		server_close(c, why);
		return;
	}
	snprintf(why, sizeof(why), TR("the request head did not arrive within %d s "
	    "(--header-timeout): a client too slow, or a slowloris", "请求头在 %d s 内没有"
	    "到齐（--header-timeout）：客户端太慢，或是 slowloris 攻击"), opt->header_ms / 1000);
	reject(c, s, 408, why, TR("request head timeout", "请求头超时"));
}

/* Back-pressure: a client that sends requests but does not read the responses would make us
 * queue them without end. Above OUT_HIGH queued bytes we stop reading (its requests then wait
 * in the kernel, and its sending stops once the window is full) until the queue is empty. */
static int
output_full(struct conn *c, struct session *s)
{
	size_t out = conn_output_length(c);
	struct evrec r;

	/* A response still producing its filler: the next one must wait for it whole. */
	if (out <= OUT_HIGH && s->pad_left == 0)
		return 0;
	s->bp_paused = 1;
	conn_pause_read(c, 1);
	/* Reading is off, so only a write timeout can notice a client that never reads. */
	conn_set_write_timeout(c, opt->idle_ms);
	if (evrec_begin(&r, EVT_PAUSE_READ, c->id, c->fd)) {
		evrec_int(&r, "queued", (long long)out);
		evrec_detail(&r, TR("not reading: %zu B of responses wait to be sent "
		    "(back-pressure)", "暂停读取：%zu B 的响应在等待发送（背压）"), out);
		evrec_gloss(&r, "%s", TR("the client sends requests faster than it reads the "
		    "answers: we stop reading until they have gone, so its requests wait in the "
		    "kernel", "客户端发请求比读应答快：我们停止读取，直到这些应答发走，于是它的"
		    "请求在内核里等待"));
		evrec_emit(&r);
	}
	return 1;
}

static void session_read(struct conn *, struct evbuffer *);
static void session_peer_closed(struct conn *);

static void
session_drained(struct conn *c)
{
	struct session *s = c->arg;
	struct evbuffer *in;

	if (s == NULL)
		return;
	if (s->live) {
		live_drained(c);
		return;
	}
	if (s->pad_left > 0)
		pad_fill(c, s);
	if (s->pad_left > 0 || conn_output_length(c) > 0 || c->phase != PHASE_OPEN)
		return;
	if (s->peer_closed_pad) {
		s->peer_closed_pad = 0;
		session_peer_closed(c);
		return;
	}
	if (s->close_after_pad) {
		s->close_after_pad = 0;
		close_after_response(c);
		return;
	}
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
	evlog(EVT_PAUSE_READ, c->id, c->fd, "%s", TR("reading again: the responses have gone "
	    "to the kernel", "重新开始读取：响应已交给内核"));
	conn_pause_read(c, 0);
	conn_set_timeout(c, opt->idle_ms);
	/* Requests already read wait in our input buffer: no read event will announce them. */
	if ((in = conn_input(c)) != NULL)
		session_read(c, in);
}

/* RFC 9110 10.1.1: a client that sent "Expect: 100-continue" waits before its body (curl for
 * 1 s). A body we will read gets 100 (Continue) now; one we will not read (too large, or a
 * method we do not serve) gets its final status at once and the connection closes, so that
 * the body is never sent. Not to HTTP/1.0 (it knows no 1xx), nor once body bytes are already
 * here. Returns 1 when the connection was answered and closed. */
static int
expect_continue(struct conn *c, struct session *s, struct evbuffer *in)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const struct http1_msg *m = s->req;
	struct evrec r;
	int get = strcmp(m->method, "GET") == 0 || strcmp(m->method, "HEAD") == 0 ||
	    strcmp(m->method, "POST") == 0;	/* a body we read */

	if (!m->expect_continue || m->version_minor < 1 || evbuffer_get_length(in) > 0)
		return 0;
	if (m->body == HTTP1_BODY_LENGTH && m->content_length > MAX_BODY) {
		reject(c, s, 413, TR("request body too large (answered before it was sent: "
		    "Expect: 100-continue)", "请求体太大（在它发出之前就应答了：Expect: "
		    "100-continue）"), NULL);
		return 1;
	}
	if (!get) {
		s->keep_alive = 0;
		s->requests++;
		route(c, s);
		req_put(s);
		server_close(c, TR("answered before its body (Expect: 100-continue): the body is "
		    "not read", "在请求体之前就应答了（Expect: 100-continue）：请求体不读"));
		return 1;
	}
	conn_write(c, cont, sizeof(cont) - 1);
	if (evrec_begin(&r, EVT_RESPONSE, c->id, c->fd)) {
		evrec_int(&r, "status", 100);
		evrec_int(&r, "length", 0);
		evrec_bool(&r, "keep_alive", s->keep_alive);
		evrec_bool(&r, "interim", 1);
		evrec_label(&r, "> 100 Continue");
		evrec_detail(&r, "%s", TR("interim response: the client asked (Expect: "
		    "100-continue) and may send its body now", "临时响应：客户端问过（Expect: "
		    "100-continue），现在可以发送请求体了"));
		evrec_gloss(&r, "%s", TR("a 1xx response is not the answer: the final one follows "
		    "the body", "1xx 响应不是应答：最终响应在请求体之后"));
		evrec_emit(&r);
	}
	return 0;
}

static void
session_read(struct conn *c, struct evbuffer *in)
{
	struct session *s = c->arg;
	unsigned char *p;
	const char *why;
	size_t len, n;
	int r;

	if (s->live) {
		/* a viewer has nothing more to ask: what it sends is read and dropped */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* s->live: a request just made this connection a /live viewer: what follows it is
	 * dropped, never parsed (a second /live/events pipelined behind the first) */
	while (c->phase == PHASE_OPEN && !s->live && (len = evbuffer_get_length(in)) > 0) {
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
				reject(c, s, r < 0 ? 400 : 413, r < 0 ? TR("malformed chunked body",
				    "分块（chunked）请求体格式错误") : TR("request body too large",
				    "请求体太大"), NULL);
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
			conn_close(c, TR("out of memory", "内存不足"));
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
		record_request(c, (const char *)p, s->req->head_len);	/* the page's wire view */
		evbuffer_drain(in, s->req->head_len);
		s->got_bytes = 0;
		head_timer_stop(s);
		log_request(c, s->req);
		if (c->plain_on_tls) {
			reject(c, s, 400, TR("plain HTTP request sent to the HTTPS port",
			    "明文 HTTP 请求发到了 HTTPS 端口"), NULL);
			return;
		}
		s->keep_alive = s->req->keep_alive && !opt->common.server_closes_first;
		/* The idle timeout also bounds a request body that stops coming. */
		conn_set_timeout(c, opt->idle_ms);
		if (s->req->body != HTTP1_BODY_NONE && expect_continue(c, s, in))
			return;
		if (s->req->body == HTTP1_BODY_LENGTH) {
			if (s->req->content_length > MAX_BODY) {
				reject(c, s, 413, TR("request body too large", "请求体太大"), NULL);
				return;
			}
			s->in_body = 1;
			s->chunked = 0;
			s->body_left = s->req->content_length;
		} else if (s->req->body == HTTP1_BODY_CHUNKED) {
			if (s->ch == NULL && (s->ch = malloc(sizeof(*s->ch))) == NULL) {
				conn_close(c, TR("out of memory", "内存不足"));
				return;
			}
			s->in_body = 1;
			s->chunked = 1;
			http1_chunked_init(s->ch);
		} else
			finish_request(c, s);
	}
	if (s->live && c->phase == PHASE_OPEN)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* TLS: a record still on its way may carry the next request head, and OpenSSL shows us nothing
 * until it is whole (each byte meanwhile would only reset the idle timeout): the head's
 * deadline starts at its first byte on the wire, as over plain TCP (a TLS slowloris). */
static void
session_wire_bytes(struct conn *c)
{
	struct session *s = c->arg;

	if (s != NULL && !s->in_body && !s->got_bytes && !s->bp_paused && !s->live)
		head_timer_start(s);
}

static void
session_ready(struct conn *c)
{
	conn_set_timeout(c, opt->idle_ms);
}

static void
hold_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	server_close(s->c, TR("the client sent its FIN (we held ours: --hold-close)",
	    "客户端发来了它的 FIN（我方推迟了自己的 FIN：--hold-close）"));
}

static void
session_peer_closed(struct conn *c)
{
	struct session *s = c->arg;
	struct timeval tv = clock_tv_ms(opt->common.hold_close_ms);
	char why[256];	/* the peer's close in words: Chinese takes 3 bytes a character */

	if (s->pad_left > 0 && !c->reset) {
		/* a client that sent its request and then its FIN still reads the response: the
		 * filler still to come goes first, the close after it (session_drained) */
		s->peer_closed_pad = 1;
		return;
	}
	if (opt->common.hold_close_ms > 0 &&
	    (s->hold = evtimer_new(base, hold_done_cb, s)) != NULL) {
		/* The textbook's "the server may still have data to send": stay in CLOSE_WAIT
		 * a while, the client in FIN_WAIT2. */
		conn_set_timeout(c, 0);
		conn_log_hold_close(c, opt->common.hold_close_ms);
		evtimer_add(s->hold, &tv);
		return;
	}
	snprintf(why, sizeof(why), TR("the client %s", "客户端%s"), conn_peer_close_what(c));
	server_close(c, why);
}

static void
session_timeout(struct conn *c)
{
	struct session *s = c->arg;
	uint64_t acked;
	char why[160];

	if (s != NULL && s->bp_paused)
		snprintf(why, sizeof(why), TR("the client read none of its responses for %d ms",
		    "客户端 %d ms 内没有读取它的任何响应"), opt->idle_ms);
	else if (s != NULL && send_pending(c, &acked) > 0) {
		/* A response still leaving is no idle connection: one that moved since the
		 * last look gets another period (libevent stopped reading at the timeout: read
		 * again); one that did not is the send timeout (nginx's send_timeout). */
		if (acked != s->acked) {
			s->acked = acked;
			conn_set_timeout(c, opt->idle_ms);
			conn_pause_read(c, 0);
			return;
		}
		snprintf(why, sizeof(why), TR("send timeout: the client took none of the "
		    "response for %d ms (--idle-timeout)", "发送超时：客户端 %d ms 内没有收走任何"
		    "响应数据（--idle-timeout）"), opt->idle_ms);
	} else
		snprintf(why, sizeof(why), TR("idle for %d ms (keep-alive timeout)",
		    "空闲 %d ms（keep-alive 超时）"), opt->idle_ms);
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

	if (s != NULL && s->pad_left > 0) {
		s->pad_left = 0;
		pad_done();
	}
	if (s != NULL && s->hold != NULL)
		event_free(s->hold);
	if (s != NULL && s->head_timer != NULL)
		event_free(s->head_timer);
	if (s != NULL && s->req != NULL)
		req_put(s);
	if (s != NULL)
		free(s->ch);
	if (s != NULL && s->live)
		live_gone(c);
	record_closed(c->id);
	c->arg = NULL;		/* allocated with c (session_ops.arg_size), freed with it */
	if (stopping)
		event_base_once(base, -1, EV_TIMEOUT, check_stopped, NULL, NULL);
}

static const struct conn_ops session_ops = {
	.ready = session_ready,
	.read = session_read,
	.wire_bytes = session_wire_bytes,
	.peer_closed = session_peer_closed,
	.timeout = session_timeout,
	.closed = session_closed,
	.drained = session_drained,
	.arg_size = sizeof(struct session),	/* allocated with the connection */
};

void
session_init(struct event_base *b, const struct options *o)
{
	base = b;
	opt = o;
}

void
session_accept(struct listener *li, int fd, struct sockaddr *sa, socklen_t salen)
{
	struct session init = { .li = li, .keep_alive = 1 };
	struct session *s;
	struct conn *c;

	/* conn_accept() copies init into the connection's own allocation (session_ops.arg_size) */
	c = conn_accept(base, fd, sa, salen, li->ctx, &session_ops, &init);
	if (c != NULL && c->phase != PHASE_CLOSED && (s = c->arg) != NULL) {
		s->c = c;
		head_timer_start(s);
	}
	/* A client that never finishes its TLS handshake must not hold the connection. */
	if (c != NULL && c->phase == PHASE_TLS_HANDSHAKE)
		conn_set_timeout(c, opt->idle_ms);
}

void
session_stop_all(void)
{
	stopping = 1;
	live_stop();
	conn_close_all(TR("server stopping", "服务器正在停止"), 0);
}

int
session_stopping(void)
{
	return stopping;
}

void
session_free(void)
{
	free(req_spare);
	req_spare = NULL;
}

const struct options *
session_options(void)
{
	return opt;
}
