/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rt.h - the commands of nascar-apply and the options they share.
 *
 * Contract: each cmd_* returns the process exit status (0 ok, 1 error,
 * 2 usage) and has already printed its one-line error.
 */
#ifndef NASCAR_RT_H
#define NASCAR_RT_H

#include <limits.h>

struct rt_opts {
	char pin_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	const char *bpf_obj; /* --bpf-obj: load this object instead of the built-in one */
	int dry_run;
	int json;
	int force;	   /* apply even when the same policy is in force */
	int unsafe_mode;   /* apply an explicit mode that cannot carry traffic here */
	int private_bpffs; /* accept a bpffs private to this mount namespace */
	double interval;   /* stats --interval */
	int count;	   /* stats --count */

	int prometheus;	      /* stats --format prometheus */
	const char *textfile; /* stats --textfile: rewrite this file (prometheus) */
};

int cmd_apply(struct rt_opts *o, const char *file);
int cmd_detach(struct rt_opts *o);
int cmd_status(struct rt_opts *o);
int cmd_stats(struct rt_opts *o);

/* Test hook: with NASCAR_TEST_STALL=<point>, stop at that point (the e2e
 * kill-during-apply test kills the process there). */
void rt_stall(const char *point);

#endif /* NASCAR_RT_H */
