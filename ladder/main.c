/* main.c -- ladder: draws the ladder (sequence) diagram of one run from the client's and the
 * server's JSON-lines logs: client on the left, server on the right, time going down, one arrow
 * per message that really went across. Text (Unicode or ASCII), SVG or Mermaid; libc only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

/* The output: --text (the default), --ascii, --svg or --mermaid. */
enum fmt { FMT_TEXT, FMT_ASCII, FMT_SVG, FMT_MERMAID };

/* The ladder's options, one table for the parser and for --help: a named id, the long name
 * (after "--"), the short letter (0: none) and the help line. None takes an argument. */
enum opt_id { OPT_TEXT, OPT_ASCII, OPT_SVG, OPT_MERMAID, OPT_HELP };

static const struct opt {
	enum opt_id	 id;
	const char	*name;
	char		 letter;
	const char	*help;
} opts[] = {
	{ OPT_TEXT,	"text",    0,	"text with Unicode box drawing (the default)" },
	{ OPT_ASCII,	"ascii",   0,	"text with ASCII characters only" },
	{ OPT_SVG,	"svg",     0,	"a self-contained SVG picture (open it in a browser)" },
	{ OPT_MERMAID,	"mermaid", 0,	"Mermaid sequenceDiagram text" },
	{ OPT_HELP,	"help",    'h',	"this help" },
};

/* What the command line asks for. */
struct options {
	enum fmt	 fmt;
	const char	*files[2];	/* CLIENT_LOG and SERVER_LOG; "-" is standard input */
};

static void
usage(FILE *f)
{
	size_t i;

	fputs("usage: ladder [--svg | --mermaid | --ascii] CLIENT_LOG SERVER_LOG\n"
	    "Draw the ladder diagram of one run from the two JSON-lines event logs:\n"
	    "  build/client --log-format json URL 2>client.json\n"
	    "  build/server --log-format json ... >server.json\n"
	    "Client on the left, server on the right, time going down: an arrow for each TLS\n"
	    "message, alert, close_notify, HTTP request and response, and each TCP segment\n"
	    "when both programs ran with --capture; the time and the kernel's TCP state at\n"
	    "each end. Connections are matched by address and port, events merged on ts_us.\n"
	    "\n", f);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char flag[32];

		if (opts[i].letter)
			snprintf(flag, sizeof(flag), "-%c, --%s", opts[i].letter, opts[i].name);
		else
			snprintf(flag, sizeof(flag), "--%s", opts[i].name);
		fprintf(f, "  %-12s %s\n", flag, opts[i].help);
	}
	fputs("A log name '-' reads standard input. Lines that are not JSON objects are skipped.\n"
	    "Exit status: 0 drawn, 1 a log cannot be read or the logs share no connection,\n"
	    "2 usage.\n", f);
}

/* The error, then the usage on standard error; exit status 2. */
static void usage_error(const char *, const char *) __attribute__((noreturn));

static void
usage_error(const char *fmt, const char *arg)
{
	fputs("ladder: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	exit(2);
}

/* The option arg names ("--name" or "-letter"), or NULL. */
static const struct opt *
find_opt(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (arg[1] == '-' && strcmp(arg + 2, opts[i].name) == 0)
			return &opts[i];
		if (opts[i].letter && arg[1] == opts[i].letter && arg[2] == '\0')
			return &opts[i];
	}
	return NULL;
}

/* Reads the command line; exits after --help (0) or a usage error (2). Options and logs
 * can come in any order; after "--" every word is a log. */
static struct options
parse_opts(int argc, char **argv)
{
	struct options o = { FMT_TEXT, { NULL, NULL } };
	const struct opt *opt;
	int i, nfiles = 0, nfmt = 0, only_opts = 1;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (only_opts && strcmp(arg, "--") == 0) {
			only_opts = 0;
		} else if (only_opts && arg[0] == '-' && arg[1] != '\0') {
			if ((opt = find_opt(arg)) == NULL)
				usage_error("unknown option '%s'", arg);
			switch (opt->id) {
			case OPT_HELP:
				usage(stdout);
				exit(0);
			case OPT_TEXT:
				o.fmt = FMT_TEXT;
				break;
			case OPT_ASCII:
				o.fmt = FMT_ASCII;
				break;
			case OPT_SVG:
				o.fmt = FMT_SVG;
				break;
			case OPT_MERMAID:
				o.fmt = FMT_MERMAID;
				break;
			}
			nfmt++;
		} else if (nfiles < 2) {
			o.files[nfiles++] = arg;
		} else {
			usage_error("one client log and one server log, not more ('%s')", arg);
		}
	}
	if (nfmt > 1)
		usage_error("%s", "choose one of --svg, --mermaid, --ascii");
	if (nfiles != 2)
		usage_error("%s", "two logs are needed: CLIENT_LOG SERVER_LOG");
	if (strcmp(o.files[0], "-") == 0 && strcmp(o.files[1], "-") == 0)
		usage_error("%s", "only one of the logs can be '-'");
	return o;
}

static void
report_skipped(const char *path, const struct readstat *st)
{
	if (st->malformed)
		fprintf(stderr, "ladder: %s: %zu malformed JSON line(s) skipped\n", path,
		    st->malformed);
	if (st->toolong)
		fprintf(stderr, "ladder: %s: %zu line(s) longer than %d bytes or with NUL bytes "
		    "skipped\n", path, st->toolong, LINE_MAX_BYTES - 1);
}

/* Pairs the two sides' connections and renders them into out; -1 after an error message. */
static int
draw(struct logset *ls, const struct readstat *st, enum fmt fmt, struct sbuf *out)
{
	struct conn *conns = NULL;
	struct diagram *dd = NULL;
	size_t nconn = 0, nd = 0, i, j;
	int ret = -1;

	for (i = 0; i < 2; i++) {
		if (ls->sides[i][CLIENT] + ls->sides[i][SERVER] == 0) {
			fprintf(stderr, "ladder: %s has no event records (%zu line(s)): is it a log "
			    "written with --log-format json? (client: 2>client.json, server: "
			    ">server.json)\n", ls->name[i], st[i].lines);
			return -1;
		}
	}
	if (ls->sides[0][CLIENT] + ls->sides[1][CLIENT] == 0) {
		fprintf(stderr, "ladder: neither log is the client's: both hold server events "
		    "(the client's log is its standard error: 2>client.json)\n");
		return -1;
	}
	if (ls->sides[0][SERVER] + ls->sides[1][SERVER] == 0) {
		fprintf(stderr, "ladder: neither log is the server's: both hold client events "
		    "(the server's log is its standard output: >server.json)\n");
		return -1;
	}

	conns = group_conns(ls, &nconn);
	dd = pair_conns(conns, nconn, &nd);
	if (nd == 0) {
		fprintf(stderr, "ladder: the two logs share no connection: were they from the same "
		    "run?\n");
		for (i = 0, j = 0; i < nconn && j < 3; i++)
			if (conns[i].side == CLIENT && conns[i].local != NULL) {
				fprintf(stderr, "ladder: the client's connection %s -> %s is not in "
				    "the server's log\n", conns[i].local, conns[i].remote);
				j++;
			}
		if (j == 0)
			fprintf(stderr, "ladder: the client's log has no established connection\n");
		goto done;
	}

	switch (fmt) {
	case FMT_TEXT:
	case FMT_ASCII:
		render_text(out, dd, nd, fmt == FMT_ASCII);
		break;
	case FMT_SVG:
		render_svg(out, dd, nd);
		break;
	case FMT_MERMAID:
		render_mermaid(out, dd, nd);
		break;
	}
	ret = 0;
done:
	free_diagrams(dd, nd);
	free(conns);
	return ret;
}

int
main(int argc, char **argv)
{
	struct options o = parse_opts(argc, argv);
	struct logset ls;
	struct readstat st[2];
	struct sbuf out = { 0 };
	int i, ret = 1;

	memset(&ls, 0, sizeof(ls));
	for (i = 0; i < 2; i++) {
		if (read_log(&ls, i, o.files[i], &st[i]) < 0)
			goto done;
		report_skipped(ls.name[i], &st[i]);
	}
	if (draw(&ls, st, o.fmt, &out) < 0)
		goto done;
	if ((out.len > 0 && fwrite(out.p, 1, out.len, stdout) != out.len) || fflush(stdout) != 0) {
		fprintf(stderr, "ladder: cannot write the diagram: %s\n", strerror(errno));
		goto done;
	}
	ret = 0;
done:
	logset_free(&ls);
	free(out.p);
	return ret;
}
