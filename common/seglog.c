/* seglog.c -- --capture: match captured segments to our connections by 4-tuple, keep the ones
 * that come before the program knows the tuple, and log each as a `segment` event with the
 * textbook's names for its numbers (x: the connecting side's ISN, y: the other side's). */
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "evlog.h"
#include "seglog.h"
#include "wire.h"

#define MAX_TUPLES	256	/* connections remembered (a ring: the oldest is forgotten) */
/* Segments kept until their connection is known: a connection's handshake (and its first data)
 * wait here while it sits in the accept queue, so a class of students connecting at once needs
 * room for a few segments each (64 kept the SYN of 22 connections out of a burst of 100). */
#define MAX_PENDING	1024
#define PENDING_KEEP	4096	/* payload bytes kept of each (a ClientHello fits) */

struct tuple {
	unsigned		 conn;
	int			 active;
	struct sockaddr_storage	 local, remote;
	struct seglog_isn	 isn;
	struct wire_dir		 wire[2];	/* --wire: [0] what came in, [1] what we sent */
	int64_t			 syn_ts[2];	/* capture time of the latest SYN (SYN+ACK) from
						 * [0] the passive, [1] the active side */
	int			 syn_tries[2];	/* how many times it was seen */
	/* The FINs, as captured: the first one's direction and end (seq + len + 1), and, once
	 * the other side's FIN came, who was first (SEGLOG_FINS_*). */
	int			 fin1_out, fins_seen, fin_order;
	unsigned		 fin1_end;
	/* The interface each direction ([0] in, [1] out) was first seen on: the copy of a
	 * segment seen again on another one (a bridge, then its port) is not logged twice. */
	int			 ifindex[2];
	char			 iface[2][IF_NAMESIZE];
	int			 iface_said;	/* the first logged segment named a LAN interface */
};

static struct capture *cap;
static struct tuple tuples[MAX_TUPLES];
static int ntuples, next_tuple;
/* Segments not yet bound to a connection: a ring of the latest MAX_PENDING, oldest at
 * pfirst. The payload lives in pcap's buffer only during the callback: a held segment's
 * payload is NULL and a copy of its start is in data (NULL when there is none). */
struct held {
	struct capture_segment	 seg;
	unsigned char		*data;
};
static struct held pending[MAX_PENDING];
static int npending, pfirst;
static int wire;		/* --wire: show each segment's payload as an eavesdropper would */

int seglog_on(void) { return cap != NULL; }
void seglog_wire(int on) { wire = on; capture_want_payload(on); }

/* The flags that asked for the capture, for "going on without ...". */
const char *
seglog_flags(int capture_given)
{
	if (!wire)
		return "--capture";
	return capture_given ? "--wire and --capture" : "--wire";
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
	return 0;
}

/* 1 if the segment belongs to tuple t; *out: whether we sent it. */
static int
of_tuple(const struct tuple *t, const struct capture_segment *sg, int *out)
{
	if (same_addr(&sg->src, &t->local) && same_addr(&sg->dst, &t->remote)) {
		*out = 1;
		return 1;
	}
	if (same_addr(&sg->src, &t->remote) && same_addr(&sg->dst, &t->local)) {
		*out = 0;
		return 1;
	}
	return 0;
}

/* The tuple a segment belongs to, and whether we sent it. */
static struct tuple *
find(const struct capture_segment *sg, int *out)
{
	int k;

	/* Newest first: a 4-tuple can come back after TIME_WAIT for a new connection. */
	for (k = 1; k <= ntuples; k++) {
		struct tuple *t = &tuples[(next_tuple - k + MAX_TUPLES) % MAX_TUPLES];

		if (of_tuple(t, sg, out))
			return t;
	}
	return NULL;
}

#define REL(v, base) ((unsigned)((v) - (base)))

/* Name a segment the way the textbook does. Pure: the state is in *k. */
const char *
seglog_label(struct seglog_isn *k, int from_active, unsigned flags, unsigned seq, unsigned ack,
    unsigned len, char *buf, size_t buflen, const char **step)
{
	const char *sl = from_active ? "x" : "y", *al = from_active ? "y" : "x";
	unsigned sbase = from_active ? k->x : k->y, abase = from_active ? k->y : k->x;
	int have_s = from_active ? k->have_x : k->have_y;
	int have_a = from_active ? k->have_y : k->have_x;
	char sq[48], ak[48], datap[32] = "";
	int i, acks_fin = -1, resent = 0;

	*step = "segment";
	if (flags & CAPTURE_SYN) {
		/* The same SYN (same ISN) seen again from this side: a retransmission. */
		resent = have_s && sbase == seq;
		if (from_active) {
			k->have_x = 1;
			k->x = seq;
		} else {
			k->have_y = 1;
			k->y = seq;
		}
		sbase = seq;
		have_s = 1;
	}
	if (have_s)
		snprintf(sq, sizeof(sq), "%s+%u", sl, REL(seq, sbase));
	else
		snprintf(sq, sizeof(sq), "%u", seq);
	if (have_a)
		snprintf(ak, sizeof(ak), "%s+%u", al, REL(ack, abase));
	else
		snprintf(ak, sizeof(ak), "%u", ack);
	/* Is this the first segment to acknowledge a FIN of the other side? (Later ones carry
	 * the same ack number but are not the 2nd or 4th wave.) */
	for (i = 0; i < k->fins; i++)
		if ((flags & CAPTURE_ACK) && k->fin_from_active[i] != from_active &&
		    ack == k->fin_end[i] && !k->fin_acked[i])
			acks_fin = i;
	if (acks_fin >= 0)
		k->fin_acked[acks_fin] = 1;

	if ((flags & CAPTURE_RST)) {
		*step = "rst";
		snprintf(buf, buflen, TR("RST seq=%s  (reset: the connection is dropped at once)",
		    "RST seq=%s  （重置：连接立即被丢弃）"), sq);
	} else if ((flags & CAPTURE_SYN) && !(flags & CAPTURE_ACK)) {
		*step = resent ? "syn_resent" : "syn";
		snprintf(buf, buflen, TR("SYN seq=%s (%s=%u)  1st handshake%s",
		    "SYN seq=%s (%s=%u)  第一次握手%s"), sl, sl, seq, resent ?
		    TR(", sent again: a retransmission (the same SYN, the same x)",
		        "，再次发送：重传（同一个 SYN，同一个 x）") : "");
	} else if ((flags & CAPTURE_SYN) && (flags & CAPTURE_ACK)) {
		*step = resent ? "syn_ack_resent" : "syn_ack";
		snprintf(buf, buflen, TR("SYN+ACK seq=%s ack=%s  (%s=%u)  2nd handshake%s",
		    "SYN+ACK seq=%s ack=%s  (%s=%u)  第二次握手%s"), sl, ak, sl,
		    seq, resent ? TR(", sent again: a retransmission (the same SYN+ACK, the same y)",
		        "，再次发送：重传（同一个 SYN+ACK，同一个 y）") :
		    "");
	} else if (flags & CAPTURE_FIN) {
		/* Data and FIN can share a segment (a corked half-close): the FIN's own number
		 * comes after the data, and the label says the data is there. */
		if (len > 0) {
			snprintf(datap, sizeof(datap), "data len=%u + ", len);
			if (have_s)
				snprintf(sq, sizeof(sq), "%s+%u", sl, REL(seq + len, sbase));
			else
				snprintf(sq, sizeof(sq), "%u", seq + len);
		}
		if (k->fins < 2) {
			k->fin_end[k->fins] = seq + len + 1;
			k->fin_from_active[k->fins] = from_active;
			k->fins++;
		}
		if (k->fins == 1) {
			*step = "fin1";
			snprintf(buf, buflen, TR("%sFIN seq=%s (u=%u) ack=%s  1st wave",
			    "%sFIN seq=%s (u=%u) ack=%s  第一次挥手"), datap, sq,
			    seq + len, ak);
		} else if (acks_fin == 0) {
			*step = "fin2_ack";
			snprintf(buf, buflen, TR("%sFIN+ACK seq=%s (w=%u) ack=%s (u+1)  2nd and 3rd wave in "
			    "one segment: the ACK rode on the FIN",
			    "%sFIN+ACK seq=%s (w=%u) ack=%s (u+1)  第二次和第三次挥手在同一个报文"
			    "段中：ACK 搭在 FIN 上"), datap, sq, seq + len, ak);
		} else {
			*step = "fin2";
			snprintf(buf, buflen, TR("%sFIN seq=%s (w=%u) ack=%s  3rd wave",
			    "%sFIN seq=%s (w=%u) ack=%s  第三次挥手"), datap, sq,
			    seq + len, ak);
		}
	} else if (acks_fin == 0 && len == 0) {
		*step = "ack_fin1";
		snprintf(buf, buflen, TR("ACK ack=%s (u+1)  2nd wave", "ACK ack=%s (u+1)  第二次挥手"), ak);
	} else if (acks_fin == 1 && len == 0) {
		*step = "ack_fin2";
		snprintf(buf, buflen, TR("ACK ack=%s (w+1)  4th wave", "ACK ack=%s (w+1)  第四次挥手"), ak);
	} else if (len == 0 && from_active && have_a && REL(ack, abase) == 1 &&
	    REL(seq, sbase) == 1 && k->fins == 0 && !k->hs_acked) {
		*step = "ack_handshake";
		k->hs_acked = 1;
		snprintf(buf, buflen, TR("ACK seq=%s ack=%s  3rd handshake", "ACK seq=%s ack=%s  第三次握手"),
		    sq, ak);
	} else if (len > 0 && acks_fin == 0) {
		/* The first segment to ACK the first FIN is the 2nd wave even when it carries
		 * data (a TLS close_notify sent after the peer's FIN, a response after a
		 * half-close): step ack_fin1, len > 0. */
		*step = "ack_fin1";
		snprintf(buf, buflen, TR("data seq=%s ack=%s (u+1) len=%u  2nd wave: this data segment "
		    "also ACKs the FIN (the peer half-closed; this direction still carries data)",
		    "data seq=%s ack=%s (u+1) len=%u  第二次挥手：这个数据报文段同时确认了 FIN（对"
		    "方已半关闭；这个方向仍在传数据）"),
		    sq, ak, len);
	} else if (len > 0) {
		*step = "data";
		snprintf(buf, buflen, "data seq=%s ack=%s len=%u", sq, ak, len);
	} else {
		*step = "ack";
		snprintf(buf, buflen, "ACK seq=%s ack=%s", sq, ak);
	}
	return buf;
}

/* --wire: what anyone on the path sees of this payload, as fields and a second text line. */
static void
log_wire(struct evrec *r, struct tuple *t, int out, const struct capture_segment *sg)
{
	struct wire_view v;
	char recs[512];
	const char *what;
	int i, clear = 0, sealed = 0, cert = 0, hello13 = 0, appdata = 0, chello = 0, ckx = 0;
	int ccs = 0;

	wire_look(&t->wire[out], sg->seq, sg->payload, sg->caplen, sg->len, &v);
	wire_records_str(&v, recs, sizeof(recs));
	evrec_str(r, "wire", wire_kind_name(v.kind));
	evrec_str(r, "wire_preview", v.preview);
	evrec_int(r, "wire_shown", v.shown);
	evrec_bool(r, "wire_readable", v.kind == WIRE_PLAIN);
	if (v.kind == WIRE_PLAIN) {
		evrec_note(r, EVREC_NOTE_EXPOSED, TR("wire  %u B  \"%s\"%s  anyone on the path can read "
		    "this",
		    "wire  %u B  \"%s\"%s  路径上的任何人都能读到"), sg->len, v.preview,
		    v.shown < sg->len ? "..." : "");
		return;
	}
	if (v.kind == WIRE_LOST) {
		evrec_note(r, EVREC_NOTE_PROTECTED, TR("wire  %u B  TLS, record boundaries lost (a gap "
		    "in the capture): ciphertext",
		    "wire  %u B  TLS，记录边界丢失（抓包中有缺口）：密文"), sg->len);
		return;
	}
	if (v.retransmit) {
		evrec_bool(r, "wire_retransmit", 1);
		evrec_note(r, EVREC_NOTE_PROTECTED, TR("wire  %u B  TLS bytes sent before: a "
		    "retransmission",
		    "wire  %u B  以前发过的 TLS 字节：重传"), sg->len);
		return;
	}
	evrec_str(r, "wire_records", recs);
	evrec_int(r, "wire_record_count", v.starts);
	evrec_int(r, "wire_record_bytes", v.rec_bytes);
	evrec_int(r, "wire_cont", v.cont);
	evrec_bool(r, "wire_goes_on", v.goes_on);
	/* Handshake records before this side's ChangeCipherSpec are readable (the hellos; in
	 * TLS 1.2 also the certificate); a ChangeCipherSpec record is never encrypted (one
	 * byte, 0x01: no secret in it); the rest is ciphertext. */
	if (v.cont)
		sealed++;
	for (i = 0; i < v.nrecs; i++) {
		if (v.recs[i].hs_type == 1)
			chello = 1;
		if (v.recs[i].hs_type == 11)
			cert = 1;
		if (v.recs[i].hs_type == 2)
			hello13 = 1;
		if (v.recs[i].hs_type == 16)
			ckx = 1;
		if (v.recs[i].type == 23)
			appdata = 1;
		if (v.recs[i].type == 20)
			ccs = 1;
		else if (v.recs[i].hs_type >= 0)
			clear++;
		else
			sealed++;
	}
	if (!sealed && chello)
		what = TR("in the clear: versions, cipher suites, the server name and any key share "
		    "are readable; a key share is a public key, readable and not secret (its "
		    "private half never leaves the client)",
		    "明文：版本、密码套件、服务器名和密钥份额都能读到；密钥份额是公钥，可读但不是"
		    "秘密（它的私钥部分从不离开客户端）");
	else if (!sealed && cert)
		what = TR("in the clear: these handshake messages, the certificate too (TLS 1.2), are "
		    "readable; the public keys in them are not secrets",
		    "明文：这些握手消息，连同证书（TLS 1.2），都能读到；其中的公钥不是秘密");
	else if (!sealed && ckx)
		what = TR("in the clear: readable; a ClientKeyExchange holds the client's public key "
		    "(ECDHE) or the pre-master secret encrypted with the server's RSA key (RSA): "
		    "neither gives the secret away",
		    "明文：能读到；ClientKeyExchange 里是客户端的公钥（ECDHE），或者用服务器 RSA "
		    "公钥加密的预主密钥（RSA）：两者都不会泄露密钥");
	else if (!sealed)
		what = TR("in the clear: readable by anyone on the path",
		    "明文：路径上的任何人都能读到");
	else if (clear && hello13 && appdata)
		what = ccs ? TR("the ServerHello is readable (its key share is a public key); the "
		    "ChangeCipherSpec is a plaintext dummy that carries nothing; the rest is "
		    "ciphertext (TLS 1.3: the rest of the handshake, the certificate too when "
		    "there is one)",
		    "ServerHello 能读到（它的密钥份额是公钥）；ChangeCipherSpec 是不携带任何内容的"
		    "明文空壳；其余是密文（TLS 1.3：握手的其余部分，如果有证书，证书也在其中）") :
		    TR("the ServerHello is readable (its key share is a public "
		    "key); the rest is ciphertext (TLS 1.3: the rest of the handshake, the "
		    "certificate too when there is one)",
		    "ServerHello 能读到（它的密钥份额是公钥）；其余是密文（TLS 1.3：握手的其余部分"
		    "，"
		    "如果有证书，证书也在其中）");
	else if (clear && ccs && ckx)
		what = TR("readable up to and including the ChangeCipherSpec (the ClientKeyExchange "
		    "holds a public key, or with RSA the pre-master secret encrypted to the "
		    "server's key), ciphertext after it",
		    "直到 ChangeCipherSpec（含）都能读到（ClientKeyExchange 里是公钥，或者 RSA 方"
		    "式下用服务器公钥加密的预主密钥），之后是密文");
	else if (clear && ccs)
		what = TR("readable up to and including the ChangeCipherSpec, ciphertext after it",
		    "直到 ChangeCipherSpec（含）都能读到，之后是密文");
	else if (clear)
		what = TR("the handshake records are readable, the rest is ciphertext",
		    "握手记录能读到，其余是密文");
	else if (ccs)
		what = TR("the ChangeCipherSpec record is in the clear (one byte, no secret in it); "
		    "the rest is ciphertext: unreadable without the keys",
		    "ChangeCipherSpec 记录是明文（一个字节，不含秘密）；其余是密文：没有密钥就读不"
		    "懂");
	else
		what = TR("ciphertext: unreadable without the keys",
		    "密文：没有密钥就读不懂");
	evrec_note(r, sealed ? EVREC_NOTE_PROTECTED : EVREC_NOTE_EXPOSED, "wire  %u B  TLS %s  -- %s",
	    sg->len, recs, what);
}

/* Who sent the first FIN, as the wire shows it: the other side's FIN either ACKs the first one
 * (it was sent after the first arrived) or not (the two crossed). */
static void
note_fin(struct tuple *t, int out, const struct capture_segment *sg)
{
	if (t->fins_seen == 0) {
		t->fins_seen = 1;
		t->fin1_out = out;
		t->fin1_end = sg->seq + sg->len + 1;
	} else if (t->fins_seen == 1 && out != t->fin1_out) {
		t->fins_seen = 2;
		if ((sg->flags & CAPTURE_ACK) && (int32_t)(sg->ack - t->fin1_end) >= 0)
			t->fin_order = t->fin1_out ? SEGLOG_FINS_LOCAL : SEGLOG_FINS_PEER;
		else
			t->fin_order = SEGLOG_FINS_CROSSED;
	}
}

int
seglog_fin_order(unsigned conn)
{
	int k;

	if (cap == NULL || conn == 0)
		return SEGLOG_FINS_UNKNOWN;
	for (k = 1; k <= ntuples; k++) {
		const struct tuple *t = &tuples[(next_tuple - k + MAX_TUPLES) % MAX_TUPLES];

		if (t->conn == conn)
			return t->fin_order;
	}
	return SEGLOG_FINS_UNKNOWN;
}

int
seglog_peer_fin(unsigned conn)
{
	int k;

	if (cap == NULL || conn == 0)
		return 0;
	for (k = 1; k <= ntuples; k++) {
		const struct tuple *t = &tuples[(next_tuple - k + MAX_TUPLES) % MAX_TUPLES];

		if (t->conn == conn)
			return t->fins_seen == 2 || (t->fins_seen == 1 && !t->fin1_out);
	}
	return 0;
}

/* 1 if sg is the first copy of its segment: on the interface its direction was first seen on
 * (the cooked header names it), or on a capture that does not say. Remembers the name. */
static int
first_copy(struct tuple *t, int out, const struct capture_segment *sg)
{
	if (sg->ifindex == 0) {
		/* The lo device itself (Ethernet-framed): its name is known. */
		if (t->iface[out][0] == '\0' && sg->loopback && cap != NULL &&
		    strcmp(capture_device(cap), "lo") == 0)
			snprintf(t->iface[out], sizeof(t->iface[out]), "lo");
		return 1;
	}
	if (t->ifindex[out] == 0) {
		t->ifindex[out] = sg->ifindex;
		if (if_indextoname((unsigned)sg->ifindex, t->iface[out]) == NULL)
			snprintf(t->iface[out], sizeof(t->iface[out]), "#%d", sg->ifindex);
	}
	return t->ifindex[out] == sg->ifindex;
}

static void
log_segment(struct tuple *t, int out, const struct capture_segment *sg)
{
	struct evrec r;
	char flags[32], label[256];
	const char *step;
	int from_active = out ? t->active : !t->active, tries = 0;
	double resent_ms = -1;

	if (!first_copy(t, out, sg))
		return;

	seglog_label(&t->isn, from_active, sg->flags, sg->seq, sg->ack, sg->len, label,
	    sizeof(label), &step);
	if ((sg->flags & CAPTURE_FIN) && !(sg->flags & CAPTURE_RST))
		note_fin(t, out, sg);
	if (!evrec_begin(&r, EVT_SEGMENT, t->conn, -1))
		return;
	capture_flags_str(sg->flags, flags, sizeof(flags));
	/* A SYN or SYN+ACK sent again: the wait since the previous try, as captured (kernels
	 * differ: some double it, some keep it fixed, so it is measured, never assumed). */
	if ((sg->flags & CAPTURE_SYN) && !(sg->flags & CAPTURE_RST)) {
		int a = from_active ? 1 : 0;

		if (strncmp(step, "syn", 3) == 0 && strstr(step, "_resent") != NULL &&
		    t->syn_tries[a] > 0) {
			double gap_ms = (double)(sg->ts_us - t->syn_ts[a]) / 1000.0;
			size_t l = strlen(label);

			resent_ms = gap_ms;
			snprintf(label + l, sizeof(label) - l, "; try %d, %.3f s after the one "
			    "before (capture times)", t->syn_tries[a] + 1, gap_ms / 1000.0);
		}
		t->syn_tries[a]++;
		t->syn_ts[a] = sg->ts_us;
		tries = t->syn_tries[a];
	}
	evrec_str(&r, "dir", out ? "out" : "in");
	evrec_str(&r, "flags", flags);
	evrec_int(&r, "seq", sg->seq);
	evrec_int(&r, "ack", (sg->flags & CAPTURE_ACK) ? (long long)sg->ack : 0);
	evrec_int(&r, "win", sg->win);
	evrec_int(&r, "len", sg->len);
	evrec_str(&r, "step", step);
	if (resent_ms >= 0) {
		evrec_int(&r, "try", tries);
		evrec_float(&r, "resent_after_ms", resent_ms);
	}
	evrec_int(&r, "cap_ts_us", sg->ts_us);
	/* Loopback is where the programs usually meet: only another interface is named. */
	if (!sg->loopback && t->iface[out][0] != '\0')
		evrec_str(&r, "iface", t->iface[out]);
	evrec_label(&r, "%s %s", out ? ">" : "<", flags);
	/* Off loopback, the connection's first segment says where it was captured (the LAN
	 * interface the students' segments cross). */
	if (!sg->loopback && t->iface[out][0] != '\0' && !t->iface_said) {
		size_t l = strlen(label);

		t->iface_said = 1;
		snprintf(label + l, sizeof(label) - l, TR("  (captured on %s)", "  （抓包接口 %s）"),
		    t->iface[out]);
	}
	evrec_detail(&r, "%s", label);
	if (wire && sg->len > 0)
		log_wire(&r, t, out, sg);
	evrec_emit(&r);
}

static void
on_segment(const struct capture_segment *sg, void *arg)
{
	struct tuple *t;
	int out, k;

	(void)arg;
	if ((t = find(sg, &out)) != NULL) {
		log_segment(t, out, sg);
		return;
	}
	/* Not ours yet (the handshake happened before connect()/accept() told us the tuple),
	 * or not ours at all: keep the latest few. */
	if (npending == MAX_PENDING) {		/* full: the oldest goes */
		free(pending[pfirst].data);
		pending[pfirst].data = NULL;
		pfirst = (pfirst + 1) % MAX_PENDING;
		npending--;
	}
	/* The payload lives in pcap's buffer: keep a copy of its start. */
	k = (pfirst + npending) % MAX_PENDING;
	pending[k].seg = *sg;
	pending[k].seg.payload = NULL;
	pending[k].seg.caplen = sg->caplen < PENDING_KEEP ? sg->caplen : PENDING_KEEP;
	pending[k].data = NULL;
	if (pending[k].seg.caplen > 0 &&
	    (pending[k].data = malloc(pending[k].seg.caplen)) != NULL)
		memcpy(pending[k].data, sg->payload, pending[k].seg.caplen);
	else
		pending[k].seg.caplen = 0;	/* no memory: the length is still known */
	npending++;
}

int
seglog_open(struct event_base *base, const char *filter, char *err, size_t errlen)
{
	cap = capture_open(base, filter, on_segment, NULL, err, errlen);
	if (cap != NULL && err[0] != '\0')	/* it works, on less than every interface */
		evlog(EVT_WARNING, 0, -1, "%s", err);
	return cap ? 0 : -1;
}

/* A capture that stopped says why, once. */
static void
say_error(void)
{
	const char *e;

	if (cap != NULL && (e = capture_take_error(cap)) != NULL)
		evlog(EVT_WARNING, 0, -1, "%s", e);
}

void
seglog_sync(void)
{
	if (cap != NULL) {
		capture_drain(cap);
		say_error();
	}
}

void
seglog_bind(unsigned conn, const struct sockaddr *local, const struct sockaddr *remote,
    int active)
{
	struct tuple *t;
	socklen_t len;
	int i, j, kj, out;

	if (cap == NULL)
		return;
	capture_drain(cap);
	t = &tuples[next_tuple];
	next_tuple = (next_tuple + 1) % MAX_TUPLES;
	if (ntuples < MAX_TUPLES)
		ntuples++;
	memset(t, 0, sizeof(*t));
	len = local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	memcpy(&t->local, local, len);
	memcpy(&t->remote, remote, len);
	t->conn = conn;
	t->active = active;
	/* Log the kept segments of this tuple, in capture order, and drop them. */
	for (i = j = 0; i < npending; i++) {
		struct held *h = &pending[(pfirst + i) % MAX_PENDING];

		/* t is the newest tuple, the one find() would give first. */
		if (of_tuple(t, &h->seg, &out)) {
			h->seg.payload = h->data;
			log_segment(t, out, &h->seg);
			h->seg.payload = NULL;
			free(h->data);
			h->data = NULL;
			continue;
		}
		kj = (pfirst + j++) % MAX_PENDING;
		if (&pending[kj] != h) {	/* close the gap: the kept ones stay in order */
			pending[kj] = *h;
			h->data = NULL;
		}
	}
	npending = j;
}

void
seglog_close(void)
{
	long dropped;

	if (cap == NULL)
		return;
	say_error();
	for (; npending > 0; npending--, pfirst = (pfirst + 1) % MAX_PENDING) {
		free(pending[pfirst].data);
		pending[pfirst].data = NULL;
	}
	/* Segments the kernel had no room for are missing from the log: say so, once. */
	if ((dropped = capture_dropped(cap)) > 0)
		evlog(EVT_WARNING, 0, -1, TR("the capture missed %ld segment(s): the kernel's "
		    "capture buffer was full, so some segment lines are missing",
		    "抓包漏掉了 %ld 个报文段：内核的抓包缓冲区满了，所以缺少一些报文段的记录"),
		    dropped);
	capture_free(cap);
	cap = NULL;
}
