/* page_cert.c -- the certificate this listener sends (subject, issuer, names, validity, key)
 * and the name constraints of the demo CA that signed it, for the connection page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "page.h"
#include "server.h"
#include "tls.h"

/* An extension of cert as OpenSSL prints it (one line per item, joined by "; "); "" if none. */
static void
ext_text(X509 *cert, int nid, char *buf, size_t len)
{
	X509_EXTENSION *ex;
	BIO *bio;
	char *p;
	long n;
	int i, k;

	buf[0] = '\0';
	if ((i = X509_get_ext_by_NID(cert, nid, -1)) < 0 || (ex = X509_get_ext(cert, i)) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509V3_EXT_print(bio, ex, 0, 0) == 1 && (n = BIO_get_mem_data(bio, &p)) > 0) {
		/* lines (with their indent) into one: "Permitted: DNS:localhost; IP:..." */
		for (k = 0, i = 0; i < n && (size_t)k + 3 < len; i++) {
			if (p[i] == '\n') {
				while (i + 1 < n && p[i + 1] == ' ')
					i++;
				if (i + 1 < n)
					k += snprintf(buf + k, len - (size_t)k, "%s",
					    k > 0 && buf[k - 1] == ':' ? " " : "; ");
				continue;
			}
			buf[k++] = p[i];
		}
		buf[k] = '\0';
	}
	BIO_free(bio);
	ERR_clear_error();
}

/* The demo CA's name constraints, read once from DIR/ca.crt. */
static const char *
ca_constraints(const struct options *opt, char *subject, size_t slen)
{
	static char nc[1200], subj[256];
	static int done;
	char path[1024];
	X509 *ca = NULL;
	FILE *fp;

	if (!done) {
		done = 1;
		snprintf(path, sizeof(path), "%s/ca.crt", opt->certs_dir);
		if ((fp = fopen(path, "r")) != NULL) {
			ca = PEM_read_X509(fp, NULL, NULL, NULL);
			fclose(fp);
		}
		if (ca == NULL)
			snprintf(nc, sizeof(nc), "not known: %s could not be read", path);
		else {
			X509_NAME_oneline(X509_get_subject_name(ca), subj, sizeof(subj));
			ext_text(ca, NID_name_constraints, nc, sizeof(nc));
			if (nc[0] == '\0')
				snprintf(nc, sizeof(nc), "none: the CA may sign for any name");
			X509_free(ca);
		}
		ERR_clear_error();
	}
	snprintf(subject, slen, "%s", subj);
	return nc;
}

void
page_cert(struct pbuf *b, const struct listener *li, const struct pfacts *f,
    const struct options *opt)
{
	X509 *cert = li->ctx != NULL ? SSL_CTX_get0_certificate(li->ctx) : NULL;
	EVP_PKEY *key;
	struct tls_cert_info ci;
	char sans[1024], casubj[256];
	const char *nc;

	pb_h2(b, "The certificate");
	if (cert == NULL) {
		pb_p(b, "This listener has no certificate.");
		return;
	}
	tls_cert_info(cert, &ci);
	ext_text(cert, NID_subject_alt_name, sans, sizeof(sans));
	key = X509_get0_pubkey(cert);
	if (f->cert_len >= 0)
		pb_p(b, "The server sent this certificate in this handshake (a Certificate "
		    "message of %ld bytes%s). It is this port's certificate:", f->cert_len,
		    f->version[0] && strcmp(f->version, "TLSv1.3") == 0 ? ", encrypted: TLS 1.3 "
		    "hides it from the path" : ", in clear: before TLS 1.3 the path sees it");
	else
		pb_p(b, "No certificate was sent in this handshake%s. This port's certificate:",
		    f->resumed ? " (a resumed session: it was sent when the session began)" : "");
	pb_table(b);
	pb_row(b, "subject", "%s", ci.subject);
	pb_row(b, "issuer", "%s", ci.issuer);
	pb_row(b, "names (subjectAltName)", "%s", sans[0] ? sans : "none: only the subject's "
	    "CN, which browsers no longer accept");
	pb_row(b, "valid", "from %s to %s", ci.not_before, ci.not_after);
	if (key != NULL) {
		char grp[64] = "";
		size_t gl = 0;

		if (EVP_PKEY_get_group_name(key, grp, sizeof(grp), &gl) != 1)
			grp[0] = '\0';
		pb_row(b, "key", "%s%s%s%s, %d bits", EVP_PKEY_get0_type_name(key),
		    grp[0] ? " (" : "", grp, grp[0] ? ")" : "", EVP_PKEY_get_bits(key));
		ERR_clear_error();
	}
	pb_row(b, "SHA-256 fingerprint", "%s", ci.sha256);
	nc = ca_constraints(opt, casubj, sizeof(casubj));
	pb_row(b, "demo CA", "%s", casubj[0] ? casubj : "(not read)");
	pb_row(b, "its name constraints", "%s", nc);
	pb_end_table(b);
	if (strncmp(nc, "Permitted", 9) == 0 || strncmp(nc, "Excluded", 8) == 0)
		pb_p(b, "Name constraints limit what the demo CA can vouch for: a browser that "
		    "trusts it for this lab accepts from it certificates for these names only, "
		    "not for your bank.");
}
