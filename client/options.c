/* options.c -- the client's flags as a table: main.c reads the command line with it, and
 * --help and man/client.1 are written from it. */
#include "client.h"

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
	    "log; also SSLKEYLOGFILE); FILE is created mode 0600" },
	FLAG_SHARED(F_GROUPS, NULL),
	FLAG_SHARED(F_DISSECT, NULL),
	{ F_HEAD, "head", 'I', NULL, "send HEAD instead of GET" },
	{ F_REQUESTS, NULL, 'n', "N", "send N requests one after the other over one keep-alive "
	    "connection (1-1000, default 1): one handshake, N requests, the bodies one after "
	    "the other; not with --close-first server or --half-close" },
	{ F_RECONNECT, "reconnect", 0, "N", "make N connections one after the other (1-100, "
	    "default 1), each resuming the TLS session of the one before (session ticket / PSK: "
	    "no certificate); with -n M, M requests on each; http://: N plain connections" },
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
	{ F_CONNECT_TIMEOUT, "connect-timeout", 0, "SEC", "give up on an address after SEC "
	    "seconds, fractions allowed (default 10); a TLS handshake that stalls this long "
	    "too" },
	{ F_MAX_TIME, "max-time", 0, "SEC", "give up on the whole transfer after SEC seconds, "
	    "fractions allowed (default: no limit)" },
	{ F_MAX_FILESIZE, "max-filesize", 0, "BYTES", "refuse a response body larger than "
	    "BYTES: exit 63 and RST (the rest is not read), at once if its Content-Length says "
	    "so (default 104857600, 100 MiB; 0: no limit)" },
	{ 0 }
};

static const struct flags_exit exits[] = {
	{ EXIT_OK, "done" },
	{ EXIT_FAIL, "other failure (e.g. a server that closes in the middle of -n)" },
	{ EXIT_USAGE, "usage (a bad flag, value or URL; a --cacert, --crlfile, --cert, --key or "
	    "--keylog file that cannot be used)" },
	{ EXIT_RESOLVE, "cannot resolve the host" },
	{ EXIT_CONNECT, "cannot connect to any of its addresses" },
	{ EXIT_WEIRD, "malformed response head (not HTTP, or too large)" },
	{ EXIT_PARTIAL, "body cut short" },
	{ EXIT_WRITE, "cannot write the body" },
	{ EXIT_TIMEOUT, "timeout (--connect-timeout on every address, or --max-time)" },
	{ EXIT_TLS, "TLS handshake failed, not over the server's certificate (e.g. https:// to "
	    "an HTTP port, or no client certificate for a server that requires one)" },
	{ EXIT_EMPTY, "empty reply" },
	{ EXIT_RECV, "connection broken while receiving (a reset, a head cut short, a malformed "
	    "chunked body)" },
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
	    "at once after a failure.",
	.exit_note = "The numbers are curl's where curl has one.",
	.exits = exits,
	.environment = environment,
	.see_also = "server(1), ladder(1), curl(1), openssl-s_client(1ssl)",
};
