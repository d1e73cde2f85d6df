/* fuzz_seglog.c -- libFuzzer harness for seglog_label over a sequence of segments of one
 * connection. Each 12-byte record of the input is one segment: a control byte (bit 7: from the
 * active side; bits 0-5: TCP flags), the label buffer size (0: the log's 200 bytes), seq, ack
 * (32 bits each) and the payload length (16 bits), big-endian. */
#include <stdint.h>
#include <string.h>

#include "capture.h"
#include "seglog.h"
#include "fuzz.h"

#define RECORD    12
#define LOG_LABEL 256           /* the size seglog.c's log_segment uses */

static const char *const steps[] = {
	"rst", "syn", "syn_resent", "syn_ack", "syn_ack_resent", "fin1", "fin2_ack", "fin2",
	"ack_fin1", "ack_fin2", "ack_handshake", "data", "ack",
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
known_step(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (strcmp(s, steps[i]) == 0)
			return 1;
	return 0;
}

static void
check_state(const struct seglog_isn *k, const struct seglog_isn *before)
{
	int i;

	FUZZ_CHECK(k->have_x == 0 || k->have_x == 1);
	FUZZ_CHECK(k->have_y == 0 || k->have_y == 1);
	/* An ISN once seen is never forgotten, and the FIN count only grows, up to two. */
	FUZZ_CHECK(k->have_x >= before->have_x && k->have_y >= before->have_y);
	FUZZ_CHECK(k->fins >= before->fins && k->fins <= 2);
	for (i = 0; i < 2; i++) {
		FUZZ_CHECK(k->fin_from_active[i] == 0 || k->fin_from_active[i] == 1);
		FUZZ_CHECK(k->fin_acked[i] == 0 || k->fin_acked[i] == 1);
		FUZZ_CHECK(k->fin_acked[i] >= before->fin_acked[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seglog_isn k, before, twin;
	const uint8_t *r;
	const char *step, *step2, *ret;
	char full[LOG_LABEL], *cut;
	unsigned flags, seq, ack, len;
	size_t buflen, n;
	int active;

	memset(&k, 0, sizeof(k));
	for (r = data; r + RECORD <= data + size; r += RECORD) {
		active = r[0] >> 7;
		flags = r[0] & 0x3f;
		buflen = r[1] == 0 ? LOG_LABEL : r[1];
		seq = get32(r + 2);
		ack = get32(r + 6);
		len = (unsigned)r[10] << 8 | r[11];

		/* The label as the log makes it, on a copy of the state ... */
		before = twin = k;
		step = NULL;
		ret = seglog_label(&twin, active, flags, seq, ack, len, full, sizeof(full), &step);
		FUZZ_CHECK(ret == full && strlen(full) < sizeof(full));
		FUZZ_CHECK(step != NULL && known_step(step));
		/* ... and into a buffer of exactly buflen bytes: the same state and step, the
		 * same words cut short. */
		if ((cut = malloc(buflen)) == NULL)
			abort();
		step2 = NULL;
		ret = seglog_label(&k, active, flags, seq, ack, len, cut, buflen, &step2);
		FUZZ_CHECK(ret == cut && memchr(cut, '\0', buflen) != NULL);
		n = strlen(cut);
		FUZZ_CHECK(strncmp(cut, full, n) == 0 && (full[n] == '\0' || n == buflen - 1));
		FUZZ_CHECK(step2 == step && memcmp(&k, &twin, sizeof(k)) == 0);
		free(cut);

		check_state(&k, &before);
		if (flags & CAPTURE_RST)
			FUZZ_CHECK(strcmp(step, "rst") == 0);
		else if (flags & CAPTURE_SYN)
			FUZZ_CHECK(strncmp(step, flags & CAPTURE_ACK ? "syn_ack" : "syn",
			    flags & CAPTURE_ACK ? 7 : 3) == 0 && (step[flags & CAPTURE_ACK ? 7 : 3] ==
			    '\0' || strcmp(step + (flags & CAPTURE_ACK ? 7 : 3), "_resent") == 0));
		if (strcmp(step, "fin1") == 0)
			FUZZ_CHECK(k.fins == 1);
		if (strcmp(step, "fin2") == 0 || strcmp(step, "fin2_ack") == 0 ||
		    strcmp(step, "ack_fin2") == 0)
			FUZZ_CHECK(k.fins == 2);
		if (flags & CAPTURE_SYN)
			FUZZ_CHECK(active ? k.have_x && k.x == seq : k.have_y && k.y == seq);
	}
	return 0;
}
