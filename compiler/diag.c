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
	if (src && len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3)) {
		src += 3;
		len -= 3;
	}
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
	d->nkept = 0;
	d->cut = NULL;
	d->dropped_errors = 0;
	d->dropped_warnings = 0;
	free(d->lines);
	d->lines = NULL;
	d->nlines = 0;
	d->lines_failed = 0;
}

/* Print order: located records by position, then the others; ties in queue order. */
static int rec_order(const struct diag_rec *x, const struct diag_rec *y)
{
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

static int rec_cmp(const void *a, const void *b)
{
	return rec_order(*(const struct diag_rec *const *)a, *(const struct diag_rec *const *)b);
}

static void count_dropped(struct diag *d, const struct diag_rec *r)
{
	if (r->sev == DIAG_ERROR)
		d->dropped_errors++;
	else
		d->dropped_warnings++;
}

/*
 * Keeps the max_errors records that print first and frees the rest; what
 * sorts after the last one kept can never be printed, so later records
 * past it are not even stored (queue() checks d->cut).  Runs once the
 * queue holds about twice the limit, so the work stays linear.
 */
static void prune(struct diag *d)
{
	size_t keep = (size_t)d->max_errors, n = d->nkept, i;
	struct diag_rec **v, *r;

	v = malloc(n * sizeof(*v));
	if (!v)
		return; /* keep everything: correct, only larger */
	for (i = 0, r = d->recs; r; r = r->next)
		v[i++] = r;
	qsort(v, n, sizeof(*v), rec_cmp);
	for (i = keep; i < n; i++) {
		if (v[i] == d->last)
			d->last = NULL;
		count_dropped(d, v[i]);
		v[i]->next = NULL;
		rec_free(v[i]);
	}
	for (i = 0; i + 1 < keep; i++)
		v[i]->next = v[i + 1];
	v[keep - 1]->next = NULL;
	d->recs = v[0];
	d->tail = &v[keep - 1]->next;
	d->cut = v[keep - 1];
	d->nkept = keep;
	free(v);
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
	if (sev == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (d->cut && d->max_errors > 0) {
		struct diag_rec key = {.sev = sev, .seq = d->nrecs};

		if (loc) {
			key.loc = *loc;
			key.has_loc = 1;
		}
		if (rec_order(&key, d->cut) > 0) {
			d->nrecs++;
			count_dropped(d, &key);
			d->last = NULL; /* its notes go with it */
			return;
		}
	}
	r = rec_new(d, sev, loc, fmt, ap);
	if (!r) {
		d->last = NULL;
		return;
	}
	*d->tail = r;
	d->tail = &r->next;
	d->last = r;
	d->nkept++;
	if (d->max_errors > 0 && d->nkept >= 2 * (size_t)d->max_errors + 64)
		prune(d);
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

/*
 * A sparse index of line starts (every DIAG_LINE_STEP lines), so finding a
 * line costs at most DIAG_LINE_STEP line scans instead of a walk from the
 * top of the file for every record.
 */
static void build_lines(struct diag *d)
{
	const char *p = d->src, *end = d->src + d->len, *nl;
	size_t count = 0, k = 1, line = 1;

	for (nl = p; (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
		count++;
	d->lines = malloc((count / DIAG_LINE_STEP + 1) * sizeof(*d->lines));
	if (!d->lines) {
		d->lines_failed = 1;
		return;
	}
	d->lines[0] = 0;
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		p = nl + 1;
		line++;
		if ((line - 1) % DIAG_LINE_STEP == 0)
			d->lines[k++] = (size_t)(p - d->src);
	}
	d->nlines = k;
}

const char *diag_line(struct diag *d, int line, size_t *len)
{
	const char *p, *end, *nl;
	size_t k;
	int n = 1;

	if (!d->src || line < 1)
		return NULL;
	if (!d->lines && !d->lines_failed)
		build_lines(d);
	p = d->src;
	end = d->src + d->len;
	if (d->lines) {
		k = (size_t)(line - 1) / DIAG_LINE_STEP;
		if (k >= d->nlines)
			return NULL;
		p += d->lines[k];
		n = (int)(k * DIAG_LINE_STEP + 1);
	}
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

/*
 * The unit at p (n > 0 bytes left): one byte, or one valid UTF-8 sequence.
 * *esc is set when it must not reach a terminal as is: C0 controls but tab,
 * DEL, bytes of invalid UTF-8, C1 controls (U+0080..U+009F) and the
 * bidirectional-text controls that can make a line read differently
 * from what it is (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), and
 * the line and paragraph separators U+2028, U+2029.
 */
static size_t unit_at(const unsigned char *p, size_t n, int *esc)
{
	unsigned c = p[0], cp;
	size_t len, i;

	*esc = 0;
	if (c < 0x80) {
		*esc = (c < 0x20 && c != '\t') || c == 0x7f;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		*esc = 1;
		return 1;
	}
	if (len > n) {
		*esc = 1;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*esc = 1;
			return 1;
		}
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		*esc = 1;
		return 1;
	}
	if (cp <= 0x9f || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029)
		*esc = 1;
	return len;
}

void diag_put_escaped(const char *s, size_t n, int keep_tab, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, j, len;
	int esc;

	/* plain runs go out in one write: stderr is unbuffered */
	while (i < n) {
		len = unit_at(p + i, n - i, &esc);
		if (esc || (p[i] == '\t' && !keep_tab)) {
			fwrite(p + run, 1, i - run, out);
			for (j = 0; j < len; j++)
				fprintf(out, "\\x%02x", p[i + j]);
			run = i + len;
		}
		i += len;
	}
	fwrite(p + run, 1, n - run, out);
}

static void put_n(int c, size_t n, FILE *out)
{
	while (n--)
		fputc(c, out);
}

/* Byte offset moved back (dir < 0) or on (dir > 0) off UTF-8 continuation bytes, at most 3. */
static size_t char_boundary(const char *p, size_t len, size_t i, int dir)
{
	int n;

	for (n = 0; n < 3 && i > 0 && i < len && ((unsigned char)p[i] & 0xc0) == 0x80; n++)
		i = dir < 0 ? i - 1 : i + 1;
	return i;
}

void diag_render_source(struct diag *d, const struct nloc *loc, FILE *out)
{
	size_t len, i, ulen, width, first, last, ws = 0, we;
	const char *p = diag_line(d, loc->first_line, &len);
	int esc, caret = 0;

	if (!p)
		return;
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
	/* a long line is shown as a window around the caret, marked with "..." */
	we = len;
	if (len > DIAG_ECHO_MAX) {
		ws = first > DIAG_ECHO_MAX / 3 ? first - DIAG_ECHO_MAX / 3 : 0;
		ws = char_boundary(p, len, ws, -1);
		we = ws + DIAG_ECHO_MAX < len ? ws + DIAG_ECHO_MAX : len;
		we = char_boundary(p, len, we, 1);
	}
	fputs(ws ? "    ..." : "    ", out);
	diag_put_escaped(p + ws, we - ws, 1, out);
	fputs(we < len ? "...\n" : "\n", out);
	/* one caret column per column the echoed line takes: 4 per escaped byte */
	fputs(ws ? "       " : "    ", out);
	for (i = ws; i < we && i <= last; i += ulen) {
		ulen = unit_at((const unsigned char *)p + i, we - i, &esc);
		/* an escaped unit is escaped byte by byte: 4 columns each */
		if (esc)
			ulen = 1;
		width = esc ? 4 : 1;
		if (i + ulen <= first) {
			put_n(p[i] == '\t' ? '\t' : ' ', width, out);
			continue;
		}
		if (!caret) {
			fputc('^', out);
			width--;
			caret = 1;
		}
		put_n('~', width, out);
	}
	if (!caret)
		fputc('^', out);
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

static void print_one(struct diag *d, const struct diag_rec *r, FILE *out)
{
	if (!r->has_loc)
		fprintf(out, "%s: %s: ", d->file, sev_name(r->sev));
	else
		fprintf(out, "%s:%d:%d: %s: ", d->file, r->loc.first_line, r->loc.first_column,
			sev_name(r->sev));
	diag_put_escaped(r->msg, strlen(r->msg), 0, out);
	fputc('\n', out);
	if (r->has_loc)
		diag_render_source(d, &r->loc, out);
}

/*
 * A record and its notes, built in memory and written at once: stderr is
 * unbuffered, and a caret line written a byte at a time is a system call
 * per byte.
 */
static void print_rec(struct diag *d, const struct diag_rec *r, FILE *out)
{
	const struct diag_rec *note;
	char *buf = NULL;
	size_t len = 0;
	FILE *ms = open_memstream(&buf, &len);
	FILE *f = ms ? ms : out;

	print_one(d, r, f);
	for (note = r->notes; note; note = note->next)
		print_one(d, note, f);
	if (ms) {
		fclose(ms);
		fwrite(buf, 1, len, out);
		free(buf);
	}
}

void diag_print(struct diag *d, FILE *out)
{
	struct diag_rec *r, **v;
	size_t n = 0, i;
	int shown = 0, hidden_e = d->dropped_errors, hidden_w = d->dropped_warnings;

	for (r = d->recs; r; r = r->next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		for (r = d->recs; r; r = r->next)
			print_rec(d, r, out);
		diag_free(d);
		return;
	}
	for (i = 0, r = d->recs; r; r = r->next)
		v[i++] = r;
	qsort(v, n, sizeof(*v), rec_cmp);
	for (i = 0; i < n; i++) {
		if (d->max_errors > 0 && shown >= d->max_errors) {
			if (v[i]->sev == DIAG_ERROR)
				hidden_e++;
			else
				hidden_w++;
			continue;
		}
		print_rec(d, v[i], out);
		shown++;
	}
	if (hidden_e && hidden_w)
		fprintf(out,
			"%s: note: %d more error%s and %d more warning%s not shown (--max-errors %d)\n",
			d->file, hidden_e, hidden_e == 1 ? "" : "s", hidden_w,
			hidden_w == 1 ? "" : "s", d->max_errors);
	else if (hidden_e || hidden_w)
		fprintf(out, "%s: note: %d more %s%s not shown (--max-errors %d)\n", d->file,
			hidden_e + hidden_w, hidden_e ? "error" : "warning",
			hidden_e + hidden_w == 1 ? "" : "s", d->max_errors);
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

/*
 * The same distance, but only as far as max: cells more than max off the
 * diagonal cannot be <= max, so only that band is computed, and it stops
 * with max + 1 once two rows are past max (a transposition reaches back
 * two rows).  No allocation: suggestions run once per unknown reference,
 * against every declared name.
 */
static size_t edit_distance_upto(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, lo, hi, r[3][66], *row0, *row1, *row2, *tmp;
	size_t rowmin, prevmin = 0, far = max + 1;

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > max)
		return far;
	row0 = r[0];
	row1 = r[1];
	row2 = r[2];
	for (j = 0; j <= lb; j++)
		row1[j] = j;
	row1[lb + 1] = far;
	for (i = 1; i <= la; i++) {
		lo = i > max ? i - max : 1;
		hi = i + max < lb ? i + max : lb;
		row0[lo - 1] = lo == 1 ? i : far;
		rowmin = row0[lo - 1];
		for (j = lo; j <= hi; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = row1[j] + 1;

			if (row0[j - 1] + 1 < best)
				best = row0[j - 1] + 1;
			if (row1[j - 1] + cost < best)
				best = row1[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    row2[j - 2] + 1 < best)
				best = row2[j - 2] + 1;
			row0[j] = best > far ? far : best;
			if (row0[j] < rowmin)
				rowmin = row0[j];
		}
		row0[hi + 1] = far;
		if (rowmin > max && prevmin > max)
			return far;
		prevmin = rowmin;
		tmp = row2;
		row2 = row1;
		row1 = row0;
		row0 = tmp;
	}
	return row1[lb] > max ? far : row1[lb];
}

const char *diag_suggest(const char *name, const char *const *cands, size_t n)
{
	size_t i, len = strlen(name), limit, best;
	const char *pick = NULL;

	limit = len <= 2 ? 0 : len <= 4 ? 1 : 2;
	best = limit + 1;
	for (i = 0; i < n; i++) {
		size_t dist;

		if (!cands[i])
			continue;
		dist = edit_distance_upto(name, cands[i], limit);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	if (!pick || best == 0)
		return NULL;
	return pick;
}
