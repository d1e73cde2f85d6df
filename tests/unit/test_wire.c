/* test_wire.c -- unit tests for the eavesdropper's view (--wire): escaping, and TLS record
 * headers followed across segments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "wire.h"

/* A record header: type, version 3.minor, length. */
static size_t
rec(unsigned char *p, unsigned type, unsigned minor, unsigned len)
{
	p[0] = (unsigned char)type;
	p[1] = 3;
	p[2] = (unsigned char)minor;
	p[3] = (unsigned char)(len >> 8);
	p[4] = (unsigned char)len;
	return 5;
}

/* Look at an exact-size heap copy, so AddressSanitizer catches any read past the end. */
static void
look(struct wire_dir *d, uint32_t seq, const unsigned char *p, size_t caplen, size_t len,
    struct wire_view *v)
{
	unsigned char *copy = malloc(caplen ? caplen : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, p, caplen);
	wire_look(d, seq, copy, caplen, len, v);
	free(copy);
}

static void
test_wire_escape(void)
{
	static const unsigned char bin[] = { 'G', 'E', 'T', '\r', '\n', 0x01, 0x1b, '"', '\\',
	    0x7f, 0xe4, '\t', 0 };
	char buf[128], small[8];
	size_t n;

	n = wire_escape(bin, sizeof(bin), buf, sizeof(buf));
	CHECK(n == sizeof(bin));
	CHECK_STR(buf, "GET\\r\\n\\x01\\x1b\\\"\\\\\\x7f\\xe4\\t\\x00");
	/* Never a control byte, never an escape cut in half, always terminated. */
	n = wire_escape(bin, sizeof(bin), small, sizeof(small));
	CHECK_STR(small, "GET\\r\\n");
	CHECK(n == 5);
	n = wire_escape(bin, sizeof(bin), small, 7);
	CHECK_STR(small, "GET\\r");
	CHECK(n == 4);
	CHECK(wire_escape(bin, sizeof(bin), small, 1) == 0 && small[0] == '\0');
	CHECK(wire_escape(bin, sizeof(bin), NULL, 0) == 0);
}

static void
test_wire_plain(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: "
	    "handshake-lab/1\r\nAccept: */*\r\n\r\n";
	struct wire_dir d;
	struct wire_view v;

	memset(&d, 0, sizeof(d));
	look(&d, 1000, (const unsigned char *)req, strlen(req), strlen(req), &v);
	CHECK(v.kind == WIRE_PLAIN && d.kind == WIRE_PLAIN);
	CHECK(v.nrecs == 0 && v.shown == WIRE_PREVIEW);
	CHECK(strncmp(v.preview, "GET / HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\n", 41) == 0);
	CHECK(strchr(v.preview, '\r') == NULL && strchr(v.preview, '\n') == NULL);
	CHECK_STR(wire_kind_name(v.kind), "plain");
	/* A later segment that happens to look like a record stays plain. */
	{
		unsigned char p[16];

		memset(p, 0, sizeof(p));
		rec(p, 23, 3, 11);
		look(&d, 1000 + (uint32_t)strlen(req), p, sizeof(p), sizeof(p), &v);
		CHECK(v.kind == WIRE_PLAIN && v.nrecs == 0);
	}
	/* Nothing captured: an empty preview, no crash. */
	memset(&d, 0, sizeof(d));
	wire_look(&d, 1, NULL, 0, 100, &v);
	CHECK(v.kind == WIRE_PLAIN && v.shown == 0 && v.preview[0] == '\0');
}

static void
test_wire_tls(void)
{
	unsigned char p[2048];
	char s[256];
	struct wire_dir d;
	struct wire_view v;
	size_t n;

	/* The ClientHello in one segment: readable as a handshake record. */
	memset(&d, 0, sizeof(d));
	memset(p, 0xaa, sizeof(p));
	n = rec(p, 22, 1, 292);
	p[n] = 1;			/* ClientHello */
	look(&d, 5000, p, 297, 297, &v);
	CHECK(v.kind == WIRE_TLS && v.nrecs == 1 && v.more == 0 && v.cont == 0);
	CHECK(v.recs[0].type == 22 && v.recs[0].version == 0x0301 && v.recs[0].length == 292);
	CHECK(v.recs[0].hs_type == 1 && v.recs[0].cut == 0);
	CHECK_STR(wire_records_str(&v, s, sizeof(s)), "handshake(22) ClientHello len=292");
	CHECK(d.next_seq == 5297 && d.rec_left == 0);

	/* The server's flight: ServerHello, ChangeCipherSpec, then records after the CCS. A
	 * handshake record after the CCS is encrypted: no message name. */
	memset(&d, 0, sizeof(d));
	n = rec(p, 22, 3, 4);
	memcpy(p + n, "\x02\x00\x00\x00", 4);
	n += 4;
	n += rec(p + n, 20, 3, 1);
	p[n++] = 1;
	n += rec(p + n, 22, 3, 3);
	memset(p + n, 0x14, 3);		/* would read as Finished */
	n += 3;
	n += rec(p + n, 23, 3, 10);
	memset(p + n, 0x55, 10);
	n += 10;
	look(&d, 1, p, n, n, &v);
	CHECK(v.kind == WIRE_TLS && v.nrecs == 4);
	CHECK(v.recs[0].hs_type == 2 && v.recs[1].type == 20 && v.recs[2].hs_type == -1);
	CHECK_STR(wire_records_str(&v, s, sizeof(s)), "handshake(22) ServerHello len=4, "
	    "change_cipher_spec(20) len=1, handshake(22) len=3, application_data(23) len=10");
	/* Cut short: only whole entries. */
	CHECK_STR(wire_records_str(&v, s, 40), "handshake(22) ServerHello len=4");
	CHECK(wire_records_str(&v, NULL, 0)[0] == '\0');

	/* A record across three segments, and a header split between two. */
	memset(&d, 0, sizeof(d));
	n = rec(p, 23, 3, 300);
	look(&d, 100, p, 105, 105, &v);		/* header + 100 body bytes */
	CHECK(v.nrecs == 1 && v.recs[0].cut == 1 && d.rec_left == 200);
	CHECK(v.starts == 1 && v.rec_bytes == 305 && v.goes_on == 1);
	look(&d, 205, p, 100, 100, &v);		/* 100 more, all inside the record */
	CHECK(v.kind == WIRE_TLS && v.nrecs == 0 && v.cont == 100 && d.rec_left == 100);
	CHECK_STR(wire_records_str(&v, s, sizeof(s)), "100 B end a record begun earlier");
	memset(p, 0x77, 100);
	rec(p + 100, 23, 3, 20);
	look(&d, 305, p, 103, 103, &v);		/* the end, and 3 bytes of the next header */
	CHECK(v.cont == 100 && v.nrecs == 0 && d.hdrlen == 3);
	look(&d, 408, p + 103, 22, 22, &v);	/* the header's last 2 bytes and the body */
	CHECK(v.kind == WIRE_TLS && v.nrecs == 1 && v.recs[0].length == 20 && !v.recs[0].cut);
	CHECK(d.hdrlen == 0 && d.rec_left == 0 && d.next_seq == 430);

	/* A retransmission is recognised and changes nothing. */
	look(&d, 408, p + 103, 22, 22, &v);
	CHECK(v.retransmit == 1 && v.nrecs == 0 && d.kind == WIRE_TLS && d.next_seq == 430);
	/* A gap (a segment the capture missed): record boundaries are lost, for good. */
	n = rec(p, 23, 3, 5);
	look(&d, 500, p, 10, 10, &v);
	CHECK(v.kind == WIRE_LOST && d.kind == WIRE_LOST);
	look(&d, 510, p, 10, 10, &v);
	CHECK(v.kind == WIRE_LOST && v.nrecs == 0);
	CHECK_STR(wire_kind_name(WIRE_LOST), "tls_lost");
}

static void
test_wire_limits(void)
{
	unsigned char p[256];
	struct wire_dir d;
	struct wire_view v;
	size_t n = 0;
	int i;

	/* More records than listed: counted. */
	memset(&d, 0, sizeof(d));
	for (i = 0; i < WIRE_MAX_RECS + 3; i++) {
		n += rec(p + n, 23, 3, 2);
		p[n++] = 0;
		p[n++] = 0;
	}
	look(&d, 7, p, n, n, &v);
	CHECK(v.kind == WIRE_TLS && v.nrecs == WIRE_MAX_RECS && v.more == 3);
	CHECK(v.starts == WIRE_MAX_RECS + 3 && v.rec_bytes == n && v.goes_on == 0);
	/* A bad header after a good one. */
	memset(&d, 0, sizeof(d));
	n = rec(p, 22, 1, 1);
	p[n++] = 1;
	rec(p + n, 99, 3, 1);
	look(&d, 7, p, n + 6, n + 6, &v);
	CHECK(v.kind == WIRE_LOST && v.nrecs == 1);
	/* A length TLS never allows. */
	memset(&d, 0, sizeof(d));
	rec(p, 22, 3, 0);
	p[3] = 0xff;
	look(&d, 7, p, 5, 5, &v);
	CHECK(v.kind == WIRE_PLAIN);
	/* The next header lies beyond what was captured: lost, not read. */
	memset(&d, 0, sizeof(d));
	n = rec(p, 22, 1, 10);
	memset(p + n, 1, 10);
	look(&d, 7, p, 15, 40, &v);
	CHECK(v.kind == WIRE_LOST && v.nrecs == 1);
	/* caplen larger than len is not trusted. */
	memset(&d, 0, sizeof(d));
	look(&d, 7, p, 15, 10, &v);
	CHECK(v.shown == 0);
	CHECK_STR(wire_type_name(21), "alert");
	CHECK_STR(wire_type_name(24), "unknown");
}

void
test_wire(void)
{
	test_wire_escape();
	test_wire_plain();
	test_wire_tls();
	test_wire_limits();
}
