/* conn.h -- one TCP (+TLS) connection of either side: its phase, its bufferevents, the close
 * choreography that makes the four-way close real and visible, and the park that keeps an idle
 * one without a bufferevent. */
#ifndef CONN_H
#define CONN_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

enum conn_phase {
	PHASE_NEW,
	PHASE_CONNECTING,	/* client: SYN sent, waiting for connect() to complete */
	PHASE_TLS_HANDSHAKE,	/* TCP up, TLS handshake running */
	PHASE_OPEN,		/* application data may flow */
	PHASE_DRAINING,		/* closing: writing what the application queued */
	PHASE_TLS_SHUTDOWN,	/* closing: close_notify queued, waiting for it to reach the kernel */
	PHASE_FIN_SENT,		/* closing: our FIN is out (shutdown SHUT_WR), waiting for the peer's */
	PHASE_CLOSED,
	PHASE_LAST
};

/* Who sent the first FIN, as the kernel showed it (never from the order of our own calls):
 * our FIN left before the peer's arrived, the peer's came first (CLOSE_WAIT when we looked),
 * or both crossed (CLOSING: a simultaneous close). UNKNOWN: no FIN yet. */
enum conn_first_fin { FIRST_FIN_UNKNOWN, FIRST_FIN_LOCAL, FIRST_FIN_PEER, FIRST_FIN_BOTH };

/* Why a connection ended badly; CONN_OK for a normal close. */
enum conn_error {
	CONN_OK, CONN_ERR_REFUSED, CONN_ERR_CONNECT, CONN_ERR_RESET, CONN_ERR_TLS,
	CONN_ERR_TIMEOUT, CONN_ERR_EOF
};

struct conn;
struct tls_state;

struct conn_ops {
	/* An error is ending the connection (c->error set); called before its closed event. */
	void	(*failed)(struct conn *);
	/* TLS handshake done (or, without TLS, TCP up): the application may talk. */
	void	(*ready)(struct conn *);
	/* Bytes arrived while open. */
	void	(*read)(struct conn *, struct evbuffer *);
	/* Server TLS, open: bytes came off the socket, perhaps only part of a record (read()
	 * sees nothing until a record is whole). Runs inside OpenSSL's read: only note it (start
	 * a timer), never close or write. May be NULL. */
	void	(*wire_bytes)(struct conn *);
	/* The peer closed its side (close_notify and/or FIN) while open. NULL: conn_close(). */
	void	(*peer_closed)(struct conn *);
	/* The read timeout set with conn_set_timeout passed. NULL: conn_close(). */
	void	(*timeout)(struct conn *);
	/* The connection is gone (normal close or error, see c->error); c is freed right after. */
	void	(*closed)(struct conn *);
	/* Server: the output buffer is empty again (everything went to the kernel). May be NULL. */
	void	(*drained)(struct conn *);
	/* Nonzero: the connection holds a copy of the arg given to conn_accept() (arg_size
	 * bytes, in the same allocation: one malloc per connection, not two); c->arg points to
	 * it, and it goes with the connection (the application must not free it). */
	size_t	  arg_size;
};

/* An IP address and port: IPv4 or IPv6 only (28 bytes, not sockaddr_storage's 128). */
union conn_addr {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

/* "[" INET6_ADDRSTRLEN "]:65535": the longest text conn_addr_str() writes, with its NUL. */
#define CONN_ADDRSTRLEN		(INET6_ADDRSTRLEN + 8)
#define CONN_ERROR_TEXT_LEN	256	/* c->error_text holds at most this - 1 characters */
#define CONN_CLOSE_REASON_LEN	128	/* c->close_reason, the same */

/* An idle server connection waiting without a bufferevent (conn_park()): only conn_park.c
 * reads or writes this; a parked connection looks like any other to the rest of the code. */
struct conn_parking {
	struct conn		*next, *prev;	/* the park's deadline list, earliest first */
	int64_t			 deadline;	/* monotonic microseconds; 0: no timeout */
	int			 delay_ms;	/* conn_park()'s delay */
	unsigned		 wanted:1;	/* conn_park() asked: park at the read timeout */
	unsigned		 parked:1;	/* waiting without a bufferevent */
	unsigned		 unparked:1;	/* a new bufferevent after the park, nothing read yet */
};

/* Kept small on purpose: a server holds one per idle keep-alive connection. The texts are
 * allocated only when a connection has them (conn_error_text() and conn_close_reason() read
 * them as "" until then); the TLS layer's own state comes in the same allocation, only for a
 * connection that starts with TLS. */
struct conn {
	unsigned		 id;
	int			 fd;
	struct event_base	*base;
	struct bufferevent	*bev;		/* what the application reads and writes */
	struct bufferevent	*under;		/* client TLS: the socket bufferevent below the filter */
	SSL			*ssl;
	struct tls_state	*tls;		/* tls.h's, for a connection that starts with TLS (kept
						 * if plain HTTP comes instead); NULL: plain TCP */
	const struct conn_ops	*ops;
	void			*arg;		/* the application's */
	enum conn_phase		 phase;
	enum conn_error		 error;
	enum conn_phase		 error_phase;	/* the phase the error happened in */
	int			 busy;		/* inside one of our callbacks: free later */
	char			*error_text;	/* NULL: none (conn_error_text() gives "") */
	union conn_addr		 local;		/* family 0 until known */
	union conn_addr		 remote;

	/* timestamps, microseconds since the program started */
	int64_t			 t_start, t_tcp, t_tls, t_first_byte, t_end;
	int64_t			 t_fin_early;	/* fin_early: taken just before that shutdown() */

	unsigned		 is_server:1;
	unsigned		 use_tls:1;
	/* the close */
	unsigned		 fin_sent:1, fin_received:1, reset:1;
	unsigned		 first_fin:2;	/* enum conn_first_fin: read from the kernel */
	unsigned		 saw_closing:1;	/* the kernel showed CLOSING (the FINs crossed) */
	unsigned short		 seen;		/* the kernel states we read on the fd (bit 1 <<
						 * TCPI_*; see conn_close.c's seen_states()) */
	unsigned		 fin_unread:1;	/* the peer's FIN is in behind bytes not read yet */
	unsigned		 half_close:1;	/* our FIN is out, but we still read (half-close) */
	unsigned		 fin_early:1;	/* shutdown(SHUT_WR) already done, not yet logged */
	unsigned		 rst_sent:1;	/* we closed with RST (SO_LINGER {1, 0}) */
	unsigned		 watching:1;	/* a tcpwatch follows the close in the kernel */
	unsigned		 read_paused:1;	/* conn_pause_read() */
	unsigned		 read_big:1;	/* conn_read_big(): big reads while open */
	unsigned		 plain_on_tls:1; /* server: plain HTTP arrived on the TLS port */
	unsigned		 ssl_in_bev:1;	/* libevent owns c->ssl (frees it with the bev) */
	unsigned		 keep_fd:1;	/* server TLS: the bufferevent owns neither the fd nor
						 * c->ssl (so conn_park() can free it): close_finish()
						 * closes and frees them */
	unsigned		 in_slab:1;	/* allocated with slab_alloc(), not calloc() */
	int			 timeout_ms;	/* the last conn_set_timeout() */
	struct event		*ev_fin;	/* raw wait for the peer's FIN */
	struct event		*ev_wait;	/* retry SSL_shutdown on WANT_WRITE */
	struct event		*ev_bound;	/* bound on the whole close */
	struct event		*ev_peek;	/* server TLS: wait for the first byte (plain HTTP?) */
	int			 close_wait_ms;
	int			 bound_ms;	/* the close's bound as armed (ev_bound) */
	unsigned		 bound_from_fin:1;	/* ... counted from our FIN, not from
							 * the start of our close */
	char			*close_reason;	/* NULL: none (conn_close_reason() gives "") */

	struct conn		*next, *prev;	/* all open connections */
	struct conn_parking	 park;		/* conn_park.c's alone */
};

/* The application may still read (open, or half-closed by us). */
static inline int
conn_readable(const struct conn *c)
{
	return c->phase == PHASE_OPEN || (c->half_close && c->phase < PHASE_CLOSED);
}

/* conn.c */
const char	*conn_phase_name(enum conn_phase);
struct conn	*conn_accept(struct event_base *, int fd, const struct sockaddr *, socklen_t,
		    SSL_CTX *, const struct conn_ops *, void *arg);
struct conn	*conn_connect(struct event_base *, const struct sockaddr *, socklen_t, SSL *,
		    const struct conn_ops *, void *arg);
void		 conn_set_phase(struct conn *, enum conn_phase);
int		 conn_write(struct conn *, const void *, size_t);
size_t		 conn_input_length(const struct conn *);
struct evbuffer	*conn_input(struct conn *);
size_t		 conn_output_length(const struct conn *);
void		 conn_set_timeout(struct conn *, int ms);
void		 conn_set_write_timeout(struct conn *, int ms);
void		 conn_set_handshake_timeout(struct conn *, int ms);
void		 conn_pause_read(struct conn *, int pause);
void		 conn_close_all(const char *reason, int abort);
int		 conn_count(void);
void		 conn_addr_str(const struct sockaddr *, char *, size_t);
int		 conn_addr_loopback(const struct sockaddr *);
const char	*conn_local_str(const struct conn *);
const char	*conn_remote_str(const struct conn *);
const char	*conn_error_text(const struct conn *);
const char	*conn_close_reason(const struct conn *);
struct event_base *new_base(void);

/* conn_close.c */
void		 conn_close(struct conn *, const char *reason);
void		 conn_shutdown_write(struct conn *, const char *reason);
void		 conn_reset(struct conn *, const char *reason);
void		 conn_abort(struct conn *, enum conn_error, const char *reason);
void		 conn_log_hold_close(struct conn *, int ms);
const char	*conn_peer_close_what(const struct conn *);

/* conn_read.c */
void		 conn_read_big(struct conn *, int on);

/* conn_park.c */
void		 conn_park(struct conn *, int delay_ms);

#endif
