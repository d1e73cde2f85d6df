/* options.c -- the server's flags: their table (which also writes --help and man/server.1)
 * and the reading of a command line into struct options. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "tls.h"
#include "url.h"

/* The server's own flags; the shared ones are enum cmdline_flag. */
enum server_flag {
	F_BIND = F_SHARED_LAST, F_HTTP_PORT, F_HTTPS_PORT, F_SELFSIGNED_PORT, F_RSA_PORT,
	F_CERTS, F_IDLE_TIMEOUT, F_HEADER_TIMEOUT, F_ACCEPT_DELAY, F_BACKLOG, F_CLIENT_AUTH,
	F_CLIENT_CA, F_GALLERY, F_GALLERY_BASE, F_LIVE, F_LIVE_TOKEN
};

static const struct flag flags[] = {
	{ F_BIND, "bind", 'b', "ADDR|NAME", "address to listen on, IPv4 or IPv6, or a host "
	    "name: then every address it has here (getaddrinfo(): /etc/hosts, then DNS), which "
	    "a resolve event lists (repeat for up to 8; 16 addresses in all); default 127.0.0.1 "
	    "and ::1 (where ::1 does not exist: a warning, then 127.0.0.1 alone)" },
	{ F_HTTP_PORT, "http-port", 0, "PORT", "plain HTTP port (default 8080)" },
	{ F_HTTPS_PORT, "https-port", 0, "PORT", "HTTPS with the CA-signed certificate "
	    "(default 8443)" },
	{ F_SELFSIGNED_PORT, "selfsigned-port", 0, "PORT", "HTTPS with the self-signed "
	    "certificate DIR/selfsigned.crt and .key (default 8444)" },
	{ F_RSA_PORT, "rsa-port", 0, "PORT", "HTTPS with the RSA certificate "
	    "DIR/server-rsa.crt and .key, for TLS 1.2 RSA key transport (client --tls-max 1.2 "
	    "--kx rsa); also ECDHE and TLS 1.3 (default off; e.g. 8445)" },
	{ F_CERTS, "certs", 0, "DIR", "where the demo certificates are (default certs/out, or "
	    "if there is none here, ../certs/out from the program's directory)" },
	FLAG_SHARED(F_CERT, "the certificate for --https-port (PEM, may include its chain; "
	    "default DIR/server.crt); goes with --key"),
	FLAG_SHARED(F_KEY, "its key (default DIR/server.key)"),
	{ F_IDLE_TIMEOUT, "idle-timeout", 0, "SEC", "close a connection idle this long, "
	    "1-3600: between keep-alive requests, in the TLS handshake, while a request body "
	    "stalls, while a response the client stopped reading makes no progress (the send "
	    "timeout; a response still being read is not idle) (default 30)" },
	{ F_HEADER_TIMEOUT, "header-timeout", 0, "SEC", "a request head must be complete "
	    "within SEC seconds (1-3600) of its first byte, however slowly it trickles in; on a "
	    "new connection from accept(), TLS handshake included; late: 408 and close (a "
	    "connection that sent nothing: closed without an answer) (default 20)" },
	FLAG_SHARED(F_CLOSE_FIRST, NULL),
	FLAG_SHARED(F_HOLD_CLOSE, NULL),
	FLAG_SHARED(F_ABORT, NULL),
	FLAG_SHARED(F_LINGER_WATCH, NULL),
	{ F_ACCEPT_DELAY, "accept-delay", 0, "MS", "wait MS ms (0-60000, default 0) before each "
	    "accept(), so new connections wait in the accept queue (and, once it is full, SYNs "
	    "are dropped: the client sits in SYN_SENT); accept_wait events show the queue" },
	{ F_BACKLOG, "backlog", 0, "N", "listen() backlog, the accept queue's size, 0-4096 "
	    "(default 128; 0 lets one connection wait)" },
	{ F_CLIENT_AUTH, "client-auth", 0, "none|optional|require", "ask HTTPS clients for a "
	    "certificate (mutual TLS) on the HTTPS, self-signed and RSA ports: optional accepts "
	    "a client without one, require refuses it (alert 116; TLS 1.2: 40); one sent is "
	    "checked either way (default none; needs --client-ca)" },
	{ F_CLIENT_CA, "client-ca", 0, "FILE", "the CA(s) client certificates must chain to "
	    "(PEM), e.g. certs/out/ca.crt; their names go into the CertificateRequest, and the "
	    "server's own chain is completed from them" },
	FLAG_SHARED(F_GROUPS, NULL),
	FLAG_SHARED(F_DISSECT, NULL),
	{ F_GALLERY, "gallery", 0, NULL, "also serve the certificate gallery of "
	    "DIR/gallery/index.tsv (certs/make-certs.sh --gallery): one HTTPS port per "
	    "certificate problem on every --bind address, listed in the start lines and on the "
	    "HTTP page; a missing index stops the server at start" },
	{ F_GALLERY_BASE, "gallery-base", 0, "PORT", "the gallery's first port: the scenarios "
	    "get PORT, PORT+1, ... in index.tsv's order (default 8450; 0: the kernel picks "
	    "each)" },
	{ F_LIVE, "live", 0, "on|off", "GET /live, the class view: each connection as it "
	    "arrives (Server-Sent Events from the event log: none with -q), at most 8 viewers, "
	    "the last 50 closed connections kept for a click; it shows every visitor's address, "
	    "so only loopback clients may view it unless --live-token; off: /live answers 404 "
	    "(default on)" },
	{ F_LIVE_TOKEN, "live-token", 0, "TOKEN", "let any client view /live with "
	    "?token=TOKEN (1-128 letters, digits, '-', '.', '_', '~'; compared in constant "
	    "time); a wrong token is refused from loopback too" },
	{ 0 }
};

static const struct flags_exit exits[] = {
	{ 0, "stopped by SIGINT/SIGTERM" },
	{ 1, "runtime error (a certificate or key missing, unreadable or not matching, a "
	    "--client-ca file that cannot be loaded, the gallery's index missing, a port in "
	    "use, every port off)" },
	{ 2, "usage error (an unknown flag, a bad value such as a port or a --groups list, "
	    "--cert without --key, --client-auth without --client-ca)" },
	{ 0, NULL }
};

static const struct flags_item environment[] = {
	{ "NO_COLOR", "if set, --color auto (the default) gives no colour, even on a terminal" },
	{ NULL, NULL }
};

static const struct flags_item files[] = {
	{ "certs/out/", "the demo certificates (certs/make-certs.sh): server.crt and server.key "
	    "(--https-port), selfsigned.crt and selfsigned.key (--selfsigned-port), "
	    "server-rsa.crt and server-rsa.key (--rsa-port), gallery/ (--gallery), and ca.crt "
	    "for the clients. Looked for in ./certs/out, then in certs/out beside the build "
	    "directory of the binary; --certs names another place." },
	{ NULL, NULL }
};

const struct flags_prog server_flags = {
	.name = "server",
	.summary = "serve HTTP and HTTPS on loopback and log every step of each connection",
	.description = "Serve HTTP and HTTPS on loopback and log every step of each "
	    "connection: the TCP handshake, the TLS handshake, the request and response, the "
	    "close.\nThe event log goes to standard output.",
	.flags = flags,
	.shared = cmdline_flags,
	.notes = "PORT (--http-port, --https-port, --selfsigned-port, --rsa-port): a number, "
	    "0 = let the kernel pick (the listen events and the try: lines say which; every "
	    "--bind address gets the same one), off = no listener.\nSIGINT or SIGTERM: stop "
	    "accepting, close the open connections gracefully (at most 3 s), exit 0; a second "
	    "signal stops at once.",
	.exits = exits,
	.environment = environment,
	.files = files,
	.see_also = "client(1), ladder(1), curl(1), openssl-s_client(1ssl)",
};

static const char *
default_certs_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (access("certs/out", F_OK) == 0)
		return "certs/out";
	/* Run from elsewhere: look beside the binary (build/server -> certs/out). */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%.*s/../certs/out", (int)(sizeof(dir) - 20), exe);
			if (access(dir, F_OK) == 0)
				return dir;
		}
	}
	return "certs/out";
}

static int
parse_client_auth(const char *s)
{
	if (strcmp(s, "optional") == 0)
		return TLS_CLIENT_AUTH_OPTIONAL;
	if (strcmp(s, "require") == 0)
		return TLS_CLIENT_AUTH_REQUIRE;
	if (strcmp(s, "none") == 0)
		return TLS_CLIENT_AUTH_NONE;
	flags_usage_error("--client-auth: '%s' is not none, optional or require", s);
}

/* The listener kind a --*-port flag sets. */
static enum kind
port_kind(int id)
{
	switch (id) {
	case F_HTTP_PORT:	return K_HTTP;
	case F_HTTPS_PORT:	return K_HTTPS;
	case F_SELFSIGNED_PORT:	return K_SELFSIGNED;
	default:		return K_RSA;
	}
}

/* --bind NAME: letters, digits, '-' and '.', as DNS names are (RFC 1123), 1-253 of them. */
static int
is_host_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");

	return n > 0 && n <= 253 && s[n] == '\0' && s[0] != '-' && s[0] != '.';
}

static void
parse_one(struct options *o, int id, const char *arg)
{
	int port;

	switch (id) {
	case F_BIND:
		if (o->nbinds == MAX_BINDS)
			flags_usage_error("too many --bind addresses (at most 8)");
		if (url_ip_literal(arg) == 0 && !is_host_name(arg))
			flags_usage_error("--bind: '%s' is not an IPv4 or IPv6 address, nor a host "
			    "name", arg);
		o->binds[o->nbinds++] = arg;
		break;
	case F_HTTP_PORT: case F_HTTPS_PORT: case F_SELFSIGNED_PORT: case F_RSA_PORT:
		if ((port = url_parse_port(arg, 1)) == -1)
			flags_usage_error("bad port '%s' (a number 0-65535, 0 = any free port, or "
			    "'off')", arg);
		o->port[port_kind(id)] = port;
		break;
	case F_CERTS: o->certs_dir = arg; break;
	case F_IDLE_TIMEOUT:
		o->idle_ms = (int)cmdline_number("--idle-timeout: '%s' is not a number of seconds "
		    "(1-3600)", arg, 1, 3600) * 1000;
		break;
	case F_HEADER_TIMEOUT:
		o->header_ms = (int)cmdline_number("--header-timeout: '%s' is not a number of "
		    "seconds (1-3600)", arg, 1, 3600) * 1000;
		break;
	case F_ACCEPT_DELAY:
		o->accept_delay_ms = (int)cmdline_number("--accept-delay: '%s' is not a number of "
		    "milliseconds (0-60000)", arg, 0, 60000);
		break;
	case F_BACKLOG:
		o->backlog = (int)cmdline_number("--backlog: '%s' is not a number (0-4096)", arg,
		    0, 4096);
		break;
	case F_CLIENT_AUTH: o->client_auth = parse_client_auth(arg); break;
	case F_CLIENT_CA: o->client_ca = arg; break;
	case F_GALLERY: o->gallery = 1; break;
	case F_LIVE:
		if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
			flags_usage_error("--live: '%s' is not on or off", arg);
		o->live_off = strcmp(arg, "off") == 0;
		break;
	case F_LIVE_TOKEN:
		if (arg[0] == '\0' || strlen(arg) > 128 || arg[strspn(arg, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")] != '\0')
			flags_usage_error("--live-token: 1-128 letters, digits, '-', '.', '_' or '~' "
			    "(it goes into a URL as it is)");
		o->live_token = arg;
		break;
	case F_GALLERY_BASE:
		o->gallery_base = (int)cmdline_number("--gallery-base: '%s' is not a port (0 lets "
		    "the kernel pick each one)", arg, 0, 65535 - GALLERY_MAX);
		break;
	}
}

struct options
options_parse(int argc, char **argv)
{
	struct options o = {
		.port = { 8080, 8443, 8444, -2 },	/* -2: off (--rsa-port) */
		.idle_ms = 30000,
		.header_ms = 20000,
		.backlog = 128,
		.gallery_base = 8450,
		.common = CMDLINE_DEFAULTS,
	};
	const char *arg;
	int id;

	while ((id = flags_next(&server_flags, argc, argv, &arg)) != -1)
		if (cmdline_parse(&o.common, id, arg) == -1)
			parse_one(&o, id, arg);
	if (optind < argc)
		flags_usage_error("unexpected argument '%s'", argv[optind]);
	cmdline_check(&o.common);
	if (o.client_auth != TLS_CLIENT_AUTH_NONE && o.client_ca == NULL)
		flags_usage_error("--client-auth needs --client-ca FILE (the CA that signs the "
		    "client certificates, e.g. certs/out/ca.crt)");
	if (o.certs_dir == NULL)
		o.certs_dir = default_certs_dir();
	return o;
}
