// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * probe.c - device facts through the ethtool ioctls, kernel features, and
 * the auto-mode decision.
 *
 * Why the auto rules are what they are (shared/docs/design.md, "What is
 * already known on this kernel"):
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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <bpf/bpf.h>
#include "nascar_abi.h"
#include "probe.h"

#ifndef BPF_TCX_INGRESS_VAL
#define BPF_TCX_INGRESS_VAL 46 /* enum bpf_attach_type, Linux 6.6 */
#endif

/* netdev generic netlink family (include/uapi/linux/netdev.h, Linux 6.3);
 * Debian 12's headers predate it. */
#define NASCAR_NETDEV_CMD_DEV_GET 1
#define NASCAR_NETDEV_A_DEV_IFINDEX 1
#define NASCAR_NETDEV_A_DEV_XDP_FEATURES 3
#define NASCAR_NETDEV_XDP_ACT_NDO_XMIT 4

static int ethtool_ioctl(int fd, const char *name, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static int ethtool_value(int fd, const char *name, __u32 cmd)
{
	struct ethtool_value ev = {.cmd = cmd};

	if (ethtool_ioctl(fd, name, &ev) < 0)
		return -1;
	return ev.data ? 1 : 0;
}

int probe_dev(const char *name, struct probe_dev *d)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;
	int fd, ret = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ifindex = (int)if_nametoindex(name);
	if (!d->ifindex)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ethtool_ioctl(fd, name, &di) == 0) {
		snprintf(d->driver, sizeof(d->driver), "%s", di.driver);
		snprintf(d->bus, sizeof(d->bus), "%s", di.bus_info);
	}
	if (strcmp(d->driver, "tun") == 0)
		d->kind = strcmp(d->bus, "tun") == 0 ? DEV_TUN : DEV_TAP;
	else if (strcmp(d->driver, "veth") == 0)
		d->kind = DEV_VETH;
	else if (d->bus[0] && strcmp(d->bus, "N/A") != 0)
		d->kind = DEV_PHYS;
	else
		d->kind = DEV_OTHER;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	d->mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 0;
	d->tso = ethtool_value(fd, name, ETHTOOL_GTSO);
	d->gso = ethtool_value(fd, name, ETHTOOL_GGSO);
	d->gro = ethtool_value(fd, name, ETHTOOL_GGRO);
	d->txcsum = ethtool_value(fd, name, ETHTOOL_GTXCSUM);
	close(fd);
	{
		__u64 f;

		if (probe_xdp_features(d->ifindex, &f) == 0) {
			d->xdp_known = 1;
			d->ndo_xmit = !!(f & NASCAR_NETDEV_XDP_ACT_NDO_XMIT);
		}
	}
	return ret;
}

struct nl_req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[64];
};

static void nl_put(struct nl_req *r, __u16 type, const void *data, __u16 len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (__u16)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* One request, one reply; calls cb on each attribute of the reply. */
static int genl_call(int fd, struct nl_req *r, int (*cb)(const struct nlattr *, void *), void *arg)
{
	char buf[8192];
	struct nlmsghdr *nh;
	ssize_t n;

	if (send(fd, r, r->nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (__u32)n); nh = NLMSG_NEXT(nh, n)) {
		struct nlattr *a;
		int left;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : 0;
		}
		a = (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
		left = (int)nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
		while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
			int ret = cb(a, arg);

			if (ret)
				return ret > 0 ? 0 : ret;
			left -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		}
	}
	return -ENOENT;
}

static int family_id_cb(const struct nlattr *a, void *arg)
{
	if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_FAMILY_ID)
		return 0;
	memcpy(arg, (const char *)a + NLA_HDRLEN, sizeof(__u16));
	return 1;
}

static int xdp_features_cb(const struct nlattr *a, void *arg)
{
	if ((a->nla_type & NLA_TYPE_MASK) != NASCAR_NETDEV_A_DEV_XDP_FEATURES ||
	    a->nla_len < NLA_HDRLEN + sizeof(__u64))
		return 0;
	memcpy(arg, (const char *)a + NLA_HDRLEN, sizeof(__u64));
	return 1;
}

int probe_xdp_features(int ifindex, __u64 *features)
{
	struct nl_req r;
	__u16 family = 0;
	__u32 idx = (__u32)ifindex;
	int fd, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.nh.nlmsg_type = GENL_ID_CTRL;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	r.gh.cmd = CTRL_CMD_GETFAMILY;
	r.gh.version = 1;
	nl_put(&r, CTRL_ATTR_FAMILY_NAME, "netdev", sizeof("netdev"));
	ret = genl_call(fd, &r, family_id_cb, &family);
	if (ret == -ENOENT || (!ret && !family)) {
		ret = -EOPNOTSUPP; /* before Linux 6.3 */
		goto out;
	}
	if (ret)
		goto out;
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r.nh.nlmsg_type = family;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	r.gh.cmd = NASCAR_NETDEV_CMD_DEV_GET;
	r.gh.version = 1;
	nl_put(&r, NASCAR_NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx));
	*features = 0;
	ret = genl_call(fd, &r, xdp_features_cb, features);
out:
	close(fd);
	return ret;
}

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
	default:
		return "virtual";
	}
}

int probe_has_tcx(void)
{
	static int cached = -1;
	__u32 cnt = 0;
	const char *env = getenv("NASCAR_NO_TCX");

	if (cached >= 0)
		return cached;
	if (env && *env && strcmp(env, "0") != 0) {
		cached = 0;
		return cached;
	}
	/* Kernels without tcx refuse to query the attach type (EINVAL). */
	cached = bpf_prog_query(1 /* lo */, (enum bpf_attach_type)BPF_TCX_INGRESS_VAL, 0, NULL,
				NULL, &cnt) == 0;
	return cached;
}

const char *plan_mode_name(int mode)
{
	switch (mode) {
	case NASCAR_MODE_XDP:
		return "xdp";
	case NASCAR_MODE_TC:
		return "tc";
	case NASCAR_MODE_HYBRID:
		return "hybrid";
	default:
		return "auto";
	}
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
	snprintf(buf, len, "%s %s %s%s", probe_kind_name(b->kind), b->name,
		 b->xdp_known ? "does not take native XDP redirects now"
			      : "may refuse native XDP redirects (the kernel cannot tell before "
				"Linux 6.3)",
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
			snprintf(p->reason, sizeof(p->reason),
				 "tap with TSO %s, tx checksum %s, but %s; generic XDP %s, so TC "
				 "(bpf_redirect_neigh) alone",
				 d->tso == 1 ? "on" : "off", d->txcsum == 1 ? "on" : "off", why_not,
				 guest_offloads(d) ? "cannot redirect GSO super-packets nor "
						     "complete partial checksums"
						   : "is no faster than TC");
		} else if (guest_offloads(d)) {
			/* native or nothing: generic XDP would redirect partial
			 * checksums without the kernel's fallback */
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 0, tcx);
			snprintf(
				p->reason, sizeof(p->reason),
				"tap with TSO %s, tx checksum %s: native XDP forwards small frames "
				"and completes their partial checksums, TC takes GSO super-packets "
				"whole; the guest keeps TSO",
				d->tso == 1 ? "on" : "off", d->txcsum == 1 ? "on" : "off");
		} else {
			set(p, NASCAR_MODE_HYBRID, XDP_NATIVE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason),
				 "tap with TSO and tx checksum off: native XDP forwards, TC takes "
				 "what XDP hands on (large frames, cold neighbours)");
		}
		break;
	case DEV_VETH:
		if (d->tso == 1 || d->txcsum == 1) {
			set(p, NASCAR_MODE_TC, XDP_NONE, 0, tcx);
			snprintf(p->reason, sizeof(p->reason),
				 "veth with TSO %s, tx checksum %s: native XDP here would turn off "
				 "its peer's TSO and generic XDP cannot redirect GSO "
				 "super-packets; TC keeps TSO",
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
			snprintf(p->reason, sizeof(p->reason),
				 "veth with TSO and tx checksum off: native XDP forwards, TC takes "
				 "what XDP hands on");
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
			snprintf(p->reason, sizeof(p->reason),
				 "NIC (driver %s): native XDP sees frames before GRO; TC takes GSO "
				 "and cold neighbours (TC only if the driver has no native XDP)",
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
	return "; warning: native XDP on a veth turns off its peer's TSO while attached, "
	       "which costs bulk TCP far more than XDP gains; mode tc or auto keeps it";
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
		snprintf(p->refuse, sizeof(p->refuse),
			 "%s: mode xdp cannot carry this guest's TCP: the tap has TSO on, so the "
			 "guest sends GSO super-packets that XDP cannot redirect; they would take "
			 "the kernel's path (and its NAT) while the rest of each connection does "
			 "not; use mode hybrid or auto (TC takes the super-packets), or turn TSO "
			 "off in the guest",
			 d->name);
	} else if (blk >= 0) {
		char why[256];

		blocker_text(why, sizeof(why), &ifs[blk].dev);
		snprintf(p->refuse, sizeof(p->refuse),
			 "%s: mode xdp cannot forward to %s: %s, and XDP alone would have to "
			 "hand every such packet to the kernel's path; use mode hybrid or auto "
			 "(TC takes them)",
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
