// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * check.c - the semantic pass: AST -> struct policy (lib/policy.h).
 *
 * Every problem is queued as a located record and checking goes on, so one
 * run reports everything.  Declarations are resolved first (so they may come
 * in any order), then each block is checked, then the policy-wide
 * warnings (unreachable flows, unused classes) are computed over the flows
 * that checked cleanly.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "frontend.h"
#include "nfc.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct checker {
	struct diag *d;
	struct policy *p;
	const struct ast_decl **ifaces, **classes, **flows;
	size_t nifaces, nclasses, nflows;
	const struct ast_decl *deflt;
	char *class_used;
	char *flow_ok;
	const struct ast_value **xdp_mode; /* per interface: its `mode xdp` value, or NULL */
	int first_xdp;			   /* the first interface with mode xdp, or -1 */
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

/*
 * ---- hash sets ------------------------------------------------------------
 *
 * Duplicate names and duplicate allow-src prefixes are found with an
 * open-addressing table (linear probing, at most half full), so a long
 * list costs linear time, not a comparison against every earlier entry.
 */

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Smallest power of two >= 2 * n (and >= 16). */
static size_t table_size(size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* Declarations by name. */
struct name_set {
	const struct ast_decl **slot;
	size_t mask;
};

static void name_set_init(struct name_set *t, size_t n)
{
	size_t size = table_size(n);

	t->slot = xcalloc(size, sizeof(*t->slot));
	t->mask = size - 1;
}

/*
 * The declaration in the set named d->name, or NULL; with add set, a d not
 * found is added (the set holds at most half its size: see name_set_init).
 */
static const struct ast_decl *name_set_find(struct name_set *t, const struct ast_decl *d, int add)
{
	size_t i = (size_t)fnv1a(d->name, strlen(d->name)) & t->mask;

	for (; t->slot[i]; i = (i + 1) & t->mask)
		if (!strcmp(t->slot[i]->name, d->name))
			return t->slot[i];
	if (add)
		t->slot[i] = d;
	return NULL;
}

/* Prefixes, as indices into an array of them; slot value 0 is empty. */
struct prefix_set {
	size_t *slot;
	size_t mask;
};

static void prefix_set_init(struct prefix_set *t, size_t n)
{
	size_t size = table_size(n);

	t->slot = xcalloc(size, sizeof(*t->slot));
	t->mask = size - 1;
}

/* 1 when v[idx] is already in the set, else 0 after adding it. */
static int prefix_set_add(struct prefix_set *t, const struct pol_prefix *v, size_t idx)
{
	size_t i = (size_t)fnv1a(&v[idx], sizeof(v[idx])) & t->mask;

	for (; t->slot[i]; i = (i + 1) & t->mask)
		if (!memcmp(&v[t->slot[i] - 1], &v[idx], sizeof(v[idx])))
			return 1;
	t->slot[i] = idx + 1;
	return 0;
}

/* ---- names and word lists ------------------------------------------------ */

static const struct nfc_word dscp_words[] = {
	{"be", 0},    {"cs0", 0},   {"cs1", 8},	  {"cs2", 16},	{"cs3", 24},  {"cs4", 32},
	{"cs5", 40},  {"cs6", 48},  {"cs7", 56},  {"af11", 10}, {"af12", 12}, {"af13", 14},
	{"af21", 18}, {"af22", 20}, {"af23", 22}, {"af31", 26}, {"af32", 28}, {"af33", 30},
	{"af41", 34}, {"af42", 36}, {"af43", 38}, {"ef", 46},	{"va", 44},
};
static const struct nfc_words dscps = {dscp_words, ARRAY_SIZE(dscp_words)};

/* Looks a word up; on failure reports "unknown WHAT 'x'" with a suggestion. */
static int lookup_word(struct checker *c, const struct ast_value *v, const char *what,
		       const struct nfc_words *t, int *out)
{
	const struct nfc_word *list = t->w;
	const char *cands[32];
	const char *sugg;
	size_t i, n = t->n < ARRAY_SIZE(cands) ? t->n : ARRAY_SIZE(cands);

	if (!nfc_word_value(t, v->text, out))
		return 0;
	for (i = 0; i < n; i++)
		cands[i] = list[i].name;
	sugg = diag_suggest(v->text, cands, n);
	if (sugg) {
		diag_error(c->d, &v->loc, "unknown %s '%s'; did you mean '%s'?", what, v->text,
			   sugg);
	} else if (n <= 4) {
		char buf[128];
		size_t off = 0;

		for (i = 0; i < n; i++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s'%s'",
						i == 0	     ? ""
						: i == n - 1 ? " or "
							     : ", ",
						list[i].name);
		diag_error(c->d, &v->loc, "unknown %s '%s' (expected %s)", what, v->text, buf);
	} else {
		diag_error(c->d, &v->loc, "unknown %s '%s'", what, v->text);
	}
	return -1;
}

/* Index of a declaration by name, or -1 (reporting an unknown reference). */
static int lookup_decl(struct checker *c, const struct ast_value *v, const char *what,
		       const struct ast_decl **decls, size_t n)
{
	const char **cands;
	const char *sugg;
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(decls[i]->name, v->text))
			return (int)i;
	cands = xcalloc(n, sizeof(*cands));
	for (i = 0; i < n; i++)
		cands[i] = decls[i]->name;
	sugg = diag_suggest(v->text, cands, n);
	if (sugg)
		diag_error(c->d, &v->loc, "unknown %s '%s'; did you mean '%s'?", what, v->text,
			   sugg);
	else
		diag_error(c->d, &v->loc, "unknown %s '%s'", what, v->text);
	free(cands);
	return -1;
}

/* ---- values ---------------------------------------------------------------- */

static int check_number(struct checker *c, const struct ast_value *v, const char *what,
			uint64_t max, uint64_t *out)
{
	if (v->kind != AV_NUMBER) {
		diag_error(c->d, &v->loc, "%s must be a number from 0 to %llu, not '%s'", what,
			   (unsigned long long)max, v->text ? v->text : "any");
		return -1;
	}
	if (v->overflow || v->num > max) {
		diag_error(c->d, &v->loc, "%s %s is out of range (0 to %llu)", what, v->text,
			   (unsigned long long)max);
		return -1;
	}
	*out = v->num;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mul, div;
};

static const struct unit rate_units[] = {
	{"bit", 1, 8}, {"kbit", 1000, 8}, {"mbit", 1000000, 8}, {"gbit", 1000000000, 8},
	{"bps", 1, 1}, {"kbps", 1000, 1}, {"mbps", 1000000, 1}, {"gbps", 1000000000, 1},
};

static const struct unit size_units[] = {
	{"b", 1, 1},
	{"kb", 1024, 1},
	{"mb", 1024 * 1024, 1},
};

/*
 * "12.5mbit" -> value * mul / div, rounded to the nearest integer (halves
 * up), computed exactly in 128 bits.  Returns 0, -1 after reporting.
 */
static int parse_quantity(struct checker *c, const struct ast_value *v, const char *what,
			  const struct unit *units, size_t nunits, int unit_required, uint64_t *out)
{
	const char *s = v->text, *unit;
	unsigned __int128 ip = 0, frac = 0, scale = 1, r;
	const struct unit *u = NULL;
	const char *cands[16];
	size_t i;

	for (; *s >= '0' && *s <= '9'; s++) {
		ip = ip * 10 + (unsigned)(*s - '0');
		if (ip > UINT64_MAX)
			goto too_large;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (scale < (unsigned __int128)1000000000000000000ULL) {
				frac = frac * 10 + (unsigned)(*s - '0');
				scale *= 10;
			}
		}
	}
	unit = s;
	if (!*unit) {
		if (unit_required) {
			diag_error(c->d, &v->loc, "%s '%s' needs a unit (%s)", what, v->text,
				   "bit, kbit, mbit, gbit, bps, kbps, mbps or gbps");
			return -1;
		}
		if (frac) {
			diag_error(c->d, &v->loc, "%s '%s' is not a whole number of bytes", what,
				   v->text);
			return -1;
		}
		u = &units[0];
	} else {
		for (i = 0; i < nunits; i++) {
			cands[i] = units[i].name;
			if (!strcasecmp(unit, units[i].name))
				u = &units[i];
		}
		if (!u) {
			char lower[32];
			const char *sugg;

			snprintf(lower, sizeof(lower), "%s", unit);
			for (i = 0; lower[i]; i++)
				if (lower[i] >= 'A' && lower[i] <= 'Z')
					lower[i] = (char)(lower[i] - 'A' + 'a');
			sugg = diag_suggest(lower, cands, nunits);
			if (sugg)
				diag_error(c->d, &v->loc,
					   "unknown %s unit '%s'; did you mean '%s'?", what, unit,
					   sugg);
			else if (nunits == ARRAY_SIZE(size_units))
				diag_error(c->d, &v->loc,
					   "unknown %s unit '%s' (expected b, kb, mb or none)",
					   what, unit);
			else
				diag_error(
					c->d, &v->loc,
					"unknown %s unit '%s' (expected bit, kbit, mbit, gbit, bps, kbps, mbps or gbps)",
					what, unit);
			return -1;
		}
	}
	/* (ip + frac / scale) * mul / div, rounded */
	r = (ip * scale + frac) * u->mul;
	r = (r * 2 + scale * u->div) / (2 * scale * u->div);
	if (r > UINT64_MAX)
		goto too_large;
	if (ip == 0 && frac == 0) {
		diag_error(c->d, &v->loc, "%s must be greater than 0", what);
		return -1;
	}
	if (r == 0) {
		diag_error(c->d, &v->loc, "%s '%s' is less than one byte%s", what, v->text,
			   unit_required ? " per second" : "");
		return -1;
	}
	*out = (uint64_t)r;
	return 0;
too_large:
	diag_error(c->d, &v->loc, "%s '%s' is too large", what, v->text);
	return -1;
}

static void format_prefix(const struct pol_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == NASCAR_FAM_V6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->len);
}

/* Address or prefix -> pol_prefix.  0, or -1 after reporting (or when the lexer did). */
static int check_prefix(struct checker *c, const struct ast_addr *a, struct pol_prefix *out)
{
	unsigned max, i;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (a->any)
		return 0;
	if (a->invalid)
		return -1;
	max = a->family == NASCAR_FAM_V6 ? 128 : 32;
	out->family = a->family;
	memcpy(out->addr, a->addr, sizeof(out->addr));
	if (a->plen < 0) {
		out->len = (uint8_t)max;
		return 0;
	}
	if ((unsigned)a->plen > max) {
		diag_error(c->d, &a->plen_loc, "prefix length %d is out of range for %s (0 to %u)",
			   a->plen, a->family == NASCAR_FAM_V6 ? "IPv6" : "IPv4", max);
		return -1;
	}
	out->len = (uint8_t)a->plen;
	for (i = 0; i < 16; i++) {
		unsigned bit = i * 8;
		uint8_t mask;

		if (bit >= out->len)
			mask = 0;
		else if (bit + 8 <= out->len)
			mask = 0xff;
		else
			mask = (uint8_t)(0xff << (8 - (out->len - bit)));
		if (out->addr[i] & ~mask) {
			bad = 1;
			out->addr[i] &= mask;
		}
	}
	if (bad) {
		char net[64];

		format_prefix(out, net, sizeof(net));
		diag_error(c->d, &a->loc, "'%s/%d' has host bits set; did you mean '%s'?", a->text,
			   a->plen, net);
		return -1;
	}
	return 0;
}

/* ---- declarations ------------------------------------------------------ */

static const char *block_name(enum ast_decl_kind k)
{
	switch (k) {
	case DECL_IFACE:
		return "an interface";
	case DECL_CLASS:
		return "a class";
	case DECL_FLOW:
		return "a flow";
	default:
		return "the default block";
	}
}

static const char *const allowed[][7] = {
	[DECL_IFACE] = {"role", "mode", "allow-src", "rate", "egress"},
	[DECL_CLASS] = {"priority", "dscp", "rate", "burst", "police"},
	[DECL_FLOW] = {"from", "to", "proto", "in", "class", "action"},
	[DECL_DEFAULT] = {"action", "class"},
};

/*
 * Fills seen[kw] with each statement of the block; reports statements that
 * do not belong to the block and repeated ones.
 */
static void collect_stmts(struct checker *c, const struct ast_decl *d,
			  const struct ast_stmt *seen[KW__COUNT])
{
	const struct ast_stmt *s;
	size_t i;

	memset(seen, 0, sizeof(*seen) * KW__COUNT);
	for (s = d->stmts; s; s = s->next) {
		const char *kw = ast_kw_name(s->kw);
		int ok = 0;

		for (i = 0; i < ARRAY_SIZE(allowed[0]) && allowed[d->kind][i]; i++)
			if (!strcmp(allowed[d->kind][i], kw))
				ok = 1;
		if (!ok) {
			diag_error(c->d, &s->kw_loc, "'%s' is not valid in %s", kw,
				   block_name(d->kind));
			continue;
		}
		if (seen[s->kw]) {
			diag_error(c->d, &s->kw_loc, "duplicate '%s' statement", kw);
			diag_note(c->d, &seen[s->kw]->kw_loc, "previous '%s' statement is here",
				  kw);
			continue;
		}
		seen[s->kw] = s;
	}
}

static const char *decl_what(enum ast_decl_kind k)
{
	return ast_decl_kind_name(k);
}

/* Sorts the declarations by kind, reporting duplicates and limits. */
static void collect_decls(struct checker *c, const struct ast_policy *ast)
{
	static const size_t limits[] = {
		[DECL_IFACE] = NASCAR_MAX_IFACES,
		[DECL_CLASS] = NASCAR_MAX_CLASSES,
		[DECL_FLOW] = NASCAR_MAX_FLOWS,
	};
	static const size_t namsiz[] = {
		[DECL_IFACE] = NASCAR_IFNAMSIZ,
		[DECL_CLASS] = NASCAR_CLASS_NAMSIZ,
		[DECL_FLOW] = NASCAR_FLOW_NAMSIZ,
	};
	static const char *const plural[] = {
		[DECL_IFACE] = "interfaces",
		[DECL_CLASS] = "classes",
		[DECL_FLOW] = "flows",
	};
	const struct ast_decl **lists[3];
	size_t *counts[3] = {&c->nifaces, &c->nclasses, &c->nflows};
	int over[3] = {0, 0, 0};
	struct name_set names[3];
	const struct ast_decl *d;
	size_t n = ast->ndecls, i;

	c->ifaces = xcalloc(n, sizeof(*c->ifaces));
	c->classes = xcalloc(n, sizeof(*c->classes));
	c->flows = xcalloc(n, sizeof(*c->flows));
	lists[DECL_IFACE] = c->ifaces;
	lists[DECL_CLASS] = c->classes;
	lists[DECL_FLOW] = c->flows;
	for (i = 0; i < 3; i++)
		name_set_init(&names[i], limits[i]);
	for (d = ast->decls; d; d = d->next) {
		const struct ast_decl *prev;
		int k = d->kind;
		size_t len;

		if (d->kind == DECL_DEFAULT) {
			if (c->deflt) {
				diag_error(c->d, &d->loc, "duplicate default block");
				diag_note(c->d, &c->deflt->loc, "previous default block is here");
			} else {
				c->deflt = d;
			}
			continue;
		}
		len = strlen(d->name);
		if (len == 0) {
			diag_error(c->d, &d->name_loc, "%s name is empty", decl_what(d->kind));
			continue;
		}
		if (len >= namsiz[k]) {
			diag_error(c->d, &d->name_loc,
				   "%s name '%s' is too long (%zu bytes, at most %zu)",
				   decl_what(d->kind), d->name, len, namsiz[k] - 1);
			continue;
		}
		/* past the limit nothing is added: the set holds what made it in */
		prev = name_set_find(&names[k], d, *counts[k] < limits[k]);
		if (prev) {
			diag_error(c->d, &d->name_loc, "duplicate %s '%s'", decl_what(d->kind),
				   d->name);
			diag_note(c->d, &prev->name_loc, "previous definition of '%s' is here",
				  d->name);
			continue;
		}
		if (*counts[k] >= limits[k]) {
			if (!over[k])
				diag_error(c->d, &d->name_loc,
					   "too many %s: the limit is %zu %s per policy", plural[k],
					   limits[k], plural[k]);
			over[k] = 1;
			continue;
		}
		lists[k][(*counts[k])++] = d;
	}
	for (i = 0; i < 3; i++)
		free(names[i].slot);
}

/* Version 2: the line rate (uplink only) and who owns the egress qdisc. */
static void check_iface_qos(struct checker *c, const struct ast_decl *d, struct pol_iface *pi,
			    const struct ast_stmt *seen[KW__COUNT])
{
	const struct ast_stmt *rate = seen[KW_RATE], *egress = seen[KW_EGRESS];
	uint64_t n;
	int v;

	pi->egress = NASCAR_EGRESS_AUTO;
	if (egress && !lookup_word(c, &egress->val, "egress mode", &nfc_egresses, &v))
		pi->egress = (uint8_t)v;
	if (!rate)
		return;
	if (pi->role == NASCAR_ROLE_GUEST) {
		diag_error(
			c->d, &rate->kw_loc,
			"an interface 'rate' is only valid on an uplink, and '%s' is a guest (to limit a guest's traffic, give its flows a class with a 'rate')",
			d->name);
		return;
	}
	if (parse_quantity(c, &rate->val, "rate", rate_units, ARRAY_SIZE(rate_units), 1, &n))
		return;
	if (egress && pi->egress == NASCAR_EGRESS_KEEP) {
		diag_error(
			c->d, &rate->kw_loc,
			"'rate' cannot be used with 'egress keep': a line rate needs Nascar's scheduler on '%s', and keep never touches its qdisc (remove one of the two)",
			d->name);
		diag_note(c->d, &egress->kw_loc, "'egress keep' is here");
		return;
	}
	pi->rate = n;
}

static void check_iface(struct checker *c, size_t idx)
{
	const struct ast_decl *d = c->ifaces[idx];
	struct pol_iface *pi = &c->p->ifaces[idx];
	const struct ast_stmt *seen[KW__COUNT];
	int v;

	collect_stmts(c, d, seen);
	snprintf(pi->name, sizeof(pi->name), "%s", d->name);
	pi->line = (unsigned)d->name_loc.first_line;
	pi->mode = NASCAR_MODE_AUTO;
	if (!seen[KW_ROLE] && !d->broken)
		diag_error(c->d, &d->name_loc, "interface '%s' has no 'role' (guest or uplink)",
			   d->name);
	else if (seen[KW_ROLE] && !lookup_word(c, &seen[KW_ROLE]->val, "role", &nfc_roles, &v))
		pi->role = (uint8_t)v;
	if (seen[KW_MODE] && !lookup_word(c, &seen[KW_MODE]->val, "mode", &nfc_modes, &v))
		pi->mode = (uint8_t)v;
	if (pi->mode == NASCAR_MODE_XDP) {
		c->xdp_mode[idx] = &seen[KW_MODE]->val;
		if (c->first_xdp < 0)
			c->first_xdp = (int)idx;
	}
	check_iface_qos(c, d, pi, seen);
	if (seen[KW_ALLOW_SRC]) {
		const struct ast_stmt *s = seen[KW_ALLOW_SRC];
		const struct ast_addr *a;
		struct prefix_set seen_pp;
		size_t n = 0;

		if (pi->role == NASCAR_ROLE_UPLINK)
			diag_error(
				c->d, &s->kw_loc,
				"'allow-src' is only valid on a guest interface, and '%s' is an uplink",
				d->name);
		for (a = s->addrs; a; a = a->next)
			n++;
		pi->allow = xcalloc(n, sizeof(*pi->allow));
		prefix_set_init(&seen_pp, n);
		for (a = s->addrs; a; a = a->next) {
			struct pol_prefix *pp = &pi->allow[pi->nallow];

			if (a->any) {
				diag_error(
					c->d, &a->loc,
					"'any' is not valid in 'allow-src' (leave 'allow-src' out to accept every source)");
				continue;
			}
			if (check_prefix(c, a, pp))
				continue;
			if (prefix_set_add(&seen_pp, pi->allow, pi->nallow)) {
				diag_warning(c->d, &a->loc, "'%s' is listed twice in 'allow-src'",
					     a->text);
				continue;
			}
			pi->nallow++;
		}
		free(seen_pp.slot);
		/* a failed or repeated last entry may have left bytes past nallow */
		if (pi->nallow < n)
			memset(&pi->allow[pi->nallow], 0, sizeof(*pi->allow));
	}
}

static void check_class(struct checker *c, size_t idx)
{
	const struct ast_decl *d = c->classes[idx];
	struct pol_class *pc = &c->p->classes[idx];
	const struct ast_stmt *seen[KW__COUNT];
	uint64_t n;
	int v;

	collect_stmts(c, d, seen);
	snprintf(pc->name, sizeof(pc->name), "%s", d->name);
	pc->line = (unsigned)d->name_loc.first_line;
	pc->dscp = NASCAR_DSCP_KEEP;
	if (!seen[KW_PRIORITY] && !d->broken)
		diag_error(c->d, &d->name_loc, "class '%s' has no 'priority' (0 to 7)", d->name);
	else if (seen[KW_PRIORITY] && !check_number(c, &seen[KW_PRIORITY]->val, "priority", 7, &n))
		pc->priority = (uint8_t)n;
	if (seen[KW_DSCP]) {
		const struct ast_value *val = &seen[KW_DSCP]->val;

		if (val->kind == AV_NUMBER) {
			if (!check_number(c, val, "dscp", 63, &n))
				pc->dscp = (uint8_t)n;
		} else if (!lookup_word(c, val, "dscp name", &dscps, &v)) {
			pc->dscp = (uint8_t)v;
		}
	}
	if (seen[KW_RATE] && !parse_quantity(c, &seen[KW_RATE]->val, "rate", rate_units,
					     ARRAY_SIZE(rate_units), 1, &n))
		pc->rate = n;
	if (seen[KW_BURST]) {
		if (!seen[KW_RATE]) {
			diag_error(c->d, &seen[KW_BURST]->kw_loc,
				   "'burst' needs a 'rate' in the same class");
		} else if (!parse_quantity(c, &seen[KW_BURST]->val, "burst", size_units,
					   ARRAY_SIZE(size_units), 0, &n)) {
			if (n > UINT32_MAX)
				diag_error(c->d, &seen[KW_BURST]->val.loc,
					   "burst '%s' is too large (at most %u bytes)",
					   seen[KW_BURST]->val.text, UINT32_MAX);
			else
				pc->burst = (uint32_t)n;
		}
	}
	if (seen[KW_POLICE]) {
		if (!seen[KW_RATE])
			diag_error(
				c->d, &seen[KW_POLICE]->kw_loc,
				"'police' needs a 'rate' in the same class (add one, or remove 'police')");
		else
			pc->police = 1;
	}
	if (pc->rate && !pc->burst) {
		/* the larger of 10 ms at the rate and two full-size frames */
		uint64_t b = pc->rate / 100;

		if (b < 3028)
			b = 3028;
		if (b > UINT32_MAX)
			b = UINT32_MAX;
		pc->burst = (uint32_t)b;
	}
	if (!pc->rate)
		pc->burst = 0;
}

static int check_ports(struct checker *c, const struct ast_stmt *s, uint16_t *lo, uint16_t *hi)
{
	uint64_t a, b;

	*lo = 0;
	*hi = 65535;
	if (!s || !s->has_port)
		return 0;
	if (check_number(c, &s->port_lo, "port", 65535, &a))
		return -1;
	b = a;
	if (s->port_hi.kind != AV_NONE) {
		if (check_number(c, &s->port_hi, "port", 65535, &b))
			return -1;
		if (b < a) {
			diag_error(
				c->d, &s->port_loc,
				"port range '%llu-%llu' is backwards (did you mean '%llu-%llu'?)",
				(unsigned long long)a, (unsigned long long)b, (unsigned long long)b,
				(unsigned long long)a);
			return -1;
		}
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int check_action(struct checker *c, const struct ast_decl *d,
			const struct ast_stmt *seen[KW__COUNT], const char *what, int *action,
			int *class_idx)
{
	int ok = 0, v;

	*action = NASCAR_ACT_FORWARD;
	*class_idx = POL_CLASS_NONE;
	if (seen[KW_ACTION]) {
		if (lookup_word(c, &seen[KW_ACTION]->val, "action", &nfc_actions, &v))
			ok = -1;
		else
			*action = v;
	}
	if (seen[KW_CLASS]) {
		int idx = lookup_decl(c, &seen[KW_CLASS]->val, "class", c->classes, c->nclasses);

		if (idx < 0) {
			ok = -1;
		} else {
			c->class_used[idx] = 1;
			if (*action == NASCAR_ACT_FORWARD)
				*class_idx = idx;
			else if (!ok)
				diag_warning(c->d, &seen[KW_CLASS]->kw_loc,
					     "'class' has no effect with 'action %s'",
					     seen[KW_ACTION]->val.text);
		}
	} else if (*action == NASCAR_ACT_FORWARD && !ok && !d->broken) {
		diag_error(c->d, &d->name_loc,
			   "%s has no 'class' (a class is required when the action is forward)",
			   what);
		ok = -1;
	}
	return ok;
}

/*
 * Version 2: where only XDP is attached a class rate cannot be shaped and is
 * policed, and a policer makes TCP back off far below the rate.  Warn for
 * traffic that can be TCP (proto tcp or any), forwarded in a rated class
 * without `police;`, that can arrive on a `mode xdp` interface: its `in`, or
 * any declared interface when it names none.  The warning points at the
 * `class` statement's value.
 */
static void warn_xdp_policed(struct checker *c, const char *what, int proto, int in_iface,
			     int class_idx, const struct ast_stmt *cls_stmt)
{
	const struct pol_class *pc;
	int xi;

	if (class_idx == POL_CLASS_NONE || !cls_stmt || (proto != 6 && proto != POL_PROTO_ANY))
		return;
	pc = &c->p->classes[class_idx];
	if (!pc->rate || pc->police)
		return;
	xi = in_iface == POL_IFACE_ANY ? c->first_xdp : c->xdp_mode[in_iface] ? in_iface : -1;
	if (xi < 0)
		return;
	diag_warning(
		c->d, &cls_stmt->val.loc,
		"%s %s TCP in class '%s', and '%s' has mode xdp: a rate is always policed where only XDP is attached, and TCP collapses under a policer",
		what, proto == 6 ? "carries" : "can carry", pc->name, c->p->ifaces[xi].name);
	diag_note(
		c->d, &c->xdp_mode[xi]->loc,
		"use mode hybrid, auto or tc on '%s' to shape the class, or write 'police;' in class '%s' if dropping is intended",
		c->p->ifaces[xi].name, pc->name);
}

static void check_flow(struct checker *c, size_t idx)
{
	const struct ast_decl *d = c->flows[idx];
	struct pol_flow *f = &c->p->flows[idx];
	const struct ast_stmt *seen[KW__COUNT];
	const struct ast_stmt *from, *to;
	char what[96];
	int errs = c->d->nerrors, v, bad = 0;

	collect_stmts(c, d, seen);
	snprintf(f->name, sizeof(f->name), "%s", d->name);
	snprintf(what, sizeof(what), "flow '%s'", d->name);
	f->quoted = d->quoted;
	f->line = (unsigned)d->name_loc.first_line;
	f->proto = POL_PROTO_ANY;
	f->in_iface = POL_IFACE_ANY;
	from = seen[KW_FROM];
	to = seen[KW_TO];
	if (from && check_prefix(c, from->addrs, &f->src))
		bad = 1;
	if (to && check_prefix(c, to->addrs, &f->dst))
		bad = 1;
	check_ports(c, from, &f->sport_lo, &f->sport_hi);
	check_ports(c, to, &f->dport_lo, &f->dport_hi);
	if (seen[KW_PROTO]) {
		const struct ast_value *val = &seen[KW_PROTO]->val;
		uint64_t n;

		if (val->kind == AV_NUMBER) {
			if (!check_number(c, val, "protocol", 255, &n))
				f->proto = (int)n;
		} else if (val->kind == AV_NAME) {
			if (!lookup_word(c, val, "protocol", &nfc_protos, &v))
				f->proto = v;
		}
	}
	if (seen[KW_IN] && seen[KW_IN]->val.kind == AV_NAME) {
		int i = lookup_decl(c, &seen[KW_IN]->val, "interface", c->ifaces, c->nifaces);

		if (i >= 0)
			f->in_iface = i;
	}
	check_action(c, d, seen, what, &f->action, &f->class_idx);

	/* cross-statement rules */
	if ((from && from->has_port) || (to && to->has_port)) {
		const struct ast_stmt *ps = from && from->has_port ? from : to;

		if (f->proto != 6 && f->proto != 17 &&
		    (!seen[KW_PROTO] || f->proto != POL_PROTO_ANY ||
		     seen[KW_PROTO]->val.kind == AV_ANY))
			diag_error(c->d, &ps->port_loc,
				   "a port needs 'proto tcp' or 'proto udp' in the same flow");
	}
	if (f->src.family && f->dst.family && f->src.family != f->dst.family) {
		diag_error(c->d, &to->addrs->loc,
			   "'to' is an %s address but 'from' is an %s address",
			   f->dst.family == NASCAR_FAM_V6 ? "IPv6" : "IPv4",
			   f->src.family == NASCAR_FAM_V6 ? "IPv6" : "IPv4");
		diag_note(c->d, &from->addrs->loc, "'from' is here");
	}
	if (c->d->nerrors == errs && !d->broken && !bad) {
		uint8_t fam = f->src.family ? f->src.family : f->dst.family;

		if ((f->proto == 1 && fam == NASCAR_FAM_V6) ||
		    (f->proto == 58 && fam == NASCAR_FAM_V4))
			diag_warning(c->d, &seen[KW_PROTO]->val.loc,
				     "flow '%s' never matches: '%s' is not carried over %s",
				     d->name, f->proto == 1 ? "icmp" : "icmpv6",
				     fam == NASCAR_FAM_V6 ? "IPv6" : "IPv4");
		else
			c->flow_ok[idx] = 1;
		if (f->action == NASCAR_ACT_FORWARD)
			warn_xdp_policed(c, what, f->proto, f->in_iface, f->class_idx,
					 seen[KW_CLASS]);
	}
}

static void check_default(struct checker *c)
{
	const struct ast_stmt *seen[KW__COUNT];
	int action, cls;

	c->p->default_action = NASCAR_ACT_STACK;
	c->p->default_class = POL_CLASS_NONE;
	if (!c->deflt)
		return;
	collect_stmts(c, c->deflt, seen);
	if (!seen[KW_ACTION]) {
		if (!c->deflt->broken)
			diag_error(c->d, &c->deflt->loc, "the default block has no 'action'");
		return;
	}
	if (check_action(c, c->deflt, seen, "the default block", &action, &cls))
		return;
	c->p->default_action = action;
	c->p->default_class = cls;
	if (action == NASCAR_ACT_FORWARD)
		warn_xdp_policed(c, "the default block", POL_PROTO_ANY, POL_IFACE_ANY, cls,
				 seen[KW_CLASS]);
}

/* ---- policy-wide warnings ------------------------------------------------ */

/* Families a flow can match: bit 0 IPv4, bit 1 IPv6. */
static unsigned fam_set(const struct pol_flow *f)
{
	uint8_t fam = f->src.family ? f->src.family : f->dst.family;

	if (fam == NASCAR_FAM_V4)
		return 1;
	if (fam == NASCAR_FAM_V6)
		return 2;
	return 3;
}

static inline int prefix_covers(const struct pol_prefix *a, const struct pol_prefix *b,
				unsigned bfams)
{
	unsigned full, i;

	if (!a->family)
		return 1;
	if (!b->family)
		return a->len == 0 && bfams == (a->family == NASCAR_FAM_V4 ? 1u : 2u);
	if (a->family != b->family || a->len > b->len)
		return 0;
	/* whole bytes, then the bits left: this runs for every pair of flows */
	full = a->len / 8u;
	for (i = 0; i < full; i++)
		if (a->addr[i] != b->addr[i])
			return 0;
	if (a->len % 8u) {
		unsigned m = (0xff00u >> (a->len % 8u)) & 0xffu;

		if ((a->addr[full] & m) != (b->addr[full] & m))
			return 0;
	}
	return 1;
}

/* Does every packet that b matches also match a? */
static int flow_covers(const struct pol_flow *a, const struct pol_flow *b)
{
	unsigned bf = fam_set(b);

	if (a->in_iface != POL_IFACE_ANY && a->in_iface != b->in_iface)
		return 0;
	if (a->proto != POL_PROTO_ANY && a->proto != b->proto)
		return 0;
	if ((fam_set(a) & bf) != bf)
		return 0;
	if (a->sport_lo > b->sport_lo || a->sport_hi < b->sport_hi || a->dport_lo > b->dport_lo ||
	    a->dport_hi < b->dport_hi)
		return 0;
	return prefix_covers(&a->src, &b->src, bf) && prefix_covers(&a->dst, &b->dst, bf);
}

static void check_reachability(struct checker *c)
{
	size_t i, j;

	for (i = 0; i < c->nflows; i++) {
		if (!c->flow_ok[i])
			continue;
		for (j = 0; j < i; j++) {
			if (!c->flow_ok[j] || !flow_covers(&c->p->flows[j], &c->p->flows[i]))
				continue;
			diag_warning(c->d, &c->flows[i]->name_loc, "flow '%s' is unreachable",
				     c->flows[i]->name);
			diag_note(c->d, &c->flows[j]->name_loc,
				  "flow '%s' comes first and matches every packet it would",
				  c->flows[j]->name);
			break;
		}
	}
}

int nflow_check(const struct ast_policy *ast, struct diag *d, struct policy *out)
{
	struct checker c = {.d = d, .p = out, .first_xdp = -1};
	int errs = d->nerrors;
	size_t i, nallow = 0;

	memset(out, 0, sizeof(*out));
	out->default_action = NASCAR_ACT_STACK;
	out->default_class = POL_CLASS_NONE;
	collect_decls(&c, ast);
	out->ifaces = xcalloc(c.nifaces, sizeof(*out->ifaces));
	out->classes = xcalloc(c.nclasses, sizeof(*out->classes));
	out->flows = xcalloc(c.nflows, sizeof(*out->flows));
	out->nifaces = c.nifaces;
	out->nclasses = c.nclasses;
	out->nflows = c.nflows;
	c.class_used = xcalloc(c.nclasses, 1);
	c.flow_ok = xcalloc(c.nflows, 1);
	c.xdp_mode = xcalloc(c.nifaces, sizeof(*c.xdp_mode));
	for (i = 0; i < c.nifaces; i++) {
		check_iface(&c, i);
		nallow += out->ifaces[i].nallow;
	}
	if (nallow > NASCAR_MAX_ALLOW)
		diag_error(d, NULL,
			   "too many 'allow-src' prefixes (%zu): the limit is %d per policy",
			   nallow, NASCAR_MAX_ALLOW);
	for (i = 0; i < c.nclasses; i++)
		check_class(&c, i);
	for (i = 0; i < c.nflows; i++)
		check_flow(&c, i);
	check_default(&c);
	check_reachability(&c);
	for (i = 0; i < c.nclasses; i++)
		if (!c.class_used[i])
			diag_warning(d, &c.classes[i]->name_loc,
				     "class '%s' is not used by any flow", c.classes[i]->name);
	free(c.ifaces);
	free(c.classes);
	free(c.flows);
	free(c.class_used);
	free(c.flow_ok);
	free(c.xdp_mode);
	return d->nerrors > errs ? -1 : 0;
}
