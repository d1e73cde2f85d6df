/* tcpwatch.h -- follow one connection's kernel state by its 4-tuple (sock_diag), sampled on a
 * timer: the SYN_SENT of a slow connect, and every state after close() until it is gone. */
#ifndef TCPWATCH_H
#define TCPWATCH_H

#include <sys/socket.h>

struct event_base;

enum tcpwatch_mode {
	TCPWATCH_CONNECT,	/* until the handshake is done (ESTABLISHED) or fails */
	TCPWATCH_CLOSE		/* after close(): until the kernel forgets it, or the bound */
};

/* tcpwatch.c */
/* How long to follow TIME_WAIT (ms; 0: log it once and stop). */
void	tcpwatch_set_linger(int ms, int by_default);	/* by_default: no --linger-watch */
int	tcpwatch_linger(void);
/* Start following local -> remote; `state` is the last state the program saw on the fd (or
 * 0). Logs state_change events for connection `conn`. Returns 0, -1 if it cannot. */
int	tcpwatch_start(struct event_base *, unsigned conn, const struct sockaddr *local,
	    const struct sockaddr *remote, int state, enum tcpwatch_mode);
/* Our side just did something (sent its FIN, closed): sample conn's watch fast again. */
void	tcpwatch_kick(unsigned conn);
/* A state of conn that a sock_diag lookup outside the watch found (just after close()): the
 * watch logs it as a change if it is one, and follows on from it; 0 (gone) ends it quietly. */
struct sockdiag_info;
void	tcpwatch_note(unsigned conn, int state, const struct sockdiag_info *);
/* The program saw the handshake finish: end conn's TCPWATCH_CONNECT watch quietly. */
void	tcpwatch_connected(unsigned conn);
/* Watches still running; when the last one ends, cb(arg) is called (the client exits then). */
int	tcpwatch_active(void);
void	tcpwatch_on_idle(void (*cb)(void *), void *arg);
/* Stop every watch now (program exit), logging where each one was. */
void	tcpwatch_stop_all(void);
/* Every state conn's watches sampled so far (bit 1 << TCPI_*), also after they ended. */
unsigned tcpwatch_seen(unsigned conn);
/* The state conn's watch last saw (TCPI_*), -1 if no watch follows conn. */
int	tcpwatch_state(unsigned conn);
/* Stop following conn now, logging where it is and why (the client's trust question). */
void	tcpwatch_stop(unsigned conn, const char *why);

#endif
