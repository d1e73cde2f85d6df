/* fuzz_tls_hello.c -- libFuzzer harness for tls_hello_summary: a ClientHello, ServerHello or HRR
 * (handshake header first, as OpenSSL's message callback hands it over) from a peer we do not
 * trust, summarised into the log's buffer size and into a small one. */
#include <stdint.h>
#include <string.h>

#include "tls.h"
#include "fuzz.h"

#define LOG_SUMMARY 256         /* the size tls.c's message callback uses */

/* The summary into a heap buffer of exactly outlen bytes, so ASan sees a write past it. */
static char *
summary(const uint8_t *data, size_t size, size_t outlen)
{
	char *out = malloc(outlen);

	if (out == NULL)
		abort();
	memset(out, 'x', outlen);
	tls_hello_summary(data, size, out, outlen);
	FUZZ_CHECK(memchr(out, '\0', outlen) != NULL);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *full, *cut;
	size_t cutlen = 1 + size % 48, n;

	full = summary(data, size, LOG_SUMMARY);
	if (full[0] != '\0' && data[0] == 1)
		FUZZ_CHECK(strncmp(full, "offers ", 7) == 0);
	else if (full[0] != '\0')	/* a ServerHello, or a HelloRetryRequest */
		FUZZ_CHECK(data[0] == 2 && (strncmp(full, "picks ", 6) == 0 ||
		    strncmp(full, "asks for a key share for ", 25) == 0));
	/* A smaller buffer gives the same words, cut short. */
	cut = summary(data, size, cutlen);
	n = strlen(full) < cutlen - 1 ? strlen(full) : cutlen - 1;
	FUZZ_CHECK(strlen(cut) == n && memcmp(cut, full, n) == 0);
	free(full);
	free(cut);
	return 0;
}
