/* sockdiag.c -- ask the kernel through NETLINK_SOCK_DIAG about one TCP connection by its 4-tuple. */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include "sockdiag.h"

#define SOCKDIAG_SEQ		0x73646961	/* ours; anything else on the socket is ignored */
#define SOCKDIAG_MAX_RECV	8		/* datagrams read before giving up */

static const char *const timer_names[] = {
	"none", "retransmit", "keepalive", "timewait", "probe",
};

struct sockdiag_req {
	struct nlmsghdr		nlh;
	struct inet_diag_req_v2	r;
};

/* Fill the request's socket id from the two addresses; ports and addresses stay in network order. */
static void
fill_id(struct inet_diag_sockid *id, const struct sockaddr *local, const struct sockaddr *remote)
{
	struct sockaddr_in l4, r4;
	struct sockaddr_in6 l6, r6;

	if (local->sa_family == AF_INET) {
		memcpy(&l4, local, sizeof(l4));
		memcpy(&r4, remote, sizeof(r4));
		id->idiag_sport = l4.sin_port;
		id->idiag_dport = r4.sin_port;
		memcpy(&id->idiag_src[0], &l4.sin_addr, sizeof(l4.sin_addr));
		memcpy(&id->idiag_dst[0], &r4.sin_addr, sizeof(r4.sin_addr));
	} else {
		memcpy(&l6, local, sizeof(l6));
		memcpy(&r6, remote, sizeof(r6));
		id->idiag_sport = l6.sin6_port;
		id->idiag_dport = r6.sin6_port;
		memcpy(id->idiag_src, &l6.sin6_addr, sizeof(l6.sin6_addr));
		memcpy(id->idiag_dst, &r6.sin6_addr, sizeof(r6.sin6_addr));
		/* Only a link-local pair needs the interface to be found. */
		id->idiag_if = l6.sin6_scope_id ? l6.sin6_scope_id : r6.sin6_scope_id;
	}
	id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

/*
 * One answer for our request: 1 (filled), 0 (not ours: the listener that an exact lookup falls back
 * to when the connection is gone, or anything with another 4-tuple's ports).
 */
static int
take_answer(const struct nlmsghdr *h, const struct inet_diag_req_v2 *req,
    struct sockdiag_info *out)
{
	struct inet_diag_msg m;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(m)))
		return 0;
	memcpy(&m, NLMSG_DATA(h), sizeof(m));
	/* No family check: a dual-stack socket asked by its IPv4 tuple answers as AF_INET6. */
	if (m.id.idiag_sport != req->id.idiag_sport || m.id.idiag_dport != req->id.idiag_dport)
		return 0;
	if (out != NULL) {
		out->state = m.idiag_state;
		out->timer = m.idiag_timer;
		out->expires_ms = m.idiag_expires;
		out->retrans = m.idiag_retrans;
		out->rqueue = m.idiag_rqueue;
		out->wqueue = m.idiag_wqueue;
	}
	return 1;
}

static int lookup_once(const struct sockaddr *, const struct sockaddr *,
    struct sockdiag_info *);

/* A connection moving from FIN_WAIT1/FIN_WAIT2/CLOSING to its TIME_WAIT record can be missed
 * by one lookup (seen here: "not found", then TIME_WAIT 20 us later): "gone" is only said
 * after a second lookup agrees. */
int
sockdiag_lookup(const struct sockaddr *local, const struct sockaddr *remote,
    struct sockdiag_info *out)
{
	int r = lookup_once(local, remote, out);

	return r == 0 ? lookup_once(local, remote, out) : r;
}

static int
lookup_once(const struct sockaddr *local, const struct sockaddr *remote,
    struct sockdiag_info *out)
{
	struct sockdiag_req req;
	struct sockaddr_nl kernel;
	struct timeval tv = { 1, 0 };
	union {
		struct nlmsghdr	h;
		char		buf[8192];
	} ans;
	struct nlmsghdr *h;
	struct nlmsgerr e;
	ssize_t n;
	size_t left;
	int fd = -1, found = 0, done = 0, ret = -1, i, saved;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (local == NULL || remote == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (local->sa_family != remote->sa_family ||
	    (local->sa_family != AF_INET && local->sa_family != AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;	/* no NLM_F_DUMP: the exact-match lookup */
	req.nlh.nlmsg_seq = SOCKDIAG_SEQ;
	req.r.sdiag_family = (__u8)local->sa_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;		/* all; the exact lookup ignores it anyway */
	fill_id(&req.r.id, local, remote);

	memset(&kernel, 0, sizeof(kernel));
	kernel.nl_family = AF_NETLINK;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		return -1;
	/* The kernel answers inside sendto(); the timeout only bounds a surprise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		goto done;
	do
		n = sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		goto done;

	for (i = 0; i < SOCKDIAG_MAX_RECV && !done; i++) {
		/* MSG_TRUNC: the datagram's real length, so a cut answer is an error, not a wait. */
		n = recv(fd, ans.buf, sizeof(ans.buf), MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto done;
		if (n == 0 || (size_t)n > sizeof(ans.buf)) {
			errno = n == 0 ? EPROTO : EMSGSIZE;
			goto done;
		}
		left = (size_t)n;
		for (h = &ans.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != SOCKDIAG_SEQ)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e))) {
					errno = EPROTO;
					goto done;
				}
				memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e.error == 0) {		/* an ACK ends the answer */
					done = 1;
					break;
				}
				/* No such socket: CLOSED (also what a kernel without tcp_diag says). */
				if (e.error == -ENOENT) {
					ret = 0;
					goto done;
				}
				errno = -e.error;
				goto done;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && !found)
				found = take_answer(h, &req.r, out);
			if (!(h->nlmsg_flags & NLM_F_MULTI)) {
				done = 1;
				break;
			}
		}
	}
	if (!done) {
		errno = EPROTO;
		goto done;
	}
	ret = found;
 done:
	saved = errno;
	close(fd);
	errno = saved;
	if (ret == 0 && out != NULL)
		memset(out, 0, sizeof(*out));
	return ret;
}

const char *
sockdiag_timer_name(int timer)
{
	if (timer < 0 || (size_t)timer >= sizeof(timer_names) / sizeof(timer_names[0]))
		return "?";
	return timer_names[timer];
}
