/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ast.h - the syntax tree the parser builds and check.c walks.
 *
 * Contract:
 *  - every node carries the location of the source it came from, so the
 *    semantic pass can point at any part of it;
 *  - the grammar is deliberately loose about which statement goes in which
 *    block (any statement parses in any block): check.c decides, and so can
 *    say "'rate' is not valid in a flow" instead of a bare syntax error;
 *  - a policy owns its declarations, a declaration its statements, a
 *    statement its strings and addresses: ast_policy_free() frees it all;
 *  - the parser grows statement and allow-src lists with *_push() (O(1),
 *    newest first) and puts each list in source order with *_reverse() once
 *    it is complete, so a long list costs linear time.
 */
#ifndef NASCAR_AST_H
#define NASCAR_AST_H

#include <stddef.h>
#include <stdint.h>
#include "diag.h"

/* Statement keywords (struct ast_stmt.kw). */
enum ast_kw {
	KW_ROLE,
	KW_MODE,
	KW_ALLOW_SRC,
	KW_PRIORITY,
	KW_DSCP,
	KW_RATE,
	KW_BURST,
	KW_FROM,
	KW_TO,
	KW_PROTO,
	KW_IN,
	KW_CLASS,
	KW_ACTION,
	KW_POLICE, /* version 2 */
	KW_EGRESS, /* version 2 */
	KW__COUNT,
};

const char *ast_kw_name(enum ast_kw kw);

enum ast_decl_kind {
	DECL_IFACE,
	DECL_CLASS,
	DECL_FLOW,
	DECL_DEFAULT,
};

const char *ast_decl_kind_name(enum ast_decl_kind k);

/* An address, a prefix, or `any`. */
struct ast_addr {
	struct nloc loc;
	int any;	/* `any` */
	int invalid;	/* the lexer already reported it */
	uint8_t family; /* NASCAR_FAM_V4 / NASCAR_FAM_V6 (0 with any/invalid) */
	int plen;	/* -1 when no /LEN was written */
	struct nloc plen_loc;
	uint8_t addr[16];
	char *text;	       /* the address as written, without /LEN */
	struct ast_addr *next; /* allow-src lists */
};

enum ast_val_kind {
	AV_NONE,
	AV_NAME,     /* a word: role, mode, proto, action, dscp names, references */
	AV_NUMBER,   /* a bare decimal integer */
	AV_QUANTITY, /* a number with a fraction and/or a unit: 400mbit, 1.5 */
	AV_ANY,	     /* `any` */
};

struct ast_value {
	enum ast_val_kind kind;
	struct nloc loc;
	char *text;   /* as written */
	uint64_t num; /* AV_NUMBER */
	int overflow; /* AV_NUMBER did not fit in 64 bits */
};

struct ast_stmt {
	enum ast_kw kw;
	struct nloc loc;	/* the whole statement */
	struct nloc kw_loc;	/* the keyword */
	struct ast_value val;	/* the value: every statement but police, from, to, allow-src */
	struct ast_addr *addrs; /* from, to (one), allow-src (a list) */
	int has_port;
	struct ast_value port_lo, port_hi; /* port_hi.kind == AV_NONE: a single port */
	struct nloc port_loc;		   /* N or N-M */
	struct ast_stmt *next;
};

struct ast_decl {
	enum ast_decl_kind kind;
	struct nloc loc; /* the keyword */
	struct nloc name_loc;
	char *name; /* NULL for default */
	int quoted; /* flow name written as a "string" */
	int broken; /* had a syntax error: statements may be missing */
	struct ast_stmt *stmts;
	struct ast_decl *next;
};

struct ast_policy {
	struct ast_decl *decls;
	struct ast_decl **tail;
	size_t ndecls;
};

struct ast_addr *ast_addr_new(const struct nloc *loc);
void ast_addr_free(struct ast_addr *a); /* and the rest of its list */
/* a at the head of list; returns the new head */
struct ast_addr *ast_addr_push(struct ast_addr *list, struct ast_addr *a);
struct ast_addr *ast_addr_reverse(struct ast_addr *list);

struct ast_stmt *ast_stmt_new(enum ast_kw kw, const struct nloc *loc, const struct nloc *kw_loc);
void ast_stmt_free(struct ast_stmt *s); /* and the rest of its list */
/* s at the head of list; returns the new head */
struct ast_stmt *ast_stmt_push(struct ast_stmt *list, struct ast_stmt *s);
struct ast_stmt *ast_stmt_reverse(struct ast_stmt *list);

void ast_value_clear(struct ast_value *v);

struct ast_decl *ast_decl_new(enum ast_decl_kind kind, const struct nloc *loc);
void ast_decl_free(struct ast_decl *d); /* one declaration only */

void ast_policy_init(struct ast_policy *p);
void ast_policy_add(struct ast_policy *p, struct ast_decl *d);
void ast_policy_free(struct ast_policy *p);

#endif /* NASCAR_AST_H */
