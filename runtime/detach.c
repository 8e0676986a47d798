// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * detach.c - nascar-apply detach, and the removal of one interface's hooks,
 * scheduler and VLAN map that apply shares with it (detach.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include "attach.h"
#include "detach.h"
#include "load.h"
#include "log.h"
#include "plan.h"
#include "preflight.h"
#include "rt.h"
#include "qtree.h"
#include "sched.h"
#include "state.h"

/* ---- one interface ------------------------------------------------------ */

void live_hooks(const char *pin_dir, int ifindex, struct live *l)
{
	char path[PATH_MAX];
	__u32 id;
	int mode;

	memset(l, 0, sizeof(*l));
	if (ifindex <= 0)
		return;
	state_link_path(path, sizeof(path), pin_dir, "xdp", ifindex);
	if (link_alive(path, ifindex, &l->xdp_prog)) {
		l->xdp = XDP_GENERIC;
		if (xdp_query(ifindex, &id, &mode) == 0 && mode == XDP_ATTACHED_DRV)
			l->xdp = XDP_NATIVE;
	}
	state_link_path(path, sizeof(path), pin_dir, "tc", ifindex);
	if (link_alive(path, ifindex, &l->tc_prog))
		l->tc = TC_TCX;
	else if (tc_netlink_alive(ifindex, &l->tc_prog))
		l->tc = TC_NETLINK;
}

int remove_xdp(const char *pin_dir, struct st_iface *s)
{
	char path[PATH_MAX], err[512];

	state_link_path(path, sizeof(path), pin_dir, "xdp", s->ifindex);
	if (detach_link(path, err, sizeof(err)) < 0) {
		pr_warn("%s", err);
		return -1;
	}
	s->xdp = XDP_NONE;
	s->xdp_prog_id = 0;
	return 0;
}

int remove_tc(const char *pin_dir, struct st_iface *s)
{
	char path[PATH_MAX], err[512];

	state_link_path(path, sizeof(path), pin_dir, "tc", s->ifindex);
	if (detach_link(path, err, sizeof(err)) < 0) {
		pr_warn("%s", err);
		return -1;
	}
	if (s->ifindex > 0 &&
	    detach_tc_netlink(s->ifindex, s->clsact_created, err, sizeof(err)) < 0) {
		pr_warn("%s", err);
		return -1;
	}
	s->tc = TC_NONE;
	s->tc_prog_id = 0;
	s->clsact_created = 0;
	return 0;
}

/* After egress replace: make the replaced qdisc tree again from what apply
 * saved (qdisc-IF.tree), or say why it is not (qdisc-IF.why). */
static void read_why(const struct rt_opts *o, const struct st_iface *s, char *why, size_t len);

static void put_back_replaced(const struct rt_opts *o, const struct st_iface *s)
{
	char tree[PATH_MAX + 64], path[PATH_MAX + 64], why[256], err[512];

	snprintf(tree, sizeof(tree), "%s/qdisc-%.*s.tree", o->state_dir, IF_NAMESIZE, s->name);
	if (access(tree, F_OK) != 0) {
		read_why(o, s, why, sizeof(why));
		pr_warn("%s: the qdisc Nascar replaced (%s, egress replace) is not re-created (%s); the kernel's default is back; its configuration was saved in %s/qdisc-%s.before",
			s->name, s->sched_prev, why, o->state_dir, s->name);
		snprintf(path, sizeof(path), "%s/qdisc-%.*s.why", o->state_dir, IF_NAMESIZE,
			 s->name);
		unlink(path);
		return;
	}
	if (qtree_restore(s->ifindex, tree, err, sizeof(err)) < 0) {
		const char *del[] = {"qdisc", "del", "dev", s->name, "root", NULL};
		char out[256];

		/* half a tree is worse than the kernel's default */
		sched_run_tc(del, NULL, out, sizeof(out));
		pr_warn("%s: cannot put back the qdisc Nascar replaced (%s, egress replace): %s; the kernel's default is back; its configuration was saved in %s/qdisc-%s.before",
			s->name, s->sched_prev, err, o->state_dir, s->name);
		unlink(tree);
		return;
	}
	pr_info("%s: the qdisc Nascar replaced (%s, egress replace) is back", s->name,
		s->sched_prev);
	unlink(tree);
	snprintf(path, sizeof(path), "%s/qdisc-%.*s.before", o->state_dir, IF_NAMESIZE, s->name);
	unlink(path);
}

/* Whether apply kept the tree it replaced on s (qdisc-IF.tree). */
static int tree_saved(const struct rt_opts *o, const struct st_iface *s)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/qdisc-%.*s.tree", o->state_dir, IF_NAMESIZE, s->name);
	return access(path, F_OK) == 0;
}

/* Why apply could not keep the tree (qdisc-IF.why). */
static void read_why(const struct rt_opts *o, const struct st_iface *s, char *why, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(why, len, "nothing was saved to make it from");
	snprintf(path, sizeof(path), "%s/qdisc-%.*s.why", o->state_dir, IF_NAMESIZE, s->name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(why, (int)len, f))
		snprintf(why, len, "nothing was saved to make it from");
	why[strcspn(why, "\n")] = '\0';
	fclose(f);
}

/* Whether our scheduler took the place of a root qdisc that removing it
 * puts back (egress replace), rather than of the kernel's default. */
static int replaced_a_qdisc(const struct st_iface *s)
{
	return s->sched_prev[0] && strncmp(s->sched_prev, "noqueue/", 8) &&
	       strstr(s->sched_prev, "/0:") == NULL;
}

int remove_sched(const struct rt_opts *o, struct st_iface *s)
{
	char err[512];

	if (!s->sched)
		return 0;
	if (sched_remove(s->name, err, sizeof(err)) < 0) {
		pr_warn("%s", err);
		return -1;
	}
	if (replaced_a_qdisc(s))
		put_back_replaced(o, s);
	s->sched = 0;
	s->sched_prev[0] = '\0';
	return 0;
}

int restore_vlan(struct st_iface *s)
{
	char err[512], prev[512];

	if (!s->vlan_map)
		return 0;
	snprintf(prev, sizeof(prev), "%s", s->vlan_prev);
	for (char *c = prev; *c; c++)
		if (*c == ',')
			*c = ' ';
	if (sched_vlan_restore(s->name, prev, err, sizeof(err)) < 0) {
		pr_warn("%s: %s", s->name, err);
		return -1;
	}
	s->vlan_map = 0;
	s->vlan_prev[0] = '\0';
	return 0;
}

/* ---- detach ------------------------------------------------------------- */

/* A link pin under PIN/links that no interface of the state accounts for
 * (an apply killed right after an attach)? */
static int stray_link(const char *pin_dir, const struct rt_state *st, const char *lp)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < st->nifaces; i++) {
		state_link_path(path, sizeof(path), pin_dir, "xdp", st->ifaces[i].ifindex);
		if (!strcmp(path, lp))
			return 0;
		state_link_path(path, sizeof(path), pin_dir, "tc", st->ifaces[i].ifindex);
		if (!strcmp(path, lp))
			return 0;
	}
	return 1;
}

/* --dry-run detach: what cmd_detach would take off, read the same way (the
 * state, the live hooks, the pins); changes nothing. */
static int dry_run_detach(const struct rt_opts *o, const struct rt_state *st, int had_state)
{
	char path[PATH_MAX + 8];
	int pins;

	if (!had_state && !load_pins_exist(o->pin_dir)) {
		pr_info("dry run: nothing to detach: no state in %s and no pins under %s",
			o->state_dir, o->pin_dir);
		return 0;
	}
	pr_info("dry run: detach would take out what nascar-apply put in under %s", o->pin_dir);
	for (size_t i = 0; i < st->nifaces; i++) {
		const struct st_iface *s = &st->ifaces[i];
		struct live l;
		int same = (int)if_nametoindex(s->name) == s->ifindex;

		live_hooks(o->pin_dir, s->ifindex, &l);
		if (!same)
			l.tc = l.tc == TC_NETLINK ? TC_NONE : l.tc; /* not the same device */
		if (l.xdp)
			pr_info("would detach %s's XDP program (xdp %s, prog id %u)", s->name,
				plan_xdp_name(l.xdp), l.xdp_prog);
		if (l.tc)
			pr_info("would detach %s's TC program (tc %s, prog id %u)", s->name,
				plan_tc_name(l.tc), l.tc_prog);
		if (s->sched && same && replaced_a_qdisc(s) && !tree_saved(o, s)) {
			char why[256];

			read_why(o, s, why, sizeof(why));
			pr_info("would remove Nascar's scheduler on %s and leave the kernel's default: the qdisc it replaced (%s) cannot be made again (%s)",
				s->name, s->sched_prev, why);
		} else if (s->sched && same)
			pr_info("would remove Nascar's scheduler on %s%s%s%s", s->name,
				replaced_a_qdisc(s) ? " and put back the qdisc it replaced (" : "",
				replaced_a_qdisc(s) ? s->sched_prev : "",
				replaced_a_qdisc(s) ? ")" : "");
		if (s->vlan_map && same)
			pr_info("would put back the egress-qos-map %s had before Nascar set it (%s)",
				s->name, s->vlan_prev[0] ? s->vlan_prev : "empty");
		if (!l.xdp && !l.tc && !(s->sched && same) && !(s->vlan_map && same))
			pr_info("%s: nothing of Nascar's is attached there", s->name);
	}
	snprintf(path, sizeof(path), "%s/links", o->pin_dir);
	{
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char lp[PATH_MAX + 300];

			if (de->d_name[0] == '.')
				continue;
			snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
			if (stray_link(o->pin_dir, st, lp))
				pr_info("would detach the link pinned at %s (the state does not list it)",
					lp);
		}
		if (d)
			closedir(d);
	}
	pins = load_count_pins(o->pin_dir);
	if (had_state)
		pr_info("would remove %d pins under %s and the state in %s", pins, o->pin_dir,
			o->state_dir);
	else
		pr_info("would remove %d pins under %s (there is no state in %s)", pins, o->pin_dir,
			o->state_dir);
	pr_info("dry run: nothing was changed");
	return 0;
}

int cmd_detach(struct rt_opts *o)
{
	char err[512], path[PATH_MAX + 8], done[4096] = "";
	struct rt_state st;
	int ret, removed = 0, failed = 0, had_state;

	if (!preflight_caps()) {
		if (o->dry_run)
			pr_err("needs root (or CAP_BPF and CAP_NET_ADMIN) to read what detach would remove; run it as root");
		else
			pr_err("needs root (or CAP_BPF and CAP_NET_ADMIN) to detach; run it as root");
		return 1;
	}
	ret = state_read(o->state_dir, &st, err, sizeof(err));
	if (ret < 0 && ret != -ENOENT)
		pr_warn("%s", err);
	had_state = ret == 0;
	if (o->dry_run)
		return dry_run_detach(o, &st, had_state);

	/* Hooks the state knows, then any link pin it does not (a kill right
	 * after an attach). */
	for (size_t i = 0; i < st.nifaces; i++) {
		struct st_iface *s = &st.ifaces[i];
		struct live l;
		int cur = (int)if_nametoindex(s->name), had_sched;

		live_hooks(o->pin_dir, s->ifindex, &l);
		if (cur != s->ifindex)
			l.tc = l.tc == TC_NETLINK ? TC_NONE : l.tc; /* not the same device */
		if (remove_xdp(o->pin_dir, s) < 0 || remove_tc(o->pin_dir, s) < 0)
			failed++;
		had_sched = s->sched && cur == s->ifindex;
		if (had_sched && remove_sched(o, s) < 0)
			failed++;
		if (cur == s->ifindex && restore_vlan(s) < 0)
			failed++;
		if (l.xdp || l.tc || had_sched) {
			size_t len = strlen(done);

			snprintf(done + len, sizeof(done) - len, "%s%s (%s%s%s%s%s)",
				 len ? ", " : "", s->name, l.xdp ? "xdp" : "",
				 l.xdp && l.tc ? "+" : "", l.tc ? "tc" : "",
				 (l.xdp || l.tc) && had_sched ? "+" : "",
				 had_sched ? "scheduler" : "");
			removed++;
		}
	}
	snprintf(path, sizeof(path), "%s/links", o->pin_dir);
	{
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char lp[PATH_MAX + 300];

			if (de->d_name[0] == '.')
				continue;
			snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
			if (detach_link(lp, err, sizeof(err)) < 0) {
				pr_warn("%s", err);
				failed++;
			} else {
				removed++;
			}
		}
		if (d)
			closedir(d);
	}
	if (!had_state && !load_pins_exist(o->pin_dir)) {
		pr_info("nothing to detach: no state in %s and no pins under %s", o->state_dir,
			o->pin_dir);
		return 0;
	}
	if (failed) {
		pr_err("could not remove every hook (see the warnings above); fix the cause and run 'nascar-apply detach' again");
		return 1;
	}
	ret = load_unpin_all(o->pin_dir);
	state_remove(o->state_dir);
	pr_info("detached%s%s; removed %d pins under %s and the state in %s", done[0] ? ": " : "",
		done, ret, o->pin_dir, o->state_dir);
	{
		struct stat sb;

		if (stat(o->pin_dir, &sb) == 0)
			pr_warn("%s still exists: it holds files nascar-apply did not create",
				o->pin_dir);
	}
	return 0;
}
