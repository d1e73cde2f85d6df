/* tcpwatch.c -- follow a connection's kernel state after the program can no longer see it
 * (sock_diag by 4-tuple), and log each change the kernel reports: nothing is invented, and
 * the log says how often it looked. */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "evlog.h"
#include "seglog.h"
#include "sockdiag.h"
#include "tcpinfo.h"
#include "tcpwatch.h"

/* Sampling: every FAST_MS for the first FAST_FOR_MS (states on loopback last microseconds to
 * milliseconds), then every SLOW_MS. */
#define FAST_MS		1
#define FAST_FOR_MS	200
#define SLOW_MS		50
/* Non-TIME_WAIT states (an orphaned FIN_WAIT2, a SYN being retransmitted ...) are followed at
 * most this long beyond the TIME_WAIT bound. */
#define OTHER_BOUND_MS	5000

struct tcpwatch {
	unsigned		 conn;
	enum tcpwatch_mode	 mode;
	struct sockaddr_storage	 local, remote;
	int			 state;		/* last state reported */
	int			 timer;
	int			 logged_timer;	/* the timer of the last logged sample */
	int64_t			 t_start;	/* us */
	int64_t			 t_timewait;	/* us, when TIME_WAIT was first seen */
	unsigned		 samples;
	unsigned		 seen;		/* bit (1 << TCPI_*) per state sampled */
	int			 noted;		/* this look is close()'s, not the watch's */
	int			 missed;	/* the last look found nothing (confirm first) */
	struct event		*ev;
	struct tcpwatch		*next;
};

static struct tcpwatch *watches;
/* What the watches that ended saw, for tcpwatch_seen(): the latest RETIRED of them. */
#define RETIRED		64
static struct { unsigned conn, seen; } retired[RETIRED];
static int next_retired;
static int linger_ms;
static int linger_default;	/* --linger-watch was not given: 0 because not on a terminal */
static void (*idle_cb)(void *);
static void *idle_arg;

void tcpwatch_set_linger(int ms, int by_default) { linger_ms = ms; linger_default = by_default; }
int tcpwatch_linger(void) { return linger_ms; }
int tcpwatch_active(void) { return watches != NULL; }

void
tcpwatch_on_idle(void (*cb)(void *), void *arg)
{
	idle_cb = cb;
	idle_arg = arg;
}

static const char *
state_name(int st)
{
	const char *n = tcpinfo_state_name(st);

	return n ? n : "CLOSED";
}

static void
watch_free(struct tcpwatch *w)
{
	struct tcpwatch **pp;

	for (pp = &watches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->seen != 0) {
		retired[next_retired].conn = w->conn;
		retired[next_retired].seen = w->seen;
		next_retired = (next_retired + 1) % RETIRED;
	}
	event_free(w->ev);
	free(w);
	if (watches == NULL && idle_cb != NULL)
		idle_cb(idle_arg);
}

/* How often this watch samples now (ms). */
static int
interval(const struct tcpwatch *w)
{
	int64_t since = (evlog_now_us() - w->t_start) / 1000;

	if (w->state == TCPI_TIME_WAIT)
		return 1000;
	return since < FAST_FOR_MS ? FAST_MS : SLOW_MS;
}

/* --lang zh: why the watch ended, for the detail (the "why" field stays as the caller said). */
static const char *
why_words(const char *why)
{
	static const char *const words[][2] = {
		{ "sock_diag failed", "sock_diag 出错" },
		{ "the watch bound passed", "观察时限已到" },
		{ "the --linger-watch bound passed", "--linger-watch 时限已到" },
		{ "--linger-watch is 0 (the default when not on a terminal)", "--linger-watch 为 0"
		    "（不在终端上时的默认值）" },
		{ "--linger-watch is 0", "--linger-watch 为 0" },
		{ "the program is exiting", "程序正在退出" },
		{ "the certificate question comes next", "接下来要询问是否信任证书" },
	};
	size_t i;

	for (i = 0; evlog_zh() && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(why, words[i][0]) == 0)
			return words[i][1];
	return why;
}

static void
log_end(struct tcpwatch *w, const char *why, unsigned left_ms)
{
	struct evrec r;

	if (!evrec_begin(&r, EVT_WATCH_END, w->conn, -1))
		return;
	evrec_str(&r, "state", state_name(w->state));
	evrec_str(&r, "why", why);
	evrec_int(&r, "left_ms", left_ms);
	evrec_int(&r, "samples", w->samples);
	if (left_ms > 0)
		evrec_detail(&r, TR("stopped watching in %s: %s; the kernel keeps it %.1f s more",
		    "停止观察，此时处于 %s：%s；内核还会保留它 %.1f 秒"),
		    state_name(w->state), why_words(why), left_ms / 1000.0);
	else
		evrec_detail(&r, TR("stopped watching in %s: %s",
		    "停止观察，此时处于 %s：%s"), state_name(w->state), why_words(why));
	evrec_emit(&r);
}

/* A kernel timer as a Chinese textbook names it, the kernel's (sock_diag's) name after it. */
static const char *
timer_zh(int timer)
{
	switch (timer) {
	case SOCKDIAG_TIMER_RETRANSMIT:	return "重传计时器（retransmit）";
	case SOCKDIAG_TIMER_KEEPALIVE:	return "保活计时器（keepalive）";
	case SOCKDIAG_TIMER_TIMEWAIT:	return "TIME_WAIT 计时器（2MSL，内核名 timewait）";
	case SOCKDIAG_TIMER_PROBE:	return "持续计时器（零窗口探测，probe）";
	}
	return sockdiag_timer_name(timer);
}

static void
log_change(struct tcpwatch *w, int to, const struct sockdiag_info *di)
{
	struct evrec r;
	char how[64];
	/* state -1: the watch began on an fd that read CLOSE (see watch_cb): its first look is
	 * the state it finds, not a change from the fd's CLOSE */
	const char *from = w->samples == 1 && w->mode == TCPWATCH_CONNECT ? "connect()" :
	    w->state == -1 ? (to ? state_name(to) : "CLOSED") : w->state ?
	    state_name(w->state) : "?";

	if (!evrec_begin(&r, EVT_STATE_CHANGE, w->conn, -1))
		return;
	evrec_str(&r, "from", from);
	evrec_str(&r, "to", to ? state_name(to) : "CLOSED");
	evrec_str(&r, "timer", di ? sockdiag_timer_name(di->timer) : "none");
	evrec_int(&r, "expires_ms", di ? di->expires_ms : 0);
	evrec_str(&r, "source", "sock_diag");
	evrec_float(&r, "watched_ms", (double)(evlog_now_us() - w->t_start) / 1000.0);
	if (to == w->state || w->state == -1)
		evrec_label(&r, "%s", to ? state_name(to) : "CLOSED");
	else
		evrec_label(&r, "%s -> %s", from, to ? state_name(to) : "CLOSED");
	evrec_int(&r, "sample_ms", interval(w));
	/* How this look was made: close()'s own lookup, or the watch's sampling. */
	if (w->noted)
		snprintf(how, sizeof(how), TR("sock_diag, just after close()",
		    "sock_diag，close() 之后立即查看"));
	else
		snprintf(how, sizeof(how), TR("sock_diag, sampled every %d ms",
		    "sock_diag，每 %d ms 采样一次"), interval(w));
	if (di != NULL && di->timer == SOCKDIAG_TIMER_KEEPALIVE && to == TCPI_FIN_WAIT2)
		/* In FIN_WAIT2 Linux runs its FIN_WAIT2 timeout (tcp_fin_timeout) on the
		 * keepalive timer, and sock_diag names the timer, not its use. */
		evrec_detail(&r, TR("FIN_WAIT2 timeout (tcp_fin_timeout; sock_diag calls it the "
		    "keepalive timer) fires in %u ms  (%s)",
		    "FIN_WAIT2 超时（tcp_fin_timeout；sock_diag 称它为保活计时器）在 %u ms 后到期 "
		    " （%s）"), di->expires_ms, how);
	else if (di != NULL && di->timer != SOCKDIAG_TIMER_NONE)
		evrec_detail(&r, TR("%s timer fires in %u ms  (%s)", "%s在 %u ms 后到期  （%s）"),
		    TR(sockdiag_timer_name(di->timer), timer_zh(di->timer)), di->expires_ms, how);
	else
		evrec_detail(&r, TR("%s (%s)", "%s（%s）"), to ? TR("seen", "看到") :
		    TR("the kernel has forgotten the connection", "内核已经忘掉了这个连接"), how);
	if (di != NULL && di->timer == SOCKDIAG_TIMER_PROBE && to != TCPI_SYN_SENT) {
		evrec_gloss(&r, TR("the peer's receive window is zero (it is not reading): our FIN "
		    "waits behind the data; the kernel probes the window until it opens",
		    "对方的接收窗口为零（它没在读）：我方的 FIN 排在数据后面；内核不断探测窗口，直"
		    "到它打开"));
		evrec_emit(&r);
		return;
	}
	switch (to) {
	case TCPI_SYN_SENT:
		evrec_gloss(&r, TR("our SYN is unanswered so far (why cannot be seen from here: a "
		    "server whose accept queue is full drops SYNs, so does a firewall); the kernel "
		    "sends it again when the retransmit timer fires",
		    "我方的 SYN 至今没有回应（原因从这里看不到：全连接队列满了的服务器会丢弃 SYN，"
		    "防火墙也会）；重传计时器到期时内核会再发一次"));
		break;
	case TCPI_ESTABLISHED:
		evrec_gloss(&r, TR("the SYN+ACK came and our ACK went out: handshake done",
		    "SYN+ACK 到了，我方的 ACK 也已发出：握手完成"));
		break;
	case TCPI_FIN_WAIT1:
		evrec_gloss(&r, TR("our FIN is out, not yet ACKed",
		    "我方的 FIN 已发出，尚未被确认"));
		break;
	case TCPI_FIN_WAIT2:
		evrec_gloss(&r, TR("2nd wave: the peer ACKed our FIN; we wait for its FIN",
		    "第二次挥手：对方确认了我方的 FIN；我们等待对方的 FIN"));
		break;
	case TCPI_TIME_WAIT:
		evrec_gloss(&r, TR("4th wave sent: we ACKed the peer's FIN and wait 2MSL (Linux holds "
		    "TIME_WAIT for 60 s) so a lost final ACK can be resent and old segments die",
		    "第四次挥手已发出：我们确认了对方的 FIN，并等待 2MSL（Linux 让 TIME_WAIT 保持 "
		    "60 秒），以便重发丢失的最后一个 ACK，并让旧的报文段消失"));
		break;
	case TCPI_CLOSE_WAIT:
		evrec_gloss(&r, TR("the peer's FIN arrived and was ACKed; we have not sent ours yet",
		    "对方的 FIN 已到达并被确认；我方的 FIN 还没发"));
		break;
	case TCPI_LAST_ACK:
		evrec_gloss(&r, TR("3rd wave: our FIN is out after the peer's; waiting for its ACK",
		    "第三次挥手：我方的 FIN 在对方的之后发出；等待对方的确认"));
		break;
	case TCPI_CLOSING:
		evrec_gloss(&r, TR("simultaneous close: both FINs crossed; each side waits for the "
		    "ACK of its own",
		    "同时关闭：两个 FIN 交错而过；双方各自等待对自己 FIN 的确认"));
		break;
	case 0:
		if (w->noted)
			evrec_gloss(&r, TR("close()'s own look finds nothing left of the connection "
			    "(the watch last saw %s): no TIME_WAIT on this side",
			    "close() 自己查看时，这个连接已经什么也不剩了（观察最后看到的是 %s）："
			    "这一方没有 TIME_WAIT"), from);
		else if (w->state == TCPI_TIME_WAIT && w->t_timewait != 0 &&
		    evlog_now_us() - w->t_timewait < 50 * 1000000LL)
			evrec_gloss(&r, TR("TIME_WAIT ended %.1f ms after it was seen, long before its "
			    "60 s: the kernel dropped it early; what did cannot be seen from here (a "
			    "RST from the peer ends TIME_WAIT on Linux, net.ipv4.tcp_rfc1337=0; so does "
			    "a new connection that reuses the port; --capture shows a RST)",
			    "TIME_WAIT 在被看到后 %.1f ms 就结束了，远早于它的 60 秒：内核提前丢弃"
			    "了它；是什么造成的，从这里看不到（在 Linux 上，对方的 RST 会结束 "
			    "TIME_WAIT，net.ipv4.tcp_rfc1337=0；重用这个端口的新连接也会；"
			    "--capture 能显示 RST）"),
			    (double)(evlog_now_us() - w->t_timewait) / 1000.0);
		else if (w->state == TCPI_TIME_WAIT)
			evrec_gloss(&r, TR("TIME_WAIT is over: CLOSED",
			    "TIME_WAIT 结束：CLOSED"));
		else if (w->state == TCPI_LAST_ACK)
			evrec_gloss(&r, TR("the last ACK (4th wave) arrived: CLOSED, no TIME_WAIT on "
			    "this side",
			    "最后一个 ACK（第四次挥手）到了：CLOSED，这一方没有 TIME_WAIT"));
		else if (w->state == -1)
			evrec_gloss(&r, TR("the kernel keeps nothing of this connection: no TIME_WAIT "
			    "on this side",
			    "内核没有保留这个连接的任何东西：这一方没有 TIME_WAIT"));
		else if (w->state == TCPI_ESTABLISHED || w->state == TCPI_SYN_SENT)
			evrec_gloss(&r, TR("CLOSED at once, without FINs: a RST ends a connection on "
			    "the spot",
			    "没有 FIN 就立即 CLOSED：RST 当场结束连接"));
		else
			evrec_gloss(&r, TR("CLOSED, no TIME_WAIT on this side (a RST, or a LAST_ACK "
			    "that ended between two samples: on loopback it lasts microseconds)",
			    "CLOSED，这一方没有 TIME_WAIT（一个 RST，或者 LAST_ACK 在两次采样之间"
			    "就结束了：在回环接口上它只持续几微秒）"));
		break;
	default:
		break;
	}
	evrec_emit(&r);
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpwatch *w = arg;
	struct sockdiag_info di;
	struct timeval tv;
	int64_t now = evlog_now_us(), since = (now - w->t_start) / 1000;
	int r, bound;

	(void)fd;
	(void)what;
	w->samples++;
	r = sockdiag_lookup((struct sockaddr *)&w->local, (struct sockaddr *)&w->remote, &di);
	if (r == -1) {
		evlog(EVT_WARNING, w->conn, -1, TR("sock_diag lookup failed: %s",
		    "sock_diag 查询失败：%s"), strerror(errno));
		log_end(w, "sock_diag failed", 0);
		watch_free(w);
		return;
	}
	/* The fd's TCP_INFO reads CLOSE once the kernel moved the connection to a TIME_WAIT
	 * record (or forgot it): not a state of the connection, so the first look is not a
	 * change from it. */
	if (w->samples == 1 && w->state == TCPI_CLOSE)
		w->state = -1;		/* logged as the state it is, not as a change */
	/* Not found: gone, or between a connection and its TIME_WAIT record (a lookup can miss
	 * it there): look once more, a millisecond later, before saying so. */
	if (r == 0 && !w->missed && w->state > 0 && w->state != TCPI_TIME_WAIT) {
		w->missed = 1;
		tv = clock_tv_ms(FAST_MS);
		evtimer_add(w->ev, &tv);
		return;
	}
	w->missed = 0;
	if (r == 0) {
		seglog_sync();
		if (w->state != 0)
			log_change(w, 0, NULL);
		w->state = 0;
		watch_free(w);
		return;
	}
	if (di.state > 0 && di.state < 16)
		w->seen |= 1u << di.state;
	/* A change of state; or, in the same state, a retransmit or zero-window probe timer
	 * starting (a slow connect's SYN_SENT, a FIN waiting behind a full window). */
	if (di.state != w->state || (di.timer != w->logged_timer &&
	    (di.timer == SOCKDIAG_TIMER_RETRANSMIT || di.timer == SOCKDIAG_TIMER_PROBE) &&
	    di.state != TCPI_ESTABLISHED)) {
		seglog_sync();	/* --capture: the segments that moved it come first */
		log_change(w, di.state, &di);
		w->logged_timer = di.timer;
		w->state = di.state;
		if (di.state == TCPI_TIME_WAIT)
			w->t_timewait = now;
	}
	w->timer = di.timer;
	if (w->mode == TCPWATCH_CONNECT && di.state != TCPI_SYN_SENT) {
		watch_free(w);
		return;
	}
	if (di.state == TCPI_TIME_WAIT && (now - w->t_timewait) / 1000 >= linger_ms) {
		log_end(w, linger_ms ? "the --linger-watch bound passed" : linger_default ?
		    "--linger-watch is 0 (the default when not on a terminal)" :
		    "--linger-watch is 0", di.expires_ms);
		watch_free(w);
		return;
	}
	bound = linger_ms + OTHER_BOUND_MS;
	if (di.state != TCPI_TIME_WAIT && since >= bound) {
		log_end(w, "the watch bound passed", di.timer == SOCKDIAG_TIMER_TIMEWAIT ?
		    di.expires_ms : 0);
		watch_free(w);
		return;
	}
	r = since < FAST_FOR_MS ? FAST_MS : SLOW_MS;
	/* In TIME_WAIT nothing changes until the timer: look again when the bound passes. */
	if (di.state == TCPI_TIME_WAIT) {
		int64_t left = linger_ms - (now - w->t_timewait) / 1000;
		r = left < 1000 ? (int)left : 1000;
		if (r < 1)
			r = 1;
	}
	tv = clock_tv_ms(r);
	evtimer_add(w->ev, &tv);
}

int
tcpwatch_start(struct event_base *base, unsigned conn, const struct sockaddr *local,
    const struct sockaddr *remote, int state, enum tcpwatch_mode mode)
{
	struct tcpwatch *w;
	socklen_t len;

	/* A watch only logs (sock_diag every millisecond at first): with -q it would cost
	 * thousands of lookups per second under load and show nothing. */
	if (!evlog_on())
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	len = local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	memcpy(&w->local, local, len);
	memcpy(&w->remote, remote, len);
	w->conn = conn;
	w->mode = mode;
	w->state = state;
	w->t_start = evlog_now_us();
	if ((w->ev = evtimer_new(base, watch_cb, w)) == NULL) {
		free(w);
		return -1;
	}
	w->next = watches;
	watches = w;
	/* The first look right away: after close() the state may last only microseconds. */
	watch_cb(-1, 0, w);
	return 0;
}

void
tcpwatch_note(unsigned conn, int state, const struct sockdiag_info *di)
{
	struct tcpwatch *w, *next;

	if (state < 0 || state >= 16)
		return;
	for (w = watches; w != NULL; w = next) {
		next = w->next;
		if (w->conn != conn || w->mode != TCPWATCH_CLOSE || w->state == state)
			continue;
		seglog_sync();
		w->noted = 1;
		log_change(w, state, state ? di : NULL);
		w->noted = 0;
		if (state == 0) {
			/* Gone: said now, next to the `closed` line that found it so. */
			watch_free(w);
			continue;
		}
		w->seen |= 1u << state;
		w->state = state;
		w->logged_timer = di ? di->timer : 0;
		if (state == TCPI_TIME_WAIT)
			w->t_timewait = evlog_now_us();
	}
}

void
tcpwatch_connected(unsigned conn)
{
	struct tcpwatch *w, *next;

	for (w = watches; w != NULL; w = next) {
		next = w->next;
		if (w->conn == conn && w->mode == TCPWATCH_CONNECT)
			watch_free(w);
	}
}

void
tcpwatch_kick(unsigned conn)
{
	struct tcpwatch *w;
	struct timeval tv = { 0, FAST_MS * 1000 };

	for (w = watches; w != NULL; w = w->next)
		if (w->conn == conn && w->state != TCPI_TIME_WAIT) {
			w->t_start = evlog_now_us();
			evtimer_add(w->ev, &tv);
		}
}

void
tcpwatch_stop_all(void)
{
	struct sockdiag_info di;

	while (watches != NULL) {
		struct tcpwatch *w = watches;
		unsigned left = 0;
		int r;

		idle_cb = NULL;
		/* One last look: a change since the last sample is logged as any other (the
		 * watch_end says where it is now, not where it was); gone: nothing to stop. */
		r = sockdiag_lookup((struct sockaddr *)&w->local, (struct sockaddr *)&w->remote,
		    &di);
		if (r >= 0 && (r == 0 ? 0 : di.state) != w->state) {
			if (r == 1 && di.state > 0 && di.state < 16)
				w->seen |= 1u << di.state;
			seglog_sync();
			log_change(w, r == 0 ? 0 : di.state, r == 0 ? NULL : &di);
			w->state = r == 0 ? 0 : di.state;
		}
		if (r == 0) {
			watch_free(w);
			continue;
		}
		/* Time left means something only for the TIME_WAIT timer. */
		if (r == 1 && di.timer == SOCKDIAG_TIMER_TIMEWAIT)
			left = di.expires_ms;
		log_end(w, "the program is exiting", left);
		watch_free(w);
	}
}

unsigned
tcpwatch_seen(unsigned conn)
{
	struct tcpwatch *w;
	unsigned m = 0;
	int i;

	if (conn == 0)
		return 0;
	for (w = watches; w != NULL; w = w->next)
		if (w->conn == conn)
			m |= w->seen;
	for (i = 0; i < RETIRED; i++)
		if (retired[i].conn == conn)
			m |= retired[i].seen;
	return m;
}

int
tcpwatch_state(unsigned conn)
{
	struct tcpwatch *w;

	for (w = watches; w != NULL; w = w->next)
		if (w->conn == conn)
			return w->state;
	return -1;
}

void
tcpwatch_stop(unsigned conn, const char *why)
{
	struct tcpwatch *w, *next;
	struct sockdiag_info di;
	int r;

	for (w = watches; w != NULL; w = next) {
		unsigned left = 0;

		next = w->next;
		if (w->conn != conn)
			continue;
		/* One last look: a change since the last sample is logged as any other. */
		r = sockdiag_lookup((struct sockaddr *)&w->local, (struct sockaddr *)&w->remote,
		    &di);
		if (r == 1 && di.state > 0 && di.state < 16)
			w->seen |= 1u << di.state;
		if (r >= 0 && (r == 0 ? 0 : di.state) != w->state) {
			seglog_sync();
			log_change(w, r == 0 ? 0 : di.state, r == 0 ? NULL : &di);
			w->state = r == 0 ? 0 : di.state;
		}
		if (r == 0) {
			watch_free(w);		/* gone: nothing left to stop watching */
			continue;
		}
		if (r == 1 && di.timer == SOCKDIAG_TIMER_TIMEWAIT)
			left = di.expires_ms;
		log_end(w, why, left);
		watch_free(w);
	}
}
