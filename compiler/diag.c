// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* diag.c - queued diagnostics and the caret renderer (see diag.h). */
#define _GNU_SOURCE /* vasprintf */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"

void diag_init(struct diag *d, const char *file, const char *src, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->file = file;
	d->src = src;
	d->len = len;
	d->max_errors = DIAG_MAX_ERRORS_DEFAULT;
	d->tail = &d->recs;
}

static void rec_free(struct diag_rec *r)
{
	while (r) {
		struct diag_rec *next = r->next;

		rec_free(r->notes);
		free(r->msg);
		free(r);
		r = next;
	}
}

void diag_free(struct diag *d)
{
	rec_free(d->recs);
	d->recs = NULL;
	d->tail = &d->recs;
	d->last = NULL;
	d->nrecs = 0;
}

static struct diag_rec *rec_new(struct diag *d, enum diag_sev sev, const struct nloc *loc,
				const char *fmt, va_list ap)
{
	struct diag_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (vasprintf(&r->msg, fmt, ap) < 0) {
		free(r);
		return NULL;
	}
	r->sev = sev;
	if (loc) {
		r->loc = *loc;
		r->has_loc = 1;
	}
	r->seq = d->nrecs++;
	return r;
}

static void queue(struct diag *d, enum diag_sev sev, const struct nloc *loc, const char *fmt,
		  va_list ap)
{
	struct diag_rec *r;

	if (sev == DIAG_WARNING && d->werror)
		sev = DIAG_ERROR;
	r = rec_new(d, sev, loc, fmt, ap);
	if (sev == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (!r)
		return;
	*d->tail = r;
	d->tail = &r->next;
	d->last = r;
}

void diag_error(struct diag *d, const struct nloc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue(d, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, const struct nloc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue(d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, const struct nloc *loc, const char *fmt, ...)
{
	struct diag_rec *r, **pp;
	va_list ap;

	if (!d->last)
		return;
	va_start(ap, fmt);
	r = rec_new(d, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
	if (!r)
		return;
	for (pp = &d->last->notes; *pp; pp = &(*pp)->next)
		;
	*pp = r;
}

/* Start of line `line` (1-based) in the source, or NULL. */
static const char *line_start(const struct diag *d, int line, size_t *len)
{
	const char *p, *end, *nl;
	int n = 1;

	if (!d->src || line < 1)
		return NULL;
	p = d->src;
	end = d->src + d->len;
	while (n < line) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
		n++;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = nl ? (size_t)(nl - p) : (size_t)(end - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

void diag_render_source(const struct diag *d, const struct nloc *loc, FILE *out)
{
	size_t len, i, first, last;
	const char *p = line_start(d, loc->first_line, &len);

	if (!p)
		return;
	fputs("    ", out);
	fwrite(p, 1, len, out);
	fputc('\n', out);
	first = loc->first_column > 0 ? (size_t)loc->first_column - 1 : 0;
	if (loc->last_line == loc->first_line && loc->last_column >= loc->first_column)
		last = (size_t)loc->last_column - 1;
	else
		last = len ? len - 1 : 0;
	if (last >= len)
		last = len ? len - 1 : 0;
	if (first > len)
		first = len;
	if (last < first)
		last = first;
	fputs("    ", out);
	for (i = 0; i < first; i++)
		fputc(p[i] == '\t' ? '\t' : ' ', out);
	fputc('^', out);
	for (i = first + 1; i <= last; i++)
		fputc('~', out);
	fputc('\n', out);
}

static const char *sev_name(enum diag_sev s)
{
	switch (s) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	default:
		return "note";
	}
}

static void print_one(const struct diag *d, const struct diag_rec *r, FILE *out)
{
	if (r->has_loc) {
		fprintf(out, "%s:%d:%d: %s: %s\n", d->file, r->loc.first_line, r->loc.first_column,
			sev_name(r->sev), r->msg);
		diag_render_source(d, &r->loc, out);
	} else {
		fprintf(out, "%s: %s: %s\n", d->file, sev_name(r->sev), r->msg);
	}
}

static int rec_cmp(const void *a, const void *b)
{
	const struct diag_rec *x = *(const struct diag_rec *const *)a;
	const struct diag_rec *y = *(const struct diag_rec *const *)b;

	if (x->has_loc != y->has_loc)
		return x->has_loc ? -1 : 1;
	if (x->has_loc) {
		if (x->loc.first_line != y->loc.first_line)
			return x->loc.first_line < y->loc.first_line ? -1 : 1;
		if (x->loc.first_column != y->loc.first_column)
			return x->loc.first_column < y->loc.first_column ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_print(struct diag *d, FILE *out)
{
	struct diag_rec *r, **v;
	size_t n = 0, i;
	int shown = 0, hidden = 0;

	for (r = d->recs; r; r = r->next)
		n++;
	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v) {
		for (r = d->recs; r; r = r->next)
			print_one(d, r, out);
		diag_free(d);
		return;
	}
	for (i = 0, r = d->recs; r; r = r->next)
		v[i++] = r;
	qsort(v, n, sizeof(*v), rec_cmp);
	for (i = 0; i < n; i++) {
		const struct diag_rec *note;

		if (d->max_errors > 0 && shown >= d->max_errors) {
			if (v[i]->sev == DIAG_ERROR)
				hidden++;
			continue;
		}
		print_one(d, v[i], out);
		for (note = v[i]->notes; note; note = note->next)
			print_one(d, note, out);
		if (v[i]->sev == DIAG_ERROR)
			shown++;
	}
	if (hidden)
		fprintf(out, "%s: note: %d more error%s not shown (--max-errors %d)\n", d->file,
			hidden, hidden == 1 ? "" : "s", d->max_errors);
	free(v);
	diag_free(d);
}

size_t diag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, r;
	size_t *row0, *row1, *row2, *tmp;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	row0 = calloc(lb + 1, sizeof(size_t));
	row1 = calloc(lb + 1, sizeof(size_t));
	row2 = calloc(lb + 1, sizeof(size_t));
	if (!row0 || !row1 || !row2) {
		free(row0);
		free(row1);
		free(row2);
		return SIZE_MAX;
	}
	/* row2 = previous-previous, row1 = previous, row0 = current */
	for (j = 0; j <= lb; j++)
		row1[j] = j;
	for (i = 1; i <= la; i++) {
		row0[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = row1[j] + 1;

			if (row0[j - 1] + 1 < best)
				best = row0[j - 1] + 1;
			if (row1[j - 1] + cost < best)
				best = row1[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    row2[j - 2] + 1 < best)
				best = row2[j - 2] + 1;
			row0[j] = best;
		}
		tmp = row2;
		row2 = row1;
		row1 = row0;
		row0 = tmp;
	}
	r = row1[lb];
	free(row0);
	free(row1);
	free(row2);
	return r;
}

const char *diag_suggest(const char *name, const char *const *cands, size_t n)
{
	size_t i, best = SIZE_MAX, len = strlen(name), limit;
	const char *pick = NULL;

	limit = len <= 2 ? 0 : len <= 4 ? 1 : 2;
	for (i = 0; i < n; i++) {
		size_t dist;

		if (!cands[i])
			continue;
		dist = diag_edit_distance(name, cands[i]);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	if (!pick || best == 0 || best > limit)
		return NULL;
	return pick;
}
