/* test_sockdiag.c -- unit tests for the sock_diag lookup, on real connections over loopback. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "sockdiag.h"

#define BACKLOG		7	/* odd, so the listener's wqueue cannot match it by chance */
#define SETTLE_MS	1000	/* how long a state may take to settle */

struct tuple {
	struct sockaddr_storage	local, remote;
};

struct pair {
	int		cfd, sfd;	/* client and accepted server socket */
	struct tuple	c, s;		/* their 4-tuples, each seen from its own side */
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
lookup(const struct tuple *t, struct sockdiag_info *si)
{
	return sockdiag_lookup((const struct sockaddr *)&t->local,
	    (const struct sockaddr *)&t->remote, si);
}

/* Poll until the connection is in state want (want 0: gone); 1 when it got there in time. */
static int
settle(const struct tuple *t, int want, struct sockdiag_info *si)
{
	int i, r;

	for (i = 0; i < SETTLE_MS; i++) {
		r = lookup(t, si);
		if (r == -1)
			return 0;
		if ((want == 0 && r == 0) || (want != 0 && r == 1 && si->state == want))
			return 1;
		sleep_ms(1);
	}
	return 0;
}

static int
fd_tuple(int fd, struct tuple *t)
{
	socklen_t len;

	memset(t, 0, sizeof(*t));
	len = sizeof(t->local);
	if (getsockname(fd, (struct sockaddr *)&t->local, &len) == -1)
		return -1;
	len = sizeof(t->remote);
	if (getpeername(fd, (struct sockaddr *)&t->remote, &len) == -1)
		return -1;
	return 0;
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static void
loopback(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof(*sin6);
	}
}

/* A listener on the loopback address, port 0; its address in *ss. -1 when the family is absent. */
static int
listener(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd;

	loopback(family, ss, len);
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)ss, *len) == -1 || listen(fd, BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
connect_to(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
accept_pair(int lfd, struct pair *p)
{
	if ((p->sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return -1;
	if (fd_tuple(p->cfd, &p->c) == -1 || fd_tuple(p->sfd, &p->s) == -1)
		return -1;
	return 0;
}

static void
close_pair(struct pair *p)
{
	if (p->cfd != -1)
		close(p->cfd);
	if (p->sfd != -1)
		close(p->sfd);
	p->cfd = p->sfd = -1;
}

/* The whole four-way close, state by state, from both sides. */
static void
test_close(int lfd, const struct sockaddr_storage *la, socklen_t llen)
{
	struct pair p = { -1, -1, { { 0 }, { 0 } }, { { 0 }, { 0 } } };
	struct sockdiag_info si;
	struct tuple lt;
	struct pollfd pfd;
	char buf[16];

	p.cfd = connect_to(la, llen);
	CHECK(p.cfd != -1);
	if (p.cfd == -1)
		return;

	/* A listener is found with remote port 0: accept queue length in rqueue, backlog in wqueue. */
	memset(&lt, 0, sizeof(lt));
	lt.local = *la;
	lt.remote.ss_family = la->ss_family;
	CHECK(lookup(&lt, &si) == 1);
	CHECK(si.state == 10);
	CHECK(si.rqueue == 1);
	CHECK(si.wqueue == BACKLOG);

	CHECK(accept_pair(lfd, &p) == 0);
	if (p.sfd == -1)
		goto done;
	CHECK(lookup(&lt, &si) == 1 && si.rqueue == 0);

	/* The three-way handshake is done inside connect() on loopback. */
	CHECK(lookup(&p.c, &si) == 1);
	CHECK(si.state == 1);
	CHECK(si.timer == SOCKDIAG_TIMER_NONE);
	CHECK(lookup(&p.s, &si) == 1);
	CHECK(si.state == 1);

	/* Bytes the server has not read yet show up in its rqueue. */
	CHECK(write(p.cfd, "hello", 5) == 5);
	CHECK(settle(&p.s, 1, &si) == 1 && si.rqueue == 5);
	CHECK(read(p.sfd, buf, sizeof(buf)) == 5);
	CHECK(lookup(&p.s, &si) == 1 && si.rqueue == 0);

	/* Client's FIN: FIN_WAIT2 once it is ACKed (no timer while the fd is open); the server is
	 * in CLOSE_WAIT, and its rqueue counts the FIN as one byte until it reads EOF. */
	CHECK(shutdown(p.cfd, SHUT_WR) == 0);
	CHECK(settle(&p.s, 8, &si) == 1);
	CHECK(si.state == 8);
	CHECK(si.rqueue == 1);
	pfd.fd = p.sfd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, SETTLE_MS) == 1);
	CHECK(read(p.sfd, buf, sizeof(buf)) == 0);
	CHECK(lookup(&p.s, &si) == 1 && si.state == 8 && si.rqueue == 0);
	CHECK(settle(&p.c, 5, &si) == 1);
	CHECK(si.state == 5);
	CHECK(si.timer == SOCKDIAG_TIMER_NONE);

	/* Server's FIN: the server's side is gone (not the listener), the client's is TIME_WAIT. */
	CHECK(close(p.sfd) == 0);
	p.sfd = -1;
	CHECK(settle(&p.s, 0, &si) == 1);
	CHECK(si.state == 0);
	CHECK(close(p.cfd) == 0);
	p.cfd = -1;
	CHECK(lookup(&p.c, &si) == 1);
	CHECK(si.state == 6);
	CHECK(si.timer == SOCKDIAG_TIMER_TIMEWAIT);
	CHECK(si.expires_ms >= 50000 && si.expires_ms <= 60000);
	CHECK(si.rqueue == 0 && si.wqueue == 0);
 done:
	close_pair(&p);
}

/* SO_LINGER {1, 0}: close() sends RST and no side keeps anything. */
static void
test_reset(int lfd, const struct sockaddr_storage *la, socklen_t llen)
{
	struct pair p = { -1, -1, { { 0 }, { 0 } }, { { 0 }, { 0 } } };
	struct linger lg = { 1, 0 };
	struct sockdiag_info si;

	p.cfd = connect_to(la, llen);
	CHECK(p.cfd != -1);
	if (p.cfd == -1)
		return;
	CHECK(accept_pair(lfd, &p) == 0);
	if (p.sfd == -1)
		goto done;
	CHECK(lookup(&p.c, &si) == 1 && si.state == 1);
	CHECK(setsockopt(p.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	CHECK(close(p.cfd) == 0);
	p.cfd = -1;
	CHECK(lookup(&p.c, &si) == 0);
	CHECK(si.state == 0);
	CHECK(settle(&p.s, 0, &si) == 1);
 done:
	close_pair(&p);
}

/* 4-tuples that never existed: one that falls back to the listener, one with no socket at all. */
static void
test_never(const struct sockaddr_storage *la)
{
	struct sockdiag_info si;
	struct tuple t;
	socklen_t len;

	memset(&t, 0, sizeof(t));
	t.local = *la;
	loopback(la->ss_family, &t.remote, &len);
	set_port(&t.remote, 9);
	si.state = -1;
	CHECK(lookup(&t, &si) == 0);
	CHECK(si.state == 0);

	set_port(&t.local, 7);
	si.state = -1;
	CHECK(lookup(&t, &si) == 0);
	CHECK(si.state == 0);
}

/* A dual-stack IPv6 socket talking IPv4: found by its v4-mapped tuple and by the plain IPv4 one. */
static void
test_mapped(int lfd, const struct sockaddr_storage *la)
{
	struct sockaddr_in6 m;
	struct sockdiag_info si;
	struct tuple t4;
	socklen_t len = sizeof(t4.remote);
	int cfd, sfd = -1;

	if ((cfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	m.sin6_port = ((const struct sockaddr_in *)la)->sin_port;
	m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m.sin6_addr.s6_addr[12], &((const struct sockaddr_in *)la)->sin_addr, 4);
	CHECK(connect(cfd, (struct sockaddr *)&m, sizeof(m)) == 0);
	CHECK((sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1);
	if (sfd == -1)
		goto done;
	CHECK(fd_tuple(cfd, &t4) == 0);
	CHECK(t4.local.ss_family == AF_INET6);
	CHECK(lookup(&t4, &si) == 1 && si.state == 1);
	/* The same connection from the IPv4 server's view, turned round. */
	CHECK(fd_tuple(sfd, &t4) == 0);
	t4.local = t4.remote;
	CHECK(getsockname(sfd, (struct sockaddr *)&t4.remote, &len) == 0);
	CHECK(t4.local.ss_family == AF_INET);
	CHECK(lookup(&t4, &si) == 1 && si.state == 1);
 done:
	if (sfd != -1)
		close(sfd);
	close(cfd);
}

static void
test_family(int family)
{
	struct sockaddr_storage la;
	socklen_t llen;
	int lfd;

	if ((lfd = listener(family, &la, &llen)) == -1) {
		CHECK(family == AF_INET6);	/* only IPv6 may be missing */
		fprintf(stderr, "test_sockdiag: no ::1 here, IPv6 part skipped\n");
		return;
	}
	test_close(lfd, &la, llen);
	test_reset(lfd, &la, llen);
	test_never(&la);
	if (family == AF_INET)
		test_mapped(lfd, &la);
	close(lfd);
}

static void
test_errors(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr un;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	memset(&un, 0, sizeof(un));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	un.sa_family = AF_UNIX;
	errno = 0;
	CHECK(sockdiag_lookup((struct sockaddr *)&sin, (struct sockaddr *)&sin6, NULL) == -1);
	CHECK(errno == EAFNOSUPPORT);
	errno = 0;
	CHECK(sockdiag_lookup(&un, &un, NULL) == -1);
	CHECK(errno == EAFNOSUPPORT);
	errno = 0;
	CHECK(sockdiag_lookup(NULL, (struct sockaddr *)&sin, NULL) == -1);
	CHECK(errno == EINVAL);
}

void
test_sockdiag(void)
{
	CHECK_STR(sockdiag_timer_name(SOCKDIAG_TIMER_NONE), "none");
	CHECK_STR(sockdiag_timer_name(SOCKDIAG_TIMER_RETRANSMIT), "retransmit");
	CHECK_STR(sockdiag_timer_name(SOCKDIAG_TIMER_KEEPALIVE), "keepalive");
	CHECK_STR(sockdiag_timer_name(SOCKDIAG_TIMER_TIMEWAIT), "timewait");
	CHECK_STR(sockdiag_timer_name(SOCKDIAG_TIMER_PROBE), "probe");
	CHECK_STR(sockdiag_timer_name(5), "?");
	CHECK_STR(sockdiag_timer_name(-1), "?");

	test_errors();
	test_family(AF_INET);
	test_family(AF_INET6);
}
