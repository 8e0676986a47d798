// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_plan.c - nascar-apply's decision per interface (runtime/plan.c):
 * what each mode attaches, what an explicit mode refuses, what auto
 * chooses, and the flags the data path gets.  No root, no devices: the
 * device facts are written here as probe_dev() would read them.
 */
#include <string.h>

#include "check.h"
#include "nascar_abi.h"
#include "../../runtime/plan.h"

/* a guest tap (offloads on or off) and a veth uplink whose ability to take
 * native redirects is known (1/0) or not (-1: before Linux 6.3) */
static void rig(struct plan_if *p, int guest_mode, int up_mode, int offloads, int ndo_xmit)
{
	memset(p, 0, 2 * sizeof(*p));
	strcpy(p[0].dev.name, "tap0");
	p[0].dev.kind = DEV_TAP;
	p[0].dev.tso = p[0].dev.txcsum = offloads;
	p[0].dev.mtu = 1500;
	p[0].role = NASCAR_ROLE_GUEST;
	p[0].mode = guest_mode;
	strcpy(p[1].dev.name, "eth0");
	p[1].dev.kind = DEV_VETH;
	p[1].dev.tso = p[1].dev.txcsum = 1;
	p[1].dev.mtu = 1500;
	p[1].dev.xdp_known = ndo_xmit >= 0;
	p[1].dev.ndo_xmit = ndo_xmit > 0;
	p[1].role = NASCAR_ROLE_UPLINK;
	p[1].mode = up_mode;
}

static void explicit_xdp(void)
{
	struct plan_if p[2];

	/* the guest's TSO on: refused, naming the cause and the modes to use */
	rig(p, NASCAR_MODE_XDP, NASCAR_MODE_TC, 1, 1);
	plan_decide(p, 2, 1);
	CHECK(strstr(p[0].refuse, "the tap has TSO on") && strstr(p[0].refuse, "hybrid or auto"),
	      "%s", p[0].refuse);
	CHECK(!p[1].refuse[0], "eth0 in tc: %s", p[1].refuse);

	/* TSO off, the uplink takes native redirects: native only on a tap */
	rig(p, NASCAR_MODE_XDP, NASCAR_MODE_TC, 0, 1);
	plan_decide(p, 2, 1);
	CHECK(!p[0].refuse[0], "%s", p[0].refuse);
	CHECK(p[0].xdp == XDP_NATIVE && !p[0].xdp_fallback && p[0].tc == TC_NONE,
	      "xdp %d fallback %d tc %d", p[0].xdp, p[0].xdp_fallback, p[0].tc);

	/* the uplink does not take native redirects now */
	rig(p, NASCAR_MODE_XDP, NASCAR_MODE_TC, 0, 0);
	plan_decide(p, 2, 1);
	CHECK(strstr(p[0].refuse, "cannot forward to eth0") &&
		      strstr(p[0].refuse, "does not take native XDP redirects now") &&
		      strstr(p[0].refuse, "GRO on"),
	      "%s", p[0].refuse);

	/* the kernel cannot tell (Linux 6.1) */
	rig(p, NASCAR_MODE_XDP, NASCAR_MODE_TC, 0, -1);
	plan_decide(p, 2, 0);
	CHECK(strstr(p[0].refuse, "may refuse native XDP redirects"), "%s", p[0].refuse);

	/* xdp on the veth uplink: its egress is the tap, which always takes them */
	rig(p, NASCAR_MODE_TC, NASCAR_MODE_XDP, 1, 0);
	plan_decide(p, 2, 1);
	CHECK(!p[1].refuse[0] && p[1].xdp == XDP_NATIVE && p[1].xdp_fallback,
	      "refuse '%s' xdp %d fallback %d", p[1].refuse, p[1].xdp, p[1].xdp_fallback);
	CHECK(strstr(p[1].reason, "turns off its peer's TSO"), "%s", p[1].reason);
}

static void hybrid(void)
{
	struct plan_if p[2];

	rig(p, NASCAR_MODE_HYBRID, NASCAR_MODE_HYBRID, 1, 0);
	plan_decide(p, 2, 1);
	CHECK(!p[0].refuse[0] && p[0].xdp == XDP_NATIVE && !p[0].xdp_fallback && p[0].tc == TC_TCX,
	      "tap: refuse '%s' xdp %d fallback %d tc %d", p[0].refuse, p[0].xdp, p[0].xdp_fallback,
	      p[0].tc);
	CHECK(strstr(p[0].reason, "XDP hands packets for eth0 to TC"), "%s", p[0].reason);
	/* Debian 12's 6.1: no tcx, the netlink clsact filter */
	plan_decide(p, 2, 0);
	CHECK(p[0].tc == TC_NETLINK && p[1].tc == TC_NETLINK, "tc %d %d", p[0].tc, p[1].tc);
}

static void flags(void)
{
	struct plan_if p[2];

	rig(p, NASCAR_MODE_TC, NASCAR_MODE_TC, 1, 0);
	plan_decide(p, 2, 1);
	CHECK(!p[0].no_xdp_tx && p[1].no_xdp_tx, "no_xdp_tx %d %d", p[0].no_xdp_tx, p[1].no_xdp_tx);
	CHECK(p[0].csum_fix && p[1].csum_fix, "csum_fix %d %d", p[0].csum_fix, p[1].csum_fix);
	rig(p, NASCAR_MODE_TC, NASCAR_MODE_TC, 1, 1);
	p[1].dev.kind = DEV_PHYS;
	plan_decide(p, 2, 1);
	CHECK(!p[1].no_xdp_tx && !p[1].csum_fix, "a NIC taking redirects: %d %d", p[1].no_xdp_tx,
	      p[1].csum_fix);
}

static void auto_mode(void)
{
	static const struct {
		int offloads, ndo_xmit, want_eff, want_xdp;
		const char *why;
	} c[] = {
		{1, 1, NASCAR_MODE_HYBRID, XDP_NATIVE, "completes their partial checksums"},
		{0, 1, NASCAR_MODE_HYBRID, XDP_NATIVE, "TSO and tx checksum off"},
		{1, 0, NASCAR_MODE_TC, XDP_NONE, "does not take native XDP redirects now"},
		{1, -1, NASCAR_MODE_TC, XDP_NONE, "cannot tell before Linux 6.3"},
	};
	struct plan_if p[2];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rig(p, NASCAR_MODE_AUTO, NASCAR_MODE_AUTO, c[i].offloads, c[i].ndo_xmit);
		plan_decide(p, 2, 1);
		CHECK(p[0].eff_mode == c[i].want_eff && p[0].xdp == c[i].want_xdp &&
			      !p[0].refuse[0],
		      "case %zu: eff %d xdp %d", i, p[0].eff_mode, p[0].xdp);
		CHECK(strstr(p[0].reason, c[i].why), "case %zu: %s", i, p[0].reason);
		/* a veth with TSO on: TC alone, keeping its peer's TSO */
		CHECK(p[1].eff_mode == NASCAR_MODE_TC && p[1].xdp == XDP_NONE, "eth0 case %zu", i);
	}
}

int main(void)
{
	TEST(explicit_xdp);
	TEST(hybrid);
	TEST(flags);
	TEST(auto_mode);
	return TEST_EXIT();
}
