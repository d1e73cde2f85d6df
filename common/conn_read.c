/* conn_read.c -- big reads for big bodies: libevent 2.1 reads a socket 4 KiB per turn of the
 * event loop; while a client reads a big body, each turn also takes what the kernel holds. */
#include <sys/ioctl.h>
#include <unistd.h>

#include "conn_int.h"
#include "seglog.h"

/* Big reads. libevent 2.1's socket bufferevent reads at most 4 KiB per turn of the event loop
 * (EVBUFFER_MAX_READ; evbuffer_set_max_read() came in 2.2): a 10 MB body took 2,500 turns,
 * each an epoll_wait, a timerfd_settime (the loop's precise timer is set again at every turn),
 * a FIONREAD and a 4 KiB readv. With big reads on, each turn then also takes what the kernel
 * holds, up to CONN_READ_BIG bytes, into the same input buffer before anyone reads it. */
#define CONN_READ_BIG	(256 * 1024)

static bufferevent_data_cb filter_read;	/* libevent's: a TLS filter reads what lies below it */

/* Only the bytes the kernel already holds (FIONREAD): a read that found the peer's FIN or an
 * error (RST) would take it away from libevent, which reports it (the log's FIN or RST). */
void
conn_read_more(int fd, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	int avail;
	ssize_t n;

	if (fd < 0 || ioctl(fd, FIONREAD, &avail) == -1 || avail <= 0)
		return;
	if (avail > CONN_READ_BIG)
		avail = CONN_READ_BIG;
	/* A socket bufferevent keeps its input's end frozen but around its own reads. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_reserve_space(in, avail, &v, 1) == 1) {
		n = read(fd, v.iov_base, (size_t)avail);
		v.iov_len = n > 0 ? (size_t)n : 0;
		evbuffer_commit_space(in, &v, n > 0 ? 1 : 0);
	}
	evbuffer_freeze(in, 0);
}

/* Client TLS: the filter's read of the socket bufferevent below it, after a big read (and,
 * with --capture, the segments that brought it: the filter logs the records it decrypts). */
static void
under_read_big(struct bufferevent *under, void *filter)
{
	conn_read_more(bufferevent_getfd(under), bufferevent_get_input(under));
	seglog_sync();
	filter_read(under, filter);
}

/* Big reads on or off (a client reading a big body). Only while open, and only where the
 * socket's bytes land in a buffer we can fill: plain TCP, or the socket bufferevent below the
 * client's TLS filter (a server's TLS bufferevent reads through OpenSSL itself). */
void
conn_read_big(struct conn *c, int on)
{
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	void *arg;

	on = on && c->phase == PHASE_OPEN && c->bev != NULL && (c->ssl == NULL || c->under);
	if (c->read_big == (unsigned)on)
		return;
	if (c->under != NULL) {
		bufferevent_getcb(c->under, &rcb, &wcb, &ecb, &arg);
		if (on) {
			/* libevent's filter hands itself to its callbacks: anything else, no */
			if (arg != (void *)c->bev || (filter_read != NULL && rcb != filter_read))
				return;
			filter_read = rcb;
			bufferevent_setcb(c->under, under_read_big, wcb, ecb, arg);
		} else if (rcb == under_read_big)
			bufferevent_setcb(c->under, filter_read, wcb, ecb, arg);
	}
	c->read_big = on;
}
