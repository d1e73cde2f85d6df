/* repeat.c -- many requests on one connection (-n) and many connections in a row that reuse
 * the TLS session (--reconnect): the one session kept for the next connection, each
 * connection's figures, and the summary lines at the end. */
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "client.h"
#include "evlog.h"

static struct {
	SSL_SESSION		*sess;		/* the newest resumable session, or NULL */
	struct repeat_conn	 conns[REPEAT_MAX_CONNS];
	int			 nconns;
} rp;

/* OpenSSL hands over every new session here: on TLS 1.2 at the end of the handshake, on
 * TLS 1.3 when a NewSessionTicket arrives, which is after the handshake (the server sends
 * its tickets once it has our Finished; we read them with the response). Keep the newest:
 * a TLS 1.3 ticket is meant to be used once. Returning 1 takes the reference. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	if (!SSL_SESSION_is_resumable(sess))
		return 0;
	SSL_SESSION_free(rp.sess);
	rp.sess = sess;
	return 1;
}

void
repeat_init(SSL_CTX *ctx)
{
	/* A client cache without OpenSSL's own store: only the callback keeps sessions. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
}

/* Offer the kept session (ticket / PSK) in the next ClientHello. Returns 1 if one is offered. */
int
repeat_offer_session(SSL *ssl)
{
	if (rp.sess == NULL)
		return 0;
	return SSL_set_session(ssl, rp.sess) == 1;
}

int
repeat_have_session(void)
{
	return rp.sess != NULL;
}

void
repeat_free(void)
{
	SSL_SESSION_free(rp.sess);
	rp.sess = NULL;
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
	int i, nfull = 0, nres = 0, nreq = 0, nresp = 0;
	char whole[64];

	for (i = 0; i < rp.nconns; i++) {
		const struct repeat_conn *rc = &rp.conns[i];
		const char *kind = handshake_kind(rc);

		nreq += rc->requests;
		nresp += rc->responses;
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
	evrec_label(&r, "summary");
	responses_whole(nreq, nresp, whole, sizeof(whole));
	if (nfull + nres == 0)
		evrec_detail(&r, "%d request%s%s over %d connection%s (plain HTTP: no TLS "
		    "handshake)", nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s");
	else
		evrec_detail(&r, "%d request%s%s over %d connection%s: %d full TLS handshake%s, "
		    "%d resumed", nreq, nreq == 1 ? "" : "s", whole, rp.nconns,
		    rp.nconns == 1 ? "" : "s", nfull, nfull == 1 ? "" : "s", nres);
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
