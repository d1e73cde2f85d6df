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
		evrec_detail(&r, "nothing to resume: no server has sent a session ticket yet");
		evrec_gloss(&r, "a full handshake follows (certificate and all): a session can be "
		    "resumed only with a ticket (or TLS 1.2 session ID) the server gave");
	} else if (o->no == 0) {
		char per[256] = "";
		size_t l;
		int i;

		/* Where the tickets came from: the connections so far, as each one ended. */
		for (i = 0; i < rp.nconns && (l = strlen(per)) < sizeof(per) - 1; i++)
			snprintf(per + l, sizeof(per) - l, "%s#%u: %d", i ? ", " : "",
			    rp.conns[i].conn_id, rp.conns[i].tickets);
		evrec_detail(&r, "no unused ticket left: the server sent %d ticket%s (%s) and each "
		    "has been offered once", rp.received, rp.received == 1 ? "" : "s", per);
		evrec_gloss(&r, "a full handshake follows: a TLS 1.3 ticket is used once (RFC 8446 "
		    "C.4), since it crosses the wire in clear and the same ticket twice links the "
		    "two connections; --reuse-ticket offers one again on purpose");
	} else if (o->tls13 && o->again) {
		evrec_detail(&r, "offers ticket %d (from connection #%u) AGAIN (--reuse-ticket)",
		    o->no, o->from_conn);
		evrec_gloss(&r, "the same ticket in a second ClientHello: anyone watching sees the "
		    "same bytes and can link the connections (RFC 8446 C.4: a client SHOULD NOT "
		    "reuse a ticket)");
	} else if (o->tls13) {
		evrec_detail(&r, "offers ticket %d (from connection #%u); %d unused ticket%s "
		    "left", o->no, o->from_conn, o->unused, o->unused == 1 ? "" : "s");
		evrec_gloss(&r, "each TLS 1.3 ticket is offered once (RFC 8446 C.4): the ticket "
		    "crosses the wire in clear, so one used twice would link the connections");
	} else {
		evrec_detail(&r, "offers the TLS 1.2 session from connection #%u%s",
		    o->from_conn, o->again ? " again" : "");
		evrec_gloss(&r, "TLS 1.2 resumes the same session again and again: the same "
		    "session ID or ticket goes out each time (one reason TLS 1.3 made tickets "
		    "single-use)");
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
	evlog(EVT_WARNING, c->id, c->fd, "the server did not accept %s %d (from connection #%u): "
	    "a full handshake instead (the server may have forgotten it, or restarted with new "
	    "ticket keys, or it takes each ticket once%s)", o->tls13 ? "ticket" : "session",
	    o->no, o->from_conn, o->again ? " and this one was offered before" : "");
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

/* " (1 response whole)" when not every request got its whole response, else "". */
static void
responses_whole(int requests, int responses, char *buf, size_t len)
{
	if (responses == requests)
		buf[0] = '\0';
	else
		snprintf(buf, len, " (%d response%s whole)", responses, responses == 1 ? "" : "s");
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
		evrec_label(&r, "connection %d", i + 1);
		responses_whole(rc->requests, rc->responses, whole, sizeof(whole));
		if (!rc->tls)
			evrec_detail(&r, "plain TCP: connect %.3f ms, %d request%s%s in %.3f ms, "
			    "%.3f ms in all", rc->connect_ms, rc->requests, rc->requests == 1 ?
			    "" : "s", whole, rc->requests_ms, rc->total_ms);
		else
			evrec_detail(&r, "%s handshake %.3f ms (%s%s), %d request%s%s in %.3f ms, "
			    "%.3f ms in all", kind, rc->handshake_ms, rc->version, rc->resumed ?
			    ", no certificate" : "", rc->requests, rc->requests == 1 ? "" : "s",
			    whole, rc->requests_ms, rc->total_ms);
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
	evrec_label(&r, "summary");
	/* A request sent again counts once among the ones that should come whole. */
	responses_whole(nreq - nretry, nresp, whole, sizeof(whole));
	if (nretry)
		snprintf(again, sizeof(again), "; %d sent again on a fresh connection after the "
		    "server ended one without answering", nretry);
	if (nfull + nres == 0)
		evrec_detail(&r, "%d request%s%s over %d connection%s%s (plain HTTP: no TLS "
		    "handshake)", nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s", again);
	else
		evrec_detail(&r, "%d request%s%s over %d connection%s%s: %d full TLS handshake%s, "
		    "%d resumed", nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s", again, nfull, nfull == 1 ? "" : "s", nres);
	if (nfull && nres)
		evrec_gloss(&r, "a full handshake took %.3f ms on average, a resumed one %.3f ms: "
		    "no certificate to send and check, no signature to make and verify",
		    full_ms / nfull, res_ms / nres);
	else if (rp.nconns == 1 && nreq > 1)
		evrec_gloss(&r, "keep-alive: one TCP handshake%s for all %d requests", nfull ?
		    " and one TLS handshake" : "", nreq);
	else if (nfull > 1 && nres == 0)
		evrec_gloss(&r, "no session was resumed: each connection paid for a full "
		    "handshake");
	evrec_emit(&r);
}
