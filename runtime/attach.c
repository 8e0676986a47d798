// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "plan.h"
#include "state.h"
#include "nfc.h"

#define BPF_TCX_INGRESS_VAL 46 /* enum bpf_attach_type, Linux 6.6 */

static int clsact_present(int ifindex);

__u32 prog_id_of(int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return 0;
	return info.id;
}

void prog_name_of(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd;

	buf[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) == 0)
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

static int pin_link(int link_fd, const char *link_path, char *err, size_t errlen)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", link_path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) < 0)
			return nfc_fail(err, errlen, -errno, "cannot create %s: %s", dir,
					strerror(errno));
	}
	unlink(link_path); /* a stale pin of a dead link */
	if (bpf_obj_pin(link_fd, link_path) < 0)
		return nfc_fail(err, errlen, -errno, "cannot pin %s: %s", link_path,
				strerror(errno));
	return 0;
}

int xdp_query(int ifindex, __u32 *prog_id, int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	*prog_id = 0;
	*mode = 0;
	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return -errno;
	*mode = q.attach_mode;
	*prog_id = q.prog_id;
	return 0;
}

int attach_xdp(int prog_fd, int ifindex, const char *ifname, int want, int fallback,
	       const char *link_path, int *got, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int fd, ret, native_err = 0;
	__u32 other;
	int mode;

	*got = XDP_NONE;
	if (xdp_query(ifindex, &other, &mode) == 0 && other) {
		char name[32];

		prog_name_of(other, name, sizeof(name));
		return nfc_fail(
			err, errlen, -EBUSY,
			"%s already has an XDP program (id %u, '%s') that nascar did not attach; remove it (ip link set dev %s xdp off) or use mode tc",
			ifname, other, name, ifname);
	}
	if (want == XDP_NATIVE) {
		lo.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd >= 0) {
			*got = XDP_NATIVE;
			goto pin;
		}
		native_err = errno;
		if (!fallback)
			return nfc_fail(err, errlen, -native_err, "native XDP on %s failed: %s",
					ifname, strerror(native_err));
	}
	lo.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		ret = -errno;
		return nfc_fail(err, errlen, ret, "cannot attach XDP to %s: %s", ifname,
				strerror(-ret));
	}
	*got = XDP_GENERIC;
pin:
	ret = pin_link(fd, link_path, err, errlen);
	close(fd); /* the pin holds it now; on failure closing detaches it */
	if (ret < 0)
		*got = XDP_NONE;
	(void)native_err;
	return ret;
}

int attach_tcx(int prog_fd, int ifindex, const char *ifname, const char *link_path, char *err,
	       size_t errlen)
{
	int fd, ret;

	fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)BPF_TCX_INGRESS_VAL, NULL);
	if (fd < 0) {
		ret = -errno;
		return nfc_fail(err, errlen, ret, "cannot attach tcx ingress to %s: %s", ifname,
				strerror(-ret));
	}
	ret = pin_link(fd, link_path, err, errlen);
	close(fd);
	return ret;
}

int attach_tc_netlink(int prog_fd, int ifindex, const char *ifname, int *clsact_created, char *err,
		      size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = NASCAR_TC_HANDLE,
		    .priority = NASCAR_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int ret;

	/* an existing clsact is ours to share, not to create (and asking
	 * libbpf to create it makes the kernel complain in libbpf's output) */
	ret = clsact_present(ifindex) == 1 ? -EEXIST : bpf_tc_hook_create(&hook);
	if (ret == 0)
		*clsact_created = 1;
	else if (ret != -EEXIST)
		return nfc_fail(err, errlen, ret, "cannot create the clsact qdisc on %s: %s",
				ifname, strerror(-ret));
	ret = bpf_tc_attach(&hook, &opts);
	if (ret < 0)
		return nfc_fail(err, errlen, ret, "cannot attach the TC filter on %s ingress: %s",
				ifname, strerror(-ret));
	return 0;
}

int link_alive(const char *link_path, int ifindex, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, alive = 0;

	*prog_id = 0;
	fd = bpf_obj_get(link_path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	/* xdp and tcx link info both start their union with the ifindex */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.xdp.ifindex == (__u32)ifindex) {
		alive = 1;
		*prog_id = info.prog_id;
	}
	close(fd);
	return alive;
}

/*
 * Does the device have a clsact qdisc?  1, 0, or -errno.  Asked with our
 * own netlink dump: libbpf's bpf_tc_query() on a device without one makes
 * the kernel answer "Parent Qdisc doesn't exists", which libbpf prints,
 * and nothing is wrong in that case.
 */
static int clsact_present(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	char buf[16384];
	int fd, ret = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.nh.nlmsg_type = RTM_GETQDISC;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			ret = -errno;
			goto out;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			struct tcmsg *t;
			struct rtattr *a;
			int alen;

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				ret = e->error;
				goto out;
			}
			if (nh->nlmsg_type != RTM_NEWQDISC)
				continue;
			t = NLMSG_DATA(nh);
			/* the dump may list every device: keep ours */
			if (t->tcm_ifindex != ifindex || t->tcm_parent != TC_H_CLSACT)
				continue;
			alen = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*t));
			for (a = (struct rtattr *)((char *)t + NLMSG_ALIGN(sizeof(*t)));
			     RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == TCA_KIND &&
				    strncmp(RTA_DATA(a), "clsact", RTA_PAYLOAD(a)) == 0)
					ret = 1;
		}
	}
out:
	close(fd);
	return ret;
}

int tc_netlink_alive(int ifindex, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NASCAR_TC_HANDLE, .priority = NASCAR_TC_PRIO);
	char name[32];

	*prog_id = 0;
	/* no clsact, no filter of ours (and no kernel complaint printed) */
	if (clsact_present(ifindex) == 0)
		return 0;
	if (bpf_tc_query(&hook, &opts) < 0)
		return 0;
	prog_name_of(opts.prog_id, name, sizeof(name));
	if (strncmp(name, "nascar_tc", 9) != 0)
		return 0;
	*prog_id = opts.prog_id;
	return 1;
}

int detach_link(const char *link_path, char *err, size_t errlen)
{
	int fd = bpf_obj_get(link_path);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return nfc_fail(err, errlen, -errno, "cannot open %s: %s", link_path,
				strerror(errno));
	}
	/* Detach even if something else holds an fd, then drop the pin. */
	if (bpf_link_detach(fd) < 0 && errno != EINVAL && errno != ENOLINK) {
		int ret = -errno;

		close(fd);
		return nfc_fail(err, errlen, ret, "cannot detach %s: %s", link_path,
				strerror(-ret));
	}
	close(fd);
	if (unlink(link_path) < 0 && errno != ENOENT)
		return nfc_fail(err, errlen, -errno, "cannot remove %s: %s", link_path,
				strerror(errno));
	return 0;
}

/* Number of filters on a clsact parent (ingress or egress), or -errno. */
static int count_filters(int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	char buf[16384];
	int fd, n = 0, ret = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = parent;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			ret = -errno;
			goto out;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				ret = e->error;
				goto out;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER) {
				struct tcmsg *t = NLMSG_DATA(nh);

				/* the dump lists one chain entry per priority too;
				 * count only real filters (with a handle) */
				if (t->tcm_handle)
					n++;
			}
		}
	}
	ret = n;
out:
	close(fd);
	return ret;
}

int detach_tc_netlink(int ifindex, int clsact_created, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NASCAR_TC_HANDLE, .priority = NASCAR_TC_PRIO);
	__u32 id;
	int ret;

	if (tc_netlink_alive(ifindex, &id)) {
		ret = bpf_tc_detach(&hook, &opts);
		if (ret < 0 && ret != -ENOENT)
			return nfc_fail(err, errlen, ret,
					"cannot remove the TC filter (ifindex %d): %s", ifindex,
					strerror(-ret));
	}
	if (clsact_created) {
		int in = count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
		int eg = count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));

		if (in == 0 && eg == 0) {
			LIBBPF_OPTS(bpf_tc_hook, all, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

			ret = bpf_tc_hook_destroy(&all);
			if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
				return nfc_fail(err, errlen, ret,
						"cannot remove the clsact qdisc (ifindex %d): %s",
						ifindex, strerror(-ret));
		}
	}
	return 0;
}
