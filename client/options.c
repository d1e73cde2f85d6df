/* options.c -- the client's flags as a table, and options_parse() that reads the command line with it;
 * --help and man/client.1 are written from it. */
#include <sys/socket.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "client.h"
#include "cmdline.h"
#include "evlog.h"
#include "flags.h"
#include "tls.h"
#include "url.h"

/* The largest body we take without --max-filesize: an endless body must not fill the disk. */
#define MAX_FILESIZE_DEFAULT	(100LL * 1024 * 1024)

static const struct flag flags[] = {
	{ F_CACERT, "cacert", 0, "FILE", "also trust the CA certificate(s) in FILE (PEM), e.g. "
	    "certs/out/ca.crt; the system's CAs are always trusted" },
	{ F_INSECURE, "insecure", 'k', NULL, "go on even if the certificate cannot be trusted "
	    "(the warning is still shown)" },
	{ F_CRLFILE, "crlfile", 0, "FILE", "check the server's certificate against the CRLs "
	    "in FILE (PEM), e.g. certs/out/gallery/crl.pem: revoked is error 23; FILE must "
	    "hold its issuer's CRL, else error 3, as curl (default: no revocation check)" },
	{ F_SHOW_CERTS, "show-certs", 0, NULL, "print the certificate chain the server "
	    "presented, as sent, on standard error (each one's subject, issuer, dates, key, "
	    "signature, names, SHA-256, PEM), also when it is refused" },
	FLAG_SHARED(F_CERT, "our own certificate (PEM, may include its chain), for a server "
	    "that asks for one (mutual TLS; e.g. certs/out/client.crt); goes with --key"),
	FLAG_SHARED(F_KEY, "its key (e.g. certs/out/client.key)"),
	{ F_TLS_MIN, "tls-min", 0, "1.2|1.3", "lowest TLS version to offer (default: "
	    "OpenSSL's)" },
	{ F_TLS_MAX, "tls-max", 0, "1.2|1.3", "highest TLS version to offer (default 1.3)" },
	{ F_KX, "kx", 0, "rsa|ecdhe", "TLS 1.2 key exchange to offer: rsa = static RSA key "
	    "transport (the textbook's; no forward secrecy; needs an RSA certificate: server "
	    "--rsa-port), ecdhe = ephemeral ECDH; both imply --tls-max 1.2 (TLS 1.3 is always "
	    "(EC)DHE) and a warning names the suites; not with --ciphers" },
	{ F_CIPHERS, "ciphers", 0, "LIST", "TLS 1.2 cipher list (OpenSSL syntax, as 'openssl "
	    "ciphers -v' lists them; TLS 1.3 suites stay as they are: add --tls-max 1.2), or "
	    "TLS 1.3 suite names (TLS_...)" },
	{ F_KEYLOG, "keylog", 0, "FILE", "append the TLS secrets to FILE for Wireshark (NSS key "
	    "log; also SSLKEYLOGFILE); FILE is created mode 0600; an existing FILE must be a "
	    "regular file of ours that no one else can read or write (no symbolic link)" },
	FLAG_SHARED(F_GROUPS, NULL),
	FLAG_SHARED(F_DISSECT, NULL),
	{ F_HEAD, "head", 'I', NULL, "send HEAD instead of GET and write the response head on "
	    "standard output (or -o FILE), as curl -I" },
	{ F_REQUESTS, NULL, 'n', "N", "send N requests one after the other over one keep-alive "
	    "connection (1-1000, default 1): one handshake, N requests, the bodies one after "
	    "the other (a request the server closed on without a word goes again on a fresh "
	    "connection, as curl's); not with --close-first server or --half-close" },
	{ F_RECONNECT, "reconnect", 0, "N", "make N connections one after the other (1-100, "
	    "default 1), each resuming a TLS session of the ones before (session ticket / PSK: "
	    "no certificate): a TLS 1.3 ticket is offered once, a TLS 1.2 session again and "
	    "again; with -n M, M requests on each; http://: N plain connections" },
	{ F_REUSE_TICKET, "reuse-ticket", 0, NULL, "with --reconnect: offer the TLS 1.3 "
	    "ticket of connection 2 again on every later connection, instead of one not used "
	    "yet (RFC 8446 C.4: a client should not, since the same ticket in two ClientHellos "
	    "links the connections for anyone watching); by default each ticket the server "
	    "sent is offered once, and a connection with none left makes a full handshake" },
	{ F_OUTPUT, "output", 'o', "FILE", "write the body to FILE instead of standard output" },
	FLAG_SHARED(F_CLOSE_FIRST, NULL),
	FLAG_SHARED(F_HOLD_CLOSE, NULL),
	{ F_HALF_CLOSE, "half-close", 0, NULL, "send our FIN right after the request and still "
	    "read the response: plain HTTP or TLS 1.3 (with TLS 1.2 a warning, and a normal "
	    "close); not with --close-first server" },
	FLAG_SHARED(F_ABORT, NULL),
	{ F_PAUSE_READ, "pause-read", 0, "MS", "stop reading for MS ms (0-60000) after the "
	    "request: with a large body (URL ?pad=N) the window fills and the server's FIN "
	    "waits: FIN_WAIT1 (or LAST_ACK) becomes visible on its side" },
	FLAG_SHARED(F_LINGER_WATCH, NULL),
	/* where to connect, as curl's flags of the same names */
	{ F_LOCATION, "location", 'L', NULL, "follow redirects (301, 302, 303, 307, 308 with a "
	    "Location), as curl: each one a new request, on the same connection when the "
	    "scheme, host and port stay the same and it is kept alive, else on a new one; a "
	    "303 turns the method into GET (HEAD stays HEAD); only the last response's body is "
	    "written. Without -L a redirect's Location is shown in the response event" },
	{ F_MAX_REDIRS, "max-redirs", 0, "N", "with -L, follow at most N redirects (0-1000, "
	    "or -1: no limit; default 50, as curl); one more is exit 47" },
	{ F_RESOLVE, "resolve", 0, "HOST:PORT:ADDR[,ADDR]", "connect to ADDR (IPv4, or IPv6 "
	    "with or without [brackets]) for HOST and PORT instead of looking HOST up: the Host "
	    "header, SNI and the certificate's name check still use HOST (repeat for more; up "
	    "to 16); a malformed one is exit 49, as curl" },
	{ F_CONNECT_TO, "connect-to", 0, "HOST1:PORT1:HOST2:PORT2", "a connection to HOST1 "
	    "port PORT1 goes to HOST2 port PORT2 instead (an empty HOST1 or PORT1 matches any; "
	    "an empty HOST2 or PORT2 keeps the URL's); the Host header, SNI and the name check "
	    "still use the URL's name; --resolve then applies to HOST2 (repeat for more; up to "
	    "16; the first that matches is used); a malformed one is exit 49 (curl 7.88 ignores "
	    "it)" },
	{ F_IPV4, "ipv4", '4', NULL, "use IPv4 addresses only (an IPv6 literal in the URL "
	    "cannot be reached: exit 7, as curl)" },
	{ F_IPV6, "ipv6", '6', NULL, "use IPv6 addresses only (an IPv4 literal in the URL "
	    "cannot be reached: exit 7, as curl)" },
	{ F_CONNECT_TIMEOUT, "connect-timeout", 0, "SEC", "give up on an address after SEC "
	    "seconds, fractions allowed (default 10); a TLS handshake that stalls this long "
	    "too" },
	{ F_MAX_TIME, "max-time", 'm', "SEC", "give up on the whole transfer after SEC seconds, "
	    "fractions allowed (default: no limit)" },
	{ F_MAX_FILESIZE, "max-filesize", 0, "BYTES", "refuse a response body larger than "
	    "BYTES: exit 63 and RST (the rest is not read), at once if its Content-Length says "
	    "so (default 104857600, 100 MiB; 0: no limit)" },
	/* curl's output and request flags, with curl's letters (issue 13) */
	{ F_INCLUDE, "include", 'i', NULL, "write the response head (status line and header "
	    "lines as received, 1xx heads too) on standard output (or -o FILE) before the body, "
	    "as curl -i" },
	{ F_HEADER, "header", 'H', "LINE", "send this header line, 'NAME: VALUE' (repeat, up "
	    "to 64), as curl: it replaces ours of the same name (Host, User-Agent, Accept, Content-Type, "
	    "Content-Length), 'NAME:' removes ours, 'NAME;' sends NAME empty; a line with "
	    "neither ':' nor ';' is ignored" },
	{ F_DATA, "data", 'd', "DATA", "send DATA as the body of a POST, as curl: Content-Type: "
	    "application/x-www-form-urlencoded (unless -H gives one), several -d joined with "
	    "'&', @FILE reads FILE (@-: standard input) without its CR and LF bytes (an "
	    "unreadable FILE: a warning and an empty POST, as curl); up to 16 MiB. Over http:// "
	    "anyone on the path reads the body (--wire shows it: the body goes in a segment of "
	    "its own), over https:// only TLS records" },
	{ F_DATA_BINARY, "data-binary", 0, "DATA", "as -d, but @FILE is sent byte for byte "
	    "(CR and LF kept)" },
	{ F_HTTP10, "http1.0", '0', NULL, "send an HTTP/1.0 request, as curl -0: the server "
	    "answers without keep-alive (and without chunked encoding)" },
	{ F_WRITE_OUT, "write-out", 'w', "FORMAT", "when the transfer is over (also after a "
	    "failure), write FORMAT on standard output, as curl -w: %{http_code} (000: no "
	    "response), %{time_connect}, %{time_appconnect}, %{time_starttransfer} (with -L "
	    "each hop's times from its start, added, as curl), %{time_total} (to the last "
	    "body whole, not the close; seconds from the name lookup), %{size_download} (body "
	    "bytes; with -L the last response's only, as curl), %{size_header} (every head "
	    "received, the redirects' too), %{num_redirects}, %{remote_ip}, %{remote_port} "
	    "(the last connection made, one refused at its certificate too), "
	    "%{ssl_verify_result} (OpenSSL's X509_V_* number, 0: verified), %{num_connects} "
	    "(connections made), %{url_effective}; \\n \\t \\r and %% as curl; @FILE reads "
	    "FORMAT from FILE (@-: standard input) without its CR and LF bytes, as curl (a CR "
	    "ends what is read of its line); an unknown variable is said on standard error and "
	    "left out" },
	{ F_SILENT, "silent", 's', NULL, "only the body (with -i, -I, -w their output) on "
	    "standard output: no event log and no error line. curl's -s hides its progress "
	    "meter and its error message; here the event log plays the meter's part (-q hides "
	    "the log and keeps the error line, as curl -sS)" },
	{ F_SHOW_ERROR, "show-error", 'S', NULL, "with -s: still print the one error line on "
	    "standard error, as curl -sS (the same as -q)" },
	{ 0 }
};

static const struct flags_exit exits[] = {
	{ EXIT_OK, "done" },
	{ EXIT_FAIL, "other failure (e.g. a server that closes in the middle of -n)" },
	{ EXIT_USAGE, "usage (a bad flag, value or URL; a --cacert, --crlfile, --cert, --key or "
	    "--keylog file that cannot be used; -d with -I, as curl)" },
	{ EXIT_URL_MALFORMAT, "-L: a redirect's Location is not a URL we can follow" },
	{ EXIT_RESOLVE, "cannot resolve the host" },
	{ EXIT_CONNECT, "cannot connect to any of its addresses" },
	{ EXIT_WEIRD, "malformed response head (not HTTP, or too large)" },
	{ EXIT_PARTIAL, "body cut short" },
	{ EXIT_WRITE, "cannot write the body" },
	{ EXIT_TIMEOUT, "timeout (--connect-timeout on every address, or --max-time)" },
	{ EXIT_TLS, "TLS handshake failed, not over the server's certificate (e.g. https:// to "
	    "an HTTP port, or no client certificate for a server that requires one)" },
	{ EXIT_TOO_MANY_REDIRECTS, "too many redirects: more than --max-redirs (-L)" },
	{ EXIT_OPTION_SYNTAX, "a malformed --resolve or --connect-to" },
	{ EXIT_EMPTY, "empty reply" },
	{ EXIT_RECV, "connection broken while receiving (a reset, a head cut short, a malformed "
	    "chunked body, response heads over 300 KB or more than 100 interim 1xx responses "
	    "before the final one)" },
	{ EXIT_UNTRUSTED, "certificate not trusted (refused at the prompt, or no terminal and "
	    "no -k)" },
	{ EXIT_FILESIZE, "body larger than --max-filesize" },
	{ 0, NULL }
};

static const struct flags_item environment[] = {
	{ "SSLKEYLOGFILE", "without --keylog, append the TLS secrets to this file (NSS key log, "
	    "for Wireshark)" },
	{ "NO_COLOR", "if set, --color auto (the default) gives no colour, even on a terminal" },
	{ NULL, NULL }
};

const struct flags_prog client_flags = {
	.name = "client",
	.operands = "URL",
	.summary = "fetch one URL over HTTP or HTTPS and log every step",
	.description = "Fetch URL (http:// or https://; a name, an IPv4 address or [IPv6]) and "
	    "log every step: TCP handshake, TLS handshake and certificate check, request and "
	    "response, the close.\nThe event log goes to standard error, the response body to "
	    "standard output.",
	.flags = flags,
	.shared = cmdline_flags,
	.notes = "A name with several addresses is tried address by address. The TLS flags "
	    "(--tls-min, --tls-max, --kx, --ciphers, --groups, --dissect) do nothing with an "
	    "http:// URL: a warning says so.\nWhen the certificate check fails, the client "
	    "explains why; on a terminal it asks 'Proceed anyway? [y/N]', otherwise it refuses "
	    "(unless -k).\nThe client exits once its close watch has ended (--linger-watch), "
	    "at once after a failure.\ncurl's flags keep curl's letters and meanings (-i, -I, "
	    "-H, -d, -0, -w, -s, -S, -m, -V, and the exit codes), except three letters that "
	    "were ours first: -q is not curl's -q (do not read .curlrc) but: no event log; -n N "
	    "is not curl's -n (--netrc) but: N requests on one keep-alive connection; -v is not "
	    "curl's -v (the request and response headers and TLS steps on standard error, "
	    "which our event log always shows) but: also the connection's internal phase "
	    "changes. curl's progress meter has no counterpart: the event log takes its "
	    "place, and -s turns it off.",
	.exit_note = "The numbers are curl's where curl has one.",
	.exits = exits,
	.environment = environment,
	.see_also = "server(1), ladder(1), curl(1), openssl-s_client(1ssl)",
};

/* Why --kx means TLS 1.2 at most: in the warning at the TLS set-up (connect.c), and in the usage
 * error for --kx with --tls-min/--tls-max 1.3. */
const char *
options_kx_why_12(int kx)
{
	return kx == KX_RSA ? TR("TLS 1.3 has no RSA key transport (it was removed for lack "
	    "of forward secrecy)", "TLS 1.3 没有 RSA 密钥传输（因为没有前向保密而被删除）") :
	    TR("--kx picks a TLS 1.2 key exchange, and TLS 1.3 has no choice to make (it "
	    "always uses (EC)DHE)", "--kx 选择的是 TLS 1.2 的密钥交换，TLS 1.3 没有可选的"
	    "（它总是用 (EC)DHE）");
}

/* --resolve and --connect-to: the fields of s split at the colons outside [brackets] (the
 * brackets dropped), at most max of them: the last one takes the rest as it is (--resolve's
 * address list). Returns how many, or -1 if one is too long or a bracket is not closed. */
int
options_map_fields(const char *s, char f[][OPTIONS_FIELD_LEN], int max)
{
	const char *end;
	size_t n;
	int k;

	for (k = 0; k < max; k++) {
		if (k == max - 1) {
			n = strlen(s);
			end = s + n;
		} else if (*s == '[') {
			if ((end = strchr(s, ']')) == NULL || (end[1] != ':' && end[1] != '\0'))
				return -1;
			s++;
			n = (size_t)(end - s);
			end++;
		} else {
			n = strcspn(s, ":");
			end = s + n;
		}
		if (n >= OPTIONS_FIELD_LEN)
			return -1;
		memcpy(f[k], s, n);
		f[k][n] = '\0';
		if (*end == '\0')
			return k + 1;
		s = end + 1;
	}
	return k;
}

/* A malformed --resolve or --connect-to: exit 49, as curl ("Malformed option"). */
static void __attribute__((noreturn))
map_error(const char *flag, const char *arg, const char *why)
{
	fprintf(stderr, "%s: %s '%s': %s (exit %d)\n", flags_program(), flag, arg, why,
	    EXIT_OPTION_SYNTAX);
	exit(EXIT_OPTION_SYNTAX);
}

/* One of the flags that say where to connect. */
static void
parse_where(struct client_opts *o, int id, const char *arg)
{
	char f[4][OPTIONS_FIELD_LEN], a[OPTIONS_FIELD_LEN];
	const char *p;
	size_t n;

	switch (id) {
	case F_LOCATION: o->location = 1; break;
	case F_IPV4: o->family = AF_INET; break;
	case F_IPV6: o->family = AF_INET6; break;
	case F_MAX_REDIRS:
		o->max_redirs = strcmp(arg, "-1") == 0 ? -1 : (int)cmdline_number("--max-redirs: "
		    "'%s' is not a number of redirects (0-1000, or -1)", arg, 0, 1000);
		break;
	case F_RESOLVE:
		if (o->nresolve == CLIENT_MAX_MAPS)
			flags_usage_error("too many --resolve (at most %d)", CLIENT_MAX_MAPS);
		if (options_map_fields(arg, f, 3) != 3 || f[0][0] == '\0')
			map_error("--resolve", arg, "not HOST:PORT:ADDR[,ADDR]...");
		if (url_parse_port(f[1], 0) <= 0)
			map_error("--resolve", arg, "PORT is not a port (1-65535)");
		for (p = f[2]; *p; p += n + (p[n] == ',')) {
			n = strcspn(p, ",");
			snprintf(a, sizeof(a), "%.*s", (int)n, p);
			if (n > 2 && a[0] == '[' && a[n - 1] == ']') {
				memmove(a, a + 1, n - 2);
				a[n - 2] = '\0';
			}
			if (url_ip_literal(a) == 0)
				map_error("--resolve", arg, "ADDR must be an IPv4 or IPv6 address");
		}
		if (f[2][0] == '\0')
			map_error("--resolve", arg, "no ADDR");
		o->resolve[o->nresolve++] = arg;
		break;
	case F_CONNECT_TO:
		if (o->nconnect_to == CLIENT_MAX_MAPS)
			flags_usage_error("too many --connect-to (at most %d)", CLIENT_MAX_MAPS);
		if (options_map_fields(arg, f, 4) != 4 || strchr(f[3], ':') != NULL)
			map_error("--connect-to", arg, "not HOST1:PORT1:HOST2:PORT2 (each may be "
			    "empty; an IPv6 address in [brackets])");
		if ((f[1][0] && url_parse_port(f[1], 0) <= 0) ||
		    (f[3][0] && url_parse_port(f[3], 0) <= 0))
			map_error("--connect-to", arg, "a PORT is not a port (1-65535)");
		o->connect_to[o->nconnect_to++] = arg;
		break;
	}
}

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

/* --kx, -n and --reconnect against the other flags. */
static void
check_variants(const struct client_opts *o)
{
	char msg[256];

	if (o->kx != KX_ANY && o->ciphers != NULL)
		flags_usage_error("--kx and --ciphers do not go together: --kx picks the TLS 1.2 "
		    "cipher suites itself");
	/* --kx chooses among TLS 1.2 key exchanges: TLS 1.3 has its own ((EC)DHE always). */
	if (o->kx != KX_ANY && (o->tls_min == TLS1_3_VERSION || o->tls_max == TLS1_3_VERSION)) {
		snprintf(msg, sizeof(msg), "--kx %s and --tls-%s 1.3 do not go together: %s; %s",
		    o->kx == KX_RSA ? "rsa" : "ecdhe", o->tls_min == TLS1_3_VERSION ? "min" :
		    "max", options_kx_why_12(o->kx), o->tls_min == TLS1_3_VERSION ?
		    "leave --tls-min out" : "use --tls-max 1.2 or leave --tls-max out");
		flags_usage_error("%s", msg);
	}
	if (o->requests > 1 && o->common.server_closes_first)
		flags_usage_error("-n needs a keep-alive connection; --close-first server asks the "
		    "server to close after the first response");
	if (o->requests > 1 && o->half_close)
		flags_usage_error("-n and --half-close do not go together: after our FIN we cannot "
		    "send the next request");
}

/* -d and --data-binary as given: read once every flag is (the language of a warning). */
#define MAX_DATA_ARGS	32

static struct {
	const char	*arg;
	int		 binary;
} data_args[MAX_DATA_ARGS];
static int ndata;

/* A sentence in the language --lang chose, before the event log is set up. */
#define OTR(o, en, zh)	((o)->common.lang == EVLOG_LANG_ZH ? (zh) : (en))

/* @FILE (@-: standard input) appended to buf, at most max bytes in all; -d drops CR and LF
 * as curl does. Returns 0, or -1 (errno set) if it cannot be read. */
static int
read_data_file(const char *path, int binary, char *buf, size_t *len, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	int ch, ret = 0;

	if (f == NULL)
		return -1;
	while ((ch = getc(f)) != EOF) {
		if (!binary && (ch == '\r' || ch == '\n'))
			continue;
		if (*len == max) {
			errno = EFBIG;
			ret = -1;
			break;
		}
		buf[(*len)++] = (char)ch;
	}
	if (ret == 0 && ferror(f)) {
		errno = EIO;
		ret = -1;
	}
	if (f != stdin)
		fclose(f);
	return ret;
}

/* -d, --data-binary: the POST body, each piece joined with '&' (curl's). */
static void
read_data(struct client_opts *o)
{
	static char body[CLIENT_MAX_DATA];
	size_t len = 0, n;
	int i;

	for (i = 0; i < ndata; i++) {
		const char *a = data_args[i].arg;

		if (i > 0 && len < sizeof(body))
			body[len++] = '&';
		if (a[0] == '@') {
			if (read_data_file(a + 1, data_args[i].binary, body, &len,
			    sizeof(body)) == -1) {
				if (errno == EFBIG)
					flags_usage_error("%s", OTR(o, "-d: more than 16 MiB of data",
					    "-d：数据超过 16 MiB"));
				/* curl goes on with what it has: an empty POST for this piece
				 * (said unless -s, as curl) */
				if (!o->silent)
					fprintf(stderr, OTR(o, "client: warning: cannot read data "
					    "from '%s' (%s): this makes an empty POST, as curl\n",
					    "client：警告：无法读取数据文件 '%s'（%s），POST 的这部分"
					    "为空（与 curl 相同）\n"), a + 1, strerror(errno));
			}
			continue;
		}
		n = strlen(a);
		if (n > sizeof(body) - len)
			flags_usage_error("%s", OTR(o, "-d: more than 16 MiB of data",
			    "-d：数据超过 16 MiB"));
		memcpy(body + len, a, n);
		len += n;
	}
	o->data = body;
	o->data_len = len;
	o->method = "POST";
}

/* curl's flags against each other and ours. */
static void
check_curl(struct client_opts *o)
{
	int i;

	for (i = 0; i < o->nheaders; i++)
		if (strpbrk(o->headers[i], "\r\n") != NULL)
			flags_usage_error("%s", OTR(o, "-H: a header line cannot hold CR or LF (it "
			    "would start another header)", "-H：首部行中不能有 CR 或 LF（否则就开始了"
			    "另一个首部）"));
	if (ndata > 0 && strcmp(o->method, "HEAD") == 0)
		flags_usage_error("%s", OTR(o, "you can only select one HTTP request method: both "
		    "POST (-d) and HEAD (-I) were asked for, as curl says", "只能选一种 HTTP 请求方法："
		    "同时要求了 POST（-d）和 HEAD（-I），curl 也这样拒绝"));
	if (ndata > 0)
		read_data(o);
	if (strcmp(o->method, "HEAD") == 0)
		o->include = 1;		/* -I: the head is what it prints */
	if (o->silent)
		o->common.quiet = 1;	/* -sS: the error line stays (fetch_report), as -q */
}

/* One client flag (the shared ones are cmdline's). */
static void
parse_one(struct client_opts *o, int id, const char *arg)
{
	switch (id) {
	case F_LOCATION: case F_MAX_REDIRS: case F_RESOLVE: case F_CONNECT_TO: case F_IPV4:
	case F_IPV6:
		parse_where(o, id, arg);
		break;
	case F_CACERT: o->cafile = arg; break;
	case F_INSECURE: o->insecure = 1; break;
	case F_TLS_MIN: case F_TLS_MAX:
		if (tls_parse_version(arg) == -1)
			flags_usage_error("TLS version must be 1.2 or 1.3, not '%s'", arg);
		if (id == F_TLS_MIN)
			o->tls_min = tls_parse_version(arg);
		else
			o->tls_max = tls_parse_version(arg);
		break;
	case F_CIPHERS: o->ciphers = arg; break;
	case F_KEYLOG: o->keylog = arg; break;
	case F_OUTPUT: o->output = arg; break;
	case F_HEAD: o->method = "HEAD"; break;
	case F_CONNECT_TIMEOUT:
		o->connect_timeout_ms = parse_seconds("--connect-timeout: '%s' is not a number of "
		    "seconds", arg);
		break;
	case F_MAX_TIME:
		o->max_time_ms = parse_seconds("--max-time: '%s' is not a number of seconds", arg);
		break;
	case F_HALF_CLOSE: o->half_close = 1; break;
	case F_REUSE_TICKET: o->reuse_ticket = 1; break;
	case F_CRLFILE: o->crlfile = arg; break;
	case F_SHOW_CERTS: o->show_certs = 1; break;
	case F_KX:
		if (strcmp(arg, "rsa") == 0)
			o->kx = KX_RSA;
		else if (strcmp(arg, "ecdhe") == 0)
			o->kx = KX_ECDHE;
		else
			flags_usage_error("--kx: '%s' is not rsa or ecdhe", arg);
		break;
	case F_REQUESTS:
		o->requests = (int)cmdline_number("-n: '%s' is not a number of requests (1-1000)",
		    arg, 1, 1000);
		break;
	case F_RECONNECT:
		o->reconnect = (int)cmdline_number("--reconnect: '%s' is not a number of "
		    "connections (1-100)", arg, 1, REPEAT_MAX_CONNS);
		break;
	case F_MAX_FILESIZE:
		o->max_filesize = cmdline_number("--max-filesize: '%s' is not a number of bytes",
		    arg, 0, LONG_MAX);
		break;
	case F_PAUSE_READ:
		o->pause_read_ms = (int)cmdline_number("--pause-read: '%s' is not a number of "
		    "milliseconds (0-60000)", arg, 0, 60000);
		break;
	case F_INCLUDE: o->include = 1; break;
	case F_HEADER:
		if (o->nheaders == CLIENT_MAX_HEADERS)
			flags_usage_error(OTR(o, "too many -H headers (at most %d)", "-H 首部太多"
			    "（最多 %d 个）"), CLIENT_MAX_HEADERS);
		o->headers[o->nheaders++] = arg;
		break;
	case F_DATA: case F_DATA_BINARY:
		if (ndata == MAX_DATA_ARGS)
			flags_usage_error(OTR(o, "too many -d/--data-binary (at most %d)", "-d/"
			    "--data-binary 太多（最多 %d 个）"), MAX_DATA_ARGS);
		data_args[ndata].arg = arg;
		data_args[ndata++].binary = id == F_DATA_BINARY;
		break;
	case F_HTTP10: o->http10 = 1; break;
	case F_WRITE_OUT: o->write_out = arg; break;
	case F_SILENT: o->silent = 1; break;
	case F_SHOW_ERROR: o->show_error = 1; break;
	}
}

/* The flags, the URL, and the checks across them (a usage error exits with 2). */
void
options_parse(struct client_opts *o, struct url *u, int argc, char **argv)
{
	const char *arg, *env;
	char err[512];
	int id;

	*o = (struct client_opts){
		.method = "GET",
		.requests = 1,
		.reconnect = 1,
		.max_redirs = 50,	/* curl's */
		.connect_timeout_ms = 10000,
		.max_filesize = MAX_FILESIZE_DEFAULT,
		.common = CMDLINE_DEFAULTS,
	};
	while ((id = flags_next(&client_flags, argc, argv, &arg)) != -1)
		if (cmdline_parse(&o->common, id, arg) == -1)
			parse_one(o, id, arg);
	if (optind >= argc)
		flags_usage_error("no URL given (e.g. https://localhost:8443/)");
	if (optind + 1 < argc)
		flags_usage_error("one URL at a time ('%s' is extra)", argv[optind + 1]);
	o->url = argv[optind];
	if (url_parse(u, o->url, err, sizeof(err)) == -1)
		flags_usage_error("bad URL: %s", err);
	cmdline_check(&o->common);
	if (o->half_close && o->common.server_closes_first)
		flags_usage_error("--half-close and --close-first server do not go together: with "
		    "--half-close the client sends the first FIN");
	if (o->tls_min && o->tls_max && o->tls_min > o->tls_max)
		flags_usage_error("--tls-min is above --tls-max");
	if (o->location && (o->requests > 1 || o->reconnect > 1))
		flags_usage_error("-L does not go with -n or --reconnect: a redirect already "
		    "makes the next request, on this connection or a new one");
	check_variants(o);
	check_curl(o);
	if (o->keylog == NULL && (env = secure_getenv("SSLKEYLOGFILE")) != NULL && *env)
		o->keylog = env;
}
