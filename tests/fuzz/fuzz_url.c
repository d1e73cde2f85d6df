/* fuzz_url.c -- libFuzzer harness for URL parsing, the Host header built from a parsed URL, and
 * the port flags: the input, as a C string, goes to url_parse, url_ip_literal and url_parse_port. */
#include <stdint.h>
#include <string.h>

#include "url.h"
#include "fuzz.h"

static int
is_ctl_or_space(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f;
}

/* A parsed URL the client will connect to and put on the request line. */
static void
check_url(const struct url *u)
{
	const char *p;

	FUZZ_CHECK(u->tls == 0 || u->tls == 1);
	FUZZ_CHECK(strcmp(u->scheme, u->tls ? "https" : "http") == 0);
	FUZZ_CHECK(memchr(u->host, '\0', sizeof(u->host)) != NULL && u->host[0] != '\0');
	FUZZ_CHECK(memchr(u->path, '\0', sizeof(u->path)) != NULL && u->path[0] == '/');
	FUZZ_CHECK(u->port >= 1 && u->port <= 65535);
	FUZZ_CHECK(u->port_explicit || u->port == (u->tls ? 443 : 80));
	FUZZ_CHECK(u->host_is_ip == url_ip_literal(u->host));
	for (p = u->host; *p != '\0'; p++)
		FUZZ_CHECK(!is_ctl_or_space((unsigned char)*p) && *p != '/' && *p != '@' &&
		    *p != '[' && *p != ']');
	for (p = u->path; *p != '\0'; p++)
		FUZZ_CHECK(!is_ctl_or_space((unsigned char)*p) && *p != '#');
}

/* The Host header, into a buffer of exactly outlen bytes (ASan sees any write past it). */
static int
host_header(const struct url *u, size_t outlen, char **out)
{
	int n;

	*out = malloc(outlen);
	if (*out == NULL)
		abort();
	n = url_host_header(u, *out, outlen);
	FUZZ_CHECK(n >= -1);
	if (n >= 0)
		FUZZ_CHECK((size_t)n < outlen && strlen(*out) == (size_t)n);
	else
		FUZZ_CHECK(memchr(*out, '\0', outlen) != NULL);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct url u, back;
	char *s, *hh, *small, *again, err[128];
	size_t i;
	int n, port, ip;

	s = fuzz_cstr(data, size);
	memset(err, 'x', sizeof(err));
	if (url_parse(&u, s, err, sizeof(err)) == 0) {
		check_url(&u);
		n = host_header(&u, URL_MAX_HOST + 16, &hh);
		FUZZ_CHECK(n > 0);
		/* A buffer one byte short must be refused, never overrun. */
		FUZZ_CHECK(host_header(&u, (size_t)n, &small) == -1);
		free(small);
		/* scheme://Host-header/path parses back to the same place. */
		again = malloc(strlen(u.scheme) + 3 + (size_t)n + strlen(u.path) + 1);
		if (again == NULL)
			abort();
		sprintf(again, "%s://%s%s", u.scheme, hh, u.path);
		FUZZ_CHECK(url_parse(&back, again, NULL, 0) == 0);
		FUZZ_CHECK(back.tls == u.tls && back.port == u.port &&
		    back.host_is_ip == u.host_is_ip && strcmp(back.host, u.host) == 0 &&
		    strcmp(back.path, u.path) == 0);
		free(again);
		free(hh);
	} else {
		/* A refusal says why and leaves nothing half-filled behind. */
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		for (i = 0; i < sizeof(u); i++)
			FUZZ_CHECK(((const unsigned char *)&u)[i] == 0);
	}

	ip = url_ip_literal(s);
	FUZZ_CHECK(ip == 0 || ip == 4 || ip == 6);

	port = url_parse_port(s, 0);
	FUZZ_CHECK(port >= -1 && port <= 65535);
	if (port >= 0) {
		/* Only digits make a port, and they mean what they say. */
		FUZZ_CHECK(s[0] != '\0' && strspn(s, "0123456789") == strlen(s));
		FUZZ_CHECK(strtol(s, NULL, 10) == port);
	}
	n = url_parse_port(s, 1);
	FUZZ_CHECK(n == (strcmp(s, "off") == 0 ? -2 : port));
	free(s);
	return 0;
}
