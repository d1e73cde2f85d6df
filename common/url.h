/* url.h -- URL, host:port and port-flag parsing for both programs. Pure functions. */
#ifndef URL_H
#define URL_H

#include <stddef.h>

#define URL_MAX_HOST 256
#define URL_MAX_PATH 4096

struct url {
	int tls;                        /* 1 for https */
	char scheme[8];                 /* "http" / "https" */
	char host[URL_MAX_HOST];        /* without brackets: "localhost", "127.0.0.1", "::1" */
	int host_is_ip;                 /* 4 or 6 for an IP literal, 0 for a name */
	int port;                       /* explicit or the scheme's default (80 / 443) */
	int port_explicit;              /* 1 if the URL named the port */
	char path[URL_MAX_PATH];        /* path + query as sent on the request line, "/" if empty;
	                                   the fragment is dropped */
};

/* Parse an absolute http:// or https:// URL. Returns 0, or -1 with a plain-words reason in
 * err (e.g. "unsupported scheme 'ftp' (use http:// or https://)"). Rejects user:password@,
 * empty hosts, bad or out-of-range ports, unbalanced brackets, control characters and spaces. */
int url_parse(struct url *u, const char *s, char *err, size_t errlen);

/* The Host header value for u: "localhost:8443", "[::1]:8443"; the port is left out when it is
 * the scheme's default. Returns the length, or -1 if it does not fit. */
int url_host_header(const struct url *u, char *out, size_t outlen);

/* 4 if s is an IPv4 literal, 6 if an IPv6 literal (no brackets), 0 otherwise. */
int url_ip_literal(const char *s);

/* A port flag value: "0".."65535" (0 = let the kernel pick). If allow_off, "off" gives -2.
 * Returns the port, -2 for off, or -1 if invalid. */
int url_parse_port(const char *s, int allow_off);

/* A whole-number flag value from min to max (min >= 0): the value, or -1 if invalid. */
long url_parse_number(const char *s, long min, long max);

/* --close-first: 0 for "client", 1 for "server", -1 otherwise. */
int url_parse_closer(const char *s);

/* A redirect's Location resolved against the URL it answers (RFC 3986 5.2: the forms servers
 * send): absolute ("https://h/p"), scheme-relative ("//h/p"), a path ("/p"), a query ("?q"),
 * relative ("p", "../p"); dot segments removed, the fragment dropped. Writes the absolute URL
 * to out (url_parse checks it). Returns 0, or -1 if it does not fit or holds a space or a
 * control character. */
int url_resolve(const struct url *base, const char *ref, char *out, size_t outlen);

/* 1 if a and b name the same origin: scheme, host (case aside) and port. */
int url_same_origin(const struct url *a, const struct url *b);

#endif
