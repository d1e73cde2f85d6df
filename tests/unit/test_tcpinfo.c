/* test_tcpinfo.c -- tcpinfo_parse_syn: the options of a SYN as the kernel saved it
 * (TCP_SAVED_SYN: the IP header, then the TCP header), and their words. */
#include <string.h>

#include "tcpinfo.h"
#include "unit.h"

/* A real SYN from this machine's loopback (127.0.0.1, Linux 6.x): MSS 65495, SACK permitted,
 * timestamps, NOP, window scale 10 -- as tshark decodes it. */
static const unsigned char syn4[] = {
	0x45, 0x00, 0x00, 0x3c, 0x44, 0x9d, 0x40, 0x00, 0x40, 0x06, 0xf8, 0x1c, 0x7f, 0x00, 0x00,
	0x01, 0x7f, 0x00, 0x00, 0x01, 0x97, 0xba, 0xb6, 0xb7, 0xeb, 0x03, 0xbc, 0x07, 0x00, 0x00,
	0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04,
	0x02, 0x08, 0x0a, 0x6b, 0xdc, 0x27, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

void
test_tcpinfo(void)
{
	struct tcpinfo_syn s;
	unsigned char b[sizeof(syn4) + 20];
	char text[128];
	size_t n;

	CHECK(tcpinfo_parse_syn(syn4, sizeof(syn4), &s) == 0);
	CHECK(s.mss == 65495 && s.wscale == 10 && s.sack_perm == 1 && s.timestamps == 1);
	CHECK(s.nother == 0);
	CHECK_STR(tcpinfo_syn_str(&s, text, sizeof(text)),
	    "MSS 65495, SACK permitted, timestamps, window scale 10");

	/* IPv6: the same TCP header behind a 40-byte IPv6 header (next header 6). */
	memset(b, 0, sizeof(b));
	b[0] = 0x60;
	b[6] = 6;
	memcpy(b + 40, syn4 + 20, sizeof(syn4) - 20);
	CHECK(tcpinfo_parse_syn(b, 40 + sizeof(syn4) - 20, &s) == 0 && s.mss == 65495);

	/* No options at all: an MSS-less SYN (the peer then assumes 536). */
	memcpy(b, syn4, 40);
	b[32] = 0x50;
	CHECK(tcpinfo_parse_syn(b, 40, &s) == 0 && s.mss == -1 && s.wscale == -1 &&
	    s.sack_perm == 0 && s.timestamps == 0);
	CHECK_STR(tcpinfo_syn_str(&s, text, sizeof(text)), "no MSS option");

	/* An unknown option is named by its kind; a TFO cookie option (34) here. */
	memcpy(b, syn4, sizeof(syn4));
	b[32] = 0xc0;			/* 48-byte header: 8 more bytes of options */
	b[60] = 34; b[61] = 6; b[62] = 1; b[63] = 2; b[64] = 3; b[65] = 4; b[66] = 1; b[67] = 0;
	CHECK(tcpinfo_parse_syn(b, 68, &s) == 0 && s.nother == 1 && s.other[0] == 34);
	CHECK(strstr(tcpinfo_syn_str(&s, text, sizeof(text)), ", option 34") != NULL);

	/* Malformed: cut short anywhere, an option running past the header, not a SYN. */
	for (n = 0; n < sizeof(syn4); n++)
		CHECK(tcpinfo_parse_syn(syn4, n, &s) == -1);
	memcpy(b, syn4, sizeof(syn4));
	b[41] = 40;			/* the MSS option claims 40 bytes */
	CHECK(tcpinfo_parse_syn(b, sizeof(syn4), &s) == -1);
	memcpy(b, syn4, sizeof(syn4));
	b[33] = 0x10;			/* ACK only */
	CHECK(tcpinfo_parse_syn(b, sizeof(syn4), &s) == -1);
	b[0] = 0x55;			/* neither IPv4 nor IPv6 */
	CHECK(tcpinfo_parse_syn(b, sizeof(syn4), &s) == -1);
	/* a short buffer for the words: cut, still a string */
	CHECK(strlen(tcpinfo_syn_str(&s, text, 8)) == 7);
}
