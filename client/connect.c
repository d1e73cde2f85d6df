/* connect.c -- the client's connections: the TLS context, the event loop, the name lookup,
 * connecting address by address like curl (with --connect-timeout), the connection's events
 * up to its close (and the exit code a failure means), and --reconnect. */
#include <sys/socket.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "clock.h"
#include "cmdline.h"
#include "conn.h"
#include "evlog.h"
#include "seglog.h"
#include "tcpwatch.h"
#include "tls.h"
#include "url.h"

static void try_next_address(struct client *);
static void redirect_cb(evutil_socket_t, short, void *);

/* The loop ends once the transfer is over, the connection closed, and the kernel's states
 * after close() followed (tcpwatch calls this when its last watch ends). */
void
connect_maybe_exit(void *arg)
{
	struct client *cl = arg;

	/* After a failure nobody waits for the story of the close: exit at once. Not while a
	 * next connection is scheduled: the last one's watch can end just before it starts. */
	if (cl->done && cl->c == NULL && !cl->next_pending &&
	    (!tcpwatch_active() || cl->exit_code != 0))
		event_base_loopexit(cl->base, NULL);
}

/* --kx: the TLS 1.2 cipher suites that use this key exchange (AEAD ones only). */
static const char *
kx_ciphers(int kx)
{
	switch (kx) {
	case KX_RSA:	return "kRSA+AESGCM";
	case KX_ECDHE:	return "kECDHE+AESGCM:kECDHE+CHACHA20";
	default:	return NULL;
	}
}

/* https://: the TLS context every connection's session comes from. Returns -1 (said on
 * stderr) if the options do not make one. */
int
connect_tls_setup(struct client *cl)
{
	const struct client_opts *opt = cl->opt;
	struct tls_opts to;
	char err[512];

	memset(&to, 0, sizeof(to));
	to.cafile = opt->cafile;
	to.crlfile = opt->crlfile;
	to.cert = opt->common.cert;
	to.key = opt->common.key;
	/* --kx picks a TLS 1.2 key exchange (static RSA exists only up to TLS 1.2;
	 * TLS 1.3 always uses (EC)DHE): it offers TLS 1.2 at most. */
	to.min_version = opt->tls_min;
	to.max_version = opt->kx != KX_ANY && opt->tls_max == 0 ? TLS1_2_VERSION :
	    opt->tls_max;
	to.ciphers = opt->kx != KX_ANY ? kx_ciphers(opt->kx) : opt->ciphers;
	to.keylog = opt->keylog;
	to.groups = opt->common.groups;
	to.dissect = opt->common.dissect;
	if ((cl->ctx = tls_ctx_client(&to, err, sizeof(err))) == NULL) {
		fprintf(stderr, "client: %s\n", err);
		return -1;
	}
	SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_PEER, trust_verify_cb);
	/* Sessions are kept for the connections after the first: --reconnect, and -n's fresh
	 * connection after a server closed without saying so. */
	if (opt->reconnect > 1 || opt->requests > 1)
		repeat_init(cl->ctx, opt->reuse_ticket);
	if (opt->kx != KX_ANY)
		evlog(EVT_WARNING, 0, -1, TR("--kx %s: offering only TLS 1.2 cipher suites "
		    "with %s key exchange (%s) and TLS 1.2 at most: %s", "--kx %s：只提供使用 %s "
		    "密钥交换的 TLS 1.2 密码套件（%s），最高 TLS 1.2：%s"),
		    opt->kx == KX_RSA ? "rsa" : "ecdhe", opt->kx == KX_RSA ? "static RSA" :
		    "ECDHE", kx_ciphers(opt->kx), options_kx_why_12(opt->kx));
	return 0;
}

/* ---- the connection's events ---- */

/* TCP is up (with TLS: the handshake is done): check the trust, then send the request. */
static void
client_ready(struct conn *c)
{
	struct client *cl = c->arg;

	if (cl->conn_no <= 1) {
		cl->t_tcp = c->t_tcp;
		cl->t_tls = c->t_tls;
	}
	cl->ai_ok = cl->ai_cur;
	if (c->ssl != NULL) {
		cl->cur.handshake_done = 1;
		cl->cur.resumed = SSL_session_reused(c->ssl);
		if (cl->conn_no > 1)
			repeat_check_resumed(c, cl->cur.resumed);
		snprintf(cl->cur.version, sizeof(cl->cur.version), "%s", SSL_get_version(c->ssl));
	}
	if (cl->opt->show_certs && c->ssl != NULL)
		trust_show_chain(stderr, c->ssl);
	if (c->use_tls && !trust_decide(cl, c)) {
		fetch_finish(cl, EXIT_UNTRUSTED, TR("certificate of %s not trusted: %s",
		    "%s 的证书不受信任：%s"), cl->u.host,
		    tls_verify_plain(tls_verify_first_error(c, NULL)));
		conn_close(c, TR("certificate refused", "证书被拒绝"));
		return;
	}
	fetch_request(cl, c);
}

/* --pause-read, after the request: stop reading for a while. */
void
connect_pause_read(struct client *cl, struct conn *c)
{
	const struct client_opts *opt = cl->opt;
	struct timeval tv = clock_tv_ms(opt->pause_read_ms);
	struct evrec pr;

	if (cl->pause_timer == NULL)
		return;
	conn_pause_read(c, 1);
	evtimer_add(cl->pause_timer, &tv);
	if (evrec_begin(&pr, EVT_PAUSE_READ, c->id, c->fd)) {
		evrec_int(&pr, "ms", opt->pause_read_ms);
		evrec_detail(&pr, TR("not reading for %d ms (--pause-read)",
		    "%d ms 内不读取（--pause-read）"), opt->pause_read_ms);
		evrec_gloss(&pr, "%s", TR("unread data fills our receive buffer and we advertise "
		    "a zero window: the server's data, and its FIN behind it, must wait (the "
		    "server sits in FIN_WAIT1 or LAST_ACK, probing the window)", "未读的数据填满"
		    "我方的接收缓冲区，我方通告零窗口：服务器的数据以及其后的 FIN 都必须等待"
		    "（服务器停在 FIN_WAIT1 或 LAST_ACK，发送零窗口探测）"));
		evrec_emit(&pr);
	}
}

static void
pause_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	if (cl->c != NULL) {
		evlog(EVT_PAUSE_READ, cl->c->id, cl->c->fd, "%s", TR("reading again",
		    "重新开始读取"));
		conn_pause_read(cl->c, 0);
	}
}

static void
client_peer_closed(struct conn *c)
{
	struct client *cl = c->arg;
	const struct client_opts *opt = cl->opt;

	char why[256];	/* the peer's close in words: Chinese takes 3 bytes a character */

	if (!cl->done)
		fetch_server_closed(cl, c);
	/* Which came, TLS's close_notify or TCP's FIN, is in the reason: not "closed". */
	snprintf(why, sizeof(why), TR("%sthe server %s", "%s服务器%s"), opt->common.abort ?
	    TR("--abort: ", "--abort：") : "", conn_peer_close_what(c));
	if (opt->common.abort) {
		conn_reset(c, why);
		return;
	}
	if (opt->common.hold_close_ms > 0 && cl->hold_timer != NULL) {
		struct timeval tv = clock_tv_ms(opt->common.hold_close_ms);

		conn_log_hold_close(c, opt->common.hold_close_ms);
		evtimer_add(cl->hold_timer, &tv);
		return;
	}
	conn_close(c, why);
}

static void
hold_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	if (cl->c != NULL)
		conn_close(cl->c, TR("the server sent its FIN (we held ours: --hold-close)",
		    "服务器发来了它的 FIN（我方推迟了自己的 FIN：--hold-close）"));
}

static void
client_timeout(struct conn *c)
{
	fetch_finish(c->arg, EXIT_TIMEOUT, "%s", TR("timed out waiting for the server",
	    "等待服务器超时"));
	conn_close(c, TR("timeout", "超时"));
}

/* This connection's figures for the summary (-n, --reconnect). */
static void
record_conn(struct client *cl, struct conn *c)
{
	cl->cur.conn_id = c->id;
	cl->cur.tls = c->use_tls;
	cl->cur.connect_ms = c->t_tcp ? (c->t_tcp - c->t_start) / 1000.0 : 0;
	cl->cur.handshake_ms = c->t_tls && c->t_tcp ? (c->t_tls - c->t_tcp) / 1000.0 : 0;
	cl->cur.total_ms = (evlog_now_us() - c->t_start) / 1000.0;
	repeat_record(&cl->cur);
	memset(&cl->cur, 0, sizeof(cl->cur));
}

/* -n: request k again, first on a fresh connection to the address that worked (the server
 * closed the last one without answering it: fetch_retry()). */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	int k = cl->req_no;

	(void)fd;
	(void)what;
	cl->next_pending = 0;
	cl->conn_no++;
	cl->retries++;
	fetch_reset(cl);
	cl->retry = 0;
	cl->req_no = k - 1;		/* the series of -n goes on with request k */
	cl->cur.retried = 1;
	cl->last_attempt[0] = '\0';
	cl->ai_next = cl->ai_ok;
	try_next_address(cl);
}

/* Run cb once from the loop (not from inside a closed callback); until it runs the loop does
 * not end. Returns 0, -1 without memory. */
static int
schedule_next(struct client *cl, event_callback_fn cb)
{
	if (event_base_once(cl->base, -1, EV_TIMEOUT, cb, cl, NULL) != 0)
		return -1;
	cl->next_pending = 1;
	return 0;
}

/* --reconnect: the next connection, to the address that worked, after the last one has
 * gone (not from inside its closed callback). */
static void
reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	cl->next_pending = 0;
	if (cl->exit_code != 0) {
		connect_maybe_exit(cl);
		return;
	}
	cl->conn_no++;
	fetch_reset(cl);
	cl->last_attempt[0] = '\0';
	cl->ai_next = cl->ai_ok;
	try_next_address(cl);
}

/* After a yes at the trust question: a new connection to the address that presented the
 * certificate (trust.c logged why); its verify callback accepts exactly that certificate.
 * It takes the refused connection's place: it is not one more of --reconnect's. */
void
connect_again(struct client *cl)
{
	fetch_reset(cl);
	cl->last_attempt[0] = '\0';
	cl->ai_next = cl->ai_cur;
	try_next_address(cl);
}

static void
next_address_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	cl->next_pending = 0;
	try_next_address(cl);
}

/* A TLS failure: the exit code and the words for it. */
static void
tls_failed(struct client *cl, struct conn *c)
{
	const struct client_opts *opt = cl->opt;
	int e;

	/* On a terminal a refused certificate is asked about now, with nothing open. */
	if (trust_ask_after_close(cl, c) == 0)
		return;

	if (c->error_phase == PHASE_TLS_HANDSHAKE && cl->seen.refused && cl->pin.on) {
		fetch_finish(cl, EXIT_UNTRUSTED, TR("certificate of %s not trusted: not the one "
		    "you accepted on connection #%u (sha256 %s), and this one is not trusted "
		    "either: %s", "%s 的证书不受信任：不是你在连接 #%u 上接受的那张（sha256 %s），"
		    "这张本身也不受信任：%s"),
		    cl->u.host, cl->pin.conn_id, cl->pin.sha256,
		    tls_verify_plain(tls_verify_first_error(c, NULL)));
		return;
	}
	if (c->error_phase == PHASE_TLS_HANDSHAKE && cl->seen.refused) {
		e = tls_verify_first_error(c, NULL);
		fetch_finish(cl, EXIT_UNTRUSTED, TR("certificate of %s not trusted: %s (error %d)",
		    "%s 的证书不受信任：%s（错误 %d）"),
		    cl->u.host, tls_verify_plain(e), e);
		return;
	}
	if (tls_alert_received(c) == 116) {
		/* TLS 1.3: our side of the handshake was done; the refusal comes on the
		 * first read. curl exits 56 here; it is a handshake failure, so 35. */
		fetch_finish(cl, EXIT_TLS, "%s", TR("the server requires a client certificate "
		    "(TLS alert certificate_required, 116): pass --cert FILE --key FILE",
		    "服务器要求客户端证书（TLS 告警 certificate_required，116）：请加上 --cert "
		    "FILE --key FILE"));
		return;
	}
	if (tls_alert_received(c) == 40 && opt->common.groups != NULL) {
		fetch_finish(cl, EXIT_TLS, TR("the server ended the TLS session with alert "
		    "handshake_failure (40): most likely it accepts none of the key "
		    "exchange groups we offered (--groups %s)", "服务器以告警 handshake_failure"
		    "（40）结束了 TLS 会话：很可能我方提供的密钥交换组它一个也不接受（--groups "
		    "%s）"), opt->common.groups);
		return;
	}
	if (tls_alert_received(c) == 40 && opt->kx == KX_RSA) {
		/* Only the refusal is known: the alert came before any certificate. */
		fetch_finish(cl, EXIT_TLS, TR("the server refused RSA key transport (--kx rsa): "
		    "alert handshake_failure (40) to a ClientHello that offered only %s. It may "
		    "have no RSA certificate (handshake-lab's server has one on --rsa-port "
		    "only), or turn the TLS_RSA_* suites off (no forward secrecy: many servers "
		    "do), or take none of these suites", "服务器拒绝 RSA 密钥传输（--kx rsa）："
		    "对只提供 %s 的 ClientHello（客户端问候）回了告警 handshake_failure（40）。"
		    "它可能没有 RSA 证书（handshake-lab 的服务器只在 --rsa-port 上有），或关闭了 "
		    "TLS_RSA_* 套件（没有前向保密：很多服务器都关了），或这些套件它都不接受"),
		    kx_ciphers(KX_RSA));
		return;
	}
	if (tls_alert_received(c) >= 0) {
		fetch_finish(cl, EXIT_TLS, TR("the server ended the TLS session with alert %s "
		    "(%d)", "服务器以告警 %s（%d）结束了 TLS 会话"),
		    tls_alert_name(tls_alert_received(c)), tls_alert_received(c));
		return;
	}
	fetch_finish(cl, c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS : EXIT_RECV,
	    TR("%s with %s", "与 %2$s 的 %1$s"), c->error_phase == PHASE_TLS_HANDSHAKE ?
	    TR("TLS handshake failed", "TLS 握手失败") : TR("TLS error", "TLS 出错"),
	    conn_remote_str(c));
}

/* The connection is gone: the next connection (--reconnect), the next address, the end of
 * the transfer, or the exit code its failure means (curl's). */
static void
client_closed(struct conn *c)
{
	struct client *cl = c->arg;

	cl->t_end = evlog_now_us();
	if (cl->conn_no <= 1) {
		cl->t_tcp = c->t_tcp;
		cl->t_tls = c->t_tls;
	}
	if (cl->c == c)
		cl->c = NULL;
	if (cl->connect_timer)
		evtimer_del(cl->connect_timer);
	if (cl->hold_timer)
		evtimer_del(cl->hold_timer);
	if (c->error == CONN_OK && !cl->done) {
		/* Closed cleanly before the response was whole (e.g. after a half-close). */
		fetch_server_closed(cl, c);
	} else if (c->error != CONN_OK && c->error_phase == PHASE_OPEN &&
	    (c->error == CONN_ERR_RESET || c->error == CONN_ERR_EOF ||
	    c->error == CONN_ERR_TLS)) {
		/* A reset (or a TLS error) where a FIN would have been: the same dead
		 * keep-alive connection, if request k got nothing. */
		fetch_retry(cl, c);
	}
	fetch_note_connection(cl, c);	/* -w: a connection that carried no request too */
	if (c->t_tcp != 0)
		record_conn(cl, c);
	if (cl->retry && cl->ai_ok != NULL) {
		if (schedule_next(cl, retry_cb) == 0)
			return;
		cl->retry = 0;
		fetch_finish(cl, EXIT_FAIL, TR("cannot start a fresh connection for request %d: "
		    "out of memory", "无法为第 %d 个请求建立新连接：内存不足"), cl->req_no);
		return;
	}
	if (cl->redirect_pending && cl->exit_code == 0) {	/* -L: the next hop */
		if (schedule_next(cl, redirect_cb) == 0)
			return;
		fetch_finish(cl, EXIT_FAIL, "%s", TR("cannot follow the redirect: out of memory",
		    "无法跟随重定向：内存不足"));
		return;
	}
	if (cl->done && cl->exit_code == 0 && cl->conn_no - cl->retries < cl->opt->reconnect &&
	    cl->ai_ok != NULL) {
		if (schedule_next(cl, reconnect_cb) == 0)
			return;
		fetch_finish(cl, EXIT_FAIL, TR("cannot start connection %d of %d (--reconnect): "
		    "out of memory", "无法建立第 %d 个连接（共 %d 个，--reconnect）：内存不足"),
		    cl->conn_no - cl->retries + 1, cl->opt->reconnect);
		return;
	}
	if (c->error == CONN_OK || cl->done) {
		cl->done = 1;
		connect_maybe_exit(cl);
		return;
	}
	switch (c->error) {
	case CONN_ERR_REFUSED:
	case CONN_ERR_CONNECT:
	case CONN_ERR_TIMEOUT:
		if (c->error_phase == PHASE_CONNECTING) {
			snprintf(cl->last_attempt, sizeof(cl->last_attempt), "%s",
			    conn_error_text(c));
			/* Not from inside this callback: a failure can come from within
			 * conn_connect() itself (connect() failing at once). */
			if (schedule_next(cl, next_address_cb) == 0)
				return;
			fetch_finish(cl, EXIT_FAIL, "%s", TR("cannot try the next address: out "
			    "of memory", "无法尝试下一个地址：内存不足"));
			return;
		}
		fetch_finish(cl, c->error == CONN_ERR_TIMEOUT ? EXIT_TIMEOUT : EXIT_RECV, "%s",
		    conn_error_text(c));
		return;
	case CONN_ERR_TLS:
		tls_failed(cl, c);
		return;
	case CONN_ERR_RESET:
		fetch_finish(cl, c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS : EXIT_RECV,
		    TR("connection reset by %s", "连接被 %s 复位（RST）"), conn_remote_str(c));
		return;
	default:
		fetch_finish(cl, c->error_phase == PHASE_TLS_HANDSHAKE ? EXIT_TLS :
		    cl->got_bytes ? EXIT_RECV : EXIT_EMPTY, "%s", conn_error_text(c)[0] ?
		    conn_error_text(c) : TR("connection failed", "连接失败"));
		return;
	}
}

/* A connection fails: -w notes it while its SSL still holds the certificate check's result
 * (curl reports the address and ssl_verify_result of a refused handshake), then the trust
 * check explains a refused certificate. */
static void
client_failed(struct conn *c)
{
	fetch_note_connection(c->arg, c);
	trust_failed(c);
}

static const struct conn_ops client_ops = {
	.failed = client_failed,
	.ready = client_ready,
	.read = fetch_read,
	.peer_closed = client_peer_closed,
	.timeout = client_timeout,
	.closed = client_closed,
};

/* ---- connecting, address by address ---- */

static SSL *
new_ssl(struct client *cl)
{
	SSL *ssl;

	if ((ssl = SSL_new(cl->ctx)) == NULL)
		return NULL;
	/* --reconnect: offer the session of the connection before (ticket / PSK). */
	if (cl->conn_no > 1)
		repeat_offer_session(ssl);
	if (!cl->u.host_is_ip) {
		/* SNI goes only with names; the name check is done by OpenSSL itself. */
		SSL_set_tlsext_host_name(ssl, cl->u.host);
		SSL_set1_host(ssl, cl->u.host);
	} else
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cl->u.host);
	return ssl;
}

static void
connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	if (cl->c != NULL && cl->c->phase == PHASE_CONNECTING) {
		char msg[CONN_ERROR_TEXT_LEN];

		/* (try_next_address() finds "--connect-timeout" in it, in either language) */
		snprintf(msg, sizeof(msg), TR("connect to %s: no answer within %d ms "
		    "(--connect-timeout)", "连接 %s：%d ms 内没有应答（--connect-timeout）"),
		    conn_remote_str(cl->c), cl->opt->connect_timeout_ms);
		conn_abort(cl->c, CONN_ERR_TIMEOUT, msg);
	}
}

static void
max_time_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	fetch_finish(cl, EXIT_TIMEOUT, TR("the transfer took longer than %d ms (--max-time)",
	    "传输用时超过 %d ms（--max-time）"), cl->opt->max_time_ms);
	if (cl->c != NULL)
		conn_abort(cl->c, CONN_ERR_TIMEOUT, TR("--max-time reached",
		    "到达 --max-time"));
}

static void
try_next_address(struct client *cl)
{
	struct addrinfo *ai;
	struct timeval tv;
	SSL *ssl = NULL;

	while ((ai = cl->ai_next) != NULL) {
		cl->ai_next = ai->ai_next;
		cl->ai_cur = ai;
		if (cl->u.tls && (ssl = new_ssl(cl)) == NULL) {
			fetch_finish(cl, EXIT_FAIL, "%s", TR("cannot create a TLS session",
			    "无法创建 TLS 会话"));
			return;
		}
		memset(&cl->seen, 0, sizeof(cl->seen));
		cl->c = conn_connect(cl->base, ai->ai_addr, ai->ai_addrlen, ssl, &client_ops, cl);
		if (cl->c == NULL)
			return;		/* it failed at once: client_closed() goes on */
		if (ssl != NULL && cl->conn_no > 1)
			repeat_log_offer(cl->c);	/* what its ClientHello offers to resume */
		/* curl's --connect-timeout covers the TLS handshake too. */
		conn_set_handshake_timeout(cl->c, cl->opt->connect_timeout_ms);
		tv = clock_tv_ms(cl->opt->connect_timeout_ms);
		evtimer_add(cl->connect_timer, &tv);
		return;
	}
	if (cl->last_attempt[0] && strstr(cl->last_attempt, "--connect-timeout") != NULL)
		fetch_finish(cl, EXIT_TIMEOUT, "%s", cl->last_attempt);
	else
		fetch_finish(cl, EXIT_CONNECT, TR("cannot connect to %s port %d (%s)",
		    "无法连接到 %s 端口 %d（%s）"), cl->u.host, cl->u.port,
		    cl->last_attempt[0] ? cl->last_attempt : TR("no address worked",
		    "没有一个地址能连上"));
}

/* --connect-to: where a connection to host:port goes instead (the first entry that
 * matches). Changes host and port; returns 1 if one matched. */
static int
connect_to(const struct client_opts *opt, char *host, size_t hlen, int *port)
{
	char f[4][OPTIONS_FIELD_LEN];
	int i;

	for (i = 0; i < opt->nconnect_to; i++) {
		if (options_map_fields(opt->connect_to[i], f, 4) != 4 ||
		    (f[0][0] && strcasecmp(f[0], host) != 0) ||
		    (f[1][0] && url_parse_port(f[1], 0) != *port))
			continue;
		if (f[2][0])
			snprintf(host, hlen, "%s", f[2]);
		if (f[3][0])
			*port = url_parse_port(f[3], 0);
		return 1;
	}
	return 0;
}

/* --resolve: the addresses given for host:port, in their order (and of -4/-6's family), as
 * getaddrinfo() would have listed them. Returns 1 with the list in *res (NULL: none of the
 * family), 0 if no entry names host:port. */
static int
resolve_flag(const struct client *cl, const char *host, int port, struct addrinfo *hints,
    struct addrinfo **res)
{
	const struct client_opts *opt = cl->opt;
	char f[3][OPTIONS_FIELD_LEN], a[OPTIONS_FIELD_LEN], ps[8];
	struct addrinfo *ai, **tail = res;
	const char *p;
	size_t n;
	int i;

	*res = NULL;
	for (i = 0; i < opt->nresolve; i++) {
		if (options_map_fields(opt->resolve[i], f, 3) != 3 || strcasecmp(f[0], host) != 0 ||
		    url_parse_port(f[1], 0) != port)
			continue;
		snprintf(ps, sizeof(ps), "%d", port);
		hints->ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		for (p = f[2]; *p; p += n + (p[n] == ',')) {
			n = strcspn(p, ",");
			snprintf(a, sizeof(a), "%.*s", (int)n, p);
			if (n > 2 && a[0] == '[' && a[n - 1] == ']') {
				memmove(a, a + 1, n - 2);
				a[n - 2] = '\0';
			}
			/* one list of glibc's nodes: freeaddrinfo() frees node by node */
			if (getaddrinfo(a, ps, hints, tail) != 0)
				continue;	/* not of -4/-6's family */
			for (ai = *tail; ai->ai_next != NULL; ai = ai->ai_next)
				;
			tail = &ai->ai_next;
		}
		return 1;
	}
	return 0;
}

/* Where the connections of this URL go: --connect-to's host and port, or the URL's. */
static void
connect_target(const struct client *cl, char *host, size_t hlen, int *port)
{
	snprintf(host, hlen, "%s", cl->u.host);
	*port = cl->u.port;
	(void)connect_to(cl->opt, host, hlen, port);
}

/* The name lookup (curl's "resolve" step): --connect-to, then --resolve or getaddrinfo(),
 * of -4/-6's family; the resolve event lists the addresses in the order they are tried. */
static int
resolve(struct client *cl)
{
	const struct client_opts *opt = cl->opt;
	struct addrinfo hints;
	char port[8], list[512] = "", a[64], host[OPTIONS_FIELD_LEN];
	struct addrinfo *ai;
	struct evrec r;
	size_t l;
	int e = 0, n = 0, p, moved, given, lit;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = opt->family ? opt->family : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(host, sizeof(host), "%s", cl->u.host);
	p = cl->u.port;
	moved = connect_to(opt, host, sizeof(host), &p);
	lit = url_ip_literal(host);
	if (lit)
		hints.ai_flags = AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%d", p);
	if (lit && opt->family && lit != (opt->family == AF_INET ? 4 : 6)) {
		/* curl: the address exists, it just cannot be used: "Couldn't connect" */
		fetch_finish(cl, EXIT_CONNECT, TR("cannot connect to %s port %d: -%d allows IPv%d "
		    "addresses only", "无法连接到 %s 端口 %d：-%d 只允许 IPv%d 地址"), host, p,
		    opt->family == AF_INET ? 4 : 6, opt->family == AF_INET ? 4 : 6);
		return -1;
	}
	cl->ai_list = NULL;
	given = !lit && resolve_flag(cl, host, p, &hints, &cl->ai_list);
	if (given && cl->ai_list == NULL) {
		fetch_finish(cl, EXIT_RESOLVE, TR("cannot resolve host '%s': --resolve gives it no "
		    "IPv%d address (-%d)", "无法解析主机 '%s'：--resolve 没有给它 IPv%d 地址（-%d）"),
		    host, opt->family == AF_INET ? 4 : 6, opt->family == AF_INET ? 4 : 6);
		return -1;
	}
	if (!given && (e = getaddrinfo(host, port, &hints, &cl->ai_list)) != 0) {
		fetch_finish(cl, EXIT_RESOLVE, TR("cannot resolve host '%s': %s",
		    "无法解析主机名 '%s'：%s"), host, gai_strerror(e));
		return -1;
	}
	for (ai = cl->ai_list; ai != NULL; ai = ai->ai_next, n++) {
		conn_addr_str(ai->ai_addr, a, sizeof(a));
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", a);
	}
	if (evrec_begin(&r, EVT_RESOLVE, 0, -1)) {
		evrec_str(&r, "host", cl->u.host);
		evrec_str(&r, "addresses", list);
		evrec_int(&r, "count", n);
		if (moved)
			evrec_strf(&r, "connect_to", lit == 6 ? "[%s]:%d" : "%s:%d", host, p);
		if (given)
			evrec_str(&r, "source", "--resolve");
		if (opt->family)
			evrec_int(&r, "family", opt->family == AF_INET ? 4 : 6);
		if (moved)
			evrec_detail(&r, lit == 6 ? "%s:%d -> [%s]:%d -> %s" : "%s:%d -> %s:%d -> %s",
			    cl->u.host, cl->u.port, host, p, list);
		else
			evrec_detail(&r, "%s -> %s", cl->u.host, list);
		if (moved)
			evrec_gloss(&r, TR("--connect-to: the connection goes to %s port %d instead "
			    "of %s port %d; the Host header, SNI and the certificate check still "
			    "name %s", "--connect-to：连接改去 %s 端口 %d，而不是 %s 端口 %d；"
			    "Host 头部、SNI 和证书检查仍然使用 %s"), host, p, cl->u.host,
			    cl->u.port, cl->u.host);
		else if (given)
			evrec_gloss(&r, TR("--resolve: the address comes from the command line, not "
			    "from DNS or /etc/hosts; the Host header, SNI and the certificate check "
			    "still name %s", "--resolve：地址来自命令行，而不是 DNS 或 /etc/hosts；"
			    "Host 头部、SNI 和证书检查仍然使用 %s"), cl->u.host);
		else if (opt->family)
			evrec_gloss(&r, TR("-%d: only IPv%d addresses are looked up and tried",
			    "-%d：只查询并尝试 IPv%d 地址"), opt->family == AF_INET ? 4 : 6,
			    opt->family == AF_INET ? 4 : 6);
		else if (n > 1)
			evrec_gloss(&r, TR("%d addresses: tried one after the other, like curl",
			    "%d 个地址：像 curl 一样逐个尝试"), n);
		evrec_emit(&r);
	}
	cl->ai_next = cl->ai_list;
	return 0;
}

/* -L: the next hop on a new connection (redirect.c has set cl->u to its URL), after the
 * last one has gone: a new name lookup, a TLS context if the scheme became https. */
static void
redirect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)what;
	cl->next_pending = 0;
	cl->redirect_pending = 0;
	cl->conn_no++;
	fetch_reset(cl);
	cl->last_attempt[0] = '\0';
	if (cl->ai_list != NULL)
		freeaddrinfo(cl->ai_list);
	cl->ai_list = cl->ai_next = cl->ai_ok = NULL;
	if (cl->u.tls && cl->ctx == NULL && connect_tls_setup(cl) == -1) {
		fetch_finish(cl, EXIT_FAIL, TR("-L: cannot set up TLS for %s",
		    "-L：无法为 %s 建立 TLS"), cl->u.host);
		return;
	}
	if (resolve(cl) == 0)
		try_next_address(cl);
}

/* ---- set-up, run, teardown ---- */

/* The event loop (it ends when the close watch does: connect_maybe_exit), its timers and
 * --capture. Returns -1 (said on stderr) without an event loop. */
int
connect_setup(struct client *cl)
{
	const struct client_opts *opt = cl->opt;

	tcpwatch_on_idle(connect_maybe_exit, cl);
	if ((cl->base = new_base()) == NULL) {
		fprintf(stderr, "%s", TR("client: cannot create the event loop\n",
		    "client：无法创建事件循环\n"));
		return -1;
	}
	cl->connect_timer = evtimer_new(cl->base, connect_timeout_cb, cl);
	cl->hold_timer = evtimer_new(cl->base, hold_done_cb, cl);
	cl->pause_timer = evtimer_new(cl->base, pause_done_cb, cl);
	if (opt->max_time_ms > 0) {
		struct timeval tv = clock_tv_ms(opt->max_time_ms);
		cl->max_timer = evtimer_new(cl->base, max_time_cb, cl);
		evtimer_add(cl->max_timer, &tv);
	}
	if (opt->common.capture) {
		char filter[32], host[OPTIONS_FIELD_LEN];
		int port;

		/* Our local port is known only after connect(): filter on the server's port
		 * (--connect-to's) and match our connection's 4-tuple in seglog; with -L a
		 * redirect may go to any port, so every TCP segment (seglog keeps ours). */
		connect_target(cl, host, sizeof(host), &port);
		if (opt->location)
			snprintf(filter, sizeof(filter), "tcp");
		else
			snprintf(filter, sizeof(filter), "tcp port %d", port);
		cmdline_capture_open(&opt->common, cl->base, filter);
	}
	return 0;
}

/* The transfer: look the name up, connect, and run the loop until it is over; then stop
 * what still runs (a connection left open, the watch of the close, the capture). */
void
connect_run(struct client *cl)
{
	cl->t0 = evlog_now_us();
	cl->conn_no = 1;
	if (resolve(cl) == 0) {
		try_next_address(cl);
		if (!cl->done)
			event_base_dispatch(cl->base);
	}
	if (cl->c != NULL)
		conn_abort(cl->c, CONN_ERR_TIMEOUT, TR("stopped", "已停止"));
	trust_stop(cl);
	tcpwatch_on_idle(NULL, NULL);
	tcpwatch_stop_all();
	seglog_close();
	if (cl->t_end == 0)
		cl->t_end = evlog_now_us();
}

void
connect_free(struct client *cl)
{
	if (cl->ai_list)
		freeaddrinfo(cl->ai_list);
	if (cl->connect_timer)
		event_free(cl->connect_timer);
	if (cl->max_timer)
		event_free(cl->max_timer);
	if (cl->hold_timer)
		event_free(cl->hold_timer);
	if (cl->pause_timer)
		event_free(cl->pause_timer);
	repeat_free();
	SSL_CTX_free(cl->ctx);
	tls_keylog_close();
	event_base_free(cl->base);
}
