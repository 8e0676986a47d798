// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_diag.c - the diagnostics queue, the caret renderer and suggestions. */
#define _GNU_SOURCE /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"

static char *render(struct diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	diag_print(d, f);
	fclose(f);
	return buf;
}

static struct nloc L(int line, int c0, int c1) {
	struct nloc l = {line, c0, line, c1};

	return l;
}

static void
test_caret_range(void)
{
	const char *src = "flow cam { to 10.0.0.5; class adsa; }\n";
	struct diag d;
	struct nloc l = L(1, 31, 34);
	char *out;

	diag_init(&d, "v.nflow", src, strlen(src));
	diag_error(&d, &l, "unknown class '%s'; did you mean '%s'?", "adsa", "adas");
	out = render(&d);
	CHECK(!strcmp(out, "v.nflow:1:31: error: unknown class 'adsa'; did you mean 'adas'?\n"
			   "    flow cam { to 10.0.0.5; class adsa; }\n"
			   "                                  ^~~~\n"),
	      "got [%s]", out);
	free(out);
}

static void test_caret_tabs(void)
{
	const char *src = "a\n\tx\t y;\n";
	struct diag d;
	struct nloc l = L(2, 5, 5);
	char *out;

	diag_init(&d, "t", src, strlen(src));
	diag_warning(&d, &l, "w");
	out = render(&d);
	CHECK(!strcmp(out, "t:2:5: warning: w\n    \tx\t y;\n    \t \t ^\n"), "got [%s]", out);
	CHECK(d.nwarnings == 1 && d.nerrors == 0, "counts %d %d", d.nwarnings, d.nerrors);
	free(out);
}

static void test_past_end_of_line(void)
{
	const char *src = "abc";
	struct diag d;
	struct nloc l = L(1, 4, 4);
	char *out;

	diag_init(&d, "t", src, strlen(src));
	diag_error(&d, &l, "eof");
	out = render(&d);
	CHECK(!strcmp(out, "t:1:4: error: eof\n    abc\n       ^\n"), "got [%s]", out);
	free(out);
}

static void test_multiline_range_and_crlf(void)
{
	const char *src = "ab cd\r\nef\r\n";
	struct diag d;
	struct nloc l = {1, 4, 2, 1};
	char *out;

	diag_init(&d, "t", src, strlen(src));
	diag_error(&d, &l, "m");
	out = render(&d);
	CHECK(!strcmp(out, "t:1:4: error: m\n    ab cd\n       ^~\n"), "got [%s]", out);
	free(out);
}

static void test_sorted_with_notes(void)
{
	const char *src = "l1\nl2\nl3\n";
	struct diag d;
	struct nloc l3 = L(3, 1, 2), l1 = L(1, 1, 1), l2 = L(2, 2, 2);
	char *out;

	diag_init(&d, "t", src, strlen(src));
	diag_error(&d, &l3, "third");
	diag_note(&d, &l1, "see first");
	diag_error(&d, &l2, "second");
	diag_error(&d, NULL, "global");
	out = render(&d);
	CHECK(!strcmp(out, "t:2:2: error: second\n    l2\n     ^\n"
			   "t:3:1: error: third\n    l3\n    ^~\n"
			   "t:1:1: note: see first\n    l1\n    ^\n"
			   "t: error: global\n"),
	      "got [%s]", out);
	free(out);
}

static void test_werror_and_cap(void)
{
	const char *src = "x\n";
	struct diag d;
	struct nloc l = L(1, 1, 1);
	char *out;
	int i;

	diag_init(&d, "t", src, strlen(src));
	d.werror = 1;
	d.max_errors = 2;
	diag_warning(&d, &l, "w");
	CHECK(d.nerrors == 1 && d.nwarnings == 0, "werror: %d %d", d.nerrors, d.nwarnings);
	for (i = 0; i < 4; i++)
		diag_error(&d, &l, "e%d", i);
	out = render(&d);
	CHECK(strstr(out, "error: w\n") && strstr(out, "error: e0\n") && !strstr(out, "e1"),
	      "got [%s]", out);
	CHECK(strstr(out, "t: note: 3 more errors not shown (--max-errors 2)\n"), "got [%s]", out);
	free(out);
}

static void test_edit_distance(void)
{
	CHECK(diag_edit_distance("adsa", "adas") == 1, "swap");
	CHECK(diag_edit_distance("tpc", "tcp") == 1, "swap");
	CHECK(diag_edit_distance("", "abc") == 3, "insert");
	CHECK(diag_edit_distance("kitten", "sitting") == 3, "classic");
	CHECK(diag_edit_distance("same", "same") == 0, "equal");
}

static void test_suggest(void)
{
	const char *const names[] = {"control", "adas", "diag", "bulk"};
	const char *s;

	s = diag_suggest("adsa", names, 4);
	CHECK(s && !strcmp(s, "adas"), "adsa -> %s", s ? s : "(null)");
	s = diag_suggest("contrl", names, 4);
	CHECK(s && !strcmp(s, "control"), "contrl -> %s", s ? s : "(null)");
	CHECK(!diag_suggest("zzzz", names, 4), "no suggestion for far names");
	CHECK(!diag_suggest("adas", names, 4), "no suggestion for an exact match");
	CHECK(!diag_suggest("x", names, 0), "empty list");
}

int main(void)
{
	TEST(test_caret_range);
	TEST(test_caret_tabs);
	TEST(test_past_end_of_line);
	TEST(test_multiline_range_and_crlf);
	TEST(test_sorted_with_notes);
	TEST(test_werror_and_cap);
	TEST(test_edit_distance);
	TEST(test_suggest);
	return TEST_EXIT();
}
