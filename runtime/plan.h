/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * plan.h - what nascar-apply attaches on each interface, decided from the
 * policy's modes and the devices' facts (probe.h).
 *
 * Contract: plan_decide() is pure: same devices and modes in, same plan,
 * reasons and refusals out, so --dry-run prints exactly what an apply does
 * and tests/unit/test_plan.c checks it without root.
 */
#ifndef NASCAR_PLAN_H
#define NASCAR_PLAN_H

#include <stddef.h>
#include "probe.h"

const char *probe_kind_name(int kind);

/* What to attach on one interface. */
#define XDP_NONE 0
#define XDP_NATIVE 1  /* XDP_FLAGS_DRV_MODE */
#define XDP_GENERIC 2 /* XDP_FLAGS_SKB_MODE */
#define TC_NONE 0
#define TC_TCX 1
#define TC_NETLINK 2

struct plan_if {
	struct probe_dev dev;
	int id;		  /* interface id in the policy */
	int role;	  /* NASCAR_ROLE_* */
	int mode;	  /* NASCAR_MODE_* as written in the policy */
	int eff_mode;	  /* NASCAR_MODE_XDP/TC/HYBRID after auto */
	int xdp;	  /* XDP_*: what to try first */
	int xdp_fallback; /* 1: native may fall back to generic; 0: else no XDP */
	int tc;		  /* TC_* */
	int no_xdp_tx;	  /* native XDP redirects into this device fail */
	int csum_fix;	  /* frames here may carry partial L4 checksums */
	char reason[320];
	/* Why the mode the policy asks for cannot carry traffic here ("" when
	 * it can): nascar-apply refuses the policy unless told otherwise. */
	char refuse[480];
};

/* Fills eff_mode, xdp, xdp_fallback, tc, no_xdp_tx, csum_fix, reason and
 * refuse of every entry. */
void plan_decide(struct plan_if *ifs, size_t n, int has_tcx);
const char *plan_mode_name(int mode);
const char *plan_xdp_name(int xdp);
const char *plan_tc_name(int tc);

#endif /* NASCAR_PLAN_H */
