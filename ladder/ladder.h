/* ladder.h -- the ladder diagram drawer's parts, file by file, in the order the data flows:
 * a log line is read (json.c) into an event (events.c), the events become connections and
 * diagrams (model.c), whose rows are put in cause-and-effect order (order.c), and a renderer
 * draws them (render_*.c) into a growing string (sbuf.c).
 * options.c holds the flag table (common/flags.c writes --help and the man page from it). */
#ifndef LADDER_H
#define LADDER_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum side { CLIENT, SERVER };

/* ------------------------------------------------------------------ sbuf.c */

/* A growing string: what the renderers write, printed in one go at the end. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

/* Every allocation of the ladder ends here on failure: "ladder: out of memory" and exit 1 in
 * build/ladder; inside ladder_svg() (ladder_oom_jmp set) a longjmp back to it, which frees
 * every block still allocated (lad_free_all) and returns -1: the server never exits. */
void	 die_oom(void) __attribute__((noreturn));
extern jmp_buf	*ladder_oom_jmp;
/* Tests: the n-th allocation from now fails (0: none does). */
extern long	 ladder_fail_at;
/* calloc, realloc and free for the ladder's blocks, each kept on one list; they never
 * return NULL (die_oom). */
void	*lad_calloc(size_t n, size_t size);
void	*lad_realloc(void *p, size_t size);
void	 lad_free(void *p);
/* Frees every block still allocated; how many there are. */
void	 lad_free_all(void);
size_t	 lad_blocks(void);
/* Appends n bytes of s, s, printf output, or s n times; the string stays NUL-terminated. */
void	 sb_add(struct sbuf *b, const char *s, size_t n);
void	 sb_put(struct sbuf *b, const char *s);
void	 sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	 sb_rep(struct sbuf *b, const char *s, int n);
/* snprintf into buf; a cut text loses the half UTF-8 character at its end. */
void	 bprintf(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ utf8.c */

/* The length of the valid UTF-8 sequence at p, its code point in *cp; 0 if invalid. */
int	 utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* Writes cp at o, made safe for a terminal, XML and Mermaid; returns the end. */
char	*utf8_put(char *o, uint32_t cp);
/* Columns of a valid UTF-8 string (one per code point). */
int	 utf8_width(const char *s);
/* Drops a sequence cut short at the end of s. */
void	 utf8_trim(char *s);
/* Cuts s (in a buffer of size bytes) to max columns, ending with ell if cut. */
void	 utf8_fit(char *s, size_t size, int max, const char *ell);

/* ------------------------------------------------------------------ json.c */

#define FIELDS_MAX	128		/* members of one JSON object */

enum jtype { J_STR, J_INT, J_NUM, J_BOOL, J_NULL };

struct jval {
	const char	*key;
	enum jtype	 type;
	const char	*s;		/* J_STR */
	int64_t		 i;		/* J_INT, J_BOOL */
	double		 d;		/* J_INT, J_NUM */
};

struct jparse {
	const char	*p, *end;	/* the line */
	char		*o, *oend;	/* decoded strings go here */
	struct jval	 v[FIELDS_MAX];
	int		 n;
};

/* Parses line as one flat object into jp->v, its strings into scratch (len + 1 bytes);
 * 0, or -1 when the line is not one. */
int	 json_object(struct jparse *jp, const char *line, size_t len, char *scratch);
/* The member key of the parsed object, or NULL. */
const struct jval *json_get(const struct jparse *jp, const char *key);

/* ------------------------------------------------------------------ events.c */

#define LINE_MAX_BYTES	(64 * 1024)	/* a longer line is skipped (ours are < 4 KB) */

/* The events the diagram uses; every other event is left out when reading. */
enum kind {
	K_CONNECT, K_ESTABLISHED, K_FIN_SENT, K_FIN_RECEIVED, K_RESET, K_CLOSED,
	K_STATE_CHANGE, K_SEGMENT, K_HOLD_CLOSE, K_MESSAGE, K_ALERT, K_KEY_EXCHANGE,
	K_HANDSHAKE_DONE, K_CLOSE_NOTIFY, K_REQUEST, K_RESPONSE, K_LAST
};
/* in events.c, checked against K_LAST there (ladder_: the server has its own kind_names) */
extern const char *const ladder_kind_names[];

struct field {
	const char	*key;
	enum jtype	 type;
	const char	*s;
	int64_t		 i;
};

struct ev {
	enum side	 side;
	int		 file, run;	/* run: the program's n-th start in that file */
	int64_t		 conn;
	enum kind	 kind;
	int64_t		 ts;		/* ts_us; for a segment the capture's cap_ts_us */
	size_t		 order;		/* position in the input */
	int		 nf;
	struct field	*f;		/* allocated with the event, strings after it */
};

struct logset {
	struct ev	**ev;
	size_t		 n, cap;
	size_t		 order;
	const char	*name[2];
	size_t		 sides[2][2];	/* [file][side]: events seen */
};

/* What reading one file found, for the messages. */
struct readstat {
	size_t	lines, objects, malformed, toolong;
};

/* An event's field key: a string or NULL, a string or "", an integer or boolean (1 if
 * found), or whether it is the string value. */
const char *ev_str(const struct ev *e, const char *key);
const char *ev_s(const struct ev *e, const char *key);
int	 ev_int(const struct ev *e, const char *key, int64_t *out);
int	 ev_is(const struct ev *e, const char *key, const char *value);
/* Adds the events of the log at path ("-": standard input) as file 0 (the first log
 * named) or 1; -1 after an error message. */
int	 read_log(struct logset *ls, int file, const char *path, struct readstat *st);
/* The same from the open stream f, called name in the messages (ladder_svg(): fmemopen). */
int	 read_log_stream(struct logset *ls, int file, FILE *f, const char *name,
	    struct readstat *st);
void	 logset_free(struct logset *ls);

/* ------------------------------------------------------------------ model.c */

#define LABEL_MAX	192
#define STATE_MAX	24

/* The kinds of moves order.c makes to keep every effect below its cause (see there). */
enum fix_kind { FIX_ARRIVAL_SEG, FIX_ARRIVAL, FIX_SENT, FIX_CARRIED, FIX_STATE, FIX_CAUSED,
	FIX_LAST };

/* One TCP connection as one program saw it: its events in log order. */
struct conn {
	enum side	 side;
	int		 file, run;
	int64_t		 id;
	struct ev	**ev;
	size_t		 n;
	const char	*local, *remote;	/* from established (client: or connect) */
	int64_t		 est_ts;
	int		 paired;
};

enum cls { CL_TCP, CL_TLS, CL_HTTP, CL_ALERT, CL_CLOSE_NOTIFY, CL_NOTE };
enum span { SP_NONE, SP_START, SP_END };
/* What order.c did to one end of a row: MK_MOVED, the row is drawn away from where its time
 * (as logged) would put it; MK_RAISED, an arrival drawn at the time it left (logged earlier). */
enum mark { MK_NONE, MK_MOVED, MK_RAISED };

struct row {
	int		 arrow;		/* 1: an arrow from `side`; 0: a note on `side` */
	enum side	 side;
	enum cls	 cls;
	int64_t		 t[2];		/* time at the client's and the server's end, -1: none */
	int64_t		 t_log[2];	/* the same as logged (t[] differs where MK_RAISED) */
	enum mark	 mark[2];
	const struct ev	*e[2];		/* the record at each end (a note: e[side]) */
	char		 state[2][STATE_MAX];	/* kernel state at each end, "" if not known */
	char		 label[LABEL_MAX];
	char		 sub[LABEL_MAX];	/* a second, smaller line (SVG) */
	enum kind	 nk;		/* a note: the event it shows */
	enum span	 span;
	int64_t		 when;
	size_t		 order;
};

struct diagram {
	const struct conn *c[2];
	struct row	*rows;
	size_t		 n, cap;
	int64_t		 t0;		/* the origin of the times shown */
	int		 t0_shared;	/* t0 is HSLAB_T0, not the first event */
	int		 segs[2];	/* segment events logged by each side */
	int		 tls;		/* TLS messages seen */
	char		 proto[LABEL_MAX];	/* "TLSv1.3  TLS_AES_…  ECDHE X25519" */
	int		 skew;		/* an arrow arrived > 1 ms before it left: clocks differ */
	struct fix {			/* what order.c moved, by kind (enum fix_kind) */
		int	 n;
		int64_t	 max_us;	/* by how much, at most */
		char	 eg[LABEL_MAX];	/* the first one, in words */
	}		 fix[FIX_LAST];
	int		 has_isn[2];
	uint32_t	 isn[2];	/* x (client) and y (server) */
	int		 one_side;	/* the server's log alone (ladder_svg): no client log */
};

/* The events sorted into connections (ls->ev is reordered); their count in *nconn. */
struct conn *group_conns(struct logset *ls, size_t *nconn);
/* One diagram for each client connection found in the server's log too; their count in *nd
 * (0: the logs share no connection). */
struct diagram *pair_conns(struct conn *conns, size_t nconn, size_t *nd);
void	 free_diagrams(struct diagram *dd, size_t nd);
/* The diagram of the one server connection c alone (ladder_svg(): the server's own events):
 * peer, filled here, is the client's lane, with no events of its own; every arrow from the
 * client is drawn where the server read it. Times count from c's first event. */
void	 one_side_diagram(struct diagram *d, struct conn *peer, const struct conn *c);
/* A time as ms since the diagram's first event. */
double	 rel_ms(const struct diagram *d, int64_t t);
/* The words about what was not captured; NULL when both sides captured their segments. */
const char *capture_note(const struct diagram *d);

/* ------------------------------------------------------------------ order.c */

/* Puts the sorted rows of d in cause-and-effect order and counts what it moved in d->fix. */
void	 order_rows(struct diagram *d);
/* The sentence about the moves of kind k (its mark first), or NULL if there were none. */
const char *order_note(const struct diagram *d, enum fix_kind k, char *buf, size_t len);
/* The legend's words for '?' (an arrow's end with no time), or NULL when there is none. */
const char *order_unseen(const struct diagram *d);
/* The mark of a row's end as one character: "" , "*" or "^". */
const char *order_mark(enum mark m);

/* ------------------------------------------------------------------ render_text.c */

/* The n diagrams, one after the other; ascii: ASCII characters only (--ascii). */
void	 render_text(struct sbuf *out, const struct diagram *d, size_t n, int ascii);

/* ------------------------------------------------------------------ render_svg.c */

/* One SVG document holding the n diagrams, one below the other, and a legend. */
void	 render_svg(struct sbuf *out, const struct diagram *d, size_t n);

/* ------------------------------------------------------------------ render_mermaid.c */

/* One sequenceDiagram holding the n diagrams. */
void	 render_mermaid(struct sbuf *out, const struct diagram *dd, size_t n);

/* ------------------------------------------------------------------ options.c */

/* The ladder's flags' ids (-h/--help is common/flags.h's FLAGS_HELP). */
enum ladder_flag { F_TEXT = 1, F_ASCII, F_SVG, F_MERMAID, F_LANG };

/* --lang zh: the labels, notes and legend in Chinese (main.c or ladder_svg() sets it; it is
 * defined in lib.c). The ladder links no
 * evlog, so it has its own switch behind the same TR(en, zh) as the programs. */
extern int ladder_zh;
#define TR(en, zh) (ladder_zh ? (zh) : (en))

struct flags_prog;
/* The flag table, the words of --help and of man/ladder.1. */
extern const struct flags_prog ladder_flags;

/* ------------------------------------------------------------------ lib.c */

/* ladder_svg() (ladderlib.h): the server's entry, the server side of one connection from its
 * events in memory. */

/* ------------------------------------------------------------------ main.c */

/* The command line (read with the table of options.c), the checks on the two logs and the
 * choice of renderer; nothing in it is used by another file. */

#endif
