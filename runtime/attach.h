/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * attach.h - putting nascar's programs on an interface and taking them off.
 *
 * Contract: XDP and tcx hooks are BPF links pinned at
 * <pin dir>/links/{xdp,tc}_<ifindex>; the pin is what keeps them alive, so
 * a link whose pin was never written dies with the process.  On kernels
 * without tcx the TC program is a netlink clsact ingress filter with
 * handle/priority NASCAR_TC_HANDLE/NASCAR_TC_PRIO; detach removes only a
 * filter whose program is called nascar_tc, and the clsact qdisc only if
 * nascar created it and no other filter is left on it.
 * Every function returns 0 or -errno and leaves one line in err.
 */
#ifndef NASCAR_ATTACH_H
#define NASCAR_ATTACH_H

#include <stddef.h>
#include <linux/types.h>

/* want: XDP_NATIVE or XDP_GENERIC; fallback: native may become generic.
 * *got: what was attached. */
int attach_xdp(int prog_fd, int ifindex, const char *ifname, int want, int fallback,
	       const char *link_path, int *got, char *err, size_t errlen);
int attach_tcx(int prog_fd, int ifindex, const char *ifname, const char *link_path, char *err,
	       size_t errlen);
int attach_tc_netlink(int prog_fd, int ifindex, const char *ifname, int *clsact_created, char *err,
		      size_t errlen);

/* Remove what the pin holds; a missing pin is not an error. */
int detach_link(const char *link_path, char *err, size_t errlen);
int detach_tc_netlink(int ifindex, int clsact_created, char *err, size_t errlen);

/* Is our hook still in place?  Returns 1 and the program id, or 0. */
int link_alive(const char *link_path, int ifindex, __u32 *prog_id);
int tc_netlink_alive(int ifindex, __u32 *prog_id);

/* XDP program attached to the device by anyone, and in which mode (0 none). */
int xdp_query(int ifindex, __u32 *prog_id, int *mode);

__u32 prog_id_of(int prog_fd);
/* Name of the program with this id ("" if gone). */
void prog_name_of(__u32 id, char *buf, size_t len);

#endif /* NASCAR_ATTACH_H */
