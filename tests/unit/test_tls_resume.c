/* test_tls_resume.c -- the hello summaries name a session ticket offered (TLS 1.3
 * pre_shared_key, or a non-empty TLS 1.2 session_ticket) and a PSK accepted. */
#include <string.h>

#include "tls.h"
#include "unit.h"

/* A minimal ClientHello (1 suite, no SNI) whose only extension is EXT with LEN bytes. */
static size_t
client_hello(unsigned char *m, unsigned ext, const unsigned char *body, unsigned len)
{
	static const unsigned char head[] = {
		1, 0, 0, 0, 3, 3,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* random */
		0, 0, 2, 0x13, 0x01, 1, 0,
	};
	size_t n = sizeof(head);

	memcpy(m, head, n);
	m[n++] = 0;
	m[n++] = (unsigned char)(4 + len);
	m[n++] = (unsigned char)(ext >> 8);
	m[n++] = (unsigned char)ext;
	m[n++] = 0;
	m[n++] = (unsigned char)len;
	memcpy(m + n, body, len);
	n += len;
	m[1] = 0;		/* the handshake header's 3-byte length */
	m[2] = (unsigned char)((n - 4) >> 8);
	m[3] = (unsigned char)(n - 4);
	return n;
}

void
test_tls_resume(void)
{
	/* pre_shared_key: one identity (4-byte ticket, age), one 4-byte binder. */
	static const unsigned char psk[] = { 0, 10, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0, 0, 5, 4, 9,
	    9, 9, 9 };
	static const unsigned char ticket[] = { 0xaa, 0xbb, 0xcc };
	static const unsigned char sh[] = {
		2, 0, 0, 60, 3, 3,
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0x13, 0x01, 0,
		0, 20, 0, 43, 0, 2, 3, 4, 0, 51, 0, 4, 0, 0x1d, 0, 0, 0, 41, 0, 2, 0, 0,
	};
	unsigned char m[256];
	char out[256];
	size_t n;

	n = client_hello(m, 41, psk, sizeof(psk));
	tls_hello_summary(m, n, out, sizeof(out));
	CHECK_STR(out, "offers up to TLS 1.2 (legacy_version, no supported_versions); 1 cipher "
	    "suite; offers a session ticket to resume");
	/* TLS 1.2: an empty session_ticket only asks for a ticket; a full one resumes. */
	n = client_hello(m, 35, ticket, 0);
	tls_hello_summary(m, n, out, sizeof(out));
	CHECK_STR(out, "offers up to TLS 1.2 (legacy_version, no supported_versions); 1 cipher "
	    "suite");
	n = client_hello(m, 35, ticket, sizeof(ticket));
	tls_hello_summary(m, n, out, sizeof(out));
	CHECK_STR(out, "offers up to TLS 1.2 (legacy_version, no supported_versions); 1 cipher "
	    "suite; offers a session ticket to resume");
	tls_hello_summary(sh, sizeof(sh), out, sizeof(out));
	CHECK_STR(out, "picks TLSv1.3; key share X25519; accepts the ticket (PSK): resumed");
	/* A pre_shared_key cut short: no read past the end, no claim. */
	n = client_hello(m, 41, psk, sizeof(psk));
	tls_hello_summary(m, n - sizeof(psk) - 1, out, sizeof(out));
	CHECK(strstr(out, "ticket") == NULL);
}
