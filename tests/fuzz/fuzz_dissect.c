/* fuzz_dissect.c -- libFuzzer harness for dissect_message (--dissect): any handshake message
 * from a peer we do not trust, under any version and key exchange. Every item must be sane:
 * a known depth, a printable value NUL-terminated in its buffer, raw bytes inside the input;
 * the return value must agree with a final "error" item; two runs must give the same items.
 * Input: byte 0 = key exchange (bits 0-1, DISSECT_KX_*) and version (bits 2-3: unknown,
 * TLS 1.2, TLS 1.3, 0x7f1c); then the message, handshake header first. */
#include <stdint.h>
#include <string.h>

#include "dissect.h"
#include "fuzz.h"

struct seen {
	const unsigned char	*msg;
	size_t			 len;
	unsigned		 items, errors;
	int			 last_was_error;
	unsigned long		 sum;		/* of everything reported, to compare two runs */
};

static void
check_item(const struct dissect_item *it, void *arg)
{
	struct seen *s = arg;
	size_t n, i;

	FUZZ_CHECK(it->depth >= 0 && it->depth <= 2);
	FUZZ_CHECK(it->field != NULL && it->field[0] != '\0');
	n = strnlen(it->value, sizeof(it->value));
	FUZZ_CHECK(n < sizeof(it->value));
	/* What the log prints: never a control byte or a byte of the peer's raw text. */
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)it->value[i] >= 0x20 && (unsigned char)it->value[i] < 0x7f);
	if (it->bytes != NULL) {
		FUZZ_CHECK(it->bytes >= s->msg && it->nbytes <= s->len &&
		    (size_t)(it->bytes - s->msg) <= s->len - it->nbytes);
		for (i = 0; i < it->nbytes; i++)
			s->sum += it->bytes[i];
	} else
		FUZZ_CHECK(it->nbytes == 0);
	s->last_was_error = strcmp(it->field, "error") == 0;
	s->errors += s->last_was_error;
	s->items++;
	s->sum = s->sum * 31 + n + (unsigned long)it->code + (unsigned long)it->depth;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int versions[] = { 0, 0x0303, 0x0304, 0x7f1c };
	struct dissect_ctx ctx;
	struct seen a, b;
	unsigned char *msg;
	size_t len;
	char hex[17];
	int rc;

	if (size < 1)
		return 0;
	ctx.kx = data[0] & 3;
	ctx.version = versions[(data[0] >> 2) & 3];
	len = size - 1;
	/* An exact-size copy: ASan sees a read one byte past the message. */
	if ((msg = malloc(len ? len : 1)) == NULL)
		abort();
	if (len)
		memcpy(msg, data + 1, len);
	memset(&a, 0, sizeof(a));
	a.msg = msg;
	a.len = len;
	b = a;
	rc = dissect_message(msg, len, &ctx, check_item, &a);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(a.items >= 1);
	/* -1 exactly when the last item is the one error; 0: no error at all. */
	FUZZ_CHECK(rc == -1 ? a.last_was_error && a.errors == 1 : a.errors == 0);
	(void)dissect_message(msg, len, &ctx, check_item, &b);
	FUZZ_CHECK(a.items == b.items && a.sum == b.sum);
	FUZZ_CHECK(!dissect_is_hrr(msg, len) || (len >= 38 && msg[0] == 2));
	/* The hex helper: whatever fits, NUL-terminated. */
	FUZZ_CHECK(dissect_hex(msg, len, hex, sizeof(hex)) == (len < 8 ? len : 8));
	FUZZ_CHECK(strlen(hex) == 2 * (len < 8 ? len : 8));
	free(msg);
	return 0;
}
