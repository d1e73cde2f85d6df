/* order.c -- one order of time: the rows of a diagram put in cause-and-effect order.
 *
 * Both programs stamp their events from the same wall clock (ts_us) and each one's capture
 * stamps the segments it sees (cap_ts_us); model.c draws a row at its sender's time. Those
 * times are taken at different moments by different programs: a message is logged when TLS
 * or HTTP hands it over and leaves when the kernel sends it, each capture stamps the same
 * frame on its own, an older log may stamp a call after it returned. So where the times
 * alone would draw an effect above its cause, the rules below move the row, and never its
 * time in silence: a moved row shows its time as logged, marked '*'; an arrival logged
 * before its departure is drawn at the departure's time, marked '^'; d->fix counts each kind
 * of move and its largest gap, which the renderers put in a note (order_note()).
 *
 * The rules, in the order they are applied:
 *   FIX_SENT     a call is drawn no later than what it caused: the segment it sent (with a
 *                capture: connect() above its SYN, shutdown() above its FIN, an abort above
 *                its RST), or the peer's event (see FIX_CAUSED);
 *   FIX_CARRIED  a TLS or HTTP message is drawn below the segment that carried it (with a
 *                capture): the first data segment of its direction that left after the
 *                sender logged it, or else the last one that arrived before the receiver did;
 *                and there at the time the receiver read it, among the receiver's own rows;
 *   FIX_CAUSED   an event of one side is drawn below its cause on the other side: read() = 0
 *                below the peer's shutdown() and its FIN, an RST received below the one sent,
 *                accept() below the client's connect() and the 3rd handshake, connect()
 *                completed below the SYN+ACK; where the cause is a call drawn below its
 *                effect (its time taken after it returned), the call goes up instead if that
 *                keeps each side's rows in the order of its own times;
 *   FIX_STATE    a message its receiver read with the sender's FIN already in (CLOSE_WAIT)
 *                is drawn below the shutdown() that sent that FIN (and its segment);
 *   FIX_ARRIVAL  no arrow arrives before it left (the times at its two ends).
 */
#include <stdint.h>
#include <string.h>

#include "ladder.h"

/* The record of a row: the sender's, else the receiver's (a note: its own). */
static const struct ev *
row_ev(const struct row *r)
{
	return r->e[r->side] != NULL ? r->e[r->side] : r->e[!r->side];
}

/* Whether flags ("SYN,ACK", "FIN,PSH,ACK") has the flag name. */
static int
has_flag(const char *flags, const char *name)
{
	size_t n = strlen(name);

	while (*flags) {
		size_t k = strcspn(flags, ",");

		if (k == n && strncmp(flags, name, n) == 0)
			return 1;
		flags += k;
		if (*flags == ',')
			flags++;
	}
	return 0;
}

/* A segment arrow from origin carrying flag ("SYN", "FIN", "RST"; NULL: any, "data": one
 * with payload). */
static int
is_seg(const struct row *r, enum side origin, const char *flag)
{
	const struct ev *e;
	int64_t len = 0;

	if (!r->arrow || r->cls != CL_TCP || r->side != origin || (e = row_ev(r)) == NULL)
		return 0;
	if (flag == NULL)
		return 1;
	if (strcmp(flag, "data") == 0)
		return ev_int(e, "len", &len) && len > 0;
	return has_flag(ev_s(e, "flags"), flag);
}

/* A segment's time leaving its sender and reaching its receiver: each capture's own stamp,
 * the other one's when only one side captured. */
static int64_t
seg_left(const struct row *r)
{
	return r->t_log[r->side] >= 0 ? r->t_log[r->side] : r->t_log[!r->side];
}

static int64_t
seg_arrived(const struct row *r)
{
	return r->t_log[!r->side] >= 0 ? r->t_log[!r->side] : r->t_log[r->side];
}

/* The time a row is drawn at: its sender's (a note's own) as model.c sorted it, or the one
 * a move gave it. */
static int64_t
row_time(const struct row *r)
{
	return r->when;
}

static void
count_fix(struct diagram *d, enum fix_kind k, int64_t us, const struct row *a,
    const char *how, const struct row *b)
{
	struct fix *f = &d->fix[k];

	/* how: " above " / " below " (--lang zh: 上方 / 下方) */
	if (f->n++ == 0 && a != NULL && b == NULL)
		bprintf(f->eg, sizeof(f->eg), "%s", a->label);
	else if (f->n == 1 && a != NULL)
		bprintf(f->eg, sizeof(f->eg), TR("%s%s%s", "%1$s（画在 %3$s %2$s）"), a->label,
		    how, b->label);
	if (us > f->max_us)
		f->max_us = us;
}

/* Row `from` goes below row `to` (from < to), and below the rows after it that side s
 * saw no later than t (a row without a time on side s: drawn no later than t), so that the
 * side it is read on keeps its order; it is drawn at `at` from now on. Its new index. */
static size_t
move_below(struct diagram *d, size_t from, size_t to, enum side s, int64_t t, int64_t at)
{
	struct row r = d->rows[from];
	size_t p;

	for (p = to + 1; p < d->n; p++) {
		const struct row *q = &d->rows[p];

		if ((q->t_log[s] >= 0 ? q->t_log[s] : q->when) > t)
			break;
	}
	memmove(&d->rows[from], &d->rows[from + 1], (p - 1 - from) * sizeof(r));
	r.when = at;
	d->rows[p - 1] = r;
	return p - 1;
}

/* Row `from` goes just above row `to` (to < from), drawn at its time. */
static void
move_above(struct diagram *d, size_t from, size_t to)
{
	struct row r = d->rows[from];

	memmove(&d->rows[to + 1], &d->rows[to], (from - to) * sizeof(r));
	r.when = d->rows[to + 1].when;
	d->rows[to] = r;
}

/* The first segment row from origin with flag, or -1. */
static long
first_seg(const struct diagram *d, enum side origin, const char *flag)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (is_seg(&d->rows[i], origin, flag) &&
		    (strcmp(flag, "SYN") != 0 || !has_flag(ev_s(row_ev(&d->rows[i]), "flags"),
		    "ACK")))
			return (long)i;
	return -1;
}

/* FIX_SENT: a call is drawn no later than the segment it sent. */
static void
rule_sent(struct diagram *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct row *r = &d->rows[i];
		const char *flag = NULL;
		long k;

		if (r->arrow)
			continue;
		if (r->nk == K_CONNECT && r->side == CLIENT)
			flag = "SYN";
		else if (r->nk == K_FIN_SENT)
			flag = "FIN";
		else if (r->nk == K_RESET && ev_is(r->e[r->side], "dir", "out"))
			flag = "RST";
		if (flag == NULL || (k = first_seg(d, r->side, flag)) < 0 || (size_t)k > i)
			continue;
		count_fix(d, FIX_SENT, row_time(r) - seg_left(&d->rows[k]), r, TR(" above ", "上方"),
		    &d->rows[k]);
		r->mark[r->side] = MK_MOVED;
		move_above(d, i, (size_t)k);
	}
}

/* The segment that carried the message at row m, or -1 when none was captured. */
static long
carrier(const struct diagram *d, size_t m)
{
	const struct row *r = &d->rows[m];
	enum side o = r->side;
	long l1 = -1, l2 = -1;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct row *s = &d->rows[i];

		if (!is_seg(s, o, "data"))
			continue;
		if (l1 < 0 && r->t_log[o] >= 0 && seg_left(s) >= r->t_log[o])
			l1 = (long)i;
		if (r->t_log[!o] >= 0 && seg_arrived(s) <= r->t_log[!o])
			l2 = (long)i;
	}
	/* the first that left after the message was handed over, unless that one arrived
	 * only after the receiver had read the message (its sender logged it late) */
	return l1 >= 0 && (l2 < 0 || l1 <= l2) ? l1 : l2;
}

/* FIX_CARRIED: a message is drawn below the segment that carried it. */
static void
rule_carried(struct diagram *d)
{
	size_t i = 0;

	while (i < d->n) {
		struct row *r = &d->rows[i];
		long k;

		int64_t t;

		if (!r->arrow || r->cls == CL_TCP || r->mark[r->side] == MK_MOVED ||
		    (k = carrier(d, i)) < 0 || (size_t)k < i) {
			i++;
			continue;
		}
		count_fix(d, FIX_CARRIED, row_time(&d->rows[k]) - row_time(r), r, TR(" below ", "下方"),
		    &d->rows[k]);
		r->mark[r->side] = MK_MOVED;
		/* where the receiver read it, if it did: its own rows keep their order */
		t = row_time(&d->rows[k]);
		if (r->t_log[!r->side] > t)
			t = r->t_log[!r->side];
		move_below(d, i, (size_t)k, !r->side, r->t_log[!r->side] >= 0 ?
		    r->t_log[!r->side] : t, t);	/* row i is now the next one */
	}
}

/* The note of kind k on side s (dir "out"/"in" for a reset, NULL: any), or -1. */
static long
find_note(const struct diagram *d, enum side s, enum kind k, const char *dir)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];

		if (!r->arrow && r->side == s && r->nk == k &&
		    (dir == NULL || ev_is(r->e[s], "dir", dir)))
			return (long)i;
	}
	return -1;
}

/* The later (lower) of two rows that exist, or -1. */
static long
lower(long a, long b)
{
	return a > b ? a : b;
}

/* The causes of the note at row i, on the other side: the call that caused it (*call, -1:
 * none) and the lowest of the segments that did (*seg, -1: none, or no capture). */
static void
causes_of(const struct diagram *d, size_t i, long *call, long *seg)
{
	const struct row *r = &d->rows[i];
	enum side s = r->side;
	long k;

	*call = *seg = -1;
	switch (r->nk) {
	case K_FIN_RECEIVED:
		*call = find_note(d, !s, K_FIN_SENT, NULL);
		*seg = first_seg(d, !s, "FIN");
		break;
	case K_RESET:
		if (ev_is(r->e[s], "dir", "in")) {
			*call = find_note(d, !s, K_RESET, "out");
			*seg = first_seg(d, !s, "RST");
		}
		break;
	case K_ESTABLISHED:
		if (s == SERVER)
			*call = find_note(d, CLIENT, K_CONNECT, NULL);
		for (k = 0; (size_t)k < d->n; k++)
			if (s == SERVER ? is_seg(&d->rows[k], CLIENT, NULL) &&
			    ev_is(row_ev(&d->rows[k]), "step", "ack_handshake") :
			    is_seg(&d->rows[k], SERVER, "SYN")) {
				*seg = k;
				break;
			}
		break;
	default:
		break;
	}
}

/* Whether row `from` of side s can be drawn past the rows between it and row `to` without
 * going against its own side's times: none of them happened on side s before it (moving
 * down) or after it (moving up). */
static int
can_pass(const struct diagram *d, size_t from, size_t to, enum side s)
{
	int64_t t = d->rows[from].t_log[s];
	size_t lo = from < to ? from + 1 : to, hi = from < to ? to : from - 1, j;

	for (j = lo; j <= hi; j++) {
		int64_t u = d->rows[j].t_log[s];

		if (u >= 0 && (from < to ? u > t : u < t))
			return 0;
	}
	return 1;
}

/* FIX_CAUSED: an event of one side is drawn below its cause on the other. A call logged
 * after the peer saw its effect (an older log timed it when it had returned) goes up
 * instead, above that effect (FIX_SENT), when that keeps its own side in order: moving the
 * effect down would put it below what its side did next (the close after read() = 0). */
static void
rule_caused(struct diagram *d)
{
	size_t i = 0;

	while (i < d->n) {
		struct row *r = &d->rows[i];
		enum side s = r->side;
		long call, seg;

		if (r->arrow || r->mark[s] == MK_MOVED) {
			i++;
			continue;
		}
		causes_of(d, i, &call, &seg);
		if (call > (long)i && d->rows[call].mark[!s] != MK_MOVED && seg < (long)i &&
		    can_pass(d, (size_t)call, i, !s)) {
			struct row *c = &d->rows[call];

			count_fix(d, FIX_SENT, row_time(c) - row_time(r), c, TR(" above ", "上方"), r);
			c->mark[!s] = MK_MOVED;
			move_above(d, (size_t)call, i);	/* the effect is at i + 1 now */
			i += 2;
			continue;
		}
		if (call < (long)i && seg < (long)i) {
			i++;
			continue;
		}
		call = lower(call, seg);
		count_fix(d, FIX_CAUSED, row_time(&d->rows[call]) - row_time(r), r, TR(" below ", "下方"),
		    &d->rows[call]);
		r->mark[s] = MK_MOVED;
		move_below(d, i, (size_t)call, s, r->t_log[s], row_time(&d->rows[call]));
	}
}

/* Whether the kernel's state says the peer's FIN had come in. */
static int
fin_in(const char *state)
{
	return strcmp(state, "CLOSE_WAIT") == 0 || strcmp(state, "LAST_ACK") == 0 ||
	    strcmp(state, "CLOSING") == 0;
}

/* FIX_STATE: a message whose receiver's kernel already had the sender's FIN when it read
 * the message (CLOSE_WAIT) is drawn below the shutdown() that sent that FIN, where the
 * receiver read it: drawn above, its receiver's end would show CLOSE_WAIT before the FIN
 * went out. */
static void
rule_state(struct diagram *d)
{
	size_t i = 0;

	while (i < d->n) {
		struct row *r = &d->rows[i];
		enum side o = r->side;
		long k;
		int64_t t;

		if (!r->arrow || r->cls == CL_TCP || r->mark[o] == MK_MOVED ||
		    !fin_in(r->state[!o]) ||
		    (k = lower(find_note(d, o, K_FIN_SENT, NULL), first_seg(d, o, "FIN"))) < 0 ||
		    (size_t)k < i) {
			i++;
			continue;
		}
		t = row_time(&d->rows[k]);
		if (r->t_log[!o] > t)
			t = r->t_log[!o];
		count_fix(d, FIX_STATE, t - row_time(r), r, TR(" below ", "下方"), &d->rows[k]);
		r->mark[o] = MK_MOVED;
		move_below(d, i, (size_t)k, !o, r->t_log[!o], t);
	}
}

/* A message only its sender logged (the receiver never read it: the client gave up at the
 * certificate and never read the server's CertificateVerify and Finished) has one time, the
 * sender's; FIX_CARRIED put it below its segment, where the receiver would have read it,
 * which can be above the messages sent before it (read, further down). It goes below the
 * last row its sender's side saw earlier: in the order it was sent, after what was sent
 * before it; '?' at the end that never saw it (order_unseen()). */
static void
rule_unread(struct diagram *d)
{
	size_t i = 0;

	while (i < d->n) {
		struct row *r = &d->rows[i];
		enum side o = r->side;
		size_t p, last = i;

		if (r->arrow && r->t_log[o] >= 0 && r->t_log[!o] < 0)
			for (p = i + 1; p < d->n; p++)
				if (d->rows[p].t_log[o] >= 0 && d->rows[p].t_log[o] < r->t_log[o])
					last = p;
		if (last == i) {
			i++;
			continue;
		}
		r->mark[o] = MK_MOVED;
		move_below(d, i, last, o, r->t_log[o], d->rows[last].when);	/* row i: the next */
	}
}

/* FIX_ARRIVAL: an arrival logged before its departure is drawn at the departure's time. */
static void
rule_arrival(struct diagram *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct row *r = &d->rows[i];
		enum side o = r->side;

		if (!r->arrow || r->t_log[o] < 0 || r->t_log[!o] < 0 || r->t_log[!o] >= r->t_log[o])
			continue;
		count_fix(d, r->cls == CL_TCP ? FIX_ARRIVAL_SEG : FIX_ARRIVAL,
		    r->t_log[o] - r->t_log[!o], r, NULL, NULL);
		r->t[!o] = r->t_log[o];
		r->mark[!o] = MK_RAISED;
	}
}

void
order_rows(struct diagram *d)
{
	rule_sent(d);
	rule_carried(d);
	rule_caused(d);
	rule_state(d);
	rule_unread(d);
	rule_arrival(d);
}

const char *
order_unseen(const struct diagram *d)
{
	int msg = 0, seg = 0;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];

		if (r->arrow && (r->t[CLIENT] < 0 || r->t[SERVER] < 0)) {
			if (r->cls == CL_TCP)
				seg = 1;
			else
				msg = 1;
		}
	}
	if ((msg || seg) && d->one_side)
		return TR("No times at the client's end: only the server's own log is drawn, each "
		    "arrow at the time the server sent or read it.", "客户端一端没有时间：只画了服务器"
		    "自己的日志，每个箭头画在服务器发出或读到它的时刻。");
	if (msg && seg)
		return TR("? no time at that end: that side's log never read the message, or its "
		    "capture logged no such segment (not capturing, or the program ended first); "
		    "drawn in the order it was sent", "? 这一端没有时间：这一侧的日志里没有读到这条"
		    "消息，或它的抓包没有记录这个报文段（没有抓包，或程序先结束了）；按发送的顺序画出");
	if (msg)
		return TR("? no time at that end: that side's log never read the message (it "
		    "stopped first); drawn in the order it was sent", "? 这一端没有时间：这一侧的日志"
		    "里没有读到这条消息（它先停下了）；按发送的顺序画出");
	if (seg)
		return TR("? no time at that end: that side's capture logged no such segment (not "
		    "capturing, or the program ended first)", "? 这一端没有时间：这一侧的抓包没有记录"
		    "这个报文段（没有抓包，或程序先结束了）");
	return NULL;
}

const char *
order_mark(enum mark m)
{
	return m == MK_MOVED ? "*" : m == MK_RAISED ? "^" : "";
}

const char *
order_note(const struct diagram *d, enum fix_kind k, char *buf, size_t len)
{
	const struct fix *f = &d->fix[k];
	double ms = (double)f->max_us / 1000.0;
	int one = f->n == 1;
	char eg[LABEL_MAX + 8];

	bprintf(eg, sizeof(eg), "%s%s", one ? "" : TR("e.g. ", "例如 "), f->eg);

	if (f->n == 0)
		return NULL;
	switch (k) {
	case FIX_ARRIVAL_SEG:
		bprintf(buf, len, TR("^ %d segment%s drawn arriving when %s left: the receiver's "
		    "capture stamped %s up to %.3f ms earlier (each program's capture stamps the "
		    "same frame itself)", "^ %d 个报文段%.0s%.0s画成在发出时到达：接收方的抓包给%.0s"
		    "它们打的时间戳最多早 %.3f ms（两个程序的抓包各自给同一帧打时间戳）"), f->n,
		    one ? "" : "s", one ? "it" : "they", one ? "it" : "them", ms);
		break;
	case FIX_ARRIVAL:
		bprintf(buf, len, TR("^ %d message%s drawn arriving when %s left: the receiver "
		    "logged %s up to %.3f ms before the sender did (%s)", "^ %d 条消息%.0s%.0s画成"
		    "在发出时到达：接收方记录%.0s它们的时间最多比发送方早 %.3f ms（%s）"), f->n,
		    one ? "" : "s", one ? "it" : "they", one ? "it" : "them", ms, eg);
		break;
	case FIX_SENT:
		bprintf(buf, len, TR("* %d call%s drawn above what %s caused (%s): logged up to "
		    "%.3f ms after it, when the call had returned", "* %d 个调用%.0s画在它%.0s引起"
		    "的事情上方（%s）：记录时间最多晚 %.3f ms，那时调用已经返回"), f->n,
		    one ? "" : "s", one ? "it" : "they", eg, ms);
		break;
	case FIX_CARRIED:
		bprintf(buf, len, TR("* %d message%s drawn below the segment that carried %s, "
		    "when the receiver read %s (%s): the sender logged %s up to %.3f ms before "
		    "that segment left (a message is logged when it is handed over; the kernel "
		    "sends it after)", "* %d 条消息%.0s画在运载%.0s它的报文段下方、接收方读到%.0s"
		    "它的时刻（%s）：发送方记录%.0s的时间最多比那个报文段发出早 %.3f ms（消息在交给"
		    "内核时记录，内核随后才发送）"), f->n, one ? "" : "s", one ? "it" : "them",
		    one ? "it" : "them", eg, one ? "it" : "them", ms);
		break;
	case FIX_STATE:
		bprintf(buf, len, TR("* %d message%s drawn below the FIN that reached %s receiver "
		    "first (%s): the receiver's kernel had that FIN (CLOSE_WAIT) when it read %s; "
		    "drawn up to %.3f ms after %s left", "* %d 条消息%.0s画在先到达%.0s接收方的 FIN "
		    "下方（%s）：接收方读到%.0s它时，内核已收到那个 FIN（CLOSE_WAIT）；画的位置最多"
		    "比它发出晚 %.3f ms%.0s"), f->n, one ? "" : "s", one ? "its" : "their", eg,
		    one ? "it" : "them", ms, one ? "it" : "they");
		break;
	case FIX_CAUSED:
		bprintf(buf, len, TR("* %d event%s drawn below %s cause on the other side (%s): "
		    "logged up to %.3f ms before it", "* %d 个事件%.0s画在另一侧%.0s它的起因下方"
		    "（%s）：记录时间最多比起因早 %.3f ms"), f->n, one ? "" : "s", one ? "its" :
		    "their", eg, ms);
		break;
	default:
		return NULL;
	}
	return buf;
}
