/* conn_close.c -- how a connection ends: the graceful close in its textbook order (drain,
 * close_notify, FIN, the peer's FIN, close()), the peer's FIN and RST as they come, the
 * abortive close (RST) and the abort after an error; each step logs the wave it is. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "clock.h"
#include "conn_int.h"
#include "evlog.h"
#include "seglog.h"
#include "sockdiag.h"
#include "tcpinfo.h"
#include "tcpwatch.h"
#include "tls.h"

static void close_step_drained(struct bufferevent *, void *);
static void close_step_tls(struct conn *);
static void close_step_fin(struct conn *);
static void abort_flushed_cb(struct evbuffer *, const struct evbuffer_cb_info *, void *);

/* Free one of the connection's events, if it is there. */
static void
drop_event(struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
}

/* Keep a copy of text (at most len - 1 characters, as snprintf would) in *dst; text may be
 * *dst itself. Out of memory: the old text stays. */
static void
set_text(char **dst, const char *text, size_t len)
{
	char *n;

	if (text != NULL && text == *dst)
		return;
	if ((n = strndup(text != NULL ? text : "", len - 1)) == NULL)
		return;
	free(*dst);
	*dst = n;
}

/* Write a socket bufferevent's output to the fd now, not a turn of the loop later. libevent
 * freezes the start of that buffer (only its own write callback drains it, unfreezing it for
 * the call): evbuffer_write on it alone fails and writes nothing. */
static void
conn_write_now(struct evbuffer *out, int fd)
{
	evbuffer_unfreeze(out, 1);
	(void)evbuffer_write(out, fd);
	evbuffer_freeze(out, 1);
}

/* From the first FIN on, follow the connection's states in the kernel (sock_diag): they change
 * between our events, and after close() the fd can no longer show them. */
static void
watch_close(struct conn *c, int state)
{
	if (c->watching || c->local.sa.sa_family == 0 || c->t_tcp == 0)
		return;
	c->watching = 1;
	tcpwatch_start(c->base, c->id, (struct sockaddr *)&c->local,
	    (struct sockaddr *)&c->remote, state, TCPWATCH_CLOSE);
}

/* Who sent the first FIN, read from the kernel around our own FIN: before, the state just
 * before shutdown(); st, just after. CLOSE_WAIT before (or LAST_ACK after) means the peer's
 * FIN was in first; CLOSING means the two FINs crossed; FIN_WAIT1/FIN_WAIT2 means ours left
 * first. If both FINs passed between the two looks (CLOSE), TIME_WAIT says ours did; no
 * TIME_WAIT: the peer's FIN came in just before our call (LAST_ACK, over at once), or a RST
 * came, and a read tells which (a pending error is the RST). A peer's FIN found only now is
 * logged now, before our fin_sent. */
static void
first_fin_at_ours(struct conn *c, int before, int st)
{
	fin_observe(c, before);
	fin_observe(c, st);
	if (st == TCPI_CLOSING)
		c->saw_closing = 1;
	if (c->first_fin != FIRST_FIN_UNKNOWN)
		return;
	if (before == TCPI_CLOSE_WAIT || before == TCPI_LAST_ACK || st == TCPI_LAST_ACK)
		c->first_fin = FIRST_FIN_PEER;
	else if (st == TCPI_CLOSING)
		c->first_fin = FIRST_FIN_BOTH;
	else if (st == TCPI_CLOSE && fin_time_wait(c) != 1) {
		c->first_fin = FIRST_FIN_PEER;
		if (close_check_peer_fin(c) == -1 && !c->fin_received)
			c->first_fin = FIRST_FIN_LOCAL;		/* a RST, no FIN seen */
	} else
		c->first_fin = FIRST_FIN_LOCAL;
	/* The peer's FIN came in between our last look and our FIN: log it first. */
	if (c->first_fin == FIRST_FIN_PEER && !c->fin_received && !c->reset)
		close_check_peer_fin(c);
}

/* Has the peer's FIN arrived? The kernel's state and a peek at the socket say, not a guess.
 * Returns 1 (FIN, logged once), 0 (not yet), -1 (reset). */
int
close_check_peer_fin(struct conn *c)
{
	struct evrec r;
	char buf[1];
	ssize_t n;
	int st, unread = 0, err;

	if (c->fin_received && !c->reset)
		return 1;
	if (c->reset)
		return -1;
	if (c->fd < 0)
		return 0;
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	err = errno;
	st = tcpinfo_state(c->fd);
	fin_observe(c, st);
	if (n > 0 || (n == -1 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))) {
		/* Bytes not yet read can stand before the FIN: the kernel's state says whether it
		 * is in (CLOSE_WAIT, LAST_ACK, CLOSING: states only a FIN from the peer leads to;
		 * CLOSE: both FINs are through, or a RST came, whose error SO_ERROR still holds
		 * while nothing was read; without our FIN, CLOSE is a RST). */
		if (n <= 0)
			return 0;
		if (st == TCPI_CLOSE) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    (soerr == ECONNRESET || soerr == EPIPE)) {
				n = -1;
				err = soerr;
			} else if (!c->fin_sent && !c->fin_early) {
				n = -1;
				err = ECONNRESET;
			}
		} else if (st != TCPI_CLOSE_WAIT && st != TCPI_LAST_ACK && st != TCPI_CLOSING)
			return 0;
		unread = n > 0;
	} else if (n == -1 && err != ECONNRESET && err != EPIPE)
		return 0;
	/* A RST whose error a read below us (OpenSSL's) already took reads as 0 like a FIN; the
	 * kernel's state tells them apart: a FIN leaves CLOSE_WAIT, a RST CLOSE. */
	if (n == 0 && !c->fin_sent && !c->fin_early && st == TCPI_CLOSE) {
		n = -1;
		err = ECONNRESET;
	}
	if (n == -1) {
		/* Was the peer's FIN in before the RST? EPIPE says so (the kernel's error for a
		 * RST in CLOSE_WAIT), and so does a CLOSE_WAIT the log showed earlier. */
		if (!c->fin_received && (err == EPIPE ||
		    (fin_seen(c) & (FIN_ST(TCPI_CLOSE_WAIT) | FIN_ST(TCPI_LAST_ACK))))) {
			c->fin_received = 1;
			if (c->first_fin == FIRST_FIN_UNKNOWN)
				c->first_fin = FIRST_FIN_PEER;
			seglog_sync();
			fin_log_received(c, st, FIN_THEN_RST);
		}
		c->reset = 1;
		if (evrec_begin(&r, EVT_RESET, c->id, c->fd)) {
			evrec_str(&r, "dir", "in");
			evrec_str(&r, "errno", strerror(err));
			evrec_detail(&r, TR("the peer sent RST (%s)",
			    "对方发来了 RST（%s）"), strerror(err));
			evrec_gloss(&r, "%s", c->fin_received ? TR("an abortive close after the peer's "
			    "FIN: the rest of the FIN exchange is cut short, and no TIME_WAIT",
			    "对方发来 FIN 之后的异常关闭：剩下的 FIN 交换被打断，没有 TIME_WAIT") :
			    TR("an abortive close: no FIN exchange and no TIME_WAIT",
			        "异常关闭：没有 FIN 交换，也没有 TIME_WAIT"));
			evrec_emit(&r);
		}
		return -1;
	}
	c->fin_received = 1;
	c->fin_unread = unread;
	/* Our FIN not out yet: the peer's was the first. CLOSING: the two crossed. */
	if (st == TCPI_CLOSING) {
		c->saw_closing = 1;
		c->first_fin = FIRST_FIN_BOTH;
	} else if (c->first_fin == FIRST_FIN_UNKNOWN)
		c->first_fin = FIRST_FIN_PEER;
	seglog_sync();
	fin_refine(c);
	fin_log_received(c, st, unread ? FIN_UNREAD : FIN_READ);
	/* The watch only logs: with -q, no TCP_INFO call for it either. */
	if (evlog_on())
		watch_close(c, tcpinfo_state(c->fd));
	return 1;
}

const char *
conn_peer_close_what(const struct conn *c)
{
	int notify = tls_close_notify_received(c);

	if (c->reset)
		return notify ? TR("sent close_notify, then reset the connection (RST)",
		    "发送了 close_notify，然后重置了连接（RST）") :
		    TR("reset the connection (RST)",
		        "重置了连接（RST）");
	if (notify && c->fin_received)
		return TR("sent close_notify and its FIN",
		    "发送了 close_notify 和它的 FIN");
	if (notify)
		return TR("sent close_notify (its TCP FIN was not in yet when we read it)",
		    "发送了 close_notify（我们读到它时，它的 TCP FIN 还没到）");
	if (c->use_tls && c->tls->hs_done)
		return TR("sent its FIN without close_notify",
		    "发送了它的 FIN，之前没有 close_notify");
	return TR("sent its FIN",
	    "发送了它的 FIN");
}

static void
bound_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char reason[256];

	(void)fd;
	(void)what;
	if (c->phase < PHASE_DRAINING)
		snprintf(reason, sizeof(reason), TR("%s; our alert could not be sent within 1 s",
		    "%s；我方的警报没能在 1 秒内发出"),
		    conn_close_reason(c));
	else
		snprintf(reason, sizeof(reason), TR("%s; the peer's FIN did not come within %d ms of "
		    "%s",
		    "%s；对方的 FIN 在 %d ms 内没有到来（从%s算起）"), conn_close_reason(c),
		    c->bound_ms, c->bound_from_fin ? TR("our FIN", "我方的 FIN") :
		    TR("the start of our close", "我方开始关闭时"));
	close_finish(c, reason);
}

/* conn_close: the graceful close, in this order: drain our output, close_notify, wait until it
 * left for the kernel, FIN (shutdown SHUT_WR), wait (bounded) for the peer's FIN, close(). */
void
conn_close(struct conn *c, const char *reason)
{
	struct timeval tv = clock_tv_ms(c->close_wait_ms + 1000);

	if (c->phase >= PHASE_DRAINING || park_wake(c) == -1)
		return;
	set_text(&c->close_reason, reason, CONN_CLOSE_REASON_LEN);
	if (c->phase < PHASE_OPEN) {
		/* Nothing was exchanged yet (e.g. closing during the handshake): no choreography. */
		close_finish(c, reason);
		return;
	}
	conn_set_phase(c, PHASE_DRAINING);
	/* The bound runs from here, the start of our close, drain included. */
	c->bound_ms = c->close_wait_ms + 1000;
	c->ev_bound = evtimer_new(c->base, bound_cb, c);
	if (c->ev_bound)
		evtimer_add(c->ev_bound, &tv);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_setcb(c->bev, conn_read_cb, close_step_drained, conn_event_cb, c);
		return;
	}
	close_step_tls(c);
}

/* The half-close: the same steps as conn_close (our close_notify and FIN), but what the peer
 * still sends is delivered to the application until its own FIN. */
void
conn_shutdown_write(struct conn *c, const char *reason)
{
	if (c->phase != PHASE_OPEN || park_wake(c) == -1)
		return;
	c->half_close = 1;
	c->close_wait_ms = 10000;
	/* Plain TCP: send the request and our FIN now, before any logging, so the peer reads them
	 * together and answers from CLOSE_WAIT: the half-close the textbook describes. TCP_CORK
	 * holds the data until shutdown() adds the FIN to its last segment: without it the peer
	 * (woken on our CPU by the data) could answer before we get to shutdown(). The events are
	 * logged just after. */
	if (c->under != NULL) {
		/* TLS: the usual steps (close_notify, wait until it left, FIN) keep the order. */
	} else {
		int on = 1, off = 0, before = tcpinfo_state(c->fd);

		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
		evbuffer_write(bufferevent_get_output(c->bev), c->fd);
		/* The FIN leaves inside shutdown(): its event's time is taken before it. */
		c->t_fin_early = evlog_now_us();
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
		    shutdown(c->fd, SHUT_WR) == 0)
			c->fin_early = 1;
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
		if (c->fin_early)
			first_fin_at_ours(c, before, tcpinfo_state(c->fd));
	}
	conn_close(c, reason);
}

/* --hold-close: the passive side holds its FIN for ms milliseconds (the textbook's "the other
 * side may still have data to send"): we stay in CLOSE_WAIT, the peer in FIN_WAIT2. */
void
conn_log_hold_close(struct conn *c, int ms)
{
	struct evrec r;

	if (!evrec_begin(&r, EVT_HOLD_CLOSE, c->id, c->fd))
		return;
	evrec_int(&r, "ms", ms);
	evrec_detail(&r, TR("holding our FIN for %d ms (--hold-close)",
	    "暂缓发出我方的 FIN %d ms（--hold-close）"), ms);
	evrec_gloss(&r, TR("the passive side may still have data to send: we stay in CLOSE_WAIT, "
	    "the %s in FIN_WAIT2",
	    "被动关闭的一方可能还有数据要发：我们停留在 CLOSE_WAIT，%s停留在 "
	    "FIN_WAIT2"), c->is_server ? TR("client", "客户端") :
	    TR("server", "服务器"));
	evrec_emit(&r);
}

/* The abortive close: SO_LINGER {1, 0} makes close() send RST instead of FIN. */
void
conn_reset(struct conn *c, const char *reason)
{
	struct linger lg = { 1, 0 };
	struct evrec r;

	if (c->phase == PHASE_CLOSED)
		return;
	if (c->fd >= 0 && setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0) {
		c->rst_sent = 1;
		if (evrec_begin(&r, EVT_RESET, c->id, c->fd)) {
			evrec_str(&r, "dir", "out");
			evrec_str(&r, "reason", reason);
			evrec_detail(&r, TR("sending RST: %s",
			    "发送 RST：%s"), reason);
			evrec_gloss(&r, TR("SO_LINGER {1, 0} + close(): the kernel drops the connection "
			    "and sends RST; the peer sees 'connection reset'",
			    "SO_LINGER {1, 0} + close()：内核丢弃这个连接并发出 RST；对方看到“连接"
			    "被重置”"));
			evrec_emit(&r);
		}
	}
	set_text(&c->close_reason, reason, CONN_CLOSE_REASON_LEN);
	close_finish(c, reason);
}

static void
close_step_drained(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	close_step_tls(c);
}

static void
under_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)info;
	if (evbuffer_get_length(buf) == 0 && c->phase == PHASE_TLS_SHUTDOWN) {
		evbuffer_remove_cb(buf, under_output_cb, c);
		close_step_fin(c);
	}
}

static void
shutdown_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	close_step_tls(c);
}

static void
close_step_tls(struct conn *c)
{
	struct evbuffer *uout;
	int r, e;

	if (!c->use_tls || !c->tls->hs_done || c->reset ||
	    (SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
		close_step_fin(c);
		return;
	}
	conn_set_phase(c, PHASE_TLS_SHUTDOWN);
	/* close_notify (the msg callback logs it). bufferevent_free would never send it. */
	ERR_clear_error();
	r = SSL_shutdown(c->ssl);
	if (r < 0) {
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE && c->under == NULL) {
			/* Socket mode: the kernel's send buffer is full; try again when it drains. */
			if (c->ev_wait == NULL)
				c->ev_wait = event_new(c->base, c->fd, EV_WRITE, shutdown_retry_cb, c);
			if (c->ev_wait) {
				event_add(c->ev_wait, NULL);
				return;
			}
		}
		tls_log_errors(c, "sending close_notify failed");
		close_step_fin(c);
		return;
	}
	if (c->under != NULL) {
		/* Filter mode: SSL_shutdown only queued close_notify in the socket bufferevent's
		 * output. Write it now, corked, so that the FIN of close_step_fin's shutdown()
		 * leaves in the same segment: the peer reads our close_notify and our FIN together
		 * and cannot answer with its own FIN in between (a turn of the loop later, it
		 * could: then the peer's FIN was the first). A FIN sent before the output is empty
		 * would overtake it, so if the kernel takes only part, wait until it drains. */
		int on = 1, off = 0;

		uout = bufferevent_get_output(c->under);
		if (evbuffer_get_length(uout) > 0) {
			(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
			conn_write_now(uout, c->fd);
			if (evbuffer_get_length(uout) > 0) {
				(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
				evbuffer_add_cb(uout, under_output_cb, c);
				return;
			}
			/* shutdown() pushes the corked close_notify out with the FIN (the kernel
			 * sends a FIN at once, cork or not). */
		}
	}
	close_step_fin(c);
}

static void
fin_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[4096];
	ssize_t n;

	(void)what;
	/* After our close the application is done: whatever still arrives is read and dropped
	 * (unread bytes at close() would make the kernel send RST instead of FIN). */
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0) {
		close_check_peer_fin(c);
		close_finish(c, conn_close_reason(c));
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		close_check_peer_fin(c);
		close_finish(c, conn_close_reason(c));
	}
}

/* Our FIN: shutdown(SHUT_WR), with the kernel's state read just before and just after it and
 * the time taken before the call (the FIN leaves inside it). The peer's FIN may be in first:
 * then it is logged first. Returns the state after, or -1 (errno) if no FIN went out. */
static int
fin_out(struct conn *c, int64_t *t0)
{
	int before, st;

	*t0 = 0;
	/* A FIN sent early (with the request) is logged before what came after it: the peer's
	 * FIN is looked for after fin_sent then (close_step_fin). */
	if (c->fin_early ? c->reset : close_check_peer_fin(c) == -1) {
		errno = ENOTCONN;
		return -1;
	}
	seglog_sync();		/* --capture: the segments before our FIN are logged before it */
	if (c->fin_early) {
		/* Sent with the request (conn_shutdown_write), before the events logged since:
		 * its time was taken just before that shutdown(). */
		*t0 = c->t_fin_early;
		st = tcpinfo_state(c->fd);
		fin_observe(c, st);
	} else {
		before = tcpinfo_state(c->fd);
		*t0 = evlog_now_us();
		if (shutdown(c->fd, SHUT_WR) == -1)
			return -1;
		st = tcpinfo_state(c->fd);
		c->fin_sent = 1;
		first_fin_at_ours(c, before, st);
	}
	c->fin_sent = 1;
	fin_refine(c);
	return st;
}

static int
sent_close_notify(const struct conn *c)
{
	return c->use_tls && c->ssl != NULL && (SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN);
}

static void
close_step_fin(struct conn *c)
{
	struct evrec r;
	char step[384];
	int64_t t0;
	int st, fr = c->fin_received;

	if (c->reset) {
		close_finish(c, conn_close_reason(c));
		return;
	}
	/* The kernel sends our FIN here: 1st wave if ours goes first, 3rd if the peer's came. */
	if ((st = fin_out(c, &t0)) != -1) {
		if (evrec_begin(&r, EVT_FIN_SENT, c->id, c->fd)) {
			evrec_set_time(&r, t0);
			/* The state our words follow, read just after shutdown() (unless the
			 * peer's FIN, found then, was logged since: its state is later). */
			if (c->fin_received == fr)
				evrec_set_state(&r, st);
			evrec_str(&r, "reason", conn_close_reason(c));
			evrec_int(&r, "wave", c->first_fin == FIRST_FIN_PEER ? 3 : 1);
			if (c->first_fin == FIRST_FIN_BOTH)
				evrec_bool(&r, "simultaneous", 1);
			/* TLS's close_notify and TCP's FIN are two steps: say which this is. */
			if (sent_close_notify(c))
				evrec_detail(&r, TR("shutdown(SHUT_WR): our TCP FIN, after our TLS "
				    "close_notify; %s",
				    "shutdown(SHUT_WR)：我方的 TCP FIN，在我方 TLS close_notify 之"
				    "后；%s"), conn_close_reason(c));
			else
				evrec_detail(&r, "shutdown(SHUT_WR): %s", conn_close_reason(c));
			/* The gloss follows the state the kernel reports, not the one expected:
			 * on loopback the peer can answer before we look. */
			fin_step(c, st, step, sizeof(step));
			evrec_gloss(&r, "%s", step);
			evrec_emit(&r);
		}
		conn_set_phase(c, PHASE_FIN_SENT);
		/* The peer's FIN may have come since, or crossed ours: the kernel says. */
		close_check_peer_fin(c);
		if (evlog_on())
			watch_close(c, tcpinfo_state(c->fd));
		tcpwatch_kick(c->id);
	} else if (errno != ENOTCONN) {
		evlog(EVT_WARNING, c->id, c->fd, "shutdown(SHUT_WR): %s", strerror(errno));
	}
	/* The peer's FIN is in, but TLS bytes before it (its close_notify, most likely) are not
	 * read yet: read them, so the log shows what they were; the EOF after them closes. */
	if (c->fin_received && c->fin_unread && !c->reset && c->phase == PHASE_FIN_SENT &&
	    c->bev != NULL && ((c->use_tls && c->tls->hs_done && c->ssl != NULL &&
	    !(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN)) ||
	    (c->half_close && !c->use_tls))) {
		/* (A half-close: the bytes before the FIN are the answer, for the application.) */
		bufferevent_enable(c->bev, EV_READ);
		return;
	}
	if (c->fin_received || c->reset) {
		close_finish(c, conn_close_reason(c));
		return;
	}
	/* The peer's close_notify is in already: only its FIN is still to come. */
	if (c->phase == PHASE_FIN_SENT && !c->half_close && c->use_tls && c->ssl != NULL &&
	    (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN)) {
		close_wait_raw_fin(c);
		return;
	}
	/* Keep reading through TLS so the peer's close_notify is seen; the bufferevent reports
	 * EOF at close_notify or at the FIN (conn_event_cb then checks which). */
	if (c->bev && !c->read_paused)
		bufferevent_enable(c->bev, EV_READ);
}

/* Switch from the bufferevent to a raw wait for the FIN on the socket. */
void
close_wait_raw_fin(struct conn *c)
{
	if (c->ev_fin != NULL)
		return;
	drop_event(&c->ev_peek);
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->under)
		bufferevent_disable(c->under, EV_READ | EV_WRITE);
	c->ev_fin = event_new(c->base, c->fd, EV_READ | EV_PERSIST, fin_wait_cb, c);
	if (c->ev_fin == NULL || event_add(c->ev_fin, NULL) == -1)
		close_finish(c, conn_close_reason(c));
}

/* close() is ours, now: libevent would close the fd only when it frees the bufferevent (its
 * finalizers run later, maybe at exit), and then the kernel's state just after close(),
 * which says what close() did, could not be read. The bufferevent gives the fd up first. */
static void
close_fd_now(struct conn *c)
{
	if (c->fd < 0)
		return;
	if (c->bev != NULL && c->keep_fd) {
		/* Server TLS: the bufferevent owns neither the fd nor the SSL. */
		bufferevent_free(c->bev);
		c->bev = NULL;
	} else if (c->bev != NULL)
		bufferevent_setfd(c->under != NULL ? c->under : c->bev, -1);
	close(c->fd);
}

void
close_finish(struct conn *c, const char *reason)
{
	struct evrec r;
	struct sockdiag_info di;
	char why[256];
	int st = -1, after = -1, tw = -1, by_close = 0, rec = 0, from;

	if (c->phase == PHASE_CLOSED)
		return;
	snprintf(why, sizeof(why), "%s", reason ? reason : TR("closed", "已关闭"));
	drop_event(&c->ev_fin);
	drop_event(&c->ev_peek);
	park_leave(c);
	drop_event(&c->ev_wait);
	drop_event(&c->ev_bound);
	if (c->under) {
		evbuffer_remove_cb(bufferevent_get_output(c->under), under_output_cb, c);
		evbuffer_remove_cb(bufferevent_get_output(c->under), abort_flushed_cb, c);
	}
	/* The peer's FIN may be in though nobody read it (CLOSE_WAIT): it came before ours. */
	if (c->fd >= 0 && c->t_tcp != 0 && !c->rst_sent && evlog_on())
		close_check_peer_fin(c);
	/* Unread bytes in the kernel make close() send RST instead of FIN: read them first
	 * (unless RST is what we want); a FIN behind them is the peer's, before ours. */
	if (c->fd >= 0 && !c->rst_sent) {
		char junk[4096];
		ssize_t n;

		while ((n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 && c->t_tcp != 0 && evlog_on())
			close_check_peer_fin(c);
	}
	seglog_sync();
	/* A FIN only the capture saw (a RST came before anything read it): it is in. */
	if (!c->fin_received && c->t_tcp != 0 && c->fd >= 0 && seglog_peer_fin(c->id)) {
		c->fin_received = 1;
		if (c->first_fin == FIRST_FIN_UNKNOWN && !c->fin_sent && !c->fin_early)
			c->first_fin = FIRST_FIN_PEER;
		fin_refine(c);
		fin_log_received(c, tcpinfo_state(c->fd), FIN_CAPTURED);
	}
	/* The record's time and the fd's state are taken just before close(); what close() did
	 * is read just after it (sock_diag by the 4-tuple), then the record goes out. */
	c->t_end = evlog_now_us();
	if (c->fd >= 0 && evrec_begin(&r, EVT_CLOSED, c->id, c->fd)) {
		rec = 1;
		st = tcpinfo_state(c->fd);
		fin_observe(c, st);
		/* No shutdown() before: close() sends our FIN now (from ESTABLISHED, or after
		 * the peer's from CLOSE_WAIT). */
		by_close = !c->fin_sent && !c->rst_sent && !c->reset && c->t_tcp != 0 &&
		    (st == TCPI_ESTABLISHED || st == TCPI_CLOSE_WAIT);
	}
	from = st;
	close_fd_now(c);
	if (rec && c->local.sa.sa_family != 0 && c->t_tcp != 0 && !c->rst_sent && !c->reset) {
		int found = sockdiag_lookup(&c->local.sa, &c->remote.sa, &di);

		after = found == 1 ? di.state : found == 0 ? 0 : -1;
		fin_observe(c, after);
		/* The latest state seen: the watch (already following, or started below)
		 * goes on from it, and logs it after `closed` if it is news (a TIME_WAIT that a
		 * RST may end before the watch's next look). */
		if (after >= 0)
			from = after;	/* 0: gone, nothing left to watch */
	}
	if (rec) {
		if (by_close && c->first_fin == FIRST_FIN_UNKNOWN) {
			if (st == TCPI_CLOSE_WAIT || c->fin_received)
				c->first_fin = FIRST_FIN_PEER;
			else if (after == TCPI_LAST_ACK || after == 0) {
				/* ESTABLISHED just before close(), LAST_ACK or gone just after:
				 * the peer's FIN came in between, and close() answered it. */
				c->first_fin = FIRST_FIN_PEER;
				c->fin_received = 1;
				seglog_sync();
				fin_log_received(c, after, FIN_BEFORE_CLOSE);
				from = after;
			} else if (after == TCPI_CLOSING) {
				c->saw_closing = 1;
				c->first_fin = FIRST_FIN_BOTH;
			} else
				c->first_fin = FIRST_FIN_LOCAL;
		}
		fin_refine(c);
		if (c->t_tcp == 0 || c->rst_sent || c->reset)
			tw = 0;
		else if (after == TCPI_TIME_WAIT)
			tw = 1;
		else if (after == 0 || after == TCPI_LAST_ACK || st == TCPI_LAST_ACK ||
		    st == TCPI_CLOSE_WAIT)
			tw = 0;
		evrec_set_time(&r, c->t_end);
		evrec_str(&r, "reason", why);
		evrec_bool(&r, "fin_sent", c->fin_sent);
		evrec_bool(&r, "fin_received", c->fin_received);
		evrec_bool(&r, "closed_first", c->first_fin == FIRST_FIN_LOCAL ||
		    c->first_fin == FIRST_FIN_BOTH);
		evrec_bool(&r, "rst_sent", c->rst_sent);
		evrec_str(&r, "first_fin", fin_first_name(c));
		if (tw >= 0)
			evrec_bool(&r, "time_wait", tw);
		evrec_float(&r, "duration_ms", (double)(c->t_end - c->t_start) / 1000.0);
		evrec_detail(&r, "close(): %s", why);
		fin_closed_gloss(&r, c, st, after, tw, by_close);
		evrec_emit(&r);
		if (after >= 0 && c->watching)
			tcpwatch_note(c->id, after, after > 0 ? &di : NULL);
	}
	conn_set_phase(c, PHASE_CLOSED);
	/* With BEV_OPT_CLOSE_ON_FREE libevent frees the socket bufferevent, and the SSL if it
	 * was given it (the fd is closed already); an SSL not yet handed over is ours to free,
	 * and so is the SSL of a server TLS connection (keep_fd). */
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ssl && !c->ssl_in_bev)
		SSL_free(c->ssl);
	c->bev = c->under = NULL;
	c->ssl = NULL;
	c->fd = -1;		/* closed: its number may be reused at once */
	/* The fd is gone, the connection is not: follow what the kernel still keeps of it. */
	if (from > 0 && evlog_on())
		watch_close(c, from);
	tcpwatch_kick(c->id);
	if (c->ops->closed)
		c->ops->closed(c);
	conn_dispose(c);
}

static void
abort_flushed_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	(void)info;
	if (evbuffer_get_length(buf) == 0) {
		evbuffer_remove_cb(buf, abort_flushed_cb, c);
		close_finish(c, conn_close_reason(c));
	}
}

/* An immediate close after an error: no choreography, one closed event with the reason. */
void
conn_abort(struct conn *c, enum conn_error err, const char *reason)
{
	struct evbuffer *uout;
	struct timeval tv = { 1, 0 };

	if (c->phase == PHASE_CLOSED)
		return;
	if (c->error == CONN_OK) {
		c->error = err;
		c->error_phase = c->phase;
		set_text(&c->error_text, reason, CONN_ERROR_TEXT_LEN);
		if (c->ops->failed)
			c->ops->failed(c);
	}
	/* Server: a refused TLS handshake (e.g. no client certificate). The client may already
	 * have sent its Finished and its request: close() with those unread would answer with
	 * RST. Send our FIN (after the alert, if one went out) and read what still comes
	 * (bounded), as s_server does: a clean close, and the client reads our alert. */
	if (c->is_server && c->use_tls && c->phase == PHASE_TLS_HANDSHAKE && !c->reset &&
	    c->fd >= 0 && c->ev_bound == NULL) {
		struct evrec r;
		char step[384], alert[192];
		int64_t t0;
		int st, fr = c->fin_received;

		set_text(&c->close_reason, reason, CONN_CLOSE_REASON_LEN);
		if ((st = fin_out(c, &t0)) != -1) {
			if (evrec_begin(&r, EVT_FIN_SENT, c->id, c->fd)) {
				evrec_set_time(&r, t0);
				if (c->fin_received == fr)
					evrec_set_state(&r, st);
				evrec_str(&r, "reason", reason);
				evrec_int(&r, "wave", c->first_fin == FIRST_FIN_PEER ? 3 : 1);
				if (c->first_fin == FIRST_FIN_BOTH)
					evrec_bool(&r, "simultaneous", 1);
				/* Which alert, if any, went before our FIN: the TLS callbacks
				 * saw it, in either direction. */
				if (c->tls->alert_out >= 0)
					snprintf(alert, sizeof(alert), TR("our FIN follows our alert %s",
					    "我方的 FIN 跟在我方的警报 %s 之后"),
					    tls_alert_name(c->tls->alert_out));
				else if (c->tls->alert_in >= 0)
					snprintf(alert, sizeof(alert), TR("no alert from us: the client's "
					    "alert %s ended the handshake, and a fatal alert is not "
					    "answered",
					    "我方没有发警报：客户端的警报 %s 结束了握手，致命警报"
					    "不需要回应"), tls_alert_name(c->tls->alert_in));
				else
					snprintf(alert, sizeof(alert), TR("no TLS alert went either way: "
					    "our FIN alone ends the handshake",
					    "双方都没有发 TLS 警报：只用我方的 FIN 结束握手"));
				if (c->tls->alert_out >= 0)
					evrec_detail(&r, TR("shutdown(SHUT_WR) after our alert %s: %s",
					    "在我方的警报 %s 之后 shutdown(SHUT_WR)：%s"),
					    tls_alert_name(c->tls->alert_out), reason);
				else
					evrec_detail(&r, "shutdown(SHUT_WR): %s", reason);
				fin_step(c, st, step, sizeof(step));
				evrec_gloss(&r, TR("%s; %s; what the client still sends is read and "
				    "dropped, so the kernel does not answer it with RST",
				    "%s；%s；客户端之后再发来的数据会被读取并丢弃，这样内核就不会"
				    "用 RST 回应它"), alert, step);
				evrec_emit(&r);
			}
			conn_set_phase(c, PHASE_FIN_SENT);
			close_check_peer_fin(c);
			if (evlog_on())
				watch_close(c, tcpinfo_state(c->fd));
			c->bound_ms = (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
			c->bound_from_fin = 1;
			c->ev_bound = evtimer_new(c->base, bound_cb, c);
			if (c->ev_bound != NULL && evtimer_add(c->ev_bound, &tv) == 0) {
				close_wait_raw_fin(c);
				return;
			}
		}
	}
	/* Filter mode: a fatal alert OpenSSL just queued is still in the socket bufferevent's
	 * output; let it reach the peer (bounded by 1 s) so the server's log shows it too. */
	if (c->under != NULL && !c->reset && c->ev_bound == NULL &&
	    evbuffer_get_length(uout = bufferevent_get_output(c->under)) > 0) {
		set_text(&c->close_reason, reason, CONN_CLOSE_REASON_LEN);
		bufferevent_disable(c->bev, EV_READ);
		c->ev_bound = evtimer_new(c->base, bound_cb, c);
		if (c->ev_bound != NULL && evtimer_add(c->ev_bound, &tv) == 0) {
			evbuffer_add_cb(uout, abort_flushed_cb, c);
			return;
		}
	}
	close_finish(c, reason);
}

void
close_peer_closed(struct conn *c)
{
	if (c->ops->peer_closed)
		c->ops->peer_closed(c);
	else
		conn_close(c, TR("the peer closed the connection", "对方关闭了连接"));
}

void
close_log_reset(struct conn *c, int err)
{
	struct evrec r;

	/* A CLOSE_WAIT the log showed: the peer's FIN came first, then this RST. */
	if (err != ECONNREFUSED && !c->fin_received && c->fd >= 0 &&
	    (fin_seen(c) & (FIN_ST(TCPI_CLOSE_WAIT) | FIN_ST(TCPI_LAST_ACK)))) {
		c->fin_received = 1;
		if (c->first_fin == FIRST_FIN_UNKNOWN)
			c->first_fin = FIRST_FIN_PEER;
		seglog_sync();
		fin_log_received(c, tcpinfo_state(c->fd), FIN_THEN_RST);
	}
	c->reset = 1;
	seglog_sync();
	if (evrec_begin(&r, EVT_RESET, c->id, c->fd)) {
		evrec_str(&r, "dir", "in");
		evrec_str(&r, "errno", strerror(err));
		if (err == ECONNREFUSED) {
			evrec_detail(&r, TR("connection refused by %s",
			    "连接被 %s 拒绝"), conn_remote_str(c));
			evrec_gloss(&r, TR("our SYN was answered with RST: nothing listens on that "
			    "port",
			    "我方的 SYN 得到的回答是 RST：那个端口上没有程序在监听"));
		} else {
			evrec_detail(&r, TR("the peer reset the connection (%s)",
			    "对方重置了连接（%s）"), strerror(err));
			evrec_gloss(&r, TR("RST: an abortive close, no FIN exchange and no TIME_WAIT",
			    "RST：异常关闭，没有 FIN 交换，也没有 TIME_WAIT"));
		}
		evrec_emit(&r);
	}
}
