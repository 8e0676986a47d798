// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* ast.c - constructors and destructors for the syntax tree (see ast.h). */
#include <stdlib.h>
#include <string.h>
#include "ast.h"

static const char *const kw_names[KW__COUNT] = {
	[KW_ROLE] = "role",	    [KW_MODE] = "mode",	    [KW_ALLOW_SRC] = "allow-src",
	[KW_PRIORITY] = "priority", [KW_DSCP] = "dscp",	    [KW_RATE] = "rate",
	[KW_BURST] = "burst",	    [KW_FROM] = "from",	    [KW_TO] = "to",
	[KW_PROTO] = "proto",	    [KW_IN] = "in",	    [KW_CLASS] = "class",
	[KW_ACTION] = "action",	    [KW_POLICE] = "police", [KW_EGRESS] = "egress",
};

const char *ast_kw_name(enum ast_kw kw)
{
	return (unsigned)kw < KW__COUNT ? kw_names[kw] : "?";
}

const char *ast_decl_kind_name(enum ast_decl_kind k)
{
	switch (k) {
	case DECL_IFACE:
		return "interface";
	case DECL_CLASS:
		return "class";
	case DECL_FLOW:
		return "flow";
	default:
		return "default";
	}
}

struct ast_addr *ast_addr_new(const struct nloc *loc)
{
	struct ast_addr *a = calloc(1, sizeof(*a));

	if (!a)
		abort();
	a->loc = *loc;
	a->plen = -1;
	return a;
}

void ast_addr_free(struct ast_addr *a)
{
	while (a) {
		struct ast_addr *next = a->next;

		free(a->text);
		free(a);
		a = next;
	}
}

struct ast_addr *ast_addr_push(struct ast_addr *list, struct ast_addr *a)
{
	a->next = list;
	return a;
}

struct ast_addr *ast_addr_reverse(struct ast_addr *list)
{
	struct ast_addr *out = NULL;

	while (list) {
		struct ast_addr *next = list->next;

		list->next = out;
		out = list;
		list = next;
	}
	return out;
}

void ast_value_clear(struct ast_value *v)
{
	free(v->text);
	memset(v, 0, sizeof(*v));
}

struct ast_stmt *ast_stmt_new(enum ast_kw kw, const struct nloc *loc, const struct nloc *kw_loc)
{
	struct ast_stmt *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->kw = kw;
	s->loc = *loc;
	s->kw_loc = *kw_loc;
	return s;
}

void ast_stmt_free(struct ast_stmt *s)
{
	while (s) {
		struct ast_stmt *next = s->next;

		ast_value_clear(&s->val);
		ast_value_clear(&s->port_lo);
		ast_value_clear(&s->port_hi);
		ast_addr_free(s->addrs);
		free(s);
		s = next;
	}
}

struct ast_stmt *ast_stmt_push(struct ast_stmt *list, struct ast_stmt *s)
{
	s->next = list;
	return s;
}

struct ast_stmt *ast_stmt_reverse(struct ast_stmt *list)
{
	struct ast_stmt *out = NULL;

	while (list) {
		struct ast_stmt *next = list->next;

		list->next = out;
		out = list;
		list = next;
	}
	return out;
}

struct ast_decl *ast_decl_new(enum ast_decl_kind kind, const struct nloc *loc)
{
	struct ast_decl *d = calloc(1, sizeof(*d));

	if (!d)
		abort();
	d->kind = kind;
	d->loc = *loc;
	d->name_loc = *loc;
	return d;
}

void ast_decl_free(struct ast_decl *d)
{
	if (!d)
		return;
	free(d->name);
	ast_stmt_free(d->stmts);
	free(d);
}

void ast_policy_init(struct ast_policy *p)
{
	p->decls = NULL;
	p->tail = &p->decls;
	p->ndecls = 0;
}

void ast_policy_add(struct ast_policy *p, struct ast_decl *d)
{
	*p->tail = d;
	p->tail = &d->next;
	p->ndecls++;
}

void ast_policy_free(struct ast_policy *p)
{
	struct ast_decl *d = p->decls;

	while (d) {
		struct ast_decl *next = d->next;

		ast_decl_free(d);
		d = next;
	}
	ast_policy_init(p);
}
