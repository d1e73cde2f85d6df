/* main.c -- the client: fetch one URL over HTTP or HTTPS and log each step; here the options
 * and main(), which runs connect.c (address by address, like curl), trust.c and fetch.c. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "client.h"
#include "cmdline.h"
#include "evlog.h"
#include "flags.h"
#include "tls.h"
#include "url.h"

/* The largest body we take without --max-filesize: an endless body must not fill the disk. */
#define MAX_FILESIZE_DEFAULT	(100LL * 1024 * 1024)

static struct client_opts opt = {
	.method = "GET",
	.requests = 1,
	.reconnect = 1,
	.connect_timeout_ms = 10000,
	.max_filesize = MAX_FILESIZE_DEFAULT,
	.common = CMDLINE_DEFAULTS,
};

/* The one transfer (client.h): main() hands it to connect.c, fetch.c and trust.c. */
static struct client st = { .opt = &opt };

static int
parse_seconds(const char *flag, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0.001 || v > 86400)
		flags_usage_error(flag, s);
	return (int)(v * 1000);
}

/* The TLS flags with an http:// URL: no TLS, so they do nothing; say so (curl ignores them
 * silently). */
static void
warn_tls_flags(void)
{
	const struct { int given; const char *flag; } f[] = {
		{ opt.tls_min != 0, "--tls-min" }, { opt.tls_max != 0, "--tls-max" },
		{ opt.kx != KX_ANY, "--kx" }, { opt.ciphers != NULL, "--ciphers" },
		{ opt.common.groups != NULL, "--groups" }, { opt.common.dissect, "--dissect" },
	};
	size_t i;

	if (st.u.tls)
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].given)
			evlog(EVT_WARNING, 0, -1, "%s has no effect on http://: plain HTTP has no "
			    "TLS handshake", f[i].flag);
}

/* --kx, -n and --reconnect against the other flags. */
static void
check_variants(void)
{
	char msg[256];

	if (opt.kx != KX_ANY && opt.ciphers != NULL)
		flags_usage_error("--kx and --ciphers do not go together: --kx picks the TLS 1.2 "
		    "cipher suites itself");
	/* --kx chooses among TLS 1.2 key exchanges: TLS 1.3 has its own ((EC)DHE always). */
	if (opt.kx != KX_ANY && (opt.tls_min == TLS1_3_VERSION || opt.tls_max == TLS1_3_VERSION)) {
		snprintf(msg, sizeof(msg), "--kx %s and --tls-%s 1.3 do not go together: %s; %s",
		    opt.kx == KX_RSA ? "rsa" : "ecdhe", opt.tls_min == TLS1_3_VERSION ? "min" :
		    "max", connect_kx_why_12(opt.kx), opt.tls_min == TLS1_3_VERSION ?
		    "leave --tls-min out" : "use --tls-max 1.2 or leave --tls-max out");
		flags_usage_error("%s", msg);
	}
	if (opt.requests > 1 && opt.common.server_closes_first)
		flags_usage_error("-n needs a keep-alive connection; --close-first server asks the "
		    "server to close after the first response");
	if (opt.requests > 1 && opt.half_close)
		flags_usage_error("-n and --half-close do not go together: after our FIN we cannot "
		    "send the next request");
}

/* One client flag (the shared ones are cmdline's). */
static void
parse_one(int id, const char *arg)
{
	switch (id) {
	case F_CACERT: opt.cafile = arg; break;
	case F_INSECURE: opt.insecure = 1; break;
	case F_TLS_MIN: case F_TLS_MAX:
		if (tls_parse_version(arg) == -1)
			flags_usage_error("TLS version must be 1.2 or 1.3, not '%s'", arg);
		if (id == F_TLS_MIN)
			opt.tls_min = tls_parse_version(arg);
		else
			opt.tls_max = tls_parse_version(arg);
		break;
	case F_CIPHERS: opt.ciphers = arg; break;
	case F_KEYLOG: opt.keylog = arg; break;
	case F_OUTPUT: opt.output = arg; break;
	case F_HEAD: opt.method = "HEAD"; break;
	case F_CONNECT_TIMEOUT:
		opt.connect_timeout_ms = parse_seconds("--connect-timeout: '%s' is not a number of "
		    "seconds", arg);
		break;
	case F_MAX_TIME:
		opt.max_time_ms = parse_seconds("--max-time: '%s' is not a number of seconds", arg);
		break;
	case F_HALF_CLOSE: opt.half_close = 1; break;
	case F_CRLFILE: opt.crlfile = arg; break;
	case F_SHOW_CERTS: opt.show_certs = 1; break;
	case F_KX:
		if (strcmp(arg, "rsa") == 0)
			opt.kx = KX_RSA;
		else if (strcmp(arg, "ecdhe") == 0)
			opt.kx = KX_ECDHE;
		else
			flags_usage_error("--kx: '%s' is not rsa or ecdhe", arg);
		break;
	case F_REQUESTS:
		opt.requests = (int)cmdline_number("-n: '%s' is not a number of requests (1-1000)",
		    arg, 1, 1000);
		break;
	case F_RECONNECT:
		opt.reconnect = (int)cmdline_number("--reconnect: '%s' is not a number of "
		    "connections (1-100)", arg, 1, REPEAT_MAX_CONNS);
		break;
	case F_MAX_FILESIZE:
		opt.max_filesize = cmdline_number("--max-filesize: '%s' is not a number of bytes",
		    arg, 0, LONG_MAX);
		break;
	case F_PAUSE_READ:
		opt.pause_read_ms = (int)cmdline_number("--pause-read: '%s' is not a number of "
		    "milliseconds (0-60000)", arg, 0, 60000);
		break;
	}
}

/* The flags, the URL, and the checks across them (a usage error exits with 2). */
static void
parse_opts(int argc, char **argv)
{
	const char *arg, *env;
	char err[512];
	int id;

	while ((id = flags_next(&client_flags, argc, argv, &arg)) != -1)
		if (cmdline_parse(&opt.common, id, arg) == -1)
			parse_one(id, arg);
	if (optind >= argc)
		flags_usage_error("no URL given (e.g. https://localhost:8443/)");
	if (optind + 1 < argc)
		flags_usage_error("one URL at a time ('%s' is extra)", argv[optind + 1]);
	opt.url = argv[optind];
	if (url_parse(&st.u, opt.url, err, sizeof(err)) == -1)
		flags_usage_error("bad URL: %s", err);
	cmdline_check(&opt.common);
	if (opt.half_close && opt.common.server_closes_first)
		flags_usage_error("--half-close and --close-first server do not go together: with "
		    "--half-close the client sends the first FIN");
	if (opt.tls_min && opt.tls_max && opt.tls_min > opt.tls_max)
		flags_usage_error("--tls-min is above --tls-max");
	check_variants();
	if (opt.keylog == NULL && (env = secure_getenv("SSLKEYLOGFILE")) != NULL && *env)
		opt.keylog = env;
}

int
main(int argc, char **argv)
{
	parse_opts(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	cmdline_log_setup(&opt.common, EVLOG_CLIENT, stderr);
	warn_tls_flags();
	/* The trust question needs a person: a terminal to read from and to write to. */
	st.interactive = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	if (fetch_open_output(&st) == -1)
		return EXIT_WRITE;
	if (st.u.tls && connect_tls_setup(&st) == -1)
		return EXIT_USAGE;
	if (connect_setup(&st) == -1)
		return EXIT_FAIL;
	connect_run(&st);	/* resolve, connect, trust, fetch: until the transfer is over */
	fetch_report(&st);
	connect_free(&st);
	return st.exit_code;
}
