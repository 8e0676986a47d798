// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * probe.c - device facts through the ethtool ioctls and the kernel's netdev
 * netlink family, and kernel features.  What nascar-apply does with them is
 * plan.c's (a pure function, unit-tested without root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
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
	else if (strcmp(d->driver, "802.1Q VLAN Support") == 0)
		d->kind = DEV_VLAN;
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

/* CONFIG_HZ=N in a kernel config, plain or gzip (gzread reads both). */
static unsigned int config_hz(const char *path)
{
	char line[256];
	unsigned int hz = 0;
	gzFile f = gzopen(path, "rb");

	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line))) {
		if (!strncmp(line, "CONFIG_HZ=", 10)) {
			hz = (unsigned int)strtoul(line + 10, NULL, 10);
			break;
		}
	}
	gzclose(f);
	return hz;
}

unsigned int probe_kernel_hz(void)
{
	static int done;
	static unsigned int hz;
	struct utsname u;
	char path[sizeof(u.release) + 16];

	if (done)
		return hz;
	done = 1;
	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = config_hz(path);
	}
	if (!hz)
		hz = config_hz("/proc/config.gz");
	/* the kernel offers 100, 250, 300 and 1000 */
	if (hz < 24 || hz > 10000)
		hz = 0;
	return hz;
}
