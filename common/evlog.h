/* evlog.h -- the one event log: every phase the programs show becomes one record, printed as
 * a text line (with a plain-words gloss) or as one JSON object per line. */
#ifndef EVLOG_H
#define EVLOG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

struct event_base;

enum evlog_side { EVLOG_CLIENT, EVLOG_SERVER };
enum evlog_format { EVLOG_TEXT, EVLOG_JSON };
enum evlog_lang { EVLOG_LANG_EN, EVLOG_LANG_ZH };
enum evlog_layer { LAYER_TCP, LAYER_TLS, LAYER_CERT, LAYER_HTTP, LAYER_APP, LAYER_LAST };

/* Every event the programs log. Each name is written once, in the table in evlog.c, so grep
 * finds the single place an event comes from. Keep the two in the same order. */
enum evlog_event {
	/* TCP */
	EVT_LISTEN, EVT_RESOLVE, EVT_CONNECT, EVT_ESTABLISHED, EVT_FIN_SENT, EVT_FIN_RECEIVED,
	EVT_RESET, EVT_CLOSED, EVT_STATE_CHANGE, EVT_WATCH_END, EVT_ACCEPT_WAIT, EVT_SEGMENT, EVT_HOLD_CLOSE,
	EVT_PAUSE_READ,
	/* TLS */
	EVT_HANDSHAKE_START, EVT_MESSAGE, EVT_ALERT, EVT_KEY_EXCHANGE, EVT_HANDSHAKE_DONE,
	EVT_CLOSE_NOTIFY, EVT_TLS_ERROR, EVT_KEYLOG, EVT_DISSECT, EVT_ALPN, EVT_RESUME,
	/* CERT */
	EVT_VERIFY, EVT_HOSTNAME, EVT_TRUST_DECISION, EVT_TRUST_QUESTION, EVT_TRUST_RETRY,
	/* HTTP */
	EVT_REQUEST, EVT_RESPONSE, EVT_BODY, EVT_HTTP_ERROR,
	/* APP */
	EVT_START, EVT_PHASE, EVT_TIMING, EVT_SUMMARY, EVT_WARNING, EVT_ERROR, EVT_STOP,
	EVT_LAST
};

#define EVLOG_MAX_FIELDS 32

/* A field's type (struct evlog_field's type). */
enum evlog_ftype { F_STR, F_INT, F_BOOL, F_FLOAT };

struct evlog_field {
	const char	*key;		/* a string literal */
	int		 type;		/* enum evlog_ftype */
	long long	 i;
	double		 d;
	const char	*s;		/* points into the record's own storage */
};

/* One record. Build it with evrec_begin() and the evrec_* setters, then evrec_emit(). When
 * logging is off (-q), evrec_begin() marks it off and the setters do no formatting at all. */
struct evrec {
	int		 off;
	enum evlog_event ev;
	unsigned	 conn;		/* 0: not about one connection */
	int64_t		 t_us;		/* since the program started */
	int64_t		 ts_us;		/* wall clock, since the epoch */
	const char	*tcp_state;	/* the kernel's state at this moment, or NULL (no socket) */
	int		 has_rel;	/* rel_seq / rel_ack below are set */
	uint64_t	 rel_seq;	/* our snd_una - our ISN (TCP_INFO, relative) */
	uint64_t	 rel_ack;	/* our rcv_nxt - the peer's ISN: the ack number we send */
	const char	*label;		/* text form: replaces the event name (e.g. "> ClientHello") */
	int		 nfields;
	struct evlog_field f[EVLOG_MAX_FIELDS];
	size_t		 used;
	char		 store[4096];	/* copies of string values */
	char		 detail[768];	/* text form: what happened, short */
	char		 gloss[768];	/* text form: the textbook step, in plain words */
	const char	*note;		/* text form: a second, indented line (--wire), or NULL */
	int		 note_tone;	/* enum evrec_tone: its colour on a terminal */
};

enum evrec_tone { EVREC_NOTE_PLAIN, EVREC_NOTE_EXPOSED, EVREC_NOTE_PROTECTED };

/* evlog.c */
void		 evlog_init(enum evlog_side, enum evlog_format, int quiet, int color, FILE *);
void		 evlog_set_base(struct event_base *);
int		 evlog_parse_format(const char *);
int		 evlog_parse_color(const char *);
int		 evlog_parse_lang(const char *);
void		 evlog_set_explain(int explain, int lang);
void		 evlog_set_width(int cols);
int		 evlog_on(void);
/* --lang zh: every sentence in Chinese. */
int		 evlog_zh(void);
/* A sentence in both languages, for a format argument: the same arguments, in the same order,
 * fill either (gcc and clang check both formats against them). */
#define TR(en, zh) (evlog_zh() ? (zh) : (en))
int		 evlog_verbose(void);
void		 evlog_set_verbose(int);
int		 evlog_color(void);
enum evlog_side	 evlog_side(void);
int64_t		 evlog_now_us(void);
const char	*evlog_event_name(enum evlog_event);
enum evlog_layer evlog_event_layer(enum evlog_event);
const char	*evlog_layer_name(enum evlog_layer);
int		 evrec_begin(struct evrec *, enum evlog_event, unsigned conn, int fd);
/* The kernel states (bit 1 << TCPI_*) the tcp_state of conn's events on fd has shown. */
unsigned	 evlog_states_seen(int fd, unsigned conn);
void		 evrec_set_time(struct evrec *, int64_t t_us);
void		 evrec_set_state(struct evrec *, int state);
void		 evrec_str(struct evrec *, const char *key, const char *val);
void		 evrec_strf(struct evrec *, const char *key, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
void		 evrec_int(struct evrec *, const char *key, long long val);
void		 evrec_bool(struct evrec *, const char *key, int val);
void		 evrec_float(struct evrec *, const char *key, double val);
void		 evrec_label(struct evrec *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 evrec_detail(struct evrec *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 evrec_gloss(struct evrec *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 evrec_note(struct evrec *, int tone, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
void		 evrec_emit(struct evrec *);
const char	*evrec_field_str(const struct evrec *, const char *key);
int		 evrec_field_int(const struct evrec *, const char *key, long long *);
const char	*evlog_safe(const char *, size_t, char *buf, size_t len);
size_t		 evrec_format_text(const struct evrec *, char *buf, size_t len, int color);
size_t		 evrec_format_json(const struct evrec *, char *buf, size_t len);
/* The same JSON object without the teaching text (gloss, explain): the facts alone. */
size_t		 evrec_format_facts(const struct evrec *, char *buf, size_t len);
/* The length of a strictly valid UTF-8 sequence at p (2-4, RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF; it reads no further than the sequence's lead byte says),
 * or 0. */
int		 evlog_utf8_len(const unsigned char *p);
/* A code point every output shows as \uXXXX, never as itself: the C1 controls and the
 * bidirectional controls (a right-to-left override would reorder what is shown). */
int		 evlog_shown_escaped(unsigned cp);
/* Every record emitted (logging on, any format, before it is printed) is also handed to fn;
 * NULL: none. The server keeps each connection's records for its page and /live. */
typedef void	(*evlog_tap_fn)(const struct evrec *);
void		 evlog_set_tap(evlog_tap_fn fn);
void		 evlog(enum evlog_event, unsigned conn, int fd, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

#endif
