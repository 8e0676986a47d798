/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parser.y - grammar of the .nflow language.
 *
 * The grammar is loose on purpose: any statement parses in any block, and
 * values are kept as written; check.c decides what is valid where, so it
 * can name the problem ("'rate' is not valid in a flow").  Recovery: a bad
 * statement is skipped up to its ';' (or the block's '}'), a bad
 * declaration up to the next '}'.
 *
 * The words version 2 added (`police`, `egress`) are keywords only where a
 * statement starts: as a declared name or a value they are plain names, so
 * a version-1 policy that used one as a name still compiles.
 */
%code requires {
#include "ast.h"
struct parse_ctx;
}

%code {
#include <stdlib.h>
#include <string.h>
#include "frontend.h"
#include "lexer.h"

static void yyerror(YYLTYPE *loc, void *scanner, struct parse_ctx *pc, const char *msg);
static char *reserved_name(struct parse_ctx *pc, const YYLTYPE *loc, const char *kw);
static char *xstrdup(const char *s);
static void check_name(struct parse_ctx *pc, const YYLTYPE *loc, const char *name);
static struct ast_stmt *mk_value(enum ast_kw kw, const YYLTYPE *all, const YYLTYPE *kwloc,
				 struct ast_value v);
static struct ast_value mk_name_value(char *s, const YYLTYPE *loc);
static void add_decl(struct parse_ctx *pc, struct ast_decl *d);
static struct ast_decl *mk_decl(struct parse_ctx *pc, enum ast_decl_kind kind, const YYLTYPE *loc,
				char *name, const YYLTYPE *name_loc, int quoted,
				struct ast_stmt *stmts);
}

%define api.pure full
%define api.location.type {struct nloc}
%define parse.error custom
%locations
%expect 0
%param {void *scanner}
%parse-param {struct parse_ctx *pc}

%initial-action {
	@$.first_line = @$.last_line = 1;
	@$.first_column = @$.last_column = 1;
}

%union {
	char *str;
	struct ast_value val;
	struct ast_addr *addr;
	struct ast_stmt *stmt;
	struct ast_decl *decl;
	int kw;
}

%token END 0 "end of file"
%token INTERFACE "'interface'" CLASS "'class'" FLOW "'flow'" DEFAULT "'default'"
%token ROLE "'role'" MODE "'mode'" ALLOW_SRC "'allow-src'" PRIORITY "'priority'"
%token DSCP "'dscp'" RATE "'rate'" BURST "'burst'" FROM "'from'" TO "'to'"
%token PORT "'port'" PROTO "'proto'" IN "'in'" ACTION "'action'" ANY "'any'"
%token POLICE "'police'" EGRESS "'egress'"
%token <str> NAME "name" STRING "string"
%token <val> NUMBER "number" QUANTITY "quantity"
%token <addr> ADDR "address"

%type <str> declname
%type <decl> decl
%type <stmt> block stmts stmt
%type <addr> addr addr_list
%type <val> word number word_or_number quantity proto_value ref
%type <kw> endpoint_kw

%destructor { free($$); } <str>
%destructor { ast_value_clear(&$$); } <val>
%destructor { ast_addr_free($$); } <addr>
%destructor { ast_stmt_free($$); } <stmt>
%destructor { ast_decl_free($$); } <decl>

%%

policy
	: %empty
	| policy decl			{ if ($2) add_decl(pc, $2); }
	;

decl
	: INTERFACE declname block	{ $$ = mk_decl(pc, DECL_IFACE, &@1, $2, &@2, 0, $3); }
	| CLASS declname block		{ $$ = mk_decl(pc, DECL_CLASS, &@1, $2, &@2, 0, $3); }
	| FLOW declname block		{ $$ = mk_decl(pc, DECL_FLOW, &@1, $2, &@2, 0, $3); }
	| FLOW STRING block		{ $$ = mk_decl(pc, DECL_FLOW, &@1, $2, &@2, 1, $3); }
	| DEFAULT block			{ $$ = mk_decl(pc, DECL_DEFAULT, &@1, NULL, &@1, 0, $2); }
	| error '}'			{ $$ = NULL; pc->broken = 0; }
	;

/* A name being declared: every version-1 keyword and value word is reserved. */
declname
	: NAME				{ check_name(pc, &@1, $1); $$ = $1; }
	| POLICE			{ $$ = xstrdup("police"); }
	| EGRESS			{ $$ = xstrdup("egress"); }
	| INTERFACE			{ $$ = reserved_name(pc, &@1, "interface"); }
	| CLASS				{ $$ = reserved_name(pc, &@1, "class"); }
	| FLOW				{ $$ = reserved_name(pc, &@1, "flow"); }
	| DEFAULT			{ $$ = reserved_name(pc, &@1, "default"); }
	| ROLE				{ $$ = reserved_name(pc, &@1, "role"); }
	| MODE				{ $$ = reserved_name(pc, &@1, "mode"); }
	| ALLOW_SRC			{ $$ = reserved_name(pc, &@1, "allow-src"); }
	| PRIORITY			{ $$ = reserved_name(pc, &@1, "priority"); }
	| DSCP				{ $$ = reserved_name(pc, &@1, "dscp"); }
	| RATE				{ $$ = reserved_name(pc, &@1, "rate"); }
	| BURST				{ $$ = reserved_name(pc, &@1, "burst"); }
	| FROM				{ $$ = reserved_name(pc, &@1, "from"); }
	| TO				{ $$ = reserved_name(pc, &@1, "to"); }
	| PORT				{ $$ = reserved_name(pc, &@1, "port"); }
	| PROTO				{ $$ = reserved_name(pc, &@1, "proto"); }
	| IN				{ $$ = reserved_name(pc, &@1, "in"); }
	| ACTION			{ $$ = reserved_name(pc, &@1, "action"); }
	| ANY				{ $$ = reserved_name(pc, &@1, "any"); }
	;

block
	: '{' stmts '}'			{ $$ = ast_stmt_reverse($2); }
	| '{' stmts error '}'		{ $$ = ast_stmt_reverse($2); pc->broken = 1; }
	;

stmts
	: %empty			{ $$ = NULL; }
	| stmts stmt			{ $$ = ast_stmt_push($1, $2); }
	| stmts error ';'		{ $$ = $1; pc->broken = 1; }
	;

stmt
	: ROLE word ';'			{ $$ = mk_value(KW_ROLE, &@$, &@1, $2); }
	| MODE word ';'			{ $$ = mk_value(KW_MODE, &@$, &@1, $2); }
	| ACTION word ';'		{ $$ = mk_value(KW_ACTION, &@$, &@1, $2); }
	| PRIORITY number ';'		{ $$ = mk_value(KW_PRIORITY, &@$, &@1, $2); }
	| DSCP word_or_number ';'	{ $$ = mk_value(KW_DSCP, &@$, &@1, $2); }
	| RATE quantity ';'		{ $$ = mk_value(KW_RATE, &@$, &@1, $2); }
	| BURST quantity ';'		{ $$ = mk_value(KW_BURST, &@$, &@1, $2); }
	| PROTO proto_value ';'		{ $$ = mk_value(KW_PROTO, &@$, &@1, $2); }
	| IN ref ';'			{ $$ = mk_value(KW_IN, &@$, &@1, $2); }
	| CLASS word ';'		{ $$ = mk_value(KW_CLASS, &@$, &@1, $2); }
	| EGRESS word ';'		{ $$ = mk_value(KW_EGRESS, &@$, &@1, $2); }
	| POLICE ';'
		{
			struct ast_value none = { .kind = AV_NONE };

			$$ = mk_value(KW_POLICE, &@$, &@1, none);
		}
	| ALLOW_SRC addr_list ';'
		{
			struct ast_value none = { .kind = AV_NONE };

			$$ = mk_value(KW_ALLOW_SRC, &@$, &@1, none);
			$$->addrs = ast_addr_reverse($2);
		}
	| endpoint_kw addr ';'
		{
			struct ast_value none = { .kind = AV_NONE };

			$$ = mk_value($1, &@$, &@1, none);
			$$->addrs = $2;
		}
	| endpoint_kw addr PORT number ';'
		{
			struct ast_value none = { .kind = AV_NONE };

			$$ = mk_value($1, &@$, &@1, none);
			$$->addrs = $2;
			$$->has_port = 1;
			$$->port_lo = $4;
			$$->port_loc = @4;
		}
	| endpoint_kw addr PORT number '-' number ';'
		{
			struct ast_value none = { .kind = AV_NONE };

			$$ = mk_value($1, &@$, &@1, none);
			$$->addrs = $2;
			$$->has_port = 1;
			$$->port_lo = $4;
			$$->port_hi = $6;
			$$->port_loc = @4;
			$$->port_loc.last_line = @6.last_line;
			$$->port_loc.last_column = @6.last_column;
		}
	;

endpoint_kw
	: FROM				{ $$ = KW_FROM; }
	| TO				{ $$ = KW_TO; }
	;

word
	: NAME				{ $$ = mk_name_value($1, &@1); }
	| POLICE			{ $$ = mk_name_value(xstrdup("police"), &@1); }
	| EGRESS			{ $$ = mk_name_value(xstrdup("egress"), &@1); }
	;

number
	: NUMBER			{ $$ = $1; }
	;

word_or_number
	: word
	| number
	;

quantity
	: NUMBER			{ $$ = $1; }
	| QUANTITY			{ $$ = $1; }
	;

proto_value
	: word
	| number
	| ANY				{ $$ = (struct ast_value){ .kind = AV_ANY, .loc = @1 }; }
	;

ref
	: word
	| ANY				{ $$ = (struct ast_value){ .kind = AV_ANY, .loc = @1 }; }
	;

addr
	: ADDR				{ $$ = $1; }
	| ADDR '/' NUMBER
		{
			$$ = $1;
			$$->plen = $3.overflow || $3.num > 255 ? 255 : (int)$3.num;
			$$->plen_loc = @3;
			$$->loc = @$;
			ast_value_clear(&$3);
		}
	| ANY
		{
			$$ = ast_addr_new(&@1);
			$$->any = 1;
		}
	;

addr_list
	: addr				{ $$ = $1; }
	| addr_list ',' addr		{ $$ = ast_addr_push($1, $3); }
	;

%%

static const char *const reserved_words[] = {
	"interface", "class", "flow", "default", "role", "mode", "allow-src", "priority",
	"dscp", "rate", "burst", "from", "to", "port", "proto", "in", "action", "any",
	"guest", "uplink", "auto", "xdp", "tc", "hybrid", "tcp", "udp", "icmp", "icmpv6",
	"forward", "drop", "stack", "be", "cs0", "cs1", "cs2", "cs3", "cs4", "cs5", "cs6",
	"cs7", "af11", "af12", "af13", "af21", "af22", "af23", "af31", "af32", "af33",
	"af41", "af42", "af43", "ef", "va",
};

int nflow_is_reserved(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++)
		if (!strcmp(word, reserved_words[i]))
			return 1;
	return 0;
}

static void yyerror(YYLTYPE *loc, void *scanner, struct parse_ctx *pc, const char *msg)
{
	(void)scanner;
	diag_error(pc->diag, loc, "%s", msg);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

static char *reserved_name(struct parse_ctx *pc, const YYLTYPE *loc, const char *kw)
{
	char *s = xstrdup(kw);

	diag_error(pc->diag, loc, "'%s' is a reserved word and cannot be used as a name", kw);
	return s;
}

static void check_name(struct parse_ctx *pc, const YYLTYPE *loc, const char *name)
{
	if (nflow_is_reserved(name))
		diag_error(pc->diag, loc, "'%s' is a reserved word and cannot be used as a name",
			   name);
}

static struct ast_stmt *mk_value(enum ast_kw kw, const YYLTYPE *all, const YYLTYPE *kwloc,
				 struct ast_value v)
{
	struct ast_stmt *s = ast_stmt_new(kw, all, kwloc);

	s->val = v;
	return s;
}

static struct ast_value mk_name_value(char *s, const YYLTYPE *loc)
{
	struct ast_value v = { .kind = AV_NAME, .loc = *loc, .text = s };

	return v;
}

static struct ast_decl *mk_decl(struct parse_ctx *pc, enum ast_decl_kind kind, const YYLTYPE *loc,
				char *name, const YYLTYPE *name_loc, int quoted,
				struct ast_stmt *stmts)
{
	struct ast_decl *d = ast_decl_new(kind, loc);

	d->name = name;
	d->name_loc = *name_loc;
	d->quoted = quoted;
	d->stmts = stmts;
	d->broken = pc->broken;
	pc->broken = 0;
	return d;
}

/*
 * Past a limit the policy fails whatever comes next, so only the first
 * declaration over it is kept (check.c reports the limit there, or the
 * duplicate or bad name that let it in); later ones of that kind are parsed
 * for their syntax errors and freed, which keeps memory bounded.
 */
static void add_decl(struct parse_ctx *pc, struct ast_decl *d)
{
	static const size_t limits[] = {
		[DECL_IFACE] = NASCAR_MAX_IFACES,
		[DECL_CLASS] = NASCAR_MAX_CLASSES,
		[DECL_FLOW] = NASCAR_MAX_FLOWS,
	};

	if (d->kind != DECL_DEFAULT && pc->ndecls[d->kind]++ > limits[d->kind]) {
		ast_decl_free(d);
		return;
	}
	ast_policy_add(pc->ast, d);
}

/* The offending token as the user wrote it, for "unexpected ...". */
static void describe_token(struct parse_ctx *pc, yysymbol_kind_t tok, const YYLTYPE *loc,
			   char *buf, size_t size)
{
	size_t len, linelen = 0, col;
	const char *p;

	if (tok == YYSYMBOL_YYEOF) {
		snprintf(buf, size, "end of file");
		return;
	}
	p = diag_line(pc->diag, loc->first_line, &linelen);
	col = loc->first_column > 0 ? (size_t)loc->first_column - 1 : 0;
	len = loc->last_line == loc->first_line && loc->last_column >= loc->first_column
		      ? (size_t)(loc->last_column - loc->first_column + 1)
		      : 1;
	if (!p || col >= linelen) {
		p = "";
		len = 0;
	} else {
		p += col;
		if (len > linelen - col)
			len = linelen - col;
	}
	if (len > 40)
		len = 40;
	switch (tok) {
	case YYSYMBOL_NAME:
		snprintf(buf, size, "name '%.*s'", (int)len, p);
		break;
	case YYSYMBOL_NUMBER:
		snprintf(buf, size, "number '%.*s'", (int)len, p);
		break;
	case YYSYMBOL_ADDR:
		snprintf(buf, size, "address '%.*s'", (int)len, p);
		break;
	case YYSYMBOL_STRING:
		snprintf(buf, size, "string %.*s", (int)len, p);
		break;
	default:
		snprintf(buf, size, "'%.*s'", (int)len, p);
		break;
	}
}

/* Symbol names are declared with their quotes: "'role'", "';'", "name". */
static void sym_name(yysymbol_kind_t s, char *buf, size_t size)
{
	const char *n = yysymbol_name(s);
	size_t len = strlen(n);

	if (s == YYSYMBOL_YYEOF)
		snprintf(buf, size, "end of file");
	else if (len >= 2 && n[0] == '"' && n[len - 1] == '"')
		snprintf(buf, size, "%.*s", (int)(len - 2), n + 1);
	else
		snprintf(buf, size, "%s", n);
}

static int is_stmt_kw(yysymbol_kind_t s)
{
	switch (s) {
	case YYSYMBOL_ROLE: case YYSYMBOL_MODE: case YYSYMBOL_ALLOW_SRC: case YYSYMBOL_PRIORITY:
	case YYSYMBOL_DSCP: case YYSYMBOL_RATE: case YYSYMBOL_BURST: case YYSYMBOL_FROM:
	case YYSYMBOL_TO: case YYSYMBOL_PROTO: case YYSYMBOL_IN: case YYSYMBOL_ACTION:
	case YYSYMBOL_CLASS: case YYSYMBOL_POLICE: case YYSYMBOL_EGRESS:
		return 1;
	default:
		return 0;
	}
}

/*
 * "syntax error, unexpected X, expected A, B or C".  Inside a block the
 * statement keywords are summed up as "a statement"; where a name is
 * expected, 'police' and 'egress' are names too and go unsaid.
 */
static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, struct parse_ctx *pc)
{
	yysymbol_kind_t exp[YYNTOKENS];
	char names[YYNTOKENS][48];
	char what[128], msg[1024];
	int n, i, total = 0, in_block = 0, want_name = 0;
	size_t off;

	(void)scanner;
	describe_token(pc, yypcontext_token(ctx), yypcontext_location(ctx), what, sizeof(what));
	off = (size_t)snprintf(msg, sizeof(msg), "syntax error, unexpected %s", what);
	n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	for (i = 0; i < n; i++) {
		if (exp[i] == YYSYMBOL_ROLE)
			in_block = 1;
		if (exp[i] == YYSYMBOL_NAME)
			want_name |= 1;
		if (exp[i] == YYSYMBOL_INTERFACE)
			want_name |= 2;
	}
	want_name = want_name == 3;
	/* where a name is declared the keywords are only there to be refused */
	if (want_name && in_block)
		in_block = 0;
	for (i = 0; i < n; i++) {
		if (want_name && exp[i] != YYSYMBOL_NAME && exp[i] != YYSYMBOL_STRING)
			continue;
		if (!in_block && (exp[i] == YYSYMBOL_POLICE || exp[i] == YYSYMBOL_EGRESS))
			continue;
		if (in_block && is_stmt_kw(exp[i])) {
			if (exp[i] == YYSYMBOL_ROLE)
				snprintf(names[total++], sizeof(names[0]), "a statement");
			continue;
		}
		sym_name(exp[i], names[total++], sizeof(names[0]));
	}
	for (i = 0; i < total && off < sizeof(msg); i++) {
		const char *sep = i == 0 ? ", expected " : i == total - 1 ? " or " : ", ";

		off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s", sep, names[i]);
	}
	diag_error(pc->diag, yypcontext_location(ctx), "%s", msg);
	return 0;
}
