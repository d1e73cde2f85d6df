/* capture.c -- watch our own TCP segments on "lo" with libpcap, so the log can show the absolute
 * seq/ack numbers of the textbook's three-way handshake and four-way close. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "capture.h"

/* Enough for Ethernet + VLAN + the largest IP and TCP headers (18 + 60 + 60): the payload length
 * comes from the IP header, so the payload itself need not be captured ... */
#define CAPTURE_SNAPLEN	256
/* ... except for --wire, which shows what the payload holds: finding every TLS record header in
 * a segment needs all of its bytes (a loopback segment can be 64 KiB). Each slot of the kernel's
 * ring is then that large, so the ring must be too, or a burst of segments overflows it before
 * the event loop reads them (the walk of the records then reports the gap). */
#define CAPTURE_SNAPLEN_PAYLOAD	(65536 + 256)
#define CAPTURE_BUFFER_PAYLOAD	(64 * 1024 * 1024)

static int want_payload;

void
capture_want_payload(int on)
{
	want_payload = on;
}

/* The interface: our connections are on loopback. */
#define CAPTURE_IFACE	"lo"

/* Address families a DLT_NULL/DLT_LOOP header can carry for IPv6: the value depends on the OS
 * that wrote the capture (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30). */
static const uint32_t null_af_inet6[] = { 10, 24, 28, 30 };

struct capture {
	pcap_t		*pcap;
	struct event	*ev;
	int		 dlt;
	capture_cb	 cb;
	void		*arg;
	int		 dispatching;	/* inside pcap_dispatch: no nested drain, defer free */
	int		 dead;		/* capture_free was called from the callback */
};

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The TCP header at tcp, of an IP packet whose payload is iplen bytes, of which avail were
 * captured. Only the fixed 20 bytes are read, but the whole header must have been captured so a
 * frame cut inside the options counts as short. */
static int
parse_tcp(const unsigned char *tcp, size_t avail, size_t iplen, struct capture_segment *seg)
{
	size_t	hlen;

	if (avail < 20 || iplen < 20)
		return -1;
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen < 20 || hlen > avail || hlen > iplen)
		return -1;
	seg->seq = get32(tcp + 4);
	seg->ack = get32(tcp + 8);
	seg->flags = tcp[13] & 0x3f;	/* FIN..URG; ECE and CWR are not shown */
	seg->win = get16(tcp + 14);
	seg->len = (uint32_t)(iplen - hlen);
	/* What of it was captured: the snaplen (or a short frame) may cut it. */
	seg->payload = tcp + hlen;
	seg->caplen = (uint32_t)(avail - hlen < seg->len ? avail - hlen : seg->len);
	return 0;
}

static int
parse_ipv4(const unsigned char *ip, size_t avail, struct capture_segment *seg)
{
	struct sockaddr_in	*src = (struct sockaddr_in *)&seg->src;
	struct sockaddr_in	*dst = (struct sockaddr_in *)&seg->dst;
	size_t			 hlen, total;

	if (avail < 20 || ip[0] >> 4 != 4)
		return -1;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	total = get16(ip + 2);
	if (hlen < 20 || hlen > avail || total < hlen)
		return -1;
	/* Only an unfragmented packet (or the first fragment) has the TCP header where we look,
	 * and its total length is the segment's. */
	if ((get16(ip + 6) & 0x3fff) != 0 || ip[9] != IPPROTO_TCP)
		return -1;
	src->sin_family = dst->sin_family = AF_INET;
	memcpy(&src->sin_addr, ip + 12, 4);
	memcpy(&dst->sin_addr, ip + 16, 4);
	if (parse_tcp(ip + hlen, avail - hlen, total - hlen, seg) == -1)
		return -1;
	/* The ports stay in network order, as a sockaddr holds them. */
	memcpy(&src->sin_port, ip + hlen, 2);
	memcpy(&dst->sin_port, ip + hlen + 2, 2);
	return 0;
}

/* IPv6 with the TCP header right after the fixed header; extension headers are not followed. */
static int
parse_ipv6(const unsigned char *ip, size_t avail, struct capture_segment *seg)
{
	struct sockaddr_in6	*src = (struct sockaddr_in6 *)&seg->src;
	struct sockaddr_in6	*dst = (struct sockaddr_in6 *)&seg->dst;

	if (avail < 40 || ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP)
		return -1;
	src->sin6_family = dst->sin6_family = AF_INET6;
	memcpy(&src->sin6_addr, ip + 8, 16);
	memcpy(&dst->sin6_addr, ip + 24, 16);
	if (parse_tcp(ip + 40, avail - 40, get16(ip + 4), seg) == -1)
		return -1;
	memcpy(&src->sin6_port, ip + 40, 2);
	memcpy(&dst->sin6_port, ip + 42, 2);
	return 0;
}

static int
parse_ip(const unsigned char *ip, size_t avail, int version, struct capture_segment *seg)
{
	if (version == 4)
		return parse_ipv4(ip, avail, seg);
	if (version == 6)
		return parse_ipv6(ip, avail, seg);
	return -1;
}

/* The IP version the loopback header's family names (either byte order), or 0. */
static int
null_family(const unsigned char *p)
{
	uint32_t	af, swapped;
	size_t		i;

	memcpy(&af, p, 4);
	swapped = (af >> 24) | (af >> 8 & 0xff00) | (af << 8 & 0xff0000) | (af << 24);
	if (af > 0xffff)	/* written in the other byte order */
		af = swapped;
	if (af == 2)		/* AF_INET is 2 everywhere */
		return 4;
	for (i = 0; i < sizeof(null_af_inet6) / sizeof(null_af_inet6[0]); i++)
		if (af == null_af_inet6[i])
			return 6;
	return 0;
}

int
capture_parse(const unsigned char *frame, size_t caplen, int dlt, struct capture_segment *seg)
{
	struct capture_segment	 s;
	size_t			 off;
	uint16_t		 type;
	int			 version;

	if (frame == NULL || seg == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		off = 14;
		type = get16(frame + 12);
		if (type == 0x8100) {	/* one 802.1Q tag: 2 bytes TCI, then the real type */
			if (caplen < 18)
				return -1;
			type = get16(frame + 16);
			off = 18;
		}
		if (type == 0x0800)
			version = 4;
		else if (type == 0x86dd)
			version = 6;
		else
			return -1;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return -1;
		off = 4;
		if ((version = null_family(frame)) == 0)
			return -1;
		break;
	case DLT_RAW:
		if (caplen < 1)
			return -1;
		off = 0;
		version = frame[0] >> 4;
		break;
	default:
		return -1;
	}
	if (parse_ip(frame + off, caplen - off, version, &s) == -1)
		return -1;
	*seg = s;
	return 0;
}

/* Fixed order: SYN, FIN, RST, PSH, ACK, URG -- the segment's purpose first, ACK (present on all
 * but the first) after it, so the textbook's "SYN,ACK" and "FIN,ACK" read as written. */
const char *
capture_flags_str(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ CAPTURE_SYN, "SYN" }, { CAPTURE_FIN, "FIN" }, { CAPTURE_RST, "RST" },
		{ CAPTURE_PSH, "PSH" }, { CAPTURE_ACK, "ACK" }, { CAPTURE_URG, "URG" },
	};
	size_t	i, used = 0;
	int	n;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((flags & names[i].bit) == 0)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';	/* cut at a name boundary */
			return buf;
		}
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "none");
	return buf;
}

static void
capture_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture		*c = (struct capture *)user;
	struct capture_segment	 seg;

	if (c->dead || capture_parse(bytes, h->caplen, c->dlt, &seg) == -1)
		return;
	seg.ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
	c->cb(&seg, c->arg);
}

/* Hand every segment already in the kernel's buffer to the callback. */
static void
capture_dispatch(struct capture *c)
{
	int	n;

	if (c->dispatching)
		return;
	c->dispatching = 1;
	do {
		n = pcap_dispatch(c->pcap, -1, capture_packet, (u_char *)c);
	} while (n > 0 && !c->dead);
	c->dispatching = 0;
	/* A read error (the interface went away) would make the fd readable forever. */
	if (n == PCAP_ERROR && c->ev != NULL)
		event_del(c->ev);
	if (c->dead)
		capture_free(c);
}

static void
capture_readcb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	capture_dispatch(arg);
}

void
capture_drain(struct capture *c)
{
	if (c != NULL)
		capture_dispatch(c);
}

void
capture_free(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dispatching) {	/* called from the callback: finish after pcap_dispatch returns */
		c->dead = 1;
		return;
	}
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c);
}

/* The running program's absolute path, for the setcap hint: it works from any directory. */
static void
self_path(char *buf, size_t len)
{
	char	exe[PATH_MAX];
	ssize_t	n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(buf, len, "%s", program_invocation_name);
		return;
	}
	exe[n] = '\0';
	snprintf(buf, len, "%s", exe);
}

/* One line, whatever pcap put in its message. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static int
is_perm_error(int status, const char *text)
{
	return status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_PROMISC_PERM_DENIED ||
	    strstr(text, "Operation not permitted") != NULL ||
	    strstr(text, "Permission denied") != NULL || strstr(text, "CAP_NET_RAW") != NULL;
}

struct capture *
capture_open(struct event_base *base, const char *filter, capture_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct capture		*c = NULL;
	struct bpf_program	 prog;
	char			 ebuf[PCAP_ERRBUF_SIZE] = "", prog_path[PATH_MAX];
	int			 status, saved_errno, fd;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE, strerror(errno));
		return NULL;
	}
	c->cb = cb;
	c->arg = arg;
	if ((c->pcap = pcap_create(CAPTURE_IFACE, ebuf)) == NULL) {
		one_line(ebuf);
		snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE, ebuf);
		goto fail;
	}
	/* Deliver each segment as soon as the kernel sees it, not in batches. */
	if (pcap_set_immediate_mode(c->pcap, 1) != 0 ||
	    pcap_set_snaplen(c->pcap, want_payload ? CAPTURE_SNAPLEN_PAYLOAD :
	    CAPTURE_SNAPLEN) != 0 ||
	    (want_payload && pcap_set_buffer_size(c->pcap, CAPTURE_BUFFER_PAYLOAD) != 0)) {
		snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE,
		    pcap_geterr(c->pcap));
		goto fail;
	}
	errno = 0;
	status = pcap_activate(c->pcap);
	saved_errno = errno;
	if (status < 0) {
		snprintf(ebuf, sizeof(ebuf), "%s", pcap_geterr(c->pcap));
		one_line(ebuf);
		if (is_perm_error(status, ebuf)) {
			/* Opening a packet socket needs CAP_NET_RAW (Linux: socket(AF_PACKET)
			 * fails with EPERM). */
			if (saved_errno != EPERM && saved_errno != EACCES)
				saved_errno = EPERM;
			self_path(prog_path, sizeof(prog_path));
			snprintf(err, errlen, "cannot capture on %s: %s (needs CAP_NET_RAW: run "
			    "'sudo setcap cap_net_raw+ep %s' or run as root)", CAPTURE_IFACE,
			    strerror(saved_errno), prog_path);
		} else
			snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE,
			    ebuf[0] != '\0' ? ebuf : pcap_statustostr(status));
		goto fail;
	}
	/* status > 0 is a warning (e.g. PCAP_WARNING_TSTAMP_TYPE_NOTSUP): the capture works. */
	c->dlt = pcap_datalink(c->pcap);
	if (filter != NULL && filter[0] != '\0') {
		if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
			snprintf(err, errlen, "cannot capture on %s: bad filter \"%s\": %s",
			    CAPTURE_IFACE, filter, pcap_geterr(c->pcap));
			goto fail;
		}
		status = pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
		if (status == -1) {
			snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE,
			    pcap_geterr(c->pcap));
			goto fail;
		}
	}
	if (pcap_setnonblock(c->pcap, 1, ebuf) == -1) {
		one_line(ebuf);
		snprintf(err, errlen, "cannot capture on %s: %s", CAPTURE_IFACE, ebuf);
		goto fail;
	}
	if ((fd = pcap_get_selectable_fd(c->pcap)) == -1) {
		snprintf(err, errlen, "cannot capture on %s: no descriptor to wait on",
		    CAPTURE_IFACE);
		goto fail;
	}
	if ((c->ev = event_new(base, fd, EV_READ | EV_PERSIST, capture_readcb, c)) == NULL ||
	    event_add(c->ev, NULL) == -1) {
		snprintf(err, errlen, "cannot capture on %s: cannot add it to the event loop",
		    CAPTURE_IFACE);
		goto fail;
	}
	return c;
fail:
	capture_free(c);
	return NULL;
}
