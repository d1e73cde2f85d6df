/* explain.c -- the textbook step of each event (English and the Chinese textbook's names) and
 * one sentence of what happens and why, for --explain and --lang zh. One table, keyed by event
 * and, where the event covers several steps, by the segment's step or the message's type. */
#include <stddef.h>
#include <string.h>

#include "evlog.h"
#include "explain.h"

/* Any side, or only the client's or the server's log. */
enum { ANY = -1 };

static const struct entry {
	enum evlog_event ev;
	const char	*key;		/* segment step, message type, error "what"; NULL: any */
	int		 side;		/* ANY, EVLOG_CLIENT, EVLOG_SERVER */
	int		 kernel;	/* a TCP step seen from the kernel's states (no capture) */
	const char	*step_en, *step_zh;
	const char	*why;
} table[] = {
	/* TCP segments (--capture): the step field seglog_label gives them. */
	{ EVT_SEGMENT, "syn", ANY, 0, "1st handshake", "第一次握手",
	  "the connecting side's kernel sends SYN with its initial sequence number x: 'I want to "
	  "talk, and I will count my bytes from x'" },
	{ EVT_SEGMENT, "syn_resent", ANY, 0, "1st handshake, sent again", "第一次握手（重传）",
	  "no SYN+ACK came back before the retransmit timer fired, so the kernel sent the same "
	  "SYN (the same x) again; the wait since the try before is measured from the capture, "
	  "not assumed: kernels differ (some double it, some keep it fixed)" },
	{ EVT_SEGMENT, "syn_ack_resent", ANY, 0, "2nd handshake, sent again",
	  "第二次握手（重传）",
	  "the listening side's kernel sent the same SYN+ACK (the same y) again: the client's "
	  "SYN came again, or no ACK completed the handshake before its timer fired" },
	{ EVT_SEGMENT, "syn_ack", ANY, 0, "2nd handshake", "第二次握手",
	  "the listening side's kernel answers SYN+ACK: ack=x+1 confirms the SYN (a SYN counts "
	  "as one byte) and its own ISN y starts the other direction" },
	{ EVT_SEGMENT, "ack_handshake", ANY, 0, "3rd handshake", "第三次握手",
	  "the connecting side ACKs y+1: now each side knows the other can send and receive, "
	  "the fewest segments that prove both directions work" },
	{ EVT_SEGMENT, "fin1", ANY, 0, "1st wave", "第一次挥手",
	  "the side that closes first sends FIN: it has no more data to send, but it can still "
	  "receive (a half-close)" },
	{ EVT_SEGMENT, "ack_fin1", ANY, 0, "2nd wave", "第二次挥手",
	  "the other side's kernel ACKs the FIN (u+1) on its own; its program may still have "
	  "data to send, so its own FIN comes later" },
	{ EVT_SEGMENT, "fin2", ANY, 0, "3rd wave", "第三次挥手",
	  "the other side has sent all it had and closes its direction with its own FIN" },
	{ EVT_SEGMENT, "fin2_ack", ANY, 0, "2nd and 3rd wave", "第二次和第三次挥手",
	  "the ACK of the first FIN rode on the second FIN: the close took three segments, not "
	  "four (the textbook draws them apart)" },
	{ EVT_SEGMENT, "ack_fin2", ANY, 0, "4th wave", "第四次挥手",
	  "the last ACK; whoever sent it waits in TIME_WAIT for 2MSL, in case this ACK is lost "
	  "and the FIN comes again" },
	{ EVT_SEGMENT, "rst", ANY, 0, NULL, NULL,
	  "RST aborts the connection at once: no four-way close and no TIME_WAIT" },
	{ EVT_SEGMENT, "data", ANY, 0, NULL, NULL,
	  "a segment with data: seq numbers its first byte in the stream, ack says how much of "
	  "the peer's stream has arrived" },
	{ EVT_SEGMENT, "ack", ANY, 0, NULL, NULL,
	  "an ACK alone: it tells the sender which bytes arrived (what is never ACKed is sent "
	  "again)" },

	/* TCP, seen from the kernel's states (the steps only when segments are not captured). */
	{ EVT_CONNECT, NULL, ANY, 1, "1st handshake", "第一次握手",
	  "connect() makes our kernel send SYN with a random initial sequence number x; the "
	  "program itself never sees a segment" },
	{ EVT_ESTABLISHED, NULL, EVLOG_CLIENT, 1, "2nd and 3rd handshake", "第二次和第三次握手",
	  "our kernel received SYN+ACK and answered ACK: the connection is open both ways and "
	  "connect() reports success" },
	{ EVT_ESTABLISHED, NULL, EVLOG_SERVER, 1, "three-way handshake done", "三次握手完成",
	  "the kernel completed SYN, SYN+ACK, ACK on its own and queued the connection; accept() "
	  "only picks up a finished one" },
	{ EVT_ACCEPT_WAIT, NULL, ANY, 0, NULL, NULL,
	  "finished handshakes wait in the accept queue until the program calls "
	  "accept()" },
	{ EVT_FIN_RECEIVED, NULL, ANY, 0, NULL, NULL,
	  "read() returning 0 is how a program learns of the peer's FIN" },
	{ EVT_FIN_SENT, NULL, ANY, 0, NULL, NULL,
	  "shutdown(SHUT_WR) makes the kernel send FIN: we send no more, but can still read "
	  "what the peer sends" },
	{ EVT_CLOSED, NULL, ANY, 0, NULL, NULL,
	  "close() gives the socket back; the side that sent the first FIN (first_fin, read from "
	  "the kernel) keeps the connection in TIME_WAIT for 2MSL (60 s on Linux) so a lost last "
	  "ACK can be resent" },
	{ EVT_RESET, NULL, ANY, 0, NULL, NULL,
	  "RST ends the connection on the spot: unsent and unread data are lost, no TIME_WAIT" },
	{ EVT_HOLD_CLOSE, NULL, ANY, 0, NULL, NULL,
	  "we hold our FIN back, so the half-closed states (CLOSE_WAIT here, FIN_WAIT2 there) "
	  "last long enough to see" },
	{ EVT_PAUSE_READ, NULL, ANY, 0, NULL, NULL,
	  "we stop reading: the receive buffer fills and TCP flow control tells the sender to "
	  "wait (a zero window)" },

	/* TLS */
	{ EVT_HANDSHAKE_START, NULL, ANY, 0, NULL, NULL,
	  "TLS starts only once TCP is up: its messages travel inside the TCP stream like any "
	  "other data" },
	{ EVT_MESSAGE, "ClientHello", ANY, 0, "client hello", "ClientHello 客户端问候",
	  "the client proposes versions and cipher suites, with a fresh random value" },
	{ EVT_MESSAGE, "ServerHello", ANY, 0, "server hello", "ServerHello 服务器问候",
	  "the server picks one version and cipher suite, with its own random value" },
	{ EVT_MESSAGE, "HelloRetryRequest", ANY, 0, "hello retry", "HelloRetryRequest 重试问候",
	  "none of the client's key shares suits the server: the client must send a new "
	  "ClientHello, one more round trip" },
	{ EVT_MESSAGE, "EncryptedExtensions", ANY, 0, "encrypted extensions",
	  "EncryptedExtensions 加密扩展",
	  "the server's other choices, the first message under the handshake keys: an "
	  "eavesdropper no longer sees what follows" },
	{ EVT_MESSAGE, "Certificate", ANY, 0, "certificate",	/* see who_certifies() */
	  "Certificate 证书",
	  "the certificate chain: a CA the other side trusts vouches that this public key "
	  "belongs to this name" },
	{ EVT_MESSAGE, "CertificateRequest", ANY, 0, "certificate request",
	  "CertificateRequest 证书请求",
	  "the server wants the client to prove who it is as well (mutual TLS)" },
	{ EVT_MESSAGE, "CertificateVerify", ANY, 0, "proof of the private key",
	  "CertificateVerify 证明持有私钥",
	  "the sender proves it holds the private key: it signs the handshake so far, which a "
	  "copied certificate alone cannot do" },
	{ EVT_MESSAGE, "ServerKeyExchange", ANY, 0, "server key exchange",
	  "ServerKeyExchange 服务器密钥交换",
	  "TLS 1.2 (EC)DHE: the server's fresh public key, signed with the certificate's key so "
	  "no one in the middle can swap it" },
	{ EVT_MESSAGE, "ServerHelloDone", ANY, 0, "server hello done",
	  "ServerHelloDone 服务器问候结束",
	  "TLS 1.2: the server has said everything; the client's turn" },
	{ EVT_MESSAGE, "ClientKeyExchange", ANY, 0, "client key exchange",
	  "ClientKeyExchange 客户端密钥交换",
	  "the client's half of the key exchange (RSA: the encrypted pre-master secret; "
	  "ECDHE: its public key): both sides now derive the session keys" },
	{ EVT_MESSAGE, "ChangeCipherSpec", ANY, 0, "change cipher spec",
	  "ChangeCipherSpec 更改密码规范",	/* by version: see by_version() */
	  "TLS 1.2: 'my next records are encrypted'; TLS 1.3 sends it only so that old "
	  "middleboxes let the connection through" },
	{ EVT_MESSAGE, "Finished", ANY, 0, "finished", "Finished 握手结束",
	  "a MAC over every handshake message under the new keys: if anyone changed a message "
	  "(say, struck the strongest cipher), the MACs differ and the handshake fails" },
	{ EVT_MESSAGE, "NewSessionTicket", ANY, 0, "session ticket", "NewSessionTicket 会话票据",
	  "a ticket to resume this session later without a full handshake" },
	{ EVT_MESSAGE, "KeyUpdate", ANY, 0, "key update", "KeyUpdate 密钥更新",
	  "the sender switches to fresh traffic keys: old keys cannot read new data" },
	{ EVT_MESSAGE, NULL, ANY, 0, NULL, NULL,
	  "a TLS handshake message" },
	{ EVT_KEY_EXCHANGE, NULL, ANY, 0, "key exchange", "密钥交换",
	  "how the shared secret came about: public-key cryptography is used only "
	  "for this and for proving identity" },	/* resumed: see resumed_kx() */
	{ EVT_HANDSHAKE_DONE, NULL, ANY, 0, "symmetric encryption", "对称加密",
	  "the handshake is over: the data now goes under fast symmetric encryption with "
	  "session keys only the two ends know" },
	{ EVT_ALERT, NULL, ANY, 0, "alert", "警报",
	  "an alert: TLS's way to say what went wrong; a fatal one ends the session at once" },
	{ EVT_CLOSE_NOTIFY, NULL, ANY, 0, "close notify", "close_notify 关闭通知",
	  "close_notify says the data ended on purpose, so an attacker cannot cut the stream "
	  "short unnoticed (a truncation attack)" },
	{ EVT_TLS_ERROR, "TLS handshake failed", ANY, 0, NULL, NULL,
	  "the TLS handshake failed: it never completed, so no HTTP data went through" },
	{ EVT_TLS_ERROR, NULL, ANY, 0, NULL, NULL,
	  "the TLS layer failed: a connection whose records cannot be trusted ends here" },
	{ EVT_KEYLOG, NULL, ANY, 0, NULL, NULL,
	  "the session's secrets go to the key log for Wireshark: whoever has that file can "
	  "decrypt a capture of this connection" },

	/* CERT */
	{ EVT_VERIFY, NULL, ANY, 0, "certificate check", "校验证书链",
	  "each certificate is checked from the root down: the issuer's signature, the dates "
	  "and the purpose; depth 0 is the server's own" },
	{ EVT_HOSTNAME, NULL, ANY, 0, NULL, NULL,
	  "a valid certificate for another site proves nothing: the name we asked for must be "
	  "in this one" },
	{ EVT_TRUST_DECISION, NULL, ANY, 0, NULL, NULL,
	  "the verdict on the chain: only a chain to a CA we trust, in date, for this name, "
	  "makes the connection authentic" },

	/* HTTP */
	{ EVT_REQUEST, NULL, ANY, 0, "HTTP request", "HTTP 请求",
	  "the request line and headers: over HTTPS inside TLS application_data records, over "
	  "plain HTTP readable by anyone on the path" },
	{ EVT_RESPONSE, NULL, ANY, 0, "HTTP response", "HTTP 响应",
	  "the status line and headers; the body follows, its end marked by Content-Length, "
	  "chunked encoding or the close" },
	{ EVT_BODY, NULL, ANY, 0, NULL, NULL,
	  "the body is complete: now one side starts the close" },
	{ EVT_HTTP_ERROR, NULL, ANY, 0, NULL, NULL,
	  "the bytes broke HTTP/1.1's rules, so the message cannot be trusted" },
	{ EVT_TIMING, NULL, ANY, 0, NULL, NULL,
	  "where the time went: TCP handshake, TLS handshake, waiting for the first byte" },
};

/* The hellos and the ticket work differently in TLS 1.3 and 1.2: the ClientHello by what it
 * offers (its "summary"), the others by the version the message belongs to (its "version"). */
static void
by_version(const struct evrec *r, const char *type, struct explain *x)
{
	const char *sum = evrec_field_str(r, "summary");
	const char *ver = evrec_field_str(r, "version");
	int tls13 = ver != NULL && strcmp(ver, "TLSv1.3") == 0;
	/* The ClientHello's offered versions: the summary up to its first ';' ("offers TLS
	 * 1.3, 1.2, 1.1, 1.0"; "offers up to TLS 1.2 (legacy_version ...)" has no 1.3). */
	int offers13 = sum != NULL && strncmp(sum, "offers ", 7) == 0 &&
	    strncmp(sum, "offers up to ", 13) != 0 &&
	    memmem(sum, strcspn(sum, ";"), "1.3", 3) != NULL;
	int resume = sum != NULL && (strstr(sum, "offers a session ticket") != NULL ||
	    strstr(sum, "resumes the session") != NULL);

	if (strcmp(type, "ClientHello") == 0 && sum != NULL)
		x->why = offers13 ? "the client proposes versions, cipher suites and a key share "
		    "(TLS 1.3), with a fresh random value: a TLS 1.3 server can answer with its "
		    "own share at once, in one round trip" : resume ? "TLS 1.2 and older: the "
		    "client proposes versions and cipher suites with a fresh random value, and "
		    "a session to resume: if the server takes it, neither a certificate nor a "
		    "key exchange follows" : "TLS 1.2 and older: the client proposes versions "
		    "and cipher suites with a fresh random value; no key share yet, the key "
		    "exchange comes after the server's certificate";
	else if (strcmp(type, "ServerHello") == 0 && ver != NULL)
		x->why = tls13 ? "the server picks the version and cipher suite and sends its "
		    "random and key share: from here both sides derive the same handshake keys, "
		    "and every handshake message after it is encrypted (a ChangeCipherSpec "
		    "record in between is a plaintext dummy for middleboxes, carrying nothing)" :
		    resume ? "TLS 1.2, resumed: the server takes the session the client offered; "
		    "no certificate and no key exchange follow: the keys come from that "
		    "session's master secret and the two fresh randoms" :
		    "TLS 1.2: the server picks the version and cipher suite and sends its random; "
		    "no keys yet, they come from the key exchange that follows";
	else if (strcmp(type, "ChangeCipherSpec") == 0 && ver != NULL)
		x->why = tls13 ? "TLS 1.3 sends it only so that old middleboxes let the "
		    "connection through (RFC 8446 D.4): a plaintext record, not encrypted, "
		    "carrying nothing; TLS 1.3's encryption does not wait for it" :
		    "TLS 1.2: 'my next records are encrypted': the record itself is plaintext, "
		    "the sender's next one (its Finished) is the first under the new keys";
	else if (strcmp(type, "NewSessionTicket") == 0 && ver != NULL)
		x->why = tls13 ? "a ticket sent after the handshake: next time the client can "
		    "resume without the certificate and the signature" :
		    "TLS 1.2 (RFC 5077): a ticket sent at the end of the handshake, before the "
		    "server's ChangeCipherSpec: next time the client can resume without the "
		    "certificate and the key exchange";
}

/* key_exchange of a resumed session: what stood in for the key exchange. */
static void
resumed_kx(const struct evrec *r, struct explain *x)
{
	long long resumed = 0, fs = 0;

	if (evrec_field_int(r, "resumed", &resumed) == -1 || !resumed)
		return;
	(void)evrec_field_int(r, "forward_secrecy", &fs);
	x->step_en = "session resumption";
	x->step_zh = "会话恢复";
	x->why = fs ? "resumed: the ticket's secret (PSK) is mixed with a fresh ECDHE: "
	    "public-key cryptography only for that key exchange; no certificate, no "
	    "signature" : "resumed: no key exchange and no public-key cryptography in this "
	    "handshake; the secret was made by the key exchange of an earlier session and is "
	    "reused, with fresh randoms";
}

/* The kernel's view of the close: the wave the FIN is, from the record's "wave" field. */
static void
close_step(const struct evrec *r, struct explain *x)
{
	long long wave = 0, simultaneous = 0, known = 1, unread = 0;
	static const char unread_why[] = "the kernel shows a state only the peer's FIN leads "
	    "to, behind bytes the program has not read yet: read() returns 0 only after them";

	if (evrec_field_int(r, "wave", &wave) == -1)
		return;
	if (r->ev == EVT_FIN_RECEIVED)
		(void)evrec_field_int(r, "unread", &unread);
	x->kernel = 1;
	(void)evrec_field_int(r, "simultaneous", &simultaneous);
	if (simultaneous) {
		/* The kernel showed CLOSING: each FIN left before the other arrived. */
		x->step_en = "simultaneous close";
		x->step_zh = "同时关闭";
		x->why = "both sides sent FIN before either FIN arrived (the kernel showed CLOSING, "
		    "or the capture shows the two FINs crossing): each ACKs the other's FIN, and "
		    "both wait in TIME_WAIT";
	} else if (r->ev == EVT_FIN_SENT && wave == 1) {
		x->step_en = "1st wave";
		x->step_zh = "第一次挥手";
	} else if (r->ev == EVT_FIN_SENT) {
		x->step_en = "3rd wave";
		x->step_zh = "第三次挥手";
	} else if (wave == 1) {
		/* Linux delays this ACK (tcp_fin() enters pingpong mode) so that it can ride
		 * on our own FIN: it may not have gone out yet. */
		x->step_en = "1st wave (its ACK follows)";
		x->step_zh = "第一次挥手（确认随后）";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived, and our kernel ACKs it, at once or together with "
		    "our own FIN";
	} else if (evrec_field_int(r, "after_ours_known", &known) == 0 && !known) {
		/* Ours had left; whether the peer's left after ours arrived, nothing showed. */
		x->step_en = "the peer's FIN, after ours left (3rd wave, or a crossing)";
		x->step_zh = "对方的FIN，在我方FIN之后（第三次挥手，或两个FIN交错）";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived after ours had left, and our kernel ACKed it at "
		    "once; whether the peer sent it before or after ours reached it, this side "
		    "did not see";
	} else {
		/* In FIN_WAIT2 (or CLOSING) the kernel ACKs a FIN at once. */
		x->step_en = "3rd and 4th wave";
		x->step_zh = "第三次和第四次挥手";
		x->why = unread ? unread_why : "read() returning 0 is how a program learns of "
		    "the peer's FIN: it arrived after ours had left, and our kernel ACKed it at "
		    "once (the 4th wave)";
	}
	/* Not read() = 0 either: a RST after it, or it came just before our close(). */
	if (r->ev == EVT_FIN_RECEIVED && !unread && !simultaneous &&
	    strncmp(r->detail, "read() returned 0", 17) != 0)
		x->why = "the peer's FIN is in; the detail says how this side learned of it";
}

/* state_change (sock_diag): the states the textbook names. */
static void
state_step(const struct evrec *r, struct explain *x)
{
	const char *to = evrec_field_str(r, "to");

	if (to == NULL)
		return;
	x->kernel = 1;
	if (strcmp(to, "FIN_WAIT2") == 0) {
		x->step_en = "2nd wave";
		x->step_zh = "第二次挥手";
		x->why = "the peer's kernel ACKed our FIN; we wait in FIN_WAIT2 for its own FIN";
	} else if (strcmp(to, "TIME_WAIT") == 0) {
		x->step_en = "after the 4th wave: 2MSL";
		x->step_zh = "第四次挥手之后：等待 2MSL";
		x->why = "TIME_WAIT lasts 2MSL (twice the maximum segment lifetime, 60 s on Linux): "
		    "a lost last ACK can be resent, and old segments die before the port is reused";
	} else if (strcmp(to, "LAST_ACK") == 0) {
		x->step_en = "3rd wave";
		x->step_zh = "第三次挥手";
		x->why = "our FIN went out after the peer's: we wait for its ACK (the 4th wave)";
	} else if (strcmp(to, "CLOSE_WAIT") == 0) {
		x->step_en = "1st wave (its ACK follows)";
		x->step_zh = "第一次挥手（确认随后）";
		x->why = "the peer's FIN came; our kernel ACKs it, at once or together with our "
		    "own FIN; the program still has to close";
	} else if (strcmp(to, "FIN_WAIT1") == 0) {
		x->why = "our FIN is out and not yet ACKed: the kernel keeps a retransmit timer "
		    "running for it, as for data";
	} else if (strcmp(to, "SYN_SENT") == 0) {
		x->step_en = "1st handshake";
		x->step_zh = "第一次握手";
		x->why = "our SYN is out and unanswered: the kernel sends it again each time its "
		    "retransmit timer fires; the waits are what the timer shows (with --capture, "
		    "each resent SYN says how long after the one before it left), not a rule: "
		    "kernels differ";
	} else {
		x->kernel = 0;
		x->why = "the kernel's TCP state machine moved, seen through sock_diag as ss shows it";
	}
}

/* A Certificate message: the server's or (mutual TLS) the client's. */
static void
who_certifies(const struct evrec *r, struct explain *x)
{
	const char *dir = evrec_field_str(r, "dir");
	int out = dir != NULL && strcmp(dir, "out") == 0;

	if (dir == NULL)
		return;
	if ((evlog_side() == EVLOG_SERVER) == out) {
		x->step_en = "server certificate";
		x->step_zh = "Certificate 服务器证书";
	} else {
		x->step_en = "client certificate";
		x->step_zh = "Certificate 客户端证书";
	}
}

int
explain_event(const struct evrec *r, int segments, struct explain *x)
{
	const char *key = NULL;
	long long len = 0;
	size_t i;

	memset(x, 0, sizeof(*x));
	if (r->ev == EVT_SEGMENT)
		key = evrec_field_str(r, "step");
	else if (r->ev == EVT_MESSAGE)
		key = evrec_field_str(r, "type");
	else if (r->ev == EVT_TLS_ERROR)
		key = evrec_field_str(r, "what");
	if (r->ev == EVT_STATE_CHANGE)
		state_step(r, x);
	else if (r->ev == EVT_FIN_SENT || r->ev == EVT_FIN_RECEIVED)
		close_step(r, x);
	for (i = 0; x->why == NULL && i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].ev != r->ev)
			continue;
		if (table[i].side != ANY && table[i].side != (int)evlog_side())
			continue;
		if (table[i].key != NULL && (key == NULL || strcmp(table[i].key, key) != 0))
			continue;
		if (x->step_en == NULL) {
			x->step_en = table[i].step_en;
			x->step_zh = table[i].step_zh;
			x->kernel = table[i].kernel;
		}
		x->why = table[i].why;
	}
	if (r->ev == EVT_MESSAGE && key != NULL && strcmp(key, "Certificate") == 0)
		who_certifies(r, x);
	if (r->ev == EVT_MESSAGE && key != NULL)
		by_version(r, key, x);
	if (r->ev == EVT_KEY_EXCHANGE)
		resumed_kx(r, x);
	if (r->ev == EVT_SEGMENT && key != NULL && strcmp(key, "ack_fin1") == 0 &&
	    evrec_field_int(r, "len", &len) == 0 && len > 0)
		x->why = "the first segment to ACK the FIN (u+1) carries data: after the peer's "
		    "FIN this side still sent something (e.g. a TLS close_notify, or the response "
		    "after a half-close), and the ACK rode on it; this side's own FIN comes later";
	/* With a capture the segments carry the TCP steps: the kernel's state events would only
	 * repeat them (and could seem to name segments of their own). */
	if (x->kernel && segments) {
		x->step_en = NULL;
		x->step_zh = NULL;
	}
	return x->why != NULL || x->step_en != NULL;
}
