/* capture.h -- a libpcap capture on every interface (Linux's "any"; loopback elsewhere), fed
 * into the event loop, that turns each TCP segment of our connections into a struct: the
 * absolute seq/ack the textbook draws. */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct capture;

/* TCP header flag bits, as on the wire */
#define CAPTURE_FIN	0x01
#define CAPTURE_SYN	0x02
#define CAPTURE_RST	0x04
#define CAPTURE_PSH	0x08
#define CAPTURE_ACK	0x10
#define CAPTURE_URG	0x20

struct capture_segment {
	struct sockaddr_storage	src, dst;	/* addresses and ports (AF_INET or AF_INET6) */
	uint32_t		seq, ack;	/* absolute, host order */
	uint32_t		win;		/* the raw window field (not scaled) */
	unsigned		flags;		/* CAPTURE_* bits */
	uint32_t		len;		/* TCP payload bytes */
	/* The payload bytes that were captured (at most len): they point into the frame, so
	 * they are valid only as long as it is (inside the capture callback). */
	const unsigned char	*payload;
	uint32_t		caplen;
	int64_t			ts_us;		/* the capture's timestamp, microseconds since the epoch */
	int			ifindex;	/* the interface it was seen on (0: the link header
						 * does not say) */
	int			loopback;	/* seen on a loopback interface */
};

typedef void (*capture_cb)(const struct capture_segment *, void *arg);

/* capture.c */
/* Start capturing TCP segments on every interface ("any"; "lo" where there is no "any") that
 * match the BPF filter (e.g. "tcp port 8443"); each parsed segment is handed to cb from the
 * event loop. A segment that crosses two interfaces (a bridge and its port) is seen on each.
 * Returns NULL with one plain-words line in err on failure -- for a missing privilege it names
 * the fix (sudo setcap cap_net_raw+ep PROGRAM, or run as root). On success err is empty, or
 * says what is missing (no "any": loopback only). */
struct capture	*capture_open(struct event_base *, const char *filter, capture_cb, void *arg,
		    char *err, size_t errlen);
/* Capture whole payloads, not only headers (--wire); call before capture_open. */
void		 capture_want_payload(int);
/* Read what the kernel has already captured (call before deciding a connection is over). */
void		 capture_drain(struct capture *);
void		 capture_free(struct capture *);
/* The device it captures on: "any" or "lo". */
const char	*capture_device(const struct capture *);
/* Why the capture stopped (a read error), once: NULL before, and after the first call; valid
 * until capture_free. */
const char	*capture_take_error(struct capture *);
/* How many segments the kernel dropped so far (its buffer was full), or -1. */
long		 capture_dropped(struct capture *);
/* Parse one link-layer frame (dlt: pcap's DLT_EN10MB, DLT_LINUX_SLL2/DLT_LINUX_SLL (the "any"
 * device's cooked headers: SLL2 names the interface), DLT_NULL/DLT_LOOP or DLT_RAW). Pure.
 * Returns 0 and fills *seg for an IPv4/IPv6 TCP segment, -1 for anything else or a short or
 * malformed frame. */
int		 capture_parse(const unsigned char *frame, size_t caplen, int dlt,
		    struct capture_segment *seg);
/* "SYN,ACK", "FIN,ACK", "RST", "ACK", "PSH,ACK" ... into buf. */
const char	*capture_flags_str(unsigned flags, char *buf, size_t len);

#endif
