/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * util.h - small helpers that nascarc and nascar-apply share (libnascar.a).
 */
#ifndef NASCAR_UTIL_H
#define NASCAR_UTIL_H

#include <stdio.h>

/* Both programs: 0 success, 2 a usage error (nascarc: or an I/O error). */
#define EXIT_USAGE 2

#ifndef NASCAR_VERSION
#define NASCAR_VERSION "1.0"
#endif

/* Creates path and every missing parent (like mkdir -p) with mode.
 * 0, or a negative errno (-ENAMETOOLONG for an empty or too long path). */
int mkdir_p(const char *path, unsigned int mode);

/* Writes s as a JSON string: quoted, '"' and '\' escaped, control
 * characters as \u00XX; other bytes (UTF-8 included) as they are. */
void json_str(FILE *out, const char *s);

/* A program's table of commands drives both its usage text and its
 * dispatch.  Each entry starts with a struct cli_cmd; the program's own
 * fields (handler, flags) follow it. */
struct cli_cmd {
	const char *name;
	const char *args; /* in the overview, after the name ("" for none) */
	const char *help; /* one line in the overview */
};
/* The entry called name in table (n entries of size bytes each), or NULL. */
const void *cli_find(const void *table, size_t n, size_t size, const char *name);
/* The overview of the commands, the same in both programs: a line
 * "  NAME ARGS" each, HELP from column 34 (on a line of its own when NAME
 * ARGS is too long). */
void cli_overview(FILE *f, const void *table, size_t n, size_t size);

#endif /* NASCAR_UTIL_H */
