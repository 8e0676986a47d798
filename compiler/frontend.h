/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * frontend.h - the nascarc front end: .nflow source -> checked struct policy.
 *
 * Contract:
 *  - nflow_parse() runs the flex/bison parser over a buffer (any bytes, NULs
 *    included) and appends declarations to an AST; lexical and syntax errors
 *    go to the diag queue, and parsing goes on after them (recovery at
 *    statement and declaration boundaries);
 *  - nflow_check() is the semantic pass: it validates the AST and fills a
 *    struct policy (lib/policy.h) that lower.c can trust; errors and
 *    warnings go to the diag queue;
 *  - nflow_compile_buffer() does both; it returns 0 when there was no error
 *    (warnings allowed, unless the diag has werror set), -1 otherwise. On
 *    success *out must be released with policy_free(), on failure it is
 *    already empty.
 */
#ifndef NASCAR_FRONTEND_H
#define NASCAR_FRONTEND_H

#include <stddef.h>
#include "ast.h"
#include "diag.h"
#include "policy.h"

/* Shared by the lexer and the parser (yyextra and the parse parameter). */
struct parse_ctx {
	struct diag *diag;
	struct ast_policy *ast;
	void *scanner;
	int line, col;		     /* where the next byte is */
	struct nloc last;	     /* the last token returned */
	int broken;		     /* a syntax error inside the current block */
	size_t ndecls[DECL_DEFAULT]; /* interfaces, classes, flows parsed so far */
};

int nflow_parse(const char *buf, size_t len, struct diag *d, struct ast_policy *ast);
int nflow_check(const struct ast_policy *ast, struct diag *d, struct policy *out);
int nflow_compile_buffer(const char *buf, size_t len, struct diag *d, struct policy *out);

/* Words that are values somewhere in the grammar and so cannot be names. */
int nflow_is_reserved(const char *word);

/*
 * The most source bytes nascarc reads (a UTF-8 byte order mark aside).  A
 * policy at every limit of the language takes well under 2 MiB; the cap
 * keeps time and memory bounded on a file that is not a policy at all.
 */
#define NFLOW_MAX_SOURCE (8 << 20)

/*
 * Reads a whole file ("-" is standard input). 0 or -errno; *buf is
 * NUL-terminated.  -EFBIG past NFLOW_MAX_SOURCE, read no further than
 * needed to know, with *len the file's size or 0 when it is not known.
 */
int nflow_read_file(const char *path, char **buf, size_t *len);

/* Queues the error (and a note) for a source over NFLOW_MAX_SOURCE; len 0: size unknown. */
void nflow_report_too_large(struct diag *d, size_t len);

#endif /* NASCAR_FRONTEND_H */
