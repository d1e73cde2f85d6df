/* sockdiag.h -- ask the kernel (NETLINK_SOCK_DIAG, what `ss` uses; no privileges) for one
 * connection's state and timer by its 4-tuple, even after the program closed the socket. */
#ifndef SOCKDIAG_H
#define SOCKDIAG_H

#include <sys/socket.h>

/* idiag_timer values */
enum { SOCKDIAG_TIMER_NONE, SOCKDIAG_TIMER_RETRANSMIT, SOCKDIAG_TIMER_KEEPALIVE,
	SOCKDIAG_TIMER_TIMEWAIT, SOCKDIAG_TIMER_PROBE };

struct sockdiag_info {
	int		state;		/* the kernel's TCP state number, as tcpi_state (1..11) */
	int		timer;		/* SOCKDIAG_TIMER_* */
	unsigned	expires_ms;	/* when the timer fires, from now */
	unsigned	retrans;	/* idiag_retrans */
	unsigned	rqueue;		/* bytes not yet read (or, listening: accept queue length) */
	unsigned	wqueue;		/* bytes not yet acked (or, listening: backlog) */
};

/* sockdiag.c */
/* Look up the TCP connection local -> remote (both AF_INET or both AF_INET6). Returns 1 and
 * fills *out when the kernel still has it, 0 when it is gone (CLOSED), -1 on error (errno).
 * An exact lookup of a finished connection can return the listening socket: such an answer
 * (a different remote port) counts as gone. */
int		 sockdiag_lookup(const struct sockaddr *local, const struct sockaddr *remote,
		    struct sockdiag_info *out);
const char	*sockdiag_timer_name(int timer);

#endif
