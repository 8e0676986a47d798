// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nascar-apply: puts a compiled Nascar policy (.nfc) into the kernel.
 *
 *   nascar-apply [OPTIONS] [FILE.nfc]      apply (default NASCAR_DEFAULT_NFC)
 *   nascar-apply [OPTIONS] status [--json]
 *   nascar-apply [OPTIONS] stats [--format text|json|prometheus] [--interval S [--count N]]
 *   nascar-apply [OPTIONS] stats --textfile PATH [--interval S [--count N]]
 *   nascar-apply [OPTIONS] detach
 *
 * See docs/nascar-apply.8.
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nascar-apply [OPTIONS] [FILE.nfc]        apply a compiled policy\n"
		"       nascar-apply [OPTIONS] --dry-run [FILE.nfc]\n"
		"       nascar-apply [OPTIONS] status [--json]\n"
		"       nascar-apply [OPTIONS] stats [--format FMT] [--interval S] [--count N]\n"
		"       nascar-apply [OPTIONS] stats --textfile PATH [--interval S] [--count N]\n"
		"       nascar-apply [OPTIONS] detach\n"
		"\n"
		"FILE.nfc defaults to %s.\n"
		"options:\n"
		"  -p, --pin-dir DIR    bpffs directory for pins (default %s)\n"
		"  -s, --state-dir DIR  state directory (default %s[/<pin dir>])\n"
		"  -n, --dry-run        say what apply would do, change nothing\n"
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
		"  -h, --help\n",
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
		{NULL, 0, NULL, 0},
	};
	struct rt_opts o;
	const char *state_dir = NULL, *cmd = NULL, *file = NULL;
	double wait = NASCAR_LOCK_WAIT_DEFAULT;
	char *end;
	int c, rc, locked;

	memset(&o, 0, sizeof(o));
	snprintf(o.pin_dir, sizeof(o.pin_dir), "%s", NASCAR_DEFAULT_PIN_DIR);
	/* options may come before or after the command word (GNU getopt permutes) */
	while ((c = getopt_long(argc, argv, "p:s:nfji:c:w:qvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			size_t len = strlen(optarg);

			while (len > 1 && optarg[len - 1] == '/')
				len--;
			if (optarg[0] != '/' || len >= sizeof(o.pin_dir)) {
				fprintf(stderr, "nascar-apply: --pin-dir needs an absolute path; "
						"give one under /sys/fs/bpf\n");
				return 2;
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
				fprintf(stderr,
					"nascar-apply: bad --format '%s'; give text, json or "
					"prometheus\n",
					optarg);
				return 2;
			}
			break;
		case 'T':
			if (!*optarg) {
				fprintf(stderr, "nascar-apply: --textfile needs a path\n");
				return 2;
			}
			o.textfile = optarg;
			break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || o.interval <= 0 || o.interval > 86400) {
				fprintf(stderr,
					"nascar-apply: bad --interval '%s'; give seconds, "
					"e.g. 1 or 0.5\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			o.count = (int)strtol(optarg, &end, 10);
			if (*end || o.count <= 0) {
				fprintf(stderr,
					"nascar-apply: bad --count '%s'; give a positive "
					"number\n",
					optarg);
				return 2;
			}
			break;
		case 'w':
			wait = strtod(optarg, &end);
			if (end == optarg || *end || !(wait >= 0 && wait <= 86400)) {
				fprintf(stderr,
					"nascar-apply: bad --wait '%s'; give seconds, e.g. 5, "
					"or 0 not to wait\n",
					optarg);
				return 2;
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		const char *w = argv[optind];

		if (!strcmp(w, "status") || !strcmp(w, "stats") || !strcmp(w, "detach") ||
		    !strcmp(w, "apply"))
			cmd = argv[optind++];
		if (optind < argc)
			file = argv[optind++];
		if (optind < argc) {
			fprintf(stderr,
				"nascar-apply: unexpected argument '%s'; see nascar-apply "
				"--help\n",
				argv[optind]);
			return 2;
		}
	}
	if (!cmd)
		cmd = "apply";
	if (file && strcmp(cmd, "apply") != 0) {
		fprintf(stderr, "nascar-apply: '%s' takes no file; see nascar-apply --help\n", cmd);
		return 2;
	}
	if ((o.prometheus || o.textfile) && strcmp(cmd, "stats") != 0) {
		fprintf(stderr, "nascar-apply: %s is for stats; '%s' prints text or json\n",
			o.textfile ? "--textfile" : "--format prometheus", cmd);
		return 2;
	}
	if (o.textfile && o.json) {
		fprintf(stderr, "nascar-apply: --textfile writes the prometheus format, not "
				"json; drop --json\n");
		return 2;
	}
	if (o.textfile)
		o.prometheus = 1;
	if (o.prometheus && !o.textfile && o.interval > 0) {
		fprintf(stderr, "nascar-apply: --format prometheus prints one snapshot; to "
				"rewrite it every S seconds give --textfile PATH --interval S\n");
		return 2;
	}
	if (state_dir)
		snprintf(o.state_dir, sizeof(o.state_dir), "%s", state_dir);
	else
		state_default_dir(o.state_dir, sizeof(o.state_dir), o.pin_dir);
	log_setup_libbpf();

	if (!strcmp(cmd, "status"))
		return cmd_status(&o);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(&o);

	/* Everything that changes the machine runs alone on a pin directory
	 * (lock.h); status, stats and --dry-run only read. */
	locked = !strcmp(cmd, "detach") || (!strcmp(cmd, "apply") && !o.dry_run);
	if (locked && lock_take(o.pin_dir, o.state_dir, wait) < 0)
		return 1;
	if (!strcmp(cmd, "detach"))
		rc = cmd_detach(&o);
	else
		rc = cmd_apply(&o, file ? file : NASCAR_DEFAULT_NFC);
	if (locked)
		lock_release();
	return rc;
}
