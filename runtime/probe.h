/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * probe.h - what nascar-apply learns about a device and the kernel, and
 * the auto-mode decision built on it.
 *
 * Contract: probe_dev() only reads (ethtool ioctls, SIOCGIFMTU); it works
 * from any mount namespace because it never looks at /sys.  plan_decide()
 * is pure: same devices and modes in, same plan and reasons out, so
 * --dry-run prints exactly what an apply does.
 */
#ifndef NASCAR_PROBE_H
#define NASCAR_PROBE_H

#include <net/if.h>
#include <stddef.h>
#include <linux/types.h>

enum dev_kind {
	DEV_OTHER = 0, /* virtual device of another kind (bridge, dummy, ...) */
	DEV_TAP,       /* tun driver, TAP mode: a guest's NIC */
	DEV_TUN,       /* tun driver, TUN mode (no Ethernet header) */
	DEV_VETH,
	DEV_PHYS, /* has a bus address: a real NIC */
};

struct probe_dev {
	char name[IF_NAMESIZE];
	int ifindex;
	int kind; /* enum dev_kind */
	char driver[32];
	char bus[32];
	int mtu;
	/* offloads: 1 on, 0 off, -1 unknown */
	int tso;
	int gso;
	int gro;
	int txcsum;
	/* XDP features from the kernel's netdev netlink family (Linux 6.3+):
	 * 1 when known; ndo_xmit: the device takes native XDP redirects now
	 * (for a veth: its peer runs XDP or has GRO on). */
	int xdp_known;
	int ndo_xmit;
};

int probe_dev(const char *name, struct probe_dev *d);
/* NETDEV_A_DEV_XDP_FEATURES of ifindex; -EOPNOTSUPP before Linux 6.3. */
int probe_xdp_features(int ifindex, __u64 *features);
const char *probe_kind_name(int kind);

/* Kernel features, probed once without side effects. */
int probe_has_tcx(void); /* 1: tcx links (6.6+), 0: netlink clsact only */

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

#endif /* NASCAR_PROBE_H */
