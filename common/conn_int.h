/* conn_int.h -- what the conn*.c files share and nobody else sees: the connection's life
 * (conn.c) and its close (conn_close.c). */
#ifndef CONN_INT_H
#define CONN_INT_H

#include "conn.h"

/* conn.c */
/* Callbacks hold the connection while they run (conn_release() frees a closed one). */
void	 conn_hold(struct conn *);
void	 conn_release(struct conn *);
void	 conn_dispose(struct conn *);		/* closed: off the list, freed unless held */
/* The bufferevent callbacks of every connection. */
void	 conn_read_cb(struct bufferevent *, void *);
void	 conn_write_cb(struct bufferevent *, void *);
void	 conn_event_cb(struct bufferevent *, short, void *);
/* The park (still here: the next commit moves it to its own file). */
int	 need_bev(struct conn *);
void	 park_detach(struct conn *);

/* conn_close.c */
int	 close_check_peer_fin(struct conn *);	/* 1: FIN (logged once), 0: not yet, -1: RST */
void	 close_peer_closed(struct conn *);
int	 close_wait_peer_fin(struct conn *);
void	 close_wait_raw_fin(struct conn *);
void	 close_log_reset(struct conn *, int err);
void	 close_finish(struct conn *, const char *reason);

#endif
