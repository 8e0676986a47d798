// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * util.c - see util.h.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int mkdir_p(const char *path, unsigned int mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

const void *cli_find(const void *table, size_t n, size_t size, const char *name)
{
	const char *p = table;
	size_t i;

	for (i = 0; i < n; i++, p += size)
		if (!strcmp(((const struct cli_cmd *)(const void *)p)->name, name))
			return p;
	return NULL;
}

void cli_overview(FILE *f, const void *table, size_t n, size_t size)
{
	const char *p = table;
	size_t i;

	for (i = 0; i < n; i++, p += size) {
		const struct cli_cmd *c = (const void *)p;
		int len = fprintf(f, "  %s%s%s", c->name, *c->args ? " " : "", c->args);

		if (len < 0)
			return;
		if (len > 33) {
			fputc('\n', f);
			len = 0;
		}
		fprintf(f, "%*s%s\n", 34 - len, "", c->help);
	}
}
