/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * check.h - a tiny test harness: CHECK() records a failure and carries on,
 * TEST() runs one case and prints "PASS: name" or "FAIL: name" (the line
 * format tests/run.sh counts).
 */
#ifndef NASCAR_TEST_CHECK_H
#define NASCAR_TEST_CHECK_H

#include <stdio.h>

static int check_failed;
static int check_total_failed;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			check_failed = 1;                                                        \
		}                                                                                \
	} while (0)

#define TEST(fn)                                                         \
	do {                                                             \
		check_failed = 0;                                        \
		fn();                                                    \
		printf("%s: %s\n", check_failed ? "FAIL" : "PASS", #fn); \
		fflush(stdout);                                          \
		check_total_failed += check_failed;                      \
	} while (0)

#define TEST_EXIT() (check_total_failed ? 1 : 0)

#endif
