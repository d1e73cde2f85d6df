/* fuzz.h -- what every libFuzzer harness shares: an invariant check that aborts (so libFuzzer keeps
 * the input as a crash) whatever NDEBUG says, and bounds checks for strings a parser hands back. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* s points into base[0..len) and its NUL comes before base + len. */
static inline int
fuzz_str_within(const char *s, const char *base, size_t len)
{
	return s != NULL && s >= base && s < base + len &&
	    memchr(s, '\0', (size_t)(base + len - s)) != NULL;
}

/* A copy of data[0..size) with a NUL after it, for the functions that take a C string. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
