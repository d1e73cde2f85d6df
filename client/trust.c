/* trust.c -- whether to trust the server: the verify callback, the name check, the decision
 * (logged as an event) and, like a browser, the warning: which certificate, what is wrong with
 * it, what it means and what the user can do, then the question. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "conn.h"
#include "evlog.h"
#include "tls.h"

static const char *
trust_advice(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "Either the issuer is a CA you do not trust (then: --cacert FILE with its "
		    "certificate, if you trust it), or the server left out the intermediate CA "
		    "certificate it should send (then the site's owner must fix its chain). "
		    "--show-certs shows what was sent.";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return "Anyone can make a certificate like this one, including an attacker between "
		    "you and the server. If you know and trust whoever issued it, pass their CA "
		    "with --cacert FILE (this demo's CA: certs/out/ca.crt; a self-signed "
		    "certificate stays untrusted even then). -k proceeds once without the check.";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "Check your computer's date and time; if they are right, the site's owner "
		    "must renew the certificate.";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "Check your computer's date and time: the certificate starts later than "
		    "your clock says (a clock running behind, or a certificate issued too early).";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "The name you typed is not in the certificate: this may be another server. "
		    "Use a name the certificate lists (--show-certs prints them).";
	case X509_V_ERR_PERMITTED_VIOLATION:
		return "This CA may only vouch for localhost and loopback addresses (its name "
		    "constraints; a classroom CA made with --name: the names chosen); a certificate "
		    "for another name from it is a forgery or a mistake.";
	case X509_V_ERR_CERT_REVOKED:
		return "Its issuer withdrew it (a stolen key?): do not proceed. Only a client that "
		    "checks revocation (--crlfile FILE) notices this at all.";
	case X509_V_ERR_INVALID_PURPOSE:
		return "The certificate was issued for another use (e.g. a client certificate): "
		    "the server's owner must get a server certificate.";
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return "The cryptography is too weak to rely on (a short key or SHA-1): the site's "
		    "owner must issue a modern certificate.";
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return "Revocation could not be checked: the CRL file (--crlfile) has no list from "
		    "this certificate's issuer.";
	default:
		return "Do not proceed unless you know why the check fails.";
	}
}

/* A framed warning on `fp`, like a browser's interstitial page, in plain words first. */
static void
trust_warn(FILE *fp, const struct conn *c, const struct trust_seen *seen, const char *host,
    int color)
{
	const char *y = color ? "\033[1;33m" : "", *b = color ? "\033[1m" : "",
	    *z = color ? "\033[0m" : "";
	const struct tls_verify_err *v;
	int i, first, n = tls_verify_errors(c, &v);

	first = tls_verify_first_error(c, NULL);
	fprintf(fp, "\n%s+-- Certificate warning ------------------------------------------------%s\n", y, z);
	fprintf(fp, "%s|%s The server %s%s%s (%s) presented a certificate this client cannot trust.\n",
	    y, z, b, host, z, conn_remote_str(c));
	if (seen->have) {
		fprintf(fp, "%s|%s   certificate: %s  (chain depth %d%s)\n", y, z,
		    seen->cert.subject, seen->depth, seen->depth == 0 ? ": the server's own" : "");
		fprintf(fp, "%s|%s   issued by:   %s\n", y, z, seen->cert.issuer);
		fprintf(fp, "%s|%s   valid:       %s .. %s\n", y, z, seen->cert.not_before,
		    seen->cert.not_after);
		fprintf(fp, "%s|%s   sha256:      %s\n", y, z, seen->cert.sha256);
	}
	if (seen->chain_mask != 0) {
		fprintf(fp, "%s|%s   the chain as presented (depth 0 = the server's own):\n", y, z);
		for (i = TRUST_MAX_DEPTH - 1; i >= 0; i--) {
			const struct tls_cert_info *ci = &seen->chain[i];

			if (!(seen->chain_mask & (1u << i)))
				continue;
			fprintf(fp, "%s|%s     depth %d: %s%s\n", y, z, i, ci->subject,
			    seen->have && seen->depth == i ? "   <-- the problem" : "");
			fprintf(fp, "%s|%s              issuer %s, valid %s .. %s\n", y, z,
			    ci->issuer, ci->not_before, ci->not_after);
		}
	}
	fprintf(fp, "%s|%s %sProblem:%s %s\n", y, z, b, z, tls_verify_plain(first));
	fprintf(fp, "%s|%s          (OpenSSL error %d: %s)\n", y, z, first,
	    X509_verify_cert_error_string(first));
	for (i = 1; i < n; i++)
		fprintf(fp, "%s|%s   also at depth %d: %s (error %d)\n", y, z, v[i].depth,
		    tls_verify_plain(v[i].error), v[i].error);
	fprintf(fp, "%s|%s %sWhat you can do:%s %s\n", y, z, b, z, trust_advice(first));
	fprintf(fp, "%s+-----------------------------------------------------------------------%s\n",
	    y, z);
	fflush(fp);
}

/* Ask "Proceed anyway? [y/N]"; only y or yes (any case) is a yes. */
static int
trust_ask(FILE *in, FILE *out)
{
	char line[64];
	size_t n;

	fprintf(out, "Proceed anyway? [y/N] ");
	fflush(out);
	if (fgets(line, sizeof(line), in) == NULL) {
		fprintf(out, "\n");	/* end of input (Ctrl-D): end the prompt's line */
		return 0;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	for (n = 0; line[n]; n++)
		line[n] = (char)tolower((unsigned char)line[n]);
	return strcmp(line, "y") == 0 || strcmp(line, "yes") == 0;
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

	if (chain == NULL || sk_X509_num(chain) == 0) {
		fprintf(fp, "(the server presented no certificate)\n");
		return;
	}
	fprintf(fp, "\n--- the server's certificate chain: %d certificate(s), as sent ---\n",
	    sk_X509_num(chain));
	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		tls_cert_info(x, &ci);
		fprintf(fp, "[%d] subject:   %s\n", i, ci.subject);
		fprintf(fp, "    issuer:    %s%s\n", ci.issuer, X509_check_issued(x, x) ==
		    X509_V_OK ? "  (self-signed)" : "");
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
					fprintf(fp, " DNS:%.*s", ASN1_STRING_length(v),
					    (const char *)ASN1_STRING_get0_data(v));
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
	if (!cl->seen.have && (cert = X509_STORE_CTX_get_current_cert(xs)) != NULL) {
		cl->seen.have = 1;
		cl->seen.depth = X509_STORE_CTX_get_error_depth(xs);
		cl->seen.error = X509_STORE_CTX_get_error(xs);
		tls_cert_info(cert, &cl->seen.cert);
	}
	/* On a terminal (or with -k) let the handshake finish and ask afterwards; otherwise
	 * refuse inside the handshake, so the server sees our alert, as with curl. */
	return cl->opt->insecure || cl->interactive;
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
		evrec_detail(&r, "%s: not checked (the check stopped at an earlier error)", u->host);
	else
		evrec_detail(&r, "%s %s", u->host, match ? "matches the certificate" :
		    "is NOT in the certificate");
	if (checked && match && c->ssl != NULL && !peer_has_san(c->ssl))
		evrec_gloss(&r, "the certificate has no subjectAltName: OpenSSL (and curl) matched "
		    "the name against its CN, an old fallback; browsers refuse such certificates");
	else
		evrec_gloss(&r, "%s", u->host_is_ip ? "the IP address we connected to must be "
		    "among the certificate's IP SANs" : "the name we typed must be among the "
		    "certificate's DNS names (subjectAltName)");
	evrec_emit(&r);
}

static void
log_trust(struct conn *c, const char *decision, int prompted, const char *detail)
{
	struct evrec r;
	int e = tls_verify_first_error(c, NULL);

	if (!evrec_begin(&r, EVT_TRUST_DECISION, c->id, c->fd))
		return;
	evrec_str(&r, "decision", decision);
	evrec_bool(&r, "prompted", prompted);
	evrec_int(&r, "error", e);
	evrec_str(&r, "error_text", e ? X509_verify_cert_error_string(e) : "");
	if (e) {
		evrec_str(&r, "explanation", tls_verify_plain(e));
		evrec_str(&r, "advice", trust_advice(e));
	}
	evrec_detail(&r, "%s", detail);
	evrec_emit(&r);
}

/* Show the warning (framed in text mode, as fields in JSON mode, one line with -q). */
static void
warn_untrusted(struct client *cl, struct conn *c)
{
	const struct client_opts *opt = cl->opt;
	int e = tls_verify_first_error(c, NULL);

	/* In JSON the trust_decision event carries the explanation; with -q one line says it
	 * before the question (without a question the final error line says it). */
	if (opt->common.quiet && cl->interactive && !opt->insecure)
		fprintf(stderr, "client: certificate of %s not trusted: %s (error %d)\n",
		    cl->u.host, tls_verify_plain(e), e);
	else if (!opt->common.quiet && (opt->common.format == EVLOG_TEXT ||
	    (cl->interactive && !opt->insecure)))
		/* A person about to be asked sees the explanation first, even in JSON mode. */
		trust_warn(stderr, c, &cl->seen, cl->u.host, evlog_color());
}

/* The handshake is done: trust the server, proceed without trust (-k, or the user said
 * yes), or refuse. Returns 1 to go on with the request. */
int
trust_decide(struct client *cl, struct conn *c)
{
	if (c->ssl != NULL && SSL_session_reused(c->ssl) && cl->decided) {
		/* No Certificate in an abbreviated handshake: nothing to check again. The
		 * session itself proves the server is the one we checked before. */
		log_trust(c, cl->decided == 1 ? "trusted" : "proceed", 0, cl->decided == 1 ?
		    "session resumed: no certificate this time; the server proved it holds the "
		    "session we made after checking its certificate on the first connection" :
		    "session resumed: no certificate this time; on the first connection you "
		    "chose to proceed without trust");
		return 1;
	}
	log_hostname(cl, c, 1);
	if (tls_verify_errors(c, NULL) == 0) {
		log_trust(c, "trusted", 0, "certificate chain verified: issued by a CA we trust, in "
		    "date, for this name: no warning");
		cl->decided = 1;
		return 1;
	}
	cl->decided = 2;
	warn_untrusted(cl, c);
	if (cl->opt->insecure) {
		log_trust(c, "proceed", 0, "-k/--insecure: proceeding without trust (the traffic "
		    "is encrypted, but to whom?)");
		return 1;
	}
	/* The question blocks this program: first let our Finished reach the server, so its
	 * side of the handshake completes while the user reads. */
	conn_flush_now(c);
	if (trust_ask(stdin, stderr)) {
		log_trust(c, "proceed", 1, "you answered yes: proceeding with an untrusted "
		    "certificate");
		return 1;
	}
	log_trust(c, "refused", 1, "you answered no: closing the connection");
	return 0;
}

/* A connection's failure, before its closed event: explain a refused certificate. */
void
trust_failed(struct conn *c)
{
	struct client *cl = c->arg;

	/* Refused inside the handshake (not a terminal); after the prompt it is something else. */
	if (cl->opt->show_certs && c->ssl != NULL && c->error_phase == PHASE_TLS_HANDSHAKE)
		trust_show_chain(stderr, c->ssl);
	if (c->error == CONN_ERR_TLS && c->error_phase == PHASE_TLS_HANDSHAKE &&
	    tls_verify_first_error(c, NULL) != 0 && !cl->opt->insecure) {
		log_hostname(cl, c, 0);
		warn_untrusted(cl, c);
		log_trust(c, "refused", 0, "not a terminal, so no question: refusing the "
		    "untrusted certificate (use --cacert FILE to trust its CA, or -k)");
	}
}
