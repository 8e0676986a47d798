// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * qtree.c - a device's egress qdisc tree kept as the kernel's own netlink
 * descriptions and made again from them (egress replace, then detach).
 *
 * Saving dumps the device's qdiscs and classes (RTM_GETQDISC,
 * RTM_GETTCLASS) and keeps, of each, the tcmsg and its TCA_KIND and
 * TCA_OPTIONS attributes byte for byte, in an order where every object
 * comes after its parent.  Restoring sends them back as RTM_NEWQDISC /
 * RTM_NEWTCLASS.  A qdisc's dump of its options is what its change
 * handler takes, so rates, bursts (kept in ticks) and every other setting
 * come back exactly, which a round trip through tc's printed text cannot
 * promise (it rounds rates and times).  Not kept:
 *   - qdiscs with handle 0: (made by the kernel with their parent) and the
 *     classes of kinds whose classes come with the qdisc (tbf, prio, mq,
 *     ...): making the parent again makes them;
 *   - clsact and ingress, which Nascar's scheduler does not touch.
 * A tree with a filter on any of its qdiscs or classes is not saved:
 * filters may name BPF programs or actions that cannot be made again from
 * a dump, and half a classifier is worse than the kernel's default.
 *
 * File: "NCQT" magic, version, count, then per object its message type,
 * length and bytes (tcmsg + attributes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "qtree.h"

#define QT_MAGIC 0x5451434eU /* "NCQT" */
#define QT_VERSION 1U
#define QT_MAX 1024	/* objects in one tree */
#define QT_MSG_MAX 8192 /* bytes of one kept object */

struct qt_obj {
	__u16 type; /* RTM_NEWQDISC or RTM_NEWTCLASS */
	__u16 len;  /* of msg: tcmsg + attributes */
	struct tcmsg tc;
	char kind[IFNAMSIZ];
	unsigned char *msg;
};

struct qt {
	struct qt_obj *o;
	size_t n, cap;
};

static void qt_free(struct qt *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->o[i].msg);
	free(t->o);
	memset(t, 0, sizeof(*t));
}

/* Kinds whose classes are made by the user (RTM_NEWTCLASS), not with the
 * qdisc. */
static int explicit_classes(const char *kind)
{
	static const char *const k[] = {"htb", "hfsc", "drr", "qfq", "ets"};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(kind, k[i]))
			return 1;
	return 0;
}

static int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct timeval tv = {.tv_sec = 5};

	int one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* acks without a copy of the request, with the kernel's message */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

/* Where a dump is not what the kind's init takes: HTB dumps its version
 * as HTB_VER (3.17) and wants TC_HTB_PROTOVER (3) back. */
static void htb_fixup(struct qt_obj *o)
{
	int alen = (int)o->len - (int)NLMSG_ALIGN(sizeof(struct tcmsg));
	struct rtattr *a, *n;

	for (a = (struct rtattr *)(o->msg + NLMSG_ALIGN(sizeof(struct tcmsg))); RTA_OK(a, alen);
	     a = RTA_NEXT(a, alen)) {
		int nlen = (int)RTA_PAYLOAD(a);

		if ((a->rta_type & NLA_TYPE_MASK) != TCA_OPTIONS)
			continue;
		for (n = RTA_DATA(a); RTA_OK(n, nlen); n = RTA_NEXT(n, nlen))
			if (n->rta_type == TCA_HTB_INIT &&
			    RTA_PAYLOAD(n) >= sizeof(struct tc_htb_glob))
				((struct tc_htb_glob *)RTA_DATA(n))->version = TC_HTB_PROTOVER;
	}
}

/* Keeps the tcmsg and TCA_KIND / TCA_OPTIONS of one dumped object. */
static int qt_keep(struct qt *t, __u16 type, const struct nlmsghdr *nh, char *why, size_t whylen)
{
	const struct tcmsg *tc = NLMSG_DATA(nh);
	int alen = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*tc));
	const struct rtattr *a;
	struct qt_obj *o;
	size_t used;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct qt_obj *no;

		if (cap > QT_MAX) {
			snprintf(why, whylen, "more than %d qdiscs and classes", QT_MAX);
			return -E2BIG;
		}
		no = realloc(t->o, cap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		t->o = no;
		t->cap = cap;
	}
	o = &t->o[t->n];
	memset(o, 0, sizeof(*o));
	o->msg = calloc(1, QT_MSG_MAX);
	if (!o->msg)
		return -ENOMEM;
	o->type = type;
	o->tc = *tc;
	memcpy(o->msg, tc, sizeof(*tc));
	used = NLMSG_ALIGN(sizeof(*tc));
	for (a = (const struct rtattr *)((const char *)tc + NLMSG_ALIGN(sizeof(*tc)));
	     RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		__u16 at = a->rta_type & NLA_TYPE_MASK;

		if (at != TCA_KIND && at != TCA_OPTIONS)
			continue;
		if (at == TCA_KIND)
			snprintf(o->kind, sizeof(o->kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
		if (used + RTA_ALIGN(a->rta_len) > QT_MSG_MAX) {
			free(o->msg);
			snprintf(why, whylen, "the options of a %s are too long to keep", o->kind);
			return -E2BIG;
		}
		memcpy(o->msg + used, a, a->rta_len);
		used += RTA_ALIGN(a->rta_len);
	}
	o->len = (__u16)used;
	if (type == RTM_NEWQDISC && !strcmp(o->kind, "htb"))
		htb_fixup(o);
	t->n++;
	return 0;
}

/*
 * One dump (RTM_GETQDISC, RTM_GETTCLASS or RTM_GETTFILTER) of ifindex,
 * parent for filters.  Objects of the device are kept in t (NULL: only
 * counted into *count).
 */
static int nl_dump(int fd, __u16 type, int ifindex, __u32 parent, struct qt *t, size_t *count,
		   char *why, size_t whylen)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	static char buf[65536];
	static __u32 seq;
	int done = 0, ret = 0;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++seq;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = parent;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			const struct tcmsg *tc = NLMSG_DATA(nh);

			if (nh->nlmsg_seq != req.nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				/* reading on would mix this dump's end with the next */
				ret = e->error;
				done = 1;
				break;
			}
			if (tc->tcm_ifindex != ifindex || ret < 0)
				continue;
			if (count)
				(*count)++;
			if (t)
				ret = qt_keep(t,
					      (__u16)(nh->nlmsg_type == RTM_NEWTCLASS
							      ? RTM_NEWTCLASS
							      : RTM_NEWQDISC),
					      nh, why, whylen);
		}
	}
	return ret;
}

/* Whether o (a qdisc or class) can be made once the objects made[] exist. */
static int parent_made(const struct qt *t, const unsigned char *made, const struct qt_obj *o)
{
	__u32 p = o->tc.tcm_parent;

	if (o->type == RTM_NEWQDISC && p == TC_H_ROOT)
		return 1;
	for (size_t j = 0; j < t->n; j++) {
		const struct qt_obj *q = &t->o[j];

		if (!made[j])
			continue;
		/* a qdisc or class right under the qdisc q */
		if (q->type == RTM_NEWQDISC && TC_H_MAJ(q->tc.tcm_handle) == TC_H_MAJ(p) &&
		    (TC_H_MIN(p) == 0 || p == TC_H_ROOT || !explicit_classes(q->kind)))
			return 1;
		if (o->type == RTM_NEWTCLASS && p == TC_H_ROOT && q->type == RTM_NEWQDISC &&
		    TC_H_MAJ(q->tc.tcm_handle) == TC_H_MAJ(o->tc.tcm_handle))
			return 1;
		/* under the class q */
		if (q->type == RTM_NEWTCLASS && q->tc.tcm_handle == p)
			return 1;
	}
	return 0;
}

int qtree_save(int ifindex, const char *path, char *why, size_t whylen)
{
	struct qt all = {0}, keep = {0};
	unsigned char *made = NULL;
	size_t filters = 0, n;
	int fd, ret;
	FILE *f = NULL;

	why[0] = '\0';
	fd = nl_open();
	if (fd < 0) {
		snprintf(why, whylen, "netlink: %s", strerror(-fd));
		return fd;
	}
	ret = nl_dump(fd, RTM_GETQDISC, ifindex, 0, &all, NULL, why, whylen);
	if (!ret)
		ret = nl_dump(fd, RTM_GETTCLASS, ifindex, 0, &all, NULL, why, whylen);
	if (ret < 0) {
		if (!why[0])
			snprintf(why, whylen, "cannot read the qdiscs: %s", strerror(-ret));
		goto out;
	}
	/* what to keep, and the filters on any of it */
	for (size_t i = 0; i < all.n; i++) {
		struct qt_obj *o = &all.o[i];
		int is_q = o->type == RTM_NEWQDISC;

		if (is_q && (o->tc.tcm_parent == TC_H_INGRESS || o->tc.tcm_parent == TC_H_CLSACT))
			continue;
		if (is_q && o->tc.tcm_handle == 0)
			continue;
		if (is_q) {
			ret = nl_dump(fd, RTM_GETTFILTER, ifindex, o->tc.tcm_handle, NULL, &filters,
				      why, whylen);
		} else {
			/* the class's qdisc, for its kind */
			const struct qt_obj *q = NULL;

			for (size_t j = 0; j < all.n && !q; j++)
				if (all.o[j].type == RTM_NEWQDISC &&
				    all.o[j].tc.tcm_handle == TC_H_MAJ(o->tc.tcm_handle))
					q = &all.o[j];
			if (!q || !explicit_classes(q->kind))
				continue;
			ret = nl_dump(fd, RTM_GETTFILTER, ifindex, o->tc.tcm_handle, NULL, &filters,
				      why, whylen);
		}
		/* a class or qdisc that takes no filters answers EOPNOTSUPP or EINVAL */
		if (ret < 0 && ret != -EOPNOTSUPP && ret != -EINVAL && ret != -ENOENT) {
			snprintf(why, whylen, "cannot read the filters: %s", strerror(-ret));
			goto out;
		}
		ret = 0;
		if (keep.n == keep.cap) {
			size_t cap = keep.cap ? 2 * keep.cap : 16;
			struct qt_obj *no = realloc(keep.o, cap * sizeof(*no));

			if (!no) {
				ret = -ENOMEM;
				goto out;
			}
			keep.o = no;
			keep.cap = cap;
		}
		keep.o[keep.n++] = *o;
		o->msg = NULL; /* now keep's */
	}
	if (filters) {
		snprintf(why, whylen, "it has filters, which cannot be made again from a dump");
		ret = -ENOTSUP;
		goto out;
	}
	if (!keep.n) {
		snprintf(why, whylen, "no qdisc of its own to keep");
		ret = -ENOTSUP;
		goto out;
	}
	/* parents first */
	made = calloc(keep.n, 1);
	if (!made) {
		ret = -ENOMEM;
		goto out;
	}
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	{
		__u32 hdr[3] = {QT_MAGIC, QT_VERSION, (__u32)keep.n};

		fwrite(hdr, sizeof(hdr), 1, f);
	}
	for (n = 0; n < keep.n;) {
		size_t before = n;

		for (size_t i = 0; i < keep.n; i++) {
			struct qt_obj *o = &keep.o[i];
			__u32 rec[2] = {o->type, o->len};

			if (made[i] || !parent_made(&keep, made, o))
				continue;
			fwrite(rec, sizeof(rec), 1, f);
			fwrite(o->msg, o->len, 1, f);
			made[i] = 1;
			n++;
		}
		if (n == before) {
			snprintf(why, whylen, "an object whose parent is not in the tree");
			ret = -ENOTSUP;
			break;
		}
	}
	if (fclose(f) != 0 && !ret) {
		ret = -EIO;
		snprintf(why, whylen, "cannot write %s", path);
	}
	f = NULL;
	if (ret < 0)
		unlink(path);
out:
	if (f) {
		fclose(f);
		unlink(path);
	}
	free(made);
	qt_free(&all);
	qt_free(&keep);
	close(fd);
	return ret;
}

/* Sends one kept object to the kernel; 0 or -errno (the kernel's own
 * message, if it gave one, in why). */
static int nl_make(int fd, __u16 type, unsigned char *msg, __u32 len, int ifindex, char *why,
		   size_t whylen)
{
	static unsigned char buf[QT_MSG_MAX + 64];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct tcmsg *tc;
	static __u32 seq = 1000;
	char ack[16384];

	memset(buf, 0, NLMSG_HDRLEN);
	nh->nlmsg_len = NLMSG_HDRLEN + len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
	nh->nlmsg_seq = ++seq;
	memcpy(buf + NLMSG_HDRLEN, msg, len);
	tc = NLMSG_DATA(nh);
	tc->tcm_ifindex = ifindex;
	tc->tcm_info = 0;
	if (type == RTM_NEWQDISC) {
		/* in the place of the kernel's default (root) or of the default
		 * leaf a new class comes with */
		nh->nlmsg_flags |= NLM_F_REPLACE;
	} else if (tc->tcm_parent == TC_H_ROOT) {
		/* a class right under its qdisc */
		tc->tcm_parent = TC_H_MAJ(tc->tcm_handle);
		nh->nlmsg_flags |= NLM_F_EXCL;
	} else {
		nh->nlmsg_flags |= NLM_F_EXCL;
	}
	if (send(fd, buf, nh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t r = recv(fd, ack, sizeof(ack), 0);
		struct nlmsghdr *a;

		if (r < 0)
			return -errno;
		for (a = (struct nlmsghdr *)ack; NLMSG_OK(a, (size_t)r); a = NLMSG_NEXT(a, r)) {
			const struct nlmsgerr *e = NLMSG_DATA(a);

			if (a->nlmsg_seq != nh->nlmsg_seq || a->nlmsg_type != NLMSG_ERROR)
				continue;
			why[0] = '\0';
			if (e->error && (a->nlmsg_flags & NLM_F_ACK_TLVS)) {
				const struct rtattr *t =
					(const void *)((const char *)e + sizeof(*e));
				int tlen = (int)a->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*e));

				for (; RTA_OK(t, tlen); t = RTA_NEXT(t, tlen))
					if (t->rta_type == NLMSGERR_ATTR_MSG)
						snprintf(why, whylen, "%.*s", (int)RTA_PAYLOAD(t),
							 (const char *)RTA_DATA(t));
			}
			return e->error;
		}
	}
}

static void handle_text(char *b, size_t len, __u32 h)
{
	if (TC_H_MIN(h))
		snprintf(b, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(b, len, "%x:", TC_H_MAJ(h) >> 16);
}

int qtree_restore(int ifindex, const char *path, char *err, size_t errlen)
{
	unsigned char *msg = NULL;
	__u32 hdr[3], rec[2];
	int fd = -1, ret = 0;
	size_t made = 0;
	FILE *f;

	err[0] = '\0';
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fread(hdr, sizeof(hdr), 1, f) != 1 || hdr[0] != QT_MAGIC || hdr[1] != QT_VERSION ||
	    hdr[2] == 0 || hdr[2] > QT_MAX) {
		snprintf(err, errlen, "%s is not a qdisc tree saved by this version", path);
		ret = -EINVAL;
		goto out;
	}
	msg = malloc(QT_MSG_MAX);
	fd = nl_open();
	if (!msg || fd < 0) {
		ret = fd < 0 ? fd : -ENOMEM;
		snprintf(err, errlen, "%s", strerror(-ret));
		goto out;
	}
	for (__u32 i = 0; i < hdr[2]; i++) {
		struct tcmsg *tc = (struct tcmsg *)msg;
		char h[32], kind[IFNAMSIZ] = "?", kmsg[256];

		if (fread(rec, sizeof(rec), 1, f) != 1 ||
		    (rec[0] != RTM_NEWQDISC && rec[0] != RTM_NEWTCLASS) ||
		    rec[1] < NLMSG_ALIGN(sizeof(struct tcmsg)) || rec[1] > QT_MSG_MAX ||
		    fread(msg, rec[1], 1, f) != 1) {
			snprintf(err, errlen, "%s is cut short or damaged (object %u)", path,
				 i + 1);
			ret = -EINVAL;
			goto out;
		}
		{
			int alen = (int)rec[1] - (int)NLMSG_ALIGN(sizeof(*tc));
			struct rtattr *a;

			for (a = (struct rtattr *)(msg + NLMSG_ALIGN(sizeof(*tc))); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen))
				if (a->rta_type == TCA_KIND)
					snprintf(kind, sizeof(kind), "%.*s", (int)RTA_PAYLOAD(a),
						 (const char *)RTA_DATA(a));
		}
		handle_text(h, sizeof(h), tc->tcm_handle);
		ret = nl_make(fd, (__u16)rec[0], msg, rec[1], ifindex, kmsg, sizeof(kmsg));
		if (ret < 0) {
			snprintf(err, errlen, "%s %s %s: %s%s%s (%zu of %u made)",
				 rec[0] == RTM_NEWQDISC ? "qdisc" : "class", kind, h,
				 strerror(-ret), kmsg[0] ? ": " : "", kmsg, made, hdr[2]);
			goto out;
		}
		made++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(msg);
	fclose(f);
	return ret;
}
