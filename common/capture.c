/* capture.c -- watch our own TCP segments with libpcap, wherever the connection is (loopback or
 * a LAN interface), so the log can show the absolute seq/ack numbers of the textbook's three-way
 * handshake and four-way close. */
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_arp.h>
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
#include "evlog.h"

/* Enough for Ethernet + VLAN or a cooked header + the largest IP and TCP headers (20 + 60 + 60):
 * the payload length comes from the IP header, so the payload itself need not be captured ... */
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

/* Where to capture: Linux's "any" pseudo-device sees every interface, so a connection to a LAN
 * address (a student's laptop, a veth pair into a network namespace) is captured as well as one
 * on loopback, whichever address the server is bound to or the client connects to; its frames
 * carry a cooked header (DLT_LINUX_SLL2: which interface, which protocol) instead of Ethernet's.
 * On loopback each segment is still seen once: libpcap drops the outgoing copy there. Where
 * "any" does not exist (not Linux), loopback alone, as before. */
static const char *const devices[] = { "any", "lo" };

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
	const char	*dev;		/* the device it captures on */
	char		 error[PCAP_ERRBUF_SIZE + 64];	/* a read error ... */
	int		 error_said;			/* ... once taken */
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

/* The IP version an Ethernet type (also a cooked header's protocol) names, or 0. */
static int
ether_version(uint16_t type)
{
	if (type == 0x0800)
		return 4;
	if (type == 0x86dd)
		return 6;
	return 0;
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
		if ((version = ether_version(type)) == 0)
			return -1;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return -1;
		off = 4;
		s.loopback = 1;
		if ((version = null_family(frame)) == 0)
			return -1;
		break;
	case DLT_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8 address bytes, protocol */
		if (caplen < 16)
			return -1;
		off = 16;
		type = get16(frame + 14);
		s.loopback = get16(frame + 2) == ARPHRD_LOOPBACK;
		if ((version = ether_version(type)) == 0)
			return -1;
		break;
	case DLT_LINUX_SLL2:
		/* protocol, reserved, interface index, ARPHRD type, packet type, address length,
		 * 8 address bytes */
		if (caplen < 20)
			return -1;
		off = 20;
		type = get16(frame);
		s.ifindex = (int)get32(frame + 4);
		s.loopback = get16(frame + 8) == ARPHRD_LOOPBACK;
		if ((version = ether_version(type)) == 0)
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

/* One line, whatever pcap put in its message. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* The device's name as the log says it. */
static const char *
dev_words(const char *dev)
{
	if (strcmp(dev, "any") == 0)
		return TR("any (every interface)", "any（所有接口）");
	return dev;
}

static void
capture_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture		*c = (struct capture *)user;
	struct capture_segment	 seg;

	if (c->dead || capture_parse(bytes, h->caplen, c->dlt, &seg) == -1)
		return;
	if (strcmp(c->dev, "lo") == 0)		/* an Ethernet header does not say */
		seg.loopback = 1;
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
	/* A read error (the interface went away) would make the fd readable forever: stop
	 * reading, and keep the reason for the log to say once. */
	if (n == PCAP_ERROR && c->ev != NULL) {
		event_del(c->ev);
		snprintf(c->error, sizeof(c->error), TR("the capture on %s stopped: %s",
		    "%s 上的抓包停止了：%s"), dev_words(c->dev), pcap_geterr(c->pcap));
		one_line(c->error);
	}
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

static int
is_perm_error(int status, const char *text)
{
	return status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_PROMISC_PERM_DENIED ||
	    strstr(text, "Operation not permitted") != NULL ||
	    strstr(text, "Permission denied") != NULL || strstr(text, "CAP_NET_RAW") != NULL;
}

/* Open, set up and activate one device; on failure the reason goes to why and the pcap status
 * (PCAP_ERROR_NO_SUCH_DEVICE: try the next device) is returned. */
static int
open_dev(struct capture *c, const char *dev, const char *filter, char *why, size_t whylen)
{
	struct bpf_program	 prog;
	char			 ebuf[PCAP_ERRBUF_SIZE] = "", prog_path[PATH_MAX];
	int			 status, saved_errno;

	if ((c->pcap = pcap_create(dev, ebuf)) == NULL) {
		one_line(ebuf);
		snprintf(why, whylen, "%s", ebuf);
		return PCAP_ERROR;
	}
	/* Deliver each segment as soon as the kernel sees it, not in batches. */
	if (pcap_set_immediate_mode(c->pcap, 1) != 0 ||
	    pcap_set_snaplen(c->pcap, want_payload ? CAPTURE_SNAPLEN_PAYLOAD :
	    CAPTURE_SNAPLEN) != 0 ||
	    (want_payload && pcap_set_buffer_size(c->pcap, CAPTURE_BUFFER_PAYLOAD) != 0)) {
		snprintf(why, whylen, "%s", pcap_geterr(c->pcap));
		return PCAP_ERROR;
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
			snprintf(why, whylen, TR("%s (needs CAP_NET_RAW: run 'sudo setcap "
			    "cap_net_raw+ep %s' or run as root)", "%s（需要 CAP_NET_RAW 权限：运行 "
			    "'sudo setcap cap_net_raw+ep %s'，或以 root 身份运行）"),
			    strerror(saved_errno), prog_path);
			return PCAP_ERROR_PERM_DENIED;
		}
		snprintf(why, whylen, "%s", ebuf[0] != '\0' ? ebuf : pcap_statustostr(status));
		return status;
	}
	/* status > 0 is a warning (e.g. PCAP_WARNING_TSTAMP_TYPE_NOTSUP): the capture works. */
	/* On "any", the cooked header that names the interface (libpcap 1.10); if refused,
	 * the older one without it. */
	if (strcmp(dev, "any") == 0)
		(void)pcap_set_datalink(c->pcap, DLT_LINUX_SLL2);
	c->dlt = pcap_datalink(c->pcap);
	if (filter != NULL && filter[0] != '\0') {
		if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
			snprintf(why, whylen, TR("bad filter \"%s\": %s", "过滤表达式 \"%s\" 有误：%s"),
			    filter, pcap_geterr(c->pcap));
			return PCAP_ERROR;
		}
		status = pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
		if (status == -1) {
			snprintf(why, whylen, "%s", pcap_geterr(c->pcap));
			return PCAP_ERROR;
		}
	}
	if (pcap_setnonblock(c->pcap, 1, ebuf) == -1) {
		one_line(ebuf);
		snprintf(why, whylen, "%s", ebuf);
		return PCAP_ERROR;
	}
	return 0;
}

struct capture *
capture_open(struct event_base *base, const char *filter, capture_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct capture	*c = NULL;
	char		 why[PCAP_ERRBUF_SIZE + PATH_MAX + 128] = "";
	const char	*dev = devices[0];
	size_t		 i;
	int		 fd, status = PCAP_ERROR;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	c->cb = cb;
	c->arg = arg;
	if (errlen > 0)
		err[0] = '\0';
	/* The next device only where this one does not exist: a missing privilege or a bad
	 * filter would fail there too, and is said once. */
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		dev = devices[i];
		if ((status = open_dev(c, dev, filter, why, sizeof(why))) != PCAP_ERROR_NO_SUCH_DEVICE)
			break;
		pcap_close(c->pcap);
		c->pcap = NULL;
	}
	if (status != 0)
		goto fail;
	c->dev = dev;
	if (i > 0)		/* not a failure, but less than asked: the caller says so once */
		snprintf(err, errlen, TR("no \"any\" device here: capturing on %s only, so a "
		    "connection over another interface shows no segments", "这里没有 \"any\" "
		    "设备：只在 %s 上抓包，经过其他接口的连接不会显示报文段"), dev);
	if ((fd = pcap_get_selectable_fd(c->pcap)) == -1) {
		snprintf(why, sizeof(why), "%s", TR("no descriptor to wait on",
		    "没有可供事件循环等待的描述符"));
		goto fail;
	}
	if ((c->ev = event_new(base, fd, EV_READ | EV_PERSIST, capture_readcb, c)) == NULL ||
	    event_add(c->ev, NULL) == -1) {
		snprintf(why, sizeof(why), "%s", TR("cannot add it to the event loop",
		    "无法把它加入事件循环"));
		goto fail;
	}
	return c;
fail:
	snprintf(err, errlen, TR("cannot capture on %s: %s", "无法在 %s 上抓包：%s"),
	    dev_words(dev), why);
	capture_free(c);
	return NULL;
}

const char *
capture_device(const struct capture *c)
{
	return c != NULL ? c->dev : NULL;
}

const char *
capture_take_error(struct capture *c)
{
	if (c == NULL || c->error[0] == '\0' || c->error_said)
		return NULL;
	c->error_said = 1;
	return c->error;
}

long
capture_dropped(struct capture *c)
{
	struct pcap_stat	st;

	if (c == NULL || c->pcap == NULL || pcap_stats(c->pcap, &st) == -1)
		return -1;
	return (long)st.ps_drop;
}
