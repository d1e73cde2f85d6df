/* flags.h -- one table of a program's command-line flags drives getopt_long, --help and the
 * man page, so the three can never disagree. Libc only: no side, no event log. */
#ifndef FLAGS_H
#define FLAGS_H

#include <stdio.h>

/* One flag. A table is an array of these, ended by an entry with id 0. */
struct flag {
	int		 id;		/* a named id (F_CACERT): what flags_next() returns; > 0 */
	const char	*name;		/* long name without "--", or NULL (short only: -n) */
	char		 letter;	/* short letter, or 0 */
	const char	*arg;		/* the argument as --help names it (FILE, en|zh), or NULL */
	const char	*help;		/* one paragraph: wrapped in --help, filled by man */
};

/* In a program's table: "the shared flag with this id goes here", with the program's own
 * help text (or NULL: the shared one). Shared flags not placed so come after the program's. */
#define FLAG_SHARED(id, help)	{ (id), NULL, 0, NULL, (help) }

/* The id of -h, --help, which every program takes (flags.c adds it to each table). */
#define FLAGS_HELP		(-1)

/* An exit status and what it means. A list ends with text NULL. */
struct flags_exit {
	int		 code;
	const char	*text;
};

/* A named thing and what it is: an environment variable, a file. A list ends with name NULL. */
struct flags_item {
	const char	*name;
	const char	*text;
};

/* Everything --help and the man page say about one program. Text is plain: the man page
 * writer escapes it. A paragraph ends at '\n'. */
struct flags_prog {
	const char		*name;		/* "client": usage lines, errors, the page's title */
	const char		*options;	/* the synopsis's options: "[--svg | --mermaid]";
						 * NULL: "[options]" */
	const char		*operands;	/* after the options in the synopsis: "URL", or NULL */
	const char		*summary;	/* the man page's NAME line: what it is, in a phrase */
	const char		*description;	/* under the usage line and in DESCRIPTION */
	const struct flag	*flags;		/* its own flags and the places of shared ones */
	const struct flag	*shared;	/* the flags several programs take, or NULL */
	const char		*notes;		/* after the options in --help, and in DESCRIPTION */
	const char		*exit_note;	/* "curl's numbers": said beside "Exit status" */
	const struct flags_exit	*exits;
	const struct flags_item	*environment;	/* or NULL */
	const struct flags_item	*files;		/* or NULL */
	const char		*see_also;	/* "client(1), curl(1)" */
};

/* flags.c */
/* The next flag on the command line: its id, and its argument in *arg. -1 when the flags
 * end (optind is the first operand). Handles -h/--help (usage on standard output, exit 0)
 * and an unknown flag (getopt's message, a hint, exit 2) itself. */
int	flags_next(const struct flags_prog *, int argc, char **argv, const char **arg);
/* The id of the flag word names ("--name" or "-letter", exactly: no abbreviation, no
 * "=value", no letters run together), FLAGS_HELP for -h and --help; 0 if no flag of the
 * program has that name. For a program that reads its command line itself (the ladder). */
int	flags_find(const struct flags_prog *, const char *word);
/* A usage error: "NAME: message", a hint to --help, exit 2. */
void	flags_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The name of the program whose flags are being read ("client"). */
const char *flags_program(void);
void	flags_usage(const struct flags_prog *, FILE *);
/* The man page (roff, section 1). */
void	flags_man(const struct flags_prog *, FILE *);

#endif
