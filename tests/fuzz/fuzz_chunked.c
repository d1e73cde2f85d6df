/* fuzz_chunked.c -- libFuzzer harness for the incremental chunked-body decoder: the body decoded
 * in one call must come out the same when it arrives in pieces and the output buffer is small.
 * Input: one control byte (low nibble: how long the pieces get, high nibble: the output buffer
 * size), then the bytes after a head that said "Transfer-Encoding: chunked". */
#include <stdint.h>
#include <string.h>

#include "http1.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_chunked one, inc;
	const char *in;
	char *ref, *got, small[64];
	size_t inlen, reflen, refused, gotlen = 0, pos = 0, piece, cap, outlen, used;
	unsigned piece_mod;
	int r1, r = 0, calls = 0;

	if (size < 1)
		return 0;
	piece_mod = (data[0] & 0x0f) + 1;               /* pieces of 1..16 bytes */
	cap = (size_t)(data[0] >> 4) * 4 + 1;           /* 1..61 bytes of output per call */
	in = (const char *)data + 1;
	inlen = size - 1;

	/* The reference: everything in one call, with room for every byte (decoded <= input). */
	ref = malloc(inlen + 1);
	got = malloc(inlen + 1);
	if (ref == NULL || got == NULL)
		abort();
	http1_chunked_init(&one);
	reflen = inlen;
	r1 = http1_chunked_decode(&one, in, inlen, ref, &reflen, &refused);
	FUZZ_CHECK(r1 == -1 || r1 == 0 || r1 == 1);
	FUZZ_CHECK(refused <= inlen && reflen <= refused && one.total == reflen);
	if (r1 == 0)
		FUZZ_CHECK(refused == inlen);   /* it only stops early to report an end */

	/* The same bytes, in pieces whose lengths come from the data itself. */
	http1_chunked_init(&inc);
	while (pos < inlen && r == 0) {
		piece = 1 + (unsigned char)in[pos] % piece_mod;
		if (piece > inlen - pos)
			piece = inlen - pos;
		/* One piece may take several calls when the output buffer fills up. */
		while (piece > 0 && r == 0) {
			outlen = cap;
			r = http1_chunked_decode(&inc, in + pos, piece, small, &outlen, &used);
			FUZZ_CHECK(r == -1 || r == 0 || r == 1);
			FUZZ_CHECK(used <= piece && outlen <= cap);
			/* No progress on a non-empty input with room to write would hang the
			 * caller's loop. */
			if (r == 0)
				FUZZ_CHECK(used > 0);
			FUZZ_CHECK(gotlen + outlen <= inlen);
			memcpy(got + gotlen, small, outlen);
			gotlen += outlen;
			pos += used;
			piece -= used;
			FUZZ_CHECK(++calls <= 4 * (int)inlen + 4);
		}
	}
	FUZZ_CHECK(r == r1);
	FUZZ_CHECK(pos == refused);
	FUZZ_CHECK(gotlen == reflen && memcmp(got, ref, gotlen) == 0);
	FUZZ_CHECK(inc.total == one.total);

	/* Once done or broken, the decoder stays so and takes nothing more. */
	if (r != 0) {
		outlen = cap;
		FUZZ_CHECK(http1_chunked_decode(&inc, "0\r\n\r\n", 5, small, &outlen, &used) == r);
		FUZZ_CHECK(used == 0 && outlen == 0);
	}
	free(ref);
	free(got);
	return 0;
}
