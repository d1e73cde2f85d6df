/* page.c -- the one page the server serves: what this very connection looks like, from the
 * server's own events for it (its record), HTML or plain text; and /redirect/N's chain. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "conn.h"
#include "page.h"
#include "server.h"
#include "tls.h"

/* A first request that came this long after the connection was ready: it was opened ahead of
 * need (a browser's spare connection), not for this request. */
#define SPARE_MS	100.0

/* ---- the sections ---- */

/* With no record (-q): what the connection itself still knows, as the page always showed. */
static void
live_table(struct pbuf *b, const struct page_req *q)
{
	struct conn *c = q->c;
	const SSL_CIPHER *ciph;
	const char *g, *sni;

	pb_table(b);
	pb_row(b, "client", "%s", conn_remote_str(c));
	pb_row(b, "server", "%s", conn_local_str(c));
	if (c->ssl == NULL) {
		pb_row(b, "protocol", "HTTP/1.1 over plain TCP (no TLS)");
		pb_row(b, "cipher", "none: anyone on the path can read this");
		pb_row(b, "key exchange group", "none");
		pb_row(b, "session resumed", "n/a");
	} else {
		ciph = SSL_get_current_cipher(c->ssl);
		g = tls_group_name(c->ssl);
		sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
		pb_row(b, "protocol", "HTTP/1.1 over %s", SSL_get_version(c->ssl));
		pb_row(b, "cipher", "%s", ciph ? SSL_CIPHER_standard_name(ciph) : "?");
		pb_row(b, "key exchange group", "%s", g[0] ? g : "RSA key transport (no group)");
		pb_row(b, "session resumed", "%s", SSL_session_reused(c->ssl) ? "yes" : "no");
		pb_row(b, "SNI", "%s", sni ? sni : "(none)");
	}
	pb_row(b, "request on this connection", "%d", q->requests);
	pb_end_table(b);
}

/* The seven rows the page always had, now from the record; and the request's number. */
static void
summary(struct pbuf *b, const struct page_req *q, const struct pfacts *f)
{
	pb_table(b);
	pb_row(b, "client", "%s", f->remote);
	pb_row(b, "server", "%s", f->local);
	if (!f->tls) {
		pb_row(b, "protocol", "HTTP/1.1 over plain TCP (no TLS)");
		pb_row(b, "cipher", "none: anyone on the path can read this");
		pb_row(b, "key exchange group", "none");
		pb_row(b, "session resumed", "n/a");
	} else {
		pb_row(b, "protocol", "HTTP/1.1 over %s", f->version[0] ? f->version : "?");
		pb_row(b, "cipher", "%s", f->cipher[0] ? f->cipher : "?");
		pb_row(b, "key exchange", "%s%s%s%s", f->kx[0] ? f->kx : "?", f->group[0] ?
		    " over " : "", f->group, f->fs ? " (forward secrecy)" : "");
		pb_row(b, "key exchange group", "%s", f->group[0] ? f->group :
		    "RSA key transport (no group)");
		pb_row(b, "session resumed", "%s", f->resumed ? "yes: an abbreviated handshake "
		    "that resumed an earlier session (no certificate sent)" : "no: a full handshake");
		pb_row(b, "SNI", "%s", f->sni[0] ? f->sni : "(none)");
	}
	/* f->t_resp: the previous request's answer (this one is not answered yet) */
	if (q->requests > 1 && f->t_req >= 0 && f->t_resp >= 0)
		pb_row(b, "this request", "request %d on this connection: it came on the same "
		    "connection as the previous one (HTTP keep-alive), %.1f ms after the server wrote "
		    "its previous answer, with no new TCP or TLS handshake", q->requests,
		    f->t_req - f->t_resp);
	else if (q->requests > 1)
		pb_row(b, "this request", "request %d on this connection: it came on the same "
		    "connection as the previous one (HTTP keep-alive), with no new TCP or TLS "
		    "handshake", q->requests);
	else if (f->t_req >= 0 && f->t_req - (f->t_hd >= 0 ? f->t_hd : 0) >= SPARE_MS)
		pb_row(b, "this request", "request 1 on this connection, which sat open and unused "
		    "for %.1f ms after its %s before this request came: your client opened it "
		    "before it had this request to send (browsers open a spare connection ahead "
		    "of need). Reload the page to see whether the next one comes on it too",
		    f->t_req - (f->t_hd >= 0 ? f->t_hd : 0), f->t_hd >= 0 ? "TLS handshake" :
		    "accept");
	else
		pb_row(b, "this request", "request 1 on this connection: reload the page to see "
		    "whether your client sends the next one on the same connection");
	pb_end_table(b);
}

static void
ladder(struct pbuf *b, const struct record *r)
{
	char *svg = NULL;
	size_t n = 0;

	pb_h2(b, "The exchange, as the server saw it");
	if (page_ladder_svg(r, &svg, &n) == 0 && svg != NULL) {
		if (b->text)
			pb_p(b, "(the ladder diagram is in the HTML page: /)");
		else {
			pb_raw(b, "<div class=\"ladder\">");
			pb_put(b, svg, n);	/* our own drawing: it escapes what it names */
			pb_raw(b, "</div>\n");
		}
	} else
		pb_p(b, "ladder not available: this server cannot draw it; the events below "
		    "are the same steps.");
	free(svg);
}

/* What an event is, in a few words: a message's direction and type, a request's method and
 * target, a response's status; else the event's name. */
static void
what(const char *l, size_t n, const char *ev, char *buf, size_t len)
{
	char a[32] = "", b[272] = "";

	if (strcmp(ev, "message") == 0 && rec_get(l, n, "type", b, sizeof(b))) {
		rec_get(l, n, "dir", a, sizeof(a));
		snprintf(buf, len, "%s %s", strcmp(a, "in") == 0 ? "<" : ">", b);
	} else if (strcmp(ev, "request") == 0 && rec_get(l, n, "target", b, sizeof(b))) {
		rec_get(l, n, "method", a, sizeof(a));
		snprintf(buf, len, "< %s %s", a, b);
	} else if (strcmp(ev, "response") == 0 && rec_get(l, n, "status", a, sizeof(a)))
		snprintf(buf, len, "> %s", a);
	else
		snprintf(buf, len, "%s", ev);
}

/* Each event of the record: its time from the accept and the log's own detail line. */
static void
timeline(struct pbuf *b, const struct record *r, const struct pfacts *f)
{
	const char *l;
	char ev[32], layer[8], w[320], detail[512];
	size_t off = 0, n;

	pb_p(b, "The server's events for this connection, times in ms from accept() (the "
	    "same records as /events.json; %u kept%s; the server holds them packed in %zu "
	    "bytes, at most %d KB a connection, until it closes; /live keeps the last ones that "
	    "closed):", r->nev, r->dropped ? ", later ones not: the record is full" : "",
	    r->pk_len, RECORD_MAX / 1024);
	pb_raw(b, "<table class=\"events\">\n");
	while (rec_line(r, &off, &l, &n)) {
		if (!rec_get(l, n, "event", ev, sizeof(ev)))
			continue;
		layer[0] = detail[0] = '\0';
		rec_get(l, n, "layer", layer, sizeof(layer));
		rec_get(l, n, "detail", detail, sizeof(detail));
		what(l, n, ev, w, sizeof(w));
		if (b->text) {
			pb_escf(b, "  %9.3f  %-4s %-20s %s", rec_num(l, n, "t_ms", 0) - f->t0,
			    layer, w, detail);
			pb_put(b, "\n", 1);
		} else {
			pb_raw(b, "<tr><td>");
			pb_escf(b, "%.3f", rec_num(l, n, "t_ms", 0) - f->t0);
			pb_raw(b, "</td><td>");
			pb_escf(b, "%s %s", layer, w);
			pb_raw(b, "</td><td>");
			pb_esc(b, detail, strlen(detail));
			pb_raw(b, "</td></tr>\n");
		}
	}
	pb_raw(b, "</table>\n");
}

/* A time as the page prints it (%.3f): differences of these match the printed times. */
static double
ms3(double ms)
{
	return (double)(long long)(ms * 1000.0 + (ms >= 0 ? 0.5 : -0.5)) / 1000.0;
}

static void
tcp(struct pbuf *b, const struct pfacts *f)
{
	pb_h2(b, "TCP");
	pb_table(b);
	pb_row(b, "the connection", "%s (you) -> %s (this server)", f->remote, f->local);
	if (f->syn) {
		pb_row(b, "your SYN's MSS", f->syn_mss >= 0 ? "%ld bytes: the largest segment "
		    "your side wants to receive" : "not sent", f->syn_mss);
		if (f->syn_wscale >= 0)
			pb_row(b, "your SYN's window scale", "%ld: your receive window counts in "
			    "units of 2^%ld = %ld bytes", f->syn_wscale, f->syn_wscale,
			    1L << (f->syn_wscale < 15 ? f->syn_wscale : 14));
		else
			pb_row(b, "your SYN's window scale", "not sent: windows stay under 64 KB");
		pb_row(b, "your SYN's SACK", "%s", f->syn_sack ? "permitted: lost segments can "
		    "be reported one by one" : "not offered");
		pb_row(b, "your SYN's timestamps", "%s", f->syn_ts ? "offered (RFC 7323: RTT "
		    "measurement, protection against wrapped sequence numbers)" : "not offered");
		pb_row(b, "where these come from", "%s", strcmp(f->syn_from, "saved") == 0 ?
		    "the kernel kept your SYN for us (TCP_SAVE_SYN on the listener, read with "
		    "getsockopt TCP_SAVED_SYN after accept()): its own option bytes" :
		    f->syn_from);
	} else
		pb_row(b, "your SYN's options", "not known: the kernel did not keep the SYN");
	if (f->rtt_ms >= 0)
		pb_row(b, "round-trip time", "%.3f ms (the kernel's estimate at accept(), from "
		    "its SYN-ACK and your ACK)", f->rtt_ms);
	pb_row(b, "TCP handshake", "SYN, SYN-ACK, ACK: one round trip%s, done by the kernel "
	    "before accept() returned; times on this page count from that accept()",
	    f->rtt_ms >= 0 ? " (about the RTT above)" : "");
	if (f->tls) {
		if (f->t_ch >= 0)
			pb_row(b, "your ClientHello", "arrived %.3f ms after the accept (%ld bytes)",
			    f->t_ch, f->ch_len);
		if (f->t_hd >= 0 && f->t_hs >= 0)
			/* both as the events list prints them (to the microsecond), so that
			 * the difference is theirs */
			pb_row(b, "TLS handshake", "done %.3f ms after the accept; %.3f ms after "
			    "its start (handshake_start, at %.3f ms: the server began waiting for "
			    "your ClientHello)%s", f->t_hd, ms3(f->t_hd) - ms3(f->t_hs), f->t_hs,
			    f->hrr ? "; one more round trip: a HelloRetryRequest" : "");
		else if (f->t_hd >= 0)
			pb_row(b, "TLS handshake", "done %.3f ms after the accept%s", f->t_hd,
			    f->hrr ? "; one more round trip: a HelloRetryRequest" : "");
		else
			pb_row(b, "TLS handshake", "not done (the record shows no handshake_done)");
	}
	pb_end_table(b);
}

static const char *
rec_type(int t)
{
	switch (t) {
	case 20: return "change_cipher_spec";
	case 21: return "alert";
	case 22: return "handshake";
	case 23: return "application_data";
	default: return "?";
	}
}

/* Append a handshake message to one of the lists "from you: A, B; from the server: C": a
 * new group when the direction changes. */
static void
msg_add(char *buf, size_t len, int *last, int in, const char *type)
{
	size_t o = strlen(buf);

	if (*last != in)
		snprintf(buf + o, len - o, "%sfrom %s: %s", o ? "; " : "", in ? "you" :
		    "the server", type);
	else
		snprintf(buf + o, len - o, ", %s", type);
	*last = in;
}

/* The handshake messages of this connection that crossed the path in clear, and those that
 * crossed encrypted, from the record's message events in their order. TLS 1.3 encrypts all
 * but the hellos (and the empty ChangeCipherSpec); before it, each side's messages up to and
 * including its own ChangeCipherSpec go in clear, the rest encrypted. ver: 13, 12 (before
 * 1.3) or 0 (not known: only the hellos are sure). 1 if any ChangeCipherSpec was seen. */
static int
clear_msgs(const struct record *r, int ver, char *clr, char *enc, size_t len)
{
	const char *l;
	char ev[32], type[40], dir[8];
	size_t off = 0, n;
	int in, hello, lc = -1, le = -1, ccs_in = 0, ccs_out = 0, ccs = 0;

	clr[0] = enc[0] = '\0';
	while (rec_line(r, &off, &l, &n)) {
		if (!rec_get(l, n, "event", ev, sizeof(ev)) || strcmp(ev, "message") != 0 ||
		    !rec_get(l, n, "type", type, sizeof(type)))
			continue;
		dir[0] = '\0';
		rec_get(l, n, "dir", dir, sizeof(dir));
		in = strcmp(dir, "in") == 0;
		hello = strcmp(type, "ClientHello") == 0 || strcmp(type, "ServerHello") == 0 ||
		    strcmp(type, "HelloRetryRequest") == 0;
		if (strcmp(type, "ChangeCipherSpec") == 0) {
			ccs = 1;
			msg_add(clr, len, &lc, in, type);
			*(in ? &ccs_in : &ccs_out) = 1;
		} else if (hello || (ver == 12 && !(in ? ccs_in : ccs_out)))
			msg_add(clr, len, &lc, in, type);
		else if (ver != 0)
			msg_add(enc, len, &le, in, type);
	}
	return ccs;
}

/* What anyone on the path saw: over HTTP the request itself; over HTTPS the TLS record
 * headers, and the handshake messages that went in clear (which depend on the version). */
static void
eavesdropper(struct pbuf *b, const struct record *r, const struct pfacts *f)
{
	const struct record_tlsrec *t;
	unsigned i, n, seq, next = 0;
	static char clr[2048], enc[2048];	/* not on the stack */
	int ver, ccs, ng;

	pb_h2(b, "What an eavesdropper on the path saw");
	if (!f->tls) {
		if (r->req == NULL) {
			pb_p(b, "This request's bytes were not kept.");
			return;
		}
		pb_p(b, "Plain HTTP: anyone on the path (the Wi-Fi, a router, the provider) read "
		    "this request byte for byte, and reads this page on its way back. Here is the "
		    "request's head as it arrived at the server (%zu bytes%s), \\r\\n shown:",
		    r->req_full, r->req_full > r->req_len ? "; the first ones shown" : "");
		pb_bytes(b, (const unsigned char *)r->req, r->req_len);
		return;
	}
	n = record_tlsrec_kept(r);
	ver = strcmp(f->version, "TLSv1.3") == 0 ? 13 : f->version[0] ? 12 : 0;
	ccs = clear_msgs(r, ver, clr, enc, sizeof(clr));
	ng = page_hello_ngroups(r);
	pb_p(b, "HTTPS: the path sees TLS records. Each has a 5-byte header in clear: type, "
	    "version, length. Of the handshake messages in the events above%s, these crossed "
	    "the path in clear: %s%s%s%s%s.%s%s%s%s%s",
	    r->dropped ? " (as kept)" : "", clr[0] ? clr : "none kept",
	    ver == 0 ? ". The handshake did not finish (no handshake_done), so which of the "
	    "others were encrypted is not known here" : "; encrypted",
	    ver != 0 ? (ver == 13 ? " (TLS 1.3 encrypts every handshake message after the ServerHello)" :
	    " (before TLS 1.3 each side encrypts what follows its own ChangeCipherSpec)") : "",
	    ver != 0 ? ": " : "", ver != 0 ? (enc[0] ? enc : "none yet") : "",
	    f->sni[0] || ng > 0 ? " Your ClientHello shows the path " : "",
	    f->sni[0] ? "its SNI '" : "", f->sni, f->sni[0] ? "'" : "",
	    f->sni[0] && ng > 0 ? " and the groups you offered." : ng > 0 ?
	    "the groups you offered." : f->sni[0] ? "." : "");
	pb_p(b, "These are the headers of this connection's records, as OpenSSL read and wrote "
	    "them here (its message callback), times in ms from the accept. %s The last ones "
	    "from you carry this request: their length is all the path learns of it.",
	    ver == 13 ? (ccs ? "TLS 1.3 labels every encrypted record application_data (23), "
	    "whatever it holds; the change_cipher_spec (20) records of one byte carry nothing "
	    "(middlebox compatibility, RFC 8446 D.4)." : "TLS 1.3 labels every encrypted "
	    "record application_data (23), whatever it holds.") : ver == 12 ? "Before TLS 1.3 "
	    "an encrypted record keeps its real type: the Finished messages go as handshake "
	    "(22), the HTTP as application_data (23)." : "");
	pb_raw(b, "<table class=\"events\">\n<tr><th>#</th><th>ms</th><th>direction</th>"
	    "<th>type</th><th>version</th><th>length</th></tr>\n");
	for (i = 0; i < n; i++) {
		t = record_tlsrec_get(r, i, &seq);
		if (seq != next) {
			pb_raw(b, "<tr><td colspan=\"6\">");
			pb_escf(b, "%s... %u records not kept ...", b->text ? "  " : "", seq - next);
			pb_raw(b, "</td></tr>");
			pb_put(b, "\n", 1);
		}
		next = seq + 1;
		if (b->text) {
			pb_escf(b, "  %3u %9.3f  %-16s %-18s (%d) 0x%04x  length %u", seq + 1,
			    t->t_us / 1000.0, t->in ? "client -> server" : "server -> client",
			    rec_type(t->type), t->type, t->version, t->len);
			pb_put(b, "\n", 1);
			continue;
		}
		pb_raw(b, "<tr><td>");
		pb_escf(b, "%u", seq + 1);
		pb_raw(b, "</td><td>");
		pb_escf(b, "%.3f", t->t_us / 1000.0);
		pb_raw(b, "</td><td>");
		pb_escf(b, "%s", t->in ? "client → server" : "server → client");
		pb_raw(b, "</td><td>");
		pb_escf(b, "%s (%d)", rec_type(t->type), t->type);
		pb_raw(b, "</td><td>");
		pb_escf(b, "0x%04x", t->version);
		pb_raw(b, "</td><td>");
		pb_escf(b, "%u", t->len);
		pb_raw(b, "</td></tr>\n");
	}
	pb_raw(b, "</table>\n");
	pb_p(b, "%u records so far, %s (the server keeps the first %d and the last %d). What "
	    "the server cannot know from here: how TCP cut these records into segments (server "
	    "--wire shows that, from a capture).", r->ntlsrec, n < r->ntlsrec ? "not all kept" :
	    "all kept", RECORD_TLSREC_FIRST, RECORD_TLSREC_LAST);
}
/* The host part of a Host header, if it is one a link may name: a DNS name (letters, digits,
 * '-' and '.', up to 128 characters, so the page stays within its buffer), a dotted IPv4
 * address or a [bracketed] IPv6 address, with an optional port of digits (dropped: each
 * gallery scenario has its own). Anything else (a space, a quote, '<', a user@, a path) comes
 * from a confused or hostile client, and the page then names the address it reached instead.
 * Returns 0 with the host in buf, or -1. */
static int
host_from_header(const char *hdr, char *buf, size_t len)
{
	const char *end, *p;
	size_t n;
	char a6[INET6_ADDRSTRLEN + 1];

	if (hdr == NULL)
		return -1;
	if (hdr[0] == '[') {
		if ((end = strchr(hdr, ']')) == NULL || (n = (size_t)(end - hdr - 1)) == 0 ||
		    n >= sizeof(a6))
			return -1;
		memcpy(a6, hdr + 1, n);
		a6[n] = '\0';
		{
			struct in6_addr in6;

			if (inet_pton(AF_INET6, a6, &in6) != 1)
				return -1;
		}
		end++;
	} else {
		end = hdr + strspn(hdr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-.");
		n = (size_t)(end - hdr);
		if (n == 0 || n > 128 || hdr[0] == '.' || hdr[0] == '-' || strstr(hdr, "..") != NULL)
			return -1;
	}
	if (*end == ':') {
		for (p = end + 1; *p >= '0' && *p <= '9'; p++)
			;
		if (p == end + 1 || p - end - 1 > 5 || *p != '\0')
			return -1;
	} else if (*end != '\0')
		return -1;
	n = (size_t)(end - hdr);
	if (n >= len)
		return -1;
	memcpy(buf, hdr, n);
	buf[n] = '\0';
	return 0;
}


/* The gallery's list, after the page proper: a link and the expected verdict each, at the
 * address this connection reached (host). */
static void
gallery_list(struct pbuf *b, const char *host, const struct scenario *sc, int nsc)
{
	char url[256];
	int i;

	if (nsc == 0)
		return;
	if (b->text)
		pb_put(b, "\ncertificate gallery (one HTTPS port each):\n", 44);
	else
		pb_raw(b, "<h2>Certificate gallery</h2>\n<p>One HTTPS port per certificate "
		    "problem. Try them with <code>build/client --cacert "
		    "certs/out/gallery/trust.pem</code>, curl, or a browser.</p>\n<table>\n"
		    "<tr><th>scenario</th><th>expected verdict</th><th>what it shows</th></tr>\n");
	for (i = 0; i < nsc; i++) {
		char verdict[64];

		if (sc[i].expected == 0)
			snprintf(verdict, sizeof(verdict), "trusted");
		else
			snprintf(verdict, sizeof(verdict), "error %d%s", sc[i].expected,
			    sc[i].crl ? " (with --crlfile)" : "");
		snprintf(url, sizeof(url), "https://%s:%d/", host, sc[i].port);
		if (b->text) {
			pb_escf(b, "  %-17s %s  %s", sc[i].name, url, verdict);
			pb_put(b, "\n", 1);
			continue;
		}
		pb_raw(b, "<tr><td><a href=\"");
		pb_esc(b, url, strlen(url));
		pb_raw(b, "\">");
		pb_esc(b, sc[i].name, strlen(sc[i].name));
		pb_raw(b, "</a></td><td>");
		pb_esc(b, verdict, strlen(verdict));
		pb_raw(b, "</td><td>");
		pb_esc(b, sc[i].description, strlen(sc[i].description));
		pb_raw(b, "</td></tr>\n");
	}
	pb_raw(b, "</table>\n");
}

static const char style[] =
    "<style>body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em}"
    "th{text-align:left;padding-right:1em;vertical-align:top;white-space:nowrap}"
    "td{font-family:monospace;overflow-wrap:break-word}h3{margin-bottom:.3em}"
    "table.events td{padding-right:1em}table.events td:nth-child(-n+2){white-space:nowrap}"
    "pre.wire{background:#f4f4f4;padding:.5em;white-space:pre-wrap;word-break:break-all}"
    ".cols{display:flex;gap:2em;flex-wrap:wrap}.cols>div{flex:1;min-width:26em}"
    ".cols table{table-layout:fixed;width:100%}.cols th{width:10em;white-space:normal}"
    ".ladder{overflow-x:auto}.ladder svg{max-width:100%;height:auto}</style>\n";

int
page_render(const struct page_req *q, char **page, size_t *len)
{
	struct pbuf b = { NULL, 0, 0, q->text, 0, 0 };
	struct pfacts f;
	const char *lname = q->li->sc ? q->li->sc->name : kind_names[q->li->kind];
	char host[136];

	if (b.text) {
		pb_escf(&b, "handshake-lab: your connection (the %s listener)", lname);
		pb_put(&b, "\n", 1);
	} else {
		pb_raw(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<title>handshake-lab: your connection</title>\n");
		pb_raw(&b, style);
		pb_raw(&b, "</head><body>\n<h1>Your connection</h1>\n");
	}
	if (q->r == NULL) {
		pb_p(&b, "You reached the %s listener of handshake-lab. This server runs without "
		    "its event log (-q), and without it it keeps no record of your connection: "
		    "this is what the connection itself still knows.", lname);
		if (q->c != NULL)
			live_table(&b, q);
	} else {
		rec_facts(q->r, &f);
		pb_p(&b, "You reached the %s listener of handshake-lab. Everything below comes "
		    "from the server's own events for this very connection, as it logged them "
		    "from the accept on (/events.json gives them as JSON).", lname);
		summary(&b, q, &f);
		ladder(&b, q->r);
		timeline(&b, q->r, &f);
		tcp(&b, &f);
		if (f.tls) {
			page_hello(&b, q->r, &f, q->opt);
			page_cert(&b, q->li, &f, q->opt);
		}
		eavesdropper(&b, q->r, &f);
	}
	pb_raw(&b, "<p>Plain-text version: <a href=\"/?text\">/?text</a>; this connection's "
	    "events: <a href=\"/events.json\">/events.json</a></p>\n");
	/* Links name the host the visitor asked for (on a LAN: teacher.lan, 192.168.1.10), else
	 * the address this connection reached. */
	if (host_from_header(q->host_hdr, host, sizeof(host)) == -1) {
		if (q->c != NULL)
			listen_url_host(&q->c->local.sa, host, sizeof(host));
		else
			snprintf(host, sizeof(host), "%s", q->li->url_host);
	}
	gallery_list(&b, host, q->sc, q->nsc);
	pb_raw(&b, "</body></html>\n");
	if (b.err) {
		free(b.p);
		return -1;
	}
	*page = b.p;
	*len = b.len;
	return 0;
}

/* /redirect/N (1-100): a redirect to /redirect/N-1, the last one to /: a chain of N for
 * client -L and curl -L (more than --max-redirs: exit 47); ?code=301|302|303|307|308 picks
 * the status (default 302) and goes along the chain. The targets are paths of this very
 * server: nothing in a request can send a client elsewhere. Returns the status, with the
 * Location header line in hdr and a short body in body; 0 if path is not /redirect/...; -1
 * if it is, malformed. */
int
page_redirect(const char *path, char *hdr, size_t hlen, char *body, size_t blen)
{
	const char *p = path + 10, *q;
	char next[48];
	long n = 0;
	int code = 302;

	if (strncmp(path, "/redirect/", 10) != 0)
		return 0;
	for (; *p >= '0' && *p <= '9' && n <= 100; p++)
		n = n * 10 + (*p - '0');
	if (p == path + 10 || n < 1 || n > 100 || (*p != '\0' && *p != '?'))
		return -1;
	q = p;
	if (*q == '?') {
		if (strncmp(q, "?code=", 6) != 0 || strlen(q) != 9)
			return -1;
		code = (q[6] - '0') * 100 + (q[7] - '0') * 10 + (q[8] - '0');
		if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
			return -1;
	}
	if (n > 1)
		snprintf(next, sizeof(next), "/redirect/%ld%s", n - 1, q);
	else
		snprintf(next, sizeof(next), "/");
	snprintf(hdr, hlen, "Location: %s\r\n", next);
	snprintf(body, blen, "%d: redirect %ld of this chain, to %s\n", code, n, next);
	return code;
}
