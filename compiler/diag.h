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
 *    source line indented by four spaces (a line longer than DIAG_ECHO_MAX
 *    bytes as a window around the caret, cut ends shown as "...") and a
 *    caret line (^ under the first byte, ~ under the rest of the range, tabs
 *    copied from the source), and
 *    stops after max_errors errors and warnings together (notes go with
 *    their record and are not counted), then says how many it left out;
 *  - echoed source and messages never carry a control byte to the
 *    terminal: C0 bytes other than tab, DEL, bytes that are not valid UTF-8,
 *    UTF-8 C1 controls and bidirectional-text controls are written as \xNN
 *    per byte, and the caret line is widened to match;
 *  - with max_errors > 0 only the records that can still be printed are
 *    kept, so a file with millions of errors takes bounded memory;
 *  - lines and columns are 1-based; columns count bytes; a range is
 *    inclusive at both ends; a UTF-8 byte order mark at the start of the
 *    source is not part of line 1 (the parser skips it too);
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
	const char *src;  /* the source bytes (not owned), past a byte order mark */
	size_t len;
	int werror;
	int max_errors; /* errors and warnings printed before stopping; <= 0: no limit */
	int nerrors;	/* queued so far, printed or not */
	int nwarnings;
	size_t nrecs;
	struct diag_rec *recs; /* primary records, queue order */
	struct diag_rec **tail;
	struct diag_rec *last; /* target of diag_note() */
	size_t nkept;	       /* primary records in recs */
	struct diag_rec *cut;  /* with max_errors: records sorting after it cannot show */
	int dropped_errors;    /* records not kept because of the cut */
	int dropped_warnings;
	size_t *lines; /* start of line 1, 1 + DIAG_LINE_STEP, ...; built when needed */
	size_t nlines; /* entries in lines */
	int lines_failed;
};

#define DIAG_LINE_STEP 64
#define DIAG_ECHO_MAX 240 /* bytes of a longer source line shown around the caret */

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
void diag_render_source(struct diag *d, const struct nloc *loc, FILE *out);

/* Start and length (without '\n' or a final '\r') of source line `line`, or NULL. */
const char *diag_line(struct diag *d, int line, size_t *len);

/* Writes n bytes of s, escaping what diag_print escapes; keep_tab copies tabs. */
void diag_put_escaped(const char *s, size_t n, int keep_tab, FILE *out);

/* Edit distance (optimal string alignment: a swap of two neighbours costs 1). */
size_t diag_edit_distance(const char *a, const char *b);
/* The candidate closest to name when close enough to be a likely typo, else NULL. */
const char *diag_suggest(const char *name, const char *const *cands, size_t n);

#endif /* NASCAR_DIAG_H */
