/* unit.h -- a tiny unit-test harness: CHECK records a pass or a failure with its place. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (cond) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (a_ && b_ && strcmp(a_, b_) == 0) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", \
	    __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

/* One function per test file, called from unit_main.c. */
void test_http1(void);
void test_url(void);
void test_evlog(void);
void test_tls_names(void);
void test_tls_resume(void);
void test_sockdiag(void);
void test_capture(void);
void test_dissect(void);
void test_wire(void);
void test_explain(void);
void test_slab(void);
void test_seglog(void);
void test_tcpinfo(void);
void test_textwidth(void);
void test_ladderlib(void);

#endif
