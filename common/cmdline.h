/* cmdline.h -- the flags the server and the client both take: their table, their parsing,
 * their checks, and the event log, the capture and the close watch they set up. */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdio.h>

#include "evlog.h"
#include "flags.h"

struct event_base;

/* The shared flags' ids. A program numbers its own flags from F_SHARED_LAST on. */
enum cmdline_flag {
	F_LOG_FORMAT = 1, F_COLOR, F_VERBOSE, F_QUIET, F_EXPLAIN, F_LANG, F_CAPTURE, F_WIRE,
	F_DISSECT, F_GROUPS, F_CERT, F_KEY, F_CLOSE_FIRST, F_HOLD_CLOSE, F_ABORT,
	F_LINGER_WATCH, F_VERSION, F_SHARED_LAST
};

/* What the shared flags asked for. */
struct cmdline {
	enum evlog_format format;		/* --log-format */
	int		 color;			/* --color: 1, 0, -1 auto */
	int		 quiet, verbose;
	int		 explain;		/* --explain: a sentence of why under each event */
	int		 lang;			/* --lang: enum evlog_lang */
	int		 capture;		/* --capture: 1; 2: only implied by --wire */
	int		 wire;			/* --wire: payloads as an eavesdropper sees them */
	int		 dissect;		/* --dissect: every field of every message */
	const char	*groups;		/* --groups: key exchange groups */
	const char	*cert, *key;		/* --cert, --key */
	int		 server_closes_first;	/* --close-first server */
	int		 hold_close_ms;		/* --hold-close: wait before our FIN when passive */
	int		 abort;			/* --abort: RST instead of FIN */
	int		 linger_ms;		/* --linger-watch; -1: by default */
};

/* The defaults, for a static initializer. */
#define CMDLINE_DEFAULTS	{ .color = -1, .linger_ms = -1 }

/* cmdline.c */
extern const struct flag cmdline_flags[];
/* Take flag id with its argument if it is a shared one (a bad value is a usage error).
 * Returns 0 if it was, -1 if the flag is the program's own. */
int	cmdline_parse(struct cmdline *, int id, const char *arg);
/* The checks across shared flags, once every flag is read. */
void	cmdline_check(const struct cmdline *);
/* A whole number from min to max, or the usage error fmt (with s for its %s). */
long	cmdline_number(const char *fmt, const char *s, long min, long max);
/* The event log on out, its verbosity, explanations and --wire notes; the close watch
 * (TIME_WAIT followed for 3 s by default when out is a terminal). */
void	cmdline_log_setup(const struct cmdline *, enum evlog_side, FILE *out);
/* -V, --version: the program and the versions of OpenSSL, libevent and libpcap it runs
 * with (the libraries loaded, not the headers it was built with), as curl -V. */
void	cmdline_version(FILE *);
/* --capture / --wire: start the capture on filter; without it, say why and go on. */
void	cmdline_capture_open(const struct cmdline *, struct event_base *, const char *filter);

#endif
