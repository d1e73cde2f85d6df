/* test_tls_names.c -- TLS message, alert and version names, and the hello summaries. */
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"
#include "unit.h"

void
test_tls_names(void)
{
	unsigned char hrr[4 + 2 + 32] = { 2, 0, 0, 34, 3, 3,
	    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
	    0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
	    0xc8, 0xa8, 0x33, 0x9c };
	/* A minimal ClientHello: TLS 1.2 legacy version, 2 suites, SNI "localhost",
	 * supported_versions {1.3, 1.2}, key_share {X25519 with a 1-byte key}. */
	unsigned char ch[] = {
		1, 0, 0, 0,			/* type, length (set below) */
		3, 3,				/* legacy_version */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* random */
		0,				/* session id */
		0, 4, 0x13, 0x01, 0x13, 0x02,	/* cipher suites */
		1, 0,				/* compression */
		0, 38,				/* extensions length */
		0, 0, 0, 14, 0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
		0, 43, 0, 5, 4, 3, 4, 3, 3,
		0, 51, 0, 7, 0, 5, 0, 0x1d, 0, 1, 0x42,
	};
	unsigned char sh[] = {
		2, 0, 0, 0, 3, 3,
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0x13, 0x01, 0,
		0, 14, 0, 43, 0, 2, 3, 4, 0, 51, 0, 4, 0, 0x17, 0, 0,
	};
	char out[256];

	CHECK_STR(tls_handshake_name(1, NULL, 0), "ClientHello");
	CHECK_STR(tls_handshake_name(2, NULL, 0), "ServerHello");
	CHECK_STR(tls_handshake_name(2, hrr, sizeof(hrr)), "HelloRetryRequest");
	hrr[10] ^= 1;
	CHECK_STR(tls_handshake_name(2, hrr, sizeof(hrr)), "ServerHello");
	CHECK_STR(tls_handshake_name(8, NULL, 0), "EncryptedExtensions");
	CHECK_STR(tls_handshake_name(11, NULL, 0), "Certificate");
	CHECK_STR(tls_handshake_name(12, NULL, 0), "ServerKeyExchange");
	CHECK_STR(tls_handshake_name(13, NULL, 0), "CertificateRequest");
	CHECK_STR(tls_handshake_name(14, NULL, 0), "ServerHelloDone");
	CHECK_STR(tls_handshake_name(15, NULL, 0), "CertificateVerify");
	CHECK_STR(tls_handshake_name(16, NULL, 0), "ClientKeyExchange");
	CHECK_STR(tls_handshake_name(20, NULL, 0), "Finished");
	CHECK_STR(tls_handshake_name(4, NULL, 0), "NewSessionTicket");
	CHECK_STR(tls_handshake_name(99, NULL, 0), "Unknown");

	CHECK_STR(tls_alert_name(0), "close_notify");
	CHECK_STR(tls_alert_name(48), "unknown_ca");
	CHECK_STR(tls_alert_name(116), "certificate_required");
	CHECK_STR(tls_alert_name(42), "bad_certificate");
	/* Every alert of RFC 8446 6 and RFC 5246 7.2 has its name (issue 12, item 9). */
	CHECK_STR(tls_alert_name(21), "decryption_failed");
	CHECK_STR(tls_alert_name(30), "decompression_failure");
	CHECK_STR(tls_alert_name(41), "no_certificate");
	CHECK_STR(tls_alert_name(60), "export_restriction");
	CHECK_STR(tls_alert_name(100), "no_renegotiation");
	CHECK_STR(tls_alert_name(111), "certificate_unobtainable");
	CHECK_STR(tls_alert_name(113), "bad_certificate_status_response");
	CHECK_STR(tls_alert_name(114), "bad_certificate_hash_value");
	CHECK_STR(tls_alert_name(115), "unknown_psk_identity");
	{
		static const int all[] = { 0, 10, 20, 21, 22, 30, 40, 41, 42, 43, 44, 45, 46,
		    47, 48, 49, 50, 51, 60, 70, 71, 80, 86, 90, 100, 109, 110, 111, 112, 113,
		    114, 115, 116, 120 };
		size_t i;

		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			CHECK(strcmp(tls_alert_name(all[i]), "unknown_alert") != 0);
		CHECK_STR(tls_alert_name(121), "unknown_alert");
	}

	CHECK(tls_parse_version("1.2") == TLS1_2_VERSION);
	CHECK(tls_parse_version("TLSv1.3") == TLS1_3_VERSION);
	CHECK(tls_parse_version("1.1") == -1);
	CHECK(tls_parse_version("") == -1);
	CHECK_STR(tls_version_name(TLS1_3_VERSION), "TLSv1.3");

	/* The summary is read from the dissection, which checks the header's length. */
	ch[3] = sizeof(ch) - 4;
	sh[3] = sizeof(sh) - 4;
	tls_hello_summary(ch, sizeof(ch), out, sizeof(out));
	CHECK_STR(out, "offers TLS 1.3, 1.2; 2 cipher suites; key share X25519; SNI localhost");
	tls_hello_summary(sh, sizeof(sh), out, sizeof(out));
	CHECK_STR(out, "picks TLSv1.3; key share P-256");
	/* Truncated input never reads past the end and gives a partial or empty summary. */
	for (size_t n = 0; n < sizeof(ch); n++) {
		tls_hello_summary(ch, n, out, sizeof(out));
		CHECK(strlen(out) < sizeof(out));
	}

	CHECK(strstr(tls_verify_plain(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), "self-signed")
	    != NULL);
	CHECK(strstr(tls_verify_plain(X509_V_ERR_HOSTNAME_MISMATCH), "name") != NULL);
	CHECK(strstr(tls_verify_plain(X509_V_ERR_CERT_HAS_EXPIRED), "expired") != NULL);
}
