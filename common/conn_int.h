/* conn_int.h -- what the conn*.c files share and nobody else sees: the connection's life
 * (conn.c), its close (conn_close.c), the story of its close (conn_fin.c), its big reads
 * (conn_read.c) and its park (conn_park.c). */
#ifndef CONN_INT_H
#define CONN_INT_H

#include "conn.h"

struct evrec;

/* conn.c */
/* Callbacks hold the connection while they run (conn_release() frees a closed one). */
void	 conn_hold(struct conn *);
void	 conn_release(struct conn *);
void	 conn_dispose(struct conn *);		/* closed: off the list, freed unless held */
/* The bufferevent callbacks of every connection. */
void	 conn_read_cb(struct bufferevent *, void *);
void	 conn_write_cb(struct bufferevent *, void *);
void	 conn_event_cb(struct bufferevent *, short, void *);

/* conn_close.c */
int	 close_check_peer_fin(struct conn *);	/* 1: FIN (logged once), 0: not yet, -1: RST */
void	 close_peer_closed(struct conn *);
void	 close_wait_raw_fin(struct conn *);
void	 close_log_reset(struct conn *, int err);
void	 close_finish(struct conn *, const char *reason);

/* conn_read.c */
void	 conn_read_more(int fd, struct evbuffer *);	/* what the kernel holds, up to 256 KiB */

/* conn_fin.c: who sent the first FIN, and the words of each close step */
#define FIN_ST(state)	(1u << (state))	/* a state's bit in fin_seen() */
/* How the peer's FIN became known, for its sentence. */
enum fin_how {
	FIN_READ,		/* read() returned 0 */
	FIN_UNREAD,		/* the kernel shows it, behind bytes not read yet */
	FIN_THEN_RST,		/* the kernel had shown it (CLOSE_WAIT); a RST came after it */
	FIN_CAPTURED,		/* only the capture saw it (a RST came before we read it) */
	FIN_BEFORE_CLOSE	/* it came in just before our close() (sock_diag after the call) */
};

const char	*fin_first_name(const struct conn *);	/* closed.first_fin */
int	 fin_time_wait(const struct conn *);	/* 1: TIME_WAIT now, 0: no, -1: not known */
void	 fin_observe(struct conn *, int state);	/* a state we read on the fd */
unsigned fin_seen(struct conn *);		/* every state seen: FIN_ST() bits */
int	 fin_local_known(struct conn *);	/* ours first, and this side knows it */
void	 fin_refine(struct conn *);		/* CLOSING or the capture: first_fin */
void	 fin_log_received(struct conn *, int state, enum fin_how);
void	 fin_step(struct conn *, int state, char *buf, size_t len);	/* fin_sent's words */
void	 fin_closed_gloss(struct evrec *, struct conn *, int st, int after, int tw,
	    int by_close);

/* conn_park.c: the only file that takes an idle connection's bufferevent away and gives it
 * back. Every conn_* call that needs c->bev starts with park_wake(). */
int	 park_wake(struct conn *);		/* parked: a new bufferevent; -1: aborted */
void	 park_leave(struct conn *);		/* closing: out of the park, no bufferevent */
int	 park_set_timeout(struct conn *, int ms); /* 1: parked, its deadline moved */
void	 park_cancel(struct conn *);		/* a pending conn_park() is off */
int	 park_read_timeout(struct conn *);	/* 0: the read timeout was conn_park()'s */
void	 park_busy(struct conn *);		/* bytes were read: not idle */

#endif
