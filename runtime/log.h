/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * log.h - messages of nascar-apply.
 *
 * Contract: every user-facing error is one line on stderr,
 * "nascar-apply: <what is wrong>; <what to do>" (pr_err() prints it).
 * pr_info goes to stdout unless --quiet, pr_debug only with -v.  libbpf's
 * own output goes through log_libbpf_print(): shown with -v, and always
 * kept in a memory buffer while log_capture_start() is in force, so a
 * verifier rejection can be written to a file whole.
 */
#ifndef NASCAR_LOG_H
#define NASCAR_LOG_H

#include <stdarg.h>
#include <stddef.h>

extern int log_verbose; /* -v: 1, -vv: 2 (libbpf debug too) */
extern int log_quiet;

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One error line "nascar-apply: ..." on stderr. */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Installs the libbpf print hook (libbpf_set_print). */
void log_setup_libbpf(void);
/* Starts/stops keeping everything libbpf prints in memory. */
void log_capture_start(void);
void log_capture_stop(void);
/* The captured text (NUL-terminated, may be empty); valid until the next start. */
const char *log_captured(size_t *len);

#endif /* NASCAR_LOG_H */
