/* page.c -- the one page the server serves: what this very connection looks like. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "conn.h"
#include "server.h"
#include "tls.h"

struct facts {
	char	protocol[64];
	char	cipher[96];
	char	group[48];
	char	resumed[8];
	char	sni[128];
};

static void
gather(struct conn *c, struct facts *f)
{
	const SSL_CIPHER *ciph;
	const char *g, *sni;

	memset(f, 0, sizeof(*f));
	if (c->ssl == NULL) {
		snprintf(f->protocol, sizeof(f->protocol), "HTTP/1.1 over plain TCP (no TLS)");
		snprintf(f->cipher, sizeof(f->cipher), "none: anyone on the path can read this");
		snprintf(f->group, sizeof(f->group), "none");
		snprintf(f->resumed, sizeof(f->resumed), "n/a");
		return;
	}
	snprintf(f->protocol, sizeof(f->protocol), "HTTP/1.1 over %s", SSL_get_version(c->ssl));
	ciph = SSL_get_current_cipher(c->ssl);
	snprintf(f->cipher, sizeof(f->cipher), "%s", ciph ? SSL_CIPHER_standard_name(ciph) : "?");
	g = tls_group_name(c->ssl);
	snprintf(f->group, sizeof(f->group), "%s", g[0] ? g : "RSA key transport (no group)");
	snprintf(f->resumed, sizeof(f->resumed), "%s", SSL_session_reused(c->ssl) ? "yes" : "no");
	sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
	snprintf(f->sni, sizeof(f->sni), "%s", sni ? sni : "");
}

/* Escape for HTML: addresses and SNI come from the network. */
static void
esc(char *out, size_t len, const char *s)
{
	size_t o = 0;
	const char *r;

	for (; *s && o + 7 < len; s++) {
		switch (*s) {
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '&': r = "&amp;"; break;
		case '"': r = "&quot;"; break;
		default:
			out[o++] = *s;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s", r);
	}
	out[o] = '\0';
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
static int
gallery_list(int text, const char *host, const struct scenario *sc, int nsc, char *buf,
    size_t len)
{
	size_t o = 0;
	int i, n;
	char desc[1024];

	if (nsc == 0)
		return 0;
	n = snprintf(buf, len, text ? "\ncertificate gallery (one HTTPS port each):\n" :
	    "<h2>Certificate gallery</h2>\n<p>One HTTPS port per certificate problem. Try them "
	    "with <code>build/client --cacert certs/out/gallery/trust.pem</code>, curl, or a "
	    "browser.</p>\n<table>\n<tr><th>scenario</th><th>expected verdict</th>"
	    "<th>what it shows</th></tr>\n");
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	for (i = 0; i < nsc; i++) {
		char verdict[64];

		if (sc[i].expected == 0)
			snprintf(verdict, sizeof(verdict), "trusted");
		else
			snprintf(verdict, sizeof(verdict), "error %d%s", sc[i].expected,
			    sc[i].crl ? " (with --crlfile)" : "");
		if (text)
			n = snprintf(buf + o, len - o, "  %-17s https://%s:%d/  %s\n",
			    sc[i].name, host, sc[i].port, verdict);
		else {
			esc(desc, sizeof(desc), sc[i].description);
			n = snprintf(buf + o, len - o, "<tr><td><a href=\"https://%s:%d/\">"
			    "%s</a></td><td>%s</td><td>%s</td></tr>\n", host, sc[i].port,
			    sc[i].name, verdict, desc);
		}
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	if (!text) {
		n = snprintf(buf + o, len - o, "</table>\n");
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}

int
page_render(struct conn *c, int text, const char *listener, const char *host_hdr,
    const struct scenario *sc, int nsc, char *buf, size_t len)
{
	struct facts f;
	char sni[256], remote[128], host[136];
	int n, g;

	gather(c, &f);
	if (text) {
		n = snprintf(buf, len,
		    "handshake-lab: your connection\n"
		    "listener:   %s\n"
		    "client:     %s\n"
		    "server:     %s\n"
		    "protocol:   %s\n"
		    "cipher:     %s\n"
		    "key group:  %s\n"
		    "resumed:    %s\n"
		    "SNI:        %s\n",
		    listener, conn_remote_str(c), conn_local_str(c), f.protocol, f.cipher, f.group, f.resumed,
		    f.sni[0] ? f.sni : "(none)");
	} else {
		esc(sni, sizeof(sni), f.sni[0] ? f.sni : "(none)");
		esc(remote, sizeof(remote), conn_remote_str(c));
		n = snprintf(buf, len,
		    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<title>handshake-lab: your connection</title>\n"
		    "<style>body{font-family:sans-serif;max-width:44em;margin:2em auto}"
		    "th{text-align:left;padding-right:1em}td{font-family:monospace}</style>\n"
		    "</head><body>\n<h1>Your connection</h1>\n"
		    "<p>You reached the <b>%s</b> listener of handshake-lab. "
		    "The server's event log shows every step of this exchange.</p>\n<table>\n"
		    "<tr><th>client</th><td>%s</td></tr>\n"
		    "<tr><th>server</th><td>%s</td></tr>\n"
		    "<tr><th>protocol</th><td>%s</td></tr>\n"
		    "<tr><th>cipher</th><td>%s</td></tr>\n"
		    "<tr><th>key exchange group</th><td>%s</td></tr>\n"
		    "<tr><th>session resumed</th><td>%s</td></tr>\n"
		    "<tr><th>SNI</th><td>%s</td></tr>\n"
		    "</table>\n<p>Plain-text version: <a href=\"/?text\">/?text</a></p>\n",
		    listener, remote, conn_local_str(c), f.protocol, f.cipher, f.group, f.resumed, sni);
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	/* Links name the host the visitor asked for (on a LAN: teacher.lan, 192.168.1.10), else
	 * the address this connection reached. */
	if (host_from_header(host_hdr, host, sizeof(host)) == -1)
		listen_url_host(&c->local.sa, host, sizeof(host));
	if ((g = gallery_list(text, host, sc, nsc, buf + n, len - (size_t)n)) < 0)
		return -1;
	n += g;
	if (!text) {
		g = snprintf(buf + n, len - (size_t)n, "</body></html>\n");
		if (g < 0 || (size_t)g >= len - (size_t)n)
			return -1;
		n += g;
	}
	return n;
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
