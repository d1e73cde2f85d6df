/* model.c -- the ladder's model: the events grouped into connections, a client's connection
 * paired with the server's, and one diagram per pair as rows (arrows and notes) in time order. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

static void	shared_origin(struct diagram *);

static const char *const side_names[] = { "client", "server" };	/* enum side */

/* ------------------------------------------------------------------ connections */

static int
cmp_conn_order(const void *a, const void *b)
{
	const struct ev *x = *(const struct ev *const *)a, *y = *(const struct ev *const *)b;

	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	if (x->conn != y->conn)
		return x->conn < y->conn ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct conn *
group_conns(struct logset *ls, size_t *nconn)
{
	struct conn *c = NULL;
	size_t i, n = 0, cap = 0;

	if (ls->n > 1)
		qsort(ls->ev, ls->n, sizeof(*ls->ev), cmp_conn_order);
	for (i = 0; i < ls->n; i++) {
		struct ev *e = ls->ev[i];
		struct conn *g;

		if (n == 0 || c[n - 1].side != e->side || c[n - 1].file != e->file ||
		    c[n - 1].run != e->run || c[n - 1].id != e->conn) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				c = lad_realloc(c, ncap * sizeof(*c));
				cap = ncap;
			}
			g = &c[n++];
			memset(g, 0, sizeof(*g));
			g->side = e->side;
			g->file = e->file;
			g->run = e->run;
			g->id = e->conn;
			g->ev = &ls->ev[i];
		}
		g = &c[n - 1];
		g->n++;
		if (g->local == NULL && (e->kind == K_ESTABLISHED ||
		    (e->kind == K_CONNECT && e->side == CLIENT)) &&
		    ev_str(e, "local") != NULL && ev_str(e, "remote") != NULL) {
			g->local = ev_str(e, "local");
			g->remote = ev_str(e, "remote");
			g->est_ts = e->ts;
		}
	}
	*nconn = n;
	return c;
}

/* ------------------------------------------------------------------ the diagram */

static struct row *
row_new(struct diagram *d)
{
	struct row *r;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		d->rows = lad_realloc(d->rows, ncap * sizeof(*d->rows));
		d->cap = ncap;
	}
	r = &d->rows[d->n++];
	memset(r, 0, sizeof(*r));
	r->t[0] = r->t[1] = r->t_log[0] = r->t_log[1] = -1;
	return r;
}

static void
copy_state(char *dst, const char *s)
{
	bprintf(dst, STATE_MAX, "%s", s != NULL ? s : "");
}

/* seq/ack relative to an ISN, the textbook's way: x, x+1, y+899; absolute when unknown. */
static void
rel_num(const struct diagram *d, int who, int64_t v, char *buf, size_t len)
{
	uint32_t off;

	if (!d->has_isn[who] || v < 0 || v > UINT32_MAX) {
		bprintf(buf, len, "%" PRId64, v);
		return;
	}
	off = (uint32_t)v - d->isn[who];
	if (off == 0)
		bprintf(buf, len, "%c", who == CLIENT ? 'x' : 'y');
	else
		bprintf(buf, len, "%c+%" PRIu32, who == CLIENT ? 'x' : 'y', off);
}

static const char *
step_words(const char *step)
{
	static const struct { const char *step, *words, *zh; } steps[] = {
		{ "syn", "1st handshake", "第一次握手" },
		{ "syn_ack", "2nd handshake", "第二次握手" },
		{ "syn_resent", "1st handshake, sent again", "第一次握手（重传）" },
		{ "syn_ack_resent", "2nd handshake, sent again", "第二次握手（重传）" },
		{ "ack_handshake", "3rd handshake", "第三次握手" },
		{ "fin1", "1st wave", "第一次挥手" }, { "ack_fin1", "2nd wave", "第二次挥手" },
		{ "fin2", "3rd wave", "第三次挥手" },
		{ "fin2_ack", "2nd+3rd wave", "第二、三次挥手" },
		{ "ack_fin2", "4th wave", "第四次挥手" },
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(step, steps[i].step) == 0)
			return TR(steps[i].words, steps[i].zh);
	return NULL;
}

static void
segment_label(const struct diagram *d, struct row *r, const struct ev *e, enum side origin)
{
	const char *flags = ev_s(e, "flags"), *step = ev_s(e, "step"), *name, *words;
	int64_t seq = -1, ack = -1, len = 0;
	char s[32], a[32], l[32] = "";
	int has_ack = strstr(flags, "ACK") != NULL;

	ev_int(e, "seq", &seq);
	ev_int(e, "ack", &ack);
	ev_int(e, "len", &len);
	if (strstr(flags, "RST"))
		name = "RST";
	else if (strstr(flags, "SYN"))
		name = has_ack ? "SYN+ACK" : "SYN";
	else if (strstr(flags, "FIN"))
		name = strcmp(step, "fin2_ack") == 0 ? "FIN+ACK" : "FIN";
	else if (len > 0)
		name = "data";
	else if (has_ack)
		name = "ACK";
	else
		name = flags[0] ? flags : "segment";
	rel_num(d, origin, seq, s, sizeof(s));
	rel_num(d, !origin, ack, a, sizeof(a));
	if (len > 0)
		bprintf(l, sizeof(l), " len=%" PRId64, len);
	words = step_words(step);
	if (!has_ack || ack == 0)
		bprintf(r->label, sizeof(r->label), "%s seq=%s%s%s%s", name, s, l,
		    words ? " · " : "", words ? words : "");
	else
		bprintf(r->label, sizeof(r->label), "%s seq=%s ack=%s%s%s%s", name, s, a, l,
		    words ? " · " : "", words ? words : "");
	if (strcmp(step, "syn") == 0 || strcmp(step, "syn_ack") == 0)
		bprintf(r->sub, sizeof(r->sub), "flags %s, %c = %" PRId64, flags,
		    strcmp(step, "syn") == 0 ? 'x' : 'y', seq);
	else
		bprintf(r->sub, sizeof(r->sub), "flags %s, seq %" PRId64 ", ack %" PRId64,
		    flags, seq, ack);
}

static void
arrow_label(const struct diagram *d, struct row *r, const struct ev *snd, const struct ev *rcv,
    enum side origin)
{
	const struct ev *e = snd != NULL ? snd : rcv;
	int64_t v, code;

	switch (e->kind) {
	case K_MESSAGE:
		r->cls = CL_TLS;
		if (ev_int(e, "len", &v))
			bprintf(r->label, sizeof(r->label), "%s %" PRId64 " B", ev_s(e, "type"), v);
		else
			bprintf(r->label, sizeof(r->label), "%s", ev_s(e, "type"));
		bprintf(r->sub, sizeof(r->sub), "%s", ev_s(e, "summary"));
		break;
	case K_ALERT:
		r->cls = CL_ALERT;
		if (ev_int(e, "code", &code))
			bprintf(r->label, sizeof(r->label), "alert %s %s (%" PRId64 ")",
			    ev_s(e, "level"), ev_s(e, "desc"), code);
		else
			bprintf(r->label, sizeof(r->label), "alert %s %s", ev_s(e, "level"),
			    ev_s(e, "desc"));
		break;
	case K_CLOSE_NOTIFY:
		r->cls = CL_CLOSE_NOTIFY;
		bprintf(r->label, sizeof(r->label), "close_notify");
		bprintf(r->sub, sizeof(r->sub), TR("TLS alert 0: no more data from the %s",
		    "TLS 告警 0：%s不再发送数据"), ladder_zh ? (origin == CLIENT ? "客户端" :
		    "服务器") : side_names[origin]);
		break;
	case K_REQUEST:
		r->cls = CL_HTTP;
		bprintf(r->label, sizeof(r->label), "%s %s", ev_s(e, "method"), ev_s(e, "target"));
		if (ev_str(e, "host") != NULL)
			bprintf(r->sub, sizeof(r->sub), "Host: %s", ev_s(e, "host"));
		break;
	case K_RESPONSE: {
		/* the reason phrase is in the client's record */
		const struct ev *c = rcv != NULL && rcv->side == CLIENT ? rcv : e;

		r->cls = CL_HTTP;
		if (!ev_int(e, "status", &v))
			v = 0;
		bprintf(r->label, sizeof(r->label), "%" PRId64 "%s%s", v,
		    ev_str(c, "reason") ? " " : "", ev_s(c, "reason"));
		if (ev_int(e, "length", &v) && v >= 0)
			bprintf(r->sub, sizeof(r->sub), "Content-Length: %" PRId64, v);
		break;
	}
	case K_SEGMENT:
		r->cls = CL_TCP;
		segment_label(d, r, e, origin);
		break;
	default:
		break;
	}
}

/* One record that is half of an arrow: which side sent it and how to pair it. */
struct cand {
	const struct ev	*e;
	enum side	 origin;
	int		 sender;	/* 1: the sender's own record */
	char		 key[96];
};

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c;

	if (x->origin != y->origin)
		return x->origin < y->origin ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	if (x->sender != y->sender)
		return x->sender ? -1 : 1;
	return x->e->order < y->e->order ? -1 : x->e->order > y->e->order;
}

/* Fills c if e is half of an arrow. dir "out" on one side is the arrow's origin. */
static int
make_cand(const struct ev *e, struct cand *c)
{
	const char *dir = ev_s(e, "dir");
	int64_t seq = -1, ack = -1, len = -1;

	c->e = e;
	switch (e->kind) {
	case K_MESSAGE:
	case K_ALERT:
	case K_CLOSE_NOTIFY:
	case K_SEGMENT:
		if (strcmp(dir, "out") == 0)
			c->origin = e->side;
		else if (strcmp(dir, "in") == 0)
			c->origin = (enum side)!e->side;
		else
			return 0;
		break;
	case K_REQUEST:
		c->origin = CLIENT;
		break;
	case K_RESPONSE:
		c->origin = SERVER;
		break;
	default:
		return 0;
	}
	c->sender = c->origin == e->side;
	switch (e->kind) {
	case K_MESSAGE:
		bprintf(c->key, sizeof(c->key), "m %s", ev_s(e, "type"));
		break;
	case K_ALERT:
		bprintf(c->key, sizeof(c->key), "a %s", ev_s(e, "desc"));
		break;
	case K_SEGMENT:
		ev_int(e, "seq", &seq);
		ev_int(e, "ack", &ack);
		ev_int(e, "len", &len);
		bprintf(c->key, sizeof(c->key), "s %s %" PRId64 " %" PRId64 " %" PRId64,
		    ev_s(e, "flags"), seq, ack, len);
		break;
	default:
		bprintf(c->key, sizeof(c->key), "%s", ladder_kind_names[e->kind]);
		break;
	}
	return 1;
}

static void
add_arrow(struct diagram *d, const struct cand *snd, const struct cand *rcv)
{
	const struct cand *any = snd != NULL ? snd : rcv;
	enum side o = any->origin;
	struct row *r = row_new(d);

	r->arrow = 1;
	r->side = o;
	if (snd != NULL) {
		r->t[o] = r->t_log[o] = snd->e->ts;
		r->e[o] = snd->e;
		copy_state(r->state[o], ev_str(snd->e, "tcp_state"));
	}
	if (rcv != NULL) {
		r->t[!o] = r->t_log[!o] = rcv->e->ts;
		r->e[!o] = rcv->e;
		copy_state(r->state[!o], ev_str(rcv->e, "tcp_state"));
	}
	r->when = snd != NULL ? snd->e->ts : rcv->e->ts;
	r->order = any->e->order;
	if (snd != NULL && rcv != NULL && rcv->e->ts + 1000 < snd->e->ts)
		d->skew = 1;
	arrow_label(d, r, snd ? snd->e : NULL, rcv ? rcv->e : NULL, o);
}

static void
pair_arrows(struct diagram *d)
{
	struct cand *c;
	size_t n = 0, i, j, k, cap = d->c[0]->n + d->c[1]->n;
	int s;

	c = lad_calloc(cap ? cap : 1, sizeof(*c));
	for (s = 0; s < 2; s++)
		for (i = 0; i < d->c[s]->n; i++)
			if (make_cand(d->c[s]->ev[i], &c[n]))
				n++;
	if (n > 1)
		qsort(c, n, sizeof(*c), cmp_cand);
	/* within one (origin, key): the k-th record of the sender goes with the k-th of the
	 * receiver; a record without its other half still is a real message */
	for (i = 0; i < n; i = j) {
		size_t ns = 0, nr;

		for (j = i; j < n && c[j].origin == c[i].origin && strcmp(c[j].key, c[i].key) == 0;
		    j++)
			ns += c[j].sender;
		nr = (j - i) - ns;
		for (k = 0; k < ns || k < nr; k++)
			add_arrow(d, k < ns ? &c[i + k] : NULL, k < nr ? &c[i + ns + k] : NULL);
	}
	lad_free(c);
}

static void
state_change_label(const struct ev *e, struct row *r)
{
	const char *from = ev_s(e, "from"), *to = ev_s(e, "to"), *timer = ev_s(e, "timer");
	int64_t ms = 0;
	char t[64] = "";

	ev_int(e, "expires_ms", &ms);
	if (*timer && strcmp(timer, "none") != 0)
		bprintf(t, sizeof(t), TR("%s timer %" PRId64 " ms", "%s 定时器 %" PRId64 " ms"),
		    timer, ms);
	if (strcmp(from, to) == 0)
		bprintf(r->label, sizeof(r->label), "%s: %s", to, t);
	else if (strcmp(to, "CLOSED") == 0)
		bprintf(r->label, sizeof(r->label), TR("%s → CLOSED: the kernel forgot it",
		    "%s → CLOSED：内核已删除这个连接"), from);
	else
		bprintf(r->label, sizeof(r->label), "%s → %s%s%s", from, to, *t ?
		    TR(", ", "，") : "", t);
	copy_state(r->state[r->side], to);
}

static void
add_note(struct diagram *d, const struct ev *e)
{
	struct row *r;
	int64_t v;

	switch (e->kind) {
	case K_CONNECT: case K_ESTABLISHED: case K_FIN_SENT: case K_FIN_RECEIVED:
	case K_RESET: case K_CLOSED: case K_STATE_CHANGE: case K_HOLD_CLOSE:
		break;
	default:
		return;
	}
	r = row_new(d);
	r->side = e->side;
	r->nk = e->kind;
	r->cls = CL_NOTE;
	r->t[e->side] = r->t_log[e->side] = e->ts;
	r->e[e->side] = e;
	r->when = e->ts;
	r->order = e->order;
	/* connect()'s state was read after the call: with a capture the arrows below show
	 * the handshake it did, and the row stands where the call began */
	if (e->kind != K_CONNECT || (!d->segs[CLIENT] && !d->segs[SERVER]))
		copy_state(r->state[e->side], ev_str(e, "tcp_state"));
	switch (e->kind) {
	case K_CONNECT:
		/* timed before connect(); logged when it has returned: on loopback the kernel
		 * has done the whole handshake by then; with a capture its segments follow */
		if (d->segs[CLIENT] || d->segs[SERVER])
			bprintf(r->label, sizeof(r->label), "%s", TR("connect(): the kernel sends SYN",
			    "connect()：内核发出 SYN"));
		else if (ev_is(e, "tcp_state", "ESTABLISHED"))
			bprintf(r->label, sizeof(r->label), "%s", TR("connect(): the kernel did the "
			    "handshake", "connect()：内核完成了三次握手"));
		else
			bprintf(r->label, sizeof(r->label), "%s", TR("connect(): the kernel sent SYN",
			    "connect()：内核已发出 SYN"));
		bprintf(r->sub, sizeof(r->sub), "%s → %s", ev_s(e, "local"), ev_s(e, "remote"));
		break;
	case K_ESTABLISHED:
		if (e->side == CLIENT)
			bprintf(r->label, sizeof(r->label), "%s", TR("connect() completed",
			    "connect() 返回：连接建立"));
		else
			bprintf(r->label, sizeof(r->label), "%s", TR("accept(): handshake done",
			    "accept()：三次握手已完成"));
		break;
	case K_FIN_SENT:
		bprintf(r->label, sizeof(r->label), "%s", TR("shutdown(): our FIN goes out",
		    "shutdown()：我方发出 FIN"));
		break;
	case K_FIN_RECEIVED:
		bprintf(r->label, sizeof(r->label), "%s", TR("read() = 0: the peer's FIN is in",
		    "read() = 0：对方的 FIN 已到"));
		break;
	case K_RESET:
		if (ev_is(e, "dir", "out"))
			bprintf(r->label, sizeof(r->label), "%s", TR("close() with RST (abort)",
			    "close() 发送 RST（异常终止）"));
		else
			bprintf(r->label, sizeof(r->label), TR("RST received: %s", "收到 RST：%s"),
			    ev_s(e, "errno"));
		break;
	case K_CLOSED:
		bprintf(r->label, sizeof(r->label), "close()");
		bprintf(r->sub, sizeof(r->sub), "%s", ev_s(e, "reason"));
		break;
	case K_STATE_CHANGE:
		state_change_label(e, r);
		break;
	case K_HOLD_CLOSE:
		if (ev_int(e, "ms", &v))
			bprintf(r->label, sizeof(r->label), TR("holding our FIN for %" PRId64 " ms",
			    "推迟我方的 FIN %" PRId64 " ms"), v);
		else
			bprintf(r->label, sizeof(r->label), "%s", TR("holding our FIN",
			    "推迟我方的 FIN"));
		break;
	default:
		break;
	}
}

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	/* Equal times: the client's row first, whichever log was given first. */
	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Marks the spans of one side: connect() until it returned, and the close from the first
 * FIN (or RST) until close(). Rows are sorted. */
static void
mark_spans(struct diagram *d, enum side s)
{
	struct row *start = NULL;
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct row *r = &d->rows[i];

		if (r->arrow || r->side != s)
			continue;
		if (r->nk == K_CONNECT || (start == NULL && (r->nk == K_FIN_SENT ||
		    r->nk == K_FIN_RECEIVED || r->nk == K_RESET))) {
			start = r;
		} else if (start != NULL && ((start->nk == K_CONNECT && r->nk == K_ESTABLISHED) ||
		    (start->nk != K_CONNECT && r->nk == K_CLOSED))) {
			start->span = SP_START;
			r->span = SP_END;
			start = NULL;
		}
	}
}

static void
build_diagram(struct diagram *d, const struct conn *cc, const struct conn *sc, int one_side)
{
	const struct ev *hd = NULL, *kx = NULL;
	size_t i;
	int s;

	memset(d, 0, sizeof(*d));
	d->one_side = one_side;
	d->c[CLIENT] = cc;
	d->c[SERVER] = sc;
	for (s = 0; s < 2; s++) {
		for (i = 0; i < d->c[s]->n; i++) {
			const struct ev *e = d->c[s]->ev[i];
			int64_t seq;

			if (e->kind == K_SEGMENT) {
				d->segs[s]++;
				/* x and y, the two initial sequence numbers */
				if (ev_int(e, "seq", &seq) && seq >= 0 && seq <= UINT32_MAX) {
					int who = ev_is(e, "step", "syn") ? CLIENT :
					    ev_is(e, "step", "syn_ack") ? SERVER : -1;

					if (who >= 0 && !d->has_isn[who]) {
						d->has_isn[who] = 1;
						d->isn[who] = (uint32_t)seq;
					}
				}
			}
			if (e->kind == K_MESSAGE)
				d->tls = 1;
			if (e->kind == K_HANDSHAKE_DONE && (hd == NULL || s == CLIENT))
				hd = e;
			if (e->kind == K_KEY_EXCHANGE && (kx == NULL || s == CLIENT))
				kx = e;
		}
	}
	pair_arrows(d);
	for (s = 0; s < 2; s++)
		for (i = 0; i < d->c[s]->n; i++)
			add_note(d, d->c[s]->ev[i]);
	if (d->n > 1)
		qsort(d->rows, d->n, sizeof(*d->rows), cmp_row);
	order_rows(d);
	mark_spans(d, CLIENT);
	mark_spans(d, SERVER);
	d->t0 = INT64_MAX;
	for (i = 0; i < d->n; i++)
		for (s = 0; s < 2; s++)
			if (d->rows[i].t[s] >= 0 && d->rows[i].t[s] < d->t0)
				d->t0 = d->rows[i].t[s];
	if (d->t0 == INT64_MAX)
		d->t0 = 0;
	shared_origin(d);
	if (hd != NULL)
		bprintf(d->proto, sizeof(d->proto), "%s  %s%s%s%s%s", ev_s(hd, "version"),
		    ev_s(hd, "cipher"), kx ? "  " : "", kx ? ev_s(kx, "kx") : "",
		    kx && *ev_s(kx, "group") ? " " : "", kx ? ev_s(kx, "group") : "");
	else if (d->tls)
		bprintf(d->proto, sizeof(d->proto), "%s", TR("TLS handshake not completed",
		    "TLS 握手没有完成"));
	else
		bprintf(d->proto, sizeof(d->proto), "%s", TR("plain TCP (no TLS)",
		    "明文 TCP（没有 TLS）"));
}

struct diagram *
pair_conns(struct conn *conns, size_t nconn, size_t *nd)
{
	struct diagram *dd;
	size_t nclient = 0, i, j;

	*nd = 0;
	for (i = 0; i < nconn; i++)
		nclient += conns[i].side == CLIENT;
	dd = lad_calloc(nclient ? nclient : 1, sizeof(*dd));
	/* client (local, remote) == server (remote, local); a port used twice in a long
	 * server log: the connection closest in time */
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i], *best = NULL;
		int64_t bestd = INT64_MAX;

		if (c->side != CLIENT || c->local == NULL)
			continue;
		for (j = 0; j < nconn; j++) {
			struct conn *s = &conns[j];
			int64_t dist;

			if (s->side != SERVER || s->paired || s->local == NULL ||
			    strcmp(s->local, c->remote) != 0 || strcmp(s->remote, c->local) != 0)
				continue;
			dist = s->est_ts > c->est_ts ? s->est_ts - c->est_ts : c->est_ts - s->est_ts;
			if (dist < bestd) {
				bestd = dist;
				best = s;
			}
		}
		if (best == NULL)
			continue;
		best->paired = c->paired = 1;
		build_diagram(&dd[(*nd)++], c, best, 0);
	}
	return dd;
}

void
one_side_diagram(struct diagram *d, struct conn *peer, const struct conn *c)
{
	memset(peer, 0, sizeof(*peer));
	peer->side = CLIENT;
	peer->file = c->file;
	peer->run = c->run;
	peer->id = c->id;
	/* the server's remote is the client's local: the lane heads name the two ends */
	peer->local = c->remote != NULL ? c->remote : "?";
	peer->remote = c->local != NULL ? c->local : "?";
	peer->est_ts = c->est_ts;
	build_diagram(d, peer, c, 1);
}

void
free_diagrams(struct diagram *dd, size_t nd)
{
	size_t i;

	for (i = 0; i < nd; i++)
		lad_free(dd[i].rows);
	lad_free(dd);
}

/* The origin of the times: the first event, or the origin both programs counted from when a
 * script gave them one (HSLAB_T0, wall-clock µs since the epoch: make demo, make lesson), so
 * the diagram's times are those of the programs' +ms lines beside it. Taken only when it lies
 * before the first event and less than a day before it. */
static void
shared_origin(struct diagram *d)
{
	const char *v;
	char *end;
	long long t0;

	d->t0_shared = 0;
	/* one side: the server's page counts from its own first event, whatever the demo set */
	if (d->one_side)
		return;
	v = getenv("HSLAB_T0");
	if (v == NULL || *v < '0' || *v > '9')
		return;
	errno = 0;
	t0 = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || t0 > d->t0 || d->t0 - t0 > 86400LL * 1000000)
		return;
	d->t0 = t0;
	d->t0_shared = 1;
}

double
rel_ms(const struct diagram *d, int64_t t)
{
	return (double)(t - d->t0) / 1000.0;
}

/* The words about the capture: NULL when both sides captured their segments. */
const char *
capture_note(const struct diagram *d)
{
	if (d->segs[CLIENT] && d->segs[SERVER])
		return NULL;
	if (d->one_side)
		return d->segs[SERVER] ? NULL : TR("TCP segments were not captured (run the server "
		    "with --capture, as root): accept() and the FINs are shown as the server's "
		    "events, not as arrows.", "没有抓取 TCP 报文段（以 root 身份给服务器加上 "
		    "--capture）: accept() 和 FIN 显示为服务器一侧的事件，而不是箭头。");
	if (d->segs[CLIENT])
		return TR("TCP segments were captured by the client only (the server ran without "
		    "--capture): each segment arrow has the client's time only.", "只有客户端抓取"
		    "了 TCP 报文段（服务器运行时没有加 --capture）: 每个报文段箭头只有客户端的时间。");
	if (d->segs[SERVER])
		return TR("TCP segments were captured by the server only (the client ran without "
		    "--capture): each segment arrow has the server's time only.", "只有服务器抓取"
		    "了 TCP 报文段（客户端运行时没有加 --capture）: 每个报文段箭头只有服务器的时间。");
	return TR("TCP segments were not captured (run both programs with --capture, as root): "
	    "connect()/accept() and the FINs are shown as events on each side, not as arrows.",
	    "没有抓取 TCP 报文段（以 root 身份给两个程序都加上 --capture）: connect()/accept() "
	    "和 FIN 显示为各自一侧的事件，而不是箭头。");
}

