/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * detach.h - taking off what nascar-apply put on an interface: its hooks,
 * its egress scheduler, its VLAN priority map.  cmd_detach (rt.h) takes
 * off everything; an apply takes off what its policy no longer wants, and
 * on a failure before the switch what it had just added.
 *
 * Contract: each remove_*() / restore_*() works on one interface's state
 * entry, clears there what it removed and returns 0, or warns (one line)
 * and returns -1 leaving the entry as it was.  Something that is not there
 * any more is not an error.  The caller writes the state file.
 */
#ifndef NASCAR_DETACH_H
#define NASCAR_DETACH_H

#include <linux/types.h>
#include "rt.h"
#include "state.h"

/* What of ours is attached to an interface right now. */
struct live {
	int xdp; /* XDP_* */
	int tc;	 /* TC_* */
	__u32 xdp_prog, tc_prog;
};

/* ifindex <= 0: nothing. */
void live_hooks(const char *pin_dir, int ifindex, struct live *l);

int remove_xdp(const char *pin_dir, struct st_iface *s);
/* The tcx link, and our netlink filter (and the clsact qdisc if we made it). */
int remove_tc(const char *pin_dir, struct st_iface *s);
/* Our HTB; warns when the root qdisc it replaced is not re-created. */
int remove_sched(const struct rt_opts *o, struct st_iface *s);
/* Puts back the egress-qos-map a VLAN device had before Nascar set it. */
int restore_vlan(struct st_iface *s);

#endif /* NASCAR_DETACH_H */
