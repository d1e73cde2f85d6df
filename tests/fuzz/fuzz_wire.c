/* fuzz_wire.c -- libFuzzer harness for wire_look (--wire, the eavesdropper's view) over the
 * segments of one direction of a connection. Each segment of the input is a 3-byte header --
 * payload length (16 bits, big-endian), a control byte (bit 7: resend the previous segment's
 * sequence number; bit 6: skip ahead one byte, a gap; bits 0-5: captured bytes / 8, 0 = all) --
 * then the payload bytes (fewer if the input ends). Each payload is handed over as an exact-size
 * copy, so any read past what was captured is caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "fuzz.h"

static void
check_view(const struct wire_view *v, size_t caplen)
{
	size_t i, n;

	FUZZ_CHECK(v->kind >= WIRE_UNKNOWN && v->kind <= WIRE_LOST);
	FUZZ_CHECK(v->nrecs >= 0 && v->nrecs <= WIRE_MAX_RECS && v->more >= 0);
	FUZZ_CHECK(v->starts == (uint32_t)(v->nrecs + v->more));
	FUZZ_CHECK(v->starts > 0 || !v->goes_on);
	FUZZ_CHECK(v->shown <= caplen && v->shown <= WIRE_PREVIEW);
	/* The preview is terminated in its buffer and holds no byte a terminal would act on. */
	FUZZ_CHECK(memchr(v->preview, '\0', sizeof(v->preview)) != NULL);
	n = strlen(v->preview);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(v->preview[i] >= 0x20 && v->preview[i] < 0x7f);
	for (i = 0; i < (size_t)v->nrecs; i++) {
		FUZZ_CHECK(v->recs[i].type >= 20 && v->recs[i].type <= 23);
		FUZZ_CHECK(v->recs[i].version >> 8 == 3 && v->recs[i].length <= 16384 + 2048);
		FUZZ_CHECK(v->recs[i].hs_type >= -1 && v->recs[i].hs_type <= 255);
	}
}

static void
check_records_str(const struct wire_view *v, size_t len)
{
	char full[1024], *cut = malloc(len);
	size_t n;

	if (cut == NULL)
		abort();
	FUZZ_CHECK(wire_records_str(v, full, sizeof(full)) == full);
	FUZZ_CHECK(wire_records_str(v, cut, len) == cut);
	FUZZ_CHECK(memchr(cut, '\0', len) != NULL);
	n = strlen(cut);
	FUZZ_CHECK(strncmp(cut, full, n) == 0);
	free(cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_dir d, before;
	struct wire_view v;
	const uint8_t *p = data, *end = data + size;
	uint32_t seq = 1000, prev = 1000;
	size_t len, have, caplen;
	unsigned char *copy;
	char esc[16];

	memset(&d, 0, sizeof(d));
	while (end - p >= 3) {
		len = (size_t)p[0] << 8 | p[1];
		if (p[2] & 0x80)
			seq = prev;
		else if (p[2] & 0x40)
			seq++;
		caplen = (p[2] & 0x3f) ? (size_t)(p[2] & 0x3f) * 8 : len;
		p += 3;
		have = (size_t)(end - p);
		if (caplen > have)
			caplen = have;
		if (caplen > len)
			caplen = len;
		if ((copy = malloc(caplen ? caplen : 1)) == NULL)
			abort();
		memcpy(copy, p, caplen);
		before = d;
		wire_look(&d, seq, copy, caplen, len, &v);
		free(copy);
		check_view(&v, caplen);
		FUZZ_CHECK(d.hdrlen < 5);
		/* What a stream is, once decided, stays: plain is plain, lost is lost. */
		if (before.kind == WIRE_PLAIN || before.kind == WIRE_LOST)
			FUZZ_CHECK(d.kind == before.kind);
		if (before.kind == WIRE_TLS)
			FUZZ_CHECK(d.kind == WIRE_TLS || d.kind == WIRE_LOST);
		if (v.retransmit)
			FUZZ_CHECK(memcmp(&d, &before, sizeof(d)) == 0);
		check_records_str(&v, 1 + (size_t)(len % 64));
		p += caplen;
		prev = seq;
		seq += (uint32_t)len;
	}
	/* The escaper on the rest, into a small buffer: never an escape cut in half. */
	FUZZ_CHECK(wire_escape(p, (size_t)(end - p), esc, sizeof(esc)) <= (size_t)(end - p));
	FUZZ_CHECK(memchr(esc, '\0', sizeof(esc)) != NULL);
	return 0;
}
