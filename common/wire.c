/* wire.c -- the eavesdropper's view of a segment: its payload as anyone on the path sees it
 * (--wire). Plain HTTP reads as text; TLS shows record headers and ciphertext. Pure. */
#include <stdio.h>
#include <string.h>

#include "tls.h"
#include "evlog.h"
#include "wire.h"

/* Record content types (RFC 8446 5.1; 24 heartbeat is refused as TLS here). */
#define T_CCS		20
#define T_ALERT		21
#define T_HANDSHAKE	22
#define T_APPDATA	23

const char *
wire_type_name(unsigned type)
{
	switch (type) {
	case T_CCS:	return "change_cipher_spec";
	case T_ALERT:	return "alert";
	case T_HANDSHAKE: return "handshake";
	case T_APPDATA:	return "application_data";
	default:	return "unknown";
	}
}

const char *
wire_kind_name(int kind)
{
	switch (kind) {
	case WIRE_PLAIN: return "plain";
	case WIRE_TLS:	return "tls";
	case WIRE_LOST:	return "tls_lost";
	default:	return "unknown";
	}
}

/* A record header we understand: a known type, major version 3, minor 0..4, and a length no
 * larger than TLS allows (2^14 + 2048 for a ciphertext). */
static int
good_header(const unsigned char *h)
{
	unsigned len = (unsigned)h[3] << 8 | h[4];

	return h[0] >= T_CCS && h[0] <= T_APPDATA && h[1] == 3 && h[2] <= 4 &&
	    len <= 16384 + 2048;
}

size_t
wire_escape(const unsigned char *p, size_t n, char *buf, size_t buflen)
{
	size_t i, used = 0, w;
	char tmp[8];

	if (buf == NULL || buflen == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '\r': snprintf(tmp, sizeof(tmp), "\\r"); break;
		case '\n': snprintf(tmp, sizeof(tmp), "\\n"); break;
		case '\t': snprintf(tmp, sizeof(tmp), "\\t"); break;
		case '\\': snprintf(tmp, sizeof(tmp), "\\\\"); break;
		case '"':  snprintf(tmp, sizeof(tmp), "\\\""); break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f)
				snprintf(tmp, sizeof(tmp), "%c", p[i]);
			else
				snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
		}
		w = strlen(tmp);
		if (used + w >= buflen)		/* never cut an escape in half */
			break;
		memcpy(buf + used, tmp, w + 1);
		used += w;
	}
	return i;
}

static void
add_record(struct wire_dir *d, struct wire_view *v, const unsigned char *h,
    const unsigned char *body, size_t bodycap, size_t bodylen)
{
	struct wire_rec *r;

	v->starts++;
	v->rec_bytes += 5 + ((unsigned)h[3] << 8 | h[4]);
	v->goes_on = bodylen < ((unsigned)h[3] << 8 | h[4]);
	if (v->nrecs == WIRE_MAX_RECS) {
		v->more++;
	} else {
		r = &v->recs[v->nrecs++];
		r->type = h[0];
		r->version = (unsigned)h[1] << 8 | h[2];
		r->length = (unsigned)h[3] << 8 | h[4];
		r->cut = bodylen < r->length;
		/* A handshake record before this side's ChangeCipherSpec is in the clear: its
		 * first message type is readable (and a ServerHello's random, for an HRR). */
		r->hs_type = -1;
		if (h[0] == T_HANDSHAKE && !d->ccs && bodycap >= 1)
			r->hs_type = body[0];
	}
	if (h[0] == T_CCS)
		d->ccs = 1;
}

/* Walk the record headers of a TLS stream from payload offset off. */
static void
walk(struct wire_dir *d, const unsigned char *p, size_t caplen, size_t len, struct wire_view *v)
{
	size_t off = 0, take, body, cap;

	/* A header cut by the previous segment's end: complete it first. */
	if (d->hdrlen > 0) {
		take = 5 - d->hdrlen;
		if (take > len)
			take = len;
		if (take > caplen)
			goto lost;
		memcpy(d->hdr + d->hdrlen, p, take);
		d->hdrlen += (unsigned)take;
		off = take;
		if (d->hdrlen < 5)
			return;
		d->hdrlen = 0;
		if (!good_header(d->hdr))
			goto lost;
		body = len - off < (size_t)(d->hdr[3] << 8 | d->hdr[4]) ? len - off :
		    (size_t)(d->hdr[3] << 8 | d->hdr[4]);
		cap = caplen > off ? caplen - off : 0;
		add_record(d, v, d->hdr, p + off, cap < body ? cap : body, body);
		d->rec_left = (uint32_t)((d->hdr[3] << 8 | d->hdr[4]) - body);
		off += body;
	} else if (d->rec_left > 0) {
		take = d->rec_left < len ? d->rec_left : len;
		v->cont = (uint32_t)take;
		d->rec_left -= (uint32_t)take;
		off = take;
	}
	while (off < len) {
		if (len - off < 5) {
			/* The header goes on in the next segment. */
			if (caplen < len)
				goto lost;
			memcpy(d->hdr, p + off, len - off);
			d->hdrlen = (unsigned)(len - off);
			return;
		}
		if (off + 5 > caplen || !good_header(p + off))
			goto lost;
		body = (size_t)(p[off + 3] << 8 | p[off + 4]);
		if (body > len - off - 5)
			body = len - off - 5;
		cap = caplen > off + 5 ? caplen - off - 5 : 0;
		add_record(d, v, p + off, p + off + 5, cap < body ? cap : body, body);
		d->rec_left = (uint32_t)((p[off + 3] << 8 | p[off + 4]) - body);
		off += 5 + body;
	}
	return;
lost:
	d->kind = WIRE_LOST;
	d->hdrlen = 0;
	d->rec_left = 0;
	v->kind = WIRE_LOST;
}

void
wire_look(struct wire_dir *d, uint32_t seq, const unsigned char *p, size_t caplen, size_t len,
    struct wire_view *v)
{
	int32_t ahead;

	memset(v, 0, sizeof(*v));
	if (p == NULL || caplen > len)
		caplen = 0;
	v->shown = (uint32_t)wire_escape(p, caplen < WIRE_PREVIEW ? caplen : WIRE_PREVIEW,
	    v->preview, sizeof(v->preview));
	if (len == 0) {
		v->kind = d->kind;
		return;
	}
	if (d->kind == WIRE_UNKNOWN) {
		/* The first bytes of this direction decide, as Wireshark's heuristics do: a TLS
		 * stream starts with a record header (a ClientHello or ServerHello). */
		d->kind = caplen >= 5 && good_header(p) ? WIRE_TLS : WIRE_PLAIN;
		d->started = 1;
		d->next_seq = seq;
	}
	v->kind = d->kind;
	if (d->kind != WIRE_TLS)
		return;
	ahead = (int32_t)(seq - d->next_seq);
	if (ahead < 0 && (int32_t)(seq + (uint32_t)len - d->next_seq) <= 0) {
		v->retransmit = 1;	/* all of it seen before */
		return;
	}
	if (ahead != 0) {		/* a gap, or an overlap: we no longer know where records start */
		d->kind = WIRE_LOST;
		v->kind = WIRE_LOST;
		return;
	}
	walk(d, p, caplen, len, v);
	d->next_seq = seq + (uint32_t)len;
}

const char *
wire_records_str(const struct wire_view *v, char *buf, size_t buflen)
{
	size_t used = 0;
	int i, n;
	const struct wire_rec *r;

	if (buf == NULL || buflen == 0)
		return "";
	buf[0] = '\0';
#define ADD(...) do {							\
	n = snprintf(buf + used, buflen - used, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= buflen - used) {			\
		buf[used] = '\0';					\
		return buf;						\
	}								\
	used += (size_t)n;						\
} while (0)
	if (v->cont)
		ADD(TR("%u B end a record begun earlier", "%u B 是之前开始的一条记录的结"
		    "尾"), v->cont);
	for (i = 0; i < v->nrecs; i++) {
		r = &v->recs[i];
		ADD("%s%s(%u)", used ? ", " : "", wire_type_name(r->type), r->type);
		if (r->hs_type >= 0)
			ADD(" %s", tls_handshake_name(r->hs_type, NULL, 0));
		ADD(" len=%u%s", r->length, r->cut ? TR(" (goes on)", "（未完）") : "");
	}
	if (v->more)
		ADD(TR(", %d more%s", "，另有 %d 条"
		    "%s"), v->more, v->goes_on ? TR(" (the last goes on)",
	    "（最后一条未完）") : "");
#undef ADD
	return buf;
}
