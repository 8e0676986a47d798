// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * plan.c - what to attach on each interface: the explicit modes (and what
 * they refuse), auto's decision, and the flags the data path gets.  Pure:
 * same devices in, same plan and reasons out (tests/unit/test_plan.c).
 *
 * Why the auto rules are what they are (docs/architecture.md, "Kernel
 * facts the design rests on"):
 *  - native XDP on a guest tap sees frames whose L4 checksum is still
 *    partial (the guest offloads it) without the flag that says so; our
 *    XDP program completes them when NASCAR_IF_XDP_NATIVE is set, but
 *    generic XDP redirects CHECKSUM_PARTIAL skbs without the kernel's
 *    software fallback: on a tap, native XDP or none.  The tap's TSO and
 *    tx-checksum features mirror what the VMM negotiated (TUNSETOFFLOAD);
 *  - generic XDP sees a GSO super-packet as one big frame it cannot
 *    redirect: with TSO on only TC (bpf_redirect_neigh) takes it whole;
 *  - native XDP on a veth turns off its peer's TSO and caps the MTU, and a
 *    native redirect into a veth fails unless its peer runs XDP or has GRO
 *    on.  Linux 6.3+ says whether a device takes native redirects right
 *    now (netdev netlink, xdp-features ndo-xmit; a veth updates it with
 *    its peer's state); without that answer, no native XDP where a device
 *    other than a tap would receive the redirect;
 *  - generic XDP is no faster than TC here, so when native XDP is out the
 *    choice is TC alone, never a generic hybrid.
 */
#include <stdio.h>
#include <string.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "plan.h"

const char *probe_kind_name(int kind)
{
	switch (kind) {
	case DEV_TAP:
		return "tap";
	case DEV_TUN:
		return "tun";
	case DEV_VETH:
		return "veth";
	case DEV_PHYS:
		return "nic";
	case DEV_VLAN:
		return "vlan";
	default:
		return "virtual";
	}
}

const char *plan_mode_name(int mode)
{
	const char *s = nfc_word_name(&nfc_modes, mode);

	return s ? s : "auto";
}

const char *plan_xdp_name(int xdp)
{
	return xdp == XDP_NATIVE ? "native" : xdp == XDP_GENERIC ? "generic" : "none";
}

const char *plan_tc_name(int tc)
{
	return tc == TC_TCX ? "tcx" : tc == TC_NETLINK ? "netlink" : "none";
}

static int guest_offloads(const struct probe_dev *d)
{
	return d->tso == 1 || d->txcsum == 1;
}

/* Does a native XDP redirect into this device fail?  A tap always takes
 * them; anything else only when the kernel says so (Linux 6.3+). */
static int refuses_native_redirect(const struct probe_dev *d)
{
	if (d->kind == DEV_TAP)
		return 0;
	return d->xdp_known ? !d->ndo_xmit : 1;
}

/* Index of an interface that cannot take a native XDP redirect, or -1. */
static int native_egress_blocker(const struct plan_if *ifs, size_t n, size_t self)
{
	for (size_t j = 0; j < n; j++) {
		if (j == self)
			continue;
		if (refuses_native_redirect(&ifs[j].dev))
			return (int)j;
	}
	return -1;
}

/* "veth eth0 does not take native XDP redirects now; ..." */
static void blocker_text(char *buf, size_t len, const struct probe_dev *b)
{
	snprintf(
		buf, len, "%s %s %s%s", probe_kind_name(b->kind), b->name,
		b->xdp_known
			? "does not take native XDP redirects now"
			: "may refuse native XDP redirects (the kernel cannot tell before Linux 6.3)",
		b->kind == DEV_VETH ? "; a veth takes them when its peer has GRO on or runs XDP"
				    : "");
}

static void set(struct plan_if *p, int eff, int xdp, int fallback, int tc)
{
	p->eff_mode = eff;
	p->xdp = xdp;
	p->xdp_fallback = fallback;
	p->tc = tc;
}

static void decide_auto(struct plan_if *ifs, size_t n, size_t i, int tcx)
{
	struct plan_if *p = &ifs[i];
	const struct probe_dev *d = &p->dev;
	int blk = native_egress_blocker(ifs, n, i);
	char why_not[256] = "";

	if (blk >= 0)
		blocker_text(why_not, sizeof(why_not), &ifs[blk].dev);

	switch (d->kind) {
	case DEV_TAP:
		if (blk >= 0) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"tap with TSO %s, tx checksum %s, but %s; generic XDP %s, so TC (bpf_redirect_neigh) alone",
				d->tso == 1 ? "on" : "off", d->txcsum == 1 ? "on" : "off", why_not,
				guest_offloads(d)
					? "cannot redirect GSO super-packets nor complete partial checksums"
					: "is no faster than TC");
		} else if (guest_offloads(d)) {
			/* native or nothing: generic XDP would redirect partial
			 * checksums without the kernel's fallback */
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"tap with TSO %s, tx checksum %s: native XDP forwards small frames and completes their partial checksums, TC takes GSO super-packets whole; the guest keeps TSO",
				d->tso == 1 ? "on" : "off", d->txcsum == 1 ? "on" : "off");
		} else {
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"tap with TSO and tx checksum off: native XDP forwards, TC takes what XDP hands on (large frames, cold neighbours)");
		}
		break;
	case DEV_VETH:
		if (d->tso == 1 || d->txcsum == 1) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"veth with TSO %s, tx checksum %s: native XDP here would turn off its peer's TSO and generic XDP cannot redirect GSO super-packets; TC keeps TSO",
				d->tso == 1 ? "on" : "off", d->txcsum == 1 ? "on" : "off");
		} else if (blk >= 0) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason), "veth with TSO off, but %s",
				 why_not);
		} else if (d->mtu > 3500) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason),
				 "veth with MTU %d: native XDP would cap it near 3.5 KB", d->mtu);
		} else {
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 1, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"veth with TSO and tx checksum off: native XDP forwards, TC takes what XDP hands on");
		}
		break;
	case DEV_PHYS:
		if (blk >= 0) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason), "NIC (driver %s), but %s", d->driver,
				 why_not);
		} else {
			/* Generic XDP on a NIC runs after GRO: no gain, so native or nothing. */
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"NIC (driver %s): native XDP sees frames before GRO; TC takes GSO and cold neighbours (TC only if the driver has no native XDP)",
				d->driver);
		}
		break;
	default:
		set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
		snprintf(p->reason, sizeof(p->reason),
			 "%s device (driver %s): TC handles every packet shape",
			 probe_kind_name(d->kind), d->driver[0] ? d->driver : "unknown");
		break;
	}
}

/* Native XDP on a veth turns its peer's TSO off for as long as it is
 * attached (bench: 16 KB TCP at 0.37x): say so when the user asked for it. */
static const char *veth_tso_warning(const struct probe_dev *d)
{
	if (d->kind != DEV_VETH || d->tso != 1)
		return "";
	return "; warning: native XDP on a veth turns off its peer's TSO while attached, which costs bulk TCP far more than XDP gains; mode tc or auto keeps it";
}

/*
 * An explicit xdp mode is refused where it cannot carry the traffic (the
 * contract: a mode that cannot carry a flow says so, it never drops or
 * splits it silently):
 *  - a guest tap with TSO on sends TCP as GSO super-packets, which XDP
 *    cannot redirect: they take the kernel's path (NATed, when the host
 *    masquerades) while the rest of the connection does not, and the
 *    server resets it;
 *  - an egress that refuses native redirects would drop every frame XDP
 *    forwards there (the data path hands those to the stack instead, so
 *    the mode would forward nothing).
 * Hybrid and auto carry both cases: TC takes what XDP hands on.
 */
static void check_xdp_mode(struct plan_if *ifs, size_t n, size_t i)
{
	struct plan_if *p = &ifs[i];
	const struct probe_dev *d = &p->dev;
	int blk = native_egress_blocker(ifs, n, i);

	if (d->kind == DEV_TAP && d->tso == 1) {
		snprintf(
			p->refuse, sizeof(p->refuse),
			"%s: mode xdp cannot carry this guest's TCP: the tap has TSO on, so the guest sends GSO super-packets that XDP cannot redirect; they would take the kernel's path (and its NAT) while the rest of each connection does not; use mode hybrid or auto (TC takes the super-packets), or turn TSO off in the guest",
			d->name);
	} else if (blk >= 0) {
		char why[256];

		blocker_text(why, sizeof(why), &ifs[blk].dev);
		snprintf(
			p->refuse, sizeof(p->refuse),
			"%s: mode xdp cannot forward to %s: %s, and XDP alone would have to hand every such packet to the kernel's path; use mode hybrid or auto (TC takes them)",
			d->name, ifs[blk].dev.name, why);
	}
}

/* Hybrid: say which egresses XDP hands to TC, and why. */
static void note_handons(struct plan_if *ifs, size_t n, size_t i)
{
	struct plan_if *p = &ifs[i];
	int blk = native_egress_blocker(ifs, n, i);
	size_t l = strlen(p->reason);
	char why[256];

	if (blk < 0)
		return;
	blocker_text(why, sizeof(why), &ifs[blk].dev);
	snprintf(p->reason + l, sizeof(p->reason) - l, "; XDP hands packets for %s to TC: %s",
		 ifs[blk].dev.name, why);
}

void plan_decide(struct plan_if *ifs, size_t n, int has_tcx)
{
	int tcx = has_tcx ? TC_TCX : TC_NETLINK;

	for (size_t i = 0; i < n; i++) {
		struct plan_if *p = &ifs[i];
		const struct probe_dev *d = &p->dev;

		p->refuse[0] = '\0';
		switch (p->mode) {
		case NASCAR_MODE_XDP:
			/* generic XDP on a tap would redirect partial checksums
			 * without the kernel's fallback: native or nothing there */
			set(p, NASCAR_MODE_XDP, XDP_NATIVE, d->kind != DEV_TAP, TC_NONE);
			snprintf(p->reason, sizeof(p->reason), "the policy says xdp%s",
				 veth_tso_warning(d));
			check_xdp_mode(ifs, n, i);
			break;
		case NASCAR_MODE_TC:
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason), "the policy says tc");
			break;
		case NASCAR_MODE_HYBRID:
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, d->kind != DEV_TAP, tcx);
			snprintf(p->reason, sizeof(p->reason), "the policy says hybrid%s",
				 veth_tso_warning(d));
			note_handons(ifs, n, i);
			break;
		default:
			decide_auto(ifs, n, i, tcx);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_dev *d = &ifs[i].dev;

		ifs[i].no_xdp_tx = refuses_native_redirect(d);
		/* a guest's tap, or a veth whose peer may offload checksums */
		ifs[i].csum_fix = d->kind == DEV_TAP || d->kind == DEV_VETH;
	}
}
