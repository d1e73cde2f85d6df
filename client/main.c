/* main.c -- the client: fetch one URL over HTTP or HTTPS and log each step; main() reads the
 * options (options.c) and runs connect.c (address by address, like curl), trust.c and fetch.c. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "cmdline.h"
#include "evlog.h"

/* The options, read once by options_parse() (options.c). */
static struct client_opts opt;

/* The one transfer (client.h): main() hands it to connect.c, fetch.c and trust.c. */
static struct client st = { .opt = &opt };

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
			evlog(EVT_WARNING, 0, -1, TR("%s has no effect on http://: plain HTTP has "
			    "no TLS handshake", "%s 对 http:// 不起作用：明文 HTTP 没有 TLS 握手"),
			    f[i].flag);
}

int
main(int argc, char **argv)
{
	options_parse(&opt, &st.u, argc, argv);
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
