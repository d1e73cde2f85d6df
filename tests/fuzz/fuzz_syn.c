/* fuzz_syn.c -- libFuzzer harness for tcpinfo_parse_syn: the client's SYN as the kernel saved
 * it (TCP_SAVED_SYN: an IPv4 or IPv6 header, then the TCP header with its options), bytes a
 * peer chose. The result is sane, the words fit any buffer, and a parse is all or nothing. */
#include <stdint.h>
#include <string.h>

#include "tcpinfo.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcpinfo_syn s, again;
	char full[256], cut[16];
	size_t n;
	int r = tcpinfo_parse_syn(data, size, &s);

	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(tcpinfo_parse_syn(data, size, &again) == r && memcmp(&s, &again,
	    sizeof(s)) == 0);
	if (r == -1)
		return 0;
	FUZZ_CHECK(s.mss >= -1 && s.mss <= 65535);
	FUZZ_CHECK(s.wscale >= -1 && s.wscale <= 255);
	FUZZ_CHECK((s.sack_perm == 0 || s.sack_perm == 1) && (s.timestamps == 0 ||
	    s.timestamps == 1));
	FUZZ_CHECK(s.nother >= 0 && s.nother <= (int)sizeof(s.other));
	FUZZ_CHECK(tcpinfo_syn_str(&s, full, sizeof(full)) == full && strlen(full) <
	    sizeof(full));
	FUZZ_CHECK(tcpinfo_syn_str(&s, cut, sizeof(cut)) == cut && memchr(cut, '\0',
	    sizeof(cut)) != NULL);
	n = strlen(cut);
	FUZZ_CHECK(strncmp(cut, full, n) == 0);
	return 0;
}
