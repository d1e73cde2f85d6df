/* seglog.h -- --capture: each captured TCP segment of our connections becomes a `segment`
 * event with its absolute seq/ack, labelled with the textbook step (SYN seq=x, ...). */
#ifndef SEGLOG_H
#define SEGLOG_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct capture_segment;

/* seglog.c */
int	seglog_open(struct event_base *, const char *filter, char *err, size_t errlen);
int	seglog_on(void);
/* --wire: segments with a payload also show what an eavesdropper sees of it. */
void	seglog_wire(int);
const char	*seglog_flags(int capture_given);
/* Tie a 4-tuple to connection `conn`; active: we sent the SYN. Segments captured before the
 * program knew the tuple (the handshake happens inside connect() / before accept()) are kept
 * and logged now. */
void	seglog_bind(unsigned conn, const struct sockaddr *local, const struct sockaddr *remote,
	    int active);
/* Who sent the first FIN of connection conn, as captured so far: known once both sides'
 * FINs are in the capture (the second one ACKs the first, or the two crossed). */
enum { SEGLOG_FINS_UNKNOWN, SEGLOG_FINS_LOCAL, SEGLOG_FINS_PEER, SEGLOG_FINS_CROSSED };
/* 1 if the capture (synced so far) saw a FIN come in from conn's peer. */
int	seglog_peer_fin(unsigned conn);
int	seglog_fin_order(unsigned conn);
/* Read what the kernel has captured so far (after a call that sent or received segments). */
void	seglog_sync(void);
void	seglog_close(void);
/* The textbook label of a segment (pure; for tests). */
struct seglog_isn {
	int		 have_x, have_y;	/* ISNs seen: x (active side), y (passive side) */
	unsigned	 x, y;
	int		 fins;			/* FINs seen so far */
	unsigned	 fin_end[2];		/* seq + 1 of each FIN */
	int		 fin_from_active[2];
	int		 fin_acked[2];		/* an earlier segment already ACKed that FIN */
	int		 hs_acked;		/* the 3rd handshake's ACK has been seen */
};
const char *seglog_label(struct seglog_isn *, int from_active, unsigned flags, unsigned seq,
	    unsigned ack, unsigned len, char *buf, size_t buflen, const char **step);

#endif
