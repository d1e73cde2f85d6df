/* ladder.c -- draws the ladder (sequence) diagram of one run from the client's and the server's
 * JSON-lines logs: client on the left, server on the right, time going down, one arrow per
 * message that really went across. Text (Unicode or ASCII), SVG or Mermaid; libc only. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ limits */

#define LINE_MAX_BYTES	(64 * 1024)	/* a longer line is skipped (ours are < 4 KB) */
#define FIELDS_MAX	128		/* members of one JSON object */
#define NUMBER_MAX	64		/* characters of one JSON number */
#define EVENTS_MAX	(4u * 1024 * 1024)	/* events kept from both logs */
#define TS_MAX		((int64_t)1 << 52)	/* µs since 1970: far beyond year 2100 */
#define LABEL_MAX	192
#define STATE_MAX	24

enum side { CLIENT, SERVER };
static const char *const side_names[] = { "client", "server" };

enum fmt { FMT_TEXT, FMT_ASCII, FMT_SVG, FMT_MERMAID };

/* ------------------------------------------------------------------ growing strings */

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
die_oom(void)
{
	fputs("ladder: out of memory\n", stderr);
	exit(1);
}

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (n >= SIZE_MAX / 2 - b->len)
		die_oom();
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			die_oom();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_put(struct sbuf *, const char *);
static void sb_printf(struct sbuf *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
sb_put(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
sb_rep(struct sbuf *b, const char *s, int n)
{
	while (n-- > 0)
		sb_put(b, s);
}

static void utf8_trim(char *);

/* snprintf into a fixed buffer; a longer text is cut (labels are truncated later anyway). */
static void bprintf(char *, size_t, const char *, ...) __attribute__((format(printf, 3, 4)));

static void
bprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= len)
		utf8_trim(buf);
}

/* ------------------------------------------------------------------ UTF-8 */

/* One strictly valid UTF-8 sequence at p: its length, 0 if invalid (overlong, surrogate,
 * beyond U+10FFFF, cut short). */
static int
utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	uint32_t c;
	int n, i;

	if (p >= end)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (end - p < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Writes a code point that is safe in every output: on a terminal, in XML 1.0, in Mermaid.
 * Control characters, C1 controls, bidirectional overrides and noncharacters become '?',
 * tab and line breaks (also U+2028/U+2029) a space. Never writes more than 4 bytes. */
static char *
utf8_put(char *o, uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029)
		cp = ' ';
	if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
	    (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
		cp = '?';
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* Display width of a valid UTF-8 string: one column per code point. */
static int
u_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* Drops a UTF-8 sequence cut short at the end of s (snprintf cuts bytes, not characters). */
static void
utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && n - i < 3)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* Cuts s (valid UTF-8, in a buffer of size bytes) to at most max columns, ending with ell
 * ("…" or "...") if it was cut. */
static void
u_fit(char *s, size_t size, int max, const char *ell)
{
	int ew = u_width(ell), w = 0;
	size_t el = strlen(ell), cut = 0, i;

	if (u_width(s) <= max)
		return;
	if (max < ew) {
		s[0] = '\0';
		return;
	}
	/* the byte offset of code point number max - ew */
	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (w == max - ew)
			break;
		w++;
	}
	cut = i;
	/* the ellipsis can be longer in bytes than what it replaces: step back */
	while (cut > 0 && cut + el + 1 > size) {
		cut--;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	if (cut + el + 1 > size) {
		s[0] = '\0';
		return;
	}
	memcpy(s + cut, ell, el + 1);
}

/* ------------------------------------------------------------------ the JSON reader */

/* A flat JSON object of strings, numbers, booleans and null: exactly what the two programs
 * write. Anything else (nesting, trailing bytes, bad escapes, raw control characters,
 * numbers outside the grammar) rejects the whole line. Decoded strings are sanitised with
 * utf8_put() and never longer than their JSON form, so they fit in a copy of the line. */

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

static void
json_ws(struct jparse *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
	    *jp->p == '\r'))
		jp->p++;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
	int i;

	if (end - p < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			c = c - 'A' + 10;
		else
			return -1;
		*v = (*v << 4) | c;
	}
	return 0;
}

static int
json_string(struct jparse *jp, const char **res)
{
	const unsigned char *p = (const unsigned char *)jp->p;
	const unsigned char *end = (const unsigned char *)jp->end;
	char *o = jp->o;

	if (p >= end || *p != '"')
		return -1;
	p++;
	*res = o;
	for (;;) {
		uint32_t cp, lo;
		int n;

		if (p >= end || jp->oend - o < 5)
			return -1;
		if (*p == '"') {
			p++;
			break;
		}
		if (*p < 0x20)
			return -1;	/* raw control characters are not allowed in JSON */
		if (*p != '\\') {
			if ((n = utf8_decode(p, end, &cp)) == 0) {
				*o++ = '?';	/* not UTF-8: keep the line, mark the byte */
				p++;
			} else {
				o = utf8_put(o, cp);
				p += n;
			}
			continue;
		}
		if (end - p < 2)
			return -1;
		switch (p[1]) {
		case '"':  cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/':  cp = '/'; break;
		case 'b':  cp = '\b'; break;
		case 'f':  cp = '\f'; break;
		case 'n':  cp = '\n'; break;
		case 'r':  cp = '\r'; break;
		case 't':  cp = '\t'; break;
		case 'u':
			if (hex4(p + 2, end, &cp) < 0)
				return -1;
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 8 && p[2] == '\\' &&
			    p[3] == 'u' && hex4(p + 4, end, &lo) == 0 && lo >= 0xDC00 &&
			    lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				cp = '?';	/* a lone surrogate */
			}
			break;
		default:
			return -1;
		}
		p += 2;
		o = utf8_put(o, cp);
	}
	*o++ = '\0';
	jp->o = o;
	jp->p = (const char *)p;
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
json_number(struct jparse *jp, struct jval *v)
{
	const char *s = jp->p, *p = s, *end = jp->end;
	char buf[NUMBER_MAX + 1];
	int isint = 1, neg = 0;
	uint64_t u = 0;
	size_t n, k;
	double d;

	if (p < end && *p == '-')
		p++, neg = 1;
	if (p >= end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		isint = 0;
		if (++p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		isint = 0;
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	n = (size_t)(p - s);
	if (n > NUMBER_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	d = strtod(buf, NULL);
	if (!(d == d) || d > 1.7e308 || d < -1.7e308)
		return -1;	/* NaN cannot come from the grammar; infinity (1e999) can */
	v->d = d;
	v->type = J_NUM;
	if (isint) {
		for (k = (size_t)neg; k < n; k++) {
			unsigned digit = (unsigned)(buf[k] - '0');

			if (u > (UINT64_MAX - digit) / 10)
				break;
			u = u * 10 + digit;
		}
		/* within int64 on both signs (the magnitude of INT64_MIN is left out) */
		if (k == n && u <= (uint64_t)INT64_MAX) {
			v->type = J_INT;
			v->i = neg ? -(int64_t)u : (int64_t)u;
		}
	}
	jp->p = p;
	return 0;
}

static int
json_literal(struct jparse *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return -1;
	jp->p += n;
	return 0;
}

/* Parses one line as a flat object into jp->v; scratch must hold len + 1 bytes. */
static int
json_object(struct jparse *jp, const char *line, size_t len, char *scratch)
{
	jp->p = line;
	jp->end = line + len;
	jp->o = scratch;
	jp->oend = scratch + len + 1;
	jp->n = 0;
	json_ws(jp);
	if (jp->p >= jp->end || *jp->p != '{')
		return -1;
	jp->p++;
	json_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp->p++;
		goto done;
	}
	for (;;) {
		struct jval *v;

		if (jp->n >= FIELDS_MAX)
			return -1;
		v = &jp->v[jp->n];
		memset(v, 0, sizeof(*v));
		if (json_string(jp, &v->key) < 0)
			return -1;
		json_ws(jp);
		if (jp->p >= jp->end || *jp->p != ':')
			return -1;
		jp->p++;
		json_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		switch (*jp->p) {
		case '"':
			v->type = J_STR;
			if (json_string(jp, &v->s) < 0)
				return -1;
			break;
		case 't':
		case 'f':
			v->type = J_BOOL;
			v->i = *jp->p == 't';
			if (json_literal(jp, v->i ? "true" : "false") < 0)
				return -1;
			break;
		case 'n':
			v->type = J_NULL;
			if (json_literal(jp, "null") < 0)
				return -1;
			break;
		default:	/* objects and arrays are not ours: reject */
			if (json_number(jp, v) < 0)
				return -1;
			break;
		}
		jp->n++;
		json_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		if (*jp->p == '}') {
			jp->p++;
			break;
		}
		if (*jp->p != ',')
			return -1;
		jp->p++;
		json_ws(jp);
	}
done:
	json_ws(jp);
	return jp->p == jp->end ? 0 : -1;
}

static const struct jval *
json_get(const struct jparse *jp, const char *key)
{
	int i;

	for (i = 0; i < jp->n; i++)
		if (strcmp(jp->v[i].key, key) == 0)
			return &jp->v[i];
	return NULL;
}

/* ------------------------------------------------------------------ events */

/* The events the diagram uses; every other event is left out when reading. */
enum kind {
	K_CONNECT, K_ESTABLISHED, K_FIN_SENT, K_FIN_RECEIVED, K_RESET, K_CLOSED,
	K_STATE_CHANGE, K_SEGMENT, K_HOLD_CLOSE, K_MESSAGE, K_ALERT, K_KEY_EXCHANGE,
	K_HANDSHAKE_DONE, K_CLOSE_NOTIFY, K_REQUEST, K_RESPONSE, K_LAST
};
static const char *const kind_names[] = {
	"connect", "established", "fin_sent", "fin_received", "reset", "closed",
	"state_change", "segment", "hold_close", "message", "alert", "key_exchange",
	"handshake_done", "close_notify", "request", "response",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == K_LAST,
    "kind_names must match enum kind");

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

static const struct field *
ev_field(const struct ev *e, const char *key)
{
	int i;

	for (i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].key, key) == 0)
			return &e->f[i];
	return NULL;
}

/* The string field key, or NULL. */
static const char *
ev_str(const struct ev *e, const char *key)
{
	const struct field *f = ev_field(e, key);

	return f != NULL && f->type == J_STR ? f->s : NULL;
}

/* The string field key, or "" . */
static const char *
ev_s(const struct ev *e, const char *key)
{
	const char *s = ev_str(e, key);

	return s != NULL ? s : "";
}

static int
ev_int(const struct ev *e, const char *key, int64_t *out)
{
	const struct field *f = ev_field(e, key);

	if (f == NULL || (f->type != J_INT && f->type != J_BOOL))
		return 0;
	*out = f->i;
	return 1;
}

static int
ev_is(const struct ev *e, const char *key, const char *value)
{
	const char *s = ev_str(e, key);

	return s != NULL && strcmp(s, value) == 0;
}

/* Fields that are not kept: the common ones are in struct ev, the words are for people. */
static int
skip_field(const char *key)
{
	static const char *const skip[] = { "detail", "gloss", "t_ms", "ts_us", "side",
	    "conn", "layer", "event", "explanation", "advice", "openssl" };
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(key, skip[i]) == 0)
			return 1;
	return 0;
}

/* One allocation: the event, its fields, then their strings. */
static struct ev *
ev_new(const struct jparse *jp)
{
	size_t size = sizeof(struct ev), off;
	struct ev *e;
	char *s;
	int i, nf = 0;

	for (i = 0; i < jp->n; i++) {
		if (skip_field(jp->v[i].key))
			continue;
		size += sizeof(struct field) + strlen(jp->v[i].key) + 1;
		if (jp->v[i].type == J_STR)
			size += strlen(jp->v[i].s) + 1;
		nf++;
	}
	if ((e = calloc(1, size)) == NULL)
		die_oom();
	e->f = (struct field *)(e + 1);
	off = sizeof(struct ev) + (size_t)nf * sizeof(struct field);
	s = (char *)e + off;
	for (i = 0; i < jp->n; i++) {
		const struct jval *v = &jp->v[i];
		struct field *f;
		size_t n;

		if (skip_field(v->key))
			continue;
		f = &e->f[e->nf++];
		n = strlen(v->key) + 1;
		memcpy(s, v->key, n);
		f->key = s;
		s += n;
		f->type = v->type;
		f->i = v->i;
		if (v->type == J_STR) {
			n = strlen(v->s) + 1;
			memcpy(s, v->s, n);
			f->s = s;
			s += n;
		}
	}
	return e;
}

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

/* Reads one line (without its '\n') into buf; a line longer than cap - 1 bytes, or one
 * with a NUL byte, is read to its end and flagged. Returns 0 at the end of the file. */
static int
read_line(FILE *f, char *buf, size_t cap, size_t *len, int *bad)
{
	size_t n = 0;
	int c, any = 0;

	*bad = 0;
	while ((c = getc(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (c == '\0')
			*bad = 1;
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			*bad = 1;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return any;
}

static int
kind_of(const char *name)
{
	int k;

	for (k = 0; k < K_LAST; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

/* Keeps the events of one log that the diagram uses. */
static int
read_stream(struct logset *ls, int file, FILE *f, const char *path, struct readstat *st)
{
	static char line[LINE_MAX_BYTES], scratch[LINE_MAX_BYTES + 1];
	static struct jparse jp;
	double last_tms[2] = { -1, -1 };
	int run[2] = { 0, 0 };
	size_t len;
	int bad;

	memset(st, 0, sizeof(*st));
	ls->name[file] = path;
	while (read_line(f, line, sizeof(line), &len, &bad)) {
		const struct jval *side, *conn, *event, *ts, *tms, *cap;
		const char *p = line;
		struct ev *e;
		int s, k;

		st->lines++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '{')
			continue;	/* not a JSON object: a plain message, skipped */
		if (bad) {
			st->toolong++;
			continue;
		}
		if (json_object(&jp, line, len, scratch) < 0) {
			st->malformed++;
			continue;
		}
		st->objects++;
		side = json_get(&jp, "side");
		conn = json_get(&jp, "conn");
		event = json_get(&jp, "event");
		ts = json_get(&jp, "ts_us");
		if (side == NULL || side->type != J_STR || event == NULL || event->type != J_STR ||
		    conn == NULL || conn->type != J_INT || ts == NULL || ts->type != J_INT ||
		    ts->i < 0 || ts->i > TS_MAX)
			continue;	/* JSON, but not one of our records */
		if (strcmp(side->s, "client") == 0)
			s = CLIENT;
		else if (strcmp(side->s, "server") == 0)
			s = SERVER;
		else
			continue;
		ls->sides[file][s]++;
		/* t_ms counts from the program's start: when it goes back, the file holds the
		 * next run of the program, whose connection numbers start again at 1 */
		if ((tms = json_get(&jp, "t_ms")) != NULL &&
		    (tms->type == J_INT || tms->type == J_NUM)) {
			if (tms->d < last_tms[s])
				run[s]++;
			last_tms[s] = tms->d;
		}
		if (conn->i <= 0 || (k = kind_of(event->s)) < 0)
			continue;
		if (ls->n >= EVENTS_MAX) {
			fprintf(stderr, "ladder: more than %u events: the logs are too big\n",
			    EVENTS_MAX);
			return -1;
		}
		e = ev_new(&jp);
		e->side = (enum side)s;
		e->file = file;
		e->run = run[s];
		e->conn = conn->i;
		e->kind = (enum kind)k;
		e->ts = ts->i;
		/* a segment is logged when the program next looks; the capture's own time says
		 * when it was on the wire */
		if (k == K_SEGMENT && (cap = json_get(&jp, "cap_ts_us")) != NULL &&
		    cap->type == J_INT && cap->i >= 0 && cap->i <= TS_MAX)
			e->ts = cap->i;
		e->order = ls->order++;
		if (ls->n == ls->cap) {
			size_t ncap = ls->cap ? ls->cap * 2 : 1024;
			struct ev **nev = realloc(ls->ev, ncap * sizeof(*nev));

			if (nev == NULL)
				die_oom();
			ls->ev = nev;
			ls->cap = ncap;
		}
		ls->ev[ls->n++] = e;
	}
	if (ferror(f)) {
		fprintf(stderr, "ladder: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
read_log(struct logset *ls, int file, const char *path, struct readstat *st)
{
	FILE *f;
	int ret;

	if (strcmp(path, "-") == 0)
		return read_stream(ls, file, stdin, "standard input", st);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ladder: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = read_stream(ls, file, f, path, st);
	fclose(f);
	return ret;
}

/* ------------------------------------------------------------------ connections */

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

static int
cmp_conn_order(const void *a, const void *b)
{
	const struct ev *x = *(const struct ev *const *)a, *y = *(const struct ev *const *)b;

	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	if (x->conn != y->conn)
		return x->conn < y->conn ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct conn *
group_conns(struct logset *ls, size_t *nconn)
{
	struct conn *c = NULL;
	size_t i, n = 0, cap = 0;

	if (ls->n > 1)
		qsort(ls->ev, ls->n, sizeof(*ls->ev), cmp_conn_order);
	for (i = 0; i < ls->n; i++) {
		struct ev *e = ls->ev[i];
		struct conn *g;

		if (n == 0 || c[n - 1].side != e->side || c[n - 1].file != e->file ||
		    c[n - 1].run != e->run || c[n - 1].id != e->conn) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct conn *nc = realloc(c, ncap * sizeof(*nc));

				if (nc == NULL)
					die_oom();
				c = nc;
				cap = ncap;
			}
			g = &c[n++];
			memset(g, 0, sizeof(*g));
			g->side = e->side;
			g->file = e->file;
			g->run = e->run;
			g->id = e->conn;
			g->ev = &ls->ev[i];
		}
		g = &c[n - 1];
		g->n++;
		if (g->local == NULL && (e->kind == K_ESTABLISHED ||
		    (e->kind == K_CONNECT && e->side == CLIENT)) &&
		    ev_str(e, "local") != NULL && ev_str(e, "remote") != NULL) {
			g->local = ev_str(e, "local");
			g->remote = ev_str(e, "remote");
			g->est_ts = e->ts;
		}
	}
	*nconn = n;
	return c;
}

/* ------------------------------------------------------------------ the diagram */

enum cls { CL_TCP, CL_TLS, CL_HTTP, CL_ALERT, CL_CLOSE_NOTIFY, CL_NOTE };
enum span { SP_NONE, SP_START, SP_END };

struct row {
	int		 arrow;		/* 1: an arrow from `side`; 0: a note on `side` */
	enum side	 side;
	enum cls	 cls;
	int64_t		 t[2];		/* time at the client's and the server's end, -1: none */
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
	int64_t		 t0;
	int		 segs[2];	/* segment events logged by each side */
	int		 tls;		/* TLS messages seen */
	char		 proto[LABEL_MAX];	/* "TLSv1.3  TLS_AES_…  ECDHE X25519" */
	int		 skew;		/* an arrow arrived > 1 ms before it left: clocks differ */
	int		 has_isn[2];
	uint32_t	 isn[2];	/* x (client) and y (server) */
};

static struct row *
row_new(struct diagram *d)
{
	struct row *r;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct row *nr = realloc(d->rows, ncap * sizeof(*nr));

		if (nr == NULL)
			die_oom();
		d->rows = nr;
		d->cap = ncap;
	}
	r = &d->rows[d->n++];
	memset(r, 0, sizeof(*r));
	r->t[0] = r->t[1] = -1;
	return r;
}

static void
copy_state(char *dst, const char *s)
{
	bprintf(dst, STATE_MAX, "%s", s != NULL ? s : "");
}

/* seq/ack relative to an ISN, the textbook's way: x, x+1, y+899; absolute when unknown. */
static void
rel_num(const struct diagram *d, int who, int64_t v, char *buf, size_t len)
{
	uint32_t off;

	if (!d->has_isn[who] || v < 0 || v > UINT32_MAX) {
		bprintf(buf, len, "%" PRId64, v);
		return;
	}
	off = (uint32_t)v - d->isn[who];
	if (off == 0)
		bprintf(buf, len, "%c", who == CLIENT ? 'x' : 'y');
	else
		bprintf(buf, len, "%c+%" PRIu32, who == CLIENT ? 'x' : 'y', off);
}

static const char *
step_words(const char *step)
{
	static const struct { const char *step, *words; } steps[] = {
		{ "syn", "1st handshake" }, { "syn_ack", "2nd handshake" },
		{ "ack_handshake", "3rd handshake" }, { "fin1", "1st wave" },
		{ "ack_fin1", "2nd wave" }, { "fin2", "3rd wave" },
		{ "fin2_ack", "2nd+3rd wave" }, { "ack_fin2", "4th wave" },
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(step, steps[i].step) == 0)
			return steps[i].words;
	return NULL;
}

static void
segment_label(const struct diagram *d, struct row *r, const struct ev *e, enum side origin)
{
	const char *flags = ev_s(e, "flags"), *step = ev_s(e, "step"), *name, *words;
	int64_t seq = -1, ack = -1, len = 0;
	char s[32], a[32], l[32] = "";
	int has_ack = strstr(flags, "ACK") != NULL;

	ev_int(e, "seq", &seq);
	ev_int(e, "ack", &ack);
	ev_int(e, "len", &len);
	if (strstr(flags, "RST"))
		name = "RST";
	else if (strstr(flags, "SYN"))
		name = has_ack ? "SYN+ACK" : "SYN";
	else if (strstr(flags, "FIN"))
		name = strcmp(step, "fin2_ack") == 0 ? "FIN+ACK" : "FIN";
	else if (len > 0)
		name = "data";
	else if (has_ack)
		name = "ACK";
	else
		name = flags[0] ? flags : "segment";
	rel_num(d, origin, seq, s, sizeof(s));
	rel_num(d, !origin, ack, a, sizeof(a));
	if (len > 0)
		bprintf(l, sizeof(l), " len=%" PRId64, len);
	words = step_words(step);
	if (!has_ack || ack == 0)
		bprintf(r->label, sizeof(r->label), "%s seq=%s%s%s%s", name, s, l,
		    words ? " · " : "", words ? words : "");
	else
		bprintf(r->label, sizeof(r->label), "%s seq=%s ack=%s%s%s%s", name, s, a, l,
		    words ? " · " : "", words ? words : "");
	if (strcmp(step, "syn") == 0 || strcmp(step, "syn_ack") == 0)
		bprintf(r->sub, sizeof(r->sub), "flags %s, %c = %" PRId64, flags,
		    strcmp(step, "syn") == 0 ? 'x' : 'y', seq);
	else
		bprintf(r->sub, sizeof(r->sub), "flags %s, seq %" PRId64 ", ack %" PRId64,
		    flags, seq, ack);
}

static void
arrow_label(const struct diagram *d, struct row *r, const struct ev *snd, const struct ev *rcv,
    enum side origin)
{
	const struct ev *e = snd != NULL ? snd : rcv;
	int64_t v, code;

	switch (e->kind) {
	case K_MESSAGE:
		r->cls = CL_TLS;
		if (ev_int(e, "len", &v))
			bprintf(r->label, sizeof(r->label), "%s %" PRId64 " B", ev_s(e, "type"), v);
		else
			bprintf(r->label, sizeof(r->label), "%s", ev_s(e, "type"));
		bprintf(r->sub, sizeof(r->sub), "%s", ev_s(e, "summary"));
		break;
	case K_ALERT:
		r->cls = CL_ALERT;
		if (ev_int(e, "code", &code))
			bprintf(r->label, sizeof(r->label), "alert %s %s (%" PRId64 ")",
			    ev_s(e, "level"), ev_s(e, "desc"), code);
		else
			bprintf(r->label, sizeof(r->label), "alert %s %s", ev_s(e, "level"),
			    ev_s(e, "desc"));
		break;
	case K_CLOSE_NOTIFY:
		r->cls = CL_CLOSE_NOTIFY;
		bprintf(r->label, sizeof(r->label), "close_notify");
		bprintf(r->sub, sizeof(r->sub), "TLS alert 0: no more data from the %s",
		    side_names[origin]);
		break;
	case K_REQUEST:
		r->cls = CL_HTTP;
		bprintf(r->label, sizeof(r->label), "%s %s", ev_s(e, "method"), ev_s(e, "target"));
		if (ev_str(e, "host") != NULL)
			bprintf(r->sub, sizeof(r->sub), "Host: %s", ev_s(e, "host"));
		break;
	case K_RESPONSE: {
		/* the reason phrase is in the client's record */
		const struct ev *c = rcv != NULL && rcv->side == CLIENT ? rcv : e;

		r->cls = CL_HTTP;
		if (!ev_int(e, "status", &v))
			v = 0;
		bprintf(r->label, sizeof(r->label), "%" PRId64 "%s%s", v,
		    ev_str(c, "reason") ? " " : "", ev_s(c, "reason"));
		if (ev_int(e, "length", &v) && v >= 0)
			bprintf(r->sub, sizeof(r->sub), "Content-Length: %" PRId64, v);
		break;
	}
	case K_SEGMENT:
		r->cls = CL_TCP;
		segment_label(d, r, e, origin);
		break;
	default:
		break;
	}
}

/* One record that is half of an arrow: which side sent it and how to pair it. */
struct cand {
	const struct ev	*e;
	enum side	 origin;
	int		 sender;	/* 1: the sender's own record */
	char		 key[96];
};

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c;

	if (x->origin != y->origin)
		return x->origin < y->origin ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	if (x->sender != y->sender)
		return x->sender ? -1 : 1;
	return x->e->order < y->e->order ? -1 : x->e->order > y->e->order;
}

/* Fills c if e is half of an arrow. dir "out" on one side is the arrow's origin. */
static int
make_cand(const struct ev *e, struct cand *c)
{
	const char *dir = ev_s(e, "dir");
	int64_t seq = -1, ack = -1, len = -1;

	c->e = e;
	switch (e->kind) {
	case K_MESSAGE:
	case K_ALERT:
	case K_CLOSE_NOTIFY:
	case K_SEGMENT:
		if (strcmp(dir, "out") == 0)
			c->origin = e->side;
		else if (strcmp(dir, "in") == 0)
			c->origin = (enum side)!e->side;
		else
			return 0;
		break;
	case K_REQUEST:
		c->origin = CLIENT;
		break;
	case K_RESPONSE:
		c->origin = SERVER;
		break;
	default:
		return 0;
	}
	c->sender = c->origin == e->side;
	switch (e->kind) {
	case K_MESSAGE:
		bprintf(c->key, sizeof(c->key), "m %s", ev_s(e, "type"));
		break;
	case K_ALERT:
		bprintf(c->key, sizeof(c->key), "a %s", ev_s(e, "desc"));
		break;
	case K_SEGMENT:
		ev_int(e, "seq", &seq);
		ev_int(e, "ack", &ack);
		ev_int(e, "len", &len);
		bprintf(c->key, sizeof(c->key), "s %s %" PRId64 " %" PRId64 " %" PRId64,
		    ev_s(e, "flags"), seq, ack, len);
		break;
	default:
		bprintf(c->key, sizeof(c->key), "%s", kind_names[e->kind]);
		break;
	}
	return 1;
}

static void
add_arrow(struct diagram *d, const struct cand *snd, const struct cand *rcv)
{
	const struct cand *any = snd != NULL ? snd : rcv;
	enum side o = any->origin;
	struct row *r = row_new(d);

	r->arrow = 1;
	r->side = o;
	if (snd != NULL) {
		r->t[o] = snd->e->ts;
		copy_state(r->state[o], ev_str(snd->e, "tcp_state"));
	}
	if (rcv != NULL) {
		r->t[!o] = rcv->e->ts;
		copy_state(r->state[!o], ev_str(rcv->e, "tcp_state"));
	}
	r->when = snd != NULL ? snd->e->ts : rcv->e->ts;
	r->order = any->e->order;
	if (snd != NULL && rcv != NULL && rcv->e->ts + 1000 < snd->e->ts)
		d->skew = 1;
	arrow_label(d, r, snd ? snd->e : NULL, rcv ? rcv->e : NULL, o);
}

static void
pair_arrows(struct diagram *d)
{
	struct cand *c;
	size_t n = 0, i, j, k, cap = d->c[0]->n + d->c[1]->n;
	int s;

	if ((c = calloc(cap ? cap : 1, sizeof(*c))) == NULL)
		die_oom();
	for (s = 0; s < 2; s++)
		for (i = 0; i < d->c[s]->n; i++)
			if (make_cand(d->c[s]->ev[i], &c[n]))
				n++;
	if (n > 1)
		qsort(c, n, sizeof(*c), cmp_cand);
	/* within one (origin, key): the k-th record of the sender goes with the k-th of the
	 * receiver; a record without its other half still is a real message */
	for (i = 0; i < n; i = j) {
		size_t ns = 0, nr;

		for (j = i; j < n && c[j].origin == c[i].origin && strcmp(c[j].key, c[i].key) == 0;
		    j++)
			ns += c[j].sender;
		nr = (j - i) - ns;
		for (k = 0; k < ns || k < nr; k++)
			add_arrow(d, k < ns ? &c[i + k] : NULL, k < nr ? &c[i + ns + k] : NULL);
	}
	free(c);
}

static void
state_change_label(const struct ev *e, struct row *r)
{
	const char *from = ev_s(e, "from"), *to = ev_s(e, "to"), *timer = ev_s(e, "timer");
	int64_t ms = 0;
	char t[64] = "";

	ev_int(e, "expires_ms", &ms);
	if (*timer && strcmp(timer, "none") != 0)
		bprintf(t, sizeof(t), "%s timer %" PRId64 " ms", timer, ms);
	if (strcmp(from, to) == 0)
		bprintf(r->label, sizeof(r->label), "%s: %s", to, t);
	else if (strcmp(to, "CLOSED") == 0)
		bprintf(r->label, sizeof(r->label), "%s → CLOSED: the kernel forgot it", from);
	else
		bprintf(r->label, sizeof(r->label), "%s → %s%s%s", from, to, *t ? ", " : "", t);
	copy_state(r->state[r->side], to);
}

static void
add_note(struct diagram *d, const struct ev *e)
{
	struct row *r;
	int64_t v;

	switch (e->kind) {
	case K_CONNECT: case K_ESTABLISHED: case K_FIN_SENT: case K_FIN_RECEIVED:
	case K_RESET: case K_CLOSED: case K_STATE_CHANGE: case K_HOLD_CLOSE:
		break;
	default:
		return;
	}
	r = row_new(d);
	r->side = e->side;
	r->nk = e->kind;
	r->cls = CL_NOTE;
	r->t[e->side] = e->ts;
	r->when = e->ts;
	r->order = e->order;
	copy_state(r->state[e->side], ev_str(e, "tcp_state"));
	switch (e->kind) {
	case K_CONNECT:
		/* logged when connect() has returned: on loopback the kernel has already done
		 * the whole handshake; with a capture its SYN is above */
		if (d->segs[CLIENT])
			bprintf(r->label, sizeof(r->label), "connect() returned");
		else if (ev_is(e, "tcp_state", "ESTABLISHED"))
			bprintf(r->label, sizeof(r->label), "connect(): the kernel did the handshake");
		else
			bprintf(r->label, sizeof(r->label), "connect(): the kernel sent SYN");
		bprintf(r->sub, sizeof(r->sub), "%s → %s", ev_s(e, "local"), ev_s(e, "remote"));
		break;
	case K_ESTABLISHED:
		if (e->side == CLIENT)
			bprintf(r->label, sizeof(r->label), "connect() completed");
		else
			bprintf(r->label, sizeof(r->label), "accept(): handshake done");
		break;
	case K_FIN_SENT:
		bprintf(r->label, sizeof(r->label), "shutdown(): our FIN goes out");
		break;
	case K_FIN_RECEIVED:
		bprintf(r->label, sizeof(r->label), "read() = 0: the peer's FIN is in");
		break;
	case K_RESET:
		if (ev_is(e, "dir", "out"))
			bprintf(r->label, sizeof(r->label), "close() with RST (abort)");
		else
			bprintf(r->label, sizeof(r->label), "RST received: %s", ev_s(e, "errno"));
		break;
	case K_CLOSED:
		bprintf(r->label, sizeof(r->label), "close()");
		bprintf(r->sub, sizeof(r->sub), "%s", ev_s(e, "reason"));
		break;
	case K_STATE_CHANGE:
		state_change_label(e, r);
		break;
	case K_HOLD_CLOSE:
		if (ev_int(e, "ms", &v))
			bprintf(r->label, sizeof(r->label), "holding our FIN for %" PRId64 " ms", v);
		else
			bprintf(r->label, sizeof(r->label), "holding our FIN");
		break;
	default:
		break;
	}
}

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	/* Equal times: the client's row first, whichever log was given first. */
	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Marks the spans of one side: connect() until it returned, and the close from the first
 * FIN (or RST) until close(). Rows are sorted. */
static void
mark_spans(struct diagram *d, enum side s)
{
	struct row *start = NULL;
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct row *r = &d->rows[i];

		if (r->arrow || r->side != s)
			continue;
		if (r->nk == K_CONNECT || (start == NULL && (r->nk == K_FIN_SENT ||
		    r->nk == K_FIN_RECEIVED || r->nk == K_RESET))) {
			start = r;
		} else if (start != NULL && ((start->nk == K_CONNECT && r->nk == K_ESTABLISHED) ||
		    (start->nk != K_CONNECT && r->nk == K_CLOSED))) {
			start->span = SP_START;
			r->span = SP_END;
			start = NULL;
		}
	}
}

static void
build_diagram(struct diagram *d, const struct conn *cc, const struct conn *sc)
{
	const struct ev *hd = NULL, *kx = NULL;
	size_t i;
	int s;

	memset(d, 0, sizeof(*d));
	d->c[CLIENT] = cc;
	d->c[SERVER] = sc;
	for (s = 0; s < 2; s++) {
		for (i = 0; i < d->c[s]->n; i++) {
			const struct ev *e = d->c[s]->ev[i];
			int64_t seq;

			if (e->kind == K_SEGMENT) {
				d->segs[s]++;
				/* x and y, the two initial sequence numbers */
				if (ev_int(e, "seq", &seq) && seq >= 0 && seq <= UINT32_MAX) {
					int who = ev_is(e, "step", "syn") ? CLIENT :
					    ev_is(e, "step", "syn_ack") ? SERVER : -1;

					if (who >= 0 && !d->has_isn[who]) {
						d->has_isn[who] = 1;
						d->isn[who] = (uint32_t)seq;
					}
				}
			}
			if (e->kind == K_MESSAGE)
				d->tls = 1;
			if (e->kind == K_HANDSHAKE_DONE && (hd == NULL || s == CLIENT))
				hd = e;
			if (e->kind == K_KEY_EXCHANGE && (kx == NULL || s == CLIENT))
				kx = e;
		}
	}
	pair_arrows(d);
	for (s = 0; s < 2; s++)
		for (i = 0; i < d->c[s]->n; i++)
			add_note(d, d->c[s]->ev[i]);
	if (d->n > 1)
		qsort(d->rows, d->n, sizeof(*d->rows), cmp_row);
	mark_spans(d, CLIENT);
	mark_spans(d, SERVER);
	d->t0 = INT64_MAX;
	for (i = 0; i < d->n; i++)
		for (s = 0; s < 2; s++)
			if (d->rows[i].t[s] >= 0 && d->rows[i].t[s] < d->t0)
				d->t0 = d->rows[i].t[s];
	if (d->t0 == INT64_MAX)
		d->t0 = 0;
	if (hd != NULL)
		bprintf(d->proto, sizeof(d->proto), "%s  %s%s%s%s%s", ev_s(hd, "version"),
		    ev_s(hd, "cipher"), kx ? "  " : "", kx ? ev_s(kx, "kx") : "",
		    kx && *ev_s(kx, "group") ? " " : "", kx ? ev_s(kx, "group") : "");
	else if (d->tls)
		bprintf(d->proto, sizeof(d->proto), "TLS handshake not completed");
	else
		bprintf(d->proto, sizeof(d->proto), "plain TCP (no TLS)");
}

static double
rel_ms(const struct diagram *d, int64_t t)
{
	return (double)(t - d->t0) / 1000.0;
}

/* The words about the capture: NULL when both sides captured their segments. */
static const char *
capture_note(const struct diagram *d)
{
	if (d->segs[CLIENT] && d->segs[SERVER])
		return NULL;
	if (d->segs[CLIENT])
		return "TCP segments were captured by the client only (the server ran without "
		    "--capture): each segment arrow has the client's time only.";
	if (d->segs[SERVER])
		return "TCP segments were captured by the server only (the client ran without "
		    "--capture): each segment arrow has the server's time only.";
	return "TCP segments were not captured (run both programs with --capture, as root): "
	    "connect()/accept() and the FINs are shown as events on each side, not as arrows.";
}

/* ------------------------------------------------------------------ text */

struct glyphs {
	const char *lane, *span, *note, *start, *end, *orig[2], *orig_span[2], *dash, *dot,
	    *head[2], *lr;
};
static const struct glyphs uni = {
	"│", "┃", "◆", "┳", "┻", { "├", "┤" }, { "┣", "┫" }, "─", "┄", { "◀", "▶" }, "⇄",
};
static const struct glyphs asc = {
	"|", "#", "*", "*", "*", { "|", "|" }, { "#", "#" }, "-", ".", { "<", ">" }, "<->",
};

#define TXT_MID		52	/* columns between the two lanes */
#define TXT_STATE	11
#define TXT_TIME	9

/* Only ASCII for --ascii: the few symbols of our own words get ASCII forms, the rest '?'. */
static void
put_text(struct sbuf *b, const char *s, int ascii)
{
	static const struct { const char *u, *a; } map[] = {
		{ "→", "->" }, { "←", "<-" }, { "⇄", "<->" }, { "·", "-" }, { "…", "..." },
		{ "—", "-" },
	};
	size_t i;

	if (!ascii) {
		sb_put(b, s);
		return;
	}
	while (*s) {
		if ((unsigned char)*s < 0x80) {
			sb_add(b, s++, 1);
			continue;
		}
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strncmp(s, map[i].u, strlen(map[i].u)) == 0)
				break;
		if (i < sizeof(map) / sizeof(map[0])) {
			sb_put(b, map[i].a);
			s += strlen(map[i].u);
		} else {
			sb_put(b, "?");
			for (s++; ((unsigned char)*s & 0xC0) == 0x80; s++)
				;
		}
	}
}

/* The label as it will be printed: ASCII-only when asked, cut to max columns. */
static void
fit_label(char *out, size_t len, const char *label, int max, int ascii)
{
	struct sbuf b = { 0 };

	put_text(&b, label, ascii);
	bprintf(out, len, "%s", b.p ? b.p : "");
	free(b.p);
	u_fit(out, len, max, ascii ? "..." : "…");
}

static void
text_time(struct sbuf *b, const struct diagram *d, int64_t t, int known)
{
	if (t >= 0)
		sb_printf(b, "%*.3f", TXT_TIME, rel_ms(d, t));
	else
		sb_printf(b, "%*s", TXT_TIME, known ? "?" : "");
}

static void
text_pad(struct sbuf *b, const char *s, int width, int right)
{
	char buf[STATE_MAX + 8];
	int w;

	bprintf(buf, sizeof(buf), "%s", s);
	u_fit(buf, sizeof(buf), width, "~");
	w = u_width(buf);
	if (right)
		sb_rep(b, " ", width - w);
	sb_put(b, buf);
	if (!right)
		sb_rep(b, " ", width - w);
}

static void
trim_line(struct sbuf *b)
{
	while (b->len > 0 && b->p[b->len - 1] == ' ')
		b->p[--b->len] = '\0';
	sb_put(b, "\n");
}

static void
render_text_one(struct sbuf *out, const struct diagram *d, int ascii, int nth, int total)
{
	const struct glyphs *g = ascii ? &asc : &uni;
	const char *note = capture_note(d);
	int active[2] = { 0, 0 };
	char buf[LABEL_MAX + 16];
	size_t i;
	int s, lanecol = TXT_TIME + 2 + TXT_STATE + 1;

	if (total > 1)
		sb_printf(out, "connection %d of %d\n", nth, total);
	bprintf(buf, sizeof(buf), "Client %s (client #%" PRId64 ")  %s  Server %s (server #%"
	    PRId64 ")", d->c[CLIENT]->local, d->c[CLIENT]->id, g->lr, d->c[SERVER]->local,
	    d->c[SERVER]->id);
	put_text(out, buf, ascii);
	sb_put(out, "\n");
	put_text(out, d->proto, ascii);
	sb_put(out, ";  times in ms since the first event, both logs merged on the wall clock\n");
	if (d->skew)
		sb_put(out, "warning: some messages arrive before they were sent: the two "
		    "programs' clocks differ\n");
	if (note != NULL) {
		sb_put(out, "note: ");
		put_text(out, note, ascii);
		sb_put(out, "\n");
	}
	sb_put(out, "\n");
	/* the names over their lanes */
	sb_rep(out, " ", lanecol);
	sb_put(out, "Client");
	sb_rep(out, " ", TXT_MID + 1 - 6 - 5);
	sb_put(out, "Server\n");
	sb_printf(out, "%*s  %*s %s", TXT_TIME, "ms", TXT_STATE, "state", g->lane);
	sb_rep(out, " ", TXT_MID);
	sb_printf(out, "%s %-*s  %*s\n", g->lane, TXT_STATE, "state", TXT_TIME, "ms");

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];
		const char *lane[2];
		struct sbuf mid = { 0 };
		int w, left, right;

		for (s = 0; s < 2; s++)
			lane[s] = active[s] ? g->span : g->lane;
		if (r->arrow) {
			int o = r->side;
			const char *dash = r->cls == CL_TCP ? g->dot : g->dash;

			lane[o] = active[o] ? g->orig_span[o] : g->orig[o];
			fit_label(buf, sizeof(buf), r->label, TXT_MID - 8, ascii);
			w = u_width(buf);
			left = (TXT_MID - 1 - (w + 2)) / 2;
			right = TXT_MID - 1 - (w + 2) - left;
			if (o == SERVER)
				sb_put(&mid, g->head[0]);
			sb_rep(&mid, dash, left);
			sb_put(&mid, " ");
			sb_put(&mid, buf);
			sb_put(&mid, " ");
			sb_rep(&mid, dash, right);
			if (o == CLIENT)
				sb_put(&mid, g->head[1]);
		} else {
			s = r->side;
			if (r->span == SP_START) {
				lane[s] = g->start;
				active[s] = 1;
			} else if (r->span == SP_END) {
				lane[s] = g->end;
				active[s] = 0;
			} else {
				lane[s] = g->note;
			}
			fit_label(buf, sizeof(buf), r->label, TXT_MID - 2, ascii);
			w = u_width(buf);
			if (s == CLIENT) {
				sb_put(&mid, " ");
				sb_put(&mid, buf);
				sb_rep(&mid, " ", TXT_MID - 1 - w);
			} else {
				sb_rep(&mid, " ", TXT_MID - 1 - w);
				sb_put(&mid, buf);
				sb_put(&mid, " ");
			}
		}
		text_time(out, d, r->t[CLIENT], r->arrow);
		sb_put(out, "  ");
		text_pad(out, r->state[CLIENT], TXT_STATE, 1);
		sb_put(out, " ");
		sb_put(out, lane[CLIENT]);
		sb_put(out, mid.p ? mid.p : "");
		sb_put(out, lane[SERVER]);
		sb_put(out, " ");
		text_pad(out, r->state[SERVER], TXT_STATE, 0);
		sb_put(out, "  ");
		text_time(out, d, r->t[SERVER], r->arrow);
		trim_line(out);
		free(mid.p);
	}
	sb_put(out, "\n");
	if (ascii)
		sb_put(out, "legend: ---> TLS or HTTP message   ...> TCP segment (--capture)   "
		    "* event on one side   # inside connect() or the close\n");
	else
		sb_put(out, "legend: ──▶ TLS or HTTP message   ┄┄▶ TCP segment (--capture)   "
		    "◆ event on one side   ┳┃┻ inside connect() or the close\n");
	sb_put(out, "        the time and the kernel's TCP state (TCP_INFO) are shown at "
	    "each end\n");
}

/* ------------------------------------------------------------------ SVG */

#define SVG_W		1200
#define SVG_LANE_L	270
#define SVG_LANE_R	(SVG_W - 270)
#define SVG_LABEL_PX	17	/* font sizes: readable on a slide */
#define SVG_NOTE_PX	15
#define SVG_SMALL_PX	13
#define SVG_CHAR	0.61	/* width of a DejaVu Sans Mono character, in em */
#define SVG_FONT	"DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
#define SVG_SANS	"DejaVu Sans, Helvetica, Arial, sans-serif"

static void
xml_put(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':  sb_put(b, "&amp;"); break;
		case '<':  sb_put(b, "&lt;"); break;
		case '>':  sb_put(b, "&gt;"); break;
		case '"':  sb_put(b, "&quot;"); break;
		case '\'': sb_put(b, "&apos;"); break;
		default:   sb_add(b, s, 1); break;
		}
	}
}

/* A text element with the text cut to fit max_px. */
static void
svg_text(struct sbuf *b, double x, double y, int px, const char *anchor, const char *fill,
    const char *weight, const char *family, double max_px, const char *text)
{
	char buf[LABEL_MAX + 16];
	int maxc = (int)(max_px / (px * SVG_CHAR));

	bprintf(buf, sizeof(buf), "%s", text);
	u_fit(buf, sizeof(buf), maxc > 1 ? maxc : 1, "…");
	sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" "
	    "fill=\"%s\" font-weight=\"%s\" font-family=\"%s\">", x, y, px, anchor, fill, weight,
	    family);
	xml_put(b, buf);
	sb_put(b, "</text>\n");
}

static const char *
cls_color(enum cls c)
{
	switch (c) {
	case CL_TCP:		return "#5f6b7a";
	case CL_TLS:		return "#1f5fbf";
	case CL_HTTP:		return "#137333";
	case CL_ALERT:		return "#c5221f";
	case CL_CLOSE_NOTIFY:	return "#8430ce";
	default:		return "#444444";
	}
}

static int
svg_row_height(const struct row *r)
{
	if (!r->arrow)
		return 34;
	return r->sub[0] ? 58 : 42;
}

/* Time and state beside a lane: "ESTABLISHED  0.306" on the left, mirrored on the right. */
static void
svg_end(struct sbuf *b, const struct diagram *d, const struct row *r, enum side s, double y)
{
	char t[32] = "";
	double x;

	if (r->t[s] >= 0)
		bprintf(t, sizeof(t), "%.3f", rel_ms(d, r->t[s]));
	else if (r->arrow)
		bprintf(t, sizeof(t), "?");
	if (!t[0] && !r->state[s][0])
		return;
	x = s == CLIENT ? SVG_LANE_L - 14 : SVG_LANE_R + 14;
	sb_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" "
	    "font-family=\"%s\">", (int)x, y, SVG_NOTE_PX, s == CLIENT ? "end" : "start",
	    SVG_FONT);
	if (s == CLIENT && r->state[s][0]) {
		sb_printf(b, "<tspan fill=\"#6b7280\" font-size=\"%d\">", SVG_SMALL_PX);
		xml_put(b, r->state[s]);
		sb_put(b, "</tspan> ");
	}
	sb_printf(b, "<tspan fill=\"#111111\" font-weight=\"bold\">%s</tspan>", t);
	if (s == SERVER && r->state[s][0]) {
		sb_printf(b, " <tspan fill=\"#6b7280\" font-size=\"%d\">", SVG_SMALL_PX);
		xml_put(b, r->state[s]);
		sb_put(b, "</tspan>");
	}
	sb_put(b, "</text>\n");
}

static void
svg_lane_head(struct sbuf *b, double x, double y, const char *name, const char *addr)
{
	sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"240\" height=\"58\" rx=\"8\" "
	    "fill=\"#eef3fb\" stroke=\"#1f3b63\" stroke-width=\"2\"/>\n", x - 120, y);
	svg_text(b, x, y + 25, 20, "middle", "#1f3b63", "bold", SVG_SANS, 230, name);
	svg_text(b, x, y + 47, SVG_SMALL_PX + 1, "middle", "#1f3b63", "normal", SVG_FONT, 230,
	    addr);
}

static int
render_svg_one(struct sbuf *b, const struct diagram *d, int y0, int nth, int total)
{
	const char *note = capture_note(d);
	double lane[2] = { SVG_LANE_L, SVG_LANE_R }, mid = SVG_LANE_R - SVG_LANE_L;
	double y = y0, ybody, span_y[2] = { -1, -1 };
	char buf[LABEL_MAX * 2];
	struct sbuf spans = { 0 }, body = { 0 };
	size_t i;
	int s;

	if (total > 1)
		bprintf(buf, sizeof(buf), "Connection %d of %d:  client %s  ⇄  server %s", nth,
		    total, d->c[CLIENT]->local, d->c[SERVER]->local);
	else
		bprintf(buf, sizeof(buf), "Client %s  ⇄  Server %s", d->c[CLIENT]->local,
		    d->c[SERVER]->local);
	svg_text(b, 30, y + 34, 24, "start", "#111111", "bold", SVG_SANS, SVG_W - 60, buf);
	bprintf(buf, sizeof(buf), "%s  ·  times in ms since the first event (both logs merged "
	    "on the wall clock)", d->proto);
	svg_text(b, 30, y + 64, 15, "start", "#374151", "normal", SVG_SANS, SVG_W - 60, buf);
	y += 84;
	if (d->skew) {
		svg_text(b, 30, y + 10, 14, "start", "#c5221f", "normal", SVG_SANS, SVG_W - 60,
		    "warning: some messages arrive before they were sent: the two clocks differ");
		y += 24;
	}
	if (note != NULL) {
		/* two lines, cut after the colon */
		const char *colon = strstr(note, ": ");
		int n1 = colon != NULL ? (int)(colon - note + 1) : (int)strlen(note);

		sb_printf(b, "<rect x=\"30\" y=\"%.1f\" width=\"%d\" height=\"50\" rx=\"6\" "
		    "fill=\"#fff4ce\" stroke=\"#d4a72c\"/>\n", y, SVG_W - 60);
		bprintf(buf, sizeof(buf), "%.*s", n1, note);
		svg_text(b, 44, y + 21, 15, "start", "#5c4400", "bold", SVG_SANS, SVG_W - 88, buf);
		if (colon != NULL)
			svg_text(b, 44, y + 41, 14, "start", "#5c4400", "normal", SVG_SANS,
			    SVG_W - 88, colon + 2);
		y += 60;
	}
	y += 12;
	svg_lane_head(b, lane[CLIENT], y, "Client", d->c[CLIENT]->local);
	svg_lane_head(b, lane[SERVER], y, "Server", d->c[SERVER]->local);
	svg_text(b, lane[CLIENT] - 14, y + 80, SVG_SMALL_PX, "end", "#6b7280", "normal",
	    SVG_SANS, 60, "ms");
	svg_text(b, lane[CLIENT] - 80, y + 80, SVG_SMALL_PX, "end", "#6b7280", "normal",
	    SVG_SANS, 150, "kernel state");
	svg_text(b, lane[SERVER] + 14, y + 80, SVG_SMALL_PX, "start", "#6b7280", "normal",
	    SVG_SANS, 60, "ms");
	svg_text(b, lane[SERVER] + 80, y + 80, SVG_SMALL_PX, "start", "#6b7280", "normal",
	    SVG_SANS, 150, "kernel state");
	y += 58;
	ybody = y;
	y += 32;

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];
		int h = svg_row_height(r);

		/* the whole label as a tooltip, in case the picture had to cut it */
		sb_put(&body, "<g><title>");
		xml_put(&body, r->label);
		if (r->sub[0]) {
			sb_put(&body, " — ");
			xml_put(&body, r->sub);
		}
		sb_put(&body, "</title>\n");
		if (r->arrow) {
			int o = r->side;
			double ly = y + (r->sub[0] ? 30 : 28);
			double x1 = lane[o], x2 = lane[!o];
			double dir = o == CLIENT ? 1 : -1;
			const char *col = cls_color(r->cls);

			sb_printf(&body, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"%s\" stroke-width=\"%s\"%s/>\n", x1 + dir * 6, ly,
			    x2 - dir * 14, ly, col, r->cls == CL_TCP ? "1.6" : "2.2",
			    r->cls == CL_TCP ? " stroke-dasharray=\"7 5\"" : "");
			sb_printf(&body, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
			    "fill=\"%s\"/>\n", x2 - dir * 6, ly, x2 - dir * 20, ly - 6,
			    x2 - dir * 20, ly + 6, col);
			sb_printf(&body, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
			    x1 + dir * 6, ly, col);
			/* TCP: the textbook's steps bold, plain data and ACKs not */
			svg_text(&body, (x1 + x2) / 2, ly - 8, SVG_LABEL_PX, "middle",
			    r->cls == CL_TCP ? "#374151" : col,
			    r->cls != CL_TCP || strstr(r->label, " · ") ? "bold" : "normal",
			    SVG_FONT, mid - 40, r->label);
			if (r->sub[0])
				svg_text(&body, (x1 + x2) / 2, ly + 19, SVG_SMALL_PX, "middle",
				    "#6b7280", "normal", SVG_FONT, mid - 40, r->sub);
			for (s = 0; s < 2; s++)
				svg_end(&body, d, r, (enum side)s, ly + 5);
		} else {
			double ny = y + 22, x, w;
			int maxc = (int)((mid - 60) / (SVG_NOTE_PX * SVG_CHAR));

			s = r->side;
			bprintf(buf, sizeof(buf), "%s", r->label);
			u_fit(buf, sizeof(buf), maxc, "…");
			w = u_width(buf) * SVG_NOTE_PX * SVG_CHAR + 16;
			x = s == CLIENT ? lane[s] + 16 : lane[s] - 16 - w;
			sb_printf(&body, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" "
			    "rx=\"5\" fill=\"#f3f4f6\" stroke=\"#9ca3af\"/>\n", x, ny - 17, w);
			svg_text(&body, x + 8, ny, SVG_NOTE_PX, "start", "#1f2937", "normal",
			    SVG_FONT, w, buf);
			if (r->span == SP_START) {
				span_y[s] = ny - 5;
			} else if (r->span == SP_END && span_y[s] >= 0) {
				sb_printf(&spans, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" "
				    "height=\"%.1f\" fill=\"#dbe7f5\" stroke=\"#4a6fa5\" "
				    "stroke-width=\"1.5\"/>\n", lane[s] - 7, span_y[s],
				    ny - 5 - span_y[s] + 0.01);
				span_y[s] = -1;
			}
			sb_printf(&body, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
			    "fill=\"#4a6fa5\" transform=\"rotate(45 %.1f %.1f)\"/>\n", lane[s] - 5,
			    ny - 10, lane[s], ny - 5);
			svg_end(&body, d, r, (enum side)s, ny);
		}
		sb_put(&body, "</g>\n");
		y += h;
	}
	y += 10;
	for (s = 0; s < 2; s++)
		sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#1f3b63\" stroke-width=\"2\"/>\n", lane[s], ybody, lane[s], y);
	sb_put(b, spans.p ? spans.p : "");
	sb_put(b, body.p ? body.p : "");
	free(spans.p);
	free(body.p);
	return (int)y + 20;
}

static void
svg_legend(struct sbuf *b, double y)
{
	struct { enum cls c; const char *words; } items[] = {
		{ CL_TCP, "TCP segment (--capture)" }, { CL_TLS, "TLS handshake message" },
		{ CL_HTTP, "HTTP request / response" }, { CL_CLOSE_NOTIFY, "close_notify" },
		{ CL_ALERT, "TLS alert" },
	};
	double x = 30;
	size_t i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const char *col = cls_color(items[i].c);

		sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		    "stroke-width=\"2\"%s/>\n", x, y - 5, x + 30, y - 5, col,
		    items[i].c == CL_TCP ? " stroke-dasharray=\"7 5\"" : "");
		sb_printf(b, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n",
		    x + 38, y - 5, x + 28, y - 10, x + 28, y, col);
		svg_text(b, x + 46, y, SVG_SMALL_PX, "start", "#374151", "normal", SVG_SANS, 200,
		    items[i].words);
		x += 46 + strlen(items[i].words) * SVG_SMALL_PX * 0.56 + 26;
	}
	svg_text(b, 30, y + 22, SVG_SMALL_PX, "start", "#374151", "normal", SVG_SANS,
	    SVG_W - 60, "Grey boxes: events of one program (connect(), accept(), the FINs, "
	    "state changes); a bar on a lane: inside connect() or the close.");
}

static void
render_svg(struct sbuf *out, struct diagram *d, size_t n)
{
	struct sbuf b = { 0 };
	int y = 10;
	size_t i;

	for (i = 0; i < n; i++)
		y = render_svg_one(&b, &d[i], y, (int)i + 1, (int)n) + 20;
	svg_legend(&b, y + 10);
	y += 50;
	sb_put(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\">\n", SVG_W, y, SVG_W, y);
	sb_put(out, "<title>handshake-lab ladder diagram</title>\n");
	sb_printf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
	    SVG_W, y);
	sb_put(out, b.p ? b.p : "");
	sb_put(out, "</svg>\n");
	free(b.p);
}

/* ------------------------------------------------------------------ Mermaid */

/* Mermaid message text: ';' ends a statement and '#' starts an entity, so both (and the
 * angle brackets, read as HTML) become entity codes. */
static void
mermaid_put(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case ';': sb_put(b, "#59;"); break;
		case '#': sb_put(b, "#35;"); break;
		case '<': sb_put(b, "#60;"); break;
		case '>': sb_put(b, "#62;"); break;
		default:  sb_add(b, s, 1); break;
		}
	}
}

static void
mermaid_end(struct sbuf *b, const struct diagram *d, const struct row *r, enum side s)
{
	if (r->t[s] >= 0)
		sb_printf(b, "%.3f", rel_ms(d, r->t[s]));
	else
		sb_put(b, "?");
	if (r->state[s][0]) {
		sb_put(b, " ");
		mermaid_put(b, r->state[s]);
	}
}

static void
render_mermaid(struct sbuf *out, struct diagram *dd, size_t n)
{
	size_t k, i;

	sb_put(out, "sequenceDiagram\n");
	sb_put(out, "    participant Client\n");
	sb_put(out, "    participant Server\n");
	for (k = 0; k < n; k++) {
		const struct diagram *d = &dd[k];
		const char *note = capture_note(d);
		int active[2] = { 0, 0 }, s;

		sb_put(out, "    Note over Client,Server: ");
		if (n > 1)
			sb_printf(out, "connection %zu of %zu: ", k + 1, n);
		sb_put(out, "client ");
		mermaid_put(out, d->c[CLIENT]->local);
		sb_put(out, " ⇄ server ");
		mermaid_put(out, d->c[SERVER]->local);
		sb_put(out, "<br/>");
		mermaid_put(out, d->proto);
		sb_put(out, "<br/>times in ms since the first event (wall clock)\n");
		if (note != NULL) {
			/* two lines, cut after the colon */
			const char *colon = strstr(note, ": ");
			struct sbuf first = { 0 };

			sb_add(&first, note, colon ? (size_t)(colon - note + 1) : strlen(note));
			sb_put(out, "    Note over Client,Server: ");
			mermaid_put(out, first.p);
			if (colon != NULL) {
				sb_put(out, "<br/>");
				mermaid_put(out, colon + 2);
			}
			sb_put(out, "\n");
			free(first.p);
		}
		for (i = 0; i < d->n; i++) {
			const struct row *r = &d->rows[i];

			if (r->arrow) {
				int o = r->side;

				sb_printf(out, "    %s->>%s: ", o == CLIENT ? "Client" : "Server",
				    o == CLIENT ? "Server" : "Client");
				mermaid_put(out, r->label);
				sb_put(out, " (");
				mermaid_end(out, d, r, (enum side)o);
				sb_put(out, " → ");
				mermaid_end(out, d, r, (enum side)!o);
				sb_put(out, ")\n");
				continue;
			}
			s = r->side;
			sb_printf(out, "    Note %s: ", s == CLIENT ? "left of Client" :
			    "right of Server");
			mermaid_end(out, d, r, (enum side)s);
			sb_put(out, " ");
			mermaid_put(out, r->label);
			sb_put(out, "\n");
			if (r->span == SP_START && !active[s]) {
				sb_printf(out, "    activate %s\n", s == CLIENT ? "Client" : "Server");
				active[s] = 1;
			} else if (r->span == SP_END && active[s]) {
				sb_printf(out, "    deactivate %s\n", s == CLIENT ? "Client" :
				    "Server");
				active[s] = 0;
			}
		}
		for (s = 0; s < 2; s++)
			if (active[s])
				sb_printf(out, "    deactivate %s\n", s == CLIENT ? "Client" :
				    "Server");
	}
}

/* ------------------------------------------------------------------ main */

static void
usage(FILE *f)
{
	fputs("usage: ladder [--svg | --mermaid | --ascii] CLIENT_LOG SERVER_LOG\n"
	    "Draw the ladder diagram of one run from the two JSON-lines event logs:\n"
	    "  build/client --log-format json URL 2>client.json\n"
	    "  build/server --log-format json ... >server.json\n"
	    "Client on the left, server on the right, time going down: an arrow for each TLS\n"
	    "message, alert, close_notify, HTTP request and response, and each TCP segment\n"
	    "when both programs ran with --capture; the time and the kernel's TCP state at\n"
	    "each end. Connections are matched by address and port, events merged on ts_us.\n"
	    "\n"
	    "  --text       text with Unicode box drawing (the default)\n"
	    "  --ascii      text with ASCII characters only\n"
	    "  --svg        a self-contained SVG picture (open it in a browser)\n"
	    "  --mermaid    Mermaid sequenceDiagram text\n"
	    "  -h, --help   this help\n"
	    "A log name '-' reads standard input. Lines that are not JSON objects are skipped.\n"
	    "Exit status: 0 drawn, 1 a log cannot be read or the logs share no connection,\n"
	    "2 usage.\n", f);
}

static int
usage_error(const char *fmt, const char *arg)
{
	fputs("ladder: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	return 2;
}

static void
report_skipped(const char *path, const struct readstat *st)
{
	if (st->malformed)
		fprintf(stderr, "ladder: %s: %zu malformed JSON line(s) skipped\n", path,
		    st->malformed);
	if (st->toolong)
		fprintf(stderr, "ladder: %s: %zu line(s) longer than %d bytes or with NUL bytes "
		    "skipped\n", path, st->toolong, LINE_MAX_BYTES - 1);
}

/* Pairs the two sides' connections and renders them into out; -1 after an error message. */
static int
draw(struct logset *ls, const struct readstat *st, enum fmt fmt, struct sbuf *out)
{
	struct conn *conns = NULL;
	struct diagram *dd = NULL;
	size_t nconn = 0, nd = 0, nclient = 0, i, j;
	int ret = -1;

	for (i = 0; i < 2; i++) {
		if (ls->sides[i][CLIENT] + ls->sides[i][SERVER] == 0) {
			fprintf(stderr, "ladder: %s has no event records (%zu line(s)): is it a log "
			    "written with --log-format json? (client: 2>client.json, server: "
			    ">server.json)\n", ls->name[i], st[i].lines);
			return -1;
		}
	}
	if (ls->sides[0][CLIENT] + ls->sides[1][CLIENT] == 0) {
		fprintf(stderr, "ladder: neither log is the client's: both hold server events "
		    "(the client's log is its standard error: 2>client.json)\n");
		return -1;
	}
	if (ls->sides[0][SERVER] + ls->sides[1][SERVER] == 0) {
		fprintf(stderr, "ladder: neither log is the server's: both hold client events "
		    "(the server's log is its standard output: >server.json)\n");
		return -1;
	}

	conns = group_conns(ls, &nconn);
	for (i = 0; i < nconn; i++)
		nclient += conns[i].side == CLIENT;
	if ((dd = calloc(nclient ? nclient : 1, sizeof(*dd))) == NULL)
		die_oom();
	/* client (local, remote) == server (remote, local); a port used twice in a long
	 * server log: the connection closest in time */
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i], *best = NULL;
		int64_t bestd = INT64_MAX;

		if (c->side != CLIENT || c->local == NULL)
			continue;
		for (j = 0; j < nconn; j++) {
			struct conn *s = &conns[j];
			int64_t dist;

			if (s->side != SERVER || s->paired || s->local == NULL ||
			    strcmp(s->local, c->remote) != 0 || strcmp(s->remote, c->local) != 0)
				continue;
			dist = s->est_ts > c->est_ts ? s->est_ts - c->est_ts : c->est_ts - s->est_ts;
			if (dist < bestd) {
				bestd = dist;
				best = s;
			}
		}
		if (best == NULL)
			continue;
		best->paired = c->paired = 1;
		build_diagram(&dd[nd++], c, best);
	}
	if (nd == 0) {
		fprintf(stderr, "ladder: the two logs share no connection: were they from the same "
		    "run?\n");
		for (i = 0, j = 0; i < nconn && j < 3; i++)
			if (conns[i].side == CLIENT && conns[i].local != NULL) {
				fprintf(stderr, "ladder: the client's connection %s -> %s is not in "
				    "the server's log\n", conns[i].local, conns[i].remote);
				j++;
			}
		if (j == 0)
			fprintf(stderr, "ladder: the client's log has no established connection\n");
		goto done;
	}

	switch (fmt) {
	case FMT_TEXT:
	case FMT_ASCII:
		for (i = 0; i < nd; i++) {
			if (i > 0)
				sb_put(out, "\n");
			render_text_one(out, &dd[i], fmt == FMT_ASCII, (int)i + 1, (int)nd);
		}
		break;
	case FMT_SVG:
		render_svg(out, dd, nd);
		break;
	case FMT_MERMAID:
		render_mermaid(out, dd, nd);
		break;
	}
	ret = 0;
done:
	for (i = 0; i < nd; i++)
		free(dd[i].rows);
	free(dd);
	free(conns);
	return ret;
}

static void
logset_free(struct logset *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->ev[i]);
	free(ls->ev);
	memset(ls, 0, sizeof(*ls));
}

int
main(int argc, char **argv)
{
	struct logset ls;
	struct readstat st[2];
	struct sbuf out = { 0 };
	const char *files[2] = { NULL, NULL };
	enum fmt fmt = FMT_TEXT;
	int i, nfiles = 0, nfmt = 0, only_opts = 1, ret = 1;

	memset(&ls, 0, sizeof(ls));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (only_opts && strcmp(arg, "--") == 0) {
			only_opts = 0;
		} else if (only_opts && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
			usage(stdout);
			return 0;
		} else if (only_opts && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "--svg") == 0)
				fmt = FMT_SVG;
			else if (strcmp(arg, "--mermaid") == 0)
				fmt = FMT_MERMAID;
			else if (strcmp(arg, "--ascii") == 0)
				fmt = FMT_ASCII;
			else if (strcmp(arg, "--text") == 0)
				fmt = FMT_TEXT;
			else
				return usage_error("unknown option '%s'", arg);
			nfmt++;
		} else if (nfiles < 2) {
			files[nfiles++] = arg;
		} else {
			return usage_error("one client log and one server log, not more ('%s')",
			    arg);
		}
	}
	if (nfmt > 1)
		return usage_error("%s", "choose one of --svg, --mermaid, --ascii");
	if (nfiles != 2)
		return usage_error("%s", "two logs are needed: CLIENT_LOG SERVER_LOG");
	if (strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0)
		return usage_error("%s", "only one of the logs can be '-'");

	for (i = 0; i < 2; i++) {
		if (read_log(&ls, i, files[i], &st[i]) < 0)
			goto done;
		report_skipped(ls.name[i], &st[i]);
	}
	if (draw(&ls, st, fmt, &out) < 0)
		goto done;
	if ((out.len > 0 && fwrite(out.p, 1, out.len, stdout) != out.len) || fflush(stdout) != 0) {
		fprintf(stderr, "ladder: cannot write the diagram: %s\n", strerror(errno));
		goto done;
	}
	ret = 0;
done:
	logset_free(&ls);
	free(out.p);
	return ret;
}
