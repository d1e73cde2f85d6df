/* fuzz_json.c -- libFuzzer harness for the JSON printer of the event log: a record whose string
 * fields, detail and gloss hold any bytes is written with evrec_format_json, and the line is
 * decoded again by a strict JSON and UTF-8 (RFC 3629) reader of its own: it must be one JSON
 * object on one line, and each string must decode to the bytes the record held (valid UTF-8 as
 * it is, any other byte as the code point of the same value, U+0000-00FF). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "fuzz.h"

/* The keys of the string fields, in the order the record gets them. */
static const char *const keys[] = { "host", "target", "reason", "sni", "san", "subject" };
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))
#define MAXCP	8192		/* code points of one decoded string: more than a record holds */

/* One code point at s[0..n), decoded the long way (shift, then reject what RFC 3629 forbids),
 * not the way evlog.c does it (by the second byte's range): its length, 0 if invalid. */
static int
cp_at(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* What a string the record holds must read as: its code points, a byte that is not part of
 * valid UTF-8 standing for itself. */
static size_t
expect(const char *s, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k = 0;
	int len;

	while (i < n) {
		FUZZ_CHECK(k < MAXCP);
		len = cp_at(p + i, n - i, &out[k]);
		if (len == 0) {
			out[k] = p[i];
			len = 1;
		}
		i += (size_t)len;
		k++;
	}
	return k;
}

struct rd {
	const unsigned char *p, *end;
};

static int
hex4(struct rd *r, uint32_t *v)
{
	int i;

	*v = 0;
	if (r->end - r->p < 4)
		return -1;
	for (i = 0; i < 4; i++, r->p++) {
		*v <<= 4;
		if (*r->p >= '0' && *r->p <= '9')
			*v |= (uint32_t)(*r->p - '0');
		else if ((*r->p | 0x20) >= 'a' && (*r->p | 0x20) <= 'f')
			*v |= (uint32_t)((*r->p | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* A JSON string at r->p (its opening quote) into code points; -1 if it is not strict JSON:
 * a raw control character, a bad escape, a lone surrogate escape, invalid UTF-8. */
static long
json_string(struct rd *r, uint32_t *out)
{
	size_t k = 0;
	uint32_t c, lo;
	int len;

	if (r->p >= r->end || *r->p++ != '"')
		return -1;
	for (;;) {
		if (r->p >= r->end || k >= MAXCP)
			return -1;
		if (*r->p == '"') {
			r->p++;
			return (long)k;
		}
		if (*r->p < 0x20)
			return -1;
		if (*r->p != '\\') {
			len = cp_at(r->p, (size_t)(r->end - r->p), &c);
			if (len == 0)
				return -1;
			r->p += len;
			out[k++] = c;
			continue;
		}
		if (++r->p >= r->end)
			return -1;
		switch (*r->p++) {
		case '"':  c = '"'; break;
		case '\\': c = '\\'; break;
		case '/':  c = '/'; break;
		case 'b':  c = '\b'; break;
		case 'f':  c = '\f'; break;
		case 'n':  c = '\n'; break;
		case 'r':  c = '\r'; break;
		case 't':  c = '\t'; break;
		case 'u':
			if (hex4(r, &c) == -1 || (c >= 0xdc00 && c <= 0xdfff))
				return -1;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
					return -1;
				r->p += 2;
				if (hex4(r, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			}
			break;
		default:
			return -1;
		}
		out[k++] = c;
	}
}

/* A JSON value other than a string, as the printer writes them: a number, true, false. */
static int
json_scalar(struct rd *r)
{
	const unsigned char *s = r->p;

	if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0)
		return r->p += 4, 0;
	if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0)
		return r->p += 5, 0;
	if (r->p < r->end && *r->p == '-')
		r->p++;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	return r->p > s && r->p[-1] >= '0' && r->p[-1] <= '9' ? 0 : -1;
}

static int
same(const uint32_t *a, long na, const uint32_t *b, size_t nb)
{
	return na >= 0 && (size_t)na == nb && memcmp(a, b, nb * sizeof(*a)) == 0;
}

static int
key_is(const uint32_t *k, long nk, const char *s)
{
	long i;

	if (nk != (long)strlen(s))
		return 0;
	for (i = 0; i < nk; i++)
		if (k[i] != (unsigned char)s[i])
			return 0;
	return 1;
}

/* The line must be {"key":value,...}\n and nothing else; each string field of the record (and
 * the detail and the gloss) must be there, decoding to what the record holds. */
static void
check_line(const char *line, size_t n, const struct evrec *rec)
{
	static uint32_t key[MAXCP], val[MAXCP], want[MAXCP];
	struct rd r = { (const unsigned char *)line, (const unsigned char *)line + n };
	int found[EVLOG_MAX_FIELDS + 2] = { 0 };
	long nk, nv;
	size_t nw;
	int i, nseen = 0;

	FUZZ_CHECK(n >= 3 && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
	r.end--;
	FUZZ_CHECK(*r.p++ == '{');
	for (;;) {
		nk = json_string(&r, key);
		FUZZ_CHECK(nk >= 0);
		FUZZ_CHECK(r.p < r.end && *r.p++ == ':');
		if (r.p < r.end && *r.p == '"') {
			nv = json_string(&r, val);
			FUZZ_CHECK(nv >= 0);
			for (i = 0; i < rec->nfields; i++)
				if (rec->f[i].s != NULL && key_is(key, nk, rec->f[i].key)) {
					nw = expect(rec->f[i].s, want);
					FUZZ_CHECK(same(val, nv, want, nw));
					found[i]++;
				}
			if (key_is(key, nk, "detail")) {
				nw = expect(rec->detail, want);
				FUZZ_CHECK(same(val, nv, want, nw));
				found[EVLOG_MAX_FIELDS]++;
			}
			if (key_is(key, nk, "gloss")) {
				nw = expect(rec->gloss, want);
				FUZZ_CHECK(same(val, nv, want, nw));
				found[EVLOG_MAX_FIELDS + 1]++;
			}
		} else {
			FUZZ_CHECK(json_scalar(&r) == 0);
		}
		nseen++;
		FUZZ_CHECK(r.p < r.end);
		if (*r.p == '}')
			break;
		FUZZ_CHECK(*r.p++ == ',');
	}
	FUZZ_CHECK(r.p + 1 == r.end);
	for (i = 0; i < rec->nfields; i++)
		FUZZ_CHECK(found[i] == (rec->f[i].s != NULL));
	FUZZ_CHECK(found[EVLOG_MAX_FIELDS] == (rec->detail[0] != '\0'));
	FUZZ_CHECK(found[EVLOG_MAX_FIELDS + 1] == (rec->gloss[0] != '\0'));
	FUZZ_CHECK(nseen >= 6 + rec->nfields);
}

/* Input: byte 0 picks the event (and with bit 7 the side), byte 1 --explain and --lang zh (bits
 * 0-1) and the small buffer's size (bits 2-7); the rest, cut at each NUL, fills the string
 * fields in order, then the detail, then the gloss. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[65536];
	static FILE *devnull;
	struct evrec rec;
	char *s, *piece, *small;
	size_t n, k, off, smallsz;
	unsigned i;

	if (size < 2)
		return 0;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	evlog_init(data[0] & 0x80 ? EVLOG_SERVER : EVLOG_CLIENT, EVLOG_JSON, 0, 0, devnull);
	evlog_set_explain(data[1] & 1, data[1] & 2 ? EVLOG_LANG_ZH : EVLOG_LANG_EN);
	smallsz = (size_t)(data[1] >> 2) + 1;

	s = fuzz_cstr(data + 2, size - 2);
	FUZZ_CHECK(evrec_begin(&rec, (enum evlog_event)((data[0] & 0x7f) % EVT_LAST), 1, -1) == 1);
	rec.t_us = 1500;
	rec.ts_us = 1700000000000000LL;
	off = 0;
	for (i = 0; i < NKEYS + 2 && off <= size - 2; i++) {
		piece = s + off;
		off += strlen(piece) + 1;
		if (i < NKEYS)
			evrec_str(&rec, keys[i], piece);
		else if (i == NKEYS)
			evrec_detail(&rec, "%s", piece);
		else
			evrec_gloss(&rec, "%s", piece);
	}
	evrec_int(&rec, "len", (long long)size);
	evrec_bool(&rec, "odd", size & 1);

	n = evrec_format_json(&rec, line, sizeof(line));
	FUZZ_CHECK(n == strlen(line) && n < sizeof(line) - 1);
	check_line(line, n, &rec);

	/* A small buffer: never overrun (ASan watches its end), NUL-terminated, a prefix. */
	small = malloc(smallsz);
	if (small == NULL)
		abort();
	k = evrec_format_json(&rec, small, smallsz);
	FUZZ_CHECK(k < smallsz && small[k] == '\0' && memcmp(small, line, k) == 0);
	free(small);
	free(s);
	return 0;
}
