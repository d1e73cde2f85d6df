/* route.c -- which answer a request gets: the page about the visitor's own connection ("/",
 * "/?text"), its events (/events.json), a fixed small page (/hello), the class view (/live...),
 * a chain of redirects (/redirect/N), a POST's receipt; nothing else exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "server.h"
#include "session.h"

static int
wants_text(const struct http1_msg *m)
{
	const char *q = strchr(m->target, '?');
	const char *accept = http1_header(m, "Accept");

	if (q != NULL && strncmp(q + 1, "text", 4) == 0 && (q[5] == '\0' || q[5] == '&'))
		return 1;
	return accept != NULL && strncasecmp(accept, "text/plain", 10) == 0;
}

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

/* POST /: the body was read within MAX_BODY and dropped; the answer says how many bytes
 * came and that nothing was kept (a form's password included). */
static void
serve_post(struct conn *c, struct session *s)
{
	const char *ctype = http1_header(s->req, "Content-Type");
	char body[512];
	int n;

	/* the client's Content-Type cut short: the answer must fit whatever it sent */
	n = snprintf(body, sizeof(body), "POST received: %llu bytes of request body (%s%.120s%s); "
	    "handshake-lab stores nothing.\n%s\n", (unsigned long long)s->body_got,
	    ctype ? "Content-Type: " : "no Content-Type", ctype ? ctype : "",
	    s->req->body == HTTP1_BODY_CHUNKED ? ", chunked" : "", c->ssl ? "It came inside "
	    "TLS records: only the two ends could read it." : "It came in clear text: anyone "
	    "on the path could read it.");
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	s->post = 1;
	session_respond(c, s, 200, "text/plain; charset=utf-8", body, (size_t)n, 0, NULL, 0);
	s->post = 0;
}

/* /events.json: this connection's own events so far, as the server logged them (JSON lines,
 * the records' facts without the gloss and explain text). Sent as text/plain: a browser shows
 * it (Chromium downloads application/x-ndjson instead, and Firefox's JSON viewer would call
 * JSON lines a syntax error). */
static void
serve_events(struct conn *c, struct session *s, int head)
{
	const struct record *r = record_find(c->id);
	const char *ev;
	char note[256];
	size_t len;
	int n = 0;

	if (r == NULL) {
		session_error(c, s, 404, evlog_on() ? TR("no record of this connection",
		    "没有这个连接的记录") : TR("this server runs with -q: with no event log it "
		    "keeps no events", "本服务器以 -q 运行：没有事件日志，也就不保留事件"));
		return;
	}
	if ((ev = record_events(r, &len)) == NULL) {
		session_error(c, s, 500, TR("out of memory", "内存不足"));
		return;
	}
	if (r->dropped > 0)
		n = snprintf(note, sizeof(note), "X-Events-Not-Kept: %u\r\n", r->dropped);
	session_respond(c, s, 200, "text/plain; charset=utf-8", ev, len, head,
	    n > 0 ? note : NULL, 0);
}

void
route(struct conn *c, struct session *s)
{
	const struct http1_msg *m = s->req;
	const char *path = target_path(m->target);
	const struct scenario *sc;
	struct page_req q;
	char page[512], loc[64], *body;
	size_t plen, blen;
	long pad;
	int head = strcmp(m->method, "HEAD") == 0, n, nsc;

	/* The only page is generated, never a file: whatever the path says (.., %2e%2e, %00),
	 * nothing but "/" exists. */
	plen = strcspn(path, "?");
	if (strcmp(m->method, "GET") != 0 && !head && strcmp(m->method, "POST") != 0) {
		session_error(c, s, 405, TR("this server only answers GET, HEAD and POST",
		    "本服务器只应答 GET、HEAD 和 POST"));
		return;
	}
	if (m->version_minor == 1 && http1_header(m, "Host") == NULL) {
		s->keep_alive = 0;
		session_error(c, s, 400, TR("an HTTP/1.1 request needs a Host header",
		    "HTTP/1.1 请求必须有 Host 首部"));
		return;
	}
	if ((n = page_redirect(path, loc, sizeof(loc), page, sizeof(page))) != 0) {
		if (n > 0)	/* /redirect/N: a chain of redirects for -L */
			session_respond(c, s, n, "text/plain; charset=utf-8", page, strlen(page), head,
			    loc, 0);
		else
			session_error(c, s, 400, TR("/redirect/N takes N from 1 to 100 and at most "
			    "?code=301, 302, 303, 307 or 308", "/redirect/N 的 N 取 1 到 100，最多再加 "
			    "?code=301、302、303、307 或 308"));
		return;
	}
	if (plen == 6 && strncmp(path, "/hello", 6) == 0 && strcmp(m->method, "POST")) {
		/* the same few bytes every time (and ?pad= as on "/"): make bench's throughput
		 * rows and samelog's scenarios fetch it, so they measure the server, not a page
		 * that changes with what it shows */
		if ((pad = query_pad(m->target)) < 0)
			session_error(c, s, 400, TR("pad= takes a number of bytes up to 16777216",
			    "pad= 取一个字节数，最大 16777216"));
		else
			session_respond(c, s, 200, "text/plain; charset=utf-8",
			    "hello from handshake-lab\n", 25, head, NULL, (size_t)pad);
		return;
	}
	if (plen == 12 && strncmp(path, "/events.json", 12) == 0 && strcmp(m->method, "POST")) {
		serve_events(c, s, head);
		return;
	}
	if (live_path(path, plen)) {	/* /live (live.c): a page, or a stream that stays */
		struct live_answer la;

		live_serve(c, m->method, path, head, &la);
		if (!(s->live = la.stream))
			session_respond(c, s, la.status, la.ctype, la.body, la.len, head, la.extra, 0);
		free(la.body);
		return;
	}
	if (plen != 1 || path[0] != '/') {
		session_error(c, s, 404, TR("the only page here is /", "这里只有一个页面：/"));
		return;
	}
	if (strcmp(m->method, "POST") == 0) {
		serve_post(c, s);
		return;
	}
	if ((pad = query_pad(m->target)) < 0) {
		session_error(c, s, 400, TR("pad= takes a number of bytes up to 16777216",
		    "pad= 取一个字节数，最大 16777216"));
		return;
	}
	sc = listen_scenarios(&nsc);
	q = (struct page_req){ c, record_find(c->id), s->li, session_options(), s->requests, wants_text(m),
	    http1_header(m, "Host"), sc, s->li->kind == K_HTTP ? nsc : 0 };
	if (page_render(&q, &body, &blen) == -1) {
		session_error(c, s, 500, TR("page too large", "页面太大"));
		return;
	}
	session_respond(c, s, 200, q.text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8",
	    body, blen, head, NULL, (size_t)pad);
	free(body);
}
