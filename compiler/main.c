// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * main.c - the nascarc command line: check, compile, dump, classify.
 *
 * Exit status: 0 success (warnings allowed), 1 the policy has errors or a
 * .nfc file is bad, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "frontend.h"
#include "nfc.h"
#include "util.h"

#define EXIT_ERRORS 1

static const char *prog = "nascarc";

struct opts {
	int werror;
	int max_errors;
	int json;
	const char *out;
	const char *in;
};

static int cmd_check(int argc, char **argv, struct opts *o);
static int cmd_compile(int argc, char **argv, struct opts *o);
static int cmd_dump(int argc, char **argv, struct opts *o);
static int cmd_classify(int argc, char **argv, struct opts *o);

/* The commands: this table is both the overview in --help and the dispatch. */
static const struct command {
	struct cli_cmd c; /* name, arguments, one line of help */
	int (*run)(int argc, char **argv, struct opts *o);
	const char *usage; /* nascarc NAME --help */
} commands[] = {
	{{"check", "FILE.nflow", "parse and validate only"},
	 cmd_check,
	 "Usage: nascarc check [--werror] [--max-errors N] FILE.nflow\n"
	 "\n"
	 "Parses and validates FILE.nflow and prints its diagnostics; writes nothing.\n"},
	{{"compile", "[FILE.nflow] [-o OUT]",
	  "write FILE.nfc (default: " NASCAR_DEFAULT_POLICY " -> " NASCAR_DEFAULT_NFC ")"},
	 cmd_compile,
	 "Usage: nascarc compile [FILE.nflow] [-o OUT] [--werror] [--max-errors N]\n"
	 "\n"
	 "Compiles FILE.nflow to FILE.nfc beside it (the .nflow suffix is replaced).\n"
	 "  -o, --output OUT   write OUT instead; '-' is standard output\n"
	 "With no FILE, compiles " NASCAR_DEFAULT_POLICY " to " NASCAR_DEFAULT_NFC ".\n"},
	{{"dump", "FILE.nfc [--json]", "print a compiled policy"},
	 cmd_dump,
	 "Usage: nascarc dump [--json] FILE.nfc\n"
	 "\n"
	 "Prints a compiled policy for people, or as JSON with --json.\n"},
	{{"classify", "FILE --in IFACE PROTO SRC DST", "say which flow a packet would take"},
	 cmd_classify,
	 "Usage: nascarc classify FILE --in IFACE PROTO SRC DST\n"
	 "\n"
	 "Says what the policy does with one packet arriving on IFACE.  FILE is a\n"
	 ".nflow source (compiled in memory) or a .nfc file.  PROTO is tcp, udp, icmp,\n"
	 "icmpv6 or a protocol number; SRC and DST are ADDR, ADDR:PORT (IPv4) or\n"
	 "[ADDR]:PORT (IPv6).  Prints one line:\n"
	 "  flow=NAME class=NAME action=ACTION priority=P dscp=D\n"
	 "with '-' for what does not apply.\n"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	return cli_find(commands, NCOMMANDS, sizeof(commands[0]), name);
}

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS] ...\n"
		"\n"
		"Compiles .nflow policies into .nfc files for nascar-apply.\n"
		"\n"
		"Commands:\n",
		prog);
	cli_overview(f, commands, NCOMMANDS, sizeof(commands[0]));
	fprintf(f,
		"\n"
		"Common options:\n"
		"  --werror           treat warnings as errors\n"
		"  --max-errors N     print at most N errors and warnings (default %d, 0: all)\n"
		"  -h, --help         show help (also after a command)\n"
		"  -V, --version      show the version\n"
		"\n"
		"Exit status: 0 success, 1 policy errors or bad .nfc, 2 usage or I/O error.\n",
		DIAG_MAX_ERRORS_DEFAULT);
}

/* nascarc NAME --help; the overview for a name that is not a command. */
static void usage_cmd(const char *name, FILE *f)
{
	const struct command *c = find_command(name);

	if (!c) {
		usage_main(f);
		return;
	}
	fputs(c->usage, f);
	// clang-format off
	fputs("\nOptions --werror and --max-errors N apply to every command that reads a .nflow file.\n", f);
	// clang-format on
}

/* One error line "nascarc: ..." on stderr (after what is on stdout). */
__attribute__((format(printf, 1, 2))) static void pr_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 2, 3))) static int bad_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", prog, cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

/* Parses the options of one command; positional arguments end in argv[optind..]. */
static int parse_opts(const char *cmd, int argc, char **argv, struct opts *o, int *done)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"werror", no_argument, NULL, 'W'},
		{"max-errors", required_argument, NULL, 'm'},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"in", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*done = 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":ho:i:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_cmd(cmd, stdout);
			*done = 1;
			return 0;
		case 'W':
			o->werror = 1;
			break;
		case 'm': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > INT_MAX)
				return bad_usage(cmd, "invalid --max-errors value '%s'", optarg);
			o->max_errors = (int)v;
			break;
		}
		case 'o':
			if (strcmp(cmd, "compile"))
				return bad_usage(cmd, "option '-o' is only valid with compile");
			o->out = optarg;
			break;
		case 'j':
			if (strcmp(cmd, "dump"))
				return bad_usage(cmd, "option '--json' is only valid with dump");
			o->json = 1;
			break;
		case 'i':
			if (strcmp(cmd, "classify"))
				return bad_usage(cmd, "option '--in' is only valid with classify");
			o->in = optarg;
			break;
		case ':':
			return bad_usage(cmd, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt != '?') {
				char s[3] = {'-', (char)optopt, 0};

				return bad_usage(cmd, "unknown option '%s'", s);
			}
			return bad_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/* Reads and compiles a .nflow source; prints its diagnostics.  0, 1 or 2. */
static int compile_source(const char *path, const struct opts *o, struct policy *pol)
{
	struct diag d;
	char *buf;
	size_t len = 0;
	int ret;

	memset(pol, 0, sizeof(*pol));
	ret = nflow_read_file(path, &buf, &len);
	if (ret == -EFBIG) {
		/* the policy is refused, as over any other limit: exit status 1 */
		diag_init(&d, path, NULL, 0);
		nflow_report_too_large(&d, len);
		diag_print(&d, stderr);
		return EXIT_ERRORS;
	}
	if (ret < 0) {
		pr_err("%s: %s", path, strerror(-ret));
		return EXIT_USAGE;
	}
	diag_init(&d, path, buf, len);
	d.werror = o->werror;
	d.max_errors = o->max_errors;
	ret = nflow_compile_buffer(buf, len, &d, pol);
	diag_print(&d, stderr);
	free(buf);
	return ret ? EXIT_ERRORS : 0;
}

static int cmd_check(int argc, char **argv, struct opts *o)
{
	struct policy pol;
	int ret;

	if (argc - optind != 1)
		return bad_usage("check", "check needs exactly one FILE.nflow");
	ret = compile_source(argv[optind], o, &pol);
	if (!ret)
		policy_free(&pol);
	return ret;
}

/* FILE.nflow -> FILE.nfc; other names get .nfc appended. */
static char *output_name(const char *src)
{
	size_t len = strlen(src);
	char *out = malloc(len + 5);

	if (!out)
		return NULL;
	memcpy(out, src, len + 1);
	if (len > 6 && !strcmp(src + len - 6, ".nflow"))
		out[len - 6] = '\0';
	strcat(out, ".nfc");
	return out;
}

/* Builds the .nfc bytes; reports a build failure as a policy error. */
static int build(const char *src, const struct policy *pol, void **nfc, size_t *size)
{
	char err[256] = "";

	if (nfc_build(pol, nfc, size, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: error: %s\n", src, err[0] ? err : "cannot build the policy");
		return EXIT_ERRORS;
	}
	return 0;
}

static int cmd_compile(int argc, char **argv, struct opts *o)
{
	const char *src = NASCAR_DEFAULT_POLICY;
	char *outname = NULL;
	const char *out;
	struct policy pol;
	char err[256] = "";
	void *nfc = NULL;
	size_t size = 0;
	int ret;

	if (argc - optind > 1)
		return bad_usage("compile", "compile takes at most one FILE.nflow");
	if (argc - optind == 1)
		src = argv[optind];
	ret = compile_source(src, o, &pol);
	if (ret)
		return ret;
	ret = build(src, &pol, &nfc, &size);
	policy_free(&pol);
	if (ret)
		return ret;
	if (o->out) {
		out = o->out;
	} else if (argc - optind == 0) {
		char dir[] = NASCAR_DEFAULT_NFC, *slash = strrchr(dir, '/');

		out = NASCAR_DEFAULT_NFC;
		if (slash && slash != dir) {
			*slash = '\0';
			ret = mkdir_p(dir, 0755);
			if (ret < 0) {
				pr_err("%s: %s", dir, strerror(-ret));
				free(nfc);
				return EXIT_USAGE;
			}
		}
	} else {
		outname = output_name(src);
		if (!outname) {
			free(nfc);
			pr_err("out of memory");
			return EXIT_USAGE;
		}
		out = outname;
	}
	ret = nfc_write_file(out, nfc, size, err, sizeof(err));
	if (ret < 0)
		pr_err("%s", err[0] ? err : strerror(-ret));
	free(nfc);
	free(outname);
	return ret < 0 ? EXIT_USAGE : 0;
}

static int load_error_status(int ret)
{
	switch (-ret) {
	case ENOENT:
	case EACCES:
	case EPERM:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EIO:
	case ENOMEM:
		return EXIT_USAGE;
	default:
		return EXIT_ERRORS;
	}
}

static int cmd_dump(int argc, char **argv, struct opts *o)
{
	struct nfc_image img;
	char err[256] = "";
	int ret;

	if (argc - optind != 1)
		return bad_usage("dump", "dump needs exactly one FILE.nfc");
	ret = nfc_load_file(argv[optind], &img, err, sizeof(err));
	if (ret < 0) {
		pr_err("%s: %s", argv[optind], err[0] ? err : strerror(-ret));
		return load_error_status(ret);
	}
	if (o->json)
		nfc_dump_json(&img, stdout);
	else
		nfc_dump_text(&img, stdout);
	nfc_image_free(&img);
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("standard output: %s", strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int is_nfc_file(const char *path)
{
	size_t len = strlen(path);
	unsigned char m[4];
	FILE *f;
	int r = 0;

	if (len > 4 && !strcmp(path + len - 4, ".nfc"))
		return 1;
	if (len > 6 && !strcmp(path + len - 6, ".nflow"))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	if (fread(m, 1, 4, f) == 4)
		r = ((uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
		     (uint32_t)m[3] << 24) == NFC_MAGIC;
	fclose(f);
	return r;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	char *end;
	long v;
	int num;

	if (!nfc_word_value(&nfc_protos, s, &num)) {
		*proto = (uint8_t)num;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 255)
		return -1;
	*proto = (uint8_t)v;
	return 0;
}

static int cmd_classify(int argc, char **argv, struct opts *o)
{
	const char *file, *p, *s, *dn;
	struct nfc_image img;
	struct nfc_verdict v;
	struct nfc_pkt pkt;
	uint8_t sfam, dfam;
	int sport_set, dport_set, ret;
	char err[256] = "";

	if (argc - optind != 4)
		return bad_usage("classify", "classify needs FILE --in IFACE PROTO SRC DST");
	if (!o->in)
		return bad_usage("classify", "classify needs '--in IFACE'");
	file = argv[optind];
	p = argv[optind + 1];
	s = argv[optind + 2];
	dn = argv[optind + 3];
	memset(&pkt, 0, sizeof(pkt));
	if (parse_proto(p, &pkt.proto))
		return bad_usage("classify",
				 "invalid protocol '%s' (tcp, udp, icmp, icmpv6 or 0-255)", p);
	if (nfc_parse_endpoint(s, &sfam, pkt.src, &pkt.sport, &sport_set) < 0)
		return bad_usage("classify", "invalid source '%s' (ADDR, ADDR:PORT or [ADDR]:PORT)",
				 s);
	if (nfc_parse_endpoint(dn, &dfam, pkt.dst, &pkt.dport, &dport_set) < 0)
		return bad_usage("classify",
				 "invalid destination '%s' (ADDR, ADDR:PORT or [ADDR]:PORT)", dn);
	if (sfam != dfam)
		return bad_usage("classify",
				 "source and destination are of different address families");
	if ((sport_set || dport_set) && pkt.proto != 6 && pkt.proto != 17)
		return bad_usage("classify", "ports need protocol tcp or udp (got '%s')", p);
	pkt.family = sfam;

	if (is_nfc_file(file)) {
		ret = nfc_load_file(file, &img, err, sizeof(err));
		if (ret < 0) {
			pr_err("%s: %s", file, err[0] ? err : strerror(-ret));
			return load_error_status(ret);
		}
	} else {
		struct policy pol;
		void *buf = NULL;
		size_t size = 0;

		ret = compile_source(file, o, &pol);
		if (ret)
			return ret;
		ret = build(file, &pol, &buf, &size);
		policy_free(&pol);
		if (ret)
			return ret;
		ret = nfc_parse(buf, size, &img, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "%s: error: %s\n", file, err);
			free(buf);
			return EXIT_ERRORS;
		}
	}
	ret = nfc_classify(&img, o->in, &pkt, &v);
	if (ret < 0) {
		pr_err("%s: cannot classify: %s", file, strerror(-ret));
		nfc_image_free(&img);
		return EXIT_ERRORS;
	}
	fputs("flow=", stdout);
	if (v.matched_iface && !v.spoofed && v.rule < img.nflows)
		nfc_print_flow_name(&img.flows[v.rule], stdout);
	else
		fputs("-", stdout);
	if (v.class_id >= 0 && (size_t)v.class_id < img.nclasses) {
		const struct nfc_class *c = &img.classes[v.class_id];

		printf(" class=%.*s action=%s priority=%u", (int)sizeof(c->name), c->name,
		       nfc_action_name(v.action), c->val.priority);
		if (c->val.dscp == NASCAR_DSCP_KEEP)
			printf(" dscp=-\n");
		else
			printf(" dscp=%u\n", c->val.dscp);
	} else {
		printf(" class=- action=%s priority=- dscp=-\n", nfc_action_name(v.action));
	}
	nfc_image_free(&img);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.max_errors = DIAG_MAX_ERRORS_DEFAULT};
	const struct command *c;
	const char *cmd;
	int done, ret;

	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		if (argc > 2)
			usage_cmd(argv[2], stdout);
		else
			usage_main(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("nascarc %s (nflow language 1, nfc ABI %d)\n", NASCAR_VERSION,
		       NASCAR_ABI_VERSION);
		return 0;
	}
	c = find_command(cmd);
	if (!c)
		return bad_usage(NULL, "unknown command '%s'", cmd);
	/* argv[1..] with the command as argv[0] for getopt; options may follow operands */
	ret = parse_opts(cmd, argc - 1, argv + 1, &o, &done);
	if (ret || done)
		return ret;
	return c->run(argc - 1, argv + 1, &o);
}
