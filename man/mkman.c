/* mkman.c -- write a program's man page from its flag table (make man): linked with one
 * program's options.c as build/mkman-NAME, e.g. build/mkman-server > man/server.1 */
#include <stdio.h>

#include "flags.h"

/* The tables: server/options.c, client/options.c, ladder/options.c. Each build/mkman-NAME
 * links exactly one of them (the programs' options.c files each have their own
 * options_parse()): the others stay undefined, weak, NULL. */
extern const struct flags_prog server_flags __attribute__((weak));
extern const struct flags_prog client_flags __attribute__((weak));
extern const struct flags_prog ladder_flags __attribute__((weak));

int
main(int argc, char **argv)
{
	const struct flags_prog *const progs[] = { &server_flags, &client_flags, &ladder_flags };
	const struct flags_prog *p = NULL;
	size_t i;

	(void)argv;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (progs[i] != NULL)
			p = progs[i];
	if (p == NULL || argc != 1) {
		fprintf(stderr, "usage: mkman-%s > man/%s.1\n", p ? p->name : "NAME",
		    p ? p->name : "NAME");
		return 2;
	}
	flags_man(p, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
