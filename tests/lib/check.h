/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Named asserts for C tests: each prints "PASS name" or "FAIL name: expected
 * X, got Y"; tests/run.sh counts the lines. A failed setup is a FAIL too. */
#ifndef MXG_CHECK_H
#define MXG_CHECK_H

#include <stdio.h>
#include <string.h>

extern int check_failed;
extern int check_passed;

#define CHECK(name, cond) do {                                             \
	if (cond) { check_passed++; printf("PASS %s\n", (name)); }         \
	else { check_failed++;                                             \
		printf("FAIL %s: %s is false (%s:%d)\n", (name), #cond,    \
		       __FILE__, __LINE__); }                              \
	fflush(stdout);                                                    \
} while (0)

#define CHECK_EQ(name, expected, actual) do {                              \
	long long e_ = (long long)(expected), a_ = (long long)(actual);    \
	if (e_ == a_) { check_passed++; printf("PASS %s\n", (name)); }     \
	else { check_failed++;                                             \
		printf("FAIL %s: expected %lld, got %lld (%s:%d)\n", (name), \
		       e_, a_, __FILE__, __LINE__); }                      \
	fflush(stdout);                                                    \
} while (0)

#define CHECK_STR(name, expected, actual) do {                             \
	const char *e_ = (expected), *a_ = (actual);                       \
	if (e_ && a_ && !strcmp(e_, a_)) {                                 \
		check_passed++; printf("PASS %s\n", (name)); }             \
	else { check_failed++;                                             \
		printf("FAIL %s: expected \"%s\", got \"%s\" (%s:%d)\n",   \
		       (name), e_ ? e_ : "(null)", a_ ? a_ : "(null)",     \
		       __FILE__, __LINE__); }                              \
	fflush(stdout);                                                    \
} while (0)

/* Exit status for main(): 1 if anything failed. */
#define CHECK_DONE() (check_failed ? 1 : 0)

/* Selection by substring: argv[1] (if any) filters case names. */
extern const char *check_filter;
#define CHECK_SELECTED(name) (!check_filter || strstr((name), check_filter))

/* A test case: fn(name) makes the case's checks, named after it. */
struct check_case {
	const char *name;
	void (*fn)(const char *name);
};
#define CHECK_CASE(f) { #f, f }

/* Runs the cases of an array that check_filter selects, in order. */
void check_cases(const struct check_case *cases, size_t n);
#define CHECK_CASES(cases) check_cases((cases), sizeof(cases) / sizeof((cases)[0]))

#endif /* MXG_CHECK_H */
