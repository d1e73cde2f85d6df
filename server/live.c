/* live.c -- /live, the class view for the teacher's projector: every connection as it arrives,
 * streamed to at most LIVE_VIEWERS viewers as Server-Sent Events from the event log (record.c's
 * listener), with a bounded queue per viewer, a heartbeat, and a bounded history of closed
 * connections for /live/conn/N. It shows every visitor's address: loopback clients only,
 * unless --live-token. */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "clock.h"
#include "conn.h"
#include "evlog.h"
#include "http1.h"
#include "live_page.h"
#include "page.h"
#include "server.h"
#include "tcpinfo.h"

#define LIVE_SNAPSHOT	200	/* a new viewer's first rows: the most recent connections held */

/* One /live/events stream. */
struct viewer {
	struct conn	*c;
	unsigned	 dropped;	/* messages not queued since the last note */
	uint64_t	 acked;		/* the kernel's bytes_acked at the last heartbeat */
	int		 stall_ms;	/* how long nothing queued was taken */
};

static struct viewer	 viewers[LIVE_VIEWERS];
static int		 nviewers;
static struct event_base *base;
static const struct options *opt;
static struct event	*hb;		/* the heartbeat: pending only while a viewer is there */
static int		 hb_ms;
static char		 msg[128 * 1024];	/* one SSE message (a ladder: 10-40 KB) */

/* ---- access ---- */

/* The value of ?token= in target, or NULL; *n its length. */
static const char *
query_token(const char *target, size_t *n)
{
	const char *q = strchr(target, '?'), *p;

	for (p = q; p != NULL; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, "token=", 6) == 0) {
			*n = strcspn(p + 7, "&#");
			return p + 7;
		}
	return NULL;
}

/* Both hashed first: the time taken says nothing about the token, its length included. */
static int
token_ok(const char *got, size_t n)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)got, n, a);
	SHA256((const unsigned char *)opt->live_token, strlen(opt->live_token), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/* 0: c may view /live; else the status, and *why the sentence. */
static int
access_check(struct conn *c, const char *target, const char **why)
{
	const char *tok;
	size_t n;

	if (opt->live_off) {
		*why = TR("/live is off on this server (--live off)",
		    "本服务器关闭了 /live（--live off）");
		return 404;
	}
	if ((tok = query_token(target, &n)) != NULL) {
		if (opt->live_token != NULL && token_ok(tok, n))
			return 0;
		*why = opt->live_token == NULL ? TR("this server takes no token for /live (no "
		    "--live-token): only loopback clients may view it", "本服务器的 /live 不接受"
		    "令牌（没有 --live-token）：只有回环地址上的客户端能查看") : TR("wrong token "
		    "for /live", "/live 的令牌不对");
		return 403;
	}
	if (conn_addr_loopback(&c->remote.sa))
		return 0;
	*why = TR("/live shows every visitor's address: only clients on this machine (loopback) "
	    "may view it, or anyone with ?token= when the server runs with --live-token",
	    "/live 显示每个访问者的地址：只有本机（回环地址）上的客户端能查看，或者服务器以 "
	    "--live-token 运行时，带 ?token= 的任何人");
	return 403;
}

/* ---- the stream ---- */

static struct viewer *
viewer_of(const struct conn *c)
{
	int i;

	for (i = 0; i < LIVE_VIEWERS; i++)
		if (viewers[i].c == c)
			return &viewers[i];
	return NULL;
}

/* Queue one whole message, or none of it: over LIVE_QUEUE it is counted as dropped, and a
 * note with the count goes first once there is room again. */
static void
vsend(struct viewer *v, const char *m, size_t n)
{
	char note[64];
	int k = 0;

	if (v->c == NULL || v->c->phase != PHASE_OPEN)
		return;
	if (v->dropped > 0)
		k = snprintf(note, sizeof(note), "event: dropped\ndata: %u\n\n", v->dropped);
	if (conn_output_length(v->c) + (size_t)k + n > LIVE_QUEUE) {
		v->dropped++;
		return;
	}
	if (k > 0) {
		conn_write(v->c, note, (size_t)k);
		v->dropped = 0;
	}
	conn_write(v->c, m, n);
}

static void
broadcast(const char *m, size_t n)
{
	int i;

	for (i = 0; i < LIVE_VIEWERS; i++)
		if (viewers[i].c != NULL)
			vsend(&viewers[i], m, n);
}

/* "event: NAME\ndata: LINE\n" for each line of text (SSE joins them with \n), then the blank
 * line that ends the message. 0: too long for msg. SSE framing is this file's own, not the
 * page's output (page_out.c): JSON and an SVG go as they are, not escaped for HTML, but a line
 * break inside them must not end the data line, and the message is built once in one static
 * buffer for every viewer, not allocated per event. */
static size_t
build(const char *name, const char *head, const char *text, size_t n)
{
	size_t len = 0, i, j;
	int k;

	k = snprintf(msg, sizeof(msg), "event: %s\n", name);
	if (k < 0 || (size_t)k >= sizeof(msg))
		return 0;
	len = (size_t)k;
	if (head != NULL) {
		k = snprintf(msg + len, sizeof(msg) - len, "data: %s\n", head);
		if (k < 0 || (size_t)k >= sizeof(msg) - len)
			return 0;
		len += (size_t)k;
	}
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && text[j] != '\n'; j++)
			;
		if (len + 6 + (j - i) + 2 > sizeof(msg))
			return 0;
		memcpy(msg + len, "data: ", 6);
		len += 6;
		/* a CR ends a line in SSE too: one inside the text must not start a field */
		for (; i < j; i++)
			msg[len++] = text[i] == '\r' ? ' ' : text[i];
		msg[len++] = '\n';
	}
	msg[len++] = '\n';
	return len;
}

/* The events a row needs; the rest (segments, phases, each TLS message) stay in the record,
 * for /live/conn/N. */
static int
forwarded(const struct evrec *ev)
{
	int i;

	switch (ev->ev) {
	case EVT_ESTABLISHED: case EVT_RESET: case EVT_CLOSED: case EVT_ALERT:
	case EVT_KEY_EXCHANGE: case EVT_HANDSHAKE_DONE: case EVT_TLS_ERROR: case EVT_ALPN:
	case EVT_RESUME: case EVT_REQUEST: case EVT_RESPONSE: case EVT_HTTP_ERROR:
	case EVT_ERROR:
		return 1;
	case EVT_MESSAGE:	/* the ClientHello only: its summary and SNI */
		for (i = 0; i < ev->nfields; i++)
			if (strcmp(ev->f[i].key, "type") == 0)
				return ev->f[i].s != NULL && strcmp(ev->f[i].s, "ClientHello") == 0;
		return 0;
	default:
		return 0;
	}
}

/* A ladder is the first thing to leave out: it goes to a viewer only while its queue is under
 * a quarter of LIVE_QUEUE, so that the rows' own events keep the room (a ladder is 10-40 KB;
 * the full one is a click away). */
static int
ladder_room(const struct viewer *v)
{
	return v->c != NULL && v->c->phase == PHASE_OPEN && v->dropped == 0 &&
	    conn_output_length(v->c) < LIVE_QUEUE / 4;
}

/* The small ladder of r, to the viewers with room (drawn only if one has; nothing while
 * page_ladder_svg() cannot draw it). */
static void
send_ladder(const struct record *r)
{
	char head[32], *svg;
	size_t len, n;
	int i;

	for (i = 0; i < LIVE_VIEWERS && !ladder_room(&viewers[i]); i++)
		;
	if (i == LIVE_VIEWERS || page_ladder_svg(r, &svg, &len) == -1)
		return;
	snprintf(head, sizeof(head), "%u", r->id);
	if ((n = build("ladder", head, svg, len)) > 0)
		for (; i < LIVE_VIEWERS; i++)
			if (ladder_room(&viewers[i]))
				vsend(&viewers[i], msg, n);
	free(svg);
}

/* Inside live_event() or snapshot(): a write there that logs (a viewer that fails) must not
 * come back in, nor move record_events()' buffer under the lines being sent. */
static int inside;

/* record.c's listener: every event the log emits. */
static void
live_event(const struct evrec *ev, struct record *r)
{
	static char facts[16384];	/* one event's JSON line (a --wire segment is the longest) */
	size_t k, n;

	if (nviewers == 0 || r == NULL || r->hidden || inside || !forwarded(ev))
		return;		/* no viewer: nothing formatted */
	n = evrec_format_facts(ev, facts, sizeof(facts));
	if (n == 0 || facts[n - 1] != '\n')
		return;		/* cut short: not a JSON line */
	inside = 1;	/* a write that logs must not come back here */
	if ((k = build("ev", NULL, facts, n)) > 0)
		broadcast(msg, k);
	if (ev->ev == EVT_HANDSHAKE_DONE || ev->ev == EVT_CLOSED)
		send_ladder(r);
	inside = 0;
}

/* The most recent records by id (open, or closed and kept), for a new viewer's first rows. */
struct recent {
	const struct record	*r[LIVE_SNAPSHOT];
	int			 n, min;	/* min: the index of the smallest id when full */
};

static void
recent_add(const struct record *r, void *arg)
{
	struct recent *rc = arg;
	int i;

	if (r->hidden)
		return;
	if (rc->n < LIVE_SNAPSHOT) {
		rc->r[rc->n++] = r;
		if (rc->n < LIVE_SNAPSHOT)
			return;
	} else if (r->id > rc->r[rc->min]->id)
		rc->r[rc->min] = r;
	else
		return;
	for (rc->min = 0, i = 1; i < rc->n; i++)
		if (rc->r[i]->id < rc->r[rc->min]->id)
			rc->min = i;
}

static int
by_id(const void *a, const void *b)
{
	unsigned x = (*(const struct record *const *)a)->id;
	unsigned y = (*(const struct record *const *)b)->id;

	return x < y ? -1 : x > y;
}

/* A new viewer gets the most recent connections held, open ones and the closed ones kept:
 * their rows' events, oldest first, then as many small ladders as fit, newest first. */
static void
snapshot(struct viewer *v)
{
	static const char *const keep[] = { "established", "message", "key_exchange",
	    "handshake_done", "alpn", "request", "closed", "reset", "tls_error", NULL };
	static struct recent rc;
	static unsigned ids[LIVE_SNAPSHOT];
	const struct record *r;
	const char *line;
	char name[32], type[24], head[32], *svg;
	size_t k, len, off, n;
	int i, j;

	rc.n = rc.min = 0;
	record_each(recent_add, &rc);
	qsort(rc.r, (size_t)rc.n, sizeof(rc.r[0]), by_id);
	/* by id from here on: a write below may close a connection, and a record the history
	 * lets go of then is freed (record_find() no longer finds it) */
	for (j = 0; j < rc.n; j++)
		ids[j] = rc.r[j]->id;
	inside = 1;
	for (j = 0; j < rc.n; j++) {
		/* found again for each line: a write may have let the record go */
		for (off = 0; (r = record_find(ids[j])) != NULL && rec_line(r, &off, &line, &n);) {
			if (!rec_get(line, n, "event", name, sizeof(name)))
				continue;
			for (i = 0; keep[i] != NULL && strcmp(keep[i], name) != 0; i++)
				;
			if (keep[i] == NULL || (strcmp(name, "message") == 0 &&
			    (!rec_get(line, n, "type", type, sizeof(type)) ||
			    strcmp(type, "ClientHello") != 0)))
				continue;
			if ((k = build("ev", NULL, line, n)) > 0)
				vsend(v, msg, k);
		}
	}
	for (j = rc.n - 1; j >= 0 && ladder_room(v); j--) {
		if ((r = record_find(ids[j])) == NULL || page_ladder_svg(r, &svg, &len) == -1)
			continue;
		snprintf(head, sizeof(head), "%u", ids[j]);
		if ((k = build("ladder", head, svg, len)) > 0)
			vsend(v, msg, k);
		free(svg);
	}
	inside = 0;
}

/* Every heartbeat: a comment line each viewer's EventSource ignores, so that a proxy or the
 * browser sees bytes; and a viewer that took nothing of what we queued for --idle-timeout
 * (stopped reading, or gone without a FIN) is closed, as the send timeout closes any
 * connection. */
static void
heartbeat(evutil_socket_t fd, short what, void *arg)
{
	static const char beat[] = ": hb\n\n";
	struct tcp_info ti;
	struct viewer *v;
	uint64_t acked;
	char why[160];
	int i, outq;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < LIVE_VIEWERS; i++) {
		if ((v = &viewers[i])->c == NULL || v->c->phase != PHASE_OPEN)
			continue;
		if (conn_output_length(v->c) + sizeof(beat) - 1 <= LIVE_QUEUE)
			conn_write(v->c, beat, sizeof(beat) - 1);
		outq = 0;
		if (ioctl(v->c->fd, SIOCOUTQ, &outq) == -1 || outq < 0)
			outq = 0;
		acked = tcpinfo_get(v->c->fd, &ti) == 0 ? ti.tcpi_bytes_acked : 0;
		if (acked != v->acked || (conn_output_length(v->c) == 0 && outq == 0)) {
			v->acked = acked;
			v->stall_ms = 0;
			continue;
		}
		if ((v->stall_ms += hb_ms) < opt->idle_ms)
			continue;
		snprintf(why, sizeof(why), TR("a /live viewer took nothing of its stream for %d ms "
		    "(--idle-timeout)", "/live 的观看者 %d ms 内没有收走任何流数据"
		    "（--idle-timeout）"), v->stall_ms);
		conn_close(v->c, why);
	}
}

/* The response event of the stream: its body has no length, it lasts until one end closes. */
static void
log_stream(struct conn *c)
{
	struct evrec r;

	if (!evrec_begin(&r, EVT_RESPONSE, c->id, c->fd))
		return;
	evrec_int(&r, "status", 200);
	evrec_int(&r, "length", 0);
	evrec_bool(&r, "keep_alive", 0);
	evrec_label(&r, "> 200 OK");
	evrec_detail(&r, "%s", TR("an event stream (text/event-stream): no length, it lasts "
	    "until one end closes", "事件流（text/event-stream）：没有长度，一直持续到一端关闭"));
	evrec_gloss(&r, "%s", TR("Server-Sent Events: each new connection's events follow on this "
	    "one as they happen", "服务器发送事件（SSE）：每个新连接的事件随发生随即在这个连接上"
	    "送出"));
	evrec_emit(&r);
}

static void
start_stream(struct conn *c)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nServer: handshake-lab\r\n"
	    "Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\nretry: 3000\n\n";
	struct viewer *v = viewer_of(NULL);
	int sndbuf = LIVE_SNDBUF;
	struct timeval tv;
	char hello[256];
	size_t n;
	int k;

	if (viewer_of(c) != NULL || v == NULL)
		return;		/* one stream per connection; live_serve() counted the slots */

	/* The kernel's share bounded too: its send buffer would grow to tcp_wmem's maximum (4 MB)
	 * for a viewer that stopped reading. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	conn_write(c, head, sizeof(head) - 1);
	log_stream(c);
	v->c = c;
	v->dropped = 0;
	v->stall_ms = 0;
	v->acked = 0;
	nviewers++;
	/* the heartbeat, not the read timeout, says whether a viewer is still there */
	conn_set_timeout(c, 0);
	k = snprintf(hello, sizeof(hello), "{\"conn\": %u, \"viewers\": %d, \"viewers_max\": %d, "
	    "\"queue_max\": %d, \"history_max\": %d, \"heartbeat_ms\": %d}", c->id, nviewers,
	    LIVE_VIEWERS, LIVE_QUEUE, LIVE_HISTORY, hb_ms);
	if (k > 0 && (n = build("hello", hello, NULL, 0)) > 0)
		vsend(v, msg, n);
	snapshot(v);
	if (hb == NULL)
		hb = event_new(base, -1, EV_PERSIST, heartbeat, NULL);
	if (hb != NULL && !event_pending(hb, EV_TIMEOUT, NULL)) {
		tv = clock_tv_ms(hb_ms);
		event_add(hb, &tv);
	}
}

/* ---- the pages ---- */

/* An error answer: "STATUS Reason: why", as the server's other errors read. */
static void
fail(struct live_answer *a, int status, const char *why)
{
	int n = asprintf(&a->body, "%d %s: %s\n", status, http1_reason(status), why);

	a->status = status;
	a->ctype = "text/plain; charset=utf-8";
	a->len = n > 0 ? (size_t)n : 0;
	if (n < 0)
		a->body = NULL;
}


/* The answer from a page written into b: its body, or 500 if b ran out (memory, PAGE_MAX). */
static void
answer(struct live_answer *a, struct pbuf *b, const char *csp)
{
	if (b->err) {
		free(b->p);
		b->p = NULL;
	}
	a->status = b->p != NULL ? 200 : 500;
	a->ctype = "text/html; charset=utf-8";
	a->body = b->p;
	a->len = b->p != NULL ? b->len : 0;
	a->extra = csp;
}

/* One table row per event of r: its time from the accept, layer, name and detail, escaped. */
static void
event_rows(struct pbuf *b, const struct record *r)
{
	static const char *const keys[] = { "layer", "event", "detail" };
	const char *line;
	char v[1024];
	double t0 = 0, ms;
	size_t off = 0, n;
	int i, first;

	for (first = 1; rec_line(r, &off, &line, &n); first = 0) {
		pb_raw(b, "<tr><td>");
		if (rec_get(line, n, "t_ms", v, sizeof(v))) {
			ms = strtod(v, NULL);
			if (first)
				t0 = ms;
			pb_escf(b, "%.3f", ms - t0);
		}
		for (i = 0; i < 3; i++) {
			if (!rec_get(line, n, keys[i], v, sizeof(v)))
				v[0] = '\0';
			pb_raw(b, "</td><td>");
			pb_esc(b, v, strlen(v));
		}
		pb_raw(b, "</td></tr>\n");
	}
}

/* GET /live: the page (live_page.h), its bounds filled in. */
static void
page_live(struct live_answer *a)
{
	static const char head[] = LIVE_PAGE_HEAD, tail[] = LIVE_PAGE_TAIL;
	struct pbuf b = { NULL, 0, 0, 0, 0, 0 };
	char bounds[1024];
	int n;

	/* our own text and numbers: as it is */
	n = snprintf(bounds, sizeof(bounds), "<p id=\"bounds\">At most %d viewers at once (more "
	    "get 503); each viewer's queue at most %d KB (beyond it, events are dropped and the "
	    "page says how many; a row's small ladder is left out first); a new page starts with "
	    "the last %d connections held, open or closed; the last %d closed connections are "
	    "kept for a click; a heartbeat every %g s keeps this page connected through the "
	    "server's idle timeout (%d s).%s</p>\n", LIVE_VIEWERS, LIVE_QUEUE / 1024,
	    LIVE_SNAPSHOT, LIVE_HISTORY, hb_ms / 1000.0, opt->idle_ms / 1000, evlog_on() ? "" :
	    " <strong>This server runs with -q: with no event log there are no events, so this "
	    "page stays empty.</strong>");
	pb_put(&b, head, sizeof(head) - 1);
	pb_put(&b, bounds, n > 0 ? (size_t)n : 0);
	pb_put(&b, tail, sizeof(tail) - 1);
	/* its own script, its stream and the frame of /live/conn/N: nothing from elsewhere */
	answer(a, &b, "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
	    "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-src 'self'\r\n");
}

/* GET /live/conn/N: connection N's full ladder, and its events as the record kept them. */
static void
page_conn(const char *p, struct live_answer *a)
{
	struct pbuf b = { NULL, 0, 0, 0, 0, 0 };
	const struct record *r;
	char why[256], line[512], *svg, *end;
	const char *l;
	unsigned long id;
	size_t svglen, off = 0, len;
	int n;

	id = strtoul(p, &end, 10);
	if (end == p || (*end != '\0' && *end != '?') || id == 0 || id > 0xffffffffUL) {
		fail(a, 404, TR("/live/conn/N takes a connection number",
		    "/live/conn/N 要一个连接编号"));
		return;
	}
	if ((r = record_find((unsigned)id)) == NULL) {
		snprintf(why, sizeof(why), TR("connection %lu is not kept: /live keeps the open "
		    "connections and the last %d closed ones", "连接 %lu 没有保留：/live 只保留打开的"
		    "连接和最近关闭的 %d 个"), id, LIVE_HISTORY);
		fail(a, 404, why);
		return;
	}
	/* our own markup and numbers: as it is */
	n = snprintf(line, sizeof(line), "<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><title>connection %u</title><style>body{font-family:sans-serif;"
	    "margin:1em}pre{white-space:pre-wrap;font-size:12px}td{padding:0 .5em;"
	    "vertical-align:top}#ladder svg{max-width:100%%;height:auto}</style></head><body>\n"
	    "<h1 id=\"conn\" data-conn=\"%u\">Connection %u (%s)</h1>\n", r->id, r->id, r->id,
	    r->closed ? "closed" : "open");
	pb_put(&b, line, n > 0 ? (size_t)n : 0);
	if (page_ladder_svg(r, &svg, &svglen) == 0) {
		pb_raw(&b, "<div id=\"ladder\">");
		pb_put(&b, svg, svglen);	/* our own drawing: it escapes what it names */
		pb_raw(&b, "</div>\n");
		free(svg);
	} else {
		pb_raw(&b, "<p id=\"ladder\">The ladder could not be drawn from this record (too "
		    "large for the drawing, or out of memory); the events it would be drawn from "
		    "follow.</p>\n");
	}
	pb_raw(&b, "<h2>Its events, as the server kept them (");
	pb_escf(&b, "%u", r->nev);
	if (r->dropped > 0)
		pb_escf(&b, "; %u more not kept: the record is full at %d KB", r->dropped,
		    RECORD_MAX / 1024);
	pb_raw(&b, ")</h2>\n<table id=\"events\"><tr><th>ms from the accept</th><th>layer</th>"
	    "<th>event</th><th>what happened</th></tr>\n");
	event_rows(&b, r);
	pb_raw(&b, "</table>\n<details><summary>The same as JSON lines</summary><pre id=\"json\">");
	/* line by line: pb_esc() would write the line breaks as \x0a */
	while (rec_line(r, &off, &l, &len)) {
		pb_esc(&b, l, len);
		pb_put(&b, "\n", 1);
	}
	pb_raw(&b, "</pre></details>\n</body></html>\n");
	/* no script at all: whatever the network put in the ladder's text cannot run */
	answer(a, &b, "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n");
}

int
live_path(const char *path, size_t plen)
{
	return plen >= 5 && strncmp(path, "/live", 5) == 0 && (plen == 5 || path[5] == '/');
}

void
live_serve(struct conn *c, const char *method, const char *path, int head,
    struct live_answer *a)
{
	const char *why;
	size_t plen = strcspn(path, "?");
	struct record *r;
	char full[160];
	int status;

	memset(a, 0, sizeof(*a));
	if (strcmp(method, "POST") == 0) {
		fail(a, 405, TR("/live only answers GET and HEAD", "/live 只应答 GET 和 HEAD"));
		a->extra = "Allow: GET, HEAD\r\n";	/* not the server's usual GET, HEAD, POST */
		return;
	}
	if ((status = access_check(c, path, &why)) != 0) {
		fail(a, status, why);
		return;
	}
	/* a viewer's own connections are not shown: no feedback */
	if ((r = record_find(c->id)) != NULL && !r->hidden) {
		char id[16];
		size_t n;

		r->hidden = 1;
		snprintf(id, sizeof(id), "%u", c->id);
		if (nviewers > 0 && (n = build("hide", id, NULL, 0)) > 0)
			broadcast(msg, n);
	}
	if (plen == 5 || (plen == 6 && path[5] == '/')) {
		page_live(a);
		return;
	}
	if (plen > 11 && strncmp(path, "/live/conn/", 11) == 0) {
		page_conn(path + 11, a);
		return;
	}
	if (plen != 12 || strncmp(path, "/live/events", 12) != 0) {
		fail(a, 404, TR("/live has /live/events and /live/conn/N under it",
		    "/live 下面只有 /live/events 和 /live/conn/N"));
		return;
	}
	if (!evlog_on()) {
		fail(a, 503, TR("this server runs with -q: with no event log there is no /live "
		    "stream", "本服务器以 -q 运行：没有事件日志，也就没有 /live 事件流"));
		return;
	}
	if (nviewers >= LIVE_VIEWERS) {
		snprintf(full, sizeof(full), TR("%d viewers already watch /live, the most this "
		    "server allows: close one and reload", "已有 %d 个观看者在看 /live，已达上限："
		    "关掉一个再刷新"), nviewers);
		fail(a, 503, full);
		return;
	}
	if (head) {
		a->status = 200;
		a->ctype = "text/event-stream; charset=utf-8";
		return;
	}
	a->stream = 1;
	a->status = 200;
	start_stream(c);
}

void
live_drained(struct conn *c)
{
	struct viewer *v = viewer_of(c);
	char note[64];
	int k;

	if (v != NULL && v->dropped > 0 && c->phase == PHASE_OPEN) {
		k = snprintf(note, sizeof(note), "event: dropped\ndata: %u\n\n", v->dropped);
		v->dropped = 0;
		conn_write(c, note, (size_t)k);
	}
}

void
live_gone(struct conn *c)
{
	struct viewer *v;

	/* every slot c holds (start_stream() gives it one: all the same, never leave one
	 * pointing at a connection that is gone) */
	while ((v = viewer_of(c)) != NULL && c != NULL) {
		v->c = NULL;
		nviewers--;
	}
	/* no viewer, no wake-ups; kept (not freed: this may run inside the heartbeat itself) */
	if (nviewers == 0 && hb != NULL)
		event_del(hb);
}

void
live_stop(void)
{
	size_t n;

	if (nviewers > 0 && (n = build("bye", "the server is stopping", NULL, 0)) > 0)
		broadcast(msg, n);
}

void
live_init(struct event_base *b, const struct options *o)
{
	base = b;
	opt = o;
	hb_ms = o->idle_ms / 2 < LIVE_HB_MS ? o->idle_ms / 2 : LIVE_HB_MS;
	if (hb_ms < 500)
		hb_ms = 500;
	record_init(o->live_off ? 0 : LIVE_HISTORY);
	record_set_listener(o->live_off ? NULL : live_event);
}

void
live_free(void)
{
	if (hb != NULL)
		event_free(hb);
	hb = NULL;
	record_set_listener(NULL);
}
