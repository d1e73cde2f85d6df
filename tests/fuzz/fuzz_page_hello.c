/* fuzz_page_hello.c -- libFuzzer harness for the page's ClientHello section (server/page_hello.c):
 * a ClientHello from a visitor we do not trust (handshake header first, as the server keeps it),
 * decoded and explained into the HTML page and into its text form. Nothing the visitor sent may
 * become markup, and the text form carries no control byte but the newline. */
#include <stdint.h>
#include <string.h>

#include "../../server/page.h"
#include "../../server/server.h"
#include "fuzz.h"

static int
our_tag(const char *t)
{
	static const char *const tags[] = { "h2", "h3", "p", "div", "ul", "li", "table", "tr",
	    "th", "td", "pre", "details", "summary", "b", "code", "span", "br", "small", "em" };
	size_t i, n;

	if (*t == '/')
		t++;
	n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strlen(tags[i]) == n && strncmp(t, tags[i], n) == 0 &&
		    (t[n] == '>' || t[n] == ' '))
			return 1;
	return 0;
}

static void
render(const uint8_t *data, size_t size, int text)
{
	struct record r;
	struct pfacts f;
	struct pbuf b;
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	memset(&b, 0, sizeof(b));
	b.text = text;
	r.hello = (unsigned char *)data;
	r.hello_len = r.hello_full = size;
	/* what the server's own events would say it chose, from the input's last bytes */
	f.tls = 1;
	f.n_ch = size > 0 && data[size - 1] == 0xff ? 2 : 1;
	f.hrr = f.n_ch == 2;
	snprintf(f.group, sizeof(f.group), "%s", size > 1 && data[size - 2] & 1 ? "X25519" : "P-256");
	snprintf(f.version, sizeof(f.version), "TLSv1.3");
	snprintf(f.cipher, sizeof(f.cipher), "TLS_AES_128_GCM_SHA256");
	page_hello(&b, &r, &f, NULL);
	FUZZ_CHECK(!b.err);
	for (i = 0; i < b.len; i++) {
		if (text)
			FUZZ_CHECK(b.p[i] == '\n' || (unsigned char)b.p[i] >= 0x20);
		else
			FUZZ_CHECK(b.p[i] != '\0');
	}
	if (!text && b.len > 0) {
		char *s = fuzz_cstr((const uint8_t *)b.p, b.len);

		/* every tag is one of the section's own: the input's "<" came out as &lt; */
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] == '<')
				FUZZ_CHECK(our_tag(s + i + 1));
		free(s);
	}
	free(b.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > RECORD_HELLO_MAX)
		return 0;
	render(data, size, 0);
	render(data, size, 1);
	return 0;
}
