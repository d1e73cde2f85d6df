/* mkman.c -- write a program's man page from its flag table (make man):
 *   build/mkman server > man/server.1 */
#include <stdio.h>
#include <string.h>

#include "flags.h"

/* The tables: server/options.c, client/options.c, ladder/options.c. */
extern const struct flags_prog server_flags, client_flags, ladder_flags;

/* Every program with a man page. Another one adds its table here, its file to MKMAN_SRCS
 * and its name to MAN_PAGES in the Makefile. */
static const struct flags_prog *const progs[] = {
	&server_flags, &client_flags, &ladder_flags
};

int
main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc == 2 && i < sizeof(progs) / sizeof(progs[0]); i++)
		if (strcmp(argv[1], progs[i]->name) == 0) {
			flags_man(progs[i], stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		}
	fprintf(stderr, "usage: mkman PROGRAM > man/PROGRAM.1  (PROGRAM:");
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		fprintf(stderr, " %s", progs[i]->name);
	fprintf(stderr, ")\n");
	return 2;
}
