/* fuzz_capture.c -- libFuzzer harness for capture_parse: the input as one captured frame under
 * every link type the capture understands (Ethernet, BSD loopback, raw IP, Linux's cooked
 * headers of the "any" device) and one it does not, plus the flag names. */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <pcap/dlt.h>

#include "capture.h"
#include "fuzz.h"

/* Where the IP header starts after a link header, so the same packet can be parsed raw. */
static const struct {
	int	dlt;
	size_t	link;
} dlts[] = {
	{ DLT_EN10MB, 14 }, { DLT_NULL, 4 }, { DLT_LOOP, 4 }, { DLT_RAW, 0 },
	{ DLT_LINUX_SLL, 16 }, { DLT_LINUX_SLL2, 20 },
};

static void
check_segment(const struct capture_segment *s)
{
	FUZZ_CHECK(s->src.ss_family == s->dst.ss_family);
	FUZZ_CHECK(s->src.ss_family == AF_INET || s->src.ss_family == AF_INET6);
	FUZZ_CHECK((s->flags & ~0x3fu) == 0);
	FUZZ_CHECK(s->win <= 0xffff && s->len <= 0xffff);
	FUZZ_CHECK(s->ts_us == 0);      /* the caller sets the timestamp, not the parser */
}

/* The flag names into a buffer of exactly len bytes: cut where a name ends, never overrun. */
static void
check_flags(unsigned flags, size_t len)
{
	char full[64], *cut = malloc(len);
	size_t n;

	if (cut == NULL)
		abort();
	FUZZ_CHECK(capture_flags_str(flags, full, sizeof(full)) == full);
	FUZZ_CHECK(capture_flags_str(flags, cut, len) == cut);
	FUZZ_CHECK(memchr(cut, '\0', len) != NULL);
	n = strlen(cut);
	FUZZ_CHECK(strncmp(cut, full, n) == 0);
	if (flags & 0x3f)
		FUZZ_CHECK(n == 0 || full[n] == '\0' || full[n] == ',');
	free(cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_segment seg, raw, untouched;
	size_t i, off;

	memset(&untouched, 0xa5, sizeof(untouched));
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		seg = untouched;
		if (capture_parse(data, size, dlts[i].dlt, &seg) == -1) {
			FUZZ_CHECK(memcmp(&seg, &untouched, sizeof(seg)) == 0);
			continue;
		}
		check_segment(&seg);
		/* The payload handed to --wire: inside the frame, at most what the IP header
		 * announced, and it ends the frame's TCP segment (nothing read past it). */
		FUZZ_CHECK(seg.caplen <= seg.len);
		FUZZ_CHECK(seg.payload >= data && seg.payload <= data + size);
		FUZZ_CHECK(seg.caplen <= (size_t)(data + size - seg.payload));
		/* The link header only says where the IP packet starts and which version it
		 * is: the packet on its own (DLT_RAW) must give the same segment. */
		off = dlts[i].link;
		if (dlts[i].dlt == DLT_EN10MB && data[12] == 0x81 && data[13] == 0x00)
			off = 18;
		if (off == 0)
			continue;
		FUZZ_CHECK(capture_parse(data + off, size - off, DLT_RAW, &raw) == 0);
		/* ... but for what only the link header says: the interface, loopback or not */
		FUZZ_CHECK(raw.ifindex == 0 && raw.loopback == 0);
		FUZZ_CHECK(dlts[i].dlt == DLT_LINUX_SLL2 || seg.ifindex == 0);
		raw.ifindex = seg.ifindex;
		raw.loopback = seg.loopback;
		FUZZ_CHECK(memcmp(&seg, &raw, sizeof(seg)) == 0);
	}
	/* A link type it does not know is refused, whatever the bytes. */
	seg = untouched;
	FUZZ_CHECK(capture_parse(data, size, DLT_IEEE802_11, &seg) == -1);
	FUZZ_CHECK(capture_parse(data, size, DLT_EN10MB, NULL) == -1);

	if (size > 0)
		check_flags(data[size - 1] & 0x3f, 1 + (size_t)data[0] % 32);
	return 0;
}
