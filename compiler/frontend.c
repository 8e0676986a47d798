// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* frontend.c - drives the lexer and parser over a buffer (see frontend.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frontend.h"
#include "nfc.h"
#include "parser.h"
#include "lexer.h"

int nflow_parse(const char *buf, size_t len, struct diag *d, struct ast_policy *ast)
{
	struct parse_ctx pc = {
		.diag = d,
		.ast = ast,
		.line = 1,
		.col = 1,
		.last = {1, 0, 1, 0},
	};
	YY_BUFFER_STATE bs;
	yyscan_t scanner;
	int before = d->nerrors, rc;

	if (yylex_init_extra(&pc, &scanner))
		return -1;
	pc.scanner = scanner;
	bs = yy_scan_bytes(buf, (int)len, scanner);
	rc = yyparse(scanner, &pc);
	yy_delete_buffer(bs, scanner);
	yylex_destroy(scanner);
	if (rc == 2)
		diag_error(d, NULL, "out of memory while parsing");
	return rc || d->nerrors > before ? -1 : 0;
}

int nflow_compile_buffer(const char *buf, size_t len, struct diag *d, struct policy *out)
{
	struct ast_policy ast;
	int rc;

	memset(out, 0, sizeof(*out));
	ast_policy_init(&ast);
	nflow_parse(buf, len, d, &ast);
	rc = nflow_check(&ast, d, out);
	ast_policy_free(&ast);
	out->source_hash = nfc_fnv1a64(buf, len);
	if (rc || d->nerrors) {
		policy_free(out);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int nflow_read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p = malloc(cap + 1), *q;
	int fd, err = 0;

	if (!p)
		return -ENOMEM;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		err = -errno;
		free(p);
		return err;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > ((size_t)1 << 30)) {
				err = -EFBIG;
				break;
			}
			cap *= 2;
			q = realloc(p, cap + 1);
			if (!q) {
				err = -ENOMEM;
				break;
			}
			p = q;
		}
		r = read(fd, p + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (err) {
		free(p);
		return err;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}
