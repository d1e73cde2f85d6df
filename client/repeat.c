/* repeat.c -- many requests on one connection (-n) and many connections in a row that reuse
 * the TLS session (--reconnect): the one session kept for the next connection, each
 * connection's figures, and the summary lines at the end. */
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "client.h"
#include "conn.h"
#include "evlog.h"

/* Sessions kept for the connections to come: every TLS 1.3 ticket the server sent, each
 * offered once (RFC 8446 Appendix C.4: a ticket offered twice links the two connections for
 * anyone who watches, since it crosses the wire in clear); the newest TLS 1.2 session, which
 * TLS 1.2 resumes again and again (its session ID or ticket). */
#define REPEAT_MAX_TICKETS 32

struct kept {
	SSL_SESSION	*sess;
	int		 no;		/* 1, 2 ...: in the order they came in this run */
	unsigned	 from_conn;	/* the connection (its id) whose server sent it */
	int		 offered;	/* how many ClientHellos offered it */
	int		 tls13;		/* a TLS 1.3 ticket: single use */
};

/* What the next connection's ClientHello offers, decided in repeat_offer_session() and told
 * by repeat_log_offer() once the connection has its id. */
struct offer {
	int		 decided;
	int		 no;		/* the kept session offered, 0: none */
	unsigned	 from_conn;
	int		 again;		/* offered before (--reuse-ticket, or TLS 1.2) */
	int		 tls13;
	int		 unused;	/* TLS 1.3 tickets never offered, after this one */
};

static struct {
	struct kept		 kept[REPEAT_MAX_TICKETS];
	int			 nkept;
	int			 received;	/* sessions numbered so far */
	int			 reuse;		/* --reuse-ticket */
	int			 last;		/* index of the ticket offered last, -1 */
	struct offer		 offer;
	struct repeat_conn	 conns[REPEAT_MAX_CONNS];
	int			 nconns;
} rp = { .last = -1 };

static void
drop(int i)
{
	SSL_SESSION_free(rp.kept[i].sess);
	memmove(&rp.kept[i], &rp.kept[i + 1], (size_t)(rp.nkept - i - 1) * sizeof(rp.kept[0]));
	rp.nkept--;
	if (rp.last == i)
		rp.last = -1;
	else if (rp.last > i)
		rp.last--;
}

/* OpenSSL hands over every new session here: on TLS 1.2 at the end of the handshake, on
 * TLS 1.3 at each NewSessionTicket, which is after the handshake (the server sends its
 * tickets once it has our Finished; we read them with the response). Returning 1 takes the
 * reference. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = tls_conn(ssl);
	struct client *cl = c != NULL ? c->arg : NULL;
	int i, tls13 = SSL_SESSION_get_protocol_version(sess) == TLS1_3_VERSION;

	if (!SSL_SESSION_is_resumable(sess))
		return 0;
	if (!tls13)			/* TLS 1.2: only the newest session counts */
		for (i = rp.nkept - 1; i >= 0; i--)
			if (!rp.kept[i].tls13)
				drop(i);
	if (rp.nkept == REPEAT_MAX_TICKETS)
		drop(0);		/* the oldest goes */
	rp.kept[rp.nkept++] = (struct kept){ .sess = sess, .no = ++rp.received,
	    .from_conn = c != NULL ? c->id : 0, .tls13 = tls13 };
	if (cl != NULL)
		cl->cur.tickets++;
	return 1;
}

void
repeat_init(SSL_CTX *ctx, int reuse_ticket)
{
	/* A client cache without OpenSSL's own store: only the callback keeps sessions. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	rp.reuse = reuse_ticket;
}

static int
unused_tickets(void)
{
	int i, n = 0;

	for (i = 0; i < rp.nkept; i++)
		n += rp.kept[i].tls13 && rp.kept[i].offered == 0;
	return n;
}

/* The session the next ClientHello offers: the newest TLS 1.3 ticket not offered yet (with
 * --reuse-ticket: the one offered last time, again), else the TLS 1.2 session. */
static int
pick(void)
{
	int i;

	if (rp.reuse && rp.last >= 0)
		return rp.last;
	for (i = rp.nkept - 1; i >= 0; i--)
		if (rp.kept[i].tls13 && rp.kept[i].offered == 0)
			return i;
	for (i = rp.nkept - 1; i >= 0; i--)
		if (!rp.kept[i].tls13)
			return i;
	return -1;
}

/* Offer a kept session (ticket / PSK) in the next ClientHello. Returns 1 if one is offered. */
int
repeat_offer_session(SSL *ssl)
{
	struct offer *o = &rp.offer;
	SSL_SESSION *copy;
	struct kept *k;
	int i = pick(), ok;

	memset(o, 0, sizeof(*o));
	o->decided = 1;
	/* OpenSSL marks a TLS 1.3 session once it resumed with it and never offers it again:
	 * offer a copy, so that the kept one can go out again with --reuse-ticket. */
	if (i < 0 || (copy = SSL_SESSION_dup(rp.kept[i].sess)) == NULL) {
		o->unused = unused_tickets();
		return 0;
	}
	ok = SSL_set_session(ssl, copy) == 1;
	SSL_SESSION_free(copy);
	if (!ok) {
		o->unused = unused_tickets();
		return 0;
	}
	k = &rp.kept[i];
	o->no = k->no;
	o->from_conn = k->from_conn;
	o->again = k->offered > 0;
	o->tls13 = k->tls13;
	k->offered++;
	rp.last = i;
	o->unused = unused_tickets();
	return 1;
}

/* The resume event of a connection after the first: what its ClientHello offers to resume,
 * or why it offers nothing (and so makes a full handshake). */
void
repeat_log_offer(struct conn *c)
{
	const struct offer *o = &rp.offer;
	struct evrec r;

	if (!o->decided || !evrec_begin(&r, EVT_RESUME, c->id, c->fd))
		return;
	evrec_bool(&r, "offered", o->no != 0);
	evrec_int(&r, "ticket", o->no);
	evrec_int(&r, "from_conn", o->from_conn);
	evrec_str(&r, "version", o->no == 0 ? "" : o->tls13 ? "TLSv1.3" : "TLSv1.2");
	evrec_bool(&r, "again", o->again);
	evrec_int(&r, "unused", o->unused);
	evrec_int(&r, "received", rp.received);
	if (o->no == 0 && rp.received == 0) {
		evrec_detail(&r, "%s", TR("nothing to resume: no server has sent a session "
		    "ticket yet", "没有可恢复的会话：还没有服务器发来会话票据（session ticket）"));
		evrec_gloss(&r, "%s", TR("a full handshake follows (certificate and all): a "
		    "session can be resumed only with a ticket (or TLS 1.2 session ID) the server "
		    "gave", "接下来是完整握手（包括证书）：只有凭服务器给的票据（或 TLS 1.2 的会话 "
		    "ID）才能恢复会话"));
	} else if (o->no == 0) {
		char per[256] = "";
		size_t l;
		int i;

		/* Where the tickets came from: the connections so far, as each one ended. */
		for (i = 0; i < rp.nconns && (l = strlen(per)) < sizeof(per) - 1; i++)
			snprintf(per + l, sizeof(per) - l, "%s#%u: %d", i ? ", " : "",
			    rp.conns[i].conn_id, rp.conns[i].tickets);
		evrec_detail(&r, TR("no unused ticket left: the server sent %d ticket%s (%s) and "
		    "each has been offered once", "没有未用过的票据了：服务器发来 %d 张票据%.0s"
		    "（%s），每张都已提供过一次"), rp.received, rp.received == 1 ? "" : "s", per);
		evrec_gloss(&r, "%s", TR("a full handshake follows: a TLS 1.3 ticket is used once "
		    "(RFC 8446 C.4), since it crosses the wire in clear and the same ticket twice "
		    "links the two connections; --reuse-ticket offers one again on purpose",
		    "接下来是完整握手：TLS 1.3 的票据只用一次（RFC 8446 C.4），因为它以明文经过"
		    "网络，同一张票据用两次就能把两个连接关联起来；--reuse-ticket 故意再提供一次"));
	} else if (o->tls13 && o->again) {
		evrec_detail(&r, TR("offers ticket %d (from connection #%u) AGAIN (--reuse-ticket)",
		    "再次提供票据 %d（来自连接 #%u）（--reuse-ticket）"), o->no, o->from_conn);
		evrec_gloss(&r, "%s", TR("the same ticket in a second ClientHello: anyone "
		    "watching sees the same bytes and can link the connections (RFC 8446 C.4: a "
		    "client SHOULD NOT reuse a ticket)", "同一张票据出现在第二个 ClientHello（客户端"
		    "问候）里：任何旁观者都看到相同的字节，能把这些连接关联起来（RFC 8446 C.4："
		    "客户端不应重用票据）"));
	} else if (o->tls13) {
		evrec_detail(&r, TR("offers ticket %d (from connection #%u); %d unused ticket%s "
		    "left", "提供票据 %d（来自连接 #%u）；还剩 %d 张未用的票据%.0s"), o->no,
		    o->from_conn, o->unused, o->unused == 1 ? "" : "s");
		evrec_gloss(&r, "%s", TR("each TLS 1.3 ticket is offered once (RFC 8446 C.4): the "
		    "ticket crosses the wire in clear, so one used twice would link the "
		    "connections", "每张 TLS 1.3 票据只提供一次（RFC 8446 C.4）：票据以明文经过"
		    "网络，用两次就会把连接关联起来"));
	} else {
		evrec_detail(&r, TR("offers the TLS 1.2 session from connection #%u%s",
		    "提供来自连接 #%u 的 TLS 1.2 会话%s"), o->from_conn, o->again ?
		    TR(" again", "（再次）") : "");
		evrec_gloss(&r, "%s", TR("TLS 1.2 resumes the same session again and again: the "
		    "same session ID or ticket goes out each time (one reason TLS 1.3 made "
		    "tickets single-use)", "TLS 1.2 一次又一次地恢复同一个会话：每次发出的都是同一"
		    "个会话 ID 或票据（这是 TLS 1.3 让票据只能用一次的原因之一）"));
	}
	evrec_emit(&r);
}

/* The handshake is done: a session offered but not resumed is said, with what may be why. */
void
repeat_check_resumed(struct conn *c, int resumed)
{
	const struct offer *o = &rp.offer;

	if (!o->decided || o->no == 0 || resumed)
		return;
	evlog(EVT_WARNING, c->id, c->fd, TR("the server did not accept %s %d (from connection "
	    "#%u): a full handshake instead (the server may have forgotten it, or restarted "
	    "with new ticket keys, or it takes each ticket once%s)", "服务器没有接受%s %d（来自"
	    "连接 #%u）：改为完整握手（服务器可能已忘了它，或换了新的票据密钥重启，或每张票据"
	    "只收一次%s）"), o->tls13 ? TR("ticket", "票据") : TR("session", "会话"),
	    o->no, o->from_conn, o->again ? TR(" and this one was offered before",
	    "，而这张之前已提供过") : "");
}

int
repeat_have_session(void)
{
	return rp.nkept > 0;
}

void
repeat_free(void)
{
	while (rp.nkept > 0)
		drop(rp.nkept - 1);
}

void
repeat_record(const struct repeat_conn *rc)
{
	if (rp.nconns < REPEAT_MAX_CONNS)
		rp.conns[rp.nconns++] = *rc;
}

static const char *
handshake_kind(const struct repeat_conn *rc)
{
	if (!rc->tls)
		return "none";
	if (!rc->handshake_done)
		return "failed";
	return rc->resumed ? "resumed" : "full";
}

/* A handshake kind in the log's language. */
static const char *
kind_words(const char *kind)
{
	if (strcmp(kind, "resumed") == 0)
		return TR("resumed", "会话恢复的");
	if (strcmp(kind, "full") == 0)
		return TR("full", "完整");
	if (strcmp(kind, "failed") == 0)
		return TR("failed", "失败的");
	return kind;
}

/* " (1 response whole)" when not every request got its whole response, else "". */
static void
responses_whole(int requests, int responses, char *buf, size_t len)
{
	if (responses == requests)
		buf[0] = '\0';
	else
		snprintf(buf, len, TR(" (%d response%s whole)", "（%d 个响应完整%.0s）"), responses,
		    responses == 1 ? "" : "s");
}

/* One line per connection, then the total: what resumption (or keep-alive) saved. */
void
repeat_log_summary(void)
{
	struct evrec r;
	double full_ms = 0, res_ms = 0;
	int i, nfull = 0, nres = 0, nreq = 0, nresp = 0, nretry = 0;
	char whole[64], again[160] = "";

	for (i = 0; i < rp.nconns; i++) {
		const struct repeat_conn *rc = &rp.conns[i];
		const char *kind = handshake_kind(rc);

		nreq += rc->requests;
		nresp += rc->responses;
		nretry += rc->retried;
		if (rc->tls && rc->handshake_done && rc->resumed) {
			nres++;
			res_ms += rc->handshake_ms;
		} else if (rc->tls && rc->handshake_done) {
			nfull++;
			full_ms += rc->handshake_ms;
		}
		if (!evrec_begin(&r, EVT_SUMMARY, rc->conn_id, -1))
			continue;
		evrec_int(&r, "connection", i + 1);
		evrec_str(&r, "handshake", kind);
		evrec_bool(&r, "resumed", rc->resumed);
		evrec_str(&r, "version", rc->version);
		evrec_int(&r, "requests", rc->requests);
		evrec_int(&r, "responses", rc->responses);
		evrec_float(&r, "connect_ms", rc->connect_ms);
		evrec_float(&r, "handshake_ms", rc->handshake_ms);
		evrec_float(&r, "requests_ms", rc->requests_ms);
		evrec_float(&r, "total_ms", rc->total_ms);
		if (rc->retried)
			evrec_bool(&r, "retried", 1);
		evrec_label(&r, TR("connection %d", "连接 %d"), i + 1);
		responses_whole(rc->requests, rc->responses, whole, sizeof(whole));
		if (!rc->tls)
			evrec_detail(&r, TR("plain TCP: connect %.3f ms, %d request%s%s in %.3f ms, "
			    "%.3f ms in all", "明文 TCP：连接 %.3f ms，%d 个请求%.0s%s 用时 %.3f ms，"
			    "总计 %.3f ms"), rc->connect_ms, rc->requests, rc->requests == 1 ?
			    "" : "s", whole, rc->requests_ms, rc->total_ms);
		else
			evrec_detail(&r, TR("%s handshake %.3f ms (%s%s), %d request%s%s in %.3f ms, "
			    "%.3f ms in all", "%s握手 %.3f ms（%s%s），%d 个请求%.0s%s 用时 %.3f ms，"
			    "总计 %.3f ms"), kind_words(kind), rc->handshake_ms, rc->version,
			    rc->resumed ? TR(", no certificate", "，不发证书") : "", rc->requests,
			    rc->requests == 1 ? "" : "s", whole, rc->requests_ms, rc->total_ms);
		evrec_emit(&r);
	}
	if (!evrec_begin(&r, EVT_SUMMARY, 0, -1))
		return;
	evrec_int(&r, "connections", rp.nconns);
	evrec_int(&r, "requests", nreq);
	evrec_int(&r, "responses", nresp);
	evrec_int(&r, "full", nfull);
	evrec_int(&r, "resumed_count", nres);
	evrec_float(&r, "full_ms_avg", nfull ? full_ms / nfull : 0);
	evrec_float(&r, "resumed_ms_avg", nres ? res_ms / nres : 0);
	if (nretry)
		evrec_int(&r, "retried", nretry);
	evrec_label(&r, "%s", TR("summary", "汇总"));
	/* A request sent again counts once among the ones that should come whole. */
	responses_whole(nreq - nretry, nresp, whole, sizeof(whole));
	if (nretry)
		snprintf(again, sizeof(again), TR("; %d sent again on a fresh connection after "
		    "the server ended one without answering", "；服务器未应答就结束了一个连接后，"
		    "%d 个请求在新连接上重发"), nretry);
	if (nfull + nres == 0)
		evrec_detail(&r, TR("%d request%s%s over %d connection%s%s (plain HTTP: no TLS "
		    "handshake)", "%d 个请求%.0s%s，经过 %d 个连接%.0s%s（明文 HTTP：没有 TLS "
		    "握手）"), nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s", again);
	else
		evrec_detail(&r, TR("%d request%s%s over %d connection%s%s: %d full TLS "
		    "handshake%s, %d resumed", "%d 个请求%.0s%s，经过 %d 个连接%.0s%s：%d 次完整 "
		    "TLS 握手%.0s，%d 次会话恢复"), nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s", again, nfull, nfull == 1 ? "" : "s", nres);
	if (nfull && nres)
		evrec_gloss(&r, TR("a full handshake took %.3f ms on average, a resumed one %.3f "
		    "ms: no certificate to send and check, no signature to make and verify",
		    "完整握手平均用时 %.3f ms，会话恢复 %.3f ms：不用发送和校验证书，也不用生成和"
		    "验证签名"), full_ms / nfull, res_ms / nres);
	else if (rp.nconns == 1 && nreq > 1)
		evrec_gloss(&r, TR("keep-alive: one TCP handshake%s for all %d requests",
		    "keep-alive 持久连接：%2$d 个请求只用了一次 TCP 握手%1$s"), nfull ?
		    TR(" and one TLS handshake", "和一次 TLS 握手") : "", nreq);
	else if (nfull > 1 && nres == 0)
		evrec_gloss(&r, "%s", TR("no session was resumed: each connection paid for a full "
		    "handshake", "没有会话被恢复：每个连接都做了一次完整握手"));
	evrec_emit(&r);
}
