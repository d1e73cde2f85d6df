/* test_url.c -- unit tests for URL parsing, Host header values, IP literals and port flags. */
#include "unit.h"
#include "url.h"

static struct url u;
static void test_url_resolve(void);
static char err[256];

static int
parse(const char *s)
{
	return url_parse(&u, s, err, sizeof(err));
}

/* Rejected, with a reason that mentions the given words. */
static int
refused(const char *s, const char *words)
{
	return parse(s) == -1 && strstr(err, words) != NULL;
}

static void
test_url_parse(void)
{
	static char s[URL_MAX_PATH + 64];
	size_t n;

	CHECK(parse("https://[::1]:8443/x?y#frag") == 0);
	CHECK(u.tls == 1 && u.port == 8443 && u.port_explicit == 1 && u.host_is_ip == 6);
	CHECK_STR(u.scheme, "https");
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.path, "/x?y");
	CHECK_STR(err, "");

	CHECK(parse("http://localhost") == 0);
	CHECK(u.tls == 0 && u.port == 80 && u.port_explicit == 0 && u.host_is_ip == 0);
	CHECK_STR(u.scheme, "http");
	CHECK_STR(u.host, "localhost");
	CHECK_STR(u.path, "/");

	CHECK(parse("HTTPS://Example.COM") == 0);
	CHECK(u.tls == 1 && u.port == 443 && u.port_explicit == 0);
	CHECK_STR(u.scheme, "https");
	CHECK_STR(u.host, "Example.COM");
	CHECK(parse("hTtP://h/") == 0 && u.tls == 0);

	CHECK(parse("http://127.0.0.1:8080/a/b") == 0);
	CHECK(u.host_is_ip == 4 && u.port == 8080);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_STR(u.path, "/a/b");
	CHECK(parse("http://[::ffff:10.0.0.1]/") == 0 && u.host_is_ip == 6 && u.port == 80);
	CHECK(parse("https://[2001:db8::1]") == 0 && u.host_is_ip == 6 && u.port == 443);
	CHECK_STR(u.path, "/");
	CHECK(parse("http://1.2.3/") == 0 && u.host_is_ip == 0);   /* a name, to inet_pton */
	CHECK(parse("http://my_host-1.example./") == 0);
	CHECK_STR(u.host, "my_host-1.example.");

	/* path, query and fragment */
	CHECK(parse("http://h?q=1") == 0);
	CHECK_STR(u.path, "/?q=1");
	CHECK(parse("http://h?q=1#f") == 0);
	CHECK_STR(u.path, "/?q=1");
	CHECK(parse("http://h#f") == 0);
	CHECK_STR(u.path, "/");
	CHECK(parse("http://h/#f") == 0);
	CHECK_STR(u.path, "/");
	CHECK(parse("http://h:81#f") == 0 && u.port == 81);
	CHECK_STR(u.path, "/");
	CHECK(parse("http://h/a%20b/?x=[1]&y=@") == 0);
	CHECK_STR(u.path, "/a%20b/?x=[1]&y=@");
	CHECK(parse("http://h//double") == 0);
	CHECK_STR(u.path, "//double");

	/* ports */
	CHECK(parse("http://h:1/") == 0 && u.port == 1 && u.port_explicit == 1);
	CHECK(parse("http://h:65535/") == 0 && u.port == 65535);
	CHECK(parse("https://h:443/") == 0 && u.port == 443 && u.port_explicit == 1);
	CHECK(parse("http://h:00080/") == 0 && u.port == 80);
	CHECK(refused("http://h:/", "empty port"));
	CHECK(refused("http://h:", "empty port"));
	CHECK(refused("http://[::1]:/", "empty port"));
	CHECK(refused("http://h:0/", "port 0"));
	CHECK(refused("http://h:65536/", "out of range"));
	CHECK(refused("http://h:99999999999999999999/", "out of range"));
	CHECK(refused("http://[::1]:70000/", "out of range"));
	CHECK(refused("http://h:8a/", "not a number"));
	CHECK(refused("http://h:-1/", "not a number"));
	CHECK(refused("http://h:+80/", "not a number"));

	/* schemes */
	CHECK(refused("ftp://h/", "unsupported scheme 'ftp' (use http:// or https://)"));
	CHECK(refused("file:///etc/passwd", "unsupported scheme 'file'"));
	CHECK(refused("ws://h/", "unsupported scheme 'ws'"));
	CHECK(refused("httpss://h/", "unsupported scheme 'httpss'"));
	CHECK(refused("localhost:8080", "missing scheme"));
	CHECK(refused("localhost", "missing scheme"));
	CHECK(refused("/path", "missing scheme"));
	CHECK(refused("://h/", "missing scheme"));
	CHECK(refused("http:/h/", "expected '//' after 'http:'"));
	CHECK(refused("HTTPS:h", "expected '//' after 'HTTPS:'"));

	/* hosts */
	CHECK(refused("http://user@h/", "user:password@"));
	CHECK(refused("http://u:p@h:80/", "user:password@"));
	CHECK(refused("http://@h/", "user:password@"));
	CHECK(refused("http://", "empty host"));
	CHECK(refused("http:///x", "empty host"));
	CHECK(refused("http://?x", "empty host"));
	CHECK(refused("http://:80/", "empty host"));
	CHECK(refused("http://[::1/", "unbalanced '['"));
	CHECK(refused("http://[::1", "unbalanced '['"));
	CHECK(refused("http://::1]/", "brackets"));
	CHECK(refused("http://h]/", "unbalanced ']'"));
	CHECK(refused("http://a[b/", "unbalanced '['"));
	CHECK(refused("http://::1/", "IPv6 address needs brackets"));
	CHECK(refused("http://2001:db8::1/", "IPv6 address needs brackets"));
	CHECK(refused("http://[]/", "empty IPv6"));
	CHECK(refused("http://[127.0.0.1]/", "not an IPv6 address"));
	CHECK(refused("http://[example.com]/", "not an IPv6 address"));
	CHECK(refused("http://[fe80::1%25eth0]/", "not an IPv6 address"));
	CHECK(refused("http://[::1]x/", "after ']'"));
	CHECK(refused("http://[::1]]/", "after ']'"));
	CHECK(refused("http://ex!ample/", "invalid character '!'"));
	CHECK(refused("http://h,i/", "invalid character ','"));
	CHECK(refused("http://h%41/", "invalid character '%'"));

	/* characters anywhere */
	CHECK(refused("http://h ost/", "space"));
	CHECK(refused("http://h/a b", "space"));
	CHECK(refused(" http://h/", "space"));
	CHECK(refused("http://h/\x01", "control character"));
	CHECK(refused("http://h/\t", "control character"));
	CHECK(refused("http://h/\x7f", "control character"));
	CHECK(refused("http://h/\r\nX: y", "control character"));
	CHECK(refused("http://h/caf\xc3\xa9", "non-ASCII"));
	CHECK(refused("", "empty URL"));
	CHECK(url_parse(&u, NULL, err, sizeof(err)) == -1 && strstr(err, "empty URL") != NULL);

	/* limits: host name and path */
	memcpy(s, "http://", 7);
	memset(s + 7, 'a', URL_MAX_HOST - 1);
	strcpy(s + 7 + URL_MAX_HOST - 1, "/p");
	CHECK(parse(s) == 0 && strlen(u.host) == URL_MAX_HOST - 1);
	memset(s + 7, 'a', URL_MAX_HOST);
	strcpy(s + 7 + URL_MAX_HOST, "/p");
	CHECK(refused(s, "host name too long"));
	strcpy(s, "http://h/");
	memset(s + 9, 'p', URL_MAX_PATH - 2);
	s[7 + URL_MAX_PATH] = '\0';
	CHECK(parse(s) == 0 && strlen(u.path) == URL_MAX_PATH - 1);
	strcat(s, "#fragment-does-not-count");
	CHECK(parse(s) == 0 && strlen(u.path) == URL_MAX_PATH - 1);
	strcpy(s, "http://h/");
	memset(s + 9, 'p', URL_MAX_PATH - 1);
	s[8 + URL_MAX_PATH] = '\0';
	CHECK(refused(s, "path too long"));
	strcpy(s, "http://h?");     /* the '/' added in front of a bare query counts */
	memset(s + 9, 'q', URL_MAX_PATH - 3);
	s[6 + URL_MAX_PATH] = '\0';
	CHECK(parse(s) == 0 && strlen(u.path) == URL_MAX_PATH - 1);
	n = strlen(s);
	s[n] = 'q';
	s[n + 1] = '\0';
	CHECK(refused(s, "path too long"));

	/* the error buffer: truncated but terminated, or absent */
	{
		char small[8];

		memset(small, 'x', sizeof(small));
		CHECK(url_parse(&u, "ftp://h/", small, sizeof(small)) == -1);
		CHECK(strlen(small) == sizeof(small) - 1);
		CHECK(url_parse(&u, "ftp://h/", NULL, 0) == -1);
		CHECK(url_parse(&u, "http://h/", NULL, 0) == 0);
	}
	/* a failed parse leaves no half-filled host behind */
	CHECK(parse("http://h:0/") == -1 && u.host[0] == '\0' && u.port == 0);
}

static void
test_url_host_header(void)
{
	char out[64];

	CHECK(parse("https://localhost:8443/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 14);
	CHECK_STR(out, "localhost:8443");
	CHECK(parse("https://[::1]:8443/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 10);
	CHECK_STR(out, "[::1]:8443");
	CHECK(parse("https://[::1]/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 5);
	CHECK_STR(out, "[::1]");
	CHECK(parse("http://Example.com:80/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 11);
	CHECK_STR(out, "Example.com");
	CHECK(parse("https://h:443/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 1);
	CHECK_STR(out, "h");
	CHECK(parse("https://h:80/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 4);
	CHECK_STR(out, "h:80");
	CHECK(parse("http://h:443/") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 5);
	CHECK_STR(out, "h:443");
	CHECK(parse("http://127.0.0.1:8080") == 0);
	CHECK(url_host_header(&u, out, sizeof(out)) == 14);
	CHECK_STR(out, "127.0.0.1:8080");

	/* exactly enough room (the NUL included), and one byte short */
	CHECK(parse("https://[::1]:8443/") == 0);
	CHECK(url_host_header(&u, out, 11) == 10);
	CHECK_STR(out, "[::1]:8443");
	CHECK(url_host_header(&u, out, 10) == -1);
	CHECK(url_host_header(&u, NULL, 0) == -1);
}

static void
test_url_ip_literal(void)
{
	CHECK(url_ip_literal("127.0.0.1") == 4);
	CHECK(url_ip_literal("0.0.0.0") == 4);
	CHECK(url_ip_literal("255.255.255.255") == 4);
	CHECK(url_ip_literal("::1") == 6);
	CHECK(url_ip_literal("::") == 6);
	CHECK(url_ip_literal("2001:db8::1") == 6);
	CHECK(url_ip_literal("::ffff:1.2.3.4") == 6);
	CHECK(url_ip_literal("localhost") == 0);
	CHECK(url_ip_literal("1.2.3") == 0);
	CHECK(url_ip_literal("256.1.1.1") == 0);
	CHECK(url_ip_literal("1.2.3.4 ") == 0);
	CHECK(url_ip_literal("[::1]") == 0);
	CHECK(url_ip_literal(":::1") == 0);
	CHECK(url_ip_literal("") == 0);
	CHECK(url_ip_literal(NULL) == 0);
}

static void
test_url_parse_port(void)
{
	CHECK(url_parse_port("0", 0) == 0);
	CHECK(url_parse_port("1", 0) == 1);
	CHECK(url_parse_port("8080", 0) == 8080);
	CHECK(url_parse_port("65535", 0) == 65535);
	CHECK(url_parse_port("00443", 0) == 443);
	CHECK(url_parse_port("65536", 0) == -1);
	CHECK(url_parse_port("99999999999999999999", 0) == -1);
	CHECK(url_parse_port("", 0) == -1);
	CHECK(url_parse_port(NULL, 1) == -1);
	CHECK(url_parse_port("-1", 0) == -1);
	CHECK(url_parse_port("+80", 0) == -1);
	CHECK(url_parse_port("80a", 0) == -1);
	CHECK(url_parse_port(" 80", 0) == -1);
	CHECK(url_parse_port("80 ", 0) == -1);
	CHECK(url_parse_port("0x50", 0) == -1);
	CHECK(url_parse_port("off", 1) == -2);
	CHECK(url_parse_port("off", 0) == -1);
	CHECK(url_parse_port("OFF", 1) == -1);
	CHECK(url_parse_port("offf", 1) == -1);
}

void
test_url(void)
{
	/* flag numbers and --close-first, shared by both programs */
	CHECK(url_parse_number("0", 0, 10) == 0);
	CHECK(url_parse_number("10", 0, 10) == 10);
	CHECK(url_parse_number("11", 0, 10) == -1);
	CHECK(url_parse_number("0", 1, 10) == -1);
	CHECK(url_parse_number("-1", 0, 10) == -1);
	CHECK(url_parse_number("+5", 0, 10) == -1);
	CHECK(url_parse_number(" 5", 0, 10) == -1);
	CHECK(url_parse_number("5ms", 0, 10) == -1);
	CHECK(url_parse_number("", 0, 10) == -1);
	CHECK(url_parse_number("99999999999999999999", 0, 10) == -1);
	CHECK(url_parse_closer("client") == 0);
	CHECK(url_parse_closer("server") == 1);
	CHECK(url_parse_closer("Server") == -1);
	CHECK(url_parse_closer("") == -1);

	test_url_parse();
	test_url_host_header();
	test_url_ip_literal();
	test_url_parse_port();
	test_url_resolve();
}

/* -L: a Location against the URL it answers. */
static int
resolves(const char *base, const char *ref, const char *want)
{
	static char out[URL_MAX_PATH + 64];
	struct url b;

	if (url_parse(&b, base, err, sizeof(err)) == -1 ||
	    url_resolve(&b, ref, out, sizeof(out)) == -1)
		return 0;
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "url_resolve(%s, %s) = %s, not %s\n", base, ref, out, want);
		return 0;
	}
	return 1;
}

static void
test_url_resolve(void)
{
	struct url a, b;

	CHECK(resolves("http://h:8080/a/b?x", "/c", "http://h:8080/c"));
	CHECK(resolves("http://h:8080/a/b?x", "c?y=1", "http://h:8080/a/c?y=1"));
	CHECK(resolves("http://h/a/b", "../c", "http://h/c"));
	CHECK(resolves("http://h/a/b", "../../../c", "http://h/c"));
	CHECK(resolves("http://h/a/b/", "./c/./d/../e", "http://h/a/b/c/e"));
	CHECK(resolves("http://h/a/b", "..", "http://h/"));
	CHECK(resolves("http://h/a/b?x", "?y", "http://h/a/b?y"));
	CHECK(resolves("http://h/a/b#f", "c#frag", "http://h/a/c"));
	CHECK(resolves("https://[::1]:8443/a", "/b", "https://[::1]:8443/b"));
	CHECK(resolves("https://h:443/a", "/b", "https://h/b"));
	CHECK(resolves("http://h/a", "//other:81/x", "http://other:81/x"));
	CHECK(resolves("http://h/a", "https://other/x", "https://other/x"));
	CHECK(resolves("http://h/a", "/b/../../c?q=/../", "http://h/c?q=/../"));
	CHECK(!resolves("http://h/a", "/b c", "http://h/b c"));
	CHECK(!resolves("http://h/a", "/b\r\nX: y", ""));

	CHECK(url_parse(&a, "http://Host:80/x", err, sizeof(err)) == 0);
	CHECK(url_parse(&b, "http://host/y", err, sizeof(err)) == 0);
	CHECK(url_same_origin(&a, &b));
	CHECK(url_parse(&b, "https://host:80/y", err, sizeof(err)) == 0);
	CHECK(!url_same_origin(&a, &b));
	CHECK(url_parse(&b, "http://host:81/y", err, sizeof(err)) == 0);
	CHECK(!url_same_origin(&a, &b));
}
