/* evlog.c -- the only writer of the event log: one record, two printers (text, JSON lines); the
 * text printer is common/evlog_text.c. */
#include <sys/stat.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "evlog.h"
#include "evlog_int.h"
#include "explain.h"
#include "seglog.h"
#include "tcpinfo.h"
#include "textwidth.h"


static const char *const layer_names[] = { "TCP", "TLS", "CERT", "HTTP", "APP" };
_Static_assert(sizeof(layer_names) / sizeof(layer_names[0]) == LAYER_LAST,
    "layer_names must match enum evlog_layer");

static const struct {
	const char	*name;
	enum evlog_layer layer;
} events[] = {
	{ "listen",		LAYER_TCP },
	{ "resolve",		LAYER_TCP },
	{ "connect",		LAYER_TCP },
	{ "established",	LAYER_TCP },
	{ "fin_sent",		LAYER_TCP },
	{ "fin_received",	LAYER_TCP },
	{ "reset",		LAYER_TCP },
	{ "closed",		LAYER_TCP },
	{ "state_change",	LAYER_TCP },
	{ "watch_end",		LAYER_TCP },
	{ "accept_wait",	LAYER_TCP },
	{ "segment",		LAYER_TCP },
	{ "hold_close",		LAYER_TCP },
	{ "pause_read",		LAYER_TCP },
	{ "handshake_start",	LAYER_TLS },
	{ "message",		LAYER_TLS },
	{ "alert",		LAYER_TLS },
	{ "key_exchange",	LAYER_TLS },
	{ "handshake_done",	LAYER_TLS },
	{ "close_notify",	LAYER_TLS },
	{ "tls_error",		LAYER_TLS },
	{ "keylog",		LAYER_TLS },
	{ "dissect",		LAYER_TLS },
	{ "alpn",		LAYER_TLS },
	{ "resume",		LAYER_TLS },
	{ "verify",		LAYER_CERT },
	{ "hostname",		LAYER_CERT },
	{ "trust_decision",	LAYER_CERT },
	{ "trust_question",	LAYER_CERT },
	{ "trust_retry",	LAYER_CERT },
	{ "request",		LAYER_HTTP },
	{ "response",		LAYER_HTTP },
	{ "body",		LAYER_HTTP },
	{ "http_error",		LAYER_HTTP },
	{ "start",		LAYER_APP },
	{ "phase",		LAYER_APP },
	{ "timing",		LAYER_APP },
	{ "summary",		LAYER_APP },
	{ "warning",		LAYER_APP },
	{ "error",		LAYER_APP },
	{ "stop",		LAYER_APP },
};
_Static_assert(sizeof(events) / sizeof(events[0]) == EVT_LAST,
    "the events table must match enum evlog_event");

static struct {
	enum evlog_side	 side;
	enum evlog_format format;
	int		 quiet;
	int		 color;
	int		 verbose;
	FILE		*out;
	int64_t		 start_us;	/* the origin of t_us (clock_origin_us()) */
	int		 started;	/* start_us is set */
	int		 explain;	/* --explain */
	int		 lang;		/* --lang: enum evlog_lang */
	struct event	*flush;		/* a file: one write per loop turn, not per record */
	int		 width;		/* the text log's terminal's columns; 0: not a terminal */
	int		 hinted;	/* the compact view's first line is out */
} lg = { EVLOG_CLIENT, EVLOG_TEXT, 0, 0, 0, NULL, 0, 0, 0, EVLOG_LANG_EN, NULL, 0, 0 };

/* The origin of every time the log prints, taken once: the program's start, or the shared
 * origin a script gave both programs (HSLAB_T0, see clock_origin_us()). */
static void
start_clock(void)
{
	if (!lg.started) {
		lg.start_us = clock_origin_us();
		lg.started = 1;
	}
}

/* color: 1 always, 0 never, -1 when the output is a terminal. */
void
evlog_init(enum evlog_side side, enum evlog_format format, int quiet, int color, FILE *out)
{
	lg.side = side;
	lg.format = format;
	lg.quiet = quiet;
	lg.out = out;
	if (color < 0)
		color = isatty(fileno(out)) && getenv("NO_COLOR") == NULL;
	lg.color = format == EVLOG_TEXT && color;
	lg.width = format == EVLOG_TEXT && out != NULL ? tw_columns(fileno(out)) : 0;
	start_clock();
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fflush(lg.out);
}

/* With the log going to a regular file, records are written in one batch per turn of the
 * event loop (a timer of 0 s: the next turn, microseconds later) instead of one write(2)
 * per record, the larger part of the full log's cost. A terminal or a pipe still gets one
 * write per record: two programs' lines never mix and a reader sees each event at once.
 * NULL: flush and stop (before the loop's base is freed). */
void
evlog_set_base(struct event_base *base)
{
	struct stat st;

	if (lg.flush != NULL) {
		event_free(lg.flush);
		lg.flush = NULL;
		if (lg.out != NULL)
			fflush(lg.out);
	}
	if (base == NULL || lg.quiet || lg.out == NULL || fstat(fileno(lg.out), &st) == -1 ||
	    !S_ISREG(st.st_mode))
		return;
	lg.flush = evtimer_new(base, flush_cb, NULL);
}

/* --log-format: EVLOG_TEXT or EVLOG_JSON, -1 if neither. */
int
evlog_parse_format(const char *s)
{
	if (strcmp(s, "text") == 0)
		return EVLOG_TEXT;
	if (strcmp(s, "json") == 0)
		return EVLOG_JSON;
	return -1;
}

/* --color: 1 always, 0 never, -1 auto (on a terminal), -2 if none of these. */
int
evlog_parse_color(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return -1;
	if (strcmp(s, "always") == 0)
		return 1;
	if (strcmp(s, "never") == 0)
		return 0;
	return -2;
}

/* --lang: EVLOG_LANG_EN or EVLOG_LANG_ZH, -1 if neither. */
int
evlog_parse_lang(const char *s)
{
	if (strcmp(s, "en") == 0)
		return EVLOG_LANG_EN;
	if (strcmp(s, "zh") == 0)
		return EVLOG_LANG_ZH;
	return -1;
}

void
evlog_set_explain(int explain, int lang)
{
	lg.explain = explain;
	lg.lang = lang;
}

/* The text log's width: wrap to cols columns (a terminal's), or 0: never wrap. */
void evlog_set_width(int cols) { lg.width = cols > 0 ? cols : 0; }
int evlog_on(void) { return !lg.quiet; }
int evlog_zh(void) { return lg.lang == EVLOG_LANG_ZH; }
int evlog_verbose(void) { return lg.verbose; }
void evlog_set_verbose(int v) { lg.verbose = v; }
int evlog_color(void) { return lg.color; }
enum evlog_side evlog_side(void) { return lg.side; }
int evlog_width(void) { return lg.width; }
int evlog_explain(void) { return lg.explain; }

int64_t
evlog_now_us(void)
{
	start_clock();
	return clock_mono_us() - lg.start_us;
}

const char *
evlog_event_name(enum evlog_event ev)
{
	return (unsigned)ev < EVT_LAST ? events[ev].name : "?";
}

enum evlog_layer
evlog_event_layer(enum evlog_event ev)
{
	return (unsigned)ev < EVT_LAST ? events[ev].layer : LAYER_APP;
}

const char *
evlog_layer_name(enum evlog_layer l)
{
	return (unsigned)l < LAYER_LAST ? layer_names[l] : "?";
}

/* The kernel states the log has shown on each fd (the tcp_state of its events), for the
 * connection that owns the fd now: what the program saw is evidence its close story uses (a
 * CLOSE_WAIT on a TLS message is the peer's FIN in, whatever comes after it). By fd, grown as
 * needed; a new connection on a reused fd starts afresh. */
static struct fd_seen {
	unsigned	 conn;
	unsigned	 states;	/* bit (1 << TCPI_*) per state seen */
} *seen;
static int nseen;

static void
note_seen(int fd, unsigned conn, int state)
{
	struct fd_seen *n;
	int want;

	if (fd < 0 || conn == 0 || state <= 0 || state > 15)
		return;
	if (fd >= nseen) {
		want = fd + 1 > 2 * nseen ? fd + 1 : 2 * nseen;
		if (want < 64)
			want = 64;
		if ((n = realloc(seen, (size_t)want * sizeof(*n))) == NULL)
			return;
		memset(n + nseen, 0, (size_t)(want - nseen) * sizeof(*n));
		seen = n;
		nseen = want;
	}
	if (seen[fd].conn != conn) {
		seen[fd].conn = conn;
		seen[fd].states = 0;
	}
	seen[fd].states |= 1u << state;
}

unsigned
evlog_states_seen(int fd, unsigned conn)
{
	if (fd < 0 || fd >= nseen || seen[fd].conn != conn)
		return 0;
	return seen[fd].states;
}

/* Returns 1 if the record is live, 0 if logging is off (then nothing else is formatted). */
int
evrec_begin(struct evrec *r, enum evlog_event ev, unsigned conn, int fd)
{
	struct timeval tv;

	r->off = lg.quiet || lg.out == NULL;
	if (r->off)
		return 0;
	r->ev = ev;
	r->conn = conn;
	r->t_us = evlog_now_us();
	gettimeofday(&tv, NULL);
	r->ts_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	r->tcp_state = NULL;
	r->has_rel = 0;
	if (fd >= 0) {
		struct tcp_info ti;

		if (tcpinfo_get(fd, &ti) == 0) {
			r->tcp_state = tcpinfo_state_name(ti.tcpi_state);
			note_seen(fd, conn, ti.tcpi_state);
			/* Relative numbers without privileges: bytes_acked = snd_una - ISN on the
			 * side that connected; the side that accepted starts one short (the ACK of
			 * its SYN+ACK is not counted), so the server adds it back. SYN and FIN
			 * count one each, as in the textbook. */
			/* Before the handshake is done there is no peer ISN to count from. */
			if (ti.tcpi_state != TCPI_LISTEN && ti.tcpi_state != TCPI_SYN_SENT &&
			    ti.tcpi_state != TCPI_SYN_RECV) {
				r->has_rel = 1;
				r->rel_seq = ti.tcpi_bytes_acked + (lg.side == EVLOG_SERVER ? 1 : 0);
				r->rel_ack = ti.tcpi_bytes_received + 1;
			}
		}
	}
	r->label = NULL;
	r->nfields = 0;
	r->used = 0;
	r->detail[0] = '\0';
	r->gloss[0] = '\0';
	r->note = NULL;
	r->note_tone = EVREC_NOTE_PLAIN;
	return 1;
}

static struct evlog_field *
add_field(struct evrec *r, const char *key, int type)
{
	struct evlog_field *f;

	if (r->off || r->nfields >= EVLOG_MAX_FIELDS)
		return NULL;
	f = &r->f[r->nfields++];
	f->key = key;
	f->type = type;
	f->s = NULL;
	f->i = 0;
	f->d = 0;
	return f;
}

/* Copy a string into the record's store; a value that does not fit is cut short. */
static const char *
store(struct evrec *r, const char *s, size_t n)
{
	char *p;
	size_t room = sizeof(r->store) - r->used;

	if (room == 0)
		return "";
	if (n >= room)
		n = room - 1;
	p = r->store + r->used;
	memcpy(p, s, n);
	p[n] = '\0';
	r->used += n + 1;
	return p;
}

/* An event that happened before it is logged: its time is t_us (evlog_now_us() taken then),
 * e.g. just before the system call that sent what the event describes, so the log never
 * shows a send after the moment it could be received. The wall-clock time moves with it. */
void
evrec_set_time(struct evrec *r, int64_t t_us)
{
	if (r->off || t_us <= 0 || t_us > r->t_us)
		return;
	r->ts_us -= r->t_us - t_us;
	r->t_us = t_us;
}

/* The kernel's state the event's words follow, read by the caller at the right moment (just
 * after the system call the event is about), instead of the one read when the record began. */
void
evrec_set_state(struct evrec *r, int state)
{
	const char *n;

	if (r->off || (n = tcpinfo_state_name(state)) == NULL)
		return;
	r->tcp_state = n;
}

void
evrec_str(struct evrec *r, const char *key, const char *val)
{
	struct evlog_field *f = add_field(r, key, F_STR);

	if (f != NULL)
		f->s = store(r, val ? val : "", val ? strlen(val) : 0);
}

void
evrec_strf(struct evrec *r, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (r->off)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	evrec_str(r, key, buf);
}

void
evrec_int(struct evrec *r, const char *key, long long val)
{
	struct evlog_field *f = add_field(r, key, F_INT);

	if (f != NULL)
		f->i = val;
}

void
evrec_bool(struct evrec *r, const char *key, int val)
{
	struct evlog_field *f = add_field(r, key, F_BOOL);

	if (f != NULL)
		f->i = val != 0;
}

void
evrec_float(struct evrec *r, const char *key, double val)
{
	struct evlog_field *f = add_field(r, key, F_FLOAT);

	if (f != NULL)
		f->d = val;
}

void
evrec_label(struct evrec *r, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	if (r->off)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->label = store(r, buf, strlen(buf));
}

void
evrec_detail(struct evrec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->off)
		return;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

void
evrec_gloss(struct evrec *r, const char *fmt, ...)
{
	va_list ap;

	if (r->off)
		return;
	va_start(ap, fmt);
	vsnprintf(r->gloss, sizeof(r->gloss), fmt, ap);
	va_end(ap);
}

static const struct evlog_field *
find_field(const struct evrec *r, const char *key)
{
	int i;

	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return &r->f[i];
	return NULL;
}

/* A string field's value, or NULL. */
const char *
evrec_field_str(const struct evrec *r, const char *key)
{
	const struct evlog_field *f = find_field(r, key);

	return f != NULL && f->type == F_STR ? f->s : NULL;
}

/* An integer or boolean field's value into *v: 0, or -1 if there is none. */
int
evrec_field_int(const struct evrec *r, const char *key, long long *v)
{
	const struct evlog_field *f = find_field(r, key);

	if (f == NULL || (f->type != F_INT && f->type != F_BOOL))
		return -1;
	*v = f->i;
	return 0;
}

/* --explain / --lang zh: what this record is in the textbook, if the printers need it. */
int
explained(const struct evrec *r, struct explain *x)
{
	if (!lg.explain && lg.lang != EVLOG_LANG_ZH)
		return 0;
	if (!explain_event(r, seglog_on(), x))
		return 0;
	if (lg.lang != EVLOG_LANG_ZH)
		x->step_zh = NULL;
	else if (x->why_zh != NULL)
		x->why = x->why_zh;	/* JSON's "explain" and the why line: in Chinese */
	if (!lg.explain)
		x->why = NULL;
	return 1;
}

/* A second text line under the event (the JSON form carries the same facts as fields). */
void
evrec_note(struct evrec *r, int tone, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (r->off)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r->note = store(r, buf, strlen(buf));
	r->note_tone = tone;
}

void
put(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->len == 0)
		return;
	room = o->len - 1 - o->pos;
	if (n > room)
		n = room;
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

void
putf(struct out *o, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Length of a strictly valid UTF-8 sequence at p (2-4), or 0 (RFC 3629): no overlong form, no
 * surrogate (U+D800-DFFF), nothing above U+10FFFF, nothing cut short by the string's NUL. The
 * second byte's range decides the first three (Table 3-7 of the Unicode standard). */
int
evlog_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* below: an overlong form of U+0000-07FF */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* above: a surrogate */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* below: an overlong form of U+0000-FFFF */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* above: beyond U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

int
evlog_shown_escaped(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
put_json_string(struct out *o, const char *s)
{
	const unsigned char *p;
	int n;

	put(o, "\"", 1);
	for (p = (const unsigned char *)s; *p; p++) {
		/* Valid UTF-8 (a certificate's O=, a name) passes as it is, but for the C1
		 * controls (U+0080..U+009F: U+009B is a CSI to some terminals) and the
		 * bidirectional controls, written \uXXXX: the JSON log goes to a terminal too. */
		if (*p >= 0x80 && (n = evlog_utf8_len(p)) > 0) {
			unsigned cp = n == 2 ? (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f) :
			    n == 3 ? (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 |
			    (p[2] & 0x3f) : 0;

			if (evlog_shown_escaped(cp))
				putf(o, "\\u%04x", cp);
			else
				put(o, (const char *)p, (size_t)n);
			p += n - 1;
			continue;
		}
		switch (*p) {
		case '"':  puts_(o, "\\\""); break;
		case '\\': puts_(o, "\\\\"); break;
		case '\n': puts_(o, "\\n"); break;
		case '\r': puts_(o, "\\r"); break;
		case '\t': puts_(o, "\\t"); break;
		default:
			/* Control bytes and bytes that are not UTF-8 we produce are escaped, so every
			 * line stays valid JSON whatever a peer sent. */
			if (*p < 0x20 || *p >= 0x7f)
				putf(o, "\\u%04x", *p);
			else
				put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

static size_t format_json(const struct evrec *, char *, size_t, int lean);

size_t
evrec_format_json(const struct evrec *r, char *buf, size_t len)
{
	return format_json(r, buf, len, 0);
}

size_t
evrec_format_facts(const struct evrec *r, char *buf, size_t len)
{
	return format_json(r, buf, len, 1);
}

static size_t
format_json(const struct evrec *r, char *buf, size_t len, int lean)
{
	struct out o = { buf, len, 0 };
	const struct evlog_field *f;
	struct explain x;
	int i;

	if (len > 0)
		buf[0] = '\0';
	putf(&o, "{\"t_ms\":%.3f,\"ts_us\":%lld,\"side\":\"%s\",\"conn\":%u,\"layer\":\"%s\","
	    "\"event\":\"%s\"", (double)r->t_us / 1000.0, (long long)r->ts_us,
	    lg.side == EVLOG_SERVER ? "server" : "client", r->conn,
	    layer_names[events[r->ev].layer], events[r->ev].name);
	if (r->tcp_state != NULL)
		putf(&o, ",\"tcp_state\":\"%s\"", r->tcp_state);
	if (r->has_rel)
		putf(&o, ",\"rel_seq\":%llu,\"rel_ack\":%llu", (unsigned long long)r->rel_seq,
		    (unsigned long long)r->rel_ack);
	for (i = 0; i < r->nfields; i++) {
		f = &r->f[i];
		put(&o, ",", 1);
		put_json_string(&o, f->key);
		put(&o, ":", 1);
		switch (f->type) {
		case F_STR:	put_json_string(&o, f->s); break;
		case F_INT:	putf(&o, "%lld", f->i); break;
		case F_BOOL:	puts_(&o, f->i ? "true" : "false"); break;
		default:	putf(&o, "%.3f", f->d); break;
		}
	}
	if (r->detail[0]) {
		puts_(&o, ",\"detail\":");
		put_json_string(&o, r->detail);
	}
	if (r->gloss[0] && !lean) {
		puts_(&o, ",\"gloss\":");
		put_json_string(&o, r->gloss);
	}
	if (!lean && explained(r, &x)) {
		if (x.why != NULL && x.step_en != NULL) {
			puts_(&o, ",\"explain_step\":");
			put_json_string(&o, x.step_en);
		}
		if (x.why != NULL) {
			puts_(&o, ",\"explain\":");
			put_json_string(&o, x.why);
		}
		if (x.step_zh != NULL) {
			puts_(&o, ",\"step_zh\":");
			put_json_string(&o, x.step_zh);
		}
	}
	puts_(&o, "}\n");
	return o.pos;
}

/* A text log's records also as JSON lines in the file HSLAB_JSON_COPY names (opened once,
 * written when the text is): the facts the text line leaves out, e.g. a captured segment's
 * own stamp (cap_ts_us), for a script that merges both sides' text logs (make demo, which
 * places a segment at its capture's time: scripts/mergelog.py --stamps). */
static void
json_copy(const struct evrec *r)
{
	static FILE *copy;
	static int opened;
	static char line[65536];
	const char *path;
	size_t n;

	if (!opened) {
		opened = 1;
		if ((path = getenv("HSLAB_JSON_COPY")) != NULL && *path != '\0')
			copy = fopen(path, "w");
	}
	if (copy == NULL)
		return;
	n = evrec_format_json(r, line, sizeof(line));
	fwrite(line, 1, n, copy);
	fflush(copy);
}

/* The one listener besides the output (the server's per-connection record and /live). */
static evlog_tap_fn tap;

void
evlog_set_tap(evlog_tap_fn fn)
{
	tap = fn;
}

void
evrec_emit(struct evrec *r)
{
	/* Large enough for a full record with every byte escaped (\u00XX), so a JSON line is
	 * never cut; static: records are emitted one at a time. */
	static char line[65536];
	size_t n;
	int w;

	if (r->off)
		return;
	if (tap != NULL)
		tap(r);
	if (lg.format == EVLOG_TEXT)
		json_copy(r);
	if (r->ev == EVT_PHASE && lg.format == EVLOG_TEXT && !lg.verbose)
		return;
	if (lg.format == EVLOG_JSON)
		n = evrec_format_json(r, line, sizeof(line));
	else {
		/* A terminal's width as it is now: a window made narrower is followed. */
		if (lg.width > 0 && (w = tw_columns(fileno(lg.out))) > 0)
			lg.width = w;
		if (compact() && !lg.hinted) {
			/* Once, before the first line: where the whole text is. */
			lg.hinted = 1;
			tw_cut(line, sizeof(line) - 16, TR("compact view: --explain for every "
			    "detail and why; piped output keeps whole lines", "简洁视图：--explain "
			    "显示全部细节和原因；管道或文件输出保留完整的行"), lg.width, 1);
			fprintf(lg.out, "%s%s%s\n", lg.color ? C_DIM : "", line, lg.color ? C_RESET : "");
		}
		n = evrec_format_text(r, line, sizeof(line), lg.color);
	}
	/* One write per record, so the lines of two programs sharing a terminal never mix
	 * (to a file: one per loop turn, see evlog_set_base). */
	fwrite(line, 1, n, lg.out);
	if (lg.flush != NULL) {
		struct timeval now = { 0, 0 };

		if (!evtimer_pending(lg.flush, NULL))
			evtimer_add(lg.flush, &now);
	} else
		fflush(lg.out);
}

void
evlog(enum evlog_event ev, unsigned conn, int fd, const char *fmt, ...)
{
	struct evrec r;
	va_list ap;

	if (!evrec_begin(&r, ev, conn, fd))
		return;
	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof(r.detail), fmt, ap);
	va_end(ap);
	evrec_emit(&r);
}
