// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * apply_plan.c - the plan of an apply (apply_plan.h): probe, decide,
 * refuse or warn, print.
 */
#include <stdio.h>
#include <string.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "apply_plan.h"
#include "log.h"
#include "plan.h"
#include "probe.h"
#include "rt.h"

void plan_line(char *buf, size_t len, int eff, int xdp, int tc)
{
	char x[32] = "", t[32] = "";

	if (xdp)
		snprintf(x, sizeof(x), "xdp %s", plan_xdp_name(xdp));
	if (tc)
		snprintf(t, sizeof(t), "tc %s", plan_tc_name(tc));
	snprintf(buf, len, "%s (%s%s%s)", plan_mode_name(eff), x, xdp && tc ? " + " : "", t);
}

int plan_build(const struct rt_opts *o, const struct nfc_image *img, struct plan_if *plan)
{
	int refused = 0;

	for (size_t i = 0; i < img->nifaces; i++) {
		const struct nfc_iface *fi = &img->ifaces[i];
		char name[NASCAR_IFNAMSIZ + 1];

		memcpy(name, fi->name, NASCAR_IFNAMSIZ);
		name[NASCAR_IFNAMSIZ] = '\0';
		if (probe_dev(name, &plan[i].dev) < 0) {
			pr_err("interface '%s' declared in the policy does not exist here; create it, or run nascar-apply in its network namespace (nsenter --net=/run/netns/NAME), or remove it from the policy",
			       name);
			return -1;
		}
		plan[i].id = fi->val.id;
		plan[i].role = fi->val.role;
		plan[i].mode = fi->val.mode;
	}
	plan_decide(plan, img->nifaces, probe_has_tcx());
	for (size_t i = 0; i < img->nifaces; i++) {
		if (!plan[i].refuse[0])
			continue;
		if (o->unsafe_mode) {
			pr_warn("%s (applied anyway: --unsafe-mode)", plan[i].refuse);
			continue;
		}
		pr_err("%s; nothing was changed (--unsafe-mode applies it anyway)", plan[i].refuse);
		refused = 1;
	}
	return refused ? -1 : 0;
}

int plan_declares(const struct plan_if *plan, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(plan[i].dev.name, name) == 0)
			return 1;
	return 0;
}

void plan_print(const struct plan_if *plan, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char line[96];

		plan_line(line, sizeof(line), plan[i].eff_mode, plan[i].xdp, plan[i].tc);
		pr_info("%s%s: %s: %s", prefix, plan[i].dev.name, line, plan[i].reason);
	}
}
