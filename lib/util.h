/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * util.h - small helpers that nascarc and nascar-apply share (libnascar.a).
 */
#ifndef NASCAR_UTIL_H
#define NASCAR_UTIL_H

#include <stdio.h>

/* Creates path and every missing parent (like mkdir -p) with mode.
 * 0, or a negative errno (-ENAMETOOLONG for an empty or too long path). */
int mkdir_p(const char *path, unsigned int mode);

/* Writes s as a JSON string: quoted, '"' and '\' escaped, control
 * characters as \u00XX; other bytes (UTF-8 included) as they are. */
void json_str(FILE *out, const char *s);

#endif /* NASCAR_UTIL_H */
