/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * probe.h - what nascar-apply learns about a device and the kernel (the
 * decision built on it is plan.h's).
 *
 * Contract: probe_dev() only reads (ethtool ioctls, SIOCGIFMTU, netdev
 * netlink); it works from any mount namespace because it never looks at
 * /sys.
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
	DEV_VLAN, /* an 802.1Q VLAN device */
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

/* Kernel features, probed once without side effects. */
int probe_has_tcx(void); /* 1: tcx links (6.6+), 0: netlink clsact only */
/* The running kernel's CONFIG_HZ from its config (/boot/config-RELEASE or
 * /proc/config.gz), or 0 when neither says. */
unsigned int probe_kernel_hz(void);

#endif /* NASCAR_PROBE_H */
