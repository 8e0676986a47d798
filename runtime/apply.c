// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * apply.c - nascar-apply's apply (and --dry-run): the transaction.
 *
 * Order of an apply, and why:
 *  1. everything that can be checked without changing the machine (file,
 *     privileges, bpffs, interfaces, device probes) is checked first, so a
 *     refusal changes nothing (preflight.c, apply_plan.c);
 *  2. maps are loaded or reused, the .nfc is copied aside for stats;
 *  3. hooks missing on declared interfaces are attached while the old
 *     policy is still in force (an interface it does not declare is handed
 *     to the stack), each one recorded in the state file at once;
 *  4. the inactive slot is filled, then nascar_state is switched in one
 *     map update: the only step that changes what packets see;
 *  5. hooks the new policy no longer wants are removed (detach.c).
 * A kill before 4 leaves the old policy in force; a kill after it leaves
 * the new one.  Either way the next apply finds the pins and the state and
 * finishes the job (every step checks what is already there).
 *
 * cmd_apply() is that list, one function per step.  A step of 3 or 4
 * records in struct apply_tx what it added, one flag per interface and
 * kind, and returns -1 after printing its error; the one rollback() then
 * takes back what the flags say, whichever step failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "fill.h"
#include "apply_plan.h"
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

void rt_stall(const char *point)
{
	const char *want = getenv("NASCAR_TEST_STALL");

	if (!want || strcmp(want, point) != 0)
		return;
	fprintf(stderr, "nascar-apply: stalled at %s (NASCAR_TEST_STALL)\n", point);
	fflush(stderr);
	sleep(120);
}

/* ---- the state file ------------------------------------------------------ */

static void save_state(const struct rt_opts *o, struct rt_state *st)
{
	char err[512];

	if (state_write(o->state_dir, st, err, sizeof(err)) < 0)
		pr_warn("%s", err);
}

/* ---- maps ---------------------------------------------------------------- */

static int read_active(const struct rt_bpf *b, struct nascar_state *ns, struct nascar_slot_cfg *cfg)
{
	__u32 k = 0;

	memset(ns, 0, sizeof(*ns));
	memset(cfg, 0, sizeof(*cfg));
	if (bpf_map_lookup_elem(b->map[NASCAR_M_STATE], &k, ns) < 0)
		return -errno;
	k = ns->active_slot & 1;
	if (bpf_map_lookup_elem(b->map[NASCAR_M_SLOTS], &k, cfg) < 0)
		return -errno;
	return 0;
}

static void to_fill_maps(const struct rt_bpf *b, struct fill_maps *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < NASCAR_NMAPS; i++)
		m->fd[i] = b->map[i];
	m->owned = 0;
}

static int copy_file(const char *from, const char *to)
{
	char tmp[PATH_MAX + 8], buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			ret = -EIO;
			break;
		}
	}
	if (n < 0)
		ret = -errno;
	close(in);
	if (!ret && fsync(out) < 0)
		ret = -errno;
	close(out);
	if (!ret && rename(tmp, to) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int same_policy_in_force(const struct rt_opts *o, const struct rt_bpf *b,
				const struct nfc_image *img, const struct rt_state *st,
				const struct plan_if *plan, size_t n, const struct nascar_state *ns,
				const struct nascar_slot_cfg *cfg)
{
	unsigned int a = ns->active_slot & 1;

	if (!st->valid || ns->generation == 0 || cfg->source_hash != img->hdr->source_hash ||
	    st->slot_csum[a] != img->hdr->checksum || st->slot_hash[a] != img->hdr->source_hash)
		return 0;
	for (size_t i = 0; i < st->nifaces; i++)
		if (!plan_declares(plan, n, st->ifaces[i].name))
			return 0;
	for (size_t i = 0; i < n; i++) {
		struct live l;

		struct nascar_ifkey k = {.ifindex = (__u32)plan[i].dev.ifindex, .slot = a};
		struct nascar_iface v;

		live_hooks(o->pin_dir, plan[i].dev.ifindex, &l);
		if (!!l.xdp != !!plan[i].xdp || !!l.tc != !!plan[i].tc)
			return 0;
		/* a device that changed since (a veth's peer turned GRO off):
		 * the data path's flags must follow */
		if (bpf_map_lookup_elem(b->map[NASCAR_M_IFACES], &k, &v) < 0 ||
		    !!(v.flags & NASCAR_IF_NO_XDP_TX) != !!plan[i].no_xdp_tx)
			return 0;
	}
	return 1;
}

/* egress replace over a qdisc of the operator's: its text for people
 * (qdisc-IF.before) and the tree itself for detach to make again
 * (qdisc-IF.tree), or why it cannot (qdisc-IF.why), which apply says now
 * rather than at detach. */
static void save_root(const struct rt_opts *o, const char *dev, int ifindex,
		      const struct sched_root *r)
{
	char path[PATH_MAX + 64], why[256];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/qdisc-%.*s.before", o->state_dir, IF_NAMESIZE, dev);
	f = fopen(path, "we");
	if (f) {
		fputs(r->text, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/qdisc-%.*s.tree", o->state_dir, IF_NAMESIZE, dev);
	rc = qtree_save(ifindex, path, why, sizeof(why));
	if (rc != 0)
		unlink(path); /* an older apply's */
	snprintf(path, sizeof(path), "%s/qdisc-%.*s.why", o->state_dir, IF_NAMESIZE, dev);
	if (rc == 0) {
		unlink(path);
		return;
	}
	pr_warn("%s: egress replace: detach will not make the %s %s it replaces again (%s); its configuration is saved in %s/qdisc-%s.before",
		dev, r->kind, r->handle, why, o->state_dir, dev);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%s\n", why);
		fclose(f);
	}
}

/* ---- the transaction ----------------------------------------------------- */

/* What the steps of one apply share. */
struct apply_tx {
	const char *file; /* the .nfc given */
	struct nfc_image img;
	size_t n; /* img.nifaces: entries of plan, sp, sroot, added_* */
	struct plan_if plan[NASCAR_MAX_IFACES];
	struct sched_plan sp[NASCAR_MAX_IFACES];
	struct sched_root sroot[NASCAR_MAX_IFACES];
	char mount_at[PATH_MAX]; /* where to mount bpffs first, or "" */
	struct rt_state st;
	struct rt_bpf b;
	struct nascar_state ns; /* as found: the policy in force */
	struct nascar_slot_cfg cfg;
	struct fill_maps fm;
	int fresh;	   /* no pins before this run */
	unsigned int slot; /* the slot being filled */
	__u32 gen;	   /* its generation after the switch */
	/* What this run added, per interface of the plan: rollback() takes
	 * back exactly that. */
	int added_dev[NASCAR_MAX_IFACES];
	int added_xdp[NASCAR_MAX_IFACES];
	int added_tc[NASCAR_MAX_IFACES];
	int added_sched[NASCAR_MAX_IFACES];
	int added_vlan[NASCAR_MAX_IFACES];
};

/* Step 1 (after the .nfc is loaded): the checks, then the state file. */
static int preflight(const struct rt_opts *o, struct apply_tx *t)
{
	char err[1024];
	int ret;

	if (!o->dry_run && !preflight_caps()) {
		pr_err("needs root (or CAP_BPF and CAP_NET_ADMIN) to load and attach BPF programs; run it as root, e.g. with sudo");
		return -1;
	}
	if (preflight_bpffs(o->pin_dir, t->mount_at, sizeof(t->mount_at), o->private_bpffs) < 0 &&
	    !o->dry_run)
		return -1;
	if (plan_build(o, &t->img, t->plan) < 0)
		return -1;
	if (preflight_sched(&t->img, t->plan, t->n, t->sp, t->sroot) < 0)
		return -1;

	ret = state_read(o->state_dir, &t->st, err, sizeof(err));
	if (ret < 0 && ret != -ENOENT)
		pr_warn("%s; starting from the pins alone", err);
	return 0;
}

/* --dry-run: what an apply would do, from the same checks and plan. */
static void dry_run(const struct rt_opts *o, struct apply_tx *t)
{
	const struct plan_if *plan = t->plan;
	size_t n = t->n;
	char err[1024];

	pr_info("dry run: policy %016llx from %s (%zu interfaces, %u flows); pins would be under %s%s",
		(unsigned long long)t->img.hdr->source_hash, t->file, n, t->img.cfg->nflows,
		o->pin_dir, t->mount_at[0] ? " (after mounting bpffs)" : "");
	plan_print(plan, n, "would attach ");
	for (size_t i = 0; i < n; i++)
		if (t->sp[i].want)
			pr_info("would %s Nascar's scheduler on %s (replacing %s %s): %s",
				t->sroot[i].ours ? "update" : "install", plan[i].dev.name,
				t->sroot[i].kind, t->sroot[i].handle, t->sp[i].why);
	for (size_t i = 0; i < t->st.nifaces; i++)
		if (!plan_declares(plan, n, t->st.ifaces[i].name))
			pr_info("would detach %s: no longer declared", t->st.ifaces[i].name);
	if (load_pins_exist(o->pin_dir) && load_pinned(&t->b, o->pin_dir, err, sizeof(err)) == 0 &&
	    read_active(&t->b, &t->ns, &t->cfg) == 0 && t->ns.generation) {
		if (same_policy_in_force(o, &t->b, &t->img, &t->st, plan, n, &t->ns, &t->cfg))
			pr_info("would do nothing: this policy is already in force (generation %u)",
				t->ns.generation);
		else
			pr_info("would fill slot %u and switch from generation %u to %u",
				1 - (t->ns.active_slot & 1), t->ns.generation,
				t->ns.generation + 1);
	} else {
		pr_info("would load the BPF programs, fill slot 0 and switch to generation 1");
	}
}

/* Step 2: bpffs mounted if it has to be, the pin and state directories. */
static int prepare_dirs(const struct rt_opts *o, struct apply_tx *t)
{
	int ret;

	if (t->mount_at[0] && preflight_mount_bpffs(t->mount_at) < 0)
		return -1;
	t->fresh = !load_pins_exist(o->pin_dir);
	ret = mkdir_p(o->pin_dir, 0700);
	if (ret < 0) {
		pr_err("cannot create the pin directory %s (%s); choose another --pin-dir",
		       o->pin_dir, strerror(-ret));
		return -1;
	}
	ret = mkdir_p(o->state_dir, 0755);
	if (ret < 0) {
		pr_err("cannot create the state directory %s (%s); choose another --state-dir",
		       o->state_dir, strerror(-ret));
		return -1;
	}
	return 0;
}

/* Step 2: the BPF object loaded (or its pins reused), the policy in force
 * read.  A first load that fails leaves nothing behind. */
static int load_maps(const struct rt_opts *o, struct apply_tx *t)
{
	char err[1024];
	int ret;

	ret = load_object(&t->b, o->pin_dir, o->bpf_obj, err, sizeof(err));
	if (ret < 0) {
		pr_err("%s", err);
		if (t->fresh) {
			load_close(&t->b);
			load_unpin_all(o->pin_dir);
			state_remove(o->state_dir);
		}
		return -1;
	}
	if (read_active(&t->b, &t->ns, &t->cfg) < 0) {
		pr_err("cannot read %s under %s (%s); run 'nascar-apply detach' and apply again",
		       NASCAR_MAP_STATE, o->pin_dir, strerror(errno));
		if (t->fresh) { /* pinned just now: take them back */
			load_close(&t->b);
			load_unpin_all(o->pin_dir);
			state_remove(o->state_dir);
		}
		return -1;
	}
	if (!t->st.valid) {
		memset(&t->st, 0, sizeof(t->st));
		t->st.valid = 1;
	}
	snprintf(t->st.pin_dir, sizeof(t->st.pin_dir), "%s", o->pin_dir);
	return 0;
}

/* 1 (and says so) when this very policy is in force as planned. */
static int already_in_force(const struct rt_opts *o, struct apply_tx *t)
{
	if (!same_policy_in_force(o, &t->b, &t->img, &t->st, t->plan, t->n, &t->ns, &t->cfg))
		return 0;
	pr_info("policy %016llx is already in force (generation %u, slot %u): nothing to do; pins under %s",
		(unsigned long long)t->img.hdr->source_hash, t->ns.generation,
		t->ns.active_slot & 1, o->pin_dir);
	return 1;
}

/* Step 2: the slot to fill, and its .nfc copied aside (stats' flow names). */
static int save_nfc(const struct rt_opts *o, struct apply_tx *t)
{
	char path[PATH_MAX];
	int ret;

	t->slot = t->ns.generation == 0 ? 0 : 1 - (t->ns.active_slot & 1);
	t->gen = t->ns.generation + 1;
	pr_info("pins: %s (state: %s)", o->pin_dir, o->state_dir);

	state_nfc_path(path, sizeof(path), o->state_dir, t->slot);
	ret = copy_file(t->file, path);
	if (ret < 0) {
		pr_err("cannot copy %s to %s (%s); check the state directory", t->file, path,
		       strerror(-ret));
		return -1;
	}
	return 0;
}

/* Step 3: egress devices for XDP redirects. */
static int add_devmap(struct apply_tx *t)
{
	for (size_t i = 0; i < t->n; i++) {
		__u32 k = (__u32)t->plan[i].dev.ifindex, v;
		int ret;

		if (bpf_map_lookup_elem(t->b.map[NASCAR_M_DEVMAP], &k, &v) == 0)
			continue;
		to_fill_maps(&t->b, &t->fm);
		ret = fill_devmap_add(&t->fm, (int)k);
		if (ret < 0) {
			pr_err("cannot add %s to %s (%s)", t->plan[i].dev.name, NASCAR_MAP_DEVMAP,
			       strerror(-ret));
			return -1;
		}
		t->added_dev[i] = 1;
	}
	return 0;
}

/* Step 3: the hooks the new policy needs, while the old one is in force;
 * each one recorded in the state file as soon as it is there. */
static int attach_hooks(const struct rt_opts *o, struct apply_tx *t)
{
	char err[1024], path[PATH_MAX];
	struct rt_state *st = &t->st;
	int ret;

	for (size_t i = 0; i < t->n; i++) {
		struct plan_if *p = &t->plan[i];
		struct st_iface *s = state_find(st, p->dev.name);
		struct live l;
		char line[96];

		if (s && s->ifindex != p->dev.ifindex) {
			/* the device was re-created: its old hooks died with it */
			remove_xdp(o->pin_dir, s);
			remove_tc(o->pin_dir, s);
		}
		if (!s)
			s = state_add(st, p->dev.name);
		if (!s) {
			pr_err("too many interfaces in the state file");
			return -1;
		}
		s->ifindex = p->dev.ifindex;
		s->role = p->role;
		s->mode = p->mode;
		s->eff_mode = p->eff_mode;
		snprintf(s->reason, sizeof(s->reason), "%s", p->reason);
		live_hooks(o->pin_dir, p->dev.ifindex, &l);
		s->xdp = l.xdp;
		s->xdp_prog_id = l.xdp_prog;
		s->tc = l.tc;
		s->tc_prog_id = l.tc_prog;

		if (p->xdp && !l.xdp) {
			int got;

			state_link_path(path, sizeof(path), o->pin_dir, "xdp", p->dev.ifindex);
			ret = attach_xdp(t->b.prog_xdp, p->dev.ifindex, p->dev.name, p->xdp,
					 p->xdp_fallback, path, &got, err, sizeof(err));
			if (ret < 0 && p->mode == NASCAR_MODE_AUTO && !p->xdp_fallback) {
				/* auto wanted native or nothing: TC alone */
				pr_debug("%s", err);
				p->xdp = XDP_NONE;
				p->eff_mode = NASCAR_MODE_TC;
				snprintf(p->reason + strlen(p->reason),
					 sizeof(p->reason) - strlen(p->reason),
					 " (the driver refused native XDP: TC only)");
			} else if (ret < 0) {
				pr_err("%s", err);
				return -1;
			} else {
				if (got != p->xdp)
					snprintf(p->reason + strlen(p->reason),
						 sizeof(p->reason) - strlen(p->reason),
						 " (the driver refused native XDP: generic)");
				p->xdp = got;
				s->xdp = got;
				s->xdp_prog_id = prog_id_of(t->b.prog_xdp);
				t->added_xdp[i] = 1;
				save_state(o, st);
			}
		} else if (p->xdp && l.xdp) {
			p->xdp = l.xdp; /* keep what is there */
		}
		rt_stall("after-xdp");
		if (p->tc && !l.tc) {
			if (p->tc == TC_TCX) {
				state_link_path(path, sizeof(path), o->pin_dir, "tc",
						p->dev.ifindex);
				ret = attach_tcx(t->b.prog_tc, p->dev.ifindex, p->dev.name, path,
						 err, sizeof(err));
			} else {
				ret = attach_tc_netlink(t->b.prog_tc, p->dev.ifindex, p->dev.name,
							&s->clsact_created, err, sizeof(err));
			}
			if (ret < 0) {
				pr_err("%s", err);
				return -1;
			}
			s->tc = p->tc;
			s->tc_prog_id = prog_id_of(t->b.prog_tc);
			t->added_tc[i] = 1;
			save_state(o, st);
		} else if (p->tc && l.tc) {
			p->tc = l.tc;
		}
		snprintf(s->reason, sizeof(s->reason), "%s", p->reason);
		s->eff_mode = p->eff_mode;
		plan_line(line, sizeof(line), p->eff_mode, p->xdp, p->tc);
		pr_info("%s: %s: %s", p->dev.name, line, p->reason);
	}
	return 0;
}

/* Step 3: the egress schedulers the new policy needs.  The old policy's
 * packets carry priorities 0..7, which land in the default class until
 * the switch. */
static int install_sched(const struct rt_opts *o, struct apply_tx *t)
{
	char err[1024];
	int ret;

	for (size_t i = 0; i < t->n; i++) {
		const struct plan_if *p = &t->plan[i];
		const struct sched_root *root = &t->sroot[i];
		struct st_iface *s = state_find(&t->st, p->dev.name);
		char script[65536];
		int len;

		if (!t->sp[i].want || !s)
			continue;
		len = sched_script(&t->img, &t->sp[i], p->dev.name, p->dev.mtu, root->ours, script,
				   sizeof(script));
		if (len < 0) {
			pr_err("%s: the scheduler's script does not fit (%u classes)", p->dev.name,
			       (unsigned int)t->img.nclasses);
			return -1;
		}
		if (!root->ours) {
			snprintf(s->sched_prev, sizeof(s->sched_prev), "%s/%s", root->kind,
				 root->handle);
			if (!root->is_default)
				save_root(o, p->dev.name, p->dev.ifindex, root);
		}
		ret = sched_install(p->dev.name, script, err, sizeof(err));
		if (!s->sched)
			t->added_sched[i] = 1;
		s->sched = 1; /* whatever tc managed to install is ours to remove */
		save_state(o, &t->st);
		if (ret < 0) {
			pr_err("%s: cannot install Nascar's scheduler with tc: %s", p->dev.name,
			       err);
			return -1;
		}
		pr_info("%s: %s", p->dev.name, t->sp[i].why);
	}
	return 0;
}

/* Step 3: 802.1Q priority.  A declared VLAN device tags what it sends with
 * the PCP its egress-qos-map gives skb->priority; map the values the TC
 * path writes (0..7, or the HTB class ids) to the class priority. */
static int set_vlan_maps(const struct rt_opts *o, struct apply_tx *t)
{
	char err[1024];
	int ret;

	for (size_t i = 0; i < t->n; i++) {
		const struct plan_if *p = &t->plan[i];
		struct st_iface *s = state_find(&t->st, p->dev.name);
		char prev[512];

		if (p->dev.kind != DEV_VLAN || t->sp[i].egress == NASCAR_EGRESS_KEEP || !s)
			continue;
		ret = sched_vlan_map(p->dev.name, &t->img, t->sp[i].want, prev, sizeof(prev), err,
				     sizeof(err));
		if (ret < 0) {
			pr_err("%s: %s", p->dev.name, err);
			return -1;
		}
		if (!s->vlan_map) {
			/* what it was before the first apply; commas for the state file */
			for (char *c = prev; *c; c++)
				if (*c == ' ')
					*c = ',';
			snprintf(s->vlan_prev, sizeof(s->vlan_prev), "%s", prev);
			s->vlan_map = 1;
			t->added_vlan[i] = 1;
		}
		save_state(o, &t->st);
		pr_info("%s: 802.1Q priority (PCP) = class priority (egress-qos-map)", p->dev.name);
	}
	return 0;
}

/* Step 4: fill the inactive slot (counters zeroed, policers full); the old
 * policy stays in force. */
static int fill(struct apply_tx *t)
{
	char err[1024];
	int ifindex[NASCAR_MAX_IFACES];
	__u8 ifflags[NASCAR_MAX_IFACES];
	int ret;

	for (size_t i = 0; i < t->n; i++) {
		const struct plan_if *p = &t->plan[i];
		const struct sched_plan *sp = &t->sp[i];

		ifindex[i] = p->dev.ifindex;
		ifflags[i] = (p->xdp ? NASCAR_IF_XDP : 0) |
			     (p->xdp == XDP_NATIVE ? NASCAR_IF_XDP_NATIVE : 0) |
			     (p->tc ? NASCAR_IF_TC : 0) | (p->no_xdp_tx ? NASCAR_IF_NO_XDP_TX : 0) |
			     (p->csum_fix ? NASCAR_IF_CSUM_FIX : 0) |
			     (sp->want ? NASCAR_IF_SCHED : 0) |
			     (sp->want && sp->line_rate ? NASCAR_IF_LINE_RATE : 0);
	}
	to_fill_maps(&t->b, &t->fm);
	ret = fill_slot_ex(&t->fm, &t->img, (int)t->slot, ifindex, ifflags, err, sizeof(err));
	if (ret < 0) {
		pr_err("cannot fill slot %u: %s", t->slot, err);
		return -1;
	}
	return 0;
}

/* Step 4: the switch, one map update. */
static int switch_slot(struct apply_tx *t)
{
	int ret = fill_switch(&t->fm, (int)t->slot, t->gen);

	if (ret < 0) {
		pr_err("cannot switch to slot %u: %s", t->slot, strerror(-ret));
		return -1;
	}
	return 0;
}

/* Step 4: the state file says what is in force now. */
static void commit_state(const struct rt_opts *o, struct apply_tx *t)
{
	struct rt_state *st = &t->st;

	st->generation = t->gen;
	st->active_slot = t->slot;
	st->slot_hash[t->slot] = t->img.hdr->source_hash;
	st->slot_csum[t->slot] = t->img.hdr->checksum;
	st->slot_gen[t->slot] = t->gen;
	if (!realpath(t->file, st->source))
		snprintf(st->source, sizeof(st->source), "%s", t->file);
	for (size_t i = 0; i < t->n; i++) {
		struct st_iface *s = state_find(st, t->plan[i].dev.name);

		if (s)
			s->id = t->img.ifaces[i].val.id;
	}
	save_state(o, st);
}

/* Step 5: hooks, schedulers and VLAN maps no longer wanted; interfaces no
 * longer declared leave the state. */
static void prune(const struct rt_opts *o, struct apply_tx *t)
{
	struct rt_state *st = &t->st;
	const struct plan_if *plan = t->plan;
	char err[1024];

	for (size_t i = 0; i < st->nifaces;) {
		struct st_iface *s = &st->ifaces[i];
		const struct plan_if *p = NULL;

		for (size_t j = 0; j < t->n; j++)
			if (strcmp(plan[j].dev.name, s->name) == 0)
				p = &plan[j];
		if (!p || !p->xdp)
			if (s->xdp || !p)
				remove_xdp(o->pin_dir, s);
		if (!p || !p->tc)
			if (s->tc || !p)
				remove_tc(o->pin_dir, s);
		if (p && t->sp[p - plan].want) {
			if (sched_prune(s->name, &t->img, err, sizeof(err)) < 0)
				pr_warn("%s", err);
		} else {
			remove_sched(o, s);
		}
		if (!p)
			restore_vlan(s);
		if (!p) {
			__u32 k = (__u32)s->ifindex;

			pr_info("%s: detached (no longer declared)", s->name);
			if (k)
				bpf_map_delete_elem(t->b.map[NASCAR_M_DEVMAP], &k);
			state_del(st, s);
			save_state(o, st);
			continue;
		}
		i++;
	}
	save_state(o, st);
}

/* A failure in step 3 or 4, before the switch: take back what this run
 * added; the old policy never saw it. */
static void rollback(const struct rt_opts *o, struct apply_tx *t)
{
	struct rt_state *st = &t->st;

	for (size_t i = 0; i < t->n; i++) {
		struct st_iface *s = state_find(st, t->plan[i].dev.name);

		if (!s)
			continue;
		if (t->added_xdp[i])
			remove_xdp(o->pin_dir, s);
		if (t->added_tc[i])
			remove_tc(o->pin_dir, s);
		if (t->added_sched[i])
			remove_sched(o, s);
		if (t->added_dev[i]) {
			__u32 k = (__u32)t->plan[i].dev.ifindex;

			bpf_map_delete_elem(t->b.map[NASCAR_M_DEVMAP], &k);
		}
		if (t->added_vlan[i])
			restore_vlan(s);
		if (!s->xdp && !s->tc && !s->sched && s->id < 0)
			state_del(st, s);
	}
	save_state(o, st);
	if (t->ns.generation == 0 && st->nifaces == 0) {
		/* a failed first apply leaves no pins behind */
		load_close(&t->b);
		load_unpin_all(o->pin_dir);
		state_remove(o->state_dir);
	}
}

int cmd_apply(struct rt_opts *o, const char *file)
{
	static struct apply_tx tx;
	struct apply_tx *t = &tx;
	int rc = 1;

	memset(t, 0, sizeof(*t));
	t->file = file;
	load_init(&t->b);

	/* 1. Checks: a refusal changes nothing. */
	if (preflight_nfc(file, &t->img) < 0)
		return 1;
	t->n = t->img.nifaces;
	if (preflight(o, t) < 0)
		goto out;
	if (o->dry_run) {
		dry_run(o, t);
		rc = 0;
		goto out;
	}

	/* 2. From here on the machine changes: maps loaded or reused. */
	if (prepare_dirs(o, t) < 0 || load_maps(o, t) < 0)
		goto out;
	if (!o->force && already_in_force(o, t)) {
		rc = 0;
		goto out;
	}
	if (save_nfc(o, t) < 0)
		goto undo; /* nothing added yet: a first apply's pins go */

	/* 3. What the new policy needs, added while the old one is in force. */
	if (add_devmap(t) < 0 || attach_hooks(o, t) < 0 || install_sched(o, t) < 0 ||
	    set_vlan_maps(o, t) < 0)
		goto undo;
	rt_stall("after-sched");

	/* 4. Fill the inactive slot and switch to it. */
	if (fill(t) < 0)
		goto undo;
	rt_stall("before-switch");
	if (switch_slot(t) < 0)
		goto undo;
	commit_state(o, t);
	rt_stall("after-switch");

	/* 5. What the new policy no longer wants. */
	prune(o, t);
	pr_info("policy %016llx in force: generation %u, slot %u, %u flows; pins under %s",
		(unsigned long long)t->img.hdr->source_hash, t->gen, t->slot, t->img.cfg->nflows,
		o->pin_dir);
	rc = 0;
	goto out;

undo:
	rollback(o, t);
out:
	load_close(&t->b);
	nfc_image_free(&t->img);
	return rc;
}
