/* test_seglog.c -- seglog_label: the textbook's name of each segment of one connection, from
 * the SYN to the last ACK, including the ones the textbook draws apart or leaves out (a SYN
 * sent again, a data segment that is also the 2nd wave). */
#include <string.h>

#include "capture.h"
#include "seglog.h"
#include "unit.h"

#define SYN	CAPTURE_SYN
#define ACK	CAPTURE_ACK
#define FIN	CAPTURE_FIN
#define PSH	CAPTURE_PSH

static const char *
seg(struct seglog_isn *k, int active, unsigned flags, unsigned seq, unsigned ack, unsigned len,
    char *buf, size_t n)
{
	const char *step = NULL;

	seglog_label(k, active, flags, seq, ack, len, buf, n, &step);
	return step;
}

/* A SYN sent three times (the server's accept queue was full): the 2nd and 3rd are the same
 * SYN again, not three 1st handshakes; the ACK after the SYN+ACK is the 3rd handshake once. */
static void
test_seglog_syn_resent(void)
{
	struct seglog_isn k;
	char b[256];
	const unsigned x = 1000, y = 5000;

	memset(&k, 0, sizeof(k));
	CHECK_STR(seg(&k, 1, SYN, x, 0, 0, b, sizeof(b)), "syn");
	CHECK(strstr(b, "1st handshake") != NULL && strstr(b, "again") == NULL);
	CHECK_STR(seg(&k, 1, SYN, x, 0, 0, b, sizeof(b)), "syn_resent");
	CHECK(strstr(b, "1st handshake, sent again: a retransmission") != NULL);
	CHECK_STR(seg(&k, 1, SYN, x, 0, 0, b, sizeof(b)), "syn_resent");
	CHECK_STR(seg(&k, 0, SYN | ACK, y, x + 1, 0, b, sizeof(b)), "syn_ack");
	CHECK_STR(seg(&k, 0, SYN | ACK, y, x + 1, 0, b, sizeof(b)), "syn_ack_resent");
	CHECK(strstr(b, "2nd handshake, sent again") != NULL);
	CHECK_STR(seg(&k, 1, ACK, x + 1, y + 1, 0, b, sizeof(b)), "ack_handshake");
	CHECK_STR(b, "ACK seq=x+1 ack=y+1  3rd handshake");
	/* the same ACK again (answering the SYN+ACK sent again): no second 3rd handshake */
	CHECK_STR(seg(&k, 1, ACK, x + 1, y + 1, 0, b, sizeof(b)), "ack");
	CHECK(strstr(b, "handshake") == NULL);
}

/* The TLS close: our close_notify, our FIN; the peer's close_notify is the first segment to
 * ACK our FIN: the 2nd wave, on a data segment; then its FIN (3rd), our last ACK (4th). */
static void
test_seglog_data_acks_fin(void)
{
	struct seglog_isn k;
	char b[256];
	const unsigned x = 1000, y = 5000;

	memset(&k, 0, sizeof(k));
	seg(&k, 1, SYN, x, 0, 0, b, sizeof(b));
	seg(&k, 0, SYN | ACK, y, x + 1, 0, b, sizeof(b));
	seg(&k, 1, ACK, x + 1, y + 1, 0, b, sizeof(b));
	CHECK_STR(seg(&k, 1, PSH | ACK, x + 1, y + 1, 24, b, sizeof(b)), "data");
	CHECK_STR(seg(&k, 1, FIN | ACK, x + 25, y + 1, 0, b, sizeof(b)), "fin1");
	CHECK_STR(seg(&k, 0, PSH | ACK, y + 1, x + 26, 24, b, sizeof(b)), "ack_fin1");
	CHECK(strstr(b, "data seq=y+1 ack=x+26 (u+1) len=24  2nd wave") == b);
	CHECK_STR(seg(&k, 0, FIN | ACK, y + 25, x + 26, 0, b, sizeof(b)), "fin2");
	CHECK_STR(seg(&k, 1, ACK, x + 26, y + 26, 0, b, sizeof(b)), "ack_fin2");
	/* a later data segment with the same ack is not the 2nd wave again */
	memset(&k, 0, sizeof(k));
	seg(&k, 1, SYN, x, 0, 0, b, sizeof(b));
	seg(&k, 0, SYN | ACK, y, x + 1, 0, b, sizeof(b));
	CHECK_STR(seg(&k, 1, FIN | ACK, x + 1, y + 1, 0, b, sizeof(b)), "fin1");
	CHECK_STR(seg(&k, 0, PSH | ACK, y + 1, x + 2, 100, b, sizeof(b)), "ack_fin1");
	CHECK_STR(seg(&k, 0, PSH | ACK, y + 101, x + 2, 100, b, sizeof(b)), "data");
}

void
test_seglog(void)
{
	test_seglog_syn_resent();
	test_seglog_data_acks_fin();
}
