/* page_hello.c -- the visitor's first ClientHello, decoded from its bytes as the server
 * received them, and beside it what the server chose and why: the why comes from facts (the
 * offered lists in their order, the server's groups, what its OpenSSL knows, the record's
 * events), and where the record cannot tell, the page says so. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dissect.h"
#include "page.h"
#include "server.h"

#define MAXID	160

struct share {
	unsigned	group;
	size_t		klen;
};

/* The lists a ClientHello offers, in its order. */
struct hello {
	unsigned	legacy;
	unsigned	suites[MAXID], groups[MAXID], versions[32], exts[MAXID];
	int		nsuites, ngroups, nversions, nexts;
	struct share	shares[32];
	int		nshares, has_versions, has_alpn, has_psk, has_ks;
	size_t		sid_len, ticket_len;	/* session_id; session_ticket's bytes */
	int		has_ticket;
	char		alpn[512], sni[512];
};

struct rd {
	const unsigned char	*p;
	size_t			 n;
	int			 bad;
};

static unsigned
u(struct rd *r, size_t k)
{
	unsigned v = 0;

	if (r->bad || r->n < k) {
		r->bad = 1;
		return 0;
	}
	while (k-- > 0) {
		v = v << 8 | *r->p++;
		r->n--;
	}
	return v;
}

static struct rd
sub(struct rd *r, size_t k)
{
	struct rd s = { r->p, k, 0 };

	if (r->bad || r->n < k) {
		r->bad = 1;
		s.n = 0;
		s.bad = 1;
		return s;
	}
	r->p += k;
	r->n -= k;
	return s;
}

/* A peer's string: printable ASCII as it is, the rest \xNN (then escaped again on output). */
static void
cat_str(char *buf, size_t len, const unsigned char *s, size_t n)
{
	size_t o = strlen(buf), i;

	if (o > 0 && o + 2 < len) {
		buf[o++] = ',';
		buf[o++] = ' ';
	}
	for (i = 0; i < n && o + 5 < len; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			buf[o++] = (char)s[i];
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", s[i]);
	}
	buf[o] = '\0';
}

static void
ext(struct hello *h, unsigned type, struct rd e)
{
	struct rd l;

	switch (type) {
	case 0:		/* server_name */
		l = sub(&e, u(&e, 2));
		while (!l.bad && l.n > 3) {
			(void)u(&l, 1);
			e = sub(&l, u(&l, 2));
			cat_str(h->sni, sizeof(h->sni), e.p, e.n);
		}
		break;
	case 10:	/* supported_groups */
		l = sub(&e, u(&e, 2));
		while (!l.bad && l.n >= 2 && h->ngroups < MAXID)
			h->groups[h->ngroups++] = u(&l, 2);
		break;
	case 16:	/* ALPN */
		h->has_alpn = 1;
		l = sub(&e, u(&e, 2));
		while (!l.bad && l.n > 0) {
			e = sub(&l, u(&l, 1));
			cat_str(h->alpn, sizeof(h->alpn), e.p, e.n);
		}
		break;
	case 35:	/* session_ticket: empty asks for one, else offers one (TLS 1.2) */
		h->has_ticket = 1;
		h->ticket_len = e.n;
		break;
	case 41:
		h->has_psk = 1;
		break;
	case 43:	/* supported_versions */
		h->has_versions = 1;
		l = sub(&e, u(&e, 1));
		while (!l.bad && l.n >= 2 && h->nversions < 32)
			h->versions[h->nversions++] = u(&l, 2);
		break;
	case 51:	/* key_share */
		h->has_ks = 1;
		l = sub(&e, u(&e, 2));
		while (!l.bad && l.n >= 4 && h->nshares < 32) {
			h->shares[h->nshares].group = u(&l, 2);
			h->shares[h->nshares].klen = sub(&l, u(&l, 2)).n;
			if (!l.bad)
				h->nshares++;
		}
		break;
	}
}

/* 0: parsed (maybe cut short: a truncated hello gives what it has), -1: not a ClientHello. */
static int
parse(const unsigned char *msg, size_t len, struct hello *h)
{
	struct rd r = { msg, len, 0 }, l, e;
	unsigned type;
	size_t k;

	memset(h, 0, sizeof(*h));
	if (u(&r, 1) != 1)
		return -1;
	(void)u(&r, 3);
	h->legacy = u(&r, 2);
	(void)sub(&r, 32);
	h->sid_len = sub(&r, u(&r, 1)).n;
	l = sub(&r, u(&r, 2));
	while (!l.bad && l.n >= 2 && h->nsuites < MAXID)
		h->suites[h->nsuites++] = u(&l, 2);
	(void)sub(&r, u(&r, 1));
	if (r.bad || r.n < 2)
		return 0;
	k = u(&r, 2);
	l = sub(&r, k <= r.n ? k : r.n);	/* a hello cut short: what is there */
	while (!l.bad && l.n >= 4 && h->nexts < MAXID) {
		type = u(&l, 2);
		e = sub(&l, u(&l, 2));
		if (l.bad)
			break;
		h->exts[h->nexts++] = type;
		ext(h, type, e);
	}
	return 0;
}

static int
grease(unsigned id)
{
	return (id & 0x0f0f) == 0x0a0a && (id >> 8) == (id & 0xff);
}

/* Post-quantum key exchange: the ML-KEM hybrids (draft-ietf-tls-ecdhe-mlkem), pure ML-KEM,
 * and the Kyber draft Chrome sent before. */
static int
pq(unsigned id)
{
	return id == 0x11ec || id == 0x11eb || id == 0x11ed || (id >= 0x0200 && id <= 0x0202) ||
	    id == 0x6399;
}

static void
name(char *buf, size_t len, const char *(*fn)(unsigned), unsigned id)
{
	const char *n = fn(id);

	if (n != NULL)
		snprintf(buf, len, "%s (0x%04x)", n, id);
	else
		snprintf(buf, len, "0x%04x (unknown here)", id);
}

static void
list(char *buf, size_t len, const char *(*fn)(unsigned), const unsigned *ids, int n)
{
	char one[96];
	size_t o;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		name(one, sizeof(one), fn, ids[i]);
		o = strlen(buf);
		snprintf(buf + o, len - o, "%s%s", i ? ", " : "", one);
	}
}

/* ---- what this server supports ---- */

/* The names OpenSSL takes in a groups list, for the groups it can do in TLS. */
static const struct { const char *name; unsigned id; } aliases[] = {
	{ "X25519", 0x1d }, { "X448", 0x1e }, { "P-256", 0x17 }, { "prime256v1", 0x17 },
	{ "secp256r1", 0x17 }, { "P-384", 0x18 }, { "secp384r1", 0x18 }, { "P-521", 0x19 },
	{ "secp521r1", 0x19 }, { "ffdhe2048", 0x100 }, { "ffdhe3072", 0x101 },
	{ "ffdhe4096", 0x102 }, { "ffdhe6144", 0x103 }, { "ffdhe8192", 0x104 },
	{ "X25519MLKEM768", 0x11ec }, { "SecP256r1MLKEM768", 0x11eb },
	{ "SecP384r1MLKEM1024", 0x11ed },
};

/* OpenSSL 3.0's own list when none is set (ssl/t1_lib.c supported_groups_default, less the
 * GOST groups no TLS peer here uses). */
static const unsigned default_groups[] = { 0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102,
	0x103, 0x104 };

struct server_groups {
	unsigned	ids[32];
	int		n;
	const char	*from;		/* how we know */
};

static void
server_groups(const struct options *opt, struct server_groups *s)
{
	const char *p = opt != NULL ? opt->common.groups : NULL, *e;
	size_t k, i;

	s->n = 0;
	if (p == NULL) {
		for (i = 0; i < sizeof(default_groups) / sizeof(default_groups[0]); i++)
			s->ids[s->n++] = default_groups[i];
		s->from = "OpenSSL's default list";
		return;
	}
	s->from = "its --groups";
	for (; *p && s->n < 32; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":,");
		k = (size_t)(e - p);
		for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
			if (strlen(aliases[i].name) == k && strncasecmp(aliases[i].name, p, k) == 0) {
				s->ids[s->n++] = aliases[i].id;
				break;
			}
	}
}

static int
in(const struct server_groups *s, unsigned id)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return 1;
	return 0;
}

/* Whether this server's OpenSSL can do ML-KEM at all: asked once, by setting the hybrid as a
 * context's groups (OpenSSL 3.0 refuses the name; 3.5 takes it). */
static int
mlkem_known(void)
{
	static int known = -1;
	SSL_CTX *ctx;

	if (known >= 0)
		return known;
	known = 0;
	if ((ctx = SSL_CTX_new(TLS_server_method())) != NULL) {
		known = SSL_CTX_set1_groups_list(ctx, "X25519MLKEM768") == 1;
		SSL_CTX_free(ctx);
	}
	ERR_clear_error();
	return known;
}

/* ---- the sections ---- */

static const char grease_note[] = "GREASE (RFC 8701): values reserved to mean nothing, "
    "sent at random so that servers learn to skip what they do not know (and do not choke "
    "on the next real extension); a server never picks one.";

/* Whether the ClientHello offers TLS 1.3 (only supported_versions can). */
static int
offers13(const struct hello *h)
{
	int i;

	for (i = 0; i < h->nversions; i++)
		if (h->versions[i] == 0x0304)
			return 1;
	return 0;
}

static void
offered(struct pbuf *b, const struct hello *h, const struct pfacts *f)
{
	char v[4096], one[96];
	int i, g = 0, q = 0;

	pb_table(b);
	pb_row(b, "legacy_version", "0x%04x%s", h->legacy, h->has_versions ? " (frozen at TLS "
	    "1.2: the real list is supported_versions)" : "");
	if (h->has_versions) {
		list(v, sizeof(v), dissect_version_name, h->versions, h->nversions);
		pb_row(b, "supported_versions", "%s", v);
	}
	list(v, sizeof(v), dissect_suite_name, h->suites, h->nsuites);
	pb_row(b, "cipher suites", "%d: %s", h->nsuites, v);
	list(v, sizeof(v), dissect_group_name, h->groups, h->ngroups);
	pb_row(b, "supported_groups", "%s", h->ngroups ? v : "(none)");
	v[0] = '\0';
	for (i = 0; i < h->nshares; i++) {
		name(one, sizeof(one), dissect_group_name, h->shares[i].group);
		snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%s: %zu-byte public key",
		    i ? "; " : "", one, h->shares[i].klen);
	}
	if (h->nshares)
		pb_row(b, "key shares", "%s", v);
	else if (!offers13(h))
		pb_row(b, "key shares", "none offered: you did not offer TLS 1.3, and TLS 1.2 "
		    "and older have no key shares");
	else
		pb_row(b, "key shares", "none offered (%s): a TLS 1.3 server without one answers "
		    "with a HelloRetryRequest%s", h->has_ks ? "an empty key_share extension" :
		    "no key_share extension", f->hrr ? ", as this one did" :
		    strcmp(f->version, "TLSv1.3") != 0 && f->version[0] ? "; this server agreed "
		    "on an older version, which has none" : "");
	pb_row(b, "ALPN", "%s", h->has_alpn ? h->alpn : "(not sent)");
	pb_row(b, "SNI", "%s", h->sni[0] ? h->sni : "(not sent)");
	list(v, sizeof(v), dissect_ext_name, h->exts, h->nexts);
	pb_row(b, "extensions", "%d, in the order sent: %s", h->nexts, v);
	pb_end_table(b);
	for (i = 0; i < h->nsuites; i++)
		g |= grease(h->suites[i]);
	for (i = 0; i < h->ngroups; i++) {
		g |= grease(h->groups[i]);
		q |= pq(h->groups[i]);
	}
	for (i = 0; i < h->nexts; i++)
		g |= grease(h->exts[i]);
	for (i = 0; i < h->nversions; i++)
		g |= grease(h->versions[i]);
	if (g)
		pb_p(b, "%s", grease_note);
	if (q)
		pb_p(b, "Post-quantum: X25519MLKEM768 (0x11ec) is a hybrid key exchange: ML-KEM-768 "
		    "(the NIST standard FIPS 203, against a future quantum computer that would "
		    "break elliptic curves) together with X25519, so that the key is safe if "
		    "either holds. Its key share is large (1,216 bytes from a client): this is why "
		    "such a ClientHello is about 2 KB and may need two TCP segments.");
}

/* The key share the server took, and why, from the shares in the order sent. */
static void
why_group(struct pbuf *b, const struct hello *h, const struct pfacts *f,
    const struct server_groups *s)
{
	char one[96], sl[512] = "";
	int i, found = 0;

	for (i = 0; i < s->n; i++) {
		name(one, sizeof(one), dissect_group_name, s->ids[i]);
		snprintf(sl + strlen(sl), sizeof(sl) - strlen(sl), "%s%s", i ? ", " : "",
		    dissect_group_name(s->ids[i]) ? dissect_group_name(s->ids[i]) : one);
	}
	if (strcmp(f->version, "TLSv1.3") != 0) {
		if (f->group[0] && h->ngroups > 0)
			pb_li(b, "Key exchange: %s over %s. %s has no key shares: the server "
			    "picks a group your supported_groups names, and sends its key in "
			    "ServerKeyExchange.", f->kx, f->group, f->version);
		else if (f->group[0])
			pb_li(b, "Key exchange: %s over %s. %s has no key shares, and you sent "
			    "no supported_groups: the server picked the group itself, and sent "
			    "its key in ServerKeyExchange.", f->kx, f->group, f->version);
		else
			pb_li(b, "Key exchange: %s: RSA key transport, no group (and no forward "
			    "secrecy: whoever gets the server's key later can decrypt a "
			    "recording of this connection).", f->kx[0] ? f->kx : "?");
		return;
	}
	pb_li(b, "Key exchange group: %s. OpenSSL 3.0 walks your key shares in the order you "
	    "sent them and takes the first one for a group it supports (this server's groups, "
	    "%s: %s):", f->group[0] ? f->group : "?", s->from, sl);
	pb_ul(b);
	for (i = 0; i < h->nshares && !found; i++) {
		unsigned g = h->shares[i].group;
		const char *gn = dissect_group_name(g);

		name(one, sizeof(one), dissect_group_name, g);
		if (grease(g))
			pb_li(b, "%s: GREASE, a decoy share: skipped.", one);
		else if (!in(s, g) && pq(g) && !mlkem_known())
			pb_li(b, "%s: post-quantum hybrid; this server's OpenSSL (%s) has no ML-KEM: "
			    "skipped.", one, OpenSSL_version(OPENSSL_VERSION));
		else if (!in(s, g))
			pb_li(b, "%s: not among this server's groups: skipped.", one);
		else if (!f->hrr && gn != NULL && strcmp(gn, f->group) == 0) {
			pb_li(b, "%s: the first share for a group this server supports: used, no "
			    "extra round trip.", one);
			found = 1;
		} else
			pb_li(b, "%s: a group this server supports, yet not the one it used: the "
			    "record does not say why.", one);
	}
	if (!found && !f->hrr && h->nshares == 0)
		pb_li(b, "you sent no key share at all.");
	pb_end_ul(b);
	if (f->hrr)
		pb_li(b, "None of your key shares fit, so the server answered with a "
		    "HelloRetryRequest asking for %s (the first group of its list that your "
		    "supported_groups names too): one more round trip. Your second ClientHello "
		    "carried a %s share (the record shows it came; its bytes are not kept) and "
		    "the key exchange used %s.", f->hrr_group, f->hrr_group, f->group[0] ?
		    f->group : "?");
	else if (!found)
		pb_li(b, "The group used is not among your key shares as kept: the record does "
		    "not say how it was chosen.");
}

static void
why_suite(struct pbuf *b, const struct hello *h, const struct pfacts *f)
{
	char one[96], skipped[2048] = "";
	int i, tls13 = strcmp(f->version, "TLSv1.3") == 0, nskip = 0;
	const char *n;

	for (i = 0; i < h->nsuites; i++) {
		n = dissect_suite_name(h->suites[i]);
		if (n != NULL && strcmp(n, f->cipher) == 0)
			break;
		name(one, sizeof(one), dissect_suite_name, h->suites[i]);
		snprintf(skipped + strlen(skipped), sizeof(skipped) - strlen(skipped), "%s%s (%s)",
		    nskip++ ? ", " : "", one, grease(h->suites[i]) ? "GREASE" :
		    tls13 && (h->suites[i] >> 8) != 0x13 ? "a TLS 1.2 suite" :
		    !tls13 && (h->suites[i] >> 8) == 0x13 ? "a TLS 1.3 suite" :
		    "not enabled here, or not for this certificate");
	}
	if (i == h->nsuites) {
		pb_li(b, "Cipher suite: %s: not in your list as kept: the record does not say "
		    "why.", f->cipher);
		return;
	}
	pb_li(b, "Cipher suite: %s, number %d in your list. OpenSSL takes the first of your "
	    "suites it accepts for this version (it follows the client's order: this server "
	    "does not set SSL_OP_CIPHER_SERVER_PREFERENCE)%s%s.", f->cipher, i + 1,
	    nskip ? "; before it: " : "", skipped);
}

/* What the ClientHello offered to resume, in words; "" if nothing. TLS 1.3 resumes with a
 * pre_shared_key only; before it, a session_ticket with bytes in it, or a session ID (which
 * a client that also offers TLS 1.3 fills with a dummy: then it proves nothing). */
static void
resume_offer(const struct hello *h, const struct pfacts *f, char *buf, size_t len)
{
	int tls13 = strcmp(f->version, "TLSv1.3") == 0;

	buf[0] = '\0';
	if (h->has_psk)
		snprintf(buf, len, "a session ticket (pre_shared_key)");
	else if (!tls13 && h->ticket_len > 0)
		snprintf(buf, len, "a session ticket (session_ticket, %zu bytes)", h->ticket_len);
	else if (!tls13 && h->sid_len > 0 && !offers13(h))
		snprintf(buf, len, "a session ID (%zu bytes) to resume", h->sid_len);
}

static void
chose(struct pbuf *b, const struct hello *h, const struct pfacts *f,
    const struct options *opt)
{
	struct server_groups s;
	char off[96];
	int i, ech = 0;

	server_groups(opt, &s);
	for (i = 0; i < h->nexts; i++)
		ech |= h->exts[i] == 0xfe0d;
	pb_ul(b);
	if (f->t_hd < 0) {
		pb_li(b, "The handshake did not finish: the record shows no handshake_done.");
		pb_end_ul(b);
		return;
	}
	pb_li(b, "Version: %s, %s.", f->version, h->has_versions ? "the highest of your "
	    "supported_versions that this server accepts" : "you sent no supported_versions: "
	    "legacy_version was your highest");
	resume_offer(h, f, off, sizeof(off));
	if (f->resumed)
		pb_li(b, "Resumed: yes. You offered %s and the server accepted it: no "
		    "certificate this time%s.", off[0] ? off : "a session", f->kx_ev ? "" :
		    ", no key exchange of its own");
	if (f->kx_ev)
		why_group(b, h, f, &s);
	why_suite(b, h, f);
	if (!f->alpn_ev)
		pb_li(b, "ALPN: you sent none, so nothing was agreed: HTTP/1.1 is what this "
		    "server speaks.");
	else
		pb_li(b, "ALPN: you offered %s; this server speaks HTTP/1.1 only, so it takes "
		    "%s%s.", f->alpn_offered, f->alpn_chosen[0] ? f->alpn_chosen : "none of "
		    "them (and speaks HTTP/1.1 anyway)", strstr(f->alpn_offered, "h2") ?
		    " (h2, HTTP/2, is not spoken here)" : "");
	if (!f->resumed && off[0])
		pb_li(b, "Resumed: no; you offered %s, and the server did not take it (the "
		    "record does not say why: e.g. the server restarted and its ticket keys "
		    "changed): a full handshake.", off);
	else if (!f->resumed)
		pb_li(b, "Resumed: no; %s: a full handshake. %s", h->sid_len > 0 && offers13(h) ?
		    "you offered no session ticket, and your session ID is either the dummy a "
		    "TLS 1.3 client sends or a TLS 1.2 session (the ClientHello does not say "
		    "which): the server resumed nothing" : "you offered no session to resume",
		    f->n_nst > 0 ?
		    (f->n_nst > 1 ? "The server sent session tickets (NewSessionTicket, in the "
		    "events above): a new connection from your client may resume with one." :
		    "The server sent a session ticket (NewSessionTicket, in the events above): a "
		    "new connection from your client may resume with it.") : "The server sent no "
		    "session ticket on this connection.");
	pb_li(b, "SNI: %s", h->sni[0] ? "the name you asked for; this port has one "
	    "certificate, so it chooses nothing here. It travels in clear." :
	    "none sent: this port has one certificate anyway.");
	if (ech)
		pb_li(b, "encrypted_client_hello (0xfe0d): this server's OpenSSL does no ECH and "
		    "ignores it; with no ECH key from this server, a browser sends a decoy "
		    "(GREASE ECH), and the real SNI goes in clear.");
	pb_end_ul(b);
}

struct dump {
	struct pbuf	*b;
};

static void
dump_item(const struct dissect_item *it, void *arg)
{
	struct pbuf *b = ((struct dump *)arg)->b;

	pb_escf(b, "%*s%s: %s", 2 + 2 * it->depth, "", it->field, it->value);
	pb_put(b, "\n", 1);
}

int
page_hello_ngroups(const struct record *r)
{
	static struct hello h;

	if (r->hello == NULL || parse(r->hello, r->hello_len, &h) == -1)
		return -1;
	return h.ngroups;
}

void
page_hello(struct pbuf *b, const struct record *r, const struct pfacts *f,
    const struct options *opt)
{
	static struct hello h;		/* 2 KB of lists: not on the stack */
	struct dissect_ctx ctx = { 0, DISSECT_KX_UNKNOWN };
	struct dump d = { b };

	pb_h2(b, "Your ClientHello, and what the server chose");
	if (r->hello == NULL || parse(r->hello, r->hello_len, &h) == -1) {
		pb_p(b, "No ClientHello was kept for this connection.");
		return;
	}
	pb_p(b, "The first ClientHello your client sent on this connection, decoded from its "
	    "bytes as the server received them: %zu bytes%s (the handshake message: a 4-byte "
	    "header, then the body)%s.", r->hello_full, r->hello_full > r->hello_len ?
	    ", of which the first ones are kept" : "", f->n_ch > 1 ? "; after the "
	    "HelloRetryRequest your client sent a second one, whose bytes are not kept (its event "
	    "is in the list above)" : "");
	pb_raw(b, "<div class=\"cols\"><div>\n<h3>What you offered</h3>\n");
	if (b->text)
		pb_p(b, "What you offered:");
	offered(b, &h, f);
	pb_raw(b, "</div><div>\n<h3>What the server chose, and why</h3>\n");
	if (b->text)
		pb_p(b, "What the server chose, and why:");
	chose(b, &h, f, opt);
	pb_raw(b, "</div></div>\n<details><summary>Every field, decoded (as server --dissect "
	    "shows them)</summary>\n<pre>");
	if (b->text)
		pb_p(b, "Every field, decoded (as server --dissect shows them):");
	(void)dissect_message(r->hello, r->hello_len, &ctx, dump_item, &d);
	pb_raw(b, "</pre></details>\n");
}
