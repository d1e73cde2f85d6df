/* trust.c -- the browser-like trust prompt: which certificate, what is wrong with it, what it
 * means and what the user can do, then the question. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "client.h"
#include "conn.h"

const char *
trust_advice(int e)
{
	switch (e) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "Anyone can make a certificate like this one, including an attacker between "
		    "you and the server. If you know who made it, trust their CA instead: for this "
		    "demo, --cacert certs/out/ca.crt (the self-signed port 8444 stays untrusted "
		    "even then). -k proceeds once without the check.";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "Check your computer's date and time; if they are right, ask the site's "
		    "owner to renew the certificate.";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "The name you typed is not in the certificate: this may be another server. "
		    "Use a name the certificate lists (the demo's: localhost, 127.0.0.1, ::1).";
	case X509_V_ERR_PERMITTED_VIOLATION:
		return "This CA may only vouch for localhost and loopback addresses; a certificate "
		    "for any other name from it is a forgery or a mistake.";
	case X509_V_ERR_CERT_REVOKED:
		return "Its owner withdrew it (lost key?): do not proceed.";
	default:
		return "Do not proceed unless you know why the check fails.";
	}
}

/* A framed warning on `fp`, like a browser's interstitial page, in plain words first. */
void
trust_warn(FILE *fp, const struct conn *c, const struct trust_seen *seen, const char *host,
    int color)
{
	const char *y = color ? "\033[1;33m" : "", *b = color ? "\033[1m" : "",
	    *z = color ? "\033[0m" : "";
	int i, first;

	first = tls_verify_first_error(c, NULL);
	fprintf(fp, "\n%s+-- Certificate warning ------------------------------------------------%s\n", y, z);
	fprintf(fp, "%s|%s The server %s%s%s (%s) presented a certificate this client cannot trust.\n",
	    y, z, b, host, z, c->remote_s);
	if (seen->have) {
		fprintf(fp, "%s|%s   certificate: %s  (chain depth %d%s)\n", y, z,
		    seen->cert.subject, seen->depth, seen->depth == 0 ? ": the server's own" : "");
		fprintf(fp, "%s|%s   issued by:   %s\n", y, z, seen->cert.issuer);
		fprintf(fp, "%s|%s   valid:       %s .. %s\n", y, z, seen->cert.not_before,
		    seen->cert.not_after);
		fprintf(fp, "%s|%s   sha256:      %s\n", y, z, seen->cert.sha256);
	}
	fprintf(fp, "%s|%s %sProblem:%s %s\n", y, z, b, z, tls_verify_plain(first));
	fprintf(fp, "%s|%s          (OpenSSL error %d: %s)\n", y, z, first,
	    X509_verify_cert_error_string(first));
	for (i = 1; i < c->nverify; i++)
		fprintf(fp, "%s|%s   also at depth %d: %s (error %d)\n", y, z, c->verify[i].depth,
		    tls_verify_plain(c->verify[i].error), c->verify[i].error);
	fprintf(fp, "%s|%s %sWhat you can do:%s %s\n", y, z, b, z, trust_advice(first));
	fprintf(fp, "%s+-----------------------------------------------------------------------%s\n",
	    y, z);
	fflush(fp);
}

/* Ask "Proceed anyway? [y/N]"; only y or yes (any case) is a yes. */
int
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
