/* redirect.c -- -L/--location as curl does it: a 301, 302, 303, 307 or 308 with a Location is
 * followed by a new request for that URL (at most --max-redirs of them, curl's 50 by default,
 * then exit 47), on the same connection when the scheme, host and port stay the same and the
 * connection is kept alive, else on a new connection (connect.c makes it); a 303 turns the
 * method into GET (HEAD stays HEAD), as a 301 or 302 does to a POST. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "url.h"

/* The next hop's URL, resolved when its 3xx came (the response's own fields go with it). */
static char next_url[URL_MAX_HOST + URL_MAX_PATH + 32];

/* The redirects curl follows. */
static int
followed(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 ||
	    status == 308;
}

/* -L may still follow one more. */
static int
within_limit(const struct client *cl)
{
	return cl->opt->max_redirs < 0 || cl->hops < cl->opt->max_redirs;
}

/* next_url: the response's Location against the URL it answers (also under -q, where no
 * event is formatted). */
static void
resolve_next(const struct client *cl, const char *loc)
{
	if (url_resolve(&cl->u, loc, next_url, sizeof(next_url)) == -1)
		snprintf(next_url, sizeof(next_url), "%s", loc);
}

const char *
redirect_method(const struct client *cl)
{
	return cl->method != NULL ? cl->method : cl->opt->method;
}

/* A redirect under -L: its body is read (to keep the connection) but not written, as curl
 * writes only the last response's; nor is the one past --max-redirs (curl: none at all). */
int
redirect_skip_body(const struct client *cl)
{
	return cl->opt->location && followed(cl->resp.status) &&
	    http1_header(&cl->resp, "Location") != NULL;
}

/* The next hop goes on this connection: the same origin, and the connection kept alive. */
static int
same_connection(const struct client *cl, const struct conn *c, const struct url *nu)
{
	const struct client_opts *opt = cl->opt;

	return url_same_origin(&cl->u, nu) && cl->resp.keep_alive && c->phase == PHASE_OPEN &&
	    !c->fin_received && !c->half_close && !opt->common.server_closes_first &&
	    !opt->common.abort;
}

/* The body event of a redirect -L follows: not written, and where the next hop goes. */
void
redirect_log_body(struct client *cl, struct conn *c, struct evrec *r)
{
	struct url nu;

	if (!redirect_skip_body(cl) || url_parse(&nu, next_url, NULL, 0) == -1)
		return;
	if (!within_limit(cl))
		evrec_gloss(r, TR("the redirect's whole body is here, not written: it is past "
		    "--max-redirs, the transfer ends here (exit 47)", "重定向的响应体已完整收到，"
		    "但不输出：它超过了 --max-redirs，传输到此结束（退出码 47）"));
	else
	if (same_connection(cl, c, &nu))
		evrec_gloss(r, TR("the redirect's whole body is here (read, not written: -L "
		    "writes only the last response's); the connection stays open for the next "
		    "request (keep-alive, same scheme, host and port)", "重定向的响应体已完整收到"
		    "（读取但不输出：-L 只输出最后一个响应的响应体）；连接保持打开，"
		    "供下一个请求使用（keep-alive，协议、主机、端口都相同）"));
	else
		evrec_gloss(r, TR("the redirect's whole body is here (read, not written: -L "
		    "writes only the last response's); the next request needs a new connection "
		    "(another scheme, host or port, or this one is not kept alive): this one "
		    "closes", "重定向的响应体已完整收到（读取但不输出：-L 只输出最后一个响应的"
		    "响应体）；下一个请求需要新的连接（协议、主机或端口不同，或本连接不保持）："
		    "本连接关闭"));
}

/* The response event of a 3xx: its Location, and what -L does (or would do) with it. */
void
redirect_log_response(struct client *cl, struct evrec *r)
{
	const struct http1_msg *m = &cl->resp;
	const char *loc;

	if (m->status < 300 || m->status > 399 || (loc = http1_header(m, "Location")) == NULL)
		return;
	evrec_str(r, "location", loc);
	evrec_detail(r, "HTTP/1.%d  Location: %s", m->version_minor, loc);
	resolve_next(cl, loc);
	if (!followed(m->status))
		return;
	evrec_str(r, "location_url", next_url);
	if (!cl->opt->location)
		evrec_gloss(r, TR("a redirect to %s: not followed (-L follows it, as curl's -L "
		    "does)", "重定向到 %s：未跟随（加 -L 才会跟随，与 curl 的 -L 相同）"), next_url);
	else if (!within_limit(cl))
		evrec_gloss(r, TR("a redirect to %s, but %d redirects were followed already "
		    "(--max-redirs %d): not followed, exit 47 as curl",
		    "重定向到 %s，但已跟随 %d 次重定向（--max-redirs %d）：不再跟随，"
		    "与 curl 一样退出码 47"), next_url, cl->hops, cl->opt->max_redirs);
	else
		evrec_gloss(r, TR("a redirect: -L follows it with a new request for %s (its body "
		    "is read, not written)", "重定向：-L 跟随它，向 %s 发出新的请求"
		    "（它的响应体被读取，但不输出）"), next_url);
}

/* The request event of a hop's first request: which redirect it follows, and on which
 * connection. */
void
redirect_log_request(struct client *cl, struct evrec *r)
{
	if (!cl->hop_request)
		return;
	cl->hop_request = 0;
	evrec_int(r, "redirect", cl->hops);
	if (cl->cur.requests > 1)
		evrec_gloss(r, TR("redirect %d (-L), after a %d: a new request on the same "
		    "connection (same scheme, host and port, kept alive): no new handshake",
		    "第 %d 次重定向（-L），在 %d 之后：在同一连接上发出新的请求"
		    "（协议、主机、端口都相同，连接保持）：无需新的握手"), cl->hops,
		    cl->redirect_status);
	else
		evrec_gloss(r, TR("redirect %d (-L), after a %d: a new request on a new "
		    "connection (another scheme, host or port, or the last one was not kept "
		    "alive)", "第 %d 次重定向（-L），在 %d 之后：在新的连接上发出新的请求"
		    "（协议、主机或端口不同，或上一个连接未保持）"), cl->hops, cl->redirect_status);
}

/* A response is complete: follow it if it is a redirect and -L is on. Returns 1 when the
 * next request goes on this very connection now (the caller sends it), 0 otherwise: then
 * cl->redirect_pending says a new connection is to be made once this one is closed, or the
 * transfer ends here (with exit 47 past --max-redirs). */
int
redirect_follow(struct client *cl, struct conn *c)
{
	const struct client_opts *opt = cl->opt;
	const struct http1_msg *m = &cl->resp;
	const char *method = redirect_method(cl);
	char err[256];
	struct url nu;
	int same;

	if (!opt->location || !followed(m->status) || http1_header(m, "Location") == NULL ||
	    cl->exit_code != 0)
		return 0;
	if (!within_limit(cl)) {
		fetch_finish(cl, EXIT_TOO_MANY_REDIRECTS, TR("maximum (%d) redirects followed "
		    "(--max-redirs)", "已跟随最多 %d 次重定向（--max-redirs）"), opt->max_redirs);
		return 0;
	}
	resolve_next(cl, http1_header(m, "Location"));
	if (url_parse(&nu, next_url, err, sizeof(err)) == -1) {
		fetch_finish(cl, EXIT_URL_MALFORMAT, TR("cannot follow the redirect to '%s': %s",
		    "无法跟随到 '%s' 的重定向：%s"), next_url, err);
		return 0;
	}
	cl->hops++;
	cl->w_body_start = cl->body_bytes;	/* -w size_download: the last hop's body */
	cl->w_hop_t0 = evlog_now_us();		/* -w time_starttransfer: this hop's wait */
	cl->w_hop_first = 0;
	cl->w_hop_timed = 0;
	cl->hop_request = 1;
	cl->redirect_status = m->status;
	/* RFC 9110 15.4: a 303 is answered with GET (HEAD stays HEAD); curl turns a POST into a
	 * GET after a 301 or a 302 too, as browsers do. 307 and 308 keep the method. */
	if ((m->status == 303 && strcmp(method, "HEAD") != 0) ||
	    ((m->status == 301 || m->status == 302) && strcmp(method, "POST") == 0))
		cl->method = "GET";
	same = same_connection(cl, c, &nu);
	cl->u = nu;
	if (same)
		return 1;
	cl->redirect_pending = 1;
	return 0;
}
