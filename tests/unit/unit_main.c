/* unit_main.c -- runs the unit test suites (all, or the ones named) and prints the summary line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

int unit_passed, unit_failed;

/* one suite per test file: tests/unit/test_NAME.c defines test_NAME() */
static const struct suite {
	const char *name;
	void (*run)(void);
} suites[] = {
	{ "http1", test_http1 },
	{ "url", test_url },
	{ "evlog", test_evlog },
	{ "tls_names", test_tls_names },
	{ "tls_resume", test_tls_resume },
	{ "sockdiag", test_sockdiag },
	{ "capture", test_capture },
	{ "dissect", test_dissect },
	{ "wire", test_wire },
	{ "explain", test_explain },
	{ "slab", test_slab },
	{ "seglog", test_seglog },
	{ "tcpinfo", test_tcpinfo },
	{ "textwidth", test_textwidth },
	{ "ladderlib", test_ladderlib },
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static const struct suite *
find_suite(const char *name)
{
	for (size_t i = 0; i < NSUITES; i++)
		if (strcmp(suites[i].name, name) == 0)
			return &suites[i];
	return NULL;
}

/* unit: every suite; unit NAME...: those suites (tests/test_unit.py runs one at a time);
 * unit --list: the suites' names, one a line */
int
main(int argc, char **argv)
{
	/* the slab itself is under test: never its calloc stand-in (make valgrind) */
	unsetenv("HSLAB_SLAB");
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NSUITES; i++)
			printf("%s\n", suites[i].name);
		return 0;
	}
	for (int i = 1; i < argc; i++)
		if (find_suite(argv[i]) == NULL) {
			fprintf(stderr, "unit: no suite '%s' (unit --list names them)\n", argv[i]);
			return 2;
		}
	if (argc == 1)
		for (size_t i = 0; i < NSUITES; i++)
			suites[i].run();
	for (int i = 1; i < argc; i++)
		find_suite(argv[i])->run();
	printf("unit: %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
