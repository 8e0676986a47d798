// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nascar-apply: puts a compiled Nascar policy (.nfc) into the kernel,
 * reports on it (status, stats) and takes it out (detach).  The commands
 * are the table commands[] below; see docs/nascar-apply.8.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nfc.h"
#include "lock.h"
#include "log.h"
#include "rt.h"
#include "state.h"
#include "util.h"

static int run_apply(struct rt_opts *o, const char *file)
{
	return cmd_apply(o, file ? file : NASCAR_DEFAULT_NFC);
}

static int run_status(struct rt_opts *o, const char *file)
{
	(void)file;
	return cmd_status(o);
}

static int run_stats(struct rt_opts *o, const char *file)
{
	(void)file;
	return cmd_stats(o);
}

static int run_detach(struct rt_opts *o, const char *file)
{
	(void)file;
	return cmd_detach(o);
}

/* Whether a command runs alone on its pin directory (lock.h). */
enum { LOCK_NONE, LOCK_ALWAYS, LOCK_UNLESS_DRY_RUN };

/* The commands: this table is both the overview in --help and the dispatch.
 * The first is the one run when no command word is given. */
static const struct command {
	struct cli_cmd c; /* name, arguments, one line of help */
	int (*run)(struct rt_opts *o, const char *file);
	int takes_file;
	int lock;
} commands[] = {
	{{"apply", "[--dry-run] [FILE.nfc]", "apply a compiled policy (the default)"},
	 .run = run_apply,
	 .takes_file = 1,
	 .lock = LOCK_UNLESS_DRY_RUN},
	{{"status", "[--json]", "what is applied where, and any problems"}, .run = run_status},
	{{"stats", "[--format FMT | --textfile PATH] [--interval S] [--count N]",
	  "counters per flow, class and interface"},
	 .run = run_stats},
	{{"detach", "[--dry-run]", "take out all that nascar-apply put in"},
	 .run = run_detach,
	 .lock = LOCK_UNLESS_DRY_RUN},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	return cli_find(commands, NCOMMANDS, sizeof(commands[0]), name);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: nascar-apply [OPTIONS] [COMMAND] [FILE.nfc]\n"
		   "\n"
		   "Puts a compiled policy (.nfc) into the kernel, reports on it, takes it out.\n"
		   "\n"
		   "Commands:\n");
	cli_overview(f, commands, NCOMMANDS, sizeof(commands[0]));
	fprintf(f,
		"\n"
		"FILE.nfc defaults to %s.\n"
		"\n"
		"Options (before or after the command):\n"
		"  -p, --pin-dir DIR    bpffs directory for pins (default %s)\n"
		"  -s, --state-dir DIR  state directory (default %s[/<pin dir>])\n"
		"  -n, --dry-run        say what apply or detach would do, change nothing\n"
		"  -f, --force          apply even if the same policy is in force\n"
		"  -j, --json           status/stats as JSON (--format json)\n"
		"      --format FMT     text (default), json, or (stats only) prometheus:\n"
		"                       the counters in Prometheus' text format\n"
		"      --textfile PATH  stats: write the prometheus format to PATH for\n"
		"                       node_exporter (a temporary file renamed over it),\n"
		"                       every S seconds with --interval\n"
		"  -i, --interval S     stats: print rates (or rewrite the textfile) every S s\n"
		"  -c, --count N        stats: stop after N reports (or textfile writes)\n"
		"  -w, --wait S         apply/detach: wait up to S seconds for another\n"
		"                       nascar-apply on the same pin directory (default %g)\n"
		"      --bpf-obj FILE   load this BPF object instead of the built-in one\n"
		"      --private-bpffs  accept a bpffs private to this mount namespace\n"
		"      --unsafe-mode    apply an explicit xdp mode that nascar-apply predicts\n"
		"                       drops or splits traffic here (e.g. TCP under NAT)\n"
		"  -q, --quiet          only errors\n"
		"  -v, --verbose        more detail (-vv: libbpf's debug output)\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 usage error.\n",
		NASCAR_DEFAULT_NFC, NASCAR_DEFAULT_PIN_DIR, NASCAR_DEFAULT_STATE_DIR,
		NASCAR_LOCK_WAIT_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"pin-dir", required_argument, NULL, 'p'},
		{"state-dir", required_argument, NULL, 's'},
		{"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"format", required_argument, NULL, 'F'},
		{"textfile", required_argument, NULL, 'T'},
		{"interval", required_argument, NULL, 'i'},
		{"count", required_argument, NULL, 'c'},
		{"wait", required_argument, NULL, 'w'},
		{"bpf-obj", required_argument, NULL, 'B'},
		{"private-bpffs", no_argument, NULL, 'P'},
		{"unsafe-mode", no_argument, NULL, 'U'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct rt_opts o;
	const struct command *cmd = NULL;
	const char *state_dir = NULL, *file = NULL;
	double wait = NASCAR_LOCK_WAIT_DEFAULT;
	char *end;
	int c, rc, locked;

	opterr = 0; /* errors are ours, one line each (log.h) */

	memset(&o, 0, sizeof(o));
	snprintf(o.pin_dir, sizeof(o.pin_dir), "%s", NASCAR_DEFAULT_PIN_DIR);
	/* options may come before or after the command word (GNU getopt permutes) */
	while ((c = getopt_long(argc, argv, ":p:s:nfji:c:w:qvhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			size_t len = strlen(optarg);

			while (len > 1 && optarg[len - 1] == '/')
				len--;
			if (optarg[0] != '/' || len >= sizeof(o.pin_dir)) {
				// clang-format off
				pr_err("--pin-dir needs an absolute path; give one under /sys/fs/bpf");
				// clang-format on
				return EXIT_USAGE;
			}
			snprintf(o.pin_dir, sizeof(o.pin_dir), "%.*s", (int)len, optarg);
			break;
		}
		case 's':
			state_dir = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'j':
			o.json = 1;
			o.prometheus = 0;
			break;
		case 'F':
			o.json = !strcmp(optarg, "json");
			o.prometheus = !strcmp(optarg, "prometheus");
			if (!o.json && !o.prometheus && strcmp(optarg, "text") != 0) {
				pr_err("bad --format '%s'; give text, json or prometheus", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'T':
			if (!*optarg) {
				pr_err("--textfile needs a path");
				return EXIT_USAGE;
			}
			o.textfile = optarg;
			break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || o.interval <= 0 || o.interval > 86400) {
				pr_err("bad --interval '%s'; give seconds, e.g. 1 or 0.5", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			o.count = (int)strtol(optarg, &end, 10);
			if (*end || o.count <= 0) {
				pr_err("bad --count '%s'; give a positive number", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			wait = strtod(optarg, &end);
			if (end == optarg || *end || !(wait >= 0 && wait <= 86400)) {
				pr_err("bad --wait '%s'; give seconds, e.g. 5, or 0 not to wait",
				       optarg);
				return EXIT_USAGE;
			}
			break;
		case 'B':
			o.bpf_obj = optarg;
			break;
		case 'P':
			o.private_bpffs = 1;
			break;
		case 'U':
			o.unsafe_mode = 1;
			break;
		case 'q':
			log_quiet = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("nascar-apply %s (nfc ABI %d)\n", NASCAR_VERSION,
			       NASCAR_ABI_VERSION);
			return 0;
		case ':':
			pr_err("option '%s' needs an argument; see nascar-apply --help",
			       argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt)
				pr_err("unknown option '-%c'; see nascar-apply --help", optopt);
			else
				pr_err("unknown option '%s'; see nascar-apply --help",
				       argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cmd = find_command(argv[optind]);
		if (cmd)
			optind++;
		if (optind < argc)
			file = argv[optind++];
		if (optind < argc) {
			pr_err("unexpected argument '%s'; see nascar-apply --help", argv[optind]);
			return EXIT_USAGE;
		}
	}
	if (!cmd)
		cmd = &commands[0];
	if (file && !cmd->takes_file) {
		pr_err("'%s' takes no file; see nascar-apply --help", cmd->c.name);
		return EXIT_USAGE;
	}
	if ((o.prometheus || o.textfile) && strcmp(cmd->c.name, "stats") != 0) {
		pr_err("%s is for stats; '%s' prints text or json",
		       o.textfile ? "--textfile" : "--format prometheus", cmd->c.name);
		return EXIT_USAGE;
	}
	if (o.textfile && o.json) {
		pr_err("--textfile writes the prometheus format, not json; drop --json");
		return EXIT_USAGE;
	}
	if (o.textfile)
		o.prometheus = 1;
	if (o.prometheus && !o.textfile && o.interval > 0) {
		// clang-format off
		pr_err("--format prometheus prints one snapshot; to rewrite it every S seconds give --textfile PATH --interval S");
		// clang-format on
		return EXIT_USAGE;
	}
	if (state_dir)
		snprintf(o.state_dir, sizeof(o.state_dir), "%s", state_dir);
	else
		state_default_dir(o.state_dir, sizeof(o.state_dir), o.pin_dir);
	log_setup_libbpf();

	/* Everything that changes the machine runs alone on a pin directory
	 * (lock.h); status, stats and --dry-run only read. */
	locked = cmd->lock == LOCK_ALWAYS || (cmd->lock == LOCK_UNLESS_DRY_RUN && !o.dry_run);
	if (locked && lock_take(o.pin_dir, o.state_dir, wait) < 0)
		return 1;
	rc = cmd->run(&o, file);
	if (locked)
		lock_release();
	return rc;
}
