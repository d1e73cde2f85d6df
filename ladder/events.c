/* events.c -- reads the two JSON-lines logs into the events the diagram uses, each with the
 * side, file, run and connection it belongs to. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

#define EVENTS_MAX	(4u * 1024 * 1024)	/* events kept from both logs */
#define TS_MAX		((int64_t)1 << 52)	/* µs since 1970: far beyond year 2100 */

/* The event names of enum kind (ladder.h), as the logs write them. */
const char *const ladder_kind_names[] = {
	"connect", "established", "fin_sent", "fin_received", "reset", "closed",
	"state_change", "segment", "hold_close", "message", "alert", "key_exchange",
	"handshake_done", "close_notify", "request", "response",
};
_Static_assert(sizeof(ladder_kind_names) / sizeof(ladder_kind_names[0]) == K_LAST,
    "ladder_kind_names must match enum kind");

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
const char *
ev_str(const struct ev *e, const char *key)
{
	const struct field *f = ev_field(e, key);

	return f != NULL && f->type == J_STR ? f->s : NULL;
}

/* The string field key, or "" . */
const char *
ev_s(const struct ev *e, const char *key)
{
	const char *s = ev_str(e, key);

	return s != NULL ? s : "";
}

int
ev_int(const struct ev *e, const char *key, int64_t *out)
{
	const struct field *f = ev_field(e, key);

	if (f == NULL || (f->type != J_INT && f->type != J_BOOL))
		return 0;
	*out = f->i;
	return 1;
}

int
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
	e = lad_calloc(1, size);
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
		if (strcmp(name, ladder_kind_names[k]) == 0)
			return k;
	return -1;
}

/* Keeps the events of one log that the diagram uses. */
int
read_log_stream(struct logset *ls, int file, FILE *f, const char *path, struct readstat *st)
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
			ls->ev = lad_realloc(ls->ev, ncap * sizeof(*ls->ev));
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

int
read_log(struct logset *ls, int file, const char *path, struct readstat *st)
{
	FILE *f;
	int ret;

	if (strcmp(path, "-") == 0)
		return read_log_stream(ls, file, stdin, "standard input", st);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ladder: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	ret = read_log_stream(ls, file, f, path, st);
	fclose(f);
	return ret;
}

void
logset_free(struct logset *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		lad_free(ls->ev[i]);
	lad_free(ls->ev);
	memset(ls, 0, sizeof(*ls));
}
