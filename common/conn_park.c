/* conn_park.c -- the park: a server's idle keep-alive connections wait without a bufferevent,
 * all on one epoll set and one timer, and get a bufferevent back before anything needs one.
 *
 * An idle keep-alive connection (nothing buffered either way, in OpenSSL neither) gives its
 * bufferevent (~1 KB with its two evbuffers) back and waits for its next bytes, or its read
 * timeout, in the park (the SSL stays, with its socket BIO). Its next bytes, its timeout or any
 * conn_* call that needs the bufferevent makes a new one (park_wake()); the log is the same
 * either way. Nothing outside this file looks at c->park or at the pool. */
#include <sys/epoll.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>

#include "clock.h"
#include "conn_int.h"
#include "tls.h"

static void park_cb(evutil_socket_t, short, void *);

/* The pool: parked connections wait on one epoll instance of their own (one event in the loop
 * for all of them) and their timeouts in one list ordered by deadline (one timer for all of
 * them), instead of a struct event each (~144 bytes with malloc's header). The pool exists
 * only while a connection is parked, on the base of the first one. */
static struct {
	struct event_base	*base;
	int			 epfd;
	struct event		*ev_ready;	/* epfd is readable: a parked fd is */
	struct event		*ev_timer;	/* the earliest deadline */
	struct conn		*head, *tail;	/* the ones with a deadline, earliest first */
	int			 n;		/* parked connections */
	int			 in_cb;		/* inside pool_ready_cb / pool_timer_cb */
} pool = { NULL, -1, NULL, NULL, NULL, NULL, 0, 0 };

static void
pool_arm(void)
{
	struct timeval tv;
	int64_t d;

	if (pool.ev_timer == NULL)
		return;
	if (pool.head == NULL) {
		evtimer_del(pool.ev_timer);
		return;
	}
	d = pool.head->park.deadline - clock_mono_us();
	if (d < 0)
		d = 0;
	tv.tv_sec = d / 1000000;
	tv.tv_usec = d % 1000000;
	evtimer_add(pool.ev_timer, &tv);
}

/* No connection parked any more: the pool goes (not while its own callbacks run). */
static void
pool_put(void)
{
	if (pool.n > 0 || pool.in_cb || pool.base == NULL)
		return;
	event_free(pool.ev_ready);
	event_free(pool.ev_timer);
	close(pool.epfd);
	pool.ev_ready = pool.ev_timer = NULL;
	pool.epfd = -1;
	pool.base = NULL;
}

static void
pool_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct epoll_event e;
	int i;

	(void)fd;
	(void)what;
	(void)arg;
	pool.in_cb++;
	/* One at a time: a callback may close (and so unpark) another parked connection. */
	for (i = 0; i < 64 && pool.n > 0; i++) {
		if (epoll_wait(pool.epfd, &e, 1, 0) != 1)
			break;
		park_cb(-1, EV_READ, e.data.ptr);
	}
	pool.in_cb--;
	pool_arm();
	pool_put();
}

static void
pool_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c;
	int64_t now = clock_mono_us();

	(void)fd;
	(void)what;
	(void)arg;
	pool.in_cb++;
	while ((c = pool.head) != NULL && c->park.deadline <= now) {
		park_cb(-1, EV_TIMEOUT, c);
		if (pool.head == c)	/* not unparked: cannot happen, but never spin */
			break;
	}
	pool.in_cb--;
	pool_arm();
	pool_put();
}

static int
pool_get(struct event_base *b)
{
	if (pool.base != NULL)
		return pool.base == b ? 0 : -1;
	if ((pool.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	pool.ev_ready = event_new(b, pool.epfd, EV_READ | EV_PERSIST, pool_ready_cb, NULL);
	pool.ev_timer = evtimer_new(b, pool_timer_cb, NULL);
	pool.base = b;
	if (pool.ev_ready == NULL || pool.ev_timer == NULL || event_add(pool.ev_ready, NULL) == -1) {
		if (pool.ev_ready != NULL)
			event_free(pool.ev_ready);
		if (pool.ev_timer != NULL)
			event_free(pool.ev_timer);
		close(pool.epfd);
		pool.ev_ready = pool.ev_timer = NULL;
		pool.epfd = -1;
		pool.base = NULL;
		return -1;
	}
	return 0;
}

static void
deadline_remove(struct conn *c)
{
	int was_head = pool.head == c;

	if (c->park.deadline == 0)
		return;
	if (c->park.prev != NULL)
		c->park.prev->park.next = c->park.next;
	else
		pool.head = c->park.next;
	if (c->park.next != NULL)
		c->park.next->park.prev = c->park.prev;
	else
		pool.tail = c->park.prev;
	c->park.next = c->park.prev = NULL;
	c->park.deadline = 0;
	if (was_head && !pool.in_cb)
		pool_arm();
}

/* ms from now (libevent's timeouts count from now too); ms <= 0: no timeout. */
static void
deadline_insert(struct conn *c, int ms)
{
	struct conn *p;

	if (ms <= 0)
		return;
	c->park.deadline = clock_mono_us() + (int64_t)ms * 1000;
	/* the same timeout for all: nearly always the last */
	for (p = pool.tail; p != NULL && p->park.deadline > c->park.deadline; p = p->park.prev)
		;
	c->park.prev = p;
	c->park.next = p != NULL ? p->park.next : pool.head;
	if (c->park.next != NULL)
		c->park.next->park.prev = c;
	else
		pool.tail = c;
	if (p != NULL)
		p->park.next = c;
	else
		pool.head = c;
	if (pool.head == c && !pool.in_cb)
		pool_arm();
}

/* Into the pool, with a timeout of ms (<= 0: none). 0: parked. */
static int
park_attach(struct conn *c, int ms)
{
	struct epoll_event e;

	if (pool_get(c->base) == -1)
		return -1;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.ptr = c;
	if (epoll_ctl(pool.epfd, EPOLL_CTL_ADD, c->fd, &e) == -1) {
		pool_put();
		return -1;
	}
	pool.n++;
	c->park.parked = 1;
	deadline_insert(c, ms);
	return 0;
}

/* Out of the pool (the bufferevent is not made again: park_wake() does that). */
void
park_leave(struct conn *c)
{
	if (!c->park.parked)
		return;
	epoll_ctl(pool.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	deadline_remove(c);
	c->park.parked = 0;
	pool.n--;
	pool_put();
}

static int
parkable(const struct conn *c)
{
	/* A fresh bufferevent reports its empty output (the write callback) as soon as it is
	 * enabled, before it reads the bytes that woke the connection: not idle yet. */
	if (c->bev == NULL || c->park.parked || c->park.unparked || c->under != NULL ||
	    !c->is_server || c->phase != PHASE_OPEN || c->half_close || c->read_paused ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return 0;
	if (c->use_tls && (!c->keep_fd || c->ssl == NULL || !c->tls->hs_done ||
	    SSL_pending(c->ssl) > 0 || SSL_get_shutdown(c->ssl) != 0))
		return 0;
	return 1;
}

/* Park now; the read timeout (c->timeout_ms) has ms left. 0: parked. */
static int
park_now(struct conn *c, int ms)
{
	if (!parkable(c))
		return -1;
	if (park_attach(c, c->timeout_ms > 0 ? ms : 0) == -1)
		return -1;
	/* Without its fd, freeing the bufferevent leaves the socket open (TLS: it owns neither
	 * the fd nor the SSL). */
	if (!c->keep_fd)
		bufferevent_setfd(c->bev, -1);
	bufferevent_free(c->bev);
	c->bev = NULL;
	return 0;
}

/* Park at once (delay_ms 0) or once nothing was read for delay_ms: a busy keep-alive client
 * sends its next request within microseconds, and a bufferevent freed and made again for each
 * request costs more CPU than it saves memory. The delay is the read timeout; when it passes,
 * the connection is parked with the rest of its timeout (park_read_timeout()). No parking when
 * the timeout itself is that short. */
void
conn_park(struct conn *c, int delay_ms)
{
	struct timeval tv = clock_tv_ms(delay_ms);

	if (c->park.wanted || !parkable(c))
		return;
	if (delay_ms <= 0) {
		park_now(c, c->timeout_ms);
		return;
	}
	if (c->timeout_ms > 0 && c->timeout_ms <= delay_ms)
		return;
	c->park.wanted = 1;
	c->park.delay_ms = delay_ms;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

/* A read timeout (bev_event): if it is conn_park()'s delay passing with nothing read, park now,
 * or restore the rest of the read timeout; 0 then. -1: an ordinary read timeout. */
int
park_read_timeout(struct conn *c)
{
	int left = c->timeout_ms > 0 ? c->timeout_ms - c->park.delay_ms : 0;
	struct timeval tv = clock_tv_ms(left);

	if (!c->park.wanted)
		return -1;
	c->park.wanted = 0;
	if (c->phase != PHASE_OPEN || c->bev == NULL)
		return -1;
	if (park_now(c, left) == 0)
		return 0;
	/* libevent stopped reading at the timeout: read again, for the rest of it. */
	bufferevent_set_timeouts(c->bev, left > 0 ? &tv : NULL, NULL);
	bufferevent_enable(c->bev, EV_READ);
	return 0;
}

/* Bytes were read (the read callback): the connection is not idle, a new bufferevent is no
 * longer fresh, and a pending conn_park() is off. */
void
park_busy(struct conn *c)
{
	c->park.unparked = 0;
	if (c->park.wanted) {
		/* Not idle after all: the read timeout is the whole one again. */
		struct timeval tv = clock_tv_ms(c->timeout_ms);

		c->park.wanted = 0;
		bufferevent_set_timeouts(c->bev, c->timeout_ms > 0 ? &tv : NULL, NULL);
	}
}

/* A pending conn_park() is off: the caller sets other timeouts. */
void
park_cancel(struct conn *c)
{
	c->park.wanted = 0;
}

/* A new read timeout of ms: a pending conn_park() is off, and a parked connection keeps
 * waiting, with its deadline moved. 1: parked (nothing else to do), 0: not parked. */
int
park_set_timeout(struct conn *c, int ms)
{
	c->park.wanted = 0;
	if (!c->park.parked)
		return 0;
	deadline_remove(c);
	deadline_insert(c, ms);
	return 1;
}

/* A parked connection gets its bufferevent back, set up as accept_bev_ready() did: every conn_*
 * call that needs c->bev starts with this. 0: c->bev is there (or never was parked); out of
 * memory: the connection is aborted, and -1 returned. */
int
park_wake(struct conn *c)
{
	struct timeval tv = clock_tv_ms(c->timeout_ms);

	if (!c->park.parked)
		return 0;
	park_leave(c);
	if (c->use_tls)
		c->bev = bufferevent_openssl_socket_new(c->base, c->fd, c->ssl,
		    BUFFEREVENT_SSL_OPEN, 0);
	else
		c->bev = bufferevent_socket_new(c->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		conn_abort(c, CONN_ERR_CONNECT, "out of memory");
		return -1;
	}
	if (c->use_tls)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read_cb, c->ops->drained ? conn_write_cb : NULL,
	    conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (c->timeout_ms > 0)
		bufferevent_set_timeouts(c->bev, &tv, NULL);
	c->park.unparked = 1;
	return 0;
}

/* A parked connection's fd is readable (bytes or the peer's FIN), or its deadline passed. */
static void
park_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	conn_hold(c);
	/* Bytes (or the peer's FIN): the new bufferevent reads them on the next turn. */
	if (park_wake(c) == 0 && (what & EV_TIMEOUT) && !(what & EV_READ)) {
		/* What libevent does on a read timeout: stop reading, then tell. */
		bufferevent_disable(c->bev, EV_READ);
		conn_event_cb(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, c);
	}
	conn_release(c);
}
