/* conn.c -- a connection of either side as a struct with a phase: its allocation and the list
 * of open ones, accept and connect with the textbook notes of each TCP step, and the
 * bufferevent callbacks that move it along (its close is conn_close.c's, its park
 * conn_park.c's). */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>

#include "clock.h"
#include "conn_int.h"
#include "evlog.h"
#include "tcpinfo.h"
#include "seglog.h"
#include "slab.h"
#include "tcpwatch.h"
#include "tls.h"

#define CLOSE_WAIT_MS_DEFAULT 2000	/* how long we wait for the peer's FIN after ours */

static const char *const phase_names[] = {
	"NEW", "CONNECTING", "TLS_HANDSHAKE", "OPEN", "DRAINING", "TLS_SHUTDOWN", "FIN_SENT",
	"CLOSED",
};
_Static_assert(sizeof(phase_names) / sizeof(phase_names[0]) == PHASE_LAST,
    "phase_names must match enum conn_phase");

static unsigned next_id = 1;
static int nconns;
static struct conn *all;

static void bev_event(struct bufferevent *, short, void *);

const char *
conn_phase_name(enum conn_phase p)
{
	return (unsigned)p < PHASE_LAST ? phase_names[p] : "?";
}

int
conn_count(void)
{
	return nconns;
}

void
conn_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else
		snprintf(buf, len, "?");
}

/* A loopback address: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
int
conn_addr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* The same IP address at both ends: a connection to this machine's own address, which
 * the kernel routes through lo whatever the address. */
static int
addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* The connection's addresses as text, formatted when asked (a connection does not keep
 * them): each function has its own buffer, valid until its next call. */
const char *
conn_local_str(const struct conn *c)
{
	static char buf[CONN_ADDRSTRLEN];

	conn_addr_str(&c->local.sa, buf, sizeof(buf));
	return buf;
}

const char *
conn_remote_str(const struct conn *c)
{
	static char buf[CONN_ADDRSTRLEN];

	conn_addr_str(&c->remote.sa, buf, sizeof(buf));
	return buf;
}

const char *
conn_error_text(const struct conn *c)
{
	return c->error_text != NULL ? c->error_text : "";
}

const char *
conn_close_reason(const struct conn *c)
{
	return c->close_reason != NULL ? c->close_reason : "";
}


static void
conn_free(struct conn *c)
{
	free(c->error_text);
	free(c->close_reason);
	if (c->tls != NULL)
		tls_state_clear(c->tls);
	if (c->in_slab)
		slab_free(c);
	else
		free(c);
}

static void
fill_addrs(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		if (len > sizeof(c->local))
			len = sizeof(c->local);
		memcpy(&c->local, &ss, len);
	}
}

/* The only function that changes a connection's phase. */
void
conn_set_phase(struct conn *c, enum conn_phase p)
{
	struct evrec r;

	if (c->phase == p)
		return;
	if (c->read_big)
		conn_read_big(c, 0);	/* leaving OPEN: the close reads as it always did */
	if (evrec_begin(&r, EVT_PHASE, c->id, c->fd)) {
		evrec_str(&r, "from", conn_phase_name(c->phase));
		evrec_str(&r, "to", conn_phase_name(p));
		evrec_detail(&r, "phase %s -> %s", conn_phase_name(c->phase), conn_phase_name(p));
		evrec_emit(&r);
	}
	c->phase = p;
}

static struct conn *
conn_new(struct event_base *base, const struct sockaddr *sa, socklen_t salen,
    const struct conn_ops *ops, void *arg, int tls)
{
	struct conn *c;
	/* One allocation: the connection, then the TLS state (tls only), then the application's
	 * copy of arg (ops->arg_size); a plain connection pays nothing for TLS. */
	size_t tls_size = tls ? sizeof(struct tls_state) : 0;
	size_t size = sizeof(*c) + tls_size + ops->arg_size;
	int in_slab = 1;

	/* An idle connection lives long: in a slab, not between the heap's short-lived chunks. */
	if ((c = slab_alloc(size)) == NULL) {
		in_slab = 0;
		if ((c = calloc(1, size)) == NULL)
			return NULL;
	}
	c->in_slab = in_slab;
	c->id = next_id++;
	c->fd = -1;
	c->base = base;
	c->ops = ops;
	c->arg = arg;
	if (ops->arg_size > 0 && arg != NULL) {
		c->arg = (char *)(c + 1) + tls_size;
		memcpy(c->arg, arg, ops->arg_size);
	}
	if (tls) {
		c->tls = (struct tls_state *)(c + 1);
		tls_state_init(c->tls);
	}
	c->t_start = evlog_now_us();
	c->close_wait_ms = CLOSE_WAIT_MS_DEFAULT;
	if (salen > sizeof(c->remote))
		salen = sizeof(c->remote);
	memcpy(&c->remote, sa, salen);
	c->next = all;
	if (all)
		all->prev = c;
	all = c;
	nconns++;
	return c;
}

/* Small writes (a NewSessionTicket, then the response) must not wait for the peer's delayed
 * ACK (Nagle's algorithm): that would add 40 ms that have nothing to do with the handshake. */
static void
set_nodelay(int fd)
{
	int on = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* What both SYNs had, as the kernel kept it (TCP_INFO, no privileges): the JSON fields, and
 * "agreed: SACK, timestamps, window scale ours 10, the peer's 10" into buf. The MSS fields
 * are the segment sizes the kernel uses now, not an option either SYN carried. */
static void
add_agreed(struct evrec *r, const struct tcp_info *ti, char *buf, size_t len)
{
	int sack = (ti->tcpi_options & TCPI_OPT_SACK) != 0;
	int ts = (ti->tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
	int ws = (ti->tcpi_options & TCPI_OPT_WSCALE) != 0;
	size_t l;

	evrec_int(r, "mss_snd", ti->tcpi_snd_mss);
	evrec_int(r, "mss_rcv", ti->tcpi_rcv_mss);
	evrec_int(r, "wscale_snd", ws ? ti->tcpi_snd_wscale : -1);
	evrec_int(r, "wscale_rcv", ws ? ti->tcpi_rcv_wscale : -1);
	evrec_bool(r, "sack", sack);
	evrec_bool(r, "timestamps", ts);
	evrec_float(r, "rtt_ms", ti->tcpi_rtt / 1000.0);
	snprintf(buf, len, TR("agreed: %s%s%s", "双方协商：%s%s%s"), sack ? "SACK" : "",
	    sack && (ts || ws) ? TR(", ", "，") : "", ts ? TR("timestamps", "时间戳") : "");
	l = strlen(buf);
	if (ws)
		snprintf(buf + l, len - l, TR("%swindow scale ours %u, the peer's %u",
		    "%s窗口扩大因子 我方 %u，对方 %u"), sack || ts ? TR(", ", "，") : "",
		    ti->tcpi_rcv_wscale, ti->tcpi_snd_wscale);
	else if (!sack && !ts)
		snprintf(buf + l, len - l, "%s", TR("no SACK, timestamps or window scale",
		    "没有 SACK、时间戳和窗口扩大"));
	l = strlen(buf);
	snprintf(buf + l, len - l, TR("; RTT %.3f ms", "；往返时间 RTT %.3f ms"),
	    ti->tcpi_rtt / 1000.0);
}

/* The SYN's options as JSON fields: the client's SYN (server, TCP_SAVED_SYN) or our own
 * (client, our kernel's choices). */
static void
add_syn(struct evrec *r, const struct tcpinfo_syn *s, const char *from)
{
	evrec_str(r, "syn_from", from);
	evrec_int(r, "syn_mss", s->mss);
	if (s->wscale != -2)
		evrec_int(r, "syn_wscale", s->wscale);
	if (s->sack_perm >= 0)
		evrec_bool(r, "syn_sack_perm", s->sack_perm);
	if (s->timestamps >= 0)
		evrec_bool(r, "syn_timestamps", s->timestamps);
}

static void
log_established(struct conn *c)
{
	struct evrec r;
	struct tcp_info ti;
	struct tcpinfo_syn syn;
	char agreed[160] = "", synbuf[128], sent[80] = "";
	char local_s[CONN_ADDRSTRLEN], remote_s[CONN_ADDRSTRLEN];
	int st, saved = -1;

	if (!evlog_on())
		return;
	st = tcpinfo_get(c->fd, &ti) == 0 ? (int)ti.tcpi_state : -1;
	/* Read (and so free) the saved SYN even if the record is not written. */
	if (c->is_server)
		saved = tcpinfo_saved_syn(c->fd, &syn);
	if (!evrec_begin(&r, EVT_ESTABLISHED, c->id, c->fd))
		return;
	conn_addr_str(&c->local.sa, local_s, sizeof(local_s));
	conn_addr_str(&c->remote.sa, remote_s, sizeof(remote_s));
	evrec_str(&r, "local", local_s);
	evrec_str(&r, "remote", remote_s);
	if (st > 0)
		add_agreed(&r, &ti, agreed, sizeof(agreed));
	if (c->is_server) {
		if (saved == 0) {
			add_syn(&r, &syn, "saved");
			evrec_detail(&r, TR("%s <- %s  accept() returned; the client's SYN: %s; %s",
			    "%s <- %s  accept() 返回；客户端的 SYN：%s；%s"),
			    local_s, remote_s, tcpinfo_syn_str(&syn, synbuf, sizeof(synbuf)),
			    agreed);
		} else
			evrec_detail(&r, TR("%s <- %s  accept() returned; the client's SYN was not "
			    "saved (TCP_SAVED_SYN); %s",
			    "%s <- %s  accept() 返回；客户端的 SYN 没有保存下来（TCP_SAVED_SYN）；"
			    "%s"), local_s, remote_s, agreed);
		evrec_gloss(&r, TR("the kernel finished SYN, SYN+ACK, ACK before accept() handed us "
		    "the socket (3-way handshake done); the client's SYN as the kernel saved it "
		    "(TCP_SAVED_SYN), and what both SYNs had (TCP_INFO)",
		    "在 accept() 把套接字交给我们之前，内核已经完成了 SYN、SYN+ACK、ACK（三次握手"
		    "完成）；客户端的 SYN 是内核保存下来的样子（TCP_SAVED_SYN），以及双方 SYN 都带"
		    "了哪些选项（TCP_INFO）"));
	} else {
		if (st > 0) {
			tcpinfo_own_syn(&ti, &syn);
			add_syn(&r, &syn, "own");
			if (ti.tcpi_total_retrans > 0)
				evrec_int(&r, "syn_sent", (long long)ti.tcpi_total_retrans + 1);
			/* The SYN's retransmissions are the only ones before ESTABLISHED. */
			if (ti.tcpi_total_retrans > 0)
				snprintf(sent, sizeof(sent), TR(" (sent %u times: TCP_INFO counts %u "
				    "retransmissions)",
				    "（发送了 %u 次：TCP_INFO 记录了 %u 次重传"
				    "）"), ti.tcpi_total_retrans + 1,
				    ti.tcpi_total_retrans);
			evrec_detail(&r, TR("%s -> %s  connect() completed; our SYN%s: %s; %s",
			    "%s -> %s  connect() 完成；我方的 SYN%s：%s；%s"), local_s,
			    remote_s, sent, tcpinfo_syn_str(&syn, synbuf, sizeof(synbuf)), agreed);
		} else
			evrec_detail(&r, TR("%s -> %s  connect() completed",
			    "%s -> %s  connect() 完成"), local_s, remote_s);
		evrec_gloss(&r, TR("SYN+ACK received and ACK sent (2nd and 3rd handshake): both "
		    "sides ESTABLISHED%s; our SYN's options are our kernel's choices, 'agreed' is "
		    "what both SYNs had (TCP_INFO; the server's MSS is not kept where we can read "
		    "it)",
		    "收到 SYN+ACK 并发出 ACK（第二次和第三次握手）：双方都是 ESTABLISHED%s；我方 "
		    "SYN 的选项由我方内核决定，“双方协商”是两个 SYN 都带的选项（TCP_INFO；服务器的 "
		    "MSS 没有保存在我们能读到的地方"
		    "）"), st == TCPI_ESTABLISHED ? "" : TR(" (state not yet updated)",
		        "（状态还没更新）"));
	}
	evrec_emit(&r);
}

static void
start_tls_log(struct conn *c)
{
	conn_set_phase(c, PHASE_TLS_HANDSHAKE);
	if (!evlog_on())
		return;
	evlog(EVT_HANDSHAKE_START, c->id, c->fd, "%s",
	    c->is_server ? TR("waiting for the client's ClientHello",
	        "等待客户端的 ClientHello") :
	    TR("starting TLS over the open TCP connection",
	        "在已建立的 TCP 连接上开始 TLS"));
}

/* Server: the bufferevent is set up; start reading (and, over TLS, the handshake). */
static void
accept_bev_ready(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, c->ops->drained ? conn_write_cb : NULL,
	    conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (c->timeout_ms > 0)
		conn_set_timeout(c, c->timeout_ms);
	if (!c->use_tls && c->ops->ready)
		c->ops->ready(c);
}

/* A TLS record starts with its content type: 0x16 for the handshake (an SSLv2-style hello has
 * the top bit set). An uppercase letter is an HTTP method: plain HTTP on the TLS port. */
static int
looks_like_http(unsigned char b)
{
	return b >= 'A' && b <= 'Z';
}

/* Server TLS: each read from the socket, before OpenSSL has a whole record to decrypt. A
 * record sent one byte at a time shows the application nothing until it is whole: this is
 * how its deadline for a request head still starts at the first byte on the wire. */
static long
wire_read_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
    size_t *processed)
{
	struct conn *c = (struct conn *)BIO_get_callback_arg(b);

	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed != NULL &&
	    *processed > 0 && c != NULL && c->phase == PHASE_OPEN && c->ops->wire_bytes)
		c->ops->wire_bytes(c);
	return ret;
}

/* Server, TLS port: the first bytes arrived (or the timeout passed). */
static void
peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	unsigned char b;
	ssize_t n;

	conn_hold(c);
	if (what & EV_TIMEOUT) {
		conn_abort(c, CONN_ERR_TIMEOUT, TR("timed out during the TLS handshake (no "
		    "ClientHello)",
		    "TLS 握手超时（没有收到 ClientHello）"));
		goto done;
	}
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		conn_set_timeout(c, c->timeout_ms);	/* woken for nothing: wait again */
		goto done;
	}
	event_free(c->ev_peek);
	c->ev_peek = NULL;
	if (n == 1 && looks_like_http(b)) {
		struct evrec r;

		/* No TLS on this connection: the server answers in plain text (nginx's 400). */
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->use_tls = 0;
		c->plain_on_tls = 1;
		if (evrec_begin(&r, EVT_WARNING, c->id, c->fd)) {
			evrec_str(&r, "reason", "plain HTTP sent to the HTTPS port");
			evrec_detail(&r, TR("the first byte is '%c', not a TLS record (0x16): plain "
			    "HTTP sent to the HTTPS port",
			    "第一个字节是 '%c'，不是 TLS 记录（0x16）：明文 HTTP 发到了 HTTPS 端"
			    "口"), b);
			evrec_gloss(&r, TR("a TLS client starts with a ClientHello record (0x16); this "
			    "one starts with an HTTP method: someone typed http:// for an HTTPS port",
			    "TLS 客户端以 ClientHello 记录（0x16）开头；这个连接以 HTTP 方法开头："
			    "有人对 HTTPS 端口用了 http://"));
			evrec_emit(&r);
		}
		c->bev = bufferevent_socket_new(c->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			conn_abort(c, CONN_ERR_CONNECT, TR("out of memory", "内存不足"));
			goto done;
		}
		conn_set_phase(c, PHASE_OPEN);
		accept_bev_ready(c);
		goto done;
	}
	/* A ClientHello, garbage or an EOF: OpenSSL reads it and says what it was. The fd and
	 * the SSL stay ours (no BEV_OPT_CLOSE_ON_FREE): conn_park() may free the bufferevent
	 * of an idle connection and make a new one later. */
	c->bev = bufferevent_openssl_socket_new(c->base, c->fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, 0);
	if (c->bev == NULL) {
		conn_abort(c, CONN_ERR_TLS, TR("cannot start TLS (out of memory?)", "无法启动 TLS（"
		    "内存不足？）"));
		goto done;
	}
	c->keep_fd = 1;
	if (c->ops->wire_bytes != NULL && SSL_get_rbio(c->ssl) != NULL) {
		BIO_set_callback_arg(SSL_get_rbio(c->ssl), (char *)c);
		BIO_set_callback_ex(SSL_get_rbio(c->ssl), wire_read_cb);
	}
	/* A peer's FIN without close_notify is an EOF to log, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	accept_bev_ready(c);
done:
	conn_release(c);
}

struct conn *
conn_accept(struct event_base *base, int fd, const struct sockaddr *sa, socklen_t salen,
    SSL_CTX *ctx, const struct conn_ops *ops, void *arg)
{
	struct conn *c;
	SSL *ssl = NULL;

	if ((c = conn_new(base, sa, salen, ops, arg, ctx != NULL)) == NULL) {
		close(fd);
		return NULL;
	}
	c->is_server = 1;
	c->fd = fd;
	c->t_tcp = c->t_start;
	evutil_make_socket_nonblocking(fd);
	set_nodelay(fd);
	fill_addrs(c);
	/* --capture: the handshake's segments came before accept(); log them first. */
	seglog_bind(c->id, (struct sockaddr *)&c->local, (struct sockaddr *)&c->remote, 0);
	log_established(c);
	if (ctx != NULL) {
		if ((ssl = SSL_new(ctx)) == NULL)
			goto err;
		tls_bind(ssl, c);
		c->use_tls = 1;
		c->ssl = ssl;
		ssl = NULL;
		start_tls_log(c);
		/* Look at the first byte before OpenSSL does: a browser or curl sent to the
		 * HTTPS port with http:// talks plain HTTP, which deserves a plain answer. */
		c->ev_peek = event_new(base, fd, EV_READ, peek_cb, c);
		if (c->ev_peek == NULL || event_add(c->ev_peek, NULL) == -1)
			goto err;
		return c;
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		goto err;
	conn_set_phase(c, PHASE_OPEN);
	accept_bev_ready(c);
	return c;
err:
	/* close_finish() frees c->ssl (not yet libevent's) and the event. */
	if (ssl != NULL)
		SSL_free(ssl);
	if (c->bev == NULL)
		close(fd);
	c->fd = -1;
	conn_abort(c, CONN_ERR_CONNECT, TR("cannot set up the connection (out of memory?)",
	    "无法建立连接（内存不足？）"));
	return NULL;
}

/* Client: TCP is up (the socket bufferevent's CONNECTED); start TLS on top if asked. */
static void
tcp_connected(struct conn *c)
{
	c->t_tcp = evlog_now_us();
	tcpwatch_connected(c->id);
	seglog_sync();
	set_nodelay(c->fd);
	fill_addrs(c);
	log_established(c);
	if (!c->use_tls) {
		conn_set_phase(c, PHASE_OPEN);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		if (c->ops->ready)
			c->ops->ready(c);
		return;
	}
	c->under = c->bev;
	c->bev = bufferevent_openssl_filter_new(c->base, c->under, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		c->bev = c->under;
		c->under = NULL;
		conn_abort(c, CONN_ERR_TLS, TR("cannot start TLS (out of memory?)", "无法启动 TLS（"
		    "内存不足？）"));
		return;
	}
	c->ssl_in_bev = 1;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	start_tls_log(c);
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_set_timeout(c, c->tls->handshake_ms);
}

struct conn *
conn_connect(struct event_base *base, const struct sockaddr *sa, socklen_t salen, SSL *ssl,
    const struct conn_ops *ops, void *arg)
{
	struct conn *c;
	struct evrec r;
	char msg[CONN_ERROR_TEXT_LEN];
	int64_t t_call;
	int fd;

	if ((c = conn_new(base, sa, salen, ops, arg, ssl != NULL)) == NULL) {
		if (ssl)
			SSL_free(ssl);
		return NULL;
	}
	if (ssl != NULL) {
		c->use_tls = 1;
		c->ssl = ssl;
		tls_bind(ssl, c);
	}
	/* A failure from here on is a failure to connect to this address. */
	conn_set_phase(c, PHASE_CONNECTING);
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(msg, sizeof(msg), TR("socket: %s",
		    "socket：%s"), strerror(errno));
		conn_abort(c, CONN_ERR_CONNECT, msg);
		return NULL;
	}
	c->fd = fd;
	if ((c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		c->fd = -1;
		conn_abort(c, CONN_ERR_CONNECT, TR("out of memory", "内存不足"));
		return NULL;
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	/* The kernel sends the SYN inside this call (1st handshake): the event's time is
	 * taken before it, so no log shows the SYN (or the server's accept) first. */
	t_call = evlog_now_us();
	if (bufferevent_socket_connect(c->bev, sa, (int)salen) == -1) {
		snprintf(msg, sizeof(msg), TR("connect to %s: %s", "连接 %s："
		    "%s"), conn_remote_str(c),
		    strerror(errno));
		conn_abort(c, CONN_ERR_CONNECT, msg);
		return NULL;
	}
	fill_addrs(c);
	seglog_sync();
	if (evrec_begin(&r, EVT_CONNECT, c->id, c->fd)) {
		int st = tcpinfo_state(c->fd);
		char local_s[CONN_ADDRSTRLEN], remote_s[CONN_ADDRSTRLEN];

		evrec_set_time(&r, t_call);

		conn_addr_str(&c->local.sa, local_s, sizeof(local_s));
		conn_addr_str(&c->remote.sa, remote_s, sizeof(remote_s));
		evrec_str(&r, "local", local_s);
		evrec_str(&r, "remote", remote_s);
		evrec_detail(&r, "%s -> %s", local_s, remote_s);
		/* ESTABLISHED already: the SYN+ACK came back before connect() returned. The
		 * addresses say whether it ever left this machine. */
		if (st == TCPI_ESTABLISHED && conn_addr_loopback(&c->remote.sa))
			evrec_gloss(&r, TR("kernel sent SYN (1st handshake); on loopback SYN+ACK and ACK "
			    "completed inside connect(), so the socket is already ESTABLISHED",
			    "内核发出了 SYN（第一次握手）；在回环接口上 SYN+ACK 和 ACK 在 "
			    "connect() 内部就完成了，所以套接字已经是 ESTABLISHED"));
		else if (st == TCPI_ESTABLISHED && addr_same_host(&c->local.sa, &c->remote.sa))
			evrec_gloss(&r, TR("kernel sent SYN (1st handshake); to this machine's own "
			    "address, through lo: SYN+ACK and ACK completed inside connect(), so the "
			    "socket is already ESTABLISHED",
			    "内核发出了 SYN（第一次握手）；目标是本机自己的地址，经过 lo：SYN+ACK "
			    "和 ACK 在 connect() 内部就完成了，所以套接字已经是 ESTABLISHED"));
		else if (st == TCPI_ESTABLISHED)
			evrec_gloss(&r, TR("kernel sent SYN (1st handshake); the peer's SYN+ACK came "
			    "back before connect() returned and the kernel sent the ACK, so the socket "
			    "is already ESTABLISHED (a fast link)",
			    "内核发出了 SYN（第一次握手）；对方的 SYN+ACK 在 connect() 返回之前就"
			    "回来了，内核也发出了 ACK，所以套接字已经是 ESTABLISHED（链路很快）"));
		else if (st == TCPI_SYN_SENT)
			evrec_gloss(&r, TR("kernel sent SYN (1st handshake) and waits for SYN+ACK: not "
			    "answered at once, so the state is still SYN_SENT",
			    "内核发出了 SYN（第一次握手），正在等待 SYN+ACK：没有立即得到回答，所"
			    "以状态仍是 SYN_SENT"));
		else
			evrec_gloss(&r, TR("kernel sent SYN (1st handshake)",
			    "内核发出了 SYN（第一次握手）"));
		evrec_emit(&r);
	}
	/* --capture: the SYN, and on loopback the SYN+ACK and ACK, were sent inside connect(). */
	seglog_bind(c->id, (struct sockaddr *)&c->local, (struct sockaddr *)&c->remote, 1);
	/* Loopback usually finishes the handshake inside connect(); when it did not (the
	 * server's accept queue is full and our SYN was dropped), follow SYN_SENT. */
	if (tcpinfo_state(c->fd) == TCPI_SYN_SENT)
		tcpwatch_start(base, c->id, (struct sockaddr *)&c->local,
		    (struct sockaddr *)&c->remote, TCPI_SYN_SENT, TCPWATCH_CONNECT);
	return c;
}

int
conn_write(struct conn *c, const void *buf, size_t len)
{
	if (c->phase != PHASE_OPEN || park_wake(c) == -1)
		return -1;
	return bufferevent_write(c->bev, buf, len);
}

/* Bytes read and not yet consumed by the application (0 while parked: nothing is). */
size_t
conn_input_length(const struct conn *c)
{
	return c->bev != NULL ? evbuffer_get_length(bufferevent_get_input(c->bev)) : 0;
}

/* The bytes read and not yet consumed, as the read callback gets them; NULL if the
 * connection cannot have any (not open, or no bufferevent could be made). */
struct evbuffer *
conn_input(struct conn *c)
{
	if (!conn_readable(c) || park_wake(c) == -1)
		return NULL;
	return bufferevent_get_input(c->bev);
}

/* Bytes the application wrote that the kernel has not taken yet (0 while parked: none). */
size_t
conn_output_length(const struct conn *c)
{
	return c->bev != NULL ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

void
conn_set_timeout(struct conn *c, int ms)
{
	struct timeval tv = clock_tv_ms(ms);

	c->timeout_ms = ms;
	if (c->ev_peek != NULL) {
		event_add(c->ev_peek, ms > 0 ? &tv : NULL);
		return;
	}
	if (park_set_timeout(c, ms))
		return;
	if (c->bev != NULL)
		bufferevent_set_timeouts(c->bev, ms > 0 ? &tv : NULL, NULL);
}

/* Also give up when writing makes no progress for ms (a peer that stops reading); 0: off.
 * The read timeout is off meanwhile: conn_set_timeout() sets it again. */
void
conn_set_write_timeout(struct conn *c, int ms)
{
	struct timeval tv = clock_tv_ms(ms);

	park_cancel(c);
	if (park_wake(c) == 0 && c->bev != NULL)
		bufferevent_set_timeouts(c->bev, NULL, ms > 0 ? &tv : NULL);
}

/* Client: the TLS handshake must be done within ms of TCP being up (0: no bound). */
void
conn_set_handshake_timeout(struct conn *c, int ms)
{
	if (c->tls != NULL)
		c->tls->handshake_ms = ms;
}

/* Stop (pause = 1) or resume reading: unread data then fills the kernel's receive buffer and
 * the peer sees a zero window. */
void
conn_pause_read(struct conn *c, int pause)
{
	if (park_wake(c) == -1)
		return;
	c->read_paused = pause != 0;
	if (pause) {
		bufferevent_disable(c->bev, EV_READ);
		if (c->under)
			bufferevent_disable(c->under, EV_READ);
	} else {
		bufferevent_enable(c->bev, EV_READ);
		if (c->under)
			bufferevent_enable(c->under, EV_READ);
	}
}

/* Callbacks hold the connection while they run: an application callback may close it, and
 * the code after it can still read c->phase safely. */
void
conn_hold(struct conn *c)
{
	c->busy++;
}

void
conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->phase == PHASE_CLOSED)
		conn_free(c);
}

/* A closed connection leaves the list, and goes. */
void
conn_dispose(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	/* A callback further up may still look at c (its phase): it frees it on the way out. */
	if (c->busy == 0)
		conn_free(c);
}

static void
bev_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->t_first_byte == 0 && evbuffer_get_length(in) > 0)
		c->t_first_byte = evlog_now_us();
	if (conn_readable(c)) {
		if (c->ops->read)
			c->ops->read(c, in);
		return;
	}
	/* Closing: the application is done; drop what still arrives. */
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
tls_done(struct conn *c)
{
	c->tls->hs_done = 1;
	c->t_tls = evlog_now_us();
	conn_set_timeout(c, 0);
	tls_log_session(c);
	conn_set_phase(c, PHASE_OPEN);
	if (c->ops->ready)
		c->ops->ready(c);
}

static void
bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->phase == PHASE_CONNECTING)
			tcp_connected(c);
		else if (c->phase == PHASE_TLS_HANDSHAKE)
			tls_done(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && park_read_timeout(c) == 0)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->phase == PHASE_OPEN && c->ops->timeout) {
			c->ops->timeout(c);
			return;
		}
		if (c->phase == PHASE_OPEN) {
			conn_close(c, TR("idle timeout",
			    "空闲超时"));
			return;
		}
		conn_abort(c, CONN_ERR_TIMEOUT, c->phase == PHASE_TLS_HANDSHAKE ?
		    TR("timed out during the TLS handshake",
		        "TLS 握手超时") : TR("timed out",
		            "超时"));
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (c->phase == PHASE_CONNECTING || c->phase == PHASE_TLS_HANDSHAKE) {
			close_check_peer_fin(c);
			if (c->use_tls && c->phase == PHASE_TLS_HANDSHAKE)
				tls_log_errors(c, "TLS handshake failed");
			conn_abort(c, c->phase == PHASE_TLS_HANDSHAKE ? CONN_ERR_TLS : CONN_ERR_EOF,
			    c->phase == PHASE_TLS_HANDSHAKE ? TR("the peer closed the connection during "
			    "the TLS handshake",
			    "对方在 TLS 握手期间关闭了连"
			    "接") : TR("the peer closed the connection while connecting",
			        "对方在连接建立期间关闭了连接"));
			return;
		}
		if (c->phase == PHASE_OPEN) {
			/* libevent can report the EOF before the data read with it: deliver that
			 * first. */
			if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
				bev_read(c->bev, c);
			if (c->phase != PHASE_OPEN)
				return;
			/* close_notify, the FIN, or both: the application answers at once (its
			 * reason says which came); its FIN, if still to come, is waited for after
			 * ours, as nginx does. */
			bufferevent_disable(c->bev, EV_READ);
			close_check_peer_fin(c);	/* FIN, RST or not yet: the reason says */
			close_peer_closed(c);
			return;
		}
		if (c->phase == PHASE_FIN_SENT) {
			if (c->half_close &&
			    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
				bev_read(c->bev, c);
			if (c->phase != PHASE_FIN_SENT)
				return;
			if (close_check_peer_fin(c) != 0)
				close_finish(c, conn_close_reason(c));
			else
				close_wait_raw_fin(c);	/* close_notify came first; the FIN follows */
			return;
		}
		/* EOF while still draining or sending close_notify: go on; the FIN step checks. */
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		enum conn_phase ph = c->phase;

		if (err == ECONNREFUSED || err == ECONNRESET || err == EPIPE)
			close_log_reset(c, err);
		if (c->use_tls && ph != PHASE_CONNECTING)
			tls_log_errors(c, ph == PHASE_TLS_HANDSHAKE ? "TLS handshake failed" :
			    "TLS error");
		if (ph >= PHASE_DRAINING) {
			/* A peer that answers our close_notify with a bare FIN (nginx does) can
			 * look like an error to the TLS layer: the kernel says what it was. */
			if (!c->reset)
				close_check_peer_fin(c);
			close_finish(c, conn_close_reason(c));
			return;
		}
		if (ph == PHASE_CONNECTING) {
			char msg[CONN_ERROR_TEXT_LEN];

			snprintf(msg, sizeof(msg), TR("connect to %s: %s", "连接 %s："
			    "%s"), conn_remote_str(c),
			    err ? strerror(err) : TR("failed", "失败"));
			conn_abort(c, err == ECONNREFUSED ? CONN_ERR_REFUSED : CONN_ERR_CONNECT,
			    msg);
		} else if (ph == PHASE_TLS_HANDSHAKE) {
			conn_abort(c, c->reset ? CONN_ERR_RESET : CONN_ERR_TLS,
			    c->reset ? TR("connection reset during the TLS handshake",
			        "TLS 握手期间连接被重置") :
			    TR("TLS handshake failed", "TLS 握手失败"));
		} else {
			conn_abort(c, c->reset ? CONN_ERR_RESET : CONN_ERR_TLS, c->reset ?
			    TR("connection reset by the peer",
			        "连接被对方重置") : TR("TLS or socket error",
			            "TLS 或套接字出错"));
		}
	}
}

/* The event loop both programs use: precise timers, since the kernel's states are sampled
 * every millisecond (libevent's default clock ticks only every few ms). */
struct event_base *
new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *b;

	if (cfg == NULL)
		return event_base_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

/* Close every open connection: gracefully, or (abort) at once, e.g. when the loop has ended. */
void
conn_close_all(const char *reason, int abort)
{
	struct conn *c, *next;

	for (c = all; c != NULL; c = next) {
		next = c->next;
		if (abort)
			close_finish(c, reason);
		else
			conn_close(c, reason);
	}
}

void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* Plain TCP: the rest of what the kernel holds, before seglog_sync() logs the segments
	 * that brought it. */
	if (c->read_big && c->under == NULL)
		conn_read_more(c->fd, bufferevent_get_input(bev));
	/* --capture: the segments that brought these bytes (and ours before them) come first. */
	seglog_sync();
	park_busy(c);
	conn_hold(c);
	bev_read(bev, c);
	conn_release(c);
}

/* The output drained to the write low-water mark (0: empty): tell the application, which may
 * have stopped reading until its responses leave (back-pressure). */
void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->phase != PHASE_OPEN || c->ops->drained == NULL)
		return;
	conn_hold(c);
	c->ops->drained(c);
	conn_release(c);
}

void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	conn_hold(c);
	bev_event(bev, what, c);
	conn_release(c);
}

