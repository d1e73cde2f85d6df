/* url.c -- parses http:// and https:// URLs, IP literals and port flags, without I/O. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L         /* inet_pton under a strict -std=c11 */
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

#define URL_MAX_PORT 65535

static int url_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
url_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII case-insensitive equality of s[0..n) and the C string t. */
static int
ieqn(const char *s, size_t n, const char *t)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char a = s[i], b = t[i];

		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return t[n] == '\0';
}

/* Digits s[0..n) as a port; 65536 stands for "too big" however many digits follow. */
static long
port_value(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		if (v <= URL_MAX_PORT)
			v = v * 10 + (s[i] - '0');
	}
	return v > URL_MAX_PORT ? URL_MAX_PORT + 1 : v;
}

static int
parse(struct url *u, const char *s, char *err, size_t errlen)
{
	const char *p, *auth, *aend, *host, *hend, *path;
	size_t i, n, colons;
	long port;

	if (s == NULL || *s == '\0')
		return url_err(err, errlen, "empty URL");
	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ')
			return url_err(err, errlen, "space in the URL (write it as %%20)");
		if (c < 0x20 || c == 0x7f)
			return url_err(err, errlen, "control character in the URL");
		if (c >= 0x80)
			return url_err(err, errlen,
			    "non-ASCII character in the URL (percent-encode it)");
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" */
	for (i = 0; is_alpha(s[i]) || (i > 0 && (is_digit(s[i]) || s[i] == '+' ||
	    s[i] == '-' || s[i] == '.')); i++)
		;
	if (i == 0 || s[i] != ':')
		return url_err(err, errlen,
		    "missing scheme (write http://host/ or https://host/)");
	if (ieqn(s, i, "http"))
		u->tls = 0;
	else if (ieqn(s, i, "https"))
		u->tls = 1;
	else if (strncmp(s + i, "://", 3) == 0)
		return url_err(err, errlen, "unsupported scheme '%.*s' (use http:// or https://)",
		    (int)(i > 16 ? 16 : i), s);
	else    /* "localhost:8080" reads as scheme "localhost" */
		return url_err(err, errlen,
		    "missing scheme (write http://host/ or https://host/)");
	if (strncmp(s + i, "://", 3) != 0)
		return url_err(err, errlen, "expected '//' after '%.*s:'", (int)i, s);
	strcpy(u->scheme, u->tls ? "https" : "http");

	/* authority = host [ ":" port ], up to the path, query or fragment */
	auth = s + i + 3;
	aend = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(aend - auth)) != NULL)
		return url_err(err, errlen, "user:password@ in a URL is not supported");
	if (aend == auth)
		return url_err(err, errlen, "empty host");
	if (*auth == '[') {
		if ((hend = memchr(auth, ']', (size_t)(aend - auth))) == NULL)
			return url_err(err, errlen, "unbalanced '[' in the host (write [::1])");
		host = auth + 1;
		n = (size_t)(hend - host);
		if (n == 0)
			return url_err(err, errlen, "empty IPv6 address in brackets");
		if (n >= sizeof(u->host))
			return url_err(err, errlen, "IPv6 address too long");
		memcpy(u->host, host, n);
		u->host[n] = '\0';
		if (url_ip_literal(u->host) != 6)
			return url_err(err, errlen,
			    "'%s' in brackets is not an IPv6 address", u->host);
		u->host_is_ip = 6;
		p = hend + 1;
		if (p < aend && *p != ':')
			return url_err(err, errlen, "unexpected characters after ']'");
	} else {
		for (colons = 0, p = auth; p < aend; p++)
			colons += *p == ':';
		if (colons > 1)
			return url_err(err, errlen,
			    "too many ':' in the host (an IPv6 address needs brackets: "
			    "http://[::1]:8080/)");
		if ((hend = memchr(auth, ':', (size_t)(aend - auth))) == NULL)
			hend = aend;
		n = (size_t)(hend - auth);
		if (n == 0)
			return url_err(err, errlen, "empty host");
		if (n >= sizeof(u->host))
			return url_err(err, errlen, "host name too long");
		for (p = auth; p < hend; p++) {
			if (*p == '[' || *p == ']')
				return url_err(err, errlen, "unbalanced '%c' in the host", *p);
			if (!is_alpha(*p) && !is_digit(*p) && *p != '-' && *p != '.' &&
			    *p != '_')
				return url_err(err, errlen,
				    "invalid character '%c' in the host name", *p);
		}
		memcpy(u->host, auth, n);
		u->host[n] = '\0';
		u->host_is_ip = url_ip_literal(u->host);
		p = hend;
	}

	u->port = u->tls ? 443 : 80;
	if (p < aend) {         /* *p == ':' */
		p++;
		if (p == aend)
			return url_err(err, errlen, "empty port after ':'");
		if ((port = port_value(p, (size_t)(aend - p))) == -1)
			return url_err(err, errlen, "port '%.*s' is not a number",
			    (int)(aend - p > 16 ? 16 : aend - p), p);
		if (port == 0)
			return url_err(err, errlen, "port 0 is not valid in a URL");
		if (port > URL_MAX_PORT)
			return url_err(err, errlen, "port out of range (1-65535)");
		u->port = (int)port;
		u->port_explicit = 1;
	}

	/* path + query as they go on the request line; the fragment stays in the browser */
	path = aend;
	n = strcspn(path, "#");
	if (n == 0)
		strcpy(u->path, "/");
	else if (*path == '?') {
		if (n + 1 >= sizeof(u->path))
			return url_err(err, errlen, "path too long");
		u->path[0] = '/';
		memcpy(u->path + 1, path, n);
		u->path[n + 1] = '\0';
	} else {
		if (n >= sizeof(u->path))
			return url_err(err, errlen, "path too long");
		memcpy(u->path, path, n);
		u->path[n] = '\0';
	}
	return 0;
}

int
url_parse(struct url *u, const char *s, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (parse(u, s, err, errlen) == -1) {
		/* no half-filled host or port for a caller that forgets to check */
		memset(u, 0, sizeof(*u));
		return -1;
	}
	return 0;
}

int
url_host_header(const struct url *u, char *out, size_t outlen)
{
	int n, v6;

	v6 = u->host_is_ip == 6 || strchr(u->host, ':') != NULL;
	if (u->port == (u->tls ? 443 : 80))
		n = snprintf(out, outlen, "%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
	else
		n = snprintf(out, outlen, "%s%s%s:%d", v6 ? "[" : "", u->host, v6 ? "]" : "",
		    u->port);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}

int
url_ip_literal(const char *s)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, &a4) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return 6;
	return 0;
}

int
url_parse_port(const char *s, int allow_off)
{
	long v;

	if (s == NULL)
		return -1;
	if (allow_off && strcmp(s, "off") == 0)
		return -2;
	v = port_value(s, strlen(s));
	return v > URL_MAX_PORT ? -1 : (int)v;
}

long
url_parse_number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	return v;
}

int
url_parse_closer(const char *s)
{
	if (strcmp(s, "client") == 0)
		return 0;
	if (strcmp(s, "server") == 0)
		return 1;
	return -1;
}

/* RFC 3986 5.2.4: "/a/b/../c/./d" -> "/a/c/d", in place (the path only, no query). */
static void
remove_dots(char *path)
{
	char *in = path, *out = path, *slash;

	while (*in != '\0') {
		if (strncmp(in, "/./", 3) == 0)
			in += 2;
		else if (strcmp(in, "/.") == 0)
			in[1] = '\0';
		else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			in += 3;
			if (*in == '\0')
				*--in = '/';
			/* drop the last segment written */
			*out = '\0';
			slash = strrchr(path, '/');
			out = slash != NULL && slash < out ? slash : path;
		} else {
			do
				*out++ = *in++;
			while (*in != '\0' && *in != '/');
		}
	}
	*out = '\0';
	if (path[0] == '\0')
		strcpy(path, "/");
}

int
url_resolve(const struct url *base, const char *ref, char *out, size_t outlen)
{
	char auth[URL_MAX_HOST + 16], path[URL_MAX_PATH + URL_MAX_PATH];
	const char *q;
	size_t i, dir;
	int n;

	for (i = 0; ref[i] != '\0'; i++)
		if ((unsigned char)ref[i] <= 0x20 || (unsigned char)ref[i] >= 0x7f)
			return -1;
	/* absolute: "http:..." or "https:..." (any scheme: url_parse says which it takes) */
	for (i = 0; is_alpha(ref[i]) || (i > 0 && (is_digit(ref[i]) || ref[i] == '+' ||
	    ref[i] == '-' || ref[i] == '.')); i++)
		;
	if (i > 0 && ref[i] == ':')
		n = snprintf(out, outlen, "%s", ref);
	else if (ref[0] == '/' && ref[1] == '/')	/* scheme-relative: another host */
		n = snprintf(out, outlen, "%s:%s", base->scheme, ref);
	else {
		if (url_host_header(base, auth, sizeof(auth)) == -1)
			return -1;
		if (ref[0] == '/')
			n = snprintf(path, sizeof(path), "%s", ref);
		else if (ref[0] == '?' || ref[0] == '\0' || ref[0] == '#')
			n = snprintf(path, sizeof(path), "%.*s%s",
			    (int)strcspn(base->path, "?"), base->path, ref[0] == '#' ? "" : ref);
		else {
			/* relative: beside the last segment of the base's path */
			dir = strcspn(base->path, "?");
			while (dir > 0 && base->path[dir - 1] != '/')
				dir--;
			n = snprintf(path, sizeof(path), "%.*s%s", (int)dir, base->path, ref);
		}
		if (n < 0 || (size_t)n >= sizeof(path))
			return -1;
		path[strcspn(path, "#")] = '\0';
		q = strchr(path, '?');
		if (q != NULL) {
			char query[URL_MAX_PATH + URL_MAX_PATH];

			snprintf(query, sizeof(query), "%s", q);
			path[q - path] = '\0';
			remove_dots(path);
			n = snprintf(out, outlen, "%s://%s%s%s", base->scheme, auth, path, query);
		} else {
			remove_dots(path);
			n = snprintf(out, outlen, "%s://%s%s", base->scheme, auth, path);
		}
	}
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

int
url_same_origin(const struct url *a, const struct url *b)
{
	return a->tls == b->tls && a->port == b->port && strcasecmp(a->host, b->host) == 0;
}
