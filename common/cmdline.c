/* cmdline.c -- the flags the server and the client both take, written once: their table
 * entries, their parsing and checks, and the set-up of what they turn on (the event log,
 * the capture, the watch of the kernel's states after close()). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>

#include "cmdline.h"
#include "seglog.h"
#include "tcpwatch.h"
#include "tls.h"
#include "url.h"

/* Help texts say what a flag does on either side: the other end is "the peer". A program
 * places the ones that belong among its own flags (FLAG_SHARED); the others follow its
 * flags in this order: how to watch, then the log's form. */
const struct flag cmdline_flags[] = {
	{ F_CERT, "cert", 0, "FILE", "a certificate (PEM, may include its chain), with its key "
	    "in --key" },
	{ F_KEY, "key", 0, "FILE", "the private key of --cert (PEM)" },
	{ F_GROUPS, "groups", 0, "LIST", "key exchange groups by preference, ':' between "
	    "(e.g. X25519:P-256; default OpenSSL's list, X25519 first): a client offers them, "
	    "with a key share for the first only; a server accepts only these: a key share for "
	    "another group gets a HelloRetryRequest (one more round trip), no group in common "
	    "alert handshake_failure" },
	{ F_DISSECT, "dissect", 0, NULL, "decode every field of every handshake message "
	    "(versions, suites, extensions, key shares, certificates) under its event" },
	{ F_CLOSE_FIRST, "close-first", 0, "client|server", "who sends the first FIN: client "
	    "(the default: the server keeps a connection open until the client closes) or "
	    "server ('Connection: close': the server closes after its reply); the side that "
	    "closes first holds TIME_WAIT" },
	{ F_HOLD_CLOSE, "hold-close", 0, "MS", "when the peer closed first, wait MS ms "
	    "(0-60000, default 0) before our FIN: CLOSE_WAIT here, FIN_WAIT2 there, long enough "
	    "to see" },
	{ F_ABORT, "abort", 0, NULL, "close with RST wherever we would send a FIN (SO_LINGER "
	    "{1, 0}): no four-way close, no TIME_WAIT" },
	{ F_LINGER_WATCH, "linger-watch", 0, "SEC", "after close(), follow TIME_WAIT for SEC "
	    "seconds, 0-120 (default 3 when the event log goes to a terminal, else 0: one "
	    "sample); the other states are followed until the kernel forgets the connection, "
	    "at most SEC + 5 s" },
	{ F_CAPTURE, "capture", 0, NULL, "capture our segments where they are, on lo or a "
	    "LAN interface (libpcap's any device), and log their absolute seq/ack numbers; needs root or CAP_NET_RAW ('setcap cap_net_raw+ep' on "
	    "the program): without it one line says so and the run goes on" },
	{ F_WIRE, "wire", 0, NULL, "the eavesdropper's view (implies --capture): under each "
	    "segment with data, its bytes as anyone on the path sees them: for HTTP the first "
	    "64 bytes as escaped text, for HTTPS only TLS record headers around ciphertext" },
	{ F_EXPLAIN, "explain", 0, NULL, "under each event, one sentence: what happens and why" },
	{ F_LANG, "lang", 0, "en|zh", "zh: the log's sentences in Chinese, with the Chinese "
	    "textbook's step names (第一次握手 ...) and timer names (重传计时器 ...); what stays "
	    "English: message, state and field names (ClientHello, TIME_WAIT, seq), the JSON "
	    "log's keys and fixed values, OpenSSL's and the C library's own error texts, --help "
	    "and most usage errors (default en)" },
	{ F_LOG_FORMAT, "log-format", 0, "text|json", "event log format: text lines, or one "
	    "JSON object per line (default text)" },
	{ F_COLOR, "color", 0, "auto|always|never", "colour in the text log (default auto: on a "
	    "terminal, unless NO_COLOR is set); JSON is never coloured" },
	{ F_VERBOSE, "verbose", 'v', NULL, "also log each connection's internal phase changes "
	    "in the text log (the JSON log always has them)" },
	{ F_QUIET, "quiet", 'q', NULL, "no event log (errors still get one line on standard "
	    "error)" },
	{ F_VERSION, "version", 'V', NULL, "print the versions of OpenSSL, libevent and libpcap "
	    "this program runs with (the libraries loaded now, as curl -V), then exit 0" },
	{ 0 }
};

static FILE *log_out;		/* where cmdline_log_setup() sent the event log */

long
cmdline_number(const char *fmt, const char *s, long min, long max)
{
	long v = url_parse_number(s, min, max);

	if (v == -1)
		flags_usage_error(fmt, s);
	return v;
}

int
cmdline_parse(struct cmdline *co, int id, const char *arg)
{
	char err[512];
	long v;

	switch (id) {
	case F_LOG_FORMAT:
		if ((v = evlog_parse_format(arg)) == -1)
			flags_usage_error("--log-format: '%s' is not text or json", arg);
		co->format = (enum evlog_format)v;
		break;
	case F_COLOR:
		if ((co->color = evlog_parse_color(arg)) == -2)
			flags_usage_error("--color: '%s' is not auto, always or never", arg);
		break;
	case F_VERBOSE: co->verbose = 1; break;
	case F_QUIET: co->quiet = 1; break;
	case F_EXPLAIN: co->explain = 1; break;
	case F_LANG:
		if ((co->lang = evlog_parse_lang(arg)) == -1)
			flags_usage_error("--lang: '%s' is not en or zh", arg);
		break;
	case F_CAPTURE: co->capture = 1; break;
	case F_WIRE:
		co->wire = 1;
		if (!co->capture)
			co->capture = 2;	/* implied: said so if the capture fails */
		break;
	case F_DISSECT: co->dissect = 1; break;
	case F_GROUPS:
		if (tls_check_groups(arg, err, sizeof(err)) == -1)
			flags_usage_error("%s", err);
		co->groups = arg;
		break;
	case F_CERT: co->cert = arg; break;
	case F_KEY: co->key = arg; break;
	case F_CLOSE_FIRST:
		if ((co->server_closes_first = url_parse_closer(arg)) == -1)
			flags_usage_error("--close-first: '%s' is not client or server", arg);
		break;
	case F_HOLD_CLOSE:
		co->hold_close_ms = (int)cmdline_number("--hold-close: '%s' is not a number of "
		    "milliseconds (0-60000)", arg, 0, 60000);
		break;
	case F_ABORT: co->abort = 1; break;
	case F_VERSION:
		cmdline_version(stdout);
		exit(fflush(stdout) == 0 ? 0 : 1);
	case F_LINGER_WATCH:
		co->linger_ms = (int)cmdline_number("--linger-watch: '%s' is not a number of "
		    "seconds (0-120)", arg, 0, 120) * 1000;
		break;
	default:
		return -1;
	}
	return 0;
}

void
cmdline_check(const struct cmdline *co)
{
	if ((co->cert == NULL) != (co->key == NULL))
		flags_usage_error("--cert and --key go together");
}

void
cmdline_log_setup(const struct cmdline *co, enum evlog_side side, FILE *out)
{
	log_out = out;
	evlog_init(side, co->format, co->quiet, co->color, out);
	evlog_set_verbose(co->verbose);
	evlog_set_explain(co->explain, co->lang);
	seglog_wire(co->wire);
	/* Following TIME_WAIT is for a person watching: a few seconds on a terminal, off for
	 * scripts (the watch of the other states after close() is short either way). */
	tcpwatch_set_linger(co->linger_ms >= 0 ? co->linger_ms : isatty(fileno(out)) ? 3000 : 0,
	    co->linger_ms < 0);
}

void
cmdline_version(FILE *f)
{
	const char *pcap = pcap_lib_version(), *v = pcap;

	if (strncmp(v, "libpcap version ", 16) == 0)
		v += 16;
	/* the first line as curl's: name, then library/version pairs */
	fprintf(f, "%s (handshake-lab) OpenSSL/%s libevent/%s libpcap/%.*s\n", flags_program(),
	    OpenSSL_version(OPENSSL_VERSION_STRING), event_get_version(), (int)strcspn(v, " "),
	    v);
	fprintf(f, "%s\nlibevent %s\n%s\n", OpenSSL_version(OPENSSL_VERSION),
	    event_get_version(), pcap);
}

void
cmdline_capture_open(const struct cmdline *co, struct event_base *base, const char *filter)
{
	char err[512];

	if (!co->capture || seglog_open(base, filter, err, sizeof(err)) == 0)
		return;
	/* One plain line on standard error, and the event, unless the text log is on standard
	 * error too and would say the same line twice. */
	fprintf(stderr, TR("%s: %s; going on without %s\n", "%s：%s；不使用 %s，继续运行\n"),
	    flags_program(), err, seglog_flags(co->capture == 1));
	if (log_out != stderr || co->format == EVLOG_JSON)
		evlog(EVT_WARNING, 0, -1, TR("%s; going on without %s", "%s；不使用 %s，继续运行"),
		    err, seglog_flags(co->capture == 1));
}
