/* fetch.c -- the client's HTTP side: send the request, read the response and its body (by
 * length, chunked or until the close), the next request for -n, and at the end the timing
 * line and the error that sets the exit code (-w's output: writeout.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "client.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "url.h"

static void body_done(struct client *, struct conn *, const char *);
static void body_timer_cb(evutil_socket_t, short, void *);

/* How a body ended (the framing field's value), in the log's language. */
static const char *
how_words(const char *how)
{
	if (strcmp(how, "closed by the server") == 0)
		return TR("closed by the server", "服务器关闭连接");
	if (strcmp(how, "no body") == 0)
		return TR("no body", "无响应体");
	if (strcmp(how, "chunked") == 0)
		return TR("chunked", "分块 chunked");
	return how;
}

/* What the client waits for when the server is to close first. */
static const char *
wait_what(struct conn *c)
{
	if (tls_close_notify_received(c))
		return TR("FIN (its TLS close_notify is in)", "FIN（它的 TLS close_notify 已到）");
	return c->use_tls ? TR("close_notify and FIN", "close_notify 和 FIN") : "FIN";
}

/* The transfer is over: remember the first failure, stop the loop. */
void
fetch_finish(struct client *cl, int code, const char *fmt, ...)
{
	va_list ap;

	if (cl->exit_code == 0 && code != 0) {
		cl->exit_code = code;
		va_start(ap, fmt);
		vsnprintf(cl->error, sizeof(cl->error), fmt, ap);
		va_end(ap);
	}
	cl->done = 1;
	connect_maybe_exit(cl);
}

/* -o: where the body goes. Returns -1 (said on stderr) if the file cannot be written. */
int
fetch_open_output(struct client *cl)
{
	static char outbuf[128 * 1024];	/* glibc ignores a size without a buffer */
	const char *output = cl->opt->output;

	cl->out = stdout;
	if (output != NULL && (cl->out = fopen(output, "w")) == NULL) {
		fprintf(stderr, TR("client: cannot write to '%s': %s\n", "client：无法写入 '%s'：%s\n"),
		    output, strerror(errno));
		return -1;
	}
	/* A file or a pipe takes a big body in big writes (a TLS body comes in 4 KiB pieces);
	 * a terminal keeps its line buffering. */
	if (!isatty(fileno(cl->out)))
		setvbuf(cl->out, outbuf, _IOFBF, sizeof(outbuf));
	return 0;
}

/* -H: the user's line for header name, or NULL (the last one given, as curl replaces). */
static const char *
user_header(const struct client_opts *opt, const char *name)
{
	size_t n = strlen(name);
	const char *found = NULL;
	int i;

	for (i = 0; i < opt->nheaders; i++)
		if (strncasecmp(opt->headers[i], name, n) == 0 &&
		    (opt->headers[i][n] == ':' || opt->headers[i][n] == ';'))
			found = opt->headers[i];
	return found;
}

/* One -H line as curl sends it: "NAME: VALUE" as given, "NAME:" alone removes ours (nothing
 * sent), "NAME;" sends NAME empty; a line with neither ':' nor ';' is not sent. Returns 1 if
 * a line goes out, its value in *v (*vlen bytes). */
static int
user_header_sent(const char *h, const char **v, size_t *vlen)
{
	size_t n = strcspn(h, ":;");

	if (h[n] == ':') {
		for (*v = h + n + 1; **v == ' ' || **v == '\t'; (*v)++)
			;
		*vlen = strlen(*v);
		return **v != '\0';
	}
	*v = h + n + 1;
	*vlen = 0;
	return h[n] == ';' && h[n + 1] == '\0';
}

static void
put_user_header(FILE *f, const char *h)
{
	size_t n = strcspn(h, ":;"), vlen;
	const char *v;

	if (!user_header_sent(h, &v, &vlen))
		return;
	if (h[n] == ':')
		fprintf(f, "%s\r\n", h);
	else
		fprintf(f, "%.*s:\r\n", (int)n, h);
}

/* The value of our header name as the request carries it: ours, or the -H line that replaces
 * it; NULL if none goes out (-H 'NAME:' removed it). What the log says was sent. */
static const char *
header_sent(const struct client_opts *opt, const char *name, const char *ours, char *buf,
    size_t len)
{
	const char *u = user_header(opt, name), *v;
	size_t vlen;

	if (u == NULL)
		return ours;
	if (!user_header_sent(u, &v, &vlen))
		return NULL;
	snprintf(buf, len, "%.*s", (int)vlen, v);
	return buf;
}

/* One of our headers, unless -H replaces it: Host in its place (curl's), the others with
 * the user's headers after ours. */
static void
put_header(FILE *f, const struct client_opts *opt, const char *name, const char *value)
{
	const char *u = user_header(opt, name);

	if (u == NULL)
		fprintf(f, "%s: %s\r\n", name, value);
	else if (strcasecmp(name, "Host") == 0)
		put_user_header(f, u);
}

/* The request head, as curl writes it: our headers, -H's, the body's. Returns a malloc'd string
 * (*len its length), or NULL. */
static char *
build_request(const struct client *cl, const char *method, int body, const char *host,
    size_t *len)
{
	const struct client_opts *opt = cl->opt;
	char *req = NULL, clen[32];
	FILE *f;
	int i;

	if ((f = open_memstream(&req, len)) == NULL)
		return NULL;
	fprintf(f, "%s %s HTTP/1.%d\r\n", method, cl->u.path, opt->http10 ? 0 : 1);
	put_header(f, opt, "Host", host);
	put_header(f, opt, "User-Agent", "handshake-lab");
	put_header(f, opt, "Accept", "*/*");
	/* "Connection: close" asks the server to close first (--close-first server). */
	if (opt->common.server_closes_first)
		put_header(f, opt, "Connection", "close");
	for (i = 0; i < opt->nheaders; i++)
		if (strncasecmp(opt->headers[i], "Host", 4) != 0 ||
		    strchr(":;", opt->headers[i][4]) == NULL || opt->headers[i][4] == '\0')
			put_user_header(f, opt->headers[i]);
	/* the body's headers last, as curl writes them */
	if (body) {
		snprintf(clen, sizeof(clen), "%zu", opt->data_len);
		put_header(f, opt, "Content-Length", clen);
		put_header(f, opt, "Content-Type", "application/x-www-form-urlencoded");
	}
	fputs("\r\n", f);
	if (fclose(f) != 0) {
		free(req);
		return NULL;
	}
	return req;
}

/* What -w reports of the last connection made (TCP up, as curl's num_connects counts): its
 * address, the certificate check's result (OpenSSL's, as curl's ssl_verify_result). Noted
 * at its first request, or at its close if it carried none (a refused certificate). */
void
fetch_note_connection(struct client *cl, struct conn *c)
{
	char a[80], *colon;

	if (c->t_tcp == 0 || cl->w_conn_id == c->id)
		return;
	cl->w_conn_id = c->id;
	cl->w_connects++;
	conn_addr_str(&c->remote.sa, a, sizeof(a));
	if ((colon = strrchr(a, ':')) != NULL) {
		cl->w_port = atoi(colon + 1);
		*colon = '\0';
	}
	snprintf(cl->w_ip, sizeof(cl->w_ip), "%.*s", (int)strcspn(a + (a[0] == '['), "]"),
	    a + (a[0] == '['));
	cl->w_verify = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : 0;
}

/* -w time_connect and time_appconnect, curl's way: each hop (-L) adds the time from its
 * start to its connection's connect and handshake; a hop on the connection already open adds
 * the moment it found it ready. Only the first request of a run counts without -L. */
static void
hop_times(struct client *cl, struct conn *c)
{
	int64_t hop0 = cl->w_hop_t0 ? cl->w_hop_t0 : cl->t0, now = evlog_now_us();

	if (cl->w_hop_timed)
		return;
	cl->w_hop_timed = 1;
	cl->w_connect_us += (c->t_tcp >= hop0 ? c->t_tcp : now) - hop0;
	if (c->use_tls)
		cl->w_appconnect_us += (c->t_tls >= hop0 ? c->t_tls : now) - hop0;
}

/* The connection is ready (and trusted): send the request. */
void
fetch_request(struct client *cl, struct conn *c)
{
	char host[URL_MAX_HOST + 16], *req, hbuf[512], cbuf[128], hshow[600];
	const struct client_opts *opt = cl->opt;
	const char *host_out, *conn_out;
	const char *method = redirect_method(cl);	/* -L: a 303 makes it GET */
	/* -d's body goes with its method: a redirect that turns POST into GET drops it, as curl */
	int body = opt->data != NULL && strcmp(method, opt->method) == 0;
	struct evrec r;
	size_t n;

	url_host_header(&cl->u, host, sizeof(host));
	if ((req = build_request(cl, method, body, host, &n)) == NULL) {
		fetch_finish(cl, EXIT_FAIL, "%s", TR("out of memory for the request",
		    "内存不足，无法构造请求"));
		conn_close(c, TR("out of memory", "内存不足"));
		return;
	}
	cl->req_no++;
	cl->cur.requests++;
	fetch_note_connection(cl, c);
	hop_times(cl, c);
	/* The Host and the Connection the request carries: -H may replace or remove ours. */
	host_out = header_sent(opt, "Host", host, hbuf, sizeof(hbuf));
	conn_out = header_sent(opt, "Connection", opt->common.server_closes_first ? "close" :
	    NULL, cbuf, sizeof(cbuf));
	cl->sent_close = conn_out != NULL && strcasecmp(conn_out, "close") == 0;
	if (host_out != NULL && *host_out == '\0')
		snprintf(hshow, sizeof(hshow), "%s", TR("Host: (empty)", "Host:（空）"));
	else if (host_out != NULL)
		snprintf(hshow, sizeof(hshow), "Host: %s", host_out);
	else
		snprintf(hshow, sizeof(hshow), "%s", TR("no Host header (-H 'Host:')",
		    "没有 Host 首部（-H 'Host:'）"));
	if (evrec_begin(&r, EVT_REQUEST, c->id, c->fd)) {
		evrec_str(&r, "method", method);
		evrec_str(&r, "target", cl->u.path);
		if (host_out != NULL)
			evrec_str(&r, "host", host_out);
		else
			evrec_bool(&r, "no_host", 1);
		if (conn_out != NULL)
			evrec_str(&r, "connection", conn_out);
		evrec_int(&r, "len", (long long)n);
		if (body)
			evrec_int(&r, "body_len", (long long)opt->data_len);
		evrec_int(&r, "req", cl->req_no);
		if (opt->requests > 1)
			evrec_label(&r, "> %s %s (%d/%d)", method, cl->u.path, cl->req_no,
			    opt->requests);
		else
			evrec_label(&r, "> %s %s", method, cl->u.path);
		if (body)
			evrec_detail(&r, TR("HTTP/1.%d  %s  (%zu B, then a body of %zu B)",
			    "HTTP/1.%d  %s（%zu B，随后是 %zu B 的请求体）"), opt->http10 ? 0 : 1,
			    hshow, n, opt->data_len);
		else
			evrec_detail(&r, "HTTP/1.%d  %s  (%zu B)", opt->http10 ? 0 : 1, hshow, n);
		if (cl->cur.requests > 1)
			evrec_gloss(&r, TR("request %d on the same connection (keep-alive): no new "
			    "TCP or TLS handshake", "同一连接上的第 %d 个请求（keep-alive 持久连接）："
			    "不再做 TCP 或 TLS 握手"), cl->req_no);
		else if (cl->cur.retried)
			evrec_gloss(&r, TR("request %d again, on a fresh connection: the server "
			    "closed the last one without answering it", "在新连接上重发第 %d 个请求："
			    "服务器没有应答就关闭了上一个连接"), cl->req_no);
		else if (body && c->use_tls)
			evrec_gloss(&r, TR("the request and its %zu-byte body (a form, a password "
			    "...) travel inside encrypted TLS records: the path sees only their "
			    "sizes", "请求和它 %zu 字节的请求体（表单、密码……）在加密的 TLS 记录里传输："
			    "路径上只看得到记录的长度"), opt->data_len);
		else if (body)
			evrec_gloss(&r, TR("the request and its %zu-byte body (a form, a password "
			    "...) travel in clear text: anyone on the path can read them", "请求和它 "
			    "%zu 字节的请求体（表单、密码……）以明文传输：路径上的任何人都能读到"),
			    opt->data_len);
		else
			evrec_gloss(&r, "%s", c->use_tls ? TR("the request travels inside encrypted "
			    "TLS records", "请求装在加密的 TLS 记录里传输") : TR("the request travels "
			    "in clear text: anyone on the path can read it", "请求以明文传输：路径上的"
			    "任何人都能读到"));
		redirect_log_request(cl, &r);
		evrec_emit(&r);
	}
	cl->t_request = evlog_now_us();
	if (cl->cur.requests == 1)		/* the first on this connection */
		cl->t_first_request = cl->t_request;
	conn_write(c, req, n);
	free(req);
	/* -d: the body once the head has gone to the kernel (body_timer_cb), so that it
	 * leaves in a segment of its own, where --wire shows its first bytes; with
	 * --half-close at once, before our FIN. */
	if (body && opt->data_len > 0) {
		struct timeval tv = { 0, 1000 };

		if (opt->half_close ||
		    event_base_once(cl->base, -1, EV_TIMEOUT, body_timer_cb, cl, &tv) == -1)
			conn_write(c, opt->data, opt->data_len);
		else
			cl->body_pending = c->id;
	}
	if (opt->pause_read_ms > 0)
		connect_pause_read(cl, c);
	if (opt->half_close) {
		if (c->ssl != NULL && SSL_version(c->ssl) != TLS1_3_VERSION)
			evlog(EVT_WARNING, c->id, c->fd, "%s", TR("--half-close needs plain HTTP or "
			    "TLS 1.3: TLS 1.2 ends the whole session at close_notify; closing "
			    "normally", "--half-close 只用于明文 HTTP 或 TLS 1.3：TLS 1.2 在 "
			    "close_notify 处结束整个会话；按正常方式关闭"));
		else
			conn_shutdown_write(c, TR("--half-close: the request is all we send",
			    "--half-close：只发送这个请求，之后不再发送"));
	}
}

/* -d: the body follows the head once the head has left our buffer for the kernel (checked
 * each millisecond), so that it goes in a segment of its own. */
static void
body_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	struct conn *c = cl->c;
	struct timeval tv = { 0, 1000 };

	(void)fd;
	(void)what;
	if (cl->body_pending == 0)
		return;
	if (c == NULL || c->id != cl->body_pending || c->phase != PHASE_OPEN) {
		cl->body_pending = 0;		/* its connection is gone */
		return;
	}
	if (conn_output_length(c) > 0) {
		event_base_once(cl->base, -1, EV_TIMEOUT, body_timer_cb, cl, &tv);
		return;
	}
	cl->body_pending = 0;
	conn_write(c, cl->opt->data, cl->opt->data_len);
}

static int
write_body(struct client *cl, const char *p, size_t n)
{
	const struct client_opts *opt = cl->opt;

	if (n == 0)
		return 0;
	if (redirect_skip_body(cl)) {	/* -L: only the last response's body is written */
		cl->body_bytes += n;
		return 0;
	}
	/* Per response, as curl's per file (-n and --reconnect fetch several). */
	if (opt->max_filesize > 0 &&
	    cl->body_bytes - cl->body_start + n > (uint64_t)opt->max_filesize) {
		fetch_finish(cl, EXIT_FILESIZE, TR("maximum file size exceeded: the body is "
		    "larger than %lld bytes (--max-filesize)", "超过最大文件大小：响应体大于 %lld "
		    "字节（--max-filesize）"), opt->max_filesize);
		return -1;
	}
	if (fwrite(p, 1, n, cl->out) != n) {
		fetch_finish(cl, EXIT_WRITE, TR("cannot write the body to %s: %s",
		    "无法把响应体写入 %s：%s"), opt->output ? opt->output : TR("standard output",
		    "标准输出"), strerror(errno));
		return -1;
	}
	cl->body_bytes += n;
	return 0;
}

/* The first n bytes of in, as they lie in its chains (no copy into one piece), then drained. */
static int
write_buffered(struct client *cl, struct evbuffer *in, size_t n)
{
	struct evbuffer_iovec v[8];
	size_t done = 0, k;
	int i, nv;

	while (done < n) {
		nv = evbuffer_peek(in, (ev_ssize_t)(n - done), NULL, v, 8);
		if (nv <= 0)
			break;
		for (i = 0, k = 0; i < nv && i < 8 && done + k < n; i++) {
			size_t len = v[i].iov_len < n - done - k ? v[i].iov_len : n - done - k;

			if (write_body(cl, v[i].iov_base, len) == -1)
				return -1;
			k += len;
		}
		if (k == 0)
			break;
		evbuffer_drain(in, k);
		done += k;
	}
	return 0;
}

/* A fresh response state, for the next request (-n) or the next connection (--reconnect). */
static void
response_reset(struct client *cl)
{
	memset(&cl->resp, 0, sizeof(cl->resp));
	cl->have_head = 0;
	cl->resp_got = 0;
	cl->heads_bytes = 0;
	cl->interim = 0;
	cl->body_left = 0;
	cl->body_start = cl->body_bytes;
	cl->done = 0;
}

/* --reconnect: the next connection starts with no request sent and no byte received. */
void
fetch_reset(struct client *cl)
{
	response_reset(cl);
	cl->req_no = 0;
	cl->got_bytes = 0;
}

/* -n: the next request on the same connection, with a fresh response state. */
static void
next_request(struct client *cl, struct conn *c)
{
	response_reset(cl);
	c->t_first_byte = 0;
	fetch_request(cl, c);
}

/* We stop taking the body: a refused size is ended with RST (the rest stays unread, as when
 * curl gives up), a write error with the normal close. */
static void
body_failed(struct client *cl, struct conn *c)
{
	if (cl->exit_code == EXIT_FILESIZE)
		conn_reset(c, TR("maximum file size exceeded: not reading the rest",
		    "超过最大文件大小：其余部分不再读取"));
	else
		conn_close(c, TR("cannot write the body", "无法写出响应体"));
}

/* One more response came whole (for the summary of -n and --reconnect). */
static void
count_whole(struct client *cl)
{
	cl->cur.responses++;
	cl->cur.requests_ms = (evlog_now_us() - cl->t_first_request) / 1000.0;
}

/* The whole response is here: log it, then (unless the server is to close first) close. */
static void
response_complete(struct client *cl, struct conn *c, const char *how)
{
	const struct client_opts *opt = cl->opt;

	body_done(cl, c, how);
	count_whole(cl);
	if (redirect_follow(cl, c)) {	/* -L: the next hop, on this connection */
		next_request(cl, c);
		return;
	}
	if (cl->req_no < opt->requests && cl->exit_code == 0) {
		if (cl->resp.keep_alive && !c->half_close) {
			next_request(cl, c);
			return;
		}
		fetch_finish(cl, EXIT_FAIL, TR("the server closes the connection after request "
		    "%d of %d (Connection: close): -n needs a keep-alive server", "服务器在第 %d "
		    "个请求（共 %d 个）之后关闭连接（Connection: close）：-n 需要支持 keep-alive "
		    "的服务器"), cl->req_no, opt->requests);
	}
	if (opt->common.abort)
		conn_reset(c, TR("--abort: the response is complete", "--abort：响应已完整"));
	else if (!opt->common.server_closes_first && (cl->resp.keep_alive || c->half_close))
		conn_close(c, TR("response complete", "响应已完整"));
}

static void
body_done(struct client *cl, struct conn *c, const char *how)
{
	const struct client_opts *opt = cl->opt;
	struct evrec r;

	if (fflush(cl->out) != 0 || ferror(cl->out))
		fetch_finish(cl, EXIT_WRITE, TR("cannot write the body to %s: %s",
		    "无法把响应体写入 %s：%s"), opt->output ? opt->output : TR("standard output",
		    "标准输出"), strerror(errno));
	cl->done = 1;
	cl->w_t_done = evlog_now_us();	/* -w time_total: the transfer, not the close after */
	conn_read_big(c, 0);
	if (evrec_begin(&r, EVT_BODY, c->id, c->fd)) {
		uint64_t n = cl->body_bytes - cl->body_start;

		evrec_int(&r, "bytes", (long long)n);
		evrec_str(&r, "framing", how);
		evrec_int(&r, "req", cl->req_no);
		evrec_detail(&r, TR("%llu B received (%s)", "收到 %llu B（%s）"),
		    (unsigned long long)n, how_words(how));
		if (cl->req_no < opt->requests && cl->resp.keep_alive && !opt->common.abort)
			evrec_gloss(&r, "%s", TR("the whole response is here; the connection stays "
			    "open for the next request (keep-alive)", "整个响应已到；连接保持打开，"
			    "留给下一个请求（keep-alive 持久连接）"));
		else if (opt->common.abort)
			evrec_gloss(&r, "%s", TR("the whole response is here; --abort: we end the "
			    "connection with RST, not FIN", "整个响应已到；--abort：我方用 RST 而不是 "
			    "FIN 结束连接"));
		else if (opt->common.server_closes_first && cl->sent_close)
			evrec_gloss(&r, TR("the whole response is here; we asked the server to close "
			    "first (Connection: close), so we wait for its %s", "整个响应已到；我方请"
			    "服务器先关闭（Connection: close），所以等待它的 %s"),
			    wait_what(c));
		else if (opt->common.server_closes_first)
			evrec_gloss(&r, TR("the whole response is here; --close-first server, but -H "
			    "took 'Connection: close' out of the request, so the server was not asked "
			    "to close: we wait for its %s all the same", "整个响应已到；指定了 "
			    "--close-first server，但 -H 把 'Connection: close' 从请求里去掉了，服务器"
			    "没有被要求关闭：我方照样等待它的 %s"), wait_what(c));
		else if (strcmp(how, "closed by the server") == 0 && tls_close_notify_received(c))
			evrec_gloss(&r, TR("the server's TLS close_notify ended the body: the data "
			    "ended on purpose, not cut; %s", "服务器的 TLS close_notify 结束了响应体："
			    "数据是有意结束的，不是被截断；%s"), c->fin_received ? TR("its TCP FIN "
			    "came with it", "它的 TCP FIN 也随之到达") : TR("its TCP FIN has not come "
			    "yet, we close at once", "它的 TCP FIN 还没到，我方立即关闭"));
		else if (strcmp(how, "closed by the server") == 0 && c->use_tls)
			evrec_gloss(&r, "%s", TR("the server's TCP FIN ended the body without a TLS "
			    "close_notify: nothing proves the data was not cut", "服务器的 TCP FIN "
			    "结束了响应体，之前没有 TLS close_notify：无法证明数据没有被截断"));
		else if (strcmp(how, "closed by the server") == 0)
			evrec_gloss(&r, "%s", TR("the server's FIN ended the body (a body without a "
			    "length ends when the server closes)", "服务器的 FIN 结束了响应体（没有"
			    "长度的响应体在服务器关闭时结束）"));
		else if (!cl->resp.keep_alive && !c->half_close)
			evrec_gloss(&r, TR("the whole response is here; the server said it closes "
			    "(Connection: close), so we wait for its %s", "整个响应已到；服务器说它会"
			    "关闭（Connection: close），所以等待它的 %s"), wait_what(c));
		else if (!c->half_close)
			evrec_gloss(&r, TR("the whole response is here; the client now closes (%s): "
			    "the side whose FIN goes first holds TIME_WAIT", "整个响应已到；现在由客户"
			    "端关闭（%s）：先发 FIN 的一方进入 TIME_WAIT"), c->use_tls ?
			    TR("TLS close_notify, then TCP FIN", "先 TLS close_notify，再 TCP FIN") :
			    TR("its FIN", "发送 FIN"));
		redirect_log_body(cl, c, &r);	/* -L: a redirect's body, and the next hop */
		evrec_emit(&r);
	}
}

static void
log_response(struct client *cl, struct conn *c)
{
	struct evrec r;
	const struct http1_msg *m = &cl->resp;
	const char *cl_header = http1_header(m, "Content-Length");

	if (!evrec_begin(&r, EVT_RESPONSE, c->id, c->fd))
		return;
	evrec_int(&r, "status", m->status);
	evrec_int(&r, "length", m->body == HTTP1_BODY_LENGTH ? (long long)m->content_length :
	    m->body == HTTP1_BODY_NONE ? 0 : -1);
	evrec_str(&r, "reason", m->reason ? m->reason : "");
	evrec_strf(&r, "version", "HTTP/1.%d", m->version_minor);
	evrec_int(&r, "req", cl->req_no);
	if (cl->opt->requests > 1)
		evrec_label(&r, "< %d %s (%d/%d)", m->status, m->reason ? m->reason : "",
		    cl->req_no, cl->opt->requests);
	else
		evrec_label(&r, "< %d %s", m->status, m->reason ? m->reason : "");
	evrec_detail(&r, "HTTP/1.%d  %s", m->version_minor,
	    m->body == HTTP1_BODY_CHUNKED ? TR("chunked body", "分块（chunked）响应体") :
	    m->body == HTTP1_BODY_CLOSE ? TR("body until the server closes",
	    "响应体直到服务器关闭为止") :
	    m->body == HTTP1_BODY_NONE ? TR("no body", "无响应体") : cl_header ?
	    TR("Content-Length set", "设置了 Content-Length") : "");
	if (m->body == HTTP1_BODY_LENGTH)
		evrec_detail(&r, "HTTP/1.%d  Content-Length: %llu", m->version_minor,
		    (unsigned long long)m->content_length);
	evrec_gloss(&r, TR("time to first byte: %.3f ms after the request was sent",
	    "首字节时间：请求发出后 %.3f ms"), (double)(c->t_first_byte - cl->t_request) /
	    1000.0);
	redirect_log_response(cl, &r);	/* a 3xx: its Location, and what -L does */
	evrec_emit(&r);
}

/* One more head came whole: each is bounded (HTTP1_MAX_HEAD), but a server may send 1xx
 * heads without end. Stop at curl's 300 KB of heads in all, or at the 101st interim
 * response; the rest is not read (RST), as for a body over --max-filesize. */
static int
heads_too_many(struct client *cl, struct conn *c)
{
	cl->heads_bytes += cl->resp.head_len;
	cl->w_header_bytes += cl->resp.head_len;
	if (cl->heads_bytes > FETCH_MAX_HEADS_BYTES)
		fetch_finish(cl, EXIT_RECV, TR("too large response headers: %zu bytes in %d "
		    "heads (1xx included), more than %d", "响应首部过大：%zu 字节，共 %d 个首部"
		    "（含 1xx），超过 %d"), cl->heads_bytes, cl->interim + 1,
		    FETCH_MAX_HEADS_BYTES);
	else if (cl->resp.status >= 100 && cl->resp.status < 200 &&
	    ++cl->interim > FETCH_MAX_INTERIM)
		fetch_finish(cl, EXIT_RECV, TR("too many interim responses: %d 1xx heads (%d "
		    "%s ...) and no final response; at most %d are taken", "临时响应过多：%d 个 "
		    "1xx 首部（%d %s ……），却没有最终响应；最多接受 %d 个"), cl->interim,
		    cl->resp.status, cl->resp.reason ? cl->resp.reason : "", FETCH_MAX_INTERIM);
	else
		return 0;
	conn_reset(c, TR("response heads over the limit: not reading the rest",
	    "响应首部超过上限：其余部分不再读取"));
	return 1;
}

/* Bytes from the server: the head, then the body as its framing says. */
void
fetch_read(struct conn *c, struct evbuffer *in)
{
	struct client *cl = c->arg;
	const struct client_opts *opt = cl->opt;
	unsigned char *p;
	size_t len, n;
	int r;

	cl->got_bytes = 1;
	if (cl->t_first == 0)
		cl->t_first = c->t_first_byte;
	/* -w time_starttransfer: with -L each hop's wait for its first byte, added (curl's) */
	if (!cl->w_hop_first && c->t_first_byte != 0) {
		cl->w_hop_first = 1;
		cl->w_starttransfer_us += c->t_first_byte - (cl->w_hop_t0 ? cl->w_hop_t0 : cl->t0);
	}
	while (!cl->done && conn_readable(c) && (len = evbuffer_get_length(in)) > 0) {
		cl->resp_got = 1;
		if (!cl->have_head) {
			n = len < HTTP1_MAX_HEAD + 1 ? len : HTTP1_MAX_HEAD + 1;
			p = evbuffer_pullup(in, (ev_ssize_t)n);
			r = http1_parse(&cl->resp, HTTP1_RESPONSE, (const char *)p, n,
			    strcmp(redirect_method(cl), "HEAD") == 0);
			if (r == 0)
				return;
			if (r < 0) {
				evlog(EVT_HTTP_ERROR, c->id, c->fd, TR("bad response: %s",
				    "响应格式错误：%s"), cl->resp.error_text);
				fetch_finish(cl, EXIT_WEIRD, TR("bad response from the server: %s",
				    "服务器的响应格式错误：%s"), cl->resp.error_text);
				conn_close(c, TR("bad response", "响应格式错误"));
				return;
			}
			/* -i, -I: the head as it came, before its body (curl's), 1xx ones too */
			if (opt->include && fwrite(p, 1, cl->resp.head_len, cl->out) !=
			    cl->resp.head_len) {
				fetch_finish(cl, EXIT_WRITE, TR("cannot write the response head "
				    "to %s: %s", "无法把响应头写到 %s：%s"), opt->output ?
				    opt->output : TR("standard output", "标准输出"), strerror(errno));
				conn_close(c, TR("cannot write the response head", "无法写出响应头"));
				return;
			}
			evbuffer_drain(in, cl->resp.head_len);
			cl->have_head = 1;
			if (cl->resp.status >= 200)
				cl->w_status = cl->resp.status;
			log_response(cl, c);
			if (heads_too_many(cl, c))
				return;
			if (cl->resp.status >= 100 && cl->resp.status < 200) {
				cl->have_head = 0;	/* 1xx: the real response follows */
				continue;
			}
			if (cl->resp.body == HTTP1_BODY_NONE) {
				response_complete(cl, c, "no body");
				return;
			}
			cl->body_left = cl->resp.content_length;
			http1_chunked_init(&cl->ch);
			if (cl->resp.body == HTTP1_BODY_LENGTH && opt->max_filesize > 0 &&
			    cl->body_left > (uint64_t)opt->max_filesize) {
				fetch_finish(cl, EXIT_FILESIZE, TR("maximum file size exceeded: "
				    "the server announces %llu bytes (Content-Length), more than "
				    "%lld (--max-filesize)", "超过最大文件大小：服务器声明 %llu 字节"
				    "（Content-Length），超过 %lld（--max-filesize）"),
				    (unsigned long long)cl->body_left,
				    opt->max_filesize);
				body_failed(cl, c);
				return;
			}
			if (cl->resp.body == HTTP1_BODY_LENGTH && cl->body_left == 0) {
				response_complete(cl, c, "Content-Length: 0");
				return;
			}
			/* More body to come than is here: read it in big pieces, as curl does. */
			if (cl->resp.body != HTTP1_BODY_LENGTH ||
			    cl->body_left > evbuffer_get_length(in))
				conn_read_big(c, 1);
			continue;
		}
		if (cl->resp.body == HTTP1_BODY_CHUNKED) {
			char out[16384];
			size_t outlen = sizeof(out), used = 0;

			n = len < sizeof(out) ? len : sizeof(out);
			p = evbuffer_pullup(in, (ev_ssize_t)n);
			r = http1_chunked_decode(&cl->ch, (const char *)p, n, out, &outlen, &used);
			evbuffer_drain(in, used);
			if (r < 0) {
				fetch_finish(cl, EXIT_RECV, "%s", TR("malformed chunked body from "
				    "the server", "服务器发来的分块（chunked）响应体格式错误"));
				conn_close(c, TR("malformed chunked body", "分块响应体格式错误"));
				return;
			}
			if (write_body(cl, out, outlen) == -1) {
				body_failed(cl, c);
				return;
			}
			if (r == 1) {
				response_complete(cl, c, "chunked");
				return;
			}
			if (used == 0 && outlen == 0)
				return;
			continue;
		}
		n = len;
		if (cl->resp.body == HTTP1_BODY_LENGTH && n > cl->body_left)
			n = (size_t)cl->body_left;
		if (write_buffered(cl, in, n) == -1) {
			body_failed(cl, c);
			return;
		}
		if (cl->resp.body == HTTP1_BODY_LENGTH) {
			cl->body_left -= n;
			if (cl->body_left == 0) {
				response_complete(cl, c, "Content-Length");
				return;
			}
		}
	}
	if (conn_readable(c) && cl->done)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* A body without a length ended with the connection (HTTP/1.0, no Content-Length): whole
 * when the server's FIN ended it on plain TCP, or its close_notify over TLS; a TLS
 * connection that ends with a bare FIN may have been cut short by anyone on the path. */
static void
close_delimited_done(struct client *cl, struct conn *c)
{
	const struct client_opts *opt = cl->opt;

	body_done(cl, c, "closed by the server");
	if (!c->use_tls || tls_close_notify_received(c))
		count_whole(cl);
	else
		evlog(EVT_WARNING, c->id, c->fd, "%s", TR("the body ended with the connection, "
		    "but no close_notify came before the FIN: it may be cut short (a truncation "
		    "attack looks the same), so it does not count as whole", "响应体随连接结束，"
		    "但 FIN 之前没有收到 close_notify：它可能被截断了（截断攻击看起来也是这样），"
		    "所以不算完整"));
	(void)redirect_follow(cl, c);	/* -L: the next hop needs a new connection */
	if (cl->req_no < opt->requests && cl->exit_code == 0)
		fetch_finish(cl, EXIT_FAIL, TR("the server closes the connection after request "
		    "%d of %d (its response ends at the close): -n needs a keep-alive server",
		    "服务器在第 %d 个请求（共 %d 个）之后关闭连接（它的响应在关闭时结束）：-n 需要"
		    "支持 keep-alive 的服务器"),
		    cl->req_no, opt->requests);
}

/* -n: the server closed a connection that had carried earlier requests (keep-alive, no
 * Connection: close) before any byte of the answer to the one just sent. The request may
 * never have been read: send it again on a fresh connection, as curl does ("Connection
 * died, retrying a fresh connect"), once (on its new connection it is the first). Returns 1
 * if it will be sent again (cl->retry; client_closed() makes the connection). */
int
fetch_retry(struct client *cl, struct conn *c)
{
	struct evrec r;

	if (cl->retry)
		return 1;
	if (cl->done || cl->exit_code != 0 || cl->have_head || cl->resp_got ||
	    cl->cur.requests < 2 || cl->cur.responses != cl->cur.requests - 1)
		return 0;
	cl->retry = 1;
	if (evrec_begin(&r, EVT_WARNING, c->id, c->fd)) {
		evrec_int(&r, "req", cl->req_no);
		evrec_detail(&r, TR("connection died: the server %s it after response %d "
		    "without Connection: close, and request %d got no byte of answer: retrying "
		    "it on a fresh connection", "连接已断：服务器在第 %2$d 个响应之后%1$s了它，"
		    "没有 Connection: close，第 %3$d 个请求一个字节的应答也没收到：在新连接上重试"),
		    c->reset ? TR("reset", "复位（RST）") : TR("closed", "关闭"),
		    cl->req_no - 1, cl->req_no);
		evrec_gloss(&r, "%s", TR("HTTP/1.1 keeps a connection open unless a side says "
		    "'Connection: close', but a server may close an idle one at any time; a "
		    "request that got no answer is sent again on a new connection, as curl does "
		    "('Connection died, retrying a fresh connect')", "HTTP/1.1 默认保持连接打开，"
		    "除非一方说 'Connection: close'，但服务器可以随时关闭空闲连接；没有得到应答的"
		    "请求在新连接上重发，curl 也是这样做的（'Connection died, retrying a fresh "
		    "connect'）"));
		evrec_emit(&r);
	}
	return 1;
}

/* The server closed before we had the whole response: complete if the body was
 * close-delimited, else an empty (52) or cut (56) reply, as curl says. */
void
fetch_server_closed(struct client *cl, struct conn *c)
{
	if (fetch_retry(cl, c))
		return;
	if (cl->have_head && cl->resp.body == HTTP1_BODY_CLOSE)
		close_delimited_done(cl, c);
	else if (!cl->got_bytes)
		fetch_finish(cl, EXIT_EMPTY, "%s", TR("the server closed the connection without "
		    "answering (empty reply)", "服务器没有应答就关闭了连接（空响应）"));
	else if (cl->have_head && cl->resp.body == HTTP1_BODY_LENGTH)
		fetch_finish(cl, EXIT_PARTIAL, TR("transfer closed with %llu bytes remaining to "
		    "read", "传输已关闭，还有 %llu 字节没有读到"),
		    (unsigned long long)cl->body_left);
	else if (cl->have_head && cl->resp.body == HTTP1_BODY_CHUNKED)
		fetch_finish(cl, EXIT_PARTIAL, "%s", TR("transfer closed with outstanding read "
		    "data remaining (the chunked body has no last chunk)", "传输已关闭，仍有数据"
		    "未读（分块响应体没有最后一块）"));
	else
		fetch_finish(cl, EXIT_RECV, "%s", TR("the server closed the connection before "
		    "the response was complete", "服务器在响应完整之前关闭了连接"));
}

/* One step of the timing line: its time, or why there is none (a step never reached has
 * no time, not 0: its JSON field is left out). */
static void
timing_step(struct evrec *r, const char *field, const char *name, int64_t t, int64_t t0,
    const char *none, char *buf, size_t len)
{
	size_t l = strlen(buf);

	if (t != 0) {
		evrec_float(r, field, (t - t0) / 1000.0);
		snprintf(buf + l, len - l, TR("%s %.3f ms, ", "%s %.3f ms，"), name,
		    (t - t0) / 1000.0);
	} else
		snprintf(buf + l, len - l, TR("%s: %s, ", "%s：%s，"), name, none);
}

static void
log_timing(struct client *cl)
{
	struct evrec r;
	char steps[256] = "";
	/* Like curl -w: from the start of the transfer (name lookup), not of the program, whose
	 * first milliseconds go on loading the system's trust store. */
	double total = (cl->t_end - cl->t0) / 1000.0;

	if (!evrec_begin(&r, EVT_TIMING, 0, -1))
		return;
	timing_step(&r, "time_connect_ms", TR("TCP connect", "TCP 连接"), cl->t_tcp, cl->t0,
	    TR("not reached", "未到达"), steps, sizeof(steps));
	timing_step(&r, "time_appconnect_ms", TR("TLS handshake done", "TLS 握手完成"),
	    cl->u.tls ? cl->t_tls : 0, cl->t0, cl->u.tls ? TR("not reached", "未到达") :
	    TR("none (plain HTTP)", "无（明文 HTTP）"), steps, sizeof(steps));
	timing_step(&r, "time_starttransfer_ms", TR("first byte", "首字节"), cl->t_first,
	    cl->t0, TR("not reached", "未到达"), steps, sizeof(steps));
	evrec_float(&r, "time_total_ms", total);
	evrec_int(&r, "body_bytes", (long long)cl->body_bytes);
	evrec_int(&r, "exit", cl->exit_code);
	if (cl->ask_wait_us > 0)
		evrec_float(&r, "question_ms", cl->ask_wait_us / 1000.0);
	evrec_detail(&r, TR("%stotal %.3f ms", "%s总计 %.3f ms"), steps, total);
	if (cl->ask_wait_us > 0)
		evrec_gloss(&r, TR("curl -w: time_connect, time_appconnect, time_starttransfer, "
		    "time_total, all counted from the name lookup; %.3f ms of it the certificate "
		    "question waited for your answer%s", "curl -w：time_connect、time_appconnect、"
		    "time_starttransfer、time_total，都从域名解析开始计时；其中 %.3f ms 是证书"
		    "问题在等你回答%s"), cl->ask_wait_us / 1000.0, cl->pin.on ?
		    TR(" (the connect and handshake times are the new connection's)",
		    "（连接和握手时间是新连接的）") : "");
	else
		evrec_gloss(&r, "%s", TR("curl -w: time_connect, time_appconnect, "
		    "time_starttransfer, time_total, all counted from the name lookup",
		    "curl -w：time_connect、time_appconnect、time_starttransfer、time_total，"
		    "都从域名解析开始计时"));
	evrec_emit(&r);
}

/* The run is over: the summary (-n, --reconnect), the timing line, the error that sets the
 * exit code, then the body's file closed (a failure there is exit 23 too). */
void
fetch_report(struct client *cl)
{
	const struct client_opts *opt = cl->opt;

	if (opt->requests > 1 || opt->reconnect > 1)
		repeat_log_summary();
	if (cl->ai_list)
		log_timing(cl);
	if (cl->exit_code != 0) {
		/* One clear line: the error event, or with -q a plain line. */
		if (!evlog_on() && (!opt->silent || opt->show_error))
			fprintf(stderr, TR("client: %s (exit %d)\n", "client：%s（退出码 %d）\n"),
			    cl->error, cl->exit_code);
		evlog(EVT_ERROR, 0, -1, TR("%s (exit %d)", "%s（退出码 %d）"), cl->error,
		    cl->exit_code);
	}
	if (cl->out != NULL && (cl->out == stdout ? fflush(stdout) : fclose(cl->out)) != 0 &&
	    cl->exit_code == 0) {
		fprintf(stderr, TR("client: cannot write the body to %s: %s (exit %d)\n",
		    "client：无法把响应体写入 %s：%s（退出码 %d）\n"), opt->output ? opt->output :
		    TR("standard output", "标准输出"), strerror(errno), EXIT_WRITE);
		cl->exit_code = EXIT_WRITE;
	}
	if (opt->write_out != NULL)
		write_out(cl, opt->write_out);
}
