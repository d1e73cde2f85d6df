/* record_pack.c -- a connection's events kept small: each record of the event log packed into
 * a few bytes (its kind, times as differences, the kernel state and field names as indexes into
 * one table, numbers as varints, strings as they are), and unpacked into the same struct evrec
 * it came from, so evrec_format_facts() prints the very JSON line the log's record gives. An
 * idle plain HTTP connection's three events take about 500 bytes instead of 1,400. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "server.h"

/* The names the fields use (string literals) and the kernel states' names (static strings):
 * each kept once, by pointer, for the life of the program. A name that finds no room is
 * written out in full (NAME_INLINE). */
#define NAMES_MAX	250
#define NAME_NONE	255
#define NAME_INLINE	254

static const char *names[NAMES_MAX];
static int nnames;

static int
name_index(const char *s)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (names[i] == s || strcmp(names[i], s) == 0)
			return i;
	if (nnames == NAMES_MAX)
		return NAME_INLINE;
	names[nnames] = s;
	return nnames++;
}

struct out {
	unsigned char	*p;
	size_t		 len, cap;
	int		 full;
};

static void
put(struct out *o, const void *s, size_t n)
{
	if (o->full || o->len + n > o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
put_u8(struct out *o, unsigned v)
{
	unsigned char b = (unsigned char)v;

	put(o, &b, 1);
}

static void
put_varint(struct out *o, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	put(o, b, n);
}

static void
put_signed(struct out *o, int64_t v)
{
	put_varint(o, v < 0 ? ((uint64_t)~v << 1) | 1 : (uint64_t)v << 1);
}

/* A string and its NUL: unpacked, the field points at it where it lies. */
static void
put_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	put_varint(o, n);
	put(o, s, n + 1);
}

static void
put_name(struct out *o, const char *s)
{
	int i = name_index(s);

	put_u8(o, (unsigned)i);
	if (i == NAME_INLINE)
		put_str(o, s);
}

size_t
record_pack(const struct evrec *r, int64_t t0_us, int64_t ts0_us, unsigned char *buf,
    size_t len)
{
	struct out o = { buf, 0, len, 0 };
	const struct evlog_field *f;
	int i;

	put_u8(&o, r->ev);
	put_signed(&o, r->t_us - t0_us);
	put_signed(&o, r->ts_us - ts0_us);
	if (r->tcp_state != NULL)
		put_name(&o, r->tcp_state);
	else
		put_u8(&o, NAME_NONE);
	put_u8(&o, r->has_rel);
	if (r->has_rel) {
		put_varint(&o, r->rel_seq);
		put_varint(&o, r->rel_ack);
	}
	put_u8(&o, (unsigned)r->nfields);
	for (i = 0; i < r->nfields; i++) {
		f = &r->f[i];
		put_name(&o, f->key);
		put_u8(&o, (unsigned)f->type);
		switch (f->type) {
		case F_STR:	put_str(&o, f->s); break;
		case F_FLOAT:	put(&o, &f->d, sizeof(f->d)); break;
		default:	put_signed(&o, f->i); break;
		}
	}
	put_str(&o, r->detail);
	return o.full ? 0 : o.len;
}

struct in {
	const unsigned char	*p, *end;
	int			 bad;
};

static unsigned
get_u8(struct in *in)
{
	if (in->p >= in->end) {
		in->bad = 1;
		return 0;
	}
	return *in->p++;
}

static uint64_t
get_varint(struct in *in)
{
	uint64_t v = 0;
	int shift = 0;
	unsigned b;

	do {
		b = get_u8(in);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !in->bad);
	return v;
}

static int64_t
get_signed(struct in *in)
{
	uint64_t v = get_varint(in);

	return v & 1 ? (int64_t)~(v >> 1) : (int64_t)(v >> 1);
}

static const char *
get_str(struct in *in)
{
	uint64_t n = get_varint(in);
	const char *s = (const char *)in->p;

	if (in->bad || n >= (uint64_t)(in->end - in->p) || in->p[n] != '\0') {
		in->bad = 1;
		return "";
	}
	in->p += n + 1;
	return s;
}

static const char *
get_name(struct in *in)
{
	unsigned i = get_u8(in);

	if (i == NAME_INLINE)
		return get_str(in);
	if (i >= (unsigned)nnames) {
		in->bad = 1;
		return "";
	}
	return names[i];
}

/* One event from *p (moved past it): r's strings point into the packed bytes, which must
 * outlive it. 0, or -1 if the bytes are not a packed event. */
int
record_unpack(const unsigned char **p, const unsigned char *end, unsigned conn, int64_t t0_us,
    int64_t ts0_us, struct evrec *r)
{
	struct in in = { *p, end, 0 };
	struct evlog_field *f;
	unsigned st;
	int i;

	memset(r, 0, offsetof(struct evrec, store));
	r->ev = (enum evlog_event)get_u8(&in);
	r->conn = conn;
	r->t_us = t0_us + get_signed(&in);
	r->ts_us = ts0_us + get_signed(&in);
	st = in.p < in.end ? *in.p : 0;
	if (st == NAME_NONE)
		in.p++;
	else
		r->tcp_state = get_name(&in);
	r->has_rel = (int)get_u8(&in);
	if (r->has_rel) {
		r->rel_seq = get_varint(&in);
		r->rel_ack = get_varint(&in);
	}
	r->nfields = (int)get_u8(&in);
	if (r->ev >= EVT_LAST || r->nfields > EVLOG_MAX_FIELDS)
		return -1;
	for (i = 0; i < r->nfields && !in.bad; i++) {
		f = &r->f[i];
		f->key = get_name(&in);
		f->type = (int)get_u8(&in);
		switch (f->type) {
		case F_STR:
			f->s = get_str(&in);
			break;
		case F_FLOAT:
			if ((size_t)(in.end - in.p) < sizeof(f->d)) {
				in.bad = 1;
				break;
			}
			memcpy(&f->d, in.p, sizeof(f->d));
			in.p += sizeof(f->d);
			break;
		case F_INT:
		case F_BOOL:
			f->i = get_signed(&in);
			break;
		default:
			in.bad = 1;
		}
	}
	snprintf(r->detail, sizeof(r->detail), "%s", get_str(&in));
	r->gloss[0] = '\0';
	r->note = NULL;
	if (in.bad)
		return -1;
	*p = in.p;
	return 0;
}
