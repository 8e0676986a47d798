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

/* One line of a command overview in a usage text, the same in both
 * programs: "  NAME ARGS", then HELP from column 34 (on a line of its own
 * when NAME ARGS is too long). */
void usage_line(FILE *f, const char *name, const char *args, const char *help);

#endif /* NASCAR_UTIL_H */
