/* test_capture.c -- unit tests for the pure frame parser and the flags names of the capture. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>

#include <pcap/dlt.h>

#include "unit.h"
#include "capture.h"

/* What to put in a hand-made frame. */
struct frame {
	int		dlt;
	int		version;	/* 4 or 6 */
	int		vlan;		/* EN10MB: one 802.1Q tag */
	uint32_t	null_af;	/* DLT_NULL/LOOP: family value as written (already swapped) */
	int		ifindex;	/* DLT_LINUX_SLL2: the interface index */
	unsigned	hatype;		/* DLT_LINUX_SLL/SLL2: ARPHRD_ type (772 loopback) */
	unsigned	ethertype;	/* cooked headers: the protocol, if not the version's */
	int		ip_opts;	/* IPv4 option bytes (multiple of 4) */
	int		proto;		/* 0: TCP */
	int		tcp_opts;	/* TCP option bytes (multiple of 4) */
	unsigned	flags;
	uint32_t	seq, ack;
	uint16_t	win;
	unsigned	len;		/* payload bytes the IP header announces */
	unsigned	captured;	/* payload bytes actually in the frame (the snaplen cut) */
	unsigned	pad;		/* trailing bytes beyond the IP packet (Ethernet padding) */
};

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Build f into buf; returns the frame's length and the length of its headers in *hdrs. */
static size_t
build(const struct frame *f, unsigned char *buf, size_t *hdrs)
{
	static const unsigned char v6src[16] = { 0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,1 };
	static const unsigned char v6dst[16] = { 0x20,0x01,0x0d,0xb8, 0,0,0,0, 0,0,0,0, 0,0,0,2 };
	unsigned char	*ip, *tcp;
	size_t		 off = 0, iphl, tcphl = 20 + (size_t)f->tcp_opts, i;
	unsigned	 proto = f->proto ? (unsigned)f->proto : IPPROTO_TCP;

	memset(buf, 0, 2048);
	if (f->dlt == DLT_EN10MB) {
		memcpy(buf, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12);
		off = 12;
		if (f->vlan) {
			put16(buf + off, 0x8100);
			put16(buf + off + 2, 42);
			off += 4;
		}
		put16(buf + off, f->version == 4 ? 0x0800 : 0x86dd);
		off += 2;
	} else if (f->dlt == DLT_NULL || f->dlt == DLT_LOOP) {
		memcpy(buf, &f->null_af, 4);
		off = 4;
	} else if (f->dlt == DLT_LINUX_SLL2) {
		/* protocol, reserved, ifindex, hatype, packet type, address length, address */
		put16(buf, f->ethertype ? f->ethertype : f->version == 4 ? 0x0800 : 0x86dd);
		put32(buf + 4, (uint32_t)f->ifindex);
		put16(buf + 8, f->hatype);
		buf[10] = 4;			/* PACKET_OUTGOING */
		buf[11] = 6;
		memcpy(buf + 12, "\x02\x00\x00\x00\x00\x01", 6);
		off = 20;
	} else if (f->dlt == DLT_LINUX_SLL) {
		/* packet type, hatype, address length, address, protocol */
		put16(buf, 0);			/* PACKET_HOST */
		put16(buf + 2, f->hatype);
		put16(buf + 4, 6);
		memcpy(buf + 6, "\x02\x00\x00\x00\x00\x01", 6);
		put16(buf + 14, f->ethertype ? f->ethertype : f->version == 4 ? 0x0800 : 0x86dd);
		off = 16;
	}
	ip = buf + off;
	if (f->version == 4) {
		iphl = 20 + (size_t)f->ip_opts;
		ip[0] = (unsigned char)(0x40 | iphl / 4);
		put16(ip + 2, (unsigned)(iphl + tcphl + f->len));
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = 64;
		ip[9] = (unsigned char)proto;
		put32(ip + 12, 0x7f000001);
		put32(ip + 16, 0x7f000002);
		for (i = 20; i < iphl; i++)
			ip[i] = 1;		/* NOP options */
	} else {
		iphl = 40;
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(tcphl + f->len));
		ip[6] = (unsigned char)proto;
		ip[7] = 64;
		memcpy(ip + 8, v6src, 16);
		memcpy(ip + 24, v6dst, 16);
	}
	tcp = ip + iphl;
	put16(tcp, 40000);
	put16(tcp + 2, 8443);
	put32(tcp + 4, f->seq);
	put32(tcp + 8, f->ack);
	tcp[12] = (unsigned char)(tcphl / 4 << 4);
	tcp[13] = (unsigned char)f->flags;
	put16(tcp + 14, f->win);
	for (i = 20; i < tcphl; i++)
		tcp[i] = 1;
	*hdrs = off + iphl + tcphl;
	for (i = 0; i < f->captured; i++)
		buf[*hdrs + i] = 'x';
	return *hdrs + f->captured + f->pad;
}

/* Parse an exact-size heap copy, so AddressSanitizer catches any read past the end. */
static int
parse_copy(const unsigned char *buf, size_t n, int dlt, struct capture_segment *seg)
{
	unsigned char	*copy = malloc(n ? n : 1);
	int		 rc;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, n);
	rc = capture_parse(copy, n, dlt, seg);
	free(copy);
	return rc;
}

static int
parse_frame(const struct frame *f, struct capture_segment *seg)
{
	unsigned char	buf[2048];
	size_t		hdrs, n = build(f, buf, &hdrs);

	return parse_copy(buf, n, f->dlt, seg);
}

/* Every cut shorter than the headers fails; every cut at or after them parses with the same
 * payload length (it comes from the IP header). */
static int
truncations_ok(const struct frame *f)
{
	unsigned char		buf[2048];
	struct capture_segment	seg;
	size_t			hdrs, n = build(f, buf, &hdrs), i;
	int			rc;

	for (i = 0; i <= n; i++) {
		rc = parse_copy(buf, i, f->dlt, &seg);
		if (i < hdrs && rc != -1)
			return 0;
		if (i >= hdrs && (rc != 0 || seg.len != f->len))
			return 0;
		/* The captured payload: what the cut left of it, never past the IP packet. */
		if (i >= hdrs && seg.caplen != (i - hdrs < f->len ? i - hdrs : f->len))
			return 0;
	}
	return 1;
}

/* The payload pointer and caplen name exactly the captured payload bytes (the 'x's), not the
 * padding after the IP packet. */
static int
payload_ok(const struct frame *f)
{
	unsigned char		buf[2048];
	struct capture_segment	seg;
	size_t			hdrs, n = build(f, buf, &hdrs), i;

	if (capture_parse(buf, n, f->dlt, &seg) != 0)
		return 0;
	if (seg.payload != buf + hdrs || seg.caplen != (f->captured < f->len ? f->captured : f->len))
		return 0;
	for (i = 0; i < seg.caplen; i++)
		if (seg.payload[i] != 'x')
			return 0;
	return 1;
}

static int
is_v4(const struct capture_segment *s, uint32_t src, unsigned sport, uint32_t dst, unsigned dport)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&s->src;
	const struct sockaddr_in *b = (const struct sockaddr_in *)&s->dst;

	return a->sin_family == AF_INET && b->sin_family == AF_INET &&
	    ntohl(a->sin_addr.s_addr) == src && ntohs(a->sin_port) == sport &&
	    ntohl(b->sin_addr.s_addr) == dst && ntohs(b->sin_port) == dport;
}

static int
is_v6(const struct capture_segment *s, const char *src, unsigned sport, const char *dst,
    unsigned dport)
{
	const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&s->src;
	const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&s->dst;
	struct in6_addr x, y;

	return inet_pton(AF_INET6, src, &x) == 1 && inet_pton(AF_INET6, dst, &y) == 1 &&
	    a->sin6_family == AF_INET6 && b->sin6_family == AF_INET6 &&
	    memcmp(&a->sin6_addr, &x, 16) == 0 && ntohs(a->sin6_port) == sport &&
	    memcmp(&b->sin6_addr, &y, 16) == 0 && ntohs(b->sin6_port) == dport;
}

static uint32_t
swap32(uint32_t v)
{
	return (v >> 24) | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | (v << 24);
}

static void
test_capture_ipv4(void)
{
	struct capture_segment	s;
	struct frame		f;

	/* 第一次握手: SYN */
	memset(&f, 0, sizeof(f));
	f.dlt = DLT_EN10MB;
	f.version = 4;
	f.flags = CAPTURE_SYN;
	f.seq = 0xfedcba98;
	f.win = 65495;
	f.tcp_opts = 20;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(is_v4(&s, 0x7f000001, 40000, 0x7f000002, 8443));
	CHECK(s.seq == 0xfedcba98 && s.ack == 0 && s.win == 65495);
	CHECK(s.flags == CAPTURE_SYN && s.len == 0 && s.ts_us == 0);
	CHECK(truncations_ok(&f));

	/* 第二次握手: SYN+ACK with 40 bytes of options, and IP options (IHL 7) */
	f.flags = CAPTURE_SYN | CAPTURE_ACK;
	f.seq = 1;
	f.ack = 0xfedcba99;
	f.tcp_opts = 40;
	f.ip_opts = 8;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == (CAPTURE_SYN | CAPTURE_ACK) && s.seq == 1 && s.ack == 0xfedcba99);
	CHECK(s.len == 0 && ntohs(((struct sockaddr_in *)&s.dst)->sin_port) == 8443);
	CHECK(truncations_ok(&f));

	/* a data segment: 1000 bytes announced, only 30 captured (the snaplen cut) */
	f.ip_opts = 0;
	f.tcp_opts = 12;
	f.flags = CAPTURE_PSH | CAPTURE_ACK;
	f.len = 1000;
	f.captured = 30;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.len == 1000 && s.flags == (CAPTURE_PSH | CAPTURE_ACK));
	CHECK(payload_ok(&f));
	CHECK(truncations_ok(&f));

	/* the whole payload captured, plus Ethernet padding that must not count */
	f.len = 7;
	f.captured = 7;
	f.pad = 5;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.len == 7);
	CHECK(payload_ok(&f));

	/* 第一次挥手: FIN+ACK, with ECE and CWR set on the wire (not reported) */
	f.len = f.captured = f.pad = 0;
	f.flags = CAPTURE_FIN | CAPTURE_ACK | 0xc0;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == (CAPTURE_FIN | CAPTURE_ACK) && s.len == 0);

	/* one VLAN tag */
	f.flags = CAPTURE_ACK;
	f.vlan = 1;
	f.len = f.captured = 3;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == CAPTURE_ACK && s.len == 3 && is_v4(&s, 0x7f000001, 40000, 0x7f000002, 8443));
	CHECK(truncations_ok(&f));
}

static void
test_capture_ipv6(void)
{
	struct capture_segment	s;
	struct frame		f;

	memset(&f, 0, sizeof(f));
	f.dlt = DLT_EN10MB;
	f.version = 6;
	f.flags = CAPTURE_SYN;
	f.seq = 123456789;
	f.win = 65476;
	f.tcp_opts = 20;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(is_v6(&s, "::1", 40000, "2001:db8::2", 8443));
	CHECK(s.seq == 123456789 && s.ack == 0 && s.win == 65476 && s.flags == CAPTURE_SYN);
	CHECK(truncations_ok(&f));

	f.flags = CAPTURE_SYN | CAPTURE_ACK;
	f.ack = 123456790;
	f.tcp_opts = 40;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == (CAPTURE_SYN | CAPTURE_ACK) && s.ack == 123456790 && s.len == 0);
	CHECK(truncations_ok(&f));

	f.flags = CAPTURE_PSH | CAPTURE_ACK;
	f.tcp_opts = 12;
	f.len = 65000;
	f.captured = 100;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.len == 65000);
	CHECK(truncations_ok(&f));

	f.flags = CAPTURE_FIN | CAPTURE_ACK;
	f.len = f.captured = 0;
	f.vlan = 1;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == (CAPTURE_FIN | CAPTURE_ACK) && s.len == 0);
	CHECK(truncations_ok(&f));
}

/* BSD loopback (DLT_NULL, DLT_LOOP) in both byte orders, and raw IP. */
static void
test_capture_other_links(void)
{
	static const uint32_t	v6fams[] = { 10, 24, 28, 30 };
	struct capture_segment	s;
	struct frame		f;
	size_t			i;

	memset(&f, 0, sizeof(f));
	f.dlt = DLT_NULL;
	f.version = 4;
	f.null_af = 2;
	f.flags = CAPTURE_RST;
	f.seq = 77;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(s.flags == CAPTURE_RST && s.seq == 77 && is_v4(&s, 0x7f000001, 40000, 0x7f000002, 8443));
	CHECK(truncations_ok(&f));
	f.null_af = swap32(2);
	CHECK(parse_frame(&f, &s) == 0);
	f.dlt = DLT_LOOP;
	f.null_af = htonl(2);
	f.len = f.captured = 10;
	CHECK(parse_frame(&f, &s) == 0 && s.len == 10);
	CHECK(truncations_ok(&f));

	f.version = 6;
	f.len = f.captured = 0;
	for (i = 0; i < sizeof(v6fams) / sizeof(v6fams[0]); i++) {
		f.dlt = DLT_NULL;
		f.null_af = v6fams[i];
		CHECK(parse_frame(&f, &s) == 0 && is_v6(&s, "::1", 40000, "2001:db8::2", 8443));
		f.dlt = DLT_LOOP;
		f.null_af = swap32(v6fams[i]);
		CHECK(parse_frame(&f, &s) == 0 && s.flags == CAPTURE_RST);
	}
	f.null_af = 17;			/* some other family */
	CHECK(parse_frame(&f, &s) == -1);
	f.null_af = 2;			/* says IPv4, holds IPv6 */
	CHECK(parse_frame(&f, &s) == -1);

	f.dlt = DLT_RAW;
	f.flags = CAPTURE_ACK;
	CHECK(parse_frame(&f, &s) == 0 && s.flags == CAPTURE_ACK && s.src.ss_family == AF_INET6);
	CHECK(truncations_ok(&f));
	f.version = 4;
	CHECK(parse_frame(&f, &s) == 0 && s.src.ss_family == AF_INET);
	CHECK(truncations_ok(&f));
}

/* The "any" device's cooked headers: SLL2 names the interface (ifindex) and both say whether
 * it is a loopback one (ARPHRD_LOOPBACK, 772) -- a veth or Ethernet is ARPHRD_ETHER, 1. */
static void
test_capture_cooked(void)
{
	struct capture_segment	s;
	struct frame		f;

	memset(&f, 0, sizeof(f));
	f.dlt = DLT_LINUX_SLL2;
	f.version = 4;
	f.ifindex = 7;
	f.hatype = 1;
	f.flags = CAPTURE_SYN;
	f.seq = 0x01020304;
	f.tcp_opts = 20;
	CHECK(parse_frame(&f, &s) == 0);
	CHECK(is_v4(&s, 0x7f000001, 40000, 0x7f000002, 8443));
	CHECK(s.seq == 0x01020304 && s.flags == CAPTURE_SYN && s.ifindex == 7 && !s.loopback);
	CHECK(truncations_ok(&f));
	f.hatype = 772;
	f.ifindex = 1;
	f.flags = CAPTURE_PSH | CAPTURE_ACK;
	f.len = 100;
	f.captured = 40;
	CHECK(parse_frame(&f, &s) == 0 && s.ifindex == 1 && s.loopback && s.len == 100);
	CHECK(payload_ok(&f));
	CHECK(truncations_ok(&f));
	f.version = 6;
	CHECK(parse_frame(&f, &s) == 0 && is_v6(&s, "::1", 40000, "2001:db8::2", 8443));
	CHECK(truncations_ok(&f));
	f.ethertype = 0x0806;		/* ARP */
	CHECK(parse_frame(&f, &s) == -1);
	f.ethertype = 0x0800;		/* says IPv4, holds IPv6 */
	CHECK(parse_frame(&f, &s) == -1);

	/* SLL (v1): no interface index, the loopback bit still */
	memset(&f, 0, sizeof(f));
	f.dlt = DLT_LINUX_SLL;
	f.version = 4;
	f.hatype = 772;
	f.flags = CAPTURE_FIN | CAPTURE_ACK;
	CHECK(parse_frame(&f, &s) == 0 && s.ifindex == 0 && s.loopback &&
	    s.flags == (CAPTURE_FIN | CAPTURE_ACK));
	CHECK(truncations_ok(&f));
	f.hatype = 1;
	f.version = 6;
	f.len = f.captured = 5;
	CHECK(parse_frame(&f, &s) == 0 && !s.loopback && s.len == 5 && payload_ok(&f));
	CHECK(truncations_ok(&f));
	f.ethertype = 0x8100;		/* a VLAN tag is never left in a cooked header */
	CHECK(parse_frame(&f, &s) == -1);
}

static void
test_capture_rejects(void)
{
	struct capture_segment	s;
	struct frame		f;
	unsigned char		buf[2048];
	size_t			hdrs, n;

	memset(&f, 0, sizeof(f));
	f.dlt = DLT_EN10MB;
	f.version = 4;
	f.proto = IPPROTO_UDP;
	CHECK(parse_frame(&f, &s) == -1);
	f.version = 6;
	CHECK(parse_frame(&f, &s) == -1);
	f.proto = 0;		/* IPv6 hop-by-hop header before TCP: not followed */
	n = build(&f, buf, &hdrs);
	buf[14 + 6] = 0;
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);

	/* ARP */
	memset(buf, 0, 60);
	put16(buf + 12, 0x0806);
	CHECK(parse_copy(buf, 42, DLT_EN10MB, &s) == -1);
	/* two VLAN tags: only one is skipped */
	put16(buf + 12, 0x8100);
	put16(buf + 16, 0x8100);
	put16(buf + 20, 0x0800);
	CHECK(parse_copy(buf, 60, DLT_EN10MB, &s) == -1);

	f.version = 4;
	n = build(&f, buf, &hdrs);
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == 0);
	CHECK(parse_copy(buf, n, DLT_IEEE802_11, &s) == -1);	/* a link type we do not know */
	CHECK(capture_parse(NULL, 10, DLT_EN10MB, &s) == -1);

	buf[14] = 0x65;			/* ethertype IPv4 but version 6 */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	buf[14] = 0x44;			/* IHL 4: shorter than the fixed header */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	buf[14] = 0x45;
	put16(buf + 14 + 6, 0x2000);	/* more fragments */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	put16(buf + 14 + 6, 0x0010);	/* a later fragment */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	put16(buf + 14 + 6, 0x4000);
	put16(buf + 14 + 2, 39);	/* total length shorter than IP + TCP headers */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	put16(buf + 14 + 2, 40);
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == 0 && s.len == 0);
	buf[14 + 20 + 12] = 0x40;	/* TCP data offset 4 */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
	buf[14 + 20 + 12] = 0xf0;	/* data offset 15: beyond the frame and the packet */
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);

	/* IPv6 payload length shorter than the TCP header */
	f.version = 6;
	n = build(&f, buf, &hdrs);
	put16(buf + 14 + 4, 19);
	CHECK(parse_copy(buf, n, DLT_EN10MB, &s) == -1);
}

/* Mutated and cut frames: the parser must never crash or read past the end (run under ASan),
 * and what it accepts must be self-consistent. */
static void
test_capture_fuzz(void)
{
	struct capture_segment	s;
	struct frame		f;
	unsigned char		buf[2048];
	size_t			hdrs, n, cut;
	uint32_t		rnd = 12345;
	int			i, j, bad = 0;
	static const int	dlts[] = { DLT_EN10MB, DLT_NULL, DLT_LOOP, DLT_RAW, DLT_LINUX_SLL,
				    DLT_LINUX_SLL2 };

	for (i = 0; i < 24000; i++) {
		memset(&f, 0, sizeof(f));
		f.dlt = dlts[i % 6];
		f.version = i & 4 ? 6 : 4;
		f.null_af = f.version == 4 ? 2 : 10;
		f.vlan = i & 8 ? 1 : 0;
		f.tcp_opts = (i % 11) * 4;
		f.ip_opts = (i % 7) * 4;
		f.len = f.captured = (unsigned)(i % 50);
		n = build(&f, buf, &hdrs);
		for (j = 0; j < 3; j++) {
			rnd = rnd * 1103515245 + 12345;
			buf[(rnd >> 8) % n] = (unsigned char)(rnd >> 20);
		}
		rnd = rnd * 1103515245 + 12345;
		cut = (rnd >> 8) % (n + 1);
		if (parse_copy(buf, cut, f.dlt, &s) == 0 && (s.len > 65535 || s.flags > 0x3f))
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_capture_flags(void)
{
	char	buf[32], small[5];

	CHECK_STR(capture_flags_str(CAPTURE_SYN, buf, sizeof(buf)), "SYN");
	CHECK_STR(capture_flags_str(CAPTURE_SYN | CAPTURE_ACK, buf, sizeof(buf)), "SYN,ACK");
	CHECK_STR(capture_flags_str(CAPTURE_ACK, buf, sizeof(buf)), "ACK");
	CHECK_STR(capture_flags_str(CAPTURE_FIN | CAPTURE_ACK, buf, sizeof(buf)), "FIN,ACK");
	CHECK_STR(capture_flags_str(CAPTURE_PSH | CAPTURE_ACK, buf, sizeof(buf)), "PSH,ACK");
	CHECK_STR(capture_flags_str(CAPTURE_RST, buf, sizeof(buf)), "RST");
	CHECK_STR(capture_flags_str(CAPTURE_RST | CAPTURE_ACK, buf, sizeof(buf)), "RST,ACK");
	CHECK_STR(capture_flags_str(CAPTURE_FIN | CAPTURE_PSH | CAPTURE_ACK, buf, sizeof(buf)),
	    "FIN,PSH,ACK");
	CHECK_STR(capture_flags_str(0x3f, buf, sizeof(buf)), "SYN,FIN,RST,PSH,ACK,URG");
	CHECK_STR(capture_flags_str(0, buf, sizeof(buf)), "none");
	CHECK_STR(capture_flags_str(0xc0 | CAPTURE_ACK, buf, sizeof(buf)), "ACK");
	/* a short buffer: cut at a name boundary, always terminated */
	CHECK_STR(capture_flags_str(CAPTURE_SYN | CAPTURE_ACK, small, sizeof(small)), "SYN");
	CHECK_STR(capture_flags_str(CAPTURE_SYN, buf, 0), "");
}

void
test_capture(void)
{
	test_capture_ipv4();
	test_capture_ipv6();
	test_capture_other_links();
	test_capture_cooked();
	test_capture_rejects();
	test_capture_fuzz();
	test_capture_flags();
}
