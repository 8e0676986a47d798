/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * diag.h - located error, warning and note records (nft's erec idea).
 *
 * Contract:
 *  - every pass (lexer, parser, semantic check) queues records with
 *    diag_error()/diag_warning(); diag_note() attaches a secondary location
 *    to the record queued just before it;
 *  - nothing is printed until diag_print(), which sorts the records by
 *    location (stable), renders "FILE:LINE:COL: severity: message", the
 *    source line indented by four spaces and a caret line (^ under the first
 *    byte, ~ under the rest of the range, tabs copied from the source), and
 *    stops after max_errors errors;
 *  - lines and columns are 1-based; columns count bytes; a range is
 *    inclusive at both ends;
 *  - with werror set, warnings are queued (and counted) as errors.
 */
#ifndef NASCAR_DIAG_H
#define NASCAR_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct nloc {
	int first_line;
	int first_column;
	int last_line;
	int last_column;
};

enum diag_sev {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE,
};

struct diag_rec {
	enum diag_sev sev;
	struct nloc loc;
	int has_loc;
	char *msg;
	size_t seq;		/* queue order, for a stable sort */
	struct diag_rec *notes; /* secondary locations, in order */
	struct diag_rec *next;
};

#define DIAG_MAX_ERRORS_DEFAULT 20

struct diag {
	const char *file; /* as given on the command line */
	const char *src;  /* the source bytes (not owned) */
	size_t len;
	int werror;
	int max_errors; /* errors printed before stopping; <= 0: no limit */
	int nerrors;
	int nwarnings;
	size_t nrecs;
	struct diag_rec *recs; /* primary records, queue order */
	struct diag_rec **tail;
	struct diag_rec *last; /* target of diag_note() */
};

void diag_init(struct diag *d, const char *file, const char *src, size_t len);
void diag_free(struct diag *d);

__attribute__((format(printf, 3, 4))) void diag_error(struct diag *d, const struct nloc *loc,
						      const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void diag_warning(struct diag *d, const struct nloc *loc,
							const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void diag_note(struct diag *d, const struct nloc *loc,
						     const char *fmt, ...);

/* Prints every queued record (up to the error limit) and forgets them. */
void diag_print(struct diag *d, FILE *out);

/* Renders one source line and its caret line for loc into out. */
void diag_render_source(const struct diag *d, const struct nloc *loc, FILE *out);

/* Edit distance (optimal string alignment: a swap of two neighbours costs 1). */
size_t diag_edit_distance(const char *a, const char *b);
/* The candidate closest to name when close enough to be a likely typo, else NULL. */
const char *diag_suggest(const char *name, const char *const *cands, size_t n);

#endif /* NASCAR_DIAG_H */
