/* main.c -- the client: fetch one URL over HTTP or HTTPS and log each step; here the options
 * and main(), which runs connect.c (address by address, like curl), trust.c and fetch.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "client.h"
#include "evlog.h"
#include "seglog.h"
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
	.linger_ms = -1,
	.color = -1,
};

/* The one transfer (client.h): main() hands it to connect.c, fetch.c and trust.c. */
static struct client st = { .opt = &opt };

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: client [options] URL\n"
"Fetch URL (http:// or https://; a name, an IPv4 address or [IPv6]) and log every step:\n"
"TCP handshake, TLS handshake and certificate check, request and response, the close.\n"
"The event log goes to standard error, the response body to standard output.\n"
"\n"
"  --cacert FILE          also trust the CA certificate(s) in FILE (PEM), e.g.\n"
"                         certs/out/ca.crt; the system's CAs are always trusted\n"
"  -k, --insecure         go on even if the certificate cannot be trusted\n"
"  --crlfile FILE         check the server's certificate against these CRLs (PEM)\n"
"  --show-certs           print the certificate chain the server presented\n"
"  --cert FILE --key FILE our own certificate and key, for a server that asks for one\n"
"                         (mutual TLS; e.g. certs/out/client.crt and client.key)\n"
"  --tls-min 1.2|1.3      lowest TLS version to offer (default: OpenSSL's)\n"
"  --tls-max 1.2|1.3      highest TLS version to offer (default 1.3)\n"
"  --kx rsa|ecdhe         TLS 1.2 key exchange to offer: rsa = static RSA key transport\n"
"                         (the textbook's; no forward secrecy; needs an RSA\n"
"                         certificate: server --rsa-port), ecdhe = ephemeral ECDH;\n"
"                         both imply --tls-max 1.2 (TLS 1.3 is always (EC)DHE)\n"
"  --ciphers LIST         TLS 1.2 cipher list (OpenSSL syntax; TLS 1.3 suites stay as\n"
"                         they are: add --tls-max 1.2), or TLS 1.3 suite names (TLS_...)\n"
"  --keylog FILE          append the TLS secrets to FILE for Wireshark (NSS key log;\n"
"                         also SSLKEYLOGFILE); FILE is created mode 0600\n"
"  --groups LIST          key exchange groups to offer, in order (e.g. X25519:P-256);\n"
"                         the key share goes only with the first: a server that wants\n"
"                         another answers with a HelloRetryRequest (one more round trip)\n"
"  --dissect              decode every field of every handshake message (versions,\n"
"                         suites, extensions, key shares, certificates) under its event\n"
"  -I, --head             send HEAD instead of GET\n"
"  -n N                   send N requests one after the other over one keep-alive\n"
"                         connection (1-1000, default 1): one handshake, N requests\n"
"  --reconnect N          make N connections one after the other (1-100), each\n"
"                         resuming the TLS session of the one before (session ticket /\n"
"                         PSK: no certificate); with -n M, M requests on each\n"
"  -o, --output FILE      write the body to FILE instead of standard output\n"
"  --close-first client|server  who sends the first FIN (default client; server: the\n"
"                         request says 'Connection: close' and the client waits)\n"
"  --hold-close MS        when the server closed first, wait MS ms before our FIN\n"
"                         (CLOSE_WAIT here, FIN_WAIT2 there, long enough to see)\n"
"  --half-close           send our FIN right after the request and still read the\n"
"                         response (plain HTTP or TLS 1.3)\n"
"  --abort                end with RST instead of FIN (SO_LINGER {1, 0}): no TIME_WAIT\n"
"  --pause-read MS        stop reading for MS ms after the request: with a large body\n"
"                         (URL ?pad=N) the window fills and the server's FIN waits:\n"
"                         FIN_WAIT1 (or LAST_ACK) becomes visible on its side\n"
"  --linger-watch SEC     after close(), follow TIME_WAIT for SEC seconds (default 3\n"
"                         on a terminal, 0 otherwise); other states are always followed\n"
"  --capture              capture our segments on lo (libpcap) and log their absolute\n"
"                         seq/ack numbers (needs root or 'setcap cap_net_raw+ep')\n"
"  --wire                 the eavesdropper's view (implies --capture): under each segment\n"
"                         with data, its bytes as anyone on the path sees them: HTTP\n"
"                         text, or for HTTPS only TLS record headers around ciphertext\n"
"  --explain              under each event, one sentence: what happens and why\n"
"  --lang en|zh           zh: also the Chinese textbook's step names (第一次握手 ...)\n"
"                         beside the English ones (default en)\n"
"  --connect-timeout SEC  give up on an address after SEC seconds (default 10)\n"
"  --max-time SEC         give up on the whole transfer after SEC seconds (default: no limit)\n"
"  --max-filesize BYTES   refuse a body larger than BYTES (default 104857600, 100 MiB;\n"
"                         0: no limit)\n"
"  --log-format text|json event log format (default text)\n"
"  --color auto|always|never  colour in the text log (default auto: on a terminal)\n"
"  -v, --verbose          also log each connection's internal phase changes\n"
"  -q, --quiet            no event log; errors still get one line\n"
"  -h, --help             this help\n"
"\n"
"When the certificate check fails, the client explains why; on a terminal it asks\n"
"'Proceed anyway? [y/N]', otherwise it refuses (unless -k).\n"
"\n"
"Exit status (curl's numbers): 0 done, 1 other failure, 2 usage, 6 cannot resolve the host, 7 cannot\n"
"connect, 8 malformed response head, 18 body cut short, 23 cannot write the output,\n"
"28 timeout, 35 TLS handshake failed, 52 empty reply, 56 connection broken while\n"
"receiving, 60 certificate not trusted, 63 body larger than --max-filesize.\n");
}

static void
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "client: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'client --help')\n");
	exit(EXIT_USAGE);
}

/* A whole number from 0 to max (milliseconds or seconds, as the flag says). */
static int
parse_ms(const char *flag, const char *s, long max)
{
	long v = url_parse_number(s, 0, max);

	if (v == -1)
		die_usage(flag, s);
	return (int)v;
}

static int
parse_seconds(const char *flag, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0.001 || v > 86400)
		die_usage(flag, s);
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
		{ opt.groups != NULL, "--groups" }, { opt.dissect, "--dissect" },
	};
	size_t i;

	if (st.u.tls)
		return;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].given)
			evlog(EVT_WARNING, 0, -1, "%s has no effect on http://: plain HTTP has no "
			    "TLS handshake", f[i].flag);
}

/* Why --kx means TLS 1.2 at most (also in connect.c's warning at the TLS set-up). */
const char *
kx_why_12(void)
{
	return opt.kx == KX_RSA ? "TLS 1.3 has no RSA key transport (it was removed for lack of "
	    "forward secrecy)" : "--kx picks a TLS 1.2 key exchange, and TLS 1.3 has no choice "
	    "to make (it always uses (EC)DHE)";
}

/* --kx, -n and --reconnect against the other flags. */
static void
check_variants(void)
{
	char msg[256];

	if (opt.kx != KX_ANY && opt.ciphers != NULL)
		die_usage("--kx and --ciphers do not go together: --kx picks the TLS 1.2 cipher "
		    "suites itself%s", "");
	/* --kx chooses among TLS 1.2 key exchanges: TLS 1.3 has its own ((EC)DHE always). */
	if (opt.kx != KX_ANY && (opt.tls_min == TLS1_3_VERSION || opt.tls_max == TLS1_3_VERSION)) {
		snprintf(msg, sizeof(msg), "--kx %s and --tls-%s 1.3 do not go together: %s; %s",
		    opt.kx == KX_RSA ? "rsa" : "ecdhe", opt.tls_min == TLS1_3_VERSION ? "min" :
		    "max", kx_why_12(), opt.tls_min == TLS1_3_VERSION ? "leave --tls-min out" :
		    "use --tls-max 1.2 or leave --tls-max out");
		die_usage("%s", msg);
	}
	if (opt.requests > 1 && opt.server_closes_first)
		die_usage("-n needs a keep-alive connection; --close-first server asks the server "
		    "to close after the first response%s", "");
	if (opt.requests > 1 && opt.half_close)
		die_usage("-n and --half-close do not go together: after our FIN we cannot send the "
		    "next request%s", "");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cacert",		required_argument, NULL, 1 },
		{ "insecure",		no_argument,	   NULL, 'k' },
		{ "tls-min",		required_argument, NULL, 2 },
		{ "tls-max",		required_argument, NULL, 3 },
		{ "ciphers",		required_argument, NULL, 4 },
		{ "keylog",		required_argument, NULL, 5 },
		{ "output",		required_argument, NULL, 'o' },
		{ "head",		no_argument,	   NULL, 'I' },
		{ "connect-timeout",	required_argument, NULL, 6 },
		{ "max-time",		required_argument, NULL, 7 },
		{ "log-format",		required_argument, NULL, 8 },
		{ "close-first",	required_argument, NULL, 10 },
		{ "hold-close",		required_argument, NULL, 11 },
		{ "abort",		no_argument,	   NULL, 12 },
		{ "half-close",		no_argument,	   NULL, 13 },
		{ "linger-watch",	required_argument, NULL, 14 },
		{ "capture",		no_argument,	   NULL, 15 },
		{ "wire",		no_argument,	   NULL, 40 },
		{ "explain",		no_argument,	   NULL, 41 },
		{ "lang",		required_argument, NULL, 42 },
		{ "pause-read",		required_argument, NULL, 16 },
		{ "crlfile",		required_argument, NULL, 17 },
		{ "cert",		required_argument, NULL, 18 },
		{ "key",		required_argument, NULL, 19 },
		{ "show-certs",		no_argument,	   NULL, 20 },
		{ "kx",			required_argument, NULL, 21 },
		{ "reconnect",		required_argument, NULL, 22 },
		{ "groups",		required_argument, NULL, 23 },
		{ "dissect",		no_argument,	   NULL, 24 },
		{ "max-filesize",	required_argument, NULL, 25 },
		{ "color",		required_argument, NULL, 9 },
		{ "quiet",		no_argument,	   NULL, 'q' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char err[512];
	const char *env;
	int ch, v;

	while ((ch = getopt_long(argc, argv, "ko:Iqvhn:", longopts, NULL)) != -1) {
		switch (ch) {
		case 1: opt.cafile = optarg; break;
		case 'k': opt.insecure = 1; break;
		case 2: case 3:
			if (tls_parse_version(optarg) == -1)
				die_usage("TLS version must be 1.2 or 1.3, not '%s'", optarg);
			if (ch == 2)
				opt.tls_min = tls_parse_version(optarg);
			else
				opt.tls_max = tls_parse_version(optarg);
			break;
		case 4: opt.ciphers = optarg; break;
		case 5: opt.keylog = optarg; break;
		case 'o': opt.output = optarg; break;
		case 'I': opt.method = "HEAD"; break;
		case 6:
			opt.connect_timeout_ms = parse_seconds("--connect-timeout: '%s' is not a "
			    "number of seconds", optarg);
			break;
		case 7:
			opt.max_time_ms = parse_seconds("--max-time: '%s' is not a number of "
			    "seconds", optarg);
			break;
		case 8:
			if ((v = evlog_parse_format(optarg)) == -1)
				die_usage("--log-format: '%s' is not text or json", optarg);
			opt.format = (enum evlog_format)v;
			break;
		case 9:
			if ((opt.color = evlog_parse_color(optarg)) == -2)
				die_usage("--color: '%s' is not auto, always or never", optarg);
			break;
		case 10:
			if ((opt.server_closes_first = url_parse_closer(optarg)) == -1)
				die_usage("--close-first: '%s' is not client or server", optarg);
			break;
		case 11:
			opt.hold_close_ms = parse_ms("--hold-close: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 60000);
			break;
		case 12: opt.abort = 1; break;
		case 13: opt.half_close = 1; break;
		case 15: opt.capture = 1; break;
		case 40:	/* --wire implies --capture (2: not given itself) */
			opt.wire = 1;
			if (!opt.capture)
				opt.capture = 2;
			break;
		case 41: opt.explain = 1; break;
		case 42:
			if ((opt.lang = evlog_parse_lang(optarg)) == -1)
				die_usage("--lang: '%s' is not en or zh", optarg);
			break;
		case 17: opt.crlfile = optarg; break;
		case 18: opt.cert = optarg; break;
		case 19: opt.key = optarg; break;
		case 20: opt.show_certs = 1; break;
		case 21:
			if (strcmp(optarg, "rsa") == 0)
				opt.kx = KX_RSA;
			else if (strcmp(optarg, "ecdhe") == 0)
				opt.kx = KX_ECDHE;
			else
				die_usage("--kx: '%s' is not rsa or ecdhe", optarg);
			break;
		case 'n':
			opt.requests = (int)url_parse_number(optarg, 1, 1000);
			if (opt.requests == -1)
				die_usage("-n: '%s' is not a number of requests (1-1000)", optarg);
			break;
		case 22:
			opt.reconnect = (int)url_parse_number(optarg, 1, REPEAT_MAX_CONNS);
			if (opt.reconnect == -1)
				die_usage("--reconnect: '%s' is not a number of connections (1-100)",
				    optarg);
			break;
		case 23:
			if (tls_check_groups(optarg, err, sizeof(err)) == -1)
				die_usage("%s", err);
			opt.groups = optarg;
			break;
		case 24: opt.dissect = 1; break;
		case 25:
			if ((opt.max_filesize = url_parse_number(optarg, 0, LONG_MAX)) == -1)
				die_usage("--max-filesize: '%s' is not a number of bytes", optarg);
			break;
		case 16:
			opt.pause_read_ms = parse_ms("--pause-read: '%s' is not a number of "
			    "milliseconds (0-60000)", optarg, 60000);
			break;
		case 14:
			opt.linger_ms = parse_ms("--linger-watch: '%s' is not a number of seconds "
			    "(0-120)", optarg, 120) * 1000;
			break;
		case 'q': opt.quiet = 1; break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "(see 'client --help')\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		die_usage("no URL given (e.g. https://localhost:8443/)%s", "");
	if (optind + 1 < argc)
		die_usage("one URL at a time ('%s' is extra)", argv[optind + 1]);
	opt.url = argv[optind];
	if (url_parse(&st.u, opt.url, err, sizeof(err)) == -1)
		die_usage("bad URL: %s", err);
	if ((opt.cert == NULL) != (opt.key == NULL))
		die_usage("--cert and --key go together%s", "");
	if (opt.half_close && opt.server_closes_first)
		die_usage("--half-close and --close-first server do not go together: with "
		    "--half-close the client sends the first FIN%s", "");
	if (opt.tls_min && opt.tls_max && opt.tls_min > opt.tls_max)
		die_usage("--tls-min is above --tls-max%s", "");
	check_variants();
	if (opt.keylog == NULL && (env = secure_getenv("SSLKEYLOGFILE")) != NULL && *env)
		opt.keylog = env;

	signal(SIGPIPE, SIG_IGN);
	evlog_init(EVLOG_CLIENT, opt.format, opt.quiet, opt.color, stderr);
	evlog_set_verbose(opt.verbose);
	evlog_set_explain(opt.explain, opt.lang);
	seglog_wire(opt.wire);
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
