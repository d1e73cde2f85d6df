/* idleconns.c -- the benchmark's memory driver: open N keep-alive connections (plain HTTP, or
 * HTTPS with the handshake done), make one request on each, then hold them idle so the
 * server's RSS per idle connection can be read; bounded in time, it stops itself. */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum state { S_CONNECTING, S_HANDSHAKE, S_WRITE, S_READ, S_IDLE, S_DEAD };

struct cn {
	int		 fd;
	enum state	 st;
	SSL		*ssl;
	size_t		 sent;
	char		*head;		/* the response head while it is read, then freed */
	size_t		 hlen;
	long		 body_left;	/* -1: head not complete yet */
};

static const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: idleconns\r\n\r\n";
/* -r: one request per connection, as wrk -H 'Connection: close' sends it */
static const char request_close[] = "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: idleconns\r\n"
    "Connection: close\r\n\r\n";
static const char *req = request;
static size_t reqlen = sizeof(request) - 1;

#define HEAD_MAX 4096

static struct {
	int		 n, concurrency, tls, deadline_s, hold_s, churn_s;
	struct sockaddr_in addr;
} opt = { 10000, 64, 0, 60, 20, 0, { 0 } };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: idleconns [-s] [-n N] [-c CONC] [-d SEC] [-H SEC] HOST PORT\n"
"       idleconns [-s] -r SEC [-c CONC] HOST PORT\n"
"Open N connections to HOST:PORT (IPv4), TLS with -s, one GET / on each, then keep them\n"
"idle. Prints 'ready N' when all N are idle, then holds them until a line (or EOF) on\n"
"standard input or -H SEC passed, and closes them with RST.\n"
"With -r SEC: for SEC seconds, keep CONC connections going, each one new connection (a\n"
"full TLS handshake: no session is ever resumed), one request with 'Connection: close',\n"
"the whole response, close(); prints 'churn COUNT SECONDS PER_SECOND'.\n"
"  -n N     connections (default 10000)\n"
"  -c CONC  connections being set up at once (default 64)\n"
"  -d SEC   give up if not all are idle after SEC seconds (default 60)\n"
"  -H SEC   hold at most SEC seconds (default 20)\n");
	exit(2);
}

static void
kill_conn(int ep, struct cn *c)
{
	struct linger lg = { 1, 0 };

	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c->fd);
	}
	c->fd = -1;
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	free(c->head);
	c->head = NULL;
	c->st = S_DEAD;
}

static int
start_conn(int ep, struct cn *c, SSL_CTX *ctx)
{
	struct epoll_event ev;
	int on = 1;

	memset(c, 0, sizeof(*c));
	c->body_left = -1;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		perror("idleconns: socket");
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->fd, (struct sockaddr *)&opt.addr, sizeof(opt.addr)) == -1 &&
	    errno != EINPROGRESS) {
		perror("idleconns: connect");
		return -1;
	}
	if (ctx != NULL) {
		if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
			return -1;
		SSL_set_tlsext_host_name(c->ssl, "localhost");
		SSL_set_connect_state(c->ssl);
	}
	c->st = S_CONNECTING;
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static ssize_t
cn_write(struct cn *c, const char *p, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return send(c->fd, p, n, MSG_NOSIGNAL);
	if ((r = SSL_write(c->ssl, p, (int)n)) > 0)
		return r;
	r = SSL_get_error(c->ssl, r);
	errno = r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? EAGAIN : EIO;
	return -1;
}

static ssize_t
cn_read(struct cn *c, char *p, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return recv(c->fd, p, n, 0);
	if ((r = SSL_read(c->ssl, p, (int)n)) > 0)
		return r;
	r = SSL_get_error(c->ssl, r);
	if (r == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? EAGAIN : EIO;
	return -1;
}

/* Returns 1 when the whole response was read, 0 for more, -1 on error. */
static int
read_response(struct cn *c)
{
	char buf[16384], *e, *cl;
	ssize_t n;

	for (;;) {
		n = cn_read(c, buf, sizeof(buf));
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (c->body_left < 0) {
			size_t take = (size_t)n, hl;

			if (c->head == NULL && (c->head = malloc(HEAD_MAX + 1)) == NULL)
				return -1;
			if (take > HEAD_MAX - c->hlen)
				take = HEAD_MAX - c->hlen;
			memcpy(c->head + c->hlen, buf, take);
			c->hlen += take;
			c->head[c->hlen] = '\0';
			if ((e = strstr(c->head, "\r\n\r\n")) == NULL) {
				if (c->hlen == HEAD_MAX)
					return -1;
				continue;
			}
			hl = (size_t)(e + 4 - c->head);
			if ((cl = strcasestr(c->head, "\r\nContent-Length:")) == NULL || cl > e)
				return -1;
			c->body_left = strtol(cl + 17, NULL, 10) - (long)(c->hlen - hl) -
			    (long)((size_t)n - take);
			free(c->head);
			c->head = NULL;
		} else
			c->body_left -= n;
		if (c->body_left <= 0)
			return 1;
	}
}

/* One step of connection c's set-up; returns 1 when it became idle, 0 for not yet, -1 dead. */
static int
step(int ep, struct cn *c)
{
	struct epoll_event ev;
	int r, e;
	socklen_t len = sizeof(e);
	ssize_t n;

	switch (c->st) {
	case S_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1 || e != 0)
			return -1;
		c->st = c->ssl ? S_HANDSHAKE : S_WRITE;
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return step(ep, c);
	case S_HANDSHAKE:
		ERR_clear_error();
		if ((r = SSL_do_handshake(c->ssl)) == 1) {
			c->st = S_WRITE;
			return step(ep, c);
		}
		r = SSL_get_error(c->ssl, r);
		if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE)
			return -1;
		/* Level-triggered: wait only for what OpenSSL needs, or EPOLLOUT spins. */
		ev.events = r == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return 0;
	case S_WRITE:
		while (c->sent < reqlen) {
			n = cn_write(c, req + c->sent, reqlen - c->sent);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			c->sent += (size_t)n;
		}
		c->st = S_READ;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		return step(ep, c);
	case S_READ:
		if ((r = read_response(c)) != 1)
			return r;
		c->st = S_IDLE;
		/* Idle: watched no more (a close by the server shows up as a count at the end). */
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		return 1;
	default:
		return -1;
	}
}

static int
count_alive(struct cn *cs, int n)
{
	struct pollfd p;
	char b;
	int i, alive = 0;

	for (i = 0; i < n; i++) {
		if (cs[i].st != S_IDLE)
			continue;
		p.fd = cs[i].fd;
		p.events = POLLIN;
		/* Readable with nothing to read (EOF, RST): the server dropped it. */
		if (poll(&p, 1, 0) == 1 && recv(cs[i].fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
			continue;
		alive++;
	}
	return alive;
}

/* -r: CONC slots, each running one connection after the other for churn_s seconds. */
static int
churn(int ep, struct cn *cs, SSL_CTX *ctx, double t0)
{
	struct epoll_event evs[256];
	double end = t0 + opt.churn_s, t;
	long done = 0, failed = 0;
	int i, k, r;

	for (i = 0; i < opt.n; i++)
		if (start_conn(ep, &cs[i], ctx) == -1)
			return 1;
	while ((t = now_s()) < end) {
		k = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < k; i++) {
			struct cn *c = evs[i].data.ptr;

			if ((r = step(ep, c)) == 0)
				continue;
			if (r == 1)
				done++;
			else
				failed++;
			/* close(): the server closed first (Connection: close), we answer its FIN */
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
			SSL_free(c->ssl);
			c->ssl = NULL;
			free(c->head);
			c->head = NULL;
			if (start_conn(ep, c, ctx) == -1)
				return 1;
		}
	}
	if (failed > 0)
		fprintf(stderr, "idleconns: %ld connections failed\n", failed);
	printf("churn %ld %.3f %.1f\n", done, t - t0, done / (t - t0));
	return failed > done / 100 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	struct cn *cs;
	SSL_CTX *ctx = NULL;
	double t0, deadline;
	int ep, ch, i, k, started = 0, inflight = 0, idle = 0, dead = 0, ret = 1;
	char line[16];

	while ((ch = getopt(argc, argv, "sn:c:d:H:r:h")) != -1) {
		switch (ch) {
		case 's': opt.tls = 1; break;
		case 'n': opt.n = atoi(optarg); break;
		case 'c': opt.concurrency = atoi(optarg); break;
		case 'd': opt.deadline_s = atoi(optarg); break;
		case 'H': opt.hold_s = atoi(optarg); break;
		case 'r': opt.churn_s = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || opt.n < 1 || opt.n > 100000 || opt.concurrency < 1 ||
	    opt.deadline_s < 1 || opt.hold_s < 0 || opt.churn_s < 0 || opt.churn_s > 600)
		usage();
	if (opt.churn_s > 0) {
		req = request_close;
		reqlen = sizeof(request_close) - 1;
		opt.n = opt.concurrency;
	}
	opt.addr.sin_family = AF_INET;
	opt.addr.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &opt.addr.sin_addr) != 1) {
		fprintf(stderr, "idleconns: '%s' is not an IPv4 address\n", argv[optind]);
		return 2;
	}
	/* One fd per connection: raise the soft limit to the hard one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.n + 16) {
		fprintf(stderr, "idleconns: the fd limit (%llu) is below %d connections\n",
		    (unsigned long long)rl.rlim_cur, opt.n);
		return 1;
	}
	if ((cs = calloc((size_t)opt.n, sizeof(*cs))) == NULL)
		return 1;
	for (i = 0; i < opt.n; i++)
		cs[i].fd = -1;
	if (opt.tls) {
		if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			return 1;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		/* The driver's own memory does not count; keep it small anyway. */
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	t0 = now_s();
	if (opt.churn_s > 0) {
		ret = churn(ep, cs, ctx, t0);
		goto out;
	}
	deadline = t0 + opt.deadline_s;
	while (idle + dead < opt.n) {
		while (inflight < opt.concurrency && started < opt.n) {
			if (start_conn(ep, &cs[started], ctx) == -1) {
				kill_conn(ep, &cs[started]);
				dead++;
			} else
				inflight++;
			started++;
		}
		if (now_s() > deadline) {
			fprintf(stderr, "idleconns: only %d of %d idle after %d s\n", idle, opt.n,
			    opt.deadline_s);
			goto out;
		}
		k = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < k; i++) {
			struct cn *c = evs[i].data.ptr;
			int r = step(ep, c);

			if (r == 0)
				continue;
			inflight--;
			if (r == 1)
				idle++;
			else {
				kill_conn(ep, c);
				dead++;
			}
		}
	}
	if (dead > 0) {
		fprintf(stderr, "idleconns: %d of %d connections failed\n", dead, opt.n);
		goto out;
	}
	printf("ready %d %.3f\n", idle, now_s() - t0);
	fflush(stdout);
	/* Hold: until the caller says so (a line or EOF), bounded by -H. */
	{
		struct pollfd p = { STDIN_FILENO, POLLIN, 0 };

		if (poll(&p, 1, opt.hold_s * 1000) == 1)
			(void)!read(STDIN_FILENO, line, sizeof(line));
	}
	printf("alive %d\n", count_alive(cs, opt.n));
	fflush(stdout);
	ret = 0;
out:
	for (i = 0; i < opt.n; i++)
		if (cs[i].st != S_DEAD || cs[i].fd >= 0)
			kill_conn(ep, &cs[i]);
	free(cs);
	close(ep);
	SSL_CTX_free(ctx);
	return ret;
}
