/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * apply_plan.h - the plan of an apply: the policy's interfaces found on
 * this machine, what plan_decide() (plan.h) makes of them, and how the
 * plan is printed.  plan.c stays pure (unit-tested without root); this is
 * the part that probes devices and talks to the user.
 */
#ifndef NASCAR_APPLY_PLAN_H
#define NASCAR_APPLY_PLAN_H

#include <stddef.h>
#include "nfc.h"
#include "plan.h"
#include "rt.h"

/* Probes every interface of img into plan[i] and decides what to attach.
 * Returns -1 (error printed) when an interface does not exist, or when a
 * mode cannot carry traffic here and --unsafe-mode was not given; nothing
 * on the machine has changed then. */
int plan_build(const struct rt_opts *o, const struct nfc_image *img, struct plan_if *plan);

/* "hybrid (xdp native + tc tcx)" */
void plan_line(char *buf, size_t len, int eff, int xdp, int tc);
/* One info line per interface: prefix, name, plan_line(), reason. */
void plan_print(const struct plan_if *plan, size_t n, const char *prefix);
/* Does the plan have an interface of that name? */
int plan_declares(const struct plan_if *plan, size_t n, const char *name);

#endif /* NASCAR_APPLY_PLAN_H */
