/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sched.h - Nascar's egress scheduler: an HTB that nascar-apply installs
 * as an interface's root qdisc when the policy needs one (nflow version 2:
 * a shaped class, or an uplink `rate`).
 *
 *   NASCAR_SCHED_MAJOR:  htb, default class 2
 *   :1                   line rate (or SCHED_NO_LINE_RATE when there is none)
 *   :2                   traffic Nascar did not classify (the host's own,
 *                        the kernel path's, ARP/ND): priority 0, with a
 *                        guaranteed share so it never starves
 *   :100 + class id      one per Nascar class, HTB prio 7 - priority (7 is
 *                        served first); a shaped class has rate = ceil = its
 *                        rate, the others a small guarantee and ceil = :1
 * The TC path puts NASCAR_SCHED_CLASSID(class) in skb->priority, which
 * selects the class without a filter.  Every queue holds at most
 * SCHED_BOUND_MS at its class's rate (never less than two 64 KB
 * super-packets): a packet that would wait longer is dropped and counted
 * in the class's drops.  With a line rate on a real link (a NIC) each leaf
 * is a tbf that splits GSO super-packets on enqueue, so a control packet
 * never waits behind a 64 KB frame on the wire (5 ms at 100 Mbit/s);
 * elsewhere a virtual device (veth, tap) has no wire to serialise on, and
 * splitting there only costs CPU in the sender's thread (measured on the
 * rig: control p50 under bulk 292 us split, 123 us not), so leaves are
 * fq_codel where the kernel has it (flows of one class share it fairly,
 * CoDel keeps the standing queue short; probed, since this project's
 * build machine has no fq_codel and Debian's kernel has it as a module)
 * and FIFOs where it has not.
 *
 * The qdiscs are installed with iproute2's `tc -batch` (one process, the
 * same syntax an operator reads in `tc qdisc show`, and the rate tables
 * and link-layer details computed exactly as tc computes them); the
 * decision and the script are pure functions, unit-tested without root.
 */
#ifndef NASCAR_SCHED_H
#define NASCAR_SCHED_H

#include <stddef.h>
#include <linux/types.h>
#include "nfc.h"

#define SCHED_BOUND_MS 100
#define SCHED_NO_LINE_RATE (40ULL * 1000 * 1000 * 1000 / 8) /* 40 Gbit/s, bytes/s */

struct sched_plan {
	int want;	 /* 1: Nascar's scheduler on this interface */
	int egress;	 /* NASCAR_EGRESS_* */
	__u64 line_rate; /* bytes per second, 0 when the policy gives none */
	int nshaped;	 /* classes with a rate and no police */
	int split;	 /* split GSO super-packets (a real link with a line rate) */
	int fq;		 /* fq_codel leaves (not split, and the kernel has it) */
	char why[256];	 /* one clause for apply's output */
};

/* Interface i of img: does it get the scheduler?  real_link: the device is
 * a NIC (its frames are serialised on a wire). */
void sched_decide(const struct nfc_image *img, size_t i, int real_link, struct sched_plan *sp);
/* 1 when this kernel can make fq_codel qdiscs (probed once, see sched.c);
 * _force pins the answer (unit tests). */
int sched_fair_queueing(void);
void sched_fair_queueing_force(int on);

/* The `tc -batch` script that installs it on dev, or updates it when ours
 * is already there (update: HTB cannot change a root in place, so only
 * its classes and leaves are replaced).  Returns the length, or -ENOSPC. */
int sched_script(const struct nfc_image *img, const struct sched_plan *sp, const char *dev, int mtu,
		 int update, char *buf, size_t len);

/* The root qdisc of dev as `tc qdisc show` prints it. */
struct sched_root {
	char kind[32];
	char handle[16]; /* "0:", "8001:", "4e43:" */
	int ours;	 /* our HTB */
	int is_default;	 /* a kernel default: handle 0: here and on every child */
	char text[2048]; /* tc's lines, for the state directory */
};
int sched_root(const char *dev, struct sched_root *r, char *err, size_t errlen);

int sched_install(const char *dev, const char *script, char *err, size_t errlen);
/* Our HTB off dev (the kernel puts its default back); not ours: nothing. */
int sched_remove(const char *dev, char *err, size_t errlen);

struct sched_class {
	__u32 minor;
	__u64 bytes, pkts, drops, overlimits, backlog_bytes, backlog_pkts;
};
/* Classes of our HTB on dev, with their counters.  Returns the number
 * found (at most max), or -errno. */
int sched_classes(const char *dev, struct sched_class *out, size_t max);
/* Classes of a previous policy that the new one does not have. */
int sched_prune(const char *dev, const struct nfc_image *img, char *err, size_t errlen);

/*
 * 802.1Q priority on a VLAN device: the kernel writes the PCP of a frame
 * it tags from the device's egress-qos-map, keyed by the whole
 * skb->priority.  sched_vlan_map() maps 0..7 to themselves and, when the
 * device has Nascar's scheduler, each class's HTB class id to the class's
 * priority, so a forwarded packet leaves with its class priority as PCP.
 * prev (at least 512 bytes) receives the map as it was ("1:2 3:4", "" for
 * none) for sched_vlan_restore().
 */
int sched_vlan_map(const char *dev, const struct nfc_image *img, int with_sched, char *prev,
		   size_t prevlen, char *err, size_t errlen);
int sched_vlan_restore(const char *dev, const char *prev, char *err, size_t errlen);

/* Runs tc with args (NULL-terminated after "tc"), input on its stdin if
 * not NULL, output (stdout and stderr) into out.  Returns tc's exit
 * status, or -errno when it could not run. */
int sched_run_tc(const char *const *args, const char *input, char *out, size_t outlen);

#endif /* NASCAR_SCHED_H */
