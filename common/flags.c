/* flags.c -- a program's flags as one table: getopt_long's arrays are built from it, and
 * --help and the man page are written from it. Libc only; knows no program. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

#define FLAGS_MAX	64	/* flags of one program, the shared ones and --help included */
#define FLAGS_WIDTH	80	/* --help's lines stay shorter than this */
#define FLAGS_COL	25	/* where a flag's help text starts in --help */

static const struct flag help_flag = {
	FLAGS_HELP, "help", 'h', NULL, "print this help and exit"
};

/* The program being parsed: its flags in order, and getopt_long's arrays built from them. */
static struct {
	const struct flags_prog	*prog;
	struct flag		 flag[FLAGS_MAX];
	int			 n;
	struct option		 longopts[FLAGS_MAX + 1];
	char			 optstring[2 * FLAGS_MAX + 1];
} cur;

/* A table that cannot work (a programmer's error, never a user's). */
static void __attribute__((format(printf, 2, 3), noreturn))
table_error(const struct flags_prog *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: flag table: ", p->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void
add(const struct flags_prog *p, struct flag *out, int *n, const struct flag *f)
{
	int i;

	if (*n == FLAGS_MAX)
		table_error(p, "more than %d flags (FLAGS_MAX)", FLAGS_MAX);
	for (i = 0; i < *n; i++)
		if ((f->name && out[i].name && strcmp(f->name, out[i].name) == 0) ||
		    (f->letter && f->letter == out[i].letter))
			table_error(p, "two flags named --%s or -%c", f->name ? f->name : "",
			    f->letter ? f->letter : ' ');
	out[(*n)++] = *f;
}

/* The program's flags in the order --help shows them: its own table with the shared flags
 * where it placed them, the shared flags it did not place, then -h/--help. */
static int
resolve(const struct flags_prog *p, struct flag *out)
{
	unsigned char placed[FLAGS_MAX] = { 0 };
	const struct flag *f, *s = p->shared;
	int n = 0, i;

	for (f = p->flags; f->id != 0; f++) {
		if (f->name != NULL || f->letter != 0) {
			add(p, out, &n, f);
			continue;
		}
		for (i = 0; s != NULL && s[i].id != 0 && s[i].id != f->id; i++)
			;
		if (s == NULL || s[i].id == 0 || i >= FLAGS_MAX)
			table_error(p, "FLAG_SHARED(%d): no shared flag has that id", f->id);
		add(p, out, &n, &s[i]);
		placed[i] = 1;
		if (f->help != NULL)
			out[n - 1].help = f->help;
	}
	for (i = 0; s != NULL && s[i].id != 0; i++)
		if (i >= FLAGS_MAX || !placed[i])
			add(p, out, &n, &s[i]);
	add(p, out, &n, &help_flag);
	return n;
}

static void
build(const struct flags_prog *p)
{
	char *o = cur.optstring;
	int i, j = 0;

	memset(&cur, 0, sizeof(cur));
	cur.prog = p;
	cur.n = resolve(p, cur.flag);
	for (i = 0; i < cur.n; i++) {
		const struct flag *f = &cur.flag[i];

		if (f->letter) {
			*o++ = f->letter;
			if (f->arg)
				*o++ = ':';
		}
		if (f->name) {
			cur.longopts[j].name = f->name;
			cur.longopts[j].has_arg = f->arg ? required_argument : no_argument;
			cur.longopts[j].val = 256 + i;	/* above every letter: back to its entry */
			j++;
		}
	}
}

int
flags_next(const struct flags_prog *p, int argc, char **argv, const char **arg)
{
	int ch, i;

	if (cur.prog != p)
		build(p);
	ch = getopt_long(argc, argv, cur.optstring, cur.longopts, NULL);
	if (ch == -1)
		return -1;
	if (ch >= 256)
		i = ch - 256;			/* a long flag: 256 + its index */
	else
		for (i = 0; i < cur.n && cur.flag[i].letter != ch; i++)
			;
	if (i >= cur.n) {
		/* '?': getopt_long has said what is wrong, with argv[0] */
		fprintf(stderr, "(see '%s --help')\n", p->name);
		exit(2);
	}
	if (cur.flag[i].id == FLAGS_HELP) {
		flags_usage(p, stdout);
		exit(0);
	}
	*arg = optarg;
	return cur.flag[i].id;
}

int
flags_find(const struct flags_prog *p, const char *word)
{
	struct flag f[FLAGS_MAX];
	int n = resolve(p, f), i;

	if (word[0] != '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (word[1] == '-' && f[i].name != NULL && strcmp(word + 2, f[i].name) == 0)
			return f[i].id;
		if (f[i].letter && word[1] == f[i].letter && word[2] == '\0')
			return f[i].id;
	}
	return 0;
}

const char *
flags_program(void)
{
	return cur.prog != NULL ? cur.prog->name : "?";
}

void
flags_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", flags_program());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see '%s --help')\n", flags_program());
	exit(2);
}

/* ---- --help ---- */

/* Columns a UTF-8 string takes: one a character, two for the CJK ranges (U+3000-U+DFFF). */
static int
columns(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	int w = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if ((u[i] & 0xc0) != 0x80)
			w += u[i] >= 0xe3 && u[i] <= 0xed ? 2 : 1;
	return w;
}

/* Text from column col (the cursor is there), words wrapped before FLAGS_WIDTH, every
 * further line indented to column indent; a '\n' in the text starts a new line, a '\t' is a
 * space no line breaks at. */
static void
wrap(FILE *fp, const char *text, int col, int indent)
{
	const char *p = text;
	size_t i;
	int first = 1;

	while (*p != '\0') {
		size_t len = strcspn(p, " \n");
		int w = columns(p, len);

		if (!first && col + 1 + w >= FLAGS_WIDTH) {
			fprintf(fp, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', fp);
			col++;
		}
		for (i = 0; i < len; i++)
			fputc(p[i] == '\t' ? ' ' : p[i], fp);
		col += w;
		first = 0;
		p += len;
		if (*p == '\n') {
			fprintf(fp, "\n%*s", indent, "");
			col = indent;
			first = 1;
		}
		while (*p == ' ' || *p == '\n')
			p++;
	}
	fputc('\n', fp);
}

/* How --help names a flag: "-b, --bind ADDR", "--cacert FILE", "-n N". */
static const char *
flag_words(const struct flag *f, char *buf, size_t len)
{
	char letter[4] = "";

	if (f->letter)
		snprintf(letter, sizeof(letter), "-%c%s", f->letter, f->name ? "," : "");
	snprintf(buf, len, "%s%s%s%s%s%s", letter, f->letter && f->name ? " " : "",
	    f->name ? "--" : "", f->name ? f->name : "", f->arg ? " " : "", f->arg ? f->arg : "");
	return buf;
}

void
flags_usage(const struct flags_prog *p, FILE *fp)
{
	struct flag f[FLAGS_MAX];
	const struct flags_exit *e;
	char line[2048];
	size_t l;
	int n = resolve(p, f), i, col;

	fprintf(fp, "usage: %s %s%s%s\n", p->name, p->options ? p->options : "[options]",
	    p->operands ? " " : "", p->operands ? p->operands : "");
	wrap(fp, p->description, 0, 0);
	fputc('\n', fp);
	for (i = 0; i < n; i++) {
		col = fprintf(fp, "  %s", flag_words(&f[i], line, sizeof(line)));
		if (col < FLAGS_COL - 1)
			col += fprintf(fp, "%*s", FLAGS_COL - col, "");
		else
			col += fprintf(fp, "  ");
		wrap(fp, f[i].help, col, FLAGS_COL);
	}
	if (p->notes != NULL) {
		fputc('\n', fp);
		wrap(fp, p->notes, 0, 0);
	}
	l = (size_t)snprintf(line, sizeof(line), "Exit status:");
	for (e = p->exits; e->text != NULL && l < sizeof(line); e++)
		l += (size_t)snprintf(line + l, sizeof(line) - l, " %d\t%s%s", e->code, e->text,
		    e[1].text != NULL ? "," : ".");
	if (p->exit_note != NULL && l < sizeof(line))
		snprintf(line + l, sizeof(line) - l, " %s", p->exit_note);
	fputc('\n', fp);
	wrap(fp, line, 0, 0);
}

/* ---- the man page ---- */

/* Plain text as roff: dashes as \\- (groff never breaks a line after one, nor shows it as
 * a hyphen), backslashes as \\e, a '.' or '\'' starting a line made text with \\&, other
 * than ASCII as \\[uXXXX] (no need for preconv); a '\\n' starts a new paragraph. */
static void
roff_n(FILE *fp, const char *s, size_t len)
{
	const char *end = s + len;
	const unsigned char *u;
	unsigned cp, n;
	int bol = 1;

	for (; s < end; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", fp);
		bol = 0;
		u = (const unsigned char *)s;
		if (*u >= 0xc0) {
			/* a UTF-8 sequence: its lead byte says how many bytes follow */
			n = *u >= 0xf0 ? 3 : *u >= 0xe0 ? 2 : 1;
			cp = *u & (0x3f >> n);
			while (n-- > 0 && s + 1 < end && (s[1] & 0xc0) == 0x80)
				cp = cp << 6 | (*(const unsigned char *)++s & 0x3f);
			fprintf(fp, "\\[u%04X]", cp);
		} else if (*s == '-')
			fputs("\\-", fp);
		else if (*s == '\\')
			fputs("\\e", fp);
		else if (*s == '\n' && s + 1 < end) {
			fputs("\n.PP\n", fp);
			bol = 1;
		} else if (*s != '\n')
			fputc(*s, fp);
	}
}

/* A line (or paragraphs) of plain text. */
static void
roff(FILE *fp, const char *s)
{
	roff_n(fp, s, strlen(s));
	fputc('\n', fp);
}

/* len bytes of text in font B (bold) or I (italic), then back to roman. */
static void
roff_font(FILE *fp, char font, const char *s, size_t len)
{
	fprintf(fp, "\\f%c", font);
	roff_n(fp, s, len);
	fputs("\\fR", fp);
}

static void
man_items(FILE *fp, const char *section, const struct flags_item *it)
{
	if (it == NULL || it->name == NULL)
		return;
	fprintf(fp, ".SH %s\n", section);
	for (; it->name != NULL; it++) {
		fputs(".TP\n.B ", fp);
		roff(fp, it->name);
		roff(fp, it->text);
	}
}

/* "client(1), curl(1)" as roff: each name in bold. */
static void
man_see_also(FILE *fp, const char *list)
{
	const char *p = list;

	fputs(".SH SEE ALSO\n", fp);
	while (*p != '\0') {
		size_t name = strcspn(p, "("), len = strcspn(p, ",");

		if (name > len)
			name = len;
		roff_font(fp, 'B', p, name);
		roff_n(fp, p + name, len - name);
		p += len;
		if (*p == ',') {
			fputs(",\n", fp);
			p++;
			while (*p == ' ')
				p++;
		}
	}
	fputc('\n', fp);
}

void
flags_man(const struct flags_prog *p, FILE *fp)
{
	struct flag f[FLAGS_MAX];
	const struct flags_exit *e;
	int n = resolve(p, f), i;
	char words[128];
	const char *c;

	fprintf(fp, ".\\\" %s.1 -- written by mkman from %s's flag table: do not edit, run "
	    "make man.\n.TH ", p->name, p->name);
	for (c = p->name; *c != '\0'; c++)
		fputc(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c, fp);
	fputs(" 1 \"\" \"handshake-lab\" \"User Commands\"\n.nh\n.SH NAME\n", fp);
	fprintf(fp, "%s \\- ", p->name);
	roff(fp, p->summary);
	fprintf(fp, ".SH SYNOPSIS\n.B %s\n", p->name);
	if (p->options != NULL)
		roff_n(fp, p->options, strlen(p->options));
	else
		fputs("[\\fIoptions\\fR]", fp);
	if (p->operands != NULL) {
		fputc(' ', fp);
		roff_font(fp, 'I', p->operands, strlen(p->operands));
	}
	fputs("\n.SH DESCRIPTION\n", fp);
	roff(fp, p->description);
	if (p->notes != NULL) {
		fputs(".PP\n", fp);
		roff(fp, p->notes);
	}
	fputs(".SH OPTIONS\n", fp);
	for (i = 0; i < n; i++) {
		fputs(".TP\n", fp);
		if (f[i].letter)
			fprintf(fp, "\\fB\\-%c\\fR%s", f[i].letter, f[i].name ? ", " : "");
		if (f[i].name) {
			snprintf(words, sizeof(words), "--%s", f[i].name);
			roff_font(fp, 'B', words, strlen(words));
		}
		if (f[i].arg) {
			fputc(' ', fp);
			roff_font(fp, 'I', f[i].arg, strlen(f[i].arg));
		}
		fputc('\n', fp);
		roff(fp, f[i].help);
	}
	fputs(".SH EXIT STATUS\n.PD 0\n", fp);	/* one line each, no blank line between */
	for (e = p->exits; e->text != NULL; e++) {
		fprintf(fp, ".TP\n.B %d\n", e->code);
		roff(fp, e->text);
	}
	fputs(".PD\n", fp);
	if (p->exit_note != NULL) {
		fputs(".PP\n", fp);
		roff(fp, p->exit_note);
	}
	man_items(fp, "ENVIRONMENT", p->environment);
	man_items(fp, "FILES", p->files);
	if (p->see_also != NULL)
		man_see_also(fp, p->see_also);
}
