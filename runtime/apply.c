// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * apply.c - nascar-apply's apply (and --dry-run) and detach.
 *
 * Order of an apply, and why:
 *  1. everything that can be checked without changing the machine (file,
 *     privileges, bpffs, interfaces, device probes) is checked first, so a
 *     refusal changes nothing;
 *  2. maps are loaded or reused, the .nfc is copied aside for stats;
 *  3. hooks missing on declared interfaces are attached while the old
 *     policy is still in force (an interface it does not declare is handed
 *     to the stack), each one recorded in the state file at once;
 *  4. the inactive slot is filled, then nascar_state is switched in one
 *     map update: the only step that changes what packets see;
 *  5. hooks the new policy no longer wants are removed.
 * A kill before 4 leaves the old policy in force; a kill after it leaves
 * the new one.  Either way the next apply finds the pins and the state and
 * finishes the job (every step checks what is already there).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "fill.h"
#include "attach.h"
#include "load.h"
#include "log.h"
#include "plan.h"
#include "rt.h"
#include "sched.h"
#include "state.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define CAP_BPF_NR 39

void rt_stall(const char *point)
{
	const char *want = getenv("NASCAR_TEST_STALL");

	if (!want || strcmp(want, point) != 0)
		return;
	fprintf(stderr, "nascar-apply: stalled at %s (NASCAR_TEST_STALL)\n", point);
	fflush(stderr);
	sleep(120);
}

/* ---- checks before anything changes ------------------------------------ */

static int has_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	__u64 eff;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	eff = (__u64)data[1].effective << 32 | data[0].effective;
	if (!(eff & (1ULL << CAP_NET_ADMIN)))
		return 0;
	return (eff & (1ULL << CAP_BPF_NR)) || (eff & (1ULL << CAP_SYS_ADMIN));
}

static int same_mount_ns_as_init(void)
{
	char a[64] = "", b[64] = "";

	if (readlink("/proc/self/ns/mnt", a, sizeof(a) - 1) < 0 ||
	    readlink("/proc/1/ns/mnt", b, sizeof(b) - 1) < 0)
		return 1; /* cannot tell: assume the usual case */
	return strcmp(a, b) == 0;
}

/*
 * `ip netns exec NAME` runs its command in a new mount namespace with a
 * sysfs mounted on /sys whose source is NAME (and, with newer iproute2, a
 * fresh bpffs): pins made there vanish with the command.  Returns 1 and
 * the namespace name when /sys looks like that.
 */
static int in_ip_netns_exec(char *name, size_t len)
{
	char line[4096], found[256] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char mnt[512], fstype[64], src[256];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 || strcmp(mnt, "/sys"))
			continue;
		if (sscanf(sep + 3, "%63s %255s", fstype, src) != 2)
			continue;
		if (strcmp(fstype, "sysfs") == 0)
			snprintf(found, sizeof(found), "%s",
				 strcmp(src, "sysfs") && strcmp(src, "none") ? src : "");
	}
	fclose(f);
	if (!found[0])
		return 0;
	snprintf(name, len, "%s", found);
	return 1;
}

/*
 * Is pin_dir on bpffs, or can it be?  *mount_at is set to the directory to
 * mount bpffs on (only /sys/fs/bpf itself), or "".
 */
static int check_bpffs(const char *pin_dir, char *mount_at, size_t len, int private_ok)
{
	char dir[PATH_MAX], nsname[256];
	struct statfs sfs;
	struct stat st;

	mount_at[0] = '\0';
	if (!private_ok && strncmp(pin_dir, "/sys/", 5) == 0 &&
	    in_ip_netns_exec(nsname, sizeof(nsname))) {
		pr_err("running under 'ip netns exec %s', which gives /sys (and /sys/fs/bpf) to "
		       "this command alone: pins made here would vanish with it; run nascar-apply "
		       "with 'nsenter --net=/run/netns/%s' instead, or pass --private-bpffs",
		       nsname, nsname);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", pin_dir);
	while (stat(dir, &st) < 0) {
		char *slash = strrchr(dir, '/');

		if (!slash || slash == dir) {
			snprintf(dir, sizeof(dir), "/");
			break;
		}
		*slash = '\0';
	}
	if (statfs(dir, &sfs) == 0 && (unsigned long)sfs.f_type == BPF_FS_MAGIC) {
		char init_path[PATH_MAX + 16];
		struct stat ist;

		if (private_ok || same_mount_ns_as_init())
			return 0;
		/* Another mount namespace: is this the bpffs everyone sees?  (ip
		 * netns exec mounts a private one that dies with the command,
		 * and with it every pinned link.) */
		snprintf(init_path, sizeof(init_path), "/proc/1/root%s", dir);
		if (stat(init_path, &ist) == 0 && ist.st_dev == st.st_dev)
			return 0;
		pr_err("the bpffs at %s is private to this mount namespace ('ip netns exec' mounts "
		       "its own), so the pins and hooks would vanish when it goes; run "
		       "nascar-apply "
		       "with 'nsenter --net=/run/netns/NAME' instead, or pass --private-bpffs if "
		       "this namespace outlives it",
		       dir);
		return -1;
	}
	if (strcmp(dir, "/sys/fs/bpf") == 0) {
		if (!same_mount_ns_as_init()) {
			pr_err("no bpf filesystem at /sys/fs/bpf in this mount namespace ('ip "
			       "netns "
			       "exec' mounts a fresh /sys, and pins made here would vanish); run "
			       "nascar-apply with 'nsenter --net=/run/netns/NAME' or mount bpffs "
			       "first (mount -t bpf bpf /sys/fs/bpf)");
			return -1;
		}
		snprintf(mount_at, len, "/sys/fs/bpf");
		return 0;
	}
	pr_err("%s is not on a bpf filesystem; mount one (mount -t bpf bpf DIR) or choose a "
	       "--pin-dir under /sys/fs/bpf",
	       pin_dir);
	return -1;
}

static int mount_bpffs(const char *at)
{
	if (mount("bpf", at, "bpf", 0, NULL) < 0) {
		pr_err("bpffs is not mounted at %s and mounting it failed (%s); mount it "
		       "(mount -t bpf bpf %s) or run as root",
		       at, strerror(errno), at);
		return -1;
	}
	pr_info("mounted bpffs at %s", at);
	return 0;
}

static int load_nfc(const char *file, struct nfc_image *img)
{
	char err[512];

	if (nfc_load_file(file, img, err, sizeof(err)) == 0)
		return 0;
	if (strchr(err, ';'))
		pr_err("%s: %s", file, err);
	else if (strncmp(err, "cannot open", 11) == 0)
		pr_err("%s: %s; give the path of a policy compiled with 'nascarc compile'", file,
		       err);
	else
		pr_err("%s: %s; recompile it with 'nascarc compile'", file, err);
	return -1;
}

/* ---- the plan ----------------------------------------------------------- */

static void plan_line(char *buf, size_t len, int eff, int xdp, int tc)
{
	char x[32] = "", t[32] = "";

	if (xdp)
		snprintf(x, sizeof(x), "xdp %s", plan_xdp_name(xdp));
	if (tc)
		snprintf(t, sizeof(t), "tc %s", plan_tc_name(tc));
	snprintf(buf, len, "%s (%s%s%s)", plan_mode_name(eff), x, xdp && tc ? " + " : "", t);
}

static int build_plan(const struct rt_opts *o, const struct nfc_image *img, struct plan_if *plan)
{
	int refused = 0;

	for (size_t i = 0; i < img->nifaces; i++) {
		const struct nfc_iface *fi = &img->ifaces[i];
		char name[NASCAR_IFNAMSIZ + 1];

		memcpy(name, fi->name, NASCAR_IFNAMSIZ);
		name[NASCAR_IFNAMSIZ] = '\0';
		if (probe_dev(name, &plan[i].dev) < 0) {
			pr_err("interface '%s' declared in the policy does not exist here; create "
			       "it, or run nascar-apply in its network namespace (nsenter "
			       "--net=/run/netns/NAME), or remove it from the policy",
			       name);
			return -1;
		}
		plan[i].id = fi->val.id;
		plan[i].role = fi->val.role;
		plan[i].mode = fi->val.mode;
	}
	plan_decide(plan, img->nifaces, probe_has_tcx());
	for (size_t i = 0; i < img->nifaces; i++) {
		if (!plan[i].refuse[0])
			continue;
		if (o->unsafe_mode) {
			pr_warn("%s (applied anyway: --unsafe-mode)", plan[i].refuse);
			continue;
		}
		pr_err("%s; nothing was changed (--unsafe-mode applies it anyway)", plan[i].refuse);
		refused = 1;
	}
	return refused ? -1 : 0;
}

/* ---- hooks -------------------------------------------------------------- */

struct live {
	int xdp; /* XDP_* */
	int tc;	 /* TC_* */
	__u32 xdp_prog, tc_prog;
};

static void live_hooks(const char *pin_dir, int ifindex, struct live *l)
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

static int remove_xdp(const char *pin_dir, struct st_iface *s)
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

static int remove_tc(const char *pin_dir, struct st_iface *s)
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

/* ---- apply -------------------------------------------------------------- */

static int is_declared(const struct plan_if *plan, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(plan[i].dev.name, name) == 0)
			return 1;
	return 0;
}

static void print_plan(const struct plan_if *plan, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char line[96];

		plan_line(line, sizeof(line), plan[i].eff_mode, plan[i].xdp, plan[i].tc);
		pr_info("%s%s: %s: %s", prefix, plan[i].dev.name, line, plan[i].reason);
	}
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
		if (!is_declared(plan, n, st->ifaces[i].name))
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

/* ---- the egress scheduler ------------------------------------------------ */

/*
 * Before anything changes: which interfaces get Nascar's scheduler, and may
 * it replace what is there?  Also the warnings of nflow version 2 about
 * rates that end up policed.  Returns -1 (error printed) to refuse.
 */
static int sched_preflight(const struct nfc_image *img, const struct plan_if *plan, size_t n,
			   struct sched_plan *sp, struct sched_root *root)
{
	int refused = 0;

	for (size_t i = 0; i < n; i++) {
		char err[512];

		sched_decide(img, i, plan[i].dev.kind == DEV_PHYS, &sp[i]);
		memset(&root[i], 0, sizeof(root[i]));
		if (sp[i].egress == NASCAR_EGRESS_KEEP && sp[i].nshaped)
			pr_warn("%s: egress keep: shaped classes are policed on the way out of it "
				"(Nascar does not own its qdisc)",
				plan[i].dev.name);
		if (plan[i].xdp && !plan[i].tc && sp[i].nshaped)
			pr_warn("%s: only XDP is attached: packets arriving here in a class with a "
				"rate are policed, not shaped (TCP collapses under a policer); "
				"mode "
				"hybrid or auto shapes them",
				plan[i].dev.name);
		if (!sp[i].want)
			continue;
		for (size_t j = 0; j < n; j++)
			if (j != i && sp[i].line_rate && plan[j].xdp && !plan[j].tc)
				pr_warn("%s: only XDP is attached: what it forwards to %s bypasses "
					"the line rate of Nascar's scheduler there; mode hybrid or "
					"auto takes it through",
					plan[j].dev.name, plan[i].dev.name);
		if (sched_root(plan[i].dev.name, &root[i], err, sizeof(err)) < 0) {
			pr_err("%s: %s; Nascar's scheduler needs iproute2's tc", plan[i].dev.name,
			       err);
			refused = 1;
			continue;
		}
		if (root[i].ours || root[i].is_default || sp[i].egress == NASCAR_EGRESS_REPLACE)
			continue;
		pr_err("%s: its root qdisc is %s (handle %s), not a kernel default, and the "
		       "policy says egress auto; write 'egress replace;' to let Nascar own it, or "
		       "'egress keep;' to leave it (rates are then policed); nothing was changed",
		       plan[i].dev.name, root[i].kind, root[i].handle);
		refused = 1;
	}
	return refused ? -1 : 0;
}

static int remove_sched(const struct rt_opts *o, struct st_iface *s)
{
	char err[512];

	if (!s->sched)
		return 0;
	if (sched_remove(s->name, err, sizeof(err)) < 0) {
		pr_warn("%s", err);
		return -1;
	}
	if (s->sched_prev[0] && strncmp(s->sched_prev, "noqueue/", 8) &&
	    strstr(s->sched_prev, "/0:") == NULL) {
		char path[PATH_MAX + 64], line[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/qdisc-%.*s.restore", o->state_dir, IF_NAMESIZE,
			 s->name);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
		}
		if (line[0] && sched_install(s->name, line, err, sizeof(err)) == 0) {
			pr_info("%s: the qdisc Nascar replaced (%s, egress replace) is back",
				s->name, s->sched_prev);
			unlink(path);
			snprintf(path, sizeof(path), "%s/qdisc-%.*s.before", o->state_dir,
				 IF_NAMESIZE, s->name);
			unlink(path);
		} else if (line[0]) {
			// clang-format off
			pr_warn("%s: cannot put back the qdisc Nascar replaced (%s, egress replace): %s; the kernel's default is back; its configuration was saved in %s/qdisc-%s.before",
				s->name, s->sched_prev, err, o->state_dir, s->name);
			// clang-format on
		} else {
			// clang-format off
			pr_warn("%s: the qdisc Nascar replaced (%s, egress replace) is not re-created (it has children, or settings tc does not print); the kernel's default is back; its configuration was saved in %s/qdisc-%s.before",
				s->name, s->sched_prev, o->state_dir, s->name);
			// clang-format on
		}
	}
	s->sched = 0;
	s->sched_prev[0] = '\0';
	return 0;
}

/* Puts back the egress-qos-map a VLAN device had before Nascar set it. */
static int restore_vlan(struct st_iface *s)
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

static void save_root_text(const struct rt_opts *o, const char *dev, const struct sched_root *r)
{
	char path[PATH_MAX + 64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/qdisc-%.*s.before", o->state_dir, IF_NAMESIZE, dev);
	f = fopen(path, "we");
	if (!f)
		return;
	fputs(r->text, f);
	fclose(f);
	/* and the tc line that makes it again, when there is one */
	snprintf(path, sizeof(path), "%s/qdisc-%.*s.restore", o->state_dir, IF_NAMESIZE, dev);
	if (sched_recreate(r->json, dev, line, sizeof(line)) < 0) {
		unlink(path);
		return;
	}
	f = fopen(path, "we");
	if (!f)
		return;
	fputs(line, f);
	fclose(f);
}

int cmd_apply(struct rt_opts *o, const char *file)
{
	struct plan_if plan[NASCAR_MAX_IFACES];
	char mount_at[PATH_MAX], err[1024], path[PATH_MAX];
	struct nfc_image img;
	struct rt_state st;
	struct rt_bpf b;
	struct nascar_state ns;
	struct nascar_slot_cfg cfg;
	int ifindex[NASCAR_MAX_IFACES];
	__u8 ifflags[NASCAR_MAX_IFACES];
	struct fill_maps fm;
	int added_xdp[NASCAR_MAX_IFACES] = {0}, added_tc[NASCAR_MAX_IFACES] = {0};
	int added_dev[NASCAR_MAX_IFACES] = {0};
	int added_sched[NASCAR_MAX_IFACES] = {0}, added_vlan[NASCAR_MAX_IFACES] = {0};
	static struct sched_plan sp[NASCAR_MAX_IFACES];
	static struct sched_root sroot[NASCAR_MAX_IFACES];
	unsigned int slot;
	__u32 gen;
	int rc = 1, ret, fresh = 0;
	size_t n;

	load_init(&b);
	memset(plan, 0, sizeof(plan));
	if (load_nfc(file, &img) < 0)
		return 1;
	n = img.nifaces;
	if (!o->dry_run && !has_caps()) {
		pr_err("needs root (or CAP_BPF and CAP_NET_ADMIN) to load and attach BPF programs; "
		       "run it as root, e.g. with sudo");
		goto out_img;
	}
	if (check_bpffs(o->pin_dir, mount_at, sizeof(mount_at), o->private_bpffs) < 0 &&
	    !o->dry_run)
		goto out_img;
	if (build_plan(o, &img, plan) < 0)
		goto out_img;
	if (sched_preflight(&img, plan, n, sp, sroot) < 0)
		goto out_img;

	ret = state_read(o->state_dir, &st, err, sizeof(err));
	if (ret < 0 && ret != -ENOENT)
		pr_warn("%s; starting from the pins alone", err);

	if (o->dry_run) {
		pr_info("dry run: policy %016llx from %s (%zu interfaces, %u flows); pins would be "
			"under %s%s",
			(unsigned long long)img.hdr->source_hash, file, n, img.cfg->nflows,
			o->pin_dir, mount_at[0] ? " (after mounting bpffs)" : "");
		print_plan(plan, n, "would attach ");
		for (size_t i = 0; i < n; i++)
			if (sp[i].want)
				pr_info("would %s Nascar's scheduler on %s (replacing %s %s): %s",
					sroot[i].ours ? "update" : "install", plan[i].dev.name,
					sroot[i].kind, sroot[i].handle, sp[i].why);
		for (size_t i = 0; i < st.nifaces; i++)
			if (!is_declared(plan, n, st.ifaces[i].name))
				pr_info("would detach %s: no longer declared", st.ifaces[i].name);
		if (load_pins_exist(o->pin_dir) &&
		    load_pinned(&b, o->pin_dir, err, sizeof(err)) == 0 &&
		    read_active(&b, &ns, &cfg) == 0 && ns.generation) {
			if (same_policy_in_force(o, &b, &img, &st, plan, n, &ns, &cfg))
				pr_info("would do nothing: this policy is already in force "
					"(generation %u)",
					ns.generation);
			else
				pr_info("would fill slot %u and switch from generation %u to %u",
					1 - (ns.active_slot & 1), ns.generation, ns.generation + 1);
		} else {
			pr_info("would load the BPF programs, fill slot 0 and switch to generation "
				"1");
		}
		rc = 0;
		goto out;
	}

	/* From here on the machine changes. */
	if (mount_at[0] && mount_bpffs(mount_at) < 0)
		goto out_img;
	fresh = !load_pins_exist(o->pin_dir);
	ret = mkdir_p(o->pin_dir, 0700);
	if (ret < 0) {
		pr_err("cannot create the pin directory %s (%s); choose another --pin-dir",
		       o->pin_dir, strerror(-ret));
		goto out_img;
	}
	ret = mkdir_p(o->state_dir, 0755);
	if (ret < 0) {
		pr_err("cannot create the state directory %s (%s); choose another --state-dir",
		       o->state_dir, strerror(-ret));
		goto out_img;
	}
	ret = load_object(&b, o->pin_dir, o->bpf_obj, err, sizeof(err));
	if (ret < 0) {
		pr_err("%s", err);
		if (fresh) {
			/* a failed first load leaves nothing behind */
			load_close(&b);
			load_unpin_all(o->pin_dir);
			state_remove(o->state_dir);
		}
		goto out;
	}
	if (read_active(&b, &ns, &cfg) < 0) {
		pr_err("cannot read %s under %s (%s); run 'nascar-apply detach' and apply again",
		       NASCAR_MAP_STATE, o->pin_dir, strerror(errno));
		goto out;
	}
	if (!st.valid) {
		memset(&st, 0, sizeof(st));
		st.valid = 1;
	}
	snprintf(st.pin_dir, sizeof(st.pin_dir), "%s", o->pin_dir);
	if (!o->force && same_policy_in_force(o, &b, &img, &st, plan, n, &ns, &cfg)) {
		pr_info("policy %016llx is already in force (generation %u, slot %u): nothing to "
			"do; pins under %s",
			(unsigned long long)img.hdr->source_hash, ns.generation, ns.active_slot & 1,
			o->pin_dir);
		rc = 0;
		goto out;
	}
	slot = ns.generation == 0 ? 0 : 1 - (ns.active_slot & 1);
	gen = ns.generation + 1;
	pr_info("pins: %s (state: %s)", o->pin_dir, o->state_dir);

	/* The .nfc of the slot being filled, for stats' flow names. */
	state_nfc_path(path, sizeof(path), o->state_dir, slot);
	ret = copy_file(file, path);
	if (ret < 0) {
		pr_err("cannot copy %s to %s (%s); check the state directory", file, path,
		       strerror(-ret));
		goto out;
	}

	/* Egress devices for XDP redirects. */
	for (size_t i = 0; i < n; i++) {
		__u32 k = (__u32)plan[i].dev.ifindex, v;

		if (bpf_map_lookup_elem(b.map[NASCAR_M_DEVMAP], &k, &v) == 0)
			continue;
		to_fill_maps(&b, &fm);
		ret = fill_devmap_add(&fm, (int)k);
		if (ret < 0) {
			pr_err("cannot add %s to %s (%s)", plan[i].dev.name, NASCAR_MAP_DEVMAP,
			       strerror(-ret));
			goto rollback;
		}
		added_dev[i] = 1;
	}

	/* Hooks the new policy needs, while the old one is in force. */
	for (size_t i = 0; i < n; i++) {
		struct plan_if *p = &plan[i];
		struct st_iface *s = state_find(&st, p->dev.name);
		struct live l;
		char line[96];

		if (s && s->ifindex != p->dev.ifindex) {
			/* the device was re-created: its old hooks died with it */
			remove_xdp(o->pin_dir, s);
			remove_tc(o->pin_dir, s);
		}
		if (!s)
			s = state_add(&st, p->dev.name);
		if (!s) {
			pr_err("too many interfaces in the state file");
			goto rollback;
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
			ret = attach_xdp(b.prog_xdp, p->dev.ifindex, p->dev.name, p->xdp,
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
				goto rollback;
			} else {
				if (got != p->xdp)
					snprintf(p->reason + strlen(p->reason),
						 sizeof(p->reason) - strlen(p->reason),
						 " (the driver refused native XDP: generic)");
				p->xdp = got;
				s->xdp = got;
				s->xdp_prog_id = prog_id_of(b.prog_xdp);
				added_xdp[i] = 1;
				save_state(o, &st);
			}
		} else if (p->xdp && l.xdp) {
			p->xdp = l.xdp; /* keep what is there */
		}
		rt_stall("after-xdp");
		if (p->tc && !l.tc) {
			if (p->tc == TC_TCX) {
				state_link_path(path, sizeof(path), o->pin_dir, "tc",
						p->dev.ifindex);
				ret = attach_tcx(b.prog_tc, p->dev.ifindex, p->dev.name, path, err,
						 sizeof(err));
			} else {
				ret = attach_tc_netlink(b.prog_tc, p->dev.ifindex, p->dev.name,
							&s->clsact_created, err, sizeof(err));
			}
			if (ret < 0) {
				pr_err("%s", err);
				goto rollback;
			}
			s->tc = p->tc;
			s->tc_prog_id = prog_id_of(b.prog_tc);
			added_tc[i] = 1;
			save_state(o, &st);
		} else if (p->tc && l.tc) {
			p->tc = l.tc;
		}
		snprintf(s->reason, sizeof(s->reason), "%s", p->reason);
		s->eff_mode = p->eff_mode;
		plan_line(line, sizeof(line), p->eff_mode, p->xdp, p->tc);
		pr_info("%s: %s: %s", p->dev.name, line, p->reason);
	}

	/* Egress schedulers the new policy needs.  The old policy's packets
	 * carry priorities 0..7, which land in the default class until the
	 * switch. */
	for (size_t i = 0; i < n; i++) {
		struct st_iface *s = state_find(&st, plan[i].dev.name);
		char script[65536];
		int len;

		if (!sp[i].want || !s)
			continue;
		len = sched_script(&img, &sp[i], plan[i].dev.name, plan[i].dev.mtu, sroot[i].ours,
				   script, sizeof(script));
		if (len < 0) {
			pr_err("%s: the scheduler's script does not fit (%u classes)",
			       plan[i].dev.name, (unsigned int)img.nclasses);
			goto rollback;
		}
		if (!sroot[i].ours) {
			snprintf(s->sched_prev, sizeof(s->sched_prev), "%s/%s", sroot[i].kind,
				 sroot[i].handle);
			if (!sroot[i].is_default)
				save_root_text(o, plan[i].dev.name, &sroot[i]);
		}
		ret = sched_install(plan[i].dev.name, script, err, sizeof(err));
		if (!s->sched)
			added_sched[i] = 1;
		s->sched = 1; /* whatever tc managed to install is ours to remove */
		save_state(o, &st);
		if (ret < 0) {
			pr_err("%s: cannot install Nascar's scheduler with tc: %s",
			       plan[i].dev.name, err);
			goto rollback;
		}
		pr_info("%s: %s", plan[i].dev.name, sp[i].why);
	}
	/* 802.1Q priority: a declared VLAN device tags what it sends with
	 * the PCP its egress-qos-map gives skb->priority; map the values the
	 * TC path writes (0..7, or the HTB class ids) to the class priority. */
	for (size_t i = 0; i < n; i++) {
		struct st_iface *s = state_find(&st, plan[i].dev.name);
		char prev[512];

		if (plan[i].dev.kind != DEV_VLAN || sp[i].egress == NASCAR_EGRESS_KEEP || !s)
			continue;
		ret = sched_vlan_map(plan[i].dev.name, &img, sp[i].want, prev, sizeof(prev), err,
				     sizeof(err));
		if (ret < 0) {
			pr_err("%s: %s", plan[i].dev.name, err);
			goto rollback;
		}
		if (!s->vlan_map) {
			/* what it was before the first apply; commas for the state file */
			for (char *c = prev; *c; c++)
				if (*c == ' ')
					*c = ',';
			snprintf(s->vlan_prev, sizeof(s->vlan_prev), "%s", prev);
			s->vlan_map = 1;
			added_vlan[i] = 1;
		}
		save_state(o, &st);
		pr_info("%s: 802.1Q priority (PCP) = class priority (egress-qos-map)",
			plan[i].dev.name);
	}
	rt_stall("after-sched");

	/* Fill the inactive slot (counters zeroed, policers full); the old
	 * policy stays in force. */
	for (size_t i = 0; i < n; i++) {
		ifindex[i] = plan[i].dev.ifindex;
		ifflags[i] = (plan[i].xdp ? NASCAR_IF_XDP : 0) |
			     (plan[i].xdp == XDP_NATIVE ? NASCAR_IF_XDP_NATIVE : 0) |
			     (plan[i].tc ? NASCAR_IF_TC : 0) |
			     (plan[i].no_xdp_tx ? NASCAR_IF_NO_XDP_TX : 0) |
			     (plan[i].csum_fix ? NASCAR_IF_CSUM_FIX : 0) |
			     (sp[i].want ? NASCAR_IF_SCHED : 0) |
			     (sp[i].want && sp[i].line_rate ? NASCAR_IF_LINE_RATE : 0);
	}
	to_fill_maps(&b, &fm);
	ret = fill_slot_ex(&fm, &img, (int)slot, ifindex, ifflags, err, sizeof(err));
	if (ret < 0) {
		pr_err("cannot fill slot %u: %s", slot, err);
		goto rollback;
	}
	rt_stall("before-switch");

	/* The switch: one map update. */
	ret = fill_switch(&fm, (int)slot, gen);
	if (ret < 0) {
		pr_err("cannot switch to slot %u: %s", slot, strerror(-ret));
		goto rollback;
	}
	st.generation = gen;
	st.active_slot = slot;
	st.slot_hash[slot] = img.hdr->source_hash;
	st.slot_csum[slot] = img.hdr->checksum;
	st.slot_gen[slot] = gen;
	if (!realpath(file, st.source))
		snprintf(st.source, sizeof(st.source), "%s", file);
	for (size_t i = 0; i < n; i++) {
		struct st_iface *s = state_find(&st, plan[i].dev.name);

		if (s)
			s->id = img.ifaces[i].val.id;
	}
	save_state(o, &st);
	rt_stall("after-switch");

	/* Hooks no longer wanted. */
	for (size_t i = 0; i < st.nifaces;) {
		struct st_iface *s = &st.ifaces[i];
		const struct plan_if *p = NULL;

		for (size_t j = 0; j < n; j++)
			if (strcmp(plan[j].dev.name, s->name) == 0)
				p = &plan[j];
		if (!p || !p->xdp)
			if (s->xdp || !p)
				remove_xdp(o->pin_dir, s);
		if (!p || !p->tc)
			if (s->tc || !p)
				remove_tc(o->pin_dir, s);
		if (p && sp[p - plan].want) {
			if (sched_prune(s->name, &img, err, sizeof(err)) < 0)
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
				bpf_map_delete_elem(b.map[NASCAR_M_DEVMAP], &k);
			state_del(&st, s);
			save_state(o, &st);
			continue;
		}
		i++;
	}
	save_state(o, &st);
	pr_info("policy %016llx in force: generation %u, slot %u, %u flows; pins under %s",
		(unsigned long long)img.hdr->source_hash, gen, slot, img.cfg->nflows, o->pin_dir);
	rc = 0;
	goto out;

rollback:
	/* Before the switch: take back what this run added; the old policy
	 * never saw it. */
	for (size_t i = 0; i < n; i++) {
		struct st_iface *s = state_find(&st, plan[i].dev.name);

		if (!s)
			continue;
		if (added_xdp[i])
			remove_xdp(o->pin_dir, s);
		if (added_tc[i])
			remove_tc(o->pin_dir, s);
		if (added_sched[i])
			remove_sched(o, s);
		if (added_dev[i]) {
			__u32 k = (__u32)plan[i].dev.ifindex;

			bpf_map_delete_elem(b.map[NASCAR_M_DEVMAP], &k);
		}
		if (added_vlan[i])
			restore_vlan(s);
		if (!s->xdp && !s->tc && !s->sched && s->id < 0)
			state_del(&st, s);
	}
	save_state(o, &st);
	if (ns.generation == 0 && st.nifaces == 0) {
		/* a failed first apply leaves no pins behind */
		load_close(&b);
		load_unpin_all(o->pin_dir);
		state_remove(o->state_dir);
	}
	rc = 1;
out:
	load_close(&b);
out_img:
	nfc_image_free(&img);
	return rc;
}

/* ---- detach ------------------------------------------------------------- */

int cmd_detach(struct rt_opts *o)
{
	char err[512], path[PATH_MAX + 8], done[4096] = "";
	struct rt_state st;
	int ret, removed = 0, failed = 0, had_state;

	if (!has_caps()) {
		pr_err("needs root (or CAP_BPF and CAP_NET_ADMIN) to detach; run it as root");
		return 1;
	}
	ret = state_read(o->state_dir, &st, err, sizeof(err));
	if (ret < 0 && ret != -ENOENT)
		pr_warn("%s", err);
	had_state = ret == 0;

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
		pr_err("could not remove every hook (see the warnings above); fix the cause and "
		       "run "
		       "'nascar-apply detach' again");
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
