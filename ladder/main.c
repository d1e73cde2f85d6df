/* main.c -- ladder: draws the ladder (sequence) diagram of one run from the client's and the
 * server's JSON-lines logs: client on the left, server on the right, time going down, one arrow
 * per message that really went across. Text (Unicode or ASCII), SVG or Mermaid; libc only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "ladder.h"

/* The output: --text (the default), --ascii, --svg or --mermaid. */
enum fmt { FMT_TEXT, FMT_ASCII, FMT_SVG, FMT_MERMAID };

/* What the command line asks for. */
struct options {
	enum fmt	 fmt;
	const char	*files[2];	/* CLIENT_LOG and SERVER_LOG; "-" is standard input */
};

/* The error, then the usage on standard error; exit status 2. */
static void usage_error(const char *, const char *) __attribute__((noreturn));

static void
usage_error(const char *fmt, const char *arg)
{
	fputs("ladder: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	flags_usage(&ladder_flags, stderr);
	exit(2);
}

/* Reads the command line; exits after --help (0) or a usage error (2). Options and logs
 * can come in any order; after "--" every word is a log. Not flags_next() (getopt_long):
 * it would take abbreviations (--sv) and letters run together, and word its errors in its
 * own way; the ladder's words and messages stay as they were. The flags are the table's
 * (flags_find), so --help, the man page and this parser name the same ones. */
static struct options
parse_opts(int argc, char **argv)
{
	struct options o = { FMT_TEXT, { NULL, NULL } };
	int i, nfiles = 0, nfmt = 0, only_opts = 1;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (only_opts && strcmp(arg, "--") == 0) {
			only_opts = 0;
		} else if (only_opts && arg[0] == '-' && arg[1] != '\0') {
			switch (flags_find(&ladder_flags, arg)) {
			case FLAGS_HELP:
				flags_usage(&ladder_flags, stdout);
				exit(0);
			case F_TEXT:
				o.fmt = FMT_TEXT;
				break;
			case F_ASCII:
				o.fmt = FMT_ASCII;
				break;
			case F_SVG:
				o.fmt = FMT_SVG;
				break;
			case F_MERMAID:
				o.fmt = FMT_MERMAID;
				break;
			case F_LANG:
				if (i + 1 >= argc)
					usage_error("%s", "--lang needs en or zh");
				arg = argv[++i];
				if (strcmp(arg, "zh") != 0 && strcmp(arg, "en") != 0)
					usage_error("--lang: '%s' is not en or zh", arg);
				ladder_zh = strcmp(arg, "zh") == 0;
				continue;
			default:
				usage_error("unknown option '%s'", arg);
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
		fprintf(stderr, TR("ladder: %s: %zu malformed JSON line(s) skipped\n",
		    "ladder：%s：跳过了 %zu 行格式错误的 JSON\n"), path, st->malformed);
	if (st->toolong)
		fprintf(stderr, TR("ladder: %s: %zu line(s) longer than %d bytes or with NUL bytes "
		    "skipped\n", "ladder：%s：跳过了 %zu 行长于 %d 字节或含 NUL 字节的行\n"), path,
		    st->toolong, LINE_MAX_BYTES - 1);
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
			fprintf(stderr, TR("ladder: %s has no event records (%zu line(s)): is it a "
			    "log written with --log-format json? (client: 2>client.json, server: "
			    ">server.json)\n", "ladder：%s 里没有事件记录（%zu 行）：它是用 "
			    "--log-format json 写的日志吗？（客户端：2>client.json，服务器："
			    ">server.json）\n"), ls->name[i], st[i].lines);
			return -1;
		}
	}
	if (ls->sides[0][CLIENT] + ls->sides[1][CLIENT] == 0) {
		fprintf(stderr, "%s", TR("ladder: neither log is the client's: both hold server "
		    "events (the client's log is its standard error: 2>client.json)\n",
		    "ladder：两份日志都不是客户端的：都是服务器的事件（客户端的日志在它的标准错误："
		    "2>client.json）\n"));
		return -1;
	}
	if (ls->sides[0][SERVER] + ls->sides[1][SERVER] == 0) {
		fprintf(stderr, "%s", TR("ladder: neither log is the server's: both hold client "
		    "events (the server's log is its standard output: >server.json)\n",
		    "ladder：两份日志都不是服务器的：都是客户端的事件（服务器的日志在它的标准输出："
		    ">server.json）\n"));
		return -1;
	}

	conns = group_conns(ls, &nconn);
	dd = pair_conns(conns, nconn, &nd);
	if (nd == 0) {
		fprintf(stderr, "%s", TR("ladder: the two logs share no connection: were they from "
		    "the same run?\n", "ladder：两份日志没有共同的连接：它们来自同一次运行吗？\n"));
		for (i = 0, j = 0; i < nconn && j < 3; i++)
			if (conns[i].side == CLIENT && conns[i].local != NULL) {
				fprintf(stderr, TR("ladder: the client's connection %s -> %s is not "
				    "in the server's log\n", "ladder：客户端的连接 %s -> %s 不在服务器"
				    "的日志里\n"), conns[i].local, conns[i].remote);
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
	lad_free(conns);
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
	lad_free(out.p);
	return ret;
}
