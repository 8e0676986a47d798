// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* frontend.c - drives the lexer and parser over a buffer (see frontend.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "frontend.h"
#include "nascar_abi.h"
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

	/* a UTF-8 byte order mark is not part of line 1 (diag_init skips it too) */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		buf += 3;
		len -= 3;
	}
	if (len > NFLOW_MAX_SOURCE) {
		nflow_report_too_large(d, len);
		return -1;
	}
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

void nflow_report_too_large(struct diag *d, size_t len)
{
	if (len)
		diag_error(d, NULL,
			   "the file is too large (%zu bytes): the limit is %d bytes (%d MiB)", len,
			   NFLOW_MAX_SOURCE, NFLOW_MAX_SOURCE >> 20);
	else
		diag_error(d, NULL, "the input is too large (over %d bytes): the limit is %d MiB",
			   NFLOW_MAX_SOURCE, NFLOW_MAX_SOURCE >> 20);
	diag_note(
		d, NULL,
		"a policy at every language limit (%d flows, %d classes, %d interfaces) fits in a fraction of that: check that this is the right file, or shorten its comments",
		NASCAR_MAX_FLOWS, NASCAR_MAX_CLASSES, NASCAR_MAX_IFACES);
}

int nflow_read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *p, *q;
	struct stat st;
	int fd, err = 0;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	/* refuse a large file before reading it; a pipe is cut off at the limit */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > NFLOW_MAX_SOURCE + 3) {
		if (fd != STDIN_FILENO)
			close(fd);
		*len = (size_t)st.st_size;
		return -EFBIG;
	}
	p = malloc(cap + 1);
	if (!p) {
		if (fd != STDIN_FILENO)
			close(fd);
		return -ENOMEM;
	}
	/* at most the limit, a byte order mark and one byte more: enough to know */
	for (;;) {
		size_t want;
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			q = realloc(p, cap + 1);
			if (!q) {
				err = -ENOMEM;
				break;
			}
			p = q;
		}
		want = cap - n;
		if (want > NFLOW_MAX_SOURCE + 4 - n)
			want = NFLOW_MAX_SOURCE + 4 - n;
		if (!want)
			break;
		r = read(fd, p + n, want);
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
	if (!err && n - (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3) ? 3 : 0) > NFLOW_MAX_SOURCE) {
		/* the exact size is known when the whole file was read */
		*len = n < NFLOW_MAX_SOURCE + 4 ? n : 0;
		err = -EFBIG;
	}
	if (err) {
		free(p);
		return err;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}
