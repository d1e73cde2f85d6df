/* unit_main.c -- runs every unit test file and prints the machine-readable summary line. */
#include <stdlib.h>

#include "unit.h"

int unit_passed, unit_failed;

int
main(void)
{
	/* the slab itself is under test: never its calloc stand-in (make valgrind) */
	unsetenv("HSLAB_SLAB");
	test_http1();
	test_url();
	test_evlog();
	test_tls_names();
	test_tls_resume();
	test_sockdiag();
	test_capture();
	test_dissect();
	test_wire();
	test_explain();
	test_slab();
	printf("unit: %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}
