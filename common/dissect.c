/* dissect.c -- every field of a TLS handshake message, from its bytes: the "illustrated TLS
 * connection" of the student's own run. Pure over the bytes, every read bounds-checked: a
 * truncated or malformed message gives the fields up to the damage and an "error" item. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dissect.h"
#include "evlog.h"

/* Lowercase hex of b[0..n) into out, as much as fits; returns how many bytes were written. */
size_t
dissect_hex(const unsigned char *b, size_t n, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (outlen == 0)
		return 0;
	for (i = 0; i < n && 2 * i + 2 < outlen; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * i] = '\0';
	return i;
}

/* ServerHello and HelloRetryRequest share type 2; an HRR carries this fixed "random",
 * SHA-256 of "HelloRetryRequest" (RFC 8446, 4.1.3). */
static const unsigned char hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
	0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
	0x33, 0x9c,
};

/* msg: the whole message, 4-byte header first. */
int
dissect_is_hrr(const unsigned char *msg, size_t len)
{
	return msg != NULL && len >= 4 + 2 + 32 && msg[0] == 2 &&
	    memcmp(msg + 6, hrr_random, 32) == 0;
}

/* ---- the reader: every read checked, the first failure remembered ---- */

struct dx {
	const unsigned char	*start;
	size_t			 len;
	const struct dissect_ctx *ctx;
	dissect_cb		 cb;
	void			*arg;
	int			 bad;
	size_t			 bad_at;	/* offset of the first read past a bound */
};

struct rd {
	const unsigned char	*p;
	size_t			 n;
	int			 bad;
	struct dx		*d;
};

static void
rd_fail(struct rd *r)
{
	r->bad = 1;
	if (r->d != NULL && !r->d->bad) {
		r->d->bad = 1;
		r->d->bad_at = (size_t)(r->p - r->d->start);
	}
}

static unsigned
rd_u(struct rd *r, int bytes)
{
	unsigned v = 0;
	int i;

	if (r->bad || r->n < (size_t)bytes) {
		rd_fail(r);
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->n -= bytes;
	return v;
}

static struct rd
rd_sub(struct rd *r, size_t len)
{
	struct rd s = { r->p, len, 0, r->d };

	if (r->bad || r->n < len) {
		rd_fail(r);
		s.n = 0;
		s.bad = 1;
		return s;
	}
	r->p += len;
	r->n -= len;
	return s;
}

/* ---- items ---- */

static void emit(struct dx *, int depth, const char *field, long code,
    const unsigned char *b, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void
emit(struct dx *d, int depth, const char *field, long code, const unsigned char *b, size_t n,
    const char *fmt, ...)
{
	struct dissect_item it;
	va_list ap;

	it.depth = depth;
	it.field = field;
	it.code = code;
	it.bytes = b;
	it.nbytes = b != NULL ? n : 0;
	va_start(ap, fmt);
	vsnprintf(it.value, sizeof(it.value), fmt, ap);
	va_end(ap);
	d->cb(&it, d->arg);
}

/* Append to a value buffer, cutting short rather than overflowing. */
static void
cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	if (l + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

/* A peer's string (SNI, ALPN): printable ASCII as it is, the rest as \xNN. */
static void
cat_safe(char *buf, size_t len, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			cat(buf, len, "%c", s[i]);
		else
			cat(buf, len, "\\x%02x", s[i]);
	}
}

static void
cat_name(char *buf, size_t len, const char *name, unsigned id, int width)
{
	if (name != NULL)
		cat(buf, len, "%s%s", buf[0] ? ", " : "", name);
	else
		cat(buf, len, "%s0x%0*x", buf[0] ? ", " : "", width, id);
}

static const char *
plural(size_t n)
{
	return n == 1 || evlog_zh() ? "" : "s";	/* Chinese has no plural */
}

/* ---- extensions ---- */

enum where { W_CH, W_SH, W_HRR, W_EE, W_CERT, W_CR, W_NST };

/* A list of 2-byte ids with a length prefix of lenbytes, named by fn. */
static void
id_list(struct dx *d, struct rd *e, int lenbytes, const char *(*fn)(unsigned), char *v,
    size_t vlen)
{
	struct rd l = rd_sub(e, rd_u(e, lenbytes));
	unsigned id;

	while (!l.bad && l.n >= 2) {
		id = rd_u(&l, 2);
		cat_name(v, vlen, fn(id), id, 4);
	}
	if (l.n == 1)
		rd_fail(&l);
	(void)d;
}

static void
ext_key_share(struct dx *d, struct rd *e, enum where w, int depth)
{
	struct rd l, k;
	unsigned g;
	const char *gn;
	char v[256] = "";

	if (w == W_HRR) {
		g = rd_u(e, 2);
		gn = dissect_group_name(g);
		if (!e->bad)
			emit(d, depth, "key_share", g, NULL, 0, TR("selected group %s (0x%04x): "
			    "send a key share for it",
			    "选定的组 %s (0x%04x)：请为它发送密钥份额"), gn ? gn : "?", g);
		return;
	}
	if (w == W_SH) {
		g = rd_u(e, 2);
		k = rd_sub(e, rd_u(e, 2));
		gn = dissect_group_name(g);
		if (!e->bad)
			emit(d, depth, "key_share", g, k.p, k.n, "%s (0x%04x), %zu-byte public key",
			    gn ? gn : "?", g, k.n);
		return;
	}
	/* ClientHello: a list of (group, key) entries; the summary line first, then each. */
	l = rd_sub(e, rd_u(e, 2));
	{
		struct rd peek = l;

		peek.d = NULL;
		while (!peek.bad && peek.n >= 4) {
			g = rd_u(&peek, 2);
			(void)rd_sub(&peek, rd_u(&peek, 2));
			cat_name(v, sizeof(v), dissect_group_name(g), g, 4);
		}
	}
	if (e->bad)
		return;
	emit(d, depth, "key_share", 51, NULL, 0, "%s", v[0] ? v : "none (ask me: "
	    "HelloRetryRequest)");
	while (!l.bad && l.n > 0) {
		g = rd_u(&l, 2);
		k = rd_sub(&l, rd_u(&l, 2));
		if (l.bad)
			break;
		gn = dissect_group_name(g);
		emit(d, depth + 1, "share", g, k.p, k.n, "%s (0x%04x), %zu-byte public key",
		    gn ? gn : "?", g, k.n);
	}
}

static void
ext_server_name(struct dx *d, struct rd *e, int depth)
{
	struct rd l, h;
	unsigned t;
	char v[512] = "";

	if (e->n == 0) {
		emit(d, depth, "server_name", 0, NULL, 0, TR("(empty: the server used the name)",
		    "（空：服务器用了这个名字）"));
		return;
	}
	l = rd_sub(e, rd_u(e, 2));
	while (!l.bad && l.n > 0) {
		t = rd_u(&l, 1);
		h = rd_sub(&l, rd_u(&l, 2));
		if (l.bad)
			break;
		if (v[0])
			cat(v, sizeof(v), ", ");
		if (t != 0)
			cat(v, sizeof(v), "type %u: ", t);
		cat_safe(v, sizeof(v), h.p, h.n);
	}
	if (!e->bad)
		emit(d, depth, "server_name", 0, NULL, 0, "%s", v);
}

static void
ext_alpn(struct dx *d, struct rd *e, int depth)
{
	struct rd l = rd_sub(e, rd_u(e, 2)), p;
	char v[512] = "";

	while (!l.bad && l.n > 0) {
		p = rd_sub(&l, rd_u(&l, 1));
		if (l.bad)
			break;
		if (v[0])
			cat(v, sizeof(v), ", ");
		cat_safe(v, sizeof(v), p.p, p.n);
	}
	if (!e->bad)
		emit(d, depth, "application_layer_protocol_negotiation", 16, NULL, 0, "%s", v);
}

static void
ext_one(struct dx *d, unsigned type, struct rd *e, enum where w, int depth)
{
	char v[1024] = "";
	const char *name = dissect_ext_name(type);
	size_t n = e->n;
	unsigned x;
	struct rd l;

	switch (type) {
	case 0:
		ext_server_name(d, e, depth);
		return;
	case 10:	/* supported_groups */
		id_list(d, e, 2, dissect_group_name, v, sizeof(v));
		break;
	case 11:	/* ec_point_formats */
		l = rd_sub(e, rd_u(e, 1));
		while (!l.bad && l.n > 0) {
			x = rd_u(&l, 1);
			cat(v, sizeof(v), "%s%s", v[0] ? ", " : "", x == 0 ? "uncompressed" :
			    x == 1 ? "ansiX962_compressed_prime" : x == 2 ?
			    "ansiX962_compressed_char2" : "?");
		}
		break;
	case 13: case 50:	/* signature_algorithms(_cert) */
		id_list(d, e, 2, dissect_sigalg_name, v, sizeof(v));
		break;
	case 16:
		ext_alpn(d, e, depth);
		return;
	case 43:	/* supported_versions: a list offered, one picked */
		if (w == W_CH) {
			id_list(d, e, 1, dissect_version_name, v, sizeof(v));
			break;
		}
		x = rd_u(e, 2);
		if (!e->bad)
			emit(d, depth, "supported_versions", x, NULL, 0, "%s (0x%04x)",
			    dissect_version_name(x) ? dissect_version_name(x) : "?", x);
		goto rest;
	case 45:	/* psk_key_exchange_modes */
		l = rd_sub(e, rd_u(e, 1));
		while (!l.bad && l.n > 0) {
			x = rd_u(&l, 1);
			cat(v, sizeof(v), "%s%s", v[0] ? ", " : "", x == 0 ? "psk_ke" : x == 1 ?
			    "psk_dhe_ke" : "?");
		}
		break;
	case 51:
		ext_key_share(d, e, w, depth);
		goto rest;
	case 28:	/* record_size_limit */
		x = rd_u(e, 2);
		snprintf(v, sizeof(v), "%u bytes", x);
		break;
	case 21:	/* padding */
		snprintf(v, sizeof(v), TR("%zu bytes (zeros, to round the hello's size)",
		    "%zu 字节（全零，用来凑整 hello 的长度）"), n);
		e->n = 0;
		break;
	case 41:	/* pre_shared_key */
		if (w == W_SH) {
			x = rd_u(e, 2);
			snprintf(v, sizeof(v), TR("the server accepts identity %u (resumption)",
			    "服务器接受身份 %u（会话恢复）"), x);
		} else {
			snprintf(v, sizeof(v), "%zu bytes: identities (session tickets) and binders",
			    n);
			e->n = 0;
		}
		break;
	case 44:	/* cookie */
		l = rd_sub(e, rd_u(e, 2));
		if (!e->bad)
			emit(d, depth, "cookie", 44, l.p, l.n, "%zu bytes", l.n);
		goto rest;
	default:
		if (n == 0)
			snprintf(v, sizeof(v), "(empty)");
		else
			snprintf(v, sizeof(v), "%zu byte%s", n, plural(n));
		if (n > 0) {
			emit(d, depth, name ? name : "extension", type, e->p, n, "%s%s", name ? "" :
			    "unknown, ", v);
			e->n = 0;
			return;
		}
		break;
	}
	if (e->bad)
		return;
	emit(d, depth, name ? name : "extension", type, NULL, 0, "%s", v[0] ? v : "(empty)");
rest:
	if (!e->bad && e->n > 0)
		emit(d, depth + 1, "undecoded", -1, e->p, e->n, TR("%zu more byte%s in this extension",
		    "这个扩展中还有 %zu 字节%s"),
		    e->n, plural(e->n));
}

/* An extensions block: 2-byte length, then (type, 2-byte length, data) entries. */
static void
extensions(struct dx *d, struct rd *r, enum where w, int depth)
{
	struct rd ext = rd_sub(r, rd_u(r, 2)), e, peek;
	unsigned type, count = 0;

	if (r->bad)
		return;
	peek = ext;
	peek.d = NULL;
	while (!peek.bad && peek.n >= 4) {
		(void)rd_u(&peek, 2);
		(void)rd_sub(&peek, rd_u(&peek, 2));
		count++;
	}
	emit(d, depth, "extensions", -1, NULL, 0, "%u extension%s, %zu bytes", count,
	    count == 1 ? "" : "s", ext.n);
	while (!ext.bad && ext.n > 0) {
		type = rd_u(&ext, 2);
		e = rd_sub(&ext, rd_u(&ext, 2));
		if (ext.bad)
			break;
		ext_one(d, type, &e, w, depth + 1);
	}
}

/* ---- messages ---- */

/* Whether a hello's supported_versions offers (ClientHello) or picks (ServerHello) TLS 1.3:
 * only then is legacy_version frozen and the ClientHello's session_id a dummy. r: the hello
 * from legacy_version on; read from a copy that emits nothing. */
static int
hello_tls13(const struct rd *r, int client)
{
	struct rd h = *r, ext, e, l;
	unsigned type;

	h.d = NULL;
	(void)rd_u(&h, 2);
	(void)rd_sub(&h, 32);
	(void)rd_sub(&h, rd_u(&h, 1));
	if (client) {
		(void)rd_sub(&h, rd_u(&h, 2));
		(void)rd_sub(&h, rd_u(&h, 1));
	} else
		(void)rd_sub(&h, 3);
	if (h.bad || h.n == 0)
		return 0;
	ext = rd_sub(&h, rd_u(&h, 2));
	while (!ext.bad && ext.n >= 4) {
		type = rd_u(&ext, 2);
		e = rd_sub(&ext, rd_u(&ext, 2));
		if (ext.bad || type != 43)
			continue;
		if (!client)
			return rd_u(&e, 2) == 0x0304 && !e.bad;
		l = rd_sub(&e, rd_u(&e, 1));
		while (!l.bad && l.n >= 2)
			if (rd_u(&l, 2) == 0x0304)
				return 1;
		return 0;
	}
	return 0;
}

/* RFC 8446 4.1.3: a TLS 1.3-capable server that negotiates an older version ends its
 * random with "DOWNGRD" and 01 (for TLS 1.2) or 00 (for 1.1 and below). */
static const char *
downgrade_sentinel(const unsigned char *random)
{
	static const unsigned char dg[7] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44 };

	if (memcmp(random + 24, dg, sizeof(dg)) != 0)
		return NULL;
	if (random[31] == 0x01)
		return TR("32 bytes, ending in the downgrade sentinel 44 4F 57 4E 47 52 44 01 "
		    "(\"DOWNGRD\\x01\"): a TLS 1.3-capable server negotiating TLS 1.2 "
		    "(RFC 8446 4.1.3)",
		    "32 字节，以降级哨兵 44 4F 57 4E 47 52 44 01 结尾（\"DOWNGRD\\x01\"）：支持 "
		    "TLS 1.3 的服务器正在协商 TLS 1.2（RFC 8446 4.1.3）");
	if (random[31] == 0x00)
		return TR("32 bytes, ending in the downgrade sentinel 44 4F 57 4E 47 52 44 00 "
		    "(\"DOWNGRD\\x00\"): a TLS 1.2- or 1.3-capable server negotiating TLS 1.1 or "
		    "below (RFC 8446 4.1.3)",
		    "32 字节，以降级哨兵 44 4F 57 4E 47 52 44 00 结尾（\"DOWNGRD\\x00\"）：支持 "
		    "TLS 1.2 或 1.3 的服务器正在协商 TLS 1.1 或更早的版本（RFC 8446 4.1.3）");
	return NULL;
}

static void
hello(struct dx *d, struct rd *r, int client)
{
	unsigned v, id, i, n;
	struct rd sid, cs, cm;
	int hrr, tls13 = hello_tls13(r, client);
	const char *name, *dg = NULL;

	v = rd_u(r, 2);
	if (r->bad)
		return;
	emit(d, 0, "legacy_version", v, NULL, 0, "%s (0x%04x)%s", dissect_version_name(v) ?
	    dissect_version_name(v) : "?", v, v == 0x0303 && tls13 ? ", frozen: TLS 1.3 uses "
	    "supported_versions" : "");
	if (r->n < 32) {
		rd_fail(r);
		return;
	}
	hrr = !client && memcmp(r->p, hrr_random, 32) == 0;
	if (!client && !hrr && !tls13)
		dg = downgrade_sentinel(r->p);
	emit(d, 0, "random", -1, r->p, 32, "%s", hrr ? TR("HelloRetryRequest: the fixed value "
	    "SHA-256(\"HelloRetryRequest\"), not a random",
	    "HelloRetryRequest：固定值 SHA-256(\"HelloRetryRequest\")，不是随机"
	    "数") : dg ? dg : "32 bytes");
	(void)rd_sub(r, 32);
	sid = rd_sub(r, rd_u(r, 1));
	if (r->bad)
		return;
	/* TLS 1.2 (RFC 5077): a client resuming with a ticket sends a session id of its own
	 * choosing, and the server echoes it to say it accepted the ticket. */
	emit(d, 0, "session_id", -1, sid.p, sid.n, "%zu bytes%s", sid.n, sid.n == 0 ? "" :
	    client && tls13 ? TR(" (a TLS 1.3 hello: a middlebox-compatibility dummy, or a TLS 1.2 "
	    "session to resume)",
	    "（TLS 1.3 的 hello：为兼容中间设备而填的空壳，或者一个想恢复的 TLS 1.2 会话）") :
	    client ? TR(" (TLS 1.2: a session to resume, or with a ticket an id the server echoes "
	    "if it accepts the ticket)",
	    "（TLS 1.2：一个想恢复的会话；如果带了票据，则是服务器接受票据时会回送的 id）") : "");
	if (client) {
		cs = rd_sub(r, rd_u(r, 2));
		if (r->bad)
			return;
		n = (unsigned)(cs.n / 2);
		emit(d, 0, "cipher_suites", -1, NULL, 0, "%u suite%s", n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++) {
			id = rd_u(&cs, 2);
			name = dissect_suite_name(id);
			emit(d, 1, "cipher_suite", id, NULL, 0, "%s (0x%04x)", name ? name : "?", id);
		}
		if (cs.n != 0)
			rd_fail(&cs);	/* an odd length */
		cm = rd_sub(r, rd_u(r, 1));
		if (r->bad)
			return;
		emit(d, 0, "compression_methods", -1, NULL, 0, "%s", cm.n == 1 && cm.p[0] == 0 ?
		    TR("null (none: compression is off since CRIME)",
		        "null（无：CRIME 攻击之后压缩一律关闭）") : "other than null");
	} else {
		id = rd_u(r, 2);
		n = rd_u(r, 1);
		if (r->bad)
			return;
		name = dissect_suite_name(id);
		emit(d, 0, "cipher_suite", id, NULL, 0, "%s (0x%04x)", name ? name : "?", id);
		emit(d, 0, "compression_method", n, NULL, 0, "%s", n == 0 ? "null" : "?");
	}
	if (r->n == 0)
		return;		/* TLS 1.2 allows a hello without extensions */
	extensions(d, r, client ? W_CH : hrr ? W_HRR : W_SH, 0);
}

/* The subject, issuer and key of one DER certificate, in words. */
static void
cert_words(const unsigned char *der, size_t n, char *v, size_t vlen)
{
	const unsigned char *p = der;
	X509 *x;
	BIO *b;
	char name[300];
	int k, i;
	EVP_PKEY *pk;

	/* A peer's garbage must not leave errors in OpenSSL's queue for the handshake to
	 * report as its own. */
	ERR_set_mark();
	x = n <= 65536 ? d2i_X509(NULL, &p, (long)n) : NULL;
	ERR_pop_to_mark();
	if (x == NULL) {
		snprintf(v, vlen, TR("%zu bytes, not a certificate OpenSSL can read",
		    "%zu 字节，不是 OpenSSL 能读的证书"), n);
		return;
	}
	v[0] = '\0';
	for (i = 0; i < 2; i++) {
		name[0] = '\0';
		if ((b = BIO_new(BIO_s_mem())) != NULL) {
			X509_NAME_print_ex(b, i == 0 ? X509_get_subject_name(x) :
			    X509_get_issuer_name(x), 0, XN_FLAG_RFC2253);
			k = BIO_read(b, name, (int)sizeof(name) - 1);
			name[k > 0 ? k : 0] = '\0';
			BIO_free(b);
		}
		cat(v, vlen, "%s", i == 0 ? "" : ", issued by ");
		cat_safe(v, vlen, (const unsigned char *)name, strlen(name));
	}
	if ((pk = X509_get0_pubkey(x)) != NULL)
		cat(v, vlen, "; key %s %d bits", EVP_PKEY_get0_type_name(pk) ?
		    EVP_PKEY_get0_type_name(pk) : "?", EVP_PKEY_get_bits(pk));
	cat(v, vlen, "; %zu bytes", n);
	X509_free(x);
}

static void
certificate(struct dx *d, struct rd *r)
{
	int tls13 = d->ctx->version == 0x0304;
	struct rd ctxr, list, peek, cert, ext;
	unsigned count = 0, i = 0;
	char v[1024];

	if (tls13) {
		ctxr = rd_sub(r, rd_u(r, 1));
		if (r->bad)
			return;
		emit(d, 0, "request_context", -1, ctxr.p, ctxr.n, "%zu bytes%s", ctxr.n,
		    ctxr.n == 0 ? TR(" (empty: part of the handshake, not a post-handshake request)",
		        "（空：属于握手，不是握手之后的请求）") :
		    "");
	}
	list = rd_sub(r, rd_u(r, 3));
	if (r->bad)
		return;
	peek = list;
	peek.d = NULL;
	while (!peek.bad && peek.n >= 3) {
		(void)rd_sub(&peek, rd_u(&peek, 3));
		if (tls13)
			(void)rd_sub(&peek, rd_u(&peek, 2));
		count++;
	}
	emit(d, 0, "certificate_list", -1, NULL, 0, TR("%u certificate%s, %zu bytes%s",
	    "%u 张证书%s，%zu 字节%s"), count, plural(count), list.n, tls13 ? TR(" (TLS 1.3 format: each with extensions)",
	        "（TLS 1.3 格式：每张证书带扩展）") :
	    TR(" (TLS 1.2 format)",
	        "（TLS 1.2 格式）"));
	while (!list.bad && list.n > 0) {
		cert = rd_sub(&list, rd_u(&list, 3));
		if (list.bad)
			break;
		cert_words(cert.p, cert.n, v, sizeof(v));
		emit(d, 1, "certificate", i++, NULL, 0, "%s", v);
		if (tls13) {
			ext = rd_sub(&list, rd_u(&list, 2));
			if (!list.bad && ext.n > 0)
				emit(d, 2, "extensions", -1, ext.p, ext.n, "%zu bytes (e.g. OCSP "
				    "status, SCTs)", ext.n);
		}
	}
}

static void
signature(struct dx *d, struct rd *r, int depth)
{
	unsigned alg = rd_u(r, 2);
	struct rd sig = rd_sub(r, rd_u(r, 2));
	const char *an = dissect_sigalg_name(alg);

	if (r->bad)
		return;
	emit(d, depth, "signature_algorithm", alg, NULL, 0, "%s (0x%04x)", an ? an : "?", alg);
	emit(d, depth, "signature", -1, sig.p, sig.n, "%zu bytes", sig.n);
}

static void
server_key_exchange(struct dx *d, struct rd *r)
{
	unsigned ct, g;
	struct rd k;
	const char *gn;
	static const char *const dh[] = { "dh_p", "dh_g", "dh_Ys" };
	int i;

	if (d->ctx->kx == DISSECT_KX_DHE) {
		for (i = 0; i < 3; i++) {
			k = rd_sub(r, rd_u(r, 2));
			if (r->bad)
				return;
			emit(d, 0, dh[i], -1, k.p, k.n, "%zu bytes%s", k.n, i == 0 ? " (the "
			    "prime)" : i == 1 ? " (the generator)" : " (the server's public value)");
		}
		signature(d, r, 0);
		return;
	}
	if (r->n == 0 || r->p[0] != 3) {
		emit(d, 0, "params", -1, r->p, r->n, TR("%zu bytes (not ECDHE with a named curve)",
		    "%zu 字节（不是使用命名曲线的 ECDHE）"),
		    r->n);
		r->n = 0;
		return;
	}
	ct = rd_u(r, 1);
	g = rd_u(r, 2);
	k = rd_sub(r, rd_u(r, 1));
	if (r->bad)
		return;
	gn = dissect_group_name(g);
	emit(d, 0, "curve_type", ct, NULL, 0, "named_curve (3)");
	emit(d, 0, "named_curve", g, NULL, 0, "%s (0x%04x)", gn ? gn : "?", g);
	emit(d, 0, "public_key", -1, k.p, k.n, TR("%zu bytes: the server's ephemeral public key",
	    "%zu 字节：服务器的临时公钥"),
	    k.n);
	signature(d, r, 0);
}

static void
client_key_exchange(struct dx *d, struct rd *r)
{
	struct rd k;

	if (d->ctx->kx == DISSECT_KX_RSA || d->ctx->kx == DISSECT_KX_DHE) {
		k = rd_sub(r, rd_u(r, 2));
		if (!r->bad)
			emit(d, 0, d->ctx->kx == DISSECT_KX_RSA ? "encrypted_pre_master_secret" :
			    "dh_Yc", -1, k.p, k.n, "%zu bytes%s", k.n, d->ctx->kx == DISSECT_KX_RSA ?
			    TR(" (the 48-byte secret, encrypted with the server's RSA key)",
			        "（48 字节的预主密钥，用服务器的 RSA 公钥加密）") : "");
		return;
	}
	k = rd_sub(r, rd_u(r, 1));
	if (!r->bad)
		emit(d, 0, "public_key", -1, k.p, k.n, TR("%zu bytes: the client's ephemeral public "
		    "key",
		    "%zu 字节：客户端的临时公钥"), k.n);
}

static void
new_session_ticket(struct dx *d, struct rd *r)
{
	unsigned life = rd_u(r, 4), add = 0;
	struct rd nonce, ticket;
	int tls13 = d->ctx->version == 0x0304;

	if (tls13) {
		add = rd_u(r, 4);
		nonce = rd_sub(r, rd_u(r, 1));
		(void)nonce;
	}
	ticket = rd_sub(r, rd_u(r, 2));
	if (r->bad)
		return;
	emit(d, 0, "ticket_lifetime", life, NULL, 0, "%u s", life);
	if (tls13)
		emit(d, 0, "ticket_age_add", add, NULL, 0, "%u", add);
	emit(d, 0, "ticket", -1, NULL, 0, TR("%zu bytes (opaque: the session state, encrypted "
	    "with the server's ticket key)",
	    "%zu 字节（不透明：会话状态，用服务器的票据密钥加密）"), ticket.n);
	if (tls13)
		extensions(d, r, W_NST, 0);
}

static void
certificate_request(struct dx *d, struct rd *r)
{
	struct rd c;

	if (d->ctx->version != 0x0304) {
		emit(d, 0, "body", -1, NULL, 0, "%zu bytes (certificate types, signature "
		    "algorithms, CA names)", r->n);
		r->n = 0;
		return;
	}
	c = rd_sub(r, rd_u(r, 1));
	if (r->bad)
		return;
	emit(d, 0, "request_context", -1, c.p, c.n, "%zu bytes", c.n);
	extensions(d, r, W_CR, 0);
}

/* Decode one handshake message (4-byte header first). Calls cb once per field, in order.
 * Returns 0 if every byte was accounted for, -1 if the message is truncated or malformed
 * (the last item is then an "error"). */
int
dissect_message(const unsigned char *msg, size_t len, const struct dissect_ctx *ctx,
    dissect_cb cb, void *arg)
{
	static const struct dissect_ctx none = { 0, DISSECT_KX_UNKNOWN };
	struct dx d = { msg, len, ctx ? ctx : &none, cb, arg, 0, 0 };
	struct rd top = { msg, msg ? len : 0, 0, &d }, r;
	unsigned type, blen;

	type = rd_u(&top, 1);
	blen = rd_u(&top, 3);
	if (top.bad) {
		emit(&d, 0, "error", -1, NULL, 0, TR("truncated: %zu bytes, a handshake header "
		    "has 4",
		    "被截断：%zu 字节，而握手消息头有 4 字节"), len);
		return -1;
	}
	if (blen != top.n) {
		emit(&d, 0, "error", -1, NULL, 0, TR("the header says %u bytes follow, %zu do",
		    "消息头说后面有 %u 字节，实际有 %zu 字节"), blen,
		    top.n);
		return -1;
	}
	r = rd_sub(&top, blen);
	switch (type) {
	case 1:  hello(&d, &r, 1); break;
	case 2:  hello(&d, &r, 0); break;
	case 4:  new_session_ticket(&d, &r); break;
	case 8:  extensions(&d, &r, W_EE, 0); break;
	case 11: certificate(&d, &r); break;
	case 12: server_key_exchange(&d, &r); break;
	case 13: certificate_request(&d, &r); break;
	case 15: signature(&d, &r, 0); break;
	case 16: client_key_exchange(&d, &r); break;
	case 20:
		emit(&d, 0, "verify_data", -1, r.p, r.n, TR("%zu bytes: a MAC over the whole "
		    "handshake",
		    "%zu 字节：对整个握手计算的 MAC"), r.n);
		r.n = 0;
		break;
	default:
		if (r.n > 0)
			emit(&d, 0, "body", -1, NULL, 0, "%zu bytes", r.n);
		else
			emit(&d, 0, "body", -1, NULL, 0, "(empty)");
		r.n = 0;
		break;
	}
	if (d.bad) {
		emit(&d, 0, "error", -1, NULL, 0, TR("malformed: a length at byte %zu runs past its "
		    "end; decoding stops there",
		    "格式错误：第 %zu 字节处的长度超出了结尾；解码到此为止"), d.bad_at);
		return -1;
	}
	if (r.n > 0) {
		emit(&d, 0, "error", -1, r.p, r.n, TR("%zu trailing byte%s not decoded",
		    "末尾 %zu 字节%s没有解码"), r.n,
		    plural(r.n));
		return -1;
	}
	return 0;
}
