/* record.c -- each served connection's own events, kept from its accept (the handshake is over
 * before its "GET /" arrives) so the page can show the visitor their handshake, and a bounded
 * history of closed ones for /live. The events' facts only (the JSON log's records without the
 * gloss and explain text), at most RECORD_MAX bytes per connection, and the ClientHello as it
 * came. Kept while the event log is on; with -q nothing is formatted, so nothing is kept. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "evlog.h"
#include "server.h"

#define NBUCKETS	1024	/* hash chains by connection id */
#define TLSREC_BYTES	((RECORD_TLSREC_FIRST + RECORD_TLSREC_LAST) * sizeof(struct record_tlsrec))
#define FIRST_CAP	512	/* the first allocation of a record's events; doubled up to RECORD_MAX */

static struct record	**bucket;
static struct record	*hist_head, *hist_tail;	/* closed ones kept: oldest first */
static int		 hist_max, hist_n;
static record_listener_fn listener;

static struct record **
slot(unsigned id)
{
	struct record **p;

	for (p = &bucket[id % NBUCKETS]; *p != NULL; p = &(*p)->next)
		if ((*p)->id == id)
			break;
	return p;
}

static void
record_free1(struct record *r)
{
	free(r->pk);
	free(r->hello);
	free(r->req);
	free(r->tlsrec);
	free(r);
}

/* Out of the hash (and the history if it is there), then freed. */
static void
drop(struct record *r)
{
	struct record **p = slot(r->id);

	if (*p == r)
		*p = r->next;
	if (r->closed) {
		if (r->hist_prev != NULL)
			r->hist_prev->hist_next = r->hist_next;
		else
			hist_head = r->hist_next;
		if (r->hist_next != NULL)
			r->hist_next->hist_prev = r->hist_prev;
		else
			hist_tail = r->hist_prev;
		hist_n--;
	}
	record_free1(r);
}

void
record_init(int history)
{
	hist_max = history > 0 ? history : 0;
}

void
record_set_listener(record_listener_fn fn)
{
	listener = fn;
}

static void
append(struct record *r, const struct evrec *ev)
{
	unsigned char buf[8192];	/* one packed event (a --wire segment is the longest) */
	size_t n, want;
	unsigned char *p;

	/* full once: later events are only counted (not even packed: a long keep-alive
	 * connection's requests cost no more than the log's own line) */
	if (r->full || (n = record_pack(ev, r->t0_us, r->ts0_us, buf, sizeof(buf))) == 0) {
		r->dropped++;
		return;
	}
	if (r->pk_len + n > r->pk_cap) {
		want = r->pk_cap ? r->pk_cap : FIRST_CAP;
		while (want < r->pk_len + n && want < RECORD_MAX)
			want *= 2;
		if (want > RECORD_MAX)
			want = RECORD_MAX;
		if (r->pk_len + n > want || (p = realloc(r->pk, want)) == NULL) {
			/* full (or no memory): later events are counted, not kept */
			r->full = 1;
			r->dropped++;
			return;
		}
		r->pk = p;
		r->pk_cap = want;
	}
	memcpy(r->pk + r->pk_len, buf, n);
	r->pk_len += n;
	r->nev++;
}

/* The JSON of one record at a time, kept until another record (or more of this one) is
 * asked for: a page asks for the same record several times while it is drawn. */
static struct {
	char		*p;
	size_t		 len, cap;
	const struct record *r;
	unsigned	 id, nev;
} js;

const char *
record_events(const struct record *r, size_t *n)
{
	static char line[65536];	/* one event's JSON, every byte escaped at worst */
	const unsigned char *p, *end;
	struct evrec ev;
	size_t k;
	char *q;

	*n = 0;
	if (js.r == r && js.id == r->id && js.nev == r->nev && js.p != NULL) {
		*n = js.len;
		return js.p;
	}
	js.r = NULL;
	js.len = 0;
	p = r->pk;
	end = r->pk + r->pk_len;
	while (p != NULL && p < end) {
		if (record_unpack(&p, end, r->id, r->t0_us, r->ts0_us, &ev) == -1)
			break;
		k = evrec_format_facts(&ev, line, sizeof(line));
		if (js.len + k > js.cap) {
			size_t want = js.cap ? js.cap : 16384;

			while (want < js.len + k)
				want *= 2;
			if ((q = realloc(js.p, want)) == NULL)
				return NULL;
			js.p = q;
			js.cap = want;
		}
		memcpy(js.p + js.len, line, k);
		js.len += k;
	}
	if (js.p == NULL) {	/* no event unpacked: an empty buffer all the same */
		if ((js.p = malloc(16384)) == NULL)
			return NULL;
		js.cap = 16384;
	}
	js.r = r;
	js.id = r->id;
	js.nev = r->nev;
	*n = js.len;
	return js.p;
}

/* evlog's tap: every record the log emits. A served connection's record starts with its
 * established event (the first one it logs); the events of an id with no record (the
 * listeners', the program's) are not kept. */
void
record_tap(const struct evrec *ev)
{
	struct record **p, *r = NULL;

	if (ev->conn == 0 && listener == NULL)
		return;
	if (ev->ev == EVT_PHASE || ev->ev == EVT_KEYLOG || ev->ev == EVT_DISSECT)
		return;		/* the program's own steps, secrets' file, --dissect's fields */
	if (ev->conn != 0 && bucket == NULL &&
	    (bucket = calloc(NBUCKETS, sizeof(*bucket))) == NULL)
		return;
	if (ev->conn != 0) {
		p = slot(ev->conn);
		r = *p;
		if (r == NULL && ev->ev == EVT_ESTABLISHED &&
		    (r = calloc(1, sizeof(*r))) != NULL) {
			r->id = ev->conn;
			r->t0_us = ev->t_us;
			r->ts0_us = ev->ts_us;
			*p = r;
		}
		if (r != NULL)
			append(r, ev);
	}
	if (listener != NULL)
		listener(ev, r);
}

void
record_hello(struct conn *c, const unsigned char *msg, size_t len)
{
	struct record *r;

	if (bucket == NULL || (r = *slot(c->id)) == NULL || r->hello != NULL)
		return;		/* the first ClientHello (a second one answers a HelloRetryRequest) */
	r->hello_full = len;
	if (len > RECORD_HELLO_MAX)
		len = RECORD_HELLO_MAX;
	if ((r->hello = malloc(len)) == NULL)
		return;
	memcpy(r->hello, msg, len);
	r->hello_len = len;
}

/* Plain HTTP only: over TLS the path sees records, not the head (record_tls_header). Holds
 * the last request's head, RECORD_REQ_MAX bytes at most, in an allocation of its size. */
void
record_request(struct conn *c, const char *head, size_t len)
{
	struct record *r;
	char *p;
	size_t n = len < RECORD_REQ_MAX ? len : RECORD_REQ_MAX;

	if (c->ssl != NULL || bucket == NULL || (r = *slot(c->id)) == NULL)
		return;
	if (n != r->req_len) {
		if ((p = realloc(r->req, n)) == NULL)
			return;
		r->req = p;
		r->req_len = n;
	}
	r->req_full = len;
	memcpy(r->req, head, n);
}

/* 12 bytes a header: the first RECORD_TLSREC_FIRST (the handshake), then a ring of the
 * last RECORD_TLSREC_LAST (this request's, the response before it). */
void
record_tls_header(struct conn *c, int out, const unsigned char *hdr)
{
	struct record *r;
	struct record_tlsrec *t;
	unsigned i;

	if (bucket == NULL || (r = *slot(c->id)) == NULL)
		return;
	if (r->tlsrec == NULL) {
		if ((r->tlsrec = calloc(1, TLSREC_BYTES)) == NULL)
			return;
	}
	i = r->ntlsrec < RECORD_TLSREC_FIRST ? r->ntlsrec : RECORD_TLSREC_FIRST +
	    (r->ntlsrec - RECORD_TLSREC_FIRST) % RECORD_TLSREC_LAST;
	t = &r->tlsrec[i];
	t->t_us = (uint64_t)(evlog_now_us() - r->t0_us);
	t->in = !out;
	t->type = hdr[0];
	t->version = (uint16_t)(hdr[1] << 8 | hdr[2]);
	t->len = (uint16_t)(hdr[3] << 8 | hdr[4]);
	r->ntlsrec++;
}

unsigned
record_tlsrec_kept(const struct record *r)
{
	if (r->tlsrec == NULL)
		return 0;
	return r->ntlsrec < RECORD_TLSREC_FIRST + RECORD_TLSREC_LAST ? r->ntlsrec :
	    RECORD_TLSREC_FIRST + RECORD_TLSREC_LAST;
}

const struct record_tlsrec *
record_tlsrec_get(const struct record *r, unsigned i, unsigned *seq)
{
	unsigned last, k;

	if (i < RECORD_TLSREC_FIRST || r->ntlsrec <= RECORD_TLSREC_FIRST + RECORD_TLSREC_LAST) {
		*seq = i;
		return &r->tlsrec[i];
	}
	/* the ring: its oldest entry is the one written next */
	k = i - RECORD_TLSREC_FIRST;
	last = r->ntlsrec - RECORD_TLSREC_LAST + k;	/* this entry's number */
	*seq = last;
	return &r->tlsrec[RECORD_TLSREC_FIRST + (last - RECORD_TLSREC_FIRST) % RECORD_TLSREC_LAST];
}

struct record *
record_find(unsigned id)
{
	return bucket == NULL ? NULL : *slot(id);
}

void
record_closed(unsigned id)
{
	struct record *r;

	if (bucket == NULL || (r = *slot(id)) == NULL || r->closed)
		return;
	if (hist_max == 0) {
		drop(r);
		return;
	}
	r->closed = 1;
	r->hist_prev = hist_tail;
	r->hist_next = NULL;
	if (hist_tail != NULL)
		hist_tail->hist_next = r;
	else
		hist_head = r;
	hist_tail = r;
	if (++hist_n > hist_max)
		drop(hist_head);
}

void
record_each(void (*fn)(const struct record *, void *), void *arg)
{
	const struct record *r;
	int i;

	for (i = 0; bucket != NULL && i < NBUCKETS; i++)
		for (r = bucket[i]; r != NULL; r = r->next)
			fn(r, arg);
}

const struct record *
record_history(void)
{
	return hist_head;
}

void
record_free(void)
{
	struct record *r, *next;
	int i;

	if (bucket == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++)
		for (r = bucket[i]; r != NULL; r = next) {
			next = r->next;
			record_free1(r);
		}
	free(bucket);
	bucket = NULL;
	free(js.p);
	memset(&js, 0, sizeof(js));
	hist_head = hist_tail = NULL;
	hist_n = 0;
}
