/* listen.c -- the server's listening sockets: certificates loaded, one listener per service
 * and address, accept() (delayed with --accept-delay, logged with the accept queue), and the
 * lines that tell a user what to try. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "conn.h"
#include "evlog.h"
#include "server.h"
#include "tcpinfo.h"
#include "tls.h"
#include "url.h"

#define MAX_LISTENERS	96

const char *const kind_names[] = { "http", "https", "selfsigned", "rsa", "gallery" };
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == K_LAST, "kind_names");

static struct event_base *base;
static const struct options *opt;
static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static struct scenario scenarios[GALLERY_MAX];
static int nscenarios;
static SSL_CTX *ctxs[K_LAST], *gctx[GALLERY_MAX];
static char cert_path[K_LAST][2][PATH_MAX];	/* certificate and key, by kind */

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct listener *li = arg;

	(void)lev;
	session_accept(li, fd, sa, (socklen_t)salen);
	if (opt->accept_delay_ms > 0 && li->resume != NULL) {
		/* One accept() per delay: stop, and wait for the next finished handshake. */
		evconnlistener_disable(li->lev);
		event_add(li->ready, NULL);
	}
}

static void
log_accept_queue(struct listener *li, int delay_ms)
{
	struct tcp_info ti;
	struct evrec r;
	int lfd = evconnlistener_get_fd(li->lev);

	if (tcpinfo_get(lfd, &ti) != 0 || !evrec_begin(&r, EVT_ACCEPT_WAIT, 0, lfd))
		return;
	evrec_str(&r, "addr", li->addr_s);
	evrec_int(&r, "accept_queue", ti.tcpi_unacked);
	evrec_int(&r, "backlog", ti.tcpi_sacked);
	evrec_int(&r, "delay_ms", delay_ms);
	if (delay_ms > 0) {
		evrec_detail(&r, TR("a connection waits on %s; accept() in %d ms (--accept-delay); "
		    "accept queue %u, backlog %u", "一个连接在 %s 上等待；%d ms 后调用 accept()"
		    "（--accept-delay）；全连接队列 %u，backlog %u"), li->addr_s, delay_ms,
		    ti.tcpi_unacked, ti.tcpi_sacked);
		evrec_gloss(&r, "%s", TR("the kernel finished the handshake and queued the "
		    "connection in the accept queue (全连接队列); when the queue is full it drops "
		    "new SYNs", "内核已完成三次握手，把连接放进全连接队列（accept queue）；队列满时"
		    "内核丢弃新的 SYN"));
	} else
		evrec_detail(&r, TR("calling accept() on %s now; accept queue %u, backlog %u",
		    "现在在 %s 上调用 accept()；全连接队列 %u，backlog %u"), li->addr_s,
		    ti.tcpi_unacked, ti.tcpi_sacked);
	evrec_emit(&r);
}

/* --accept-delay: the listening socket is readable, a finished handshake waits. */
static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;
	struct timeval tv = clock_tv_ms(opt->accept_delay_ms);

	(void)fd;
	(void)what;
	if (li->lev == NULL)
		return;
	log_accept_queue(li, opt->accept_delay_ms);
	evtimer_add(li->resume, &tv);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)fd;
	(void)what;
	if (li->lev == NULL)
		return;
	log_accept_queue(li, 0);
	evconnlistener_enable(li->lev);
}

static void
unpause_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *li = arg;

	(void)fd;
	(void)what;
	if (li->lev != NULL)		/* NULL once the server stops */
		evconnlistener_enable(li->lev);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *li = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, 100 * 1000 };

	(void)lev;
	evlog(EVT_WARNING, 0, -1, TR("accept on %s failed: %s", "在 %s 上 accept() 失败：%s"),
	    li->addr_s, strerror(e));
	/* Out of file descriptors: the waiting connection stays readable, so pause accepting
	 * briefly instead of spinning (httpd does the same). */
	if ((e == EMFILE || e == ENFILE) && li->pause != NULL) {
		evconnlistener_disable(li->lev);
		evtimer_add(li->pause, &tv);
	}
}

/* ---- listeners ---- */

/* Bind addr:port; port 0 lets the kernel pick. Returns the bound port, -1 on error (errno). */
static int
open_listener(struct listener *li, const char *addr, int port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd = -1, on = 1, fam;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = fam = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sslen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = fam = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*s6);
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* LEV_OPT_REUSEABLE's job, done here so we can bind first: a server that closed first
	 * leaves TIME_WAIT connections on its port, and must still be able to restart. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	/* Keep each client's SYN, so the established event can say what it carried (read and
	 * freed there; under -q nothing reads it, so nothing is kept). */
	if (evlog_on())
		(void)tcpinfo_save_syn(fd);
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		goto fail;
	sslen = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	li->port = ntohs(fam == AF_INET ? s4->sin_port : s6->sin6_port);
	conn_addr_str((struct sockaddr *)&ss, li->addr_s, sizeof(li->addr_s));
	listen_url_host((struct sockaddr *)&ss, li->url_host, sizeof(li->url_host));
	/* listen() here: libevent takes a backlog of 0 to mean "already listening", and 0 is a
	 * backlog a class may want (--backlog 0: one connection may wait). */
	if (listen(fd, opt->backlog) == -1)
		goto fail;
	li->lev = evconnlistener_new(base, accept_cb, li, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (li->lev == NULL)
		goto fail;
	evconnlistener_set_error_cb(li->lev, accept_error_cb);
	li->pause = evtimer_new(base, unpause_cb, li);
	if (opt->accept_delay_ms > 0) {
		li->resume = evtimer_new(base, resume_cb, li);
		li->ready = event_new(base, fd, EV_READ, ready_cb, li);
		if (li->resume == NULL || li->ready == NULL) {
			/* freed with the other listeners (listen_free) */
			snprintf(err, errlen, "cannot create the --accept-delay events");
			errno = ENOMEM;
			return -1;
		}
		evconnlistener_disable(li->lev);
		event_add(li->ready, NULL);
	}
	return li->port;
fail:
	{
		int e = errno;
		char where[80];

		if (fam == AF_INET6)
			snprintf(where, sizeof(where), "[%s]:%d", addr, port);
		else
			snprintf(where, sizeof(where), "%s:%d", addr, port);
		if (e == EADDRINUSE)
			snprintf(err, errlen, TR("cannot listen on %s: port %d is already in use "
			    "(another server running? choose another port, or 0 to let the kernel "
			    "pick)", "无法在 %s 上监听：端口 %d 已被占用（另一个服务器在运行？换一个"
			    "端口，或用 0 让内核挑选）"), where, port);
		else if (e == EACCES)
			snprintf(err, errlen, TR("cannot listen on %s: %s (ports below 1024 need "
			    "privileges; choose a port above 1023)", "无法在 %s 上监听：%s（1024 "
			    "以下的端口需要特权；请选 1023 以上的端口）"), where, strerror(e));
		else
			snprintf(err, errlen, TR("cannot listen on %s: %s", "无法在 %s 上监听：%s"),
			    where, strerror(e));
		if (fd != -1)
			close(fd);
		errno = e;
	}
	return -1;
}

static void
log_listen(const struct listener *li, const char *certfile)
{
	struct evrec r;
	int fd = evconnlistener_get_fd(li->lev);

	if (!evrec_begin(&r, EVT_LISTEN, 0, fd))
		return;
	evrec_str(&r, "kind", kind_names[li->kind]);
	if (li->sc != NULL) {
		evrec_str(&r, "scenario", li->sc->name);
		evrec_int(&r, "expected", li->sc->expected);
	}
	evrec_str(&r, "addr", li->addr_s);
	evrec_int(&r, "port", li->port);
	evrec_str(&r, "cert", certfile ? certfile : "");
	evrec_detail(&r, "%-10s %s%s%s", li->sc ? li->sc->name : kind_names[li->kind], li->addr_s,
	    certfile ? TR("  cert ", "  证书 ") : "", certfile ? certfile : "");
	evrec_gloss(&r, "%s", TR("listen(): the kernel now answers SYNs on this port and queues "
	    "finished handshakes until accept()", "listen()：内核开始在这个端口上应答 SYN，"
	    "把完成三次握手的连接排进队列，等待 accept()"));
	evrec_emit(&r);
}

static int
is_default_ipv6_missing(int e, const char *addr)
{
	return opt->nbinds == 0 && strcmp(addr, "::1") == 0 &&
	    (e == EADDRNOTAVAIL || e == EAFNOSUPPORT);
}

/* Listen for one service on every bind address. With port 0 the first address gets a
 * kernel-picked port and the others reuse it, so one port number reaches the service on
 * every address. Returns the port, 0 if no address could be used, or -1 on a real error
 * (err says it). */
static int
bind_service(enum kind k, SSL_CTX *ctx, struct scenario *sc, int port,
    const char *const *binds, int nb, char *err, size_t errlen)
{
	static int warned;
	int b, p, bound = 0;

	for (b = 0; b < nb; b++) {
		struct listener *li;

		if (nlisteners == MAX_LISTENERS) {
			snprintf(err, errlen, TR("too many listeners (at most %d)",
			    "监听套接字太多（最多 %d 个）"), MAX_LISTENERS);
			return -1;
		}
		li = &listeners[nlisteners];
		li->kind = k;
		li->ctx = ctx;
		li->sc = sc;
		p = open_listener(li, binds[b], port, err, errlen);
		if (p == -1) {
			if (is_default_ipv6_missing(errno, binds[b])) {
				if (!warned++) {
					evlog(EVT_WARNING, 0, -1, "%s", TR("::1 is not available "
					    "here (no IPv6 loopback); listening on 127.0.0.1 only",
					    "这里没有 ::1（没有 IPv6 环回地址）；只在 127.0.0.1 上"
					    "监听"));
					fprintf(stderr, "%s", TR("server: warning: ::1 is not "
					    "available; listening on 127.0.0.1 only\n", "server：警告："
					    "没有 ::1；只在 127.0.0.1 上监听\n"));
				}
				continue;
			}
			return -1;
		}
		port = bound = p;
		nlisteners++;
	}
	return bound;
}

/* The certificate and key files of each kind: --cert/--key or the demo ones in --certs. */
static void
find_certs(void)
{
	const char *dir = opt->certs_dir;

	if (opt->common.cert != NULL) {
		snprintf(cert_path[K_HTTPS][0], PATH_MAX, "%s", opt->common.cert);
		snprintf(cert_path[K_HTTPS][1], PATH_MAX, "%s", opt->common.key);
	} else {
		snprintf(cert_path[K_HTTPS][0], PATH_MAX, "%s/server.crt", dir);
		snprintf(cert_path[K_HTTPS][1], PATH_MAX, "%s/server.key", dir);
	}
	snprintf(cert_path[K_SELFSIGNED][0], PATH_MAX, "%s/selfsigned.crt", dir);
	snprintf(cert_path[K_SELFSIGNED][1], PATH_MAX, "%s/selfsigned.key", dir);
	snprintf(cert_path[K_RSA][0], PATH_MAX, "%s/server-rsa.crt", dir);
	snprintf(cert_path[K_RSA][1], PATH_MAX, "%s/server-rsa.key", dir);
}

/* The TLS context of a service (kind k) or of a gallery scenario (sc). */
static SSL_CTX *
load_ctx(enum kind k, const struct scenario *sc, char *err, size_t errlen)
{
	struct tls_opts to;

	memset(&to, 0, sizeof(to));
	if (sc != NULL) {
		to.cert = sc->chain;
		to.key = sc->key;
		to.weak_ok = sc->weak;
	} else {
		to.cert = cert_path[k][0];
		to.key = cert_path[k][1];
		to.client_auth = opt->client_auth;
		to.client_ca = opt->client_ca;
	}
	to.groups = opt->common.groups;
	to.dissect = opt->common.dissect;
	to.alpn = "http/1.1";		/* ALPN: HTTP/1.1 only (no h2 here) */
	return tls_ctx_server(&to, err, errlen);
}

/* --bind NAME: the name's addresses (getaddrinfo(): /etc/hosts or DNS), each listened on,
 * in the order given, duplicates dropped; the resolve event says which. An address stays as
 * it is. Returns how many, or -1 (err says why). */
#define MAX_BIND_ADDRS	16

static int
expand_binds(const char *const *in, int nin, const char **out, char err[], size_t errlen)
{
	static char store[MAX_BIND_ADDRS][INET6_ADDRSTRLEN];
	struct addrinfo hints, *res, *ai;
	char list[MAX_BIND_ADDRS * (INET6_ADDRSTRLEN + 2)];
	struct evrec r;
	int i, j, n = 0, e, count, dup;

	for (i = 0; i < nin; i++) {
		if (url_ip_literal(in[i])) {
			for (j = 0, dup = 0; j < n; j++)
				dup |= strcmp(out[j], in[i]) == 0;
			if (dup)
				continue;	/* a name gave it already */
			if (n == MAX_BIND_ADDRS)
				goto too_many;
			out[n++] = in[i];
			continue;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(in[i], NULL, &hints, &res)) != 0) {
			snprintf(err, errlen, "--bind %s: cannot resolve the name: %s", in[i],
			    gai_strerror(e));
			return -1;
		}
		list[0] = '\0';
		count = 0;
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			char a[INET6_ADDRSTRLEN];
			const void *src = ai->ai_family == AF_INET ?
			    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
			    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

			if (inet_ntop(ai->ai_family, src, a, sizeof(a)) == NULL)
				continue;
			for (j = 0, dup = 0; j < n; j++)
				dup |= strcmp(out[j], a) == 0;
			if (dup)
				continue;
			if (n == MAX_BIND_ADDRS) {
				freeaddrinfo(res);
				goto too_many;
			}
			snprintf(store[n], sizeof(store[n]), "%s", a);
			out[n] = store[n];
			n++;
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			    count++ ? ", " : "", a);
		}
		freeaddrinfo(res);
		if (evrec_begin(&r, EVT_RESOLVE, 0, -1)) {
			evrec_str(&r, "host", in[i]);
			evrec_str(&r, "addresses", list);
			evrec_int(&r, "count", count);
			evrec_str(&r, "source", "--bind");
			evrec_detail(&r, "%s -> %s", in[i], list);
			evrec_gloss(&r, TR("--bind %s is a name: the server listens on each address "
			    "it has here (getaddrinfo(): /etc/hosts, then DNS): %d of them",
			    "--bind %s 是一个主机名：服务器在它在本机解析出的每个地址上监听"
			    "（getaddrinfo()：先 /etc/hosts，再 DNS）：共 %d 个"), in[i], count);
			evrec_emit(&r);
		}
	}
	return n;
too_many:
	snprintf(err, errlen, "--bind: more than %d addresses in all", MAX_BIND_ADDRS);
	return -1;
}

int
listen_start(struct event_base *b, const struct options *o, char *err, size_t errlen)
{
	static const char *const default_binds[] = { "127.0.0.1", "::1" };
	static const char *named[MAX_BIND_ADDRS];
	const char *const *binds = o->nbinds ? named : default_binds;
	char why[512], gdir[PATH_MAX];
	int nb = 2, bound_any = 0, k, i, p;

	base = b;
	opt = o;
	if (o->nbinds && (nb = expand_binds(o->binds, o->nbinds, named, err, errlen)) < 0)
		return -1;
	find_certs();
	if (opt->gallery) {
		snprintf(gdir, sizeof(gdir), "%s/gallery", opt->certs_dir);
		if ((nscenarios = gallery_load(gdir, scenarios, GALLERY_MAX, err, errlen)) < 0) {
			nscenarios = 0;
			return -1;
		}
	}
	/* Load every certificate before opening any port, so a bad file fails fast. */
	for (k = K_HTTPS; k < K_GALLERY; k++)
		if (opt->port[k] != -2 && (ctxs[k] = load_ctx(k, NULL, why, sizeof(why))) == NULL) {
			snprintf(err, errlen, TR("%s (--%s-port needs it; or turn it off with "
			    "--%s-port off)", "%s（--%s-port 需要它；或者用 --%s-port off 关掉它）"),
			    why, kind_names[k], kind_names[k]);
			return -1;
		}
	for (k = 0; k < K_GALLERY; k++) {
		if (opt->port[k] == -2)
			continue;
		if ((p = bind_service(k, ctxs[k], NULL, opt->port[k], binds, nb, err, errlen)) < 0)
			return -1;
		bound_any |= p > 0;
	}
	for (i = 0; i < nscenarios; i++) {
		struct scenario *sc = &scenarios[i];

		if ((gctx[i] = load_ctx(K_GALLERY, sc, why, sizeof(why))) == NULL) {
			snprintf(err, errlen, TR("gallery scenario %s: %s (remake it: "
			    "certs/make-certs.sh --gallery)", "证书画廊场景 %s：%s（重新生成："
			    "certs/make-certs.sh --gallery）"), sc->name, why);
			return -1;
		}
		sc->port = bind_service(K_GALLERY, gctx[i], sc, opt->gallery_base ?
		    opt->gallery_base + i : 0, binds, nb, err, errlen);
		if (sc->port < 0)
			return -1;
		bound_any |= sc->port > 0;
	}
	if (!bound_any) {
		snprintf(err, errlen, "%s", TR("nothing to listen on: every port is off",
		    "没有可监听的：所有端口都关掉了"));
		return -1;
	}
	return 0;
}

void
listen_capture(struct event_base *b, const struct options *o)
{
	char filter[2048] = "";
	size_t l;
	int i;

	if (!o->common.capture)
		return;
	for (i = 0; i < nlisteners; i++) {
		if (i > 0 && listeners[i].port == listeners[i - 1].port)
			continue;
		l = strlen(filter);
		snprintf(filter + l, sizeof(filter) - l, "%stcp port %d", l ? " or " : "",
		    listeners[i].port);
	}
	cmdline_capture_open(&o->common, b, filter);
}

/* Does the name "localhost" lead to this loopback address here (getaddrinfo(): /etc/hosts)?
 * Where /etc/hosts has no "::1 localhost", a URL naming localhost would never reach a
 * listener on ::1: the try: lines name the address itself then. */
static int
localhost_reaches(const struct sockaddr *sa)
{
	struct addrinfo hints, *res, *ai;
	int found = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL && !found; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && sa->sa_family == AF_INET)
			found = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr ==
			    ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
		else if (ai->ai_family == AF_INET6 && sa->sa_family == AF_INET6)
			found = memcmp(&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
			    &((const struct sockaddr_in6 *)sa)->sin6_addr,
			    sizeof(struct in6_addr)) == 0;
	}
	freeaddrinfo(res);
	return found;
}

void
listen_url_host(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		in_addr_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

		if (a == INADDR_ANY || (a == INADDR_LOOPBACK && localhost_reaches(sa))) {
			snprintf(buf, len, "localhost");
			return;
		}
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s", host);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_UNSPECIFIED(a) || (IN6_IS_ADDR_LOOPBACK(a) &&
		    localhost_reaches(sa))) {
			snprintf(buf, len, "localhost");
			return;
		}
		inet_ntop(AF_INET6, a, host, sizeof(host));
		snprintf(buf, len, "[%s]", host);
	} else
		snprintf(buf, len, "localhost");
}

/* The gallery's scenarios, each with its port and the verdict a client should reach; the
 * URLs name the first address we listen on (every service listens on each). */
static void
announce_gallery(void)
{
	struct evrec r;
	const char *host = nlisteners > 0 ? listeners[0].url_host : "localhost";
	int i;

	if (nscenarios > 0)
		evlog(EVT_START, 0, -1, TR("gallery: try build/client --cacert "
		    "%s/gallery/trust.pem (and --crlfile %s/gallery/crl.pem) https://%s:PORT/",
		    "证书画廊：试试 build/client --cacert %s/gallery/trust.pem（以及 --crlfile "
		    "%s/gallery/crl.pem）https://%s:PORT/"), opt->certs_dir,
		    opt->certs_dir, host);
	for (i = 0; i < nscenarios; i++) {
		if (!evrec_begin(&r, EVT_START, 0, -1))
			break;
		evrec_str(&r, "scenario", scenarios[i].name);
		evrec_int(&r, "port", scenarios[i].port);
		evrec_int(&r, "expected", scenarios[i].expected);
		if (scenarios[i].expected)
			evrec_detail(&r, TR("gallery %-17s https://%s:%-5d  expect: error %d "
			    "(%s)%s", "画廊 %-17s https://%s:%-5d  预期：错误 %d（%s）%s"),
			    scenarios[i].name, host, scenarios[i].port, scenarios[i].expected,
			    X509_verify_cert_error_string(scenarios[i].expected),
			    scenarios[i].crl ? TR(" with --crlfile", "，加 --crlfile 时") : "");
		else
			evrec_detail(&r, TR("gallery %-17s https://%s:%-5d  expect: trusted",
			    "画廊 %-17s https://%s:%-5d  预期：受信任"), scenarios[i].name, host,
			    scenarios[i].port);
		evrec_emit(&r);
	}
}

/* An address the listener's certificate does not name: the client's name check will
 * refuse it (the demo certificates name localhost, 127.0.0.1 and ::1). */
static const char *
cert_names_note(const struct listener *li, char *buf, size_t len)
{
	X509 *cert = li->ctx != NULL ? SSL_CTX_get0_certificate(li->ctx) : NULL;
	char ip[INET6_ADDRSTRLEN];
	size_t l;

	buf[0] = '\0';
	if (cert == NULL || strcmp(li->url_host, "localhost") == 0)
		return buf;
	snprintf(ip, sizeof(ip), "%s", li->url_host + (li->url_host[0] == '['));
	if ((l = strlen(ip)) > 0 && ip[l - 1] == ']')
		ip[l - 1] = '\0';
	if (X509_check_ip_asc(cert, ip, 0) != 1)
		snprintf(buf, len, TR("  (the certificate does not name %s: expect a name "
		    "mismatch)", "  （证书里没有 %s：预期名字不匹配）"), ip);
	return buf;
}

/* One line per service: the client command that reaches it, at the address it listens on. */
static void
announce_try(const struct listener *li)
{
	const char *dir = opt->certs_dir, *h = li->url_host;
	char cafile[PATH_MAX], note[128];

	snprintf(cafile, sizeof(cafile), "%s/ca.crt", dir);
	cert_names_note(li, note, sizeof(note));
	if (li->kind == K_HTTP)
		evlog(EVT_START, 0, -1, "try: build/client http://%s:%d/", h, li->port);
	else if (li->kind == K_HTTPS && opt->client_auth != TLS_CLIENT_AUTH_NONE)
		evlog(EVT_START, 0, -1, "try: build/client --cacert %s --cert %s/client.crt --key "
		    "%s/client.key https://%s:%d/%s", cafile, dir, dir, h, li->port, note);
	else if (li->kind == K_HTTPS) {
		evlog(EVT_START, 0, -1, "try: build/client --cacert %s https://%s:%d/%s",
		    cafile, h, li->port, note);
		evlog(EVT_START, 0, -1, TR("try: a browser at https://%s:%d/ sees its own "
		    "handshake (trust the demo CA first: docs/guide/09-trust.md)",
		    "try: 浏览器打开 https://%s:%d/ 就能看到它自己的握手（先信任演示 CA："
		    "docs/guide/09-trust.md）"), h, li->port);
	}
	else if (li->kind == K_RSA)
		evlog(EVT_START, 0, -1, TR("try: build/client --cacert %s --tls-max 1.2 --kx rsa "
		    "https://%s:%d/  (RSA key transport)%s", "try: build/client --cacert %s "
		    "--tls-max 1.2 --kx rsa https://%s:%d/  （RSA 密钥传输）%s"), cafile, h,
		    li->port, note);
	else
		evlog(EVT_START, 0, -1, TR("try: build/client https://%s:%d/  (self-signed: "
		    "expect the trust warning)", "try: build/client https://%s:%d/  （自签名："
		    "预期出现信任警告）"), h, li->port);
}

void
listen_announce(void)
{
	const struct listener *li;
	int i, lo = 0;

	for (i = 0; i < nlisteners; i++) {
		li = &listeners[i];
		log_listen(li, li->kind == K_HTTP ? NULL : li->sc ? li->sc->chain :
		    cert_path[li->kind][0]);
	}
	announce_gallery();
	for (i = 0; i < nlisteners; i++)
		if (listeners[i].kind != K_GALLERY &&
		    (i == 0 || listeners[i].kind != listeners[i - 1].kind))
			announce_try(&listeners[i]);
	/* the class view: without a token, on the first HTTP listener on a loopback address
	 * (the teacher's own browser gets in there), else the first one; with a token, on the
	 * first one that is not on loopback (the students' way in), else the first one */
	for (i = 0, li = NULL; i < nlisteners && !opt->live_off; i++)
		if (listeners[i].kind == K_HTTP && (li == NULL ||
		    (opt->live_token == NULL ? !lo : lo))) {
			li = &listeners[i];
			lo = strncmp(li->addr_s, "127.", 4) == 0 ||
			    strncmp(li->addr_s, "[::1]", 5) == 0;
		}
	if (li == NULL)
		return;
	/* the token itself is not printed: this log may be on the projector */
	if (opt->live_token != NULL)
		evlog(EVT_START, 0, -1, TR("try: the class view (for the projector): "
		    "http://%s:%d/live?token=TOKEN, TOKEN being the --live-token you gave (any "
		    "client with it may look)", "try: 全班视图（投影用）：http://%s:%d/live?token="
		    "TOKEN，TOKEN 就是你给 --live-token 的值（带上它的任何客户端都可以看）"),
		    li->url_host, li->port);
	else if (lo)
		evlog(EVT_START, 0, -1, TR("try: the class view (for the projector): "
		    "http://%s:%d/live (loopback clients only; --live-token lets others in)",
		    "try: 全班视图（投影用）：http://%s:%d/live（只限环回地址的客户端；"
		    "--live-token 让别的机器也能看）"), li->url_host, li->port);
	else
		evlog(EVT_START, 0, -1, TR("try: the class view http://%s:%d/live needs "
		    "--live-token here: it shows every visitor's address, so without a token "
		    "it lets in loopback clients only, and no HTTP port is on loopback",
		    "try: 全班视图 http://%s:%d/live 在这里需要 --live-token：它显示每个访客的"
		    "地址，所以没有令牌时只让环回地址的客户端进来，而没有 HTTP 端口在环回地址"
		    "上"), li->url_host, li->port);
}

const struct scenario *
listen_scenarios(int *n)
{
	*n = nscenarios;
	return scenarios;
}

void
listen_stop(void)
{
	int i;

	for (i = 0; i < nlisteners; i++) {
		evconnlistener_free(listeners[i].lev);
		listeners[i].lev = NULL;
		if (listeners[i].resume)
			evtimer_del(listeners[i].resume);
		if (listeners[i].ready)
			event_del(listeners[i].ready);
		if (listeners[i].pause)
			event_del(listeners[i].pause);
	}
}

void
listen_free(void)
{
	struct listener *li;
	int i;

	/* every slot: one that failed half-way holds what it had made */
	for (li = listeners; li < listeners + MAX_LISTENERS; li++) {
		if (li->lev)
			evconnlistener_free(li->lev);
		if (li->resume)
			event_free(li->resume);
		if (li->ready)
			event_free(li->ready);
		if (li->pause)
			event_free(li->pause);
		memset(li, 0, sizeof(*li));
	}
	for (i = 0; i < K_LAST; i++)
		tls_ctx_free(ctxs[i]);
	for (i = 0; i < nscenarios; i++)
		tls_ctx_free(gctx[i]);
}
