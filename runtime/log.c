// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

int log_verbose;
int log_quiet;

static char *cap_buf;
static size_t cap_len, cap_size;
static int capturing;

void pr_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("nascar-apply: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("nascar-apply: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	fputs("debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void cap_append(const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return;
	if (cap_len + (size_t)n + 1 > cap_size) {
		size_t sz = cap_size ? cap_size : 65536;
		char *p;

		while (cap_len + (size_t)n + 1 > sz)
			sz *= 2;
		p = realloc(cap_buf, sz);
		if (!p)
			return;
		cap_buf = p;
		cap_size = sz;
	}
	vsnprintf(cap_buf + cap_len, cap_size - cap_len, fmt, ap);
	cap_len += (size_t)n;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;

	if (capturing) {
		va_copy(aq, ap);
		cap_append(fmt, aq);
		va_end(aq);
	}
	if (level == LIBBPF_DEBUG && log_verbose < 2)
		return 0;
	if (!log_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

void log_capture_start(void)
{
	cap_len = 0;
	if (cap_buf)
		cap_buf[0] = '\0';
	capturing = 1;
}

void log_capture_stop(void)
{
	capturing = 0;
}

const char *log_captured(size_t *len)
{
	if (len)
		*len = cap_len;
	return cap_buf ? cap_buf : "";
}
