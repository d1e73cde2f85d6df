/* tls.c -- SSL_CTX set-up for either side, and TLS in words: version, message, alert, group
 * and certificate-error names, hello summaries, certificate details; the callbacks that turn
 * a handshake into events are tls_log.c's. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "dissect.h"
#include "evlog.h"
#include "tls.h"

/* ---- names (pure) ---- */

int
tls_parse_version(const char *s)
{
	if (strncasecmp(s, "TLSv", 4) == 0)
		s += 4;
	if (strcmp(s, "1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "1.3") == 0)
		return TLS1_3_VERSION;
	return -1;
}

const char *
tls_version_name(int v)
{
	switch (v) {
	case TLS1_VERSION:	return "TLSv1.0";
	case TLS1_1_VERSION:	return "TLSv1.1";
	case TLS1_2_VERSION:	return "TLSv1.2";
	case TLS1_3_VERSION:	return "TLSv1.3";
	default:		return "?";
	}
}

/* The name of a handshake message; msg is the whole message (4-byte header first). */
const char *
tls_handshake_name(int type, const unsigned char *msg, size_t len)
{
	switch (type) {
	case 0:  return "HelloRequest";
	case 1:  return "ClientHello";
	case 2:
		/* ServerHello and HelloRetryRequest share type 2: an HRR has a fixed "random". */
		if (dissect_is_hrr(msg, len))
			return "HelloRetryRequest";
		return "ServerHello";
	case 4:  return "NewSessionTicket";
	case 5:  return "EndOfEarlyData";
	case 8:  return "EncryptedExtensions";
	case 11: return "Certificate";
	case 12: return "ServerKeyExchange";
	case 13: return "CertificateRequest";
	case 14: return "ServerHelloDone";
	case 15: return "CertificateVerify";
	case 16: return "ClientKeyExchange";
	case 20: return "Finished";
	case 22: return "CertificateStatus";
	case 24: return "KeyUpdate";
	case 254: return "MessageHash";
	default: return "Unknown";
	}
}

const char *
tls_alert_name(int desc)
{
	switch (desc) {
	/* RFC 8446 6 and RFC 5246 7.2 (with RFC 6066, 7301, 7507): every alert they define,
	 * by its TLS 1.2 name where TLS 1.3 keeps it only as _RESERVED. */
	case 0:   return "close_notify";
	case 10:  return "unexpected_message";
	case 20:  return "bad_record_mac";
	case 21:  return "decryption_failed";
	case 22:  return "record_overflow";
	case 30:  return "decompression_failure";
	case 40:  return "handshake_failure";
	case 41:  return "no_certificate";
	case 42:  return "bad_certificate";
	case 43:  return "unsupported_certificate";
	case 44:  return "certificate_revoked";
	case 45:  return "certificate_expired";
	case 46:  return "certificate_unknown";
	case 47:  return "illegal_parameter";
	case 48:  return "unknown_ca";
	case 49:  return "access_denied";
	case 50:  return "decode_error";
	case 51:  return "decrypt_error";
	case 60:  return "export_restriction";
	case 70:  return "protocol_version";
	case 71:  return "insufficient_security";
	case 80:  return "internal_error";
	case 86:  return "inappropriate_fallback";
	case 90:  return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default:  return "unknown_alert";
	}
}

/* Plain words for a certificate verification error. */
const char *
tls_verify_plain(int e)
{
	switch (e) {
	case X509_V_OK:
		return "ok";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return TR("the certificate is self-signed: it vouches for itself, and nobody you trust "
		    "vouches for it",
		    "证书是自签名的：它为自己担保，而没有任何你信任的机构为它担保");
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return TR("the chain ends in a root certificate that you do not trust",
		    "证书链的末端是一张你不信任的根证书");
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return TR("the issuer of this certificate is not in your trust store (unknown CA)",
		    "这张证书的签发者不在你的信任库中（未知的 CA）");
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return TR("the chain cannot be completed up to a trusted root",
		    "证书链无法一直连到受信任的根证书");
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return TR("the certificate has expired",
		    "证书已过期");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TR("the certificate is not valid yet (check your clock)",
		    "证书尚未生效（请检查系统时钟）");
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return TR("the name you asked for is not among the names in the certificate",
		    "你访问的域名不在证书列出的名字中");
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TR("the IP address you asked for is not in the certificate",
		    "你访问的 IP 地址不在证书中");
	case X509_V_ERR_PERMITTED_VIOLATION:
		return TR("the issuing CA is not allowed to vouch for this name (name constraints)",
		    "签发证书的 CA 无权为这个名字担保（名称约束）");
	case X509_V_ERR_INVALID_PURPOSE:
		return TR("the certificate is not meant for TLS servers (wrong key usage)",
		    "这张证书不是给 TLS 服务器用的（密钥用途不对）");
	case X509_V_ERR_CERT_REVOKED:
		return TR("the issuer has revoked the certificate",
		    "签发者已吊销这张证书");
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return TR("too many intermediate CAs for the root's path length limit",
		    "中间 CA 太多，超过了根证书的路径长度限制");
	case X509_V_ERR_EE_KEY_TOO_SMALL:
		return TR("the certificate's key is too weak",
		    "证书的密钥强度太弱");
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return TR("the certificate is signed with a weak hash (e.g. SHA-1)",
		    "证书使用了弱哈希算法签名（例如 SHA-1）");
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return TR("revocation cannot be checked: no CRL from this certificate's issuer",
		    "无法检查吊销状态：没有这张证书签发者的 CRL");
	default:
		return TR("the certificate could not be verified",
		    "无法校验这张证书");
	}
}

/* ---- files and contexts ---- */

static int
check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, TR("cannot read %s '%s': %s%s",
		    "无法读取%s '%s'：%s%s"), what, path, strerror(errno),
		    errno == ENOENT ? TR(" (run 'make certs' to create the demo certificates)",
		        "（运行 'make certs' 生成演示用的证书）") : "");
		return -1;
	}
	fclose(fp);
	return 0;
}

static void
ssl_err_text(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : TR("unknown error", "未知错误"));
	ERR_clear_error();
}

static int
common_setup(SSL_CTX *ctx, const struct tls_opts *o, char *err, size_t errlen)
{
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (o->min_version && !SSL_CTX_set_min_proto_version(ctx, o->min_version)) {
		snprintf(err, errlen, TR("cannot set the lowest TLS version",
		    "无法设置最低 TLS 版本"));
		return -1;
	}
	if (o->max_version && !SSL_CTX_set_max_proto_version(ctx, o->max_version)) {
		snprintf(err, errlen, TR("cannot set the highest TLS version",
		    "无法设置最高 TLS 版本"));
		return -1;
	}
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers) &&
	    !SSL_CTX_set_ciphersuites(ctx, o->ciphers)) {
		snprintf(err, errlen, TR("no usable cipher in '%s' (see 'openssl ciphers -v')",
		    "'%s' 中没有可用的密码套件（见 'openssl ciphers -v'）"),
		    o->ciphers);
		return -1;
	}
	/* The client sends a key share only for the first group of its list: a server that
	 * accepts only a later one answers with a HelloRetryRequest. */
	if (o->groups != NULL && SSL_CTX_set1_groups_list(ctx, o->groups) != 1) {
		ERR_clear_error();
		tls_check_groups(o->groups, err, errlen);
		return -1;
	}
	/* The log's callbacks, --dissect and the key log file. */
	return tls_log_setup(ctx, o, err, errlen);
}

/* ALPN (RFC 7301), server side: the client lists the application protocols it speaks in its
 * ClientHello; we pick the first of ours (arg: "http/1.1", ',' between) that it offers, or
 * none. Logs what was offered and what was chosen. */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	const char *ours = arg, *p, *e;
	const unsigned char *chosen = NULL, *q;
	char offered[256] = "";
	struct conn *c = tls_conn(ssl);
	struct evrec r;
	size_t l, n;
	int h2 = 0, tls13 = SSL_version(ssl) == TLS1_3_VERSION;

	/* The client's list, as sent: length-prefixed names (the peer's bytes: printable
	 * ASCII as it is, the rest as \xNN; what does not fit is left out). */
	for (q = in; q < in + inlen && q + 1 + *q <= in + inlen; q += 1 + *q) {
		h2 |= *q == 2 && memcmp(q + 1, "h2", 2) == 0;
		l = strlen(offered);
		if (l + 4 * (size_t)*q + 2 >= sizeof(offered))
			continue;
		if (l > 0)
			offered[l++] = ',';
		for (n = 0; n < *q; n++)
			l += (size_t)snprintf(offered + l, sizeof(offered) - l, q[1 + n] > 0x20 &&
			    q[1 + n] < 0x7f && q[1 + n] != ',' && q[1 + n] != '\\' ? "%c" :
			    "\\x%02x", q[1 + n]);
		offered[l] = '\0';
	}
	/* Our preference decides (as nginx's): the first of ours the client offers too. */
	for (p = ours; chosen == NULL && *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		for (q = in; q < in + inlen && q + 1 + *q <= in + inlen; q += 1 + *q)
			if (*q == n && memcmp(q + 1, p, n) == 0) {
				chosen = q;
				break;
			}
	}
	if (c != NULL && evrec_begin(&r, EVT_ALPN, c->id, c->fd)) {
		evrec_str(&r, "offered", offered);
		if (chosen != NULL)
			evrec_strf(&r, "chosen", "%.*s", (int)*chosen, (const char *)chosen + 1);
		else
			evrec_str(&r, "chosen", "");
		if (chosen != NULL)
			evrec_detail(&r, TR("the client offers %s; we choose %.*s",
			    "客户端提出 %s；我们选择 %.*s"), offered,
			    (int)*chosen, (const char *)chosen + 1);
		else
			evrec_detail(&r, TR("the client offers %s; we choose none",
			    "客户端提出 %s；我们一个也不选"), offered);
		if (chosen != NULL)
			evrec_gloss(&r, TR("ALPN: the client lists the application protocols it "
			    "speaks, the server picks one%s; it goes back in our %s",
			    "ALPN：客户端列出它会说的应用层协议，服务器选一个%s；选择结果放在我方"
			    "的 %s 里发回"), h2 ?
			    TR(" (h2 is HTTP/2, which this server does not speak)",
			        "（h2 是 HTTP/2，本服务器不支持）") : "", tls13 ?
			    TR("EncryptedExtensions (TLS 1.3: encrypted)",
			        "EncryptedExtensions（TLS 1.3：加密的"
			        "）") : TR("ServerHello (TLS 1.2: "
			    "in clear text)",
			    "ServerHello（TLS 1.2：明文）"));
		else
			evrec_gloss(&r, TR("ALPN: no protocol in common%s: we answer without ALPN, "
			    "so the client learns that none of its protocols was agreed (RFC 7301 "
			    "also lets a server refuse with the alert no_application_protocol, as "
			    "nginx does)",
			    "ALPN：没有共同的协议%s：我们的回答不带 ALPN，客户端由此知道它的协议一"
			    "个也没有商定（RFC 7301 也允许服务器用 no_application_protocol 警报拒绝"
			    "，nginx 就是这样做的"
			    "）"), h2 ? TR(" (h2 is HTTP/2, which this server does not "
			    "speak)",
			    "（h2 是 HTTP/2，本服务器不支持）") : "");
		evrec_emit(&r);
	}
	if (chosen == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	*out = chosen + 1;
	*outlen = *chosen;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
tls_ctx_server(const struct tls_opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (check_readable(TR("certificate", "证书"), o->cert, err, errlen) == -1 ||
	    check_readable(TR("private key", "私钥"), o->key, err, errlen) == -1)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, TR("cannot create a TLS context", "无法创建 TLS 上下文"));
		return NULL;
	}
	/* The gallery's RSA-1024 and SHA-1 certificates do not even load at the default
	 * level 2: the server lowers its own level so clients can judge them. */
	if (o->weak_ok)
		SSL_CTX_set_security_level(ctx, 0);
	/* An idle keep-alive connection gives its 2 x 17 KB record buffers back (nginx does
	 * the same); they are allocated again when the next record comes. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		char why[128];
		ssl_err_text(why, sizeof(why));
		snprintf(err, errlen, TR("cannot load certificate '%s': %s (is it a PEM certificate?)",
		    "无法加载证书 '%s'：%s（它是 PEM 格式的证书吗？）"),
		    o->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1) {
		char why[128];
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(err, errlen, TR("the private key '%s' does not match the certificate "
			    "'%s' (pass the key made together with that certificate)",
			    "私钥 '%s' 与证书 '%s' 不匹配（请使用和那张证书一起生成的私钥"
			    "）"), o->key,
			    o->cert);
			goto fail;
		}
		ssl_err_text(why, sizeof(why));
		snprintf(err, errlen, TR("cannot load private key '%s': %s (is it a PEM key?)",
		    "无法加载私钥 '%s'：%s（它是 PEM 格式的私钥吗？）"),
		    o->key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, TR("the private key '%s' does not match the certificate '%s' "
		    "(pass the key made together with that certificate)",
		    "私钥 '%s' 与证书 '%s' 不匹配（请使用和那张证书一起生成的私钥"
		    "）"), o->key, o->cert);
		goto fail;
	}
	if (common_setup(ctx, o, err, errlen) == -1)
		goto fail;
	/* Resumption (session tickets, on by default): a server that verifies clients refuses
	 * to resume without a session id context, so set one always. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"handshake-lab", 13);
	if (o->alpn != NULL)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, (void *)o->alpn);
	if (o->client_auth != TLS_CLIENT_AUTH_NONE) {
		STACK_OF(X509_NAME) *names;

		if (o->client_ca == NULL) {
			snprintf(err, errlen, TR("--client-auth needs --client-ca FILE (the CA that "
			    "signs client certificates, e.g. certs/out/ca.crt)",
			    "--client-auth 需要 --client-ca FILE（签发客户端证书的 CA，例如 "
			    "certs/out/ca.crt）"));
			goto fail;
		}
		if (check_readable(TR("client CA file", "客户端 CA 文"
		    "件"), o->client_ca, err, errlen) == -1)
			goto fail;
		if (SSL_CTX_load_verify_locations(ctx, o->client_ca, NULL) != 1 ||
		    (names = SSL_load_client_CA_file(o->client_ca)) == NULL) {
			char why[128];
			ssl_err_text(why, sizeof(why));
			snprintf(err, errlen, TR("cannot load client CA file '%s': %s",
			    "无法加载客户端 CA 文件 '%s'：%s"), o->client_ca,
			    why);
			goto fail;
		}
		/* CertificateRequest names these CAs; the client picks a certificate by them. */
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (o->client_auth ==
		    TLS_CLIENT_AUTH_REQUIRE ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    tls_server_verify_cb);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* A directory of CAs named by subject hash ("9d520b32.0": update-ca-certificates writes one
 * link per CA beside the bundle), which OpenSSL reads one file at a time, when a chain needs it. */
static int
hashed_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL)
		found = strlen(e->d_name) == 10 && strspn(e->d_name, "0123456789abcdef") == 8 &&
		    strcmp(e->d_name + 8, ".0") == 0;
	closedir(d);
	return found;
}

/* The system's CAs, as SSL_CTX_set_default_verify_paths() finds them, but read lazily: that call
 * parses the whole bundle (cert.pem, 150 CAs here) at start, 20-25 ms of every run, while the
 * hashed directory beside it gives OpenSSL the one CA a chain needs. SSL_CERT_FILE or
 * SSL_CERT_DIR set, or no hashed directory: OpenSSL's own way. */
static void
load_system_cas(SSL_CTX *ctx)
{
	const char *dir = X509_get_default_cert_dir();

	if (getenv(X509_get_default_cert_file_env()) == NULL &&
	    getenv(X509_get_default_cert_dir_env()) == NULL && hashed_dir(dir) &&
	    SSL_CTX_load_verify_dir(ctx, dir) == 1)
		return;
	SSL_CTX_set_default_verify_paths(ctx);
}

SSL_CTX *
tls_ctx_client(const struct tls_opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (o->cafile && check_readable(TR("CA file", "CA 文件"), o->cafile, err, errlen) == -1)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, TR("cannot create a TLS context", "无法创建 TLS 上下文"));
		return NULL;
	}
	/* Like a browser: trust the system's CAs; --cacert adds the demo CA beside them. */
	load_system_cas(ctx);
	ERR_clear_error();
	if (o->cafile && SSL_CTX_load_verify_locations(ctx, o->cafile, NULL) != 1) {
		char why[128];
		ssl_err_text(why, sizeof(why));
		snprintf(err, errlen, TR("cannot load CA file '%s': %s (is it a PEM certificate?)",
		    "无法加载 CA 文件 '%s'：%s（它是 PEM 格式的证书吗？）"),
		    o->cafile, why);
		goto fail;
	}
	if (o->crlfile != NULL) {
		X509_STORE *store = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lu;

		if (check_readable(TR("CRL file", "CRL 文件"), o->crlfile, err, errlen) == -1)
			goto fail;
		if ((lu = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL ||
		    X509_load_crl_file(lu, o->crlfile, X509_FILETYPE_PEM) <= 0) {
			char why[128];
			ssl_err_text(why, sizeof(why));
			snprintf(err, errlen, TR("cannot load CRL file '%s': %s (is it a PEM CRL?)",
			    "无法加载 CRL 文件 '%s'：%s（它是 PEM 格式的 CRL 吗？）"),
			    o->crlfile, why);
			goto fail;
		}
		/* Check the leaf against its issuer's CRL (curl --crlfile does the same). */
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	if (o->cert != NULL || o->key != NULL) {
		/* Our own certificate, for servers that ask (mutual TLS). */
		if (o->cert == NULL || o->key == NULL) {
			snprintf(err, errlen, TR("--cert and --key go together",
			    "--cert 和 --key 必须一起给出"));
			goto fail;
		}
		if (check_readable(TR("certificate", "证书"), o->cert, err, errlen) == -1 ||
		    check_readable(TR("private key", "私钥"), o->key, err, errlen) == -1)
			goto fail;
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			char why[128];
			ssl_err_text(why, sizeof(why));
			snprintf(err, errlen, TR("cannot use client certificate '%s' with key '%s': %s",
			    "无法使用客户端证书 '%s' 和私钥 '%s'：%s"),
			    o->cert, o->key, why);
			goto fail;
		}
	}
	if (common_setup(ctx, o, err, errlen) == -1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

void
tls_bind(SSL *ssl, struct conn *c)
{
	SSL_set_app_data(ssl, c);
}

struct conn *
tls_conn(const SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* ---- hello parsing: what the client offers and the server picks ---- */

/* What tls_hello_summary keeps of the dissected fields. */
struct hello_sum {
	int	 client, hrr, started, psk, grease, last_tls;
	unsigned legacy, ncs, picked;
	char	 versions[96], shares[64], sni[128];
};

static void
append(char *out, size_t outlen, const char *fmt, const char *s)
{
	size_t l = strlen(out);

	if (l < outlen)
		snprintf(out + l, outlen - l, fmt, s);
}

/* A ClientHello's supported_versions as dissected ("GREASE, TLS 1.3, TLS 1.2, TLS 1.1"):
 * every version it lists, in its order ("TLS 1.3, 1.2, 1.1"), GREASE counted apart. */
static void
offered_versions(struct hello_sum *h, const char *list)
{
	char tok[32];
	size_t n;

	while (*list != '\0') {
		n = strcspn(list, ",");
		snprintf(tok, sizeof(tok), "%.*s", (int)n, list);
		list += n;
		while (*list == ',' || *list == ' ')
			list++;
		if (strcmp(tok, "GREASE") == 0) {
			h->grease++;
			continue;
		}
		/* "TLS 1.3, 1.2": the name once for a run of TLS versions */
		if (strncmp(tok, "TLS ", 4) == 0 && h->last_tls)
			append(h->versions, sizeof(h->versions), ", %s", tok + 4);
		else
			append(h->versions, sizeof(h->versions), h->versions[0] ? ", %s" : "%s",
			    tok);
		h->last_tls = strncmp(tok, "TLS ", 4) == 0;
	}
}

static void
hello_sum_cb(const struct dissect_item *it, void *arg)
{
	struct hello_sum *h = arg;
	const char *gn;

	if (strcmp(it->field, "legacy_version") == 0)
		h->legacy = (unsigned)it->code;
	else if (strcmp(it->field, "random") == 0)
		h->hrr = !h->client && strncmp(it->value, "HelloRetryRequest", 17) == 0;
	else if (strcmp(it->field, "cipher_suite") == 0 && h->client)
		h->ncs++;
	else if (strncmp(it->field, "compression_method", 18) == 0)
		h->started = 1;		/* the fixed part is whole */
	else if (strcmp(it->field, "supported_versions") == 0 && !h->client)
		h->picked = (unsigned)it->code;
	else if (strcmp(it->field, "supported_versions") == 0)
		offered_versions(h, it->value);
	else if ((strcmp(it->field, "share") == 0 && h->client) ||
	    (strcmp(it->field, "key_share") == 0 && !h->client)) {
		gn = dissect_group_name((unsigned)it->code);
		append(h->shares, sizeof(h->shares), h->shares[0] ? ", %s" : "%s", gn ? gn : "?");
	} else if (strcmp(it->field, "pre_shared_key") == 0 ||
	    (strcmp(it->field, "session_ticket") == 0 && h->client && it->nbytes > 0)) {
		h->psk = 1;	/* pre_shared_key, or a TLS 1.2 session ticket being offered */
	} else if (strcmp(it->field, "server_name") == 0 && h->client &&
	    strlen(it->value) < sizeof(h->sni))	/* a longer name is left out, not cut */
		memcpy(h->sni, it->value, strlen(it->value) + 1);
}

/* Summarise a ClientHello, ServerHello or HelloRetryRequest (msg: the whole message, header
 * first) in plain words, from its dissection: a malformed message gives a partial summary. */
void
tls_hello_summary(const unsigned char *msg, size_t len, char *out, size_t outlen)
{
	struct hello_sum h;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (msg == NULL || len < 1 || (msg[0] != 1 && msg[0] != 2))
		return;
	memset(&h, 0, sizeof(h));
	h.client = msg[0] == 1;
	(void)dissect_message(msg, len, NULL, hello_sum_cb, &h);
	if (!h.started)
		return;
	if (h.client) {
		/* Without supported_versions, legacy_version is the highest version the client
		 * takes; the lowest is not sent. */
		if (h.versions[0])
			snprintf(out, outlen, "offers %s%s; %u cipher suite%s", h.versions,
			    h.grease ? " (and GREASE)" : "", h.ncs, h.ncs == 1 ? "" : "s");
		else if (h.legacy >= 0x0301 && h.legacy <= 0x0304)
			snprintf(out, outlen, "offers up to TLS 1.%u (legacy_version, no "
			    "supported_versions); %u cipher suite%s", h.legacy - 0x0301, h.ncs,
			    h.ncs == 1 ? "" : "s");
		else
			snprintf(out, outlen, "offers up to version 0x%04x (legacy_version, no "
			    "supported_versions); %u cipher suite%s", h.legacy, h.ncs,
			    h.ncs == 1 ? "" : "s");
		if (h.shares[0])
			append(out, outlen, "; key share %s", h.shares);
		if (h.sni[0])
			append(out, outlen, "; SNI %s", h.sni);
		if (h.psk)
			append(out, outlen, "; %s", "offers a session ticket to resume");
	} else if (h.hrr) {
		snprintf(out, outlen, "asks for a key share for %s", h.shares[0] ? h.shares : "?");
	} else {
		snprintf(out, outlen, "picks %s",
		    tls_version_name(h.picked ? (int)h.picked : (int)h.legacy));
		if (h.shares[0])
			append(out, outlen, "; key share %s", h.shares);
		if (h.psk)
			append(out, outlen, "; %s", "accepts the ticket (PSK): resumed");
	}
}

/* --groups: the list OpenSSL would accept, or a one-line reason. */
int
tls_check_groups(const char *list, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int ok;

	if (ctx == NULL) {
		snprintf(err, errlen, TR("cannot create a TLS context", "无法创建 TLS 上下文"));
		return -1;
	}
	ok = list[0] != '\0' && SSL_CTX_set1_groups_list(ctx, list) == 1;
	ERR_clear_error();
	SSL_CTX_free(ctx);
	if (!ok) {
		snprintf(err, errlen, TR("--groups: '%s' is not a list of key exchange groups "
		    "separated by ':' (e.g. X25519:P-256; known: X25519, X448, P-256, P-384, "
		    "P-521, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192)",
		    "--groups：'%s' 不是用 ':' 分隔的密钥交换组列表（例如 X25519:P-256；已知的有："
		    "X25519, X448, P-256, P-384, P-521, ffdhe2048, ffdhe3072, ffdhe4096, "
		    "ffdhe6144, ffdhe8192）"), list);
		return -1;
	}
	return 0;
}

/* ---- certificates and groups in words ---- */

static void
fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(buf, len, "?");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fmt_name(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k;

	buf[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	k = BIO_read(b, buf, (int)len - 1);
	buf[k > 0 ? k : 0] = '\0';
	BIO_free(b);
}

void
tls_cert_info(X509 *cert, struct tls_cert_info *ci)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;

	fmt_name(X509_get_subject_name(cert), ci->subject, sizeof(ci->subject));
	fmt_name(X509_get_issuer_name(cert), ci->issuer, sizeof(ci->issuer));
	fmt_time(X509_get0_notBefore(cert), ci->not_before, sizeof(ci->not_before));
	fmt_time(X509_get0_notAfter(cert), ci->not_after, sizeof(ci->not_after));
	ci->sha256[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &mdlen))
		for (i = 0; i < mdlen && i * 3 + 3 < sizeof(ci->sha256); i++)
			snprintf(ci->sha256 + i * 3, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
}

/* The negotiated key-exchange group in the names the log uses (X25519, P-256 ...); "" if none. */
const char *
tls_group_name(SSL *ssl)
{
	int nid = SSL_get_negotiated_group(ssl);
	const char *n;

	switch (nid) {
	case 0:				return "";
	case NID_X25519:		return "X25519";
	case NID_X448:			return "X448";
	case NID_X9_62_prime256v1:	return "P-256";
	case NID_secp384r1:		return "P-384";
	case NID_secp521r1:		return "P-521";
	}
	n = SSL_group_to_name(ssl, nid);
	return n ? n : "?";
}
