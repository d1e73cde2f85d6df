/* trust.c -- whether to trust the server: the verify callback, the name check, the decision
 * (logged as an event) and, like a browser, the warning: which certificate, what is wrong with
 * it, what it means and what the user can do, then the question. As a browser does, an
 * untrusted certificate is refused inside the handshake; on a terminal the question comes
 * once that connection is closed, and a yes makes a new connection that accepts exactly that
 * certificate (its SHA-256) for the rest of the run. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "conn.h"
#include "evlog.h"
#include "seglog.h"
#include "tcpinfo.h"
#include "tcpwatch.h"
#include "textwidth.h"
#include "tls.h"

static const char *
trust_advice(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return TR("Either the issuer is a CA you do not trust (then: --cacert FILE with "
		    "its certificate, if you trust it), or the server left out the intermediate "
		    "CA certificate it should send (then the site's owner must fix its chain). "
		    "--show-certs shows what was sent.", "要么签发者是你不信任的 CA（如果你信任它："
		    "用 --cacert FILE 给出它的证书），要么服务器漏发了应当发送的中间 CA 证书（那就"
		    "要网站的主人修好证书链）。--show-certs 显示服务器发来了什么。");
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return TR("Anyone can make a certificate like this one, including an attacker "
		    "between you and the server. If you know and trust whoever issued it, pass "
		    "their CA with --cacert FILE (this demo's CA: certs/out/ca.crt; a self-signed "
		    "certificate stays untrusted even then). -k proceeds once without the check.",
		    "任何人都能做出这样一张证书，包括你和服务器之间的攻击者。如果你认识并信任它的"
		    "签发者，用 --cacert FILE 给出其 CA（本演示的 CA：certs/out/ca.crt；自签名证书"
		    "即使这样也仍不受信任）。-k 跳过检查，继续这一次。");
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return TR("Check your computer's date and time; if they are right, the site's "
		    "owner must renew the certificate.", "检查你电脑的日期和时间；如果它们没错，"
		    "就要网站的主人更新证书。");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TR("Check your computer's date and time: the certificate starts later "
		    "than your clock says (a clock running behind, or a certificate issued too "
		    "early).", "检查你电脑的日期和时间：证书的生效时间晚于你的时钟（时钟慢了，或"
		    "证书签发得太早）。");
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TR("The name you typed is not in the certificate: this may be another "
		    "server. Use a name the certificate lists (--show-certs prints them).",
		    "你输入的名字不在证书里：这可能是另一台服务器。请使用证书里列出的名字"
		    "（--show-certs 会打印它们）。");
	case X509_V_ERR_PERMITTED_VIOLATION:
		return TR("This CA may only vouch for localhost and loopback addresses (its name "
		    "constraints; a classroom CA made with --name: the names chosen); a "
		    "certificate for another name from it is a forgery or a mistake.",
		    "这个 CA 只能为 localhost 和环回地址担保（它的名称约束；用 --name 做的课堂 "
		    "CA：所选的名字）；它签发的其他名字的证书是伪造的或出了错。");
	case X509_V_ERR_CERT_REVOKED:
		return TR("Its issuer withdrew it (a stolen key?): do not proceed. Only a client "
		    "that checks revocation (--crlfile FILE) notices this at all.", "签发者已"
		    "吊销它（私钥被盗？）：不要继续。只有检查吊销的客户端（--crlfile FILE）才会"
		    "发现这一点。");
	case X509_V_ERR_INVALID_PURPOSE:
		return TR("The certificate was issued for another use (e.g. a client "
		    "certificate): the server's owner must get a server certificate.",
		    "这张证书是为别的用途签发的（例如客户端证书）：服务器的主人必须申请服务器"
		    "证书。");
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return TR("The cryptography is too weak to rely on (a short key or SHA-1): the "
		    "site's owner must issue a modern certificate.", "密码算法太弱，不可依赖（密钥"
		    "太短或 SHA-1）：网站的主人必须换一张现代的证书。");
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return TR("Revocation could not be checked: the CRL file (--crlfile) has no list "
		    "from this certificate's issuer.", "无法检查吊销状态：CRL 文件（--crlfile）里"
		    "没有这张证书的签发者的吊销列表。");
	default:
		return TR("Do not proceed unless you know why the check fails.",
		    "除非你知道检查为什么失败，否则不要继续。");
	}
}

/* A certificate's words are the server's bytes: escaped for the terminal (evlog_safe), each
 * into its own buffer so one fprintf can use several. */
#define SAFE_LEN	(4 * 256 + 8)
#define SAFE(s, buf)	evlog_safe((s), strlen(s), (buf), sizeof(buf))

/* The warning's frame: as wide as the terminal, at most 80 columns (80 when not a terminal). */
struct box {
	FILE		*fp;
	int		 width;
	const char	*y, *z;		/* the frame's colour on and off */
};

/* One paragraph of the warning inside the frame, wrapped at word boundaries ("| " starts each
 * line; a line after the first hangs at `hang` columns). */
static void box_say(const struct box *, int hang, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
box_say(const struct box *bx, int hang, const char *fmt, ...)
{
	char text[4096], wrapped[8192], *line, *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tw_wrap(wrapped, sizeof(wrapped), text, 0, bx->width - 2, hang, 2);
	for (line = wrapped; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		fprintf(bx->fp, "%s|%s %s\n", bx->y, bx->z, line);
	}
}

/* A field's name padded to the value column (13 columns, whatever the language). */
static const char *
box_label(const char *name, char *buf, size_t len)
{
	int pad = 13 - (int)tw_width(name, strlen(name));

	snprintf(buf, len, "%s%*s", name, pad > 1 ? pad : 1, "");
	return buf;
}

/* A frame line: "+-- title ---...", or "+-----..." without a title. */
static void
box_rule(const struct box *bx, const char *title)
{
	int i, n = bx->width - 1;

	fprintf(bx->fp, "%s+", bx->y);
	if (title != NULL) {
		fprintf(bx->fp, "-- %s ", title);
		n -= 4 + (int)tw_width(title, strlen(title));
	}
	for (i = 0; i < n - 1; i++)
		fputc('-', bx->fp);
	fprintf(bx->fp, "%s\n", bx->z);
}

/* A framed warning on `fp`, like a browser's interstitial page, in plain words first. */
static void
trust_warn(FILE *fp, const struct trust_seen *seen, const char *host, int color)
{
	const char *b = color ? "\033[1m" : "", *z = color ? "\033[0m" : "", *pl;
	const struct tls_verify_err *v = seen->errs;
	int i, n = seen->nerr, first = n > 0 ? v[0].error : 0, cols = tw_columns(fileno(fp)), ph;
	struct box bx = { fp, cols > 0 && cols < 80 ? cols : 80, color ? "\033[1;33m" : "", z };
	char s1[SAFE_LEN], s2[SAFE_LEN], lab[64], fp2[sizeof(seen->cert.sha256) + 2];

	fputc('\n', fp);
	box_rule(&bx, TR("Certificate warning", "证书警告"));
	box_say(&bx, 0, TR("The server %s%s%s (%s) presented a certificate this client cannot "
	    "trust.", "服务器 %s%s%s（%s）出示的证书，本客户端无法信任。"), b, SAFE(host, s1), z,
	    seen->remote);
	if (seen->have) {
		box_say(&bx, 15, "  %s%s  %s%d%s%s", box_label(TR("certificate:", "证书："), lab,
		    sizeof(lab)), SAFE(seen->cert.subject, s1), TR("(chain depth ", "（证书链深度 "),
		    seen->depth, seen->depth == 0 ? TR(": the server's own", "：服务器自己的证书") : "",
		    TR(")", "）"));
		box_say(&bx, 15, "  %s%s", box_label(TR("issued by:", "签发者："), lab, sizeof(lab)),
		    SAFE(seen->cert.issuer, s1));
		box_say(&bx, 15, "  %s%s .. %s", box_label(TR("valid:", "有效期："), lab,
		    sizeof(lab)), seen->cert.not_before, seen->cert.not_after);
		/* 95 columns in one piece: broken after its 16th byte, where a line may end. */
		snprintf(fp2, sizeof(fp2), "%s", seen->cert.sha256);
		if (strlen(fp2) > 48) {
			memmove(fp2 + 49, fp2 + 48, strlen(fp2 + 48) + 1);
			fp2[48] = ' ';
		}
		box_say(&bx, 15, "  %s%s", box_label("sha256:", lab, sizeof(lab)), fp2);
	}
	if (seen->chain_mask != 0) {
		box_say(&bx, 4, "  %s", TR("the chain as presented (depth 0 = the server's own):",
		    "服务器出示的证书链（深度 0 是服务器自己的证书）："));
		for (i = TRUST_MAX_DEPTH - 1; i >= 0; i--) {
			const struct tls_cert_info *ci = &seen->chain[i];

			if (!(seen->chain_mask & (1u << i)))
				continue;
			/* The issuer's line hangs under the subject, in either language. */
			snprintf(lab, sizeof(lab), TR("    depth %d: ", "    深度 %d："), i);
			ph = (int)tw_width(lab, strlen(lab));
			box_say(&bx, ph, "%s%s%s", lab, SAFE(ci->subject, s1), seen->have &&
			    seen->depth == i ? TR("   <-- the problem", "   <-- 问题在这里") : "");
			box_say(&bx, ph, TR("%*sissuer %s, valid %s .. %s", "%*s签发者 %s，有效期 %s .. %s"),
			    ph, "", SAFE(ci->issuer, s2), ci->not_before, ci->not_after);
		}
	}
	pl = TR("Problem: ", "问题：");
	ph = (int)tw_width(pl, strlen(pl));
	box_say(&bx, ph, "%s%s%s%s", b, pl, z, tls_verify_plain(first));
	box_say(&bx, ph, TR("%*s(OpenSSL error %d: %s)", "%*s（OpenSSL 错误 %d：%s）"), ph, "",
	    first, X509_verify_cert_error_string(first));
	for (i = 1; i < n; i++)
		box_say(&bx, 4, TR("  also at depth %d: %s (error %d)", "  深度 %d 处还有：%s（错误 %d）"),
		    v[i].depth, tls_verify_plain(v[i].error), v[i].error);
	box_say(&bx, 0, TR("%sWhat you can do:%s %s", "%s你可以这样做：%s%s"), b, z,
	    trust_advice(first));
	box_rule(&bx, NULL);
	fflush(fp);
}

/* --show-certs: the chain the server presented, like `openssl s_client -showcerts`, with each
 * certificate's fields in words before its PEM. */
void
trust_show_chain(FILE *fp, SSL *ssl)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	struct tls_cert_info ci;
	GENERAL_NAMES *sans;
	EVP_PKEY *pk;
	int i, j;
	char s1[SAFE_LEN];

	if (chain == NULL || sk_X509_num(chain) == 0) {
		fprintf(fp, "%s\n", TR("(the server presented no certificate)",
		    "（服务器没有出示证书）"));
		return;
	}
	fprintf(fp, TR("\n--- the server's certificate chain: %d certificate(s), as sent ---\n",
	    "\n--- 服务器的证书链：%d 张证书，按发送顺序 ---\n"), sk_X509_num(chain));
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		tls_cert_info(x, &ci);
		fprintf(fp, "[%d] subject:   %s\n", i, SAFE(ci.subject, s1));
		fprintf(fp, "    issuer:    %s%s\n", SAFE(ci.issuer, s1), X509_check_issued(x, x) ==
		    X509_V_OK ? TR("  (self-signed)", "  （自签名）") : "");
		fprintf(fp, "    valid:     %s .. %s\n", ci.not_before, ci.not_after);
		if ((pk = X509_get0_pubkey(x)) != NULL)
			fprintf(fp, "    key:       %s, %d bits\n", EVP_PKEY_get0_type_name(pk),
			    EVP_PKEY_get_bits(pk));
		fprintf(fp, "    signature: %s\n",
		    OBJ_nid2ln(X509_get_signature_nid(x)));
		if ((sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)) != NULL) {
			fprintf(fp, "    names:    ");
			for (j = 0; j < sk_GENERAL_NAME_num(sans); j++) {
				GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, j);
				int type;
				ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);

				if (type == GEN_DNS)
					fprintf(fp, " DNS:%s", evlog_safe((const char *)
					    ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
					    s1, sizeof(s1)));
				else if (type == GEN_IPADD && ASN1_STRING_length(v) == 4) {
					const unsigned char *a = ASN1_STRING_get0_data(v);
					fprintf(fp, " IP:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
				} else if (type == GEN_IPADD && ASN1_STRING_length(v) == 16) {
					char a6[INET6_ADDRSTRLEN];

					if (inet_ntop(AF_INET6, ASN1_STRING_get0_data(v), a6,
					    sizeof(a6)) != NULL)
						fprintf(fp, " IP:%s", a6);
				}
			}
			fprintf(fp, "\n");
			GENERAL_NAMES_free(sans);
		}
		fprintf(fp, "    sha256:    %s\n", ci.sha256);
		PEM_write_X509(fp, x);
	}
	fprintf(fp, "---\n");
	fflush(fp);
}

/* ---- the certificate check and the decision ---- */

/* The server's own certificate (what the chain is built for), whatever failed: its SHA-256
 * is what a yes at the question accepts. */
static void
note_leaf(struct trust_seen *seen, X509_STORE_CTX *xs)
{
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	struct tls_cert_info ci;

	if (seen->leaf_have || leaf == NULL)
		return;
	if (!X509_digest(leaf, EVP_sha256(), md, &len) || len != sizeof(seen->leaf_md))
		return;
	memcpy(seen->leaf_md, md, len);
	tls_cert_info(leaf, &ci);
	snprintf(seen->leaf_sha256, sizeof(seen->leaf_sha256), "%s", ci.sha256);
	seen->leaf_have = 1;
}

/* The chain as built so far, for the warning: a refusal stops the walk at its first
 * error, before the callback has seen the depths below it. */
static void
note_chain(struct trust_seen *seen, X509_STORE_CTX *xs)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xs);
	int d;

	for (d = 0; chain != NULL && d < sk_X509_num(chain) && d < TRUST_MAX_DEPTH; d++)
		if (!(seen->chain_mask & (1u << d))) {
			seen->chain_mask |= 1u << d;
			tls_cert_info(sk_X509_value(chain, d), &seen->chain[d]);
		}
}

/* This connection's certificate is the one accepted at the question. */
static int
pin_matches(const struct client *cl)
{
	return cl->pin.on && cl->seen.leaf_have &&
	    memcmp(cl->seen.leaf_md, cl->pin.md, sizeof(cl->pin.md)) == 0;
}

int
trust_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct conn *c = ssl ? tls_conn(ssl) : NULL;
	struct client *cl;
	X509 *cert;

	if (c == NULL)
		return ok;
	cl = c->arg;
	tls_verify_record(c, ok, xs);
	if ((cert = X509_STORE_CTX_get_current_cert(xs)) != NULL) {
		int d = X509_STORE_CTX_get_error_depth(xs);

		if (d >= 0 && d < TRUST_MAX_DEPTH && !(cl->seen.chain_mask & (1u << d))) {
			cl->seen.chain_mask |= 1u << d;
			tls_cert_info(cert, &cl->seen.chain[d]);
		}
	}
	if (ok)
		return 1;
	note_chain(&cl->seen, xs);
	if (!cl->seen.have && (cert = X509_STORE_CTX_get_current_cert(xs)) != NULL) {
		cl->seen.have = 1;
		cl->seen.depth = X509_STORE_CTX_get_error_depth(xs);
		cl->seen.error = X509_STORE_CTX_get_error(xs);
		tls_cert_info(cert, &cl->seen.cert);
	}
	note_leaf(&cl->seen, xs);
	/* -k: go on without trust. After a yes at the question: exactly the certificate
	 * accepted there passes, whatever its errors; any other is refused like any
	 * untrusted one. */
	if (cl->opt->insecure || pin_matches(cl))
		return 1;
	/* Refuse inside the handshake: our alert tells the server why, and the connection
	 * closes at once. On a terminal the question comes once it is closed
	 * (trust_ask_after_close), as a browser shows its warning page with no connection
	 * left open: however long the user reads, no server is kept waiting. */
	cl->seen.refused = 1;
	return 0;
}

/* Keep what the warning and the decision need after the connection is gone. */
static void
seen_keep(struct client *cl, struct conn *c)
{
	const struct tls_verify_err *v;
	int n = tls_verify_errors(c, &v);

	if (n > TLS_MAX_VERIFY_ERRS)
		n = TLS_MAX_VERIFY_ERRS;
	cl->seen.nerr = v != NULL ? n : 0;
	if (cl->seen.nerr > 0)
		memcpy(cl->seen.errs, v, (size_t)n * sizeof(*v));
	cl->seen.conn_id = c->id;
	cl->seen.alert_out = c->tls != NULL ? c->tls->alert_out : -1;
	snprintf(cl->seen.remote, sizeof(cl->seen.remote), "%s", conn_remote_str(c));
}

static int
first_error(const struct client *cl)
{
	return cl->seen.nerr > 0 ? cl->seen.errs[0].error : 0;
}

static int
peer_has_san(SSL *ssl)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	return x == NULL || X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0;
}

static void
log_hostname(struct client *cl, struct conn *c, int checked)
{
	const struct url *u = &cl->u;
	struct evrec r;
	const struct tls_verify_err *v;
	int i, match = 1, n = tls_verify_errors(c, &v);

	/* A refused handshake stops at its first error: the name was checked only if that
	 * error is the name's own. */
	for (i = 0; i < n; i++)
		if (v[i].depth == 0 && (v[i].error == X509_V_ERR_HOSTNAME_MISMATCH ||
		    v[i].error == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
			match = 0;
			checked = 1;
		}
	if (!evrec_begin(&r, EVT_HOSTNAME, c->id, c->fd))
		return;
	evrec_str(&r, "name", u->host);
	evrec_str(&r, "kind", u->host_is_ip ? "ip" : "dns");
	evrec_bool(&r, "checked", checked);
	evrec_bool(&r, "match", checked && match);
	if (!checked)
		evrec_detail(&r, TR("%s: not checked (the check stopped at an earlier error)",
		    "%s：没有检查（检查在更早的错误处就停止了）"), u->host);
	else
		evrec_detail(&r, TR("%s %s", "%s %s"), u->host, match ?
		    TR("matches the certificate", "与证书相符") :
		    TR("is NOT in the certificate", "不在证书里"));
	if (checked && match && c->ssl != NULL && !peer_has_san(c->ssl))
		evrec_gloss(&r, "%s", TR("the certificate has no subjectAltName: OpenSSL (and "
		    "curl) matched the name against its CN, an old fallback; browsers refuse "
		    "such certificates", "证书没有 subjectAltName：OpenSSL（和 curl）拿名字去比对"
		    "它的 CN，这是旧的退路做法；浏览器拒绝这样的证书"));
	else
		evrec_gloss(&r, "%s", u->host_is_ip ? TR("the IP address we connected to must be "
		    "among the certificate's IP SANs", "我们连接的 IP 地址必须在证书的 IP SAN "
		    "之中") : TR("the name we typed must be among the certificate's DNS names "
		    "(subjectAltName)", "我们输入的名字必须在证书的 DNS 名字"
		    "（subjectAltName，主题备用名称）之中"));
	evrec_emit(&r);
}

/* The trust_decision event of connection `id` (fd -1 once it is closed). pin: -1 no
 * certificate was accepted at a question, 0 this is not that one, 1 it is. */
static void
log_trust(struct client *cl, unsigned id, int fd, const char *decision, int prompted, int pin,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void
log_trust(struct client *cl, unsigned id, int fd, const char *decision, int prompted, int pin,
    const char *fmt, ...)
{
	struct evrec r;
	int e = first_error(cl);
	char detail[512];
	va_list ap;

	if (!evrec_begin(&r, EVT_TRUST_DECISION, id, fd))
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	evrec_str(&r, "decision", decision);
	evrec_bool(&r, "prompted", prompted);
	evrec_int(&r, "error", e);
	evrec_str(&r, "error_text", e ? X509_verify_cert_error_string(e) : "");
	if (e) {
		evrec_str(&r, "explanation", tls_verify_plain(e));
		evrec_str(&r, "advice", trust_advice(e));
	}
	if (e && cl->seen.leaf_have)
		evrec_str(&r, "sha256", cl->seen.leaf_sha256);
	if (pin >= 0) {
		evrec_str(&r, "pin_sha256", cl->pin.sha256);
		evrec_bool(&r, "pin_match", pin);
	}
	evrec_detail(&r, "%s", detail);
	evrec_emit(&r);
}

/* Show the warning (framed in text mode, as fields in JSON mode, one line with -q when a
 * question follows). */
static void
warn_untrusted(struct client *cl, int asking)
{
	const struct client_opts *opt = cl->opt;
	int e = first_error(cl);
	char s1[SAFE_LEN];

	/* In JSON the trust_decision event carries the explanation; with -q one line says it
	 * before the question (without a question the final error line says it). */
	if (opt->common.quiet && asking)
		fprintf(stderr, TR("client: certificate of %s not trusted: %s (error %d)\n",
		    "client：%s 的证书不受信任：%s（错误 %d）\n"),
		    SAFE(cl->u.host, s1), tls_verify_plain(e), e);
	else if (!opt->common.quiet && (opt->common.format == EVLOG_TEXT ||
	    (cl->interactive && !opt->insecure)))
		/* A person sees the explanation, even in JSON mode. */
		trust_warn(stderr, &cl->seen, cl->u.host, evlog_color());
}

/* The handshake is done: trust the server, or proceed without trust (-k, or the certificate
 * accepted at the question). Returns 1 to go on with the request. */
int
trust_decide(struct client *cl, struct conn *c)
{
	seen_keep(cl, c);
	if (c->ssl != NULL && SSL_session_reused(c->ssl) && cl->decided) {
		/* No Certificate in an abbreviated handshake: nothing to check again. The
		 * session itself proves the server is the one we checked before. */
		log_trust(cl, c->id, c->fd, cl->decided == 1 ? "trusted" : "proceed", 0, -1, "%s",
		    cl->decided == 1 ? TR("session resumed: no certificate this time; the server "
		    "proved it holds the session we made after checking its certificate on the "
		    "first connection", "会话恢复：这次没有证书；服务器证明了它持有我们在第一个"
		    "连接上校验过它的证书之后建立的会话") : TR("session resumed: no certificate "
		    "this time; on the first connection you chose to proceed without trust",
		    "会话恢复：这次没有证书；在第一个连接上你选择了不信任也继续"));
		return 1;
	}
	log_hostname(cl, c, 1);
	if (cl->seen.nerr == 0) {
		log_trust(cl, c->id, c->fd, "trusted", 0, -1, "%s", TR("certificate chain "
		    "verified: issued by a CA we trust, in date, for this name: no warning",
		    "证书链校验通过：由我们信任的 CA 签发，在有效期内，且是这个名字的证书：没有"
		    "警告"));
		cl->decided = 1;
		return 1;
	}
	cl->decided = 2;
	if (cl->opt->insecure) {
		warn_untrusted(cl, 0);
		log_trust(cl, c->id, c->fd, "proceed", 0, -1, "%s", TR("-k/--insecure: proceeding "
		    "without trust (the traffic is encrypted, but to whom?)", "-k/--insecure：不"
		    "信任也继续（流量是加密的，可对方是谁？）"));
		return 1;
	}
	if (pin_matches(cl)) {
		/* The warning was shown at the question: not again. */
		log_trust(cl, c->id, c->fd, "proceed", 0, 1, TR("the certificate you accepted at "
		    "the question (connection #%u refused it in its handshake): exactly this one, "
		    "sha256 %s, is accepted for this run", "你在提问时接受的证书（连接 #%u 在握手"
		    "中拒绝了它）：本次运行只接受这一张，sha256 %s"), cl->pin.conn_id,
		    cl->pin.sha256);
		return 1;
	}
	/* Not reached: the verify callback refuses any other untrusted certificate inside the
	 * handshake. */
	warn_untrusted(cl, 0);
	log_trust(cl, c->id, c->fd, "refused", 0, -1, "%s", TR("certificate not trusted",
	    "证书不受信任"));
	return 0;
}

/* A connection's failure, before its closed event: explain a certificate we refused. */
void
trust_failed(struct conn *c)
{
	struct client *cl = c->arg;

	if (cl->opt->show_certs && c->ssl != NULL && c->error_phase == PHASE_TLS_HANDSHAKE)
		trust_show_chain(stderr, c->ssl);
	if (c->error != CONN_ERR_TLS || c->error_phase != PHASE_TLS_HANDSHAKE ||
	    !cl->seen.refused)
		return;
	seen_keep(cl, c);
	log_hostname(cl, c, 0);
	if (cl->pin.on) {
		/* A new connection after a yes, and not the certificate accepted there: no
		 * second question. */
		warn_untrusted(cl, 0);
		log_trust(cl, c->id, c->fd, "refused", 0, 0, TR("not the certificate you "
		    "accepted: connection #%u presented sha256 %s, this one %s: refused without "
		    "a question (the server changed its certificate, or someone between us and "
		    "it did)", "不是你接受的那张证书：连接 #%u 出示的是 sha256 %s，这张是 %s："
		    "不再提问，直接拒绝（服务器换了证书，或我们和它之间有人换了）"),
		    cl->pin.conn_id, cl->pin.sha256, cl->seen.leaf_have ?
		    cl->seen.leaf_sha256 : TR("(unknown)", "（未知）"));
		return;
	}
	if (cl->interactive) {
		cl->ask = 1;	/* once this connection is closed: trust_ask_after_close() */
		return;
	}
	warn_untrusted(cl, 0);
	log_trust(cl, c->id, c->fd, "refused", 0, -1, "%s", TR("not a terminal, so no question: "
	    "refusing the untrusted certificate (use --cacert FILE to trust its CA, or -k)",
	    "不是终端，所以不提问：拒绝这张不受信任的证书（用 --cacert FILE 信任它的 CA，"
	    "或用 -k）"));
}

/* ---- the question, asked once the refused connection is closed ---- */

/* How long the close of the refused connection may take to settle (TIME_WAIT or gone)
 * before the warning is shown anyway. */
#define ASK_SETTLE_MS 200

/* y or yes (any case), or 是, is a yes; anything else, an empty line and Ctrl-D are a no. */
static int
is_yes(const char *a)
{
	return strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0 || strcmp(a, "是") == 0;
}

static void
answered(struct client *cl, int yes)
{
	struct evrec r;
	unsigned id = cl->seen.conn_id;
	int e = first_error(cl);

	if (cl->ask_answer != NULL) {
		event_free(cl->ask_answer);
		cl->ask_answer = NULL;
	}
	cl->ask_wait_us += evlog_now_us() - cl->t_ask;
	if (yes && !cl->seen.leaf_have) {
		log_trust(cl, id, -1, "refused", 1, -1, "%s", TR("you answered yes, but the "
		    "server's certificate could not be fingerprinted: refusing", "你回答了是，"
		    "但无法计算服务器证书的指纹：拒绝"));
		yes = 0;
	} else if (!yes)
		log_trust(cl, id, -1, "refused", 1, -1, TR("you answered no: the certificate "
		    "stays refused (connection #%u closed at the refusal)", "你回答了否：证书仍被"
		    "拒绝（连接 #%u 在拒绝时已关闭）"), id);
	if (!yes) {
		cl->t_end = evlog_now_us();	/* the transfer ends at the answer */
		fetch_finish(cl, EXIT_UNTRUSTED, TR("certificate of %s not trusted: %s (error %d)",
		    "%s 的证书不受信任：%s（错误 %d）"), cl->u.host, tls_verify_plain(e), e);
		return;
	}
	cl->pin.on = 1;
	cl->pin.conn_id = id;
	memcpy(cl->pin.md, cl->seen.leaf_md, sizeof(cl->pin.md));
	snprintf(cl->pin.sha256, sizeof(cl->pin.sha256), "%s", cl->seen.leaf_sha256);
	log_trust(cl, id, -1, "proceed", 1, -1, TR("you answered yes: a new connection will "
	    "accept exactly this certificate (sha256 %s), and no other, for this run",
	    "你回答了是：本次运行中，新连接只接受这一张证书（sha256 %s），不接受别的"),
	    cl->pin.sha256);
	if (evrec_begin(&r, EVT_TRUST_RETRY, 0, -1)) {
		evrec_str(&r, "sha256", cl->pin.sha256);
		evrec_int(&r, "refused_conn", (long long)id);
		evrec_detail(&r, TR("connecting again: connection #%u refused the certificate in "
		    "its handshake before you answered; the new connection accepts exactly that "
		    "certificate (sha256 %s) and no other", "重新连接：在你回答之前，连接 #%u 已在"
		    "握手中拒绝了这张证书；新连接只接受这一张证书（sha256 %s），不接受别的"), id,
		    cl->pin.sha256);
		evrec_gloss(&r, "%s", TR("a browser does the same after \"Proceed\": it keeps "
		    "the certificate as an exception for this site and connects again",
		    "浏览器在你点“继续前往”之后也是这样做的：把这张证书记为这个网站的例外，"
		    "再连接一次"));
		evrec_emit(&r);
	}
	connect_again(cl);
}

/* Standard input is readable: a line (or the end of input) is the answer. */
static void
answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	char buf[256];
	ssize_t n;
	ssize_t i;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		fprintf(stderr, "\n");	/* end of input (Ctrl-D): end the prompt's line */
		answered(cl, is_yes(cl->answer));
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			answered(cl, is_yes(cl->answer));
			return;
		}
		if (cl->answer_len + 1 < sizeof(cl->answer)) {
			cl->answer[cl->answer_len++] = buf[i];
			cl->answer[cl->answer_len] = '\0';
		}
	}
}

/* The warning and the question; the answer comes through the event loop (answer_cb). */
static void
ask_now(struct client *cl)
{
	struct evrec r;
	unsigned id = cl->seen.conn_id;

	seglog_sync();		/* --capture: the segments of the close come first */
	if (evrec_begin(&r, EVT_TRUST_QUESTION, id, -1)) {
		evrec_str(&r, "sha256", cl->seen.leaf_sha256);
		evrec_int(&r, "error", first_error(cl));
		if (cl->seen.alert_out >= 0)
			evrec_detail(&r, TR("connection #%u refused the certificate inside its "
			    "handshake (our alert %s, %d) and is closed: the question comes now, "
			    "with no connection open", "连接 #%u 在握手中拒绝了这张证书（我方告警 "
			    "%s，%d），连接已关闭：现在才提问，此时没有打开的连接"), id,
			    tls_alert_name(cl->seen.alert_out), cl->seen.alert_out);
		else
			evrec_detail(&r, TR("connection #%u refused the certificate inside its "
			    "handshake and is closed: the question comes now, with no connection "
			    "open", "连接 #%u 在握手中拒绝了这张证书，连接已关闭：现在才提问，此时"
			    "没有打开的连接"), id);
		evrec_gloss(&r, "%s", TR("as a browser shows its warning page: no server waits "
		    "for your answer, so none can time out however long you read; yes makes a new "
		    "connection that accepts exactly this certificate", "就像浏览器显示它的警告页："
		    "没有服务器在等你的回答，所以你读多久都不会超时；回答是，就建立一个只接受这张"
		    "证书的新连接"));
		evrec_emit(&r);
	}
	warn_untrusted(cl, 1);
	cl->t_ask = evlog_now_us();
	fprintf(stderr, "%s", TR("Proceed anyway? [y/N] ", "仍然继续吗？[y/N] "));
	fflush(stderr);
	cl->answer_len = 0;
	cl->answer[0] = '\0';
	cl->ask_answer = event_new(cl->base, STDIN_FILENO, EV_READ | EV_PERSIST, answer_cb, cl);
	if (cl->ask_answer == NULL || event_add(cl->ask_answer, NULL) == -1) {
		fprintf(stderr, "\n");
		answered(cl, 0);
	}
}

/* Wait for the refused connection's close to settle, so that the kernel's last states of
 * it are logged before the warning and not under the question; then stop watching it. */
static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	int st = tcpwatch_state(cl->seen.conn_id);
	struct timeval tv = { 0, 1000 };

	(void)fd;
	(void)what;
	if (st != -1 && st != TCPI_TIME_WAIT &&
	    evlog_now_us() - cl->t_ask < ASK_SETTLE_MS * 1000) {
		evtimer_add(cl->ask_settle, &tv);
		return;
	}
	if (st != -1)
		tcpwatch_stop(cl->seen.conn_id, TR("the certificate question comes next",
		    "接下来是证书问题"));
	ask_now(cl);
}

/* The connection is closed. If its certificate was refused on a terminal, ask now (with
 * nothing open) and return 0; otherwise -1. */
int
trust_ask_after_close(struct client *cl, struct conn *c)
{
	struct timeval tv = { 0, 1000 };

	(void)c;
	if (!cl->ask)
		return -1;
	cl->ask = 0;
	cl->t_ask = evlog_now_us();
	if ((cl->ask_settle = evtimer_new(cl->base, settle_cb, cl)) == NULL ||
	    evtimer_add(cl->ask_settle, &tv) == -1)
		ask_now(cl);
	return 0;
}

/* The run is over: a question still open (--max-time) ends its line. */
void
trust_stop(struct client *cl)
{
	if (cl->ask_answer != NULL) {
		fprintf(stderr, "\n");
		cl->t_end = evlog_now_us();
		cl->ask_wait_us += cl->t_end - cl->t_ask;
		event_free(cl->ask_answer);
		cl->ask_answer = NULL;
	}
	if (cl->ask_settle != NULL) {
		event_free(cl->ask_settle);
		cl->ask_settle = NULL;
	}
}
