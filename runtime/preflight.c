// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * preflight.c - nascar-apply's checks before anything changes (preflight.h):
 * the .nfc, privileges, bpffs and its mount namespace, the egress
 * scheduler's qdiscs.  A refusal here leaves the machine as it was.
 */
#include <errno.h>
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
#include <linux/magic.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "log.h"
#include "plan.h"
#include "preflight.h"
#include "sched.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define CAP_BPF_NR 39

/* ---- checks before anything changes ------------------------------------ */

int preflight_caps(void)
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
int preflight_bpffs(const char *pin_dir, char *mount_at, size_t len, int private_ok)
{
	char dir[PATH_MAX], nsname[256];
	struct statfs sfs;
	struct stat st;

	mount_at[0] = '\0';
	if (!private_ok && strncmp(pin_dir, "/sys/", 5) == 0 &&
	    in_ip_netns_exec(nsname, sizeof(nsname))) {
		pr_err("running under 'ip netns exec %s', which gives /sys (and /sys/fs/bpf) to this command alone: pins made here would vanish with it; run nascar-apply with 'nsenter --net=/run/netns/%s' instead, or pass --private-bpffs",
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
		pr_err("the bpffs at %s is private to this mount namespace ('ip netns exec' mounts its own), so the pins and hooks would vanish when it goes; run nascar-apply with 'nsenter --net=/run/netns/NAME' instead, or pass --private-bpffs if this namespace outlives it",
		       dir);
		return -1;
	}
	if (strcmp(dir, "/sys/fs/bpf") == 0) {
		if (!same_mount_ns_as_init()) {
			pr_err("no bpf filesystem at /sys/fs/bpf in this mount namespace ('ip netns exec' mounts a fresh /sys, and pins made here would vanish); run nascar-apply with 'nsenter --net=/run/netns/NAME' or mount bpffs first (mount -t bpf bpf /sys/fs/bpf)");
			return -1;
		}
		snprintf(mount_at, len, "/sys/fs/bpf");
		return 0;
	}
	pr_err("%s is not on a bpf filesystem; mount one (mount -t bpf bpf DIR) or choose a --pin-dir under /sys/fs/bpf",
	       pin_dir);
	return -1;
}

int preflight_mount_bpffs(const char *at)
{
	if (mount("bpf", at, "bpf", 0, NULL) < 0) {
		pr_err("bpffs is not mounted at %s and mounting it failed (%s); mount it (mount -t bpf bpf %s) or run as root",
		       at, strerror(errno), at);
		return -1;
	}
	pr_info("mounted bpffs at %s", at);
	return 0;
}

int preflight_nfc(const char *file, struct nfc_image *img)
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

/* ---- the egress scheduler ------------------------------------------------ */

/*
 * Before anything changes: which interfaces get Nascar's scheduler, and may
 * it replace what is there?  Also the warnings of nflow version 2 about
 * rates that end up policed.  Returns -1 (error printed) to refuse.
 */
int preflight_sched(const struct nfc_image *img, const struct plan_if *plan, size_t n,
		    struct sched_plan *sp, struct sched_root *root)
{
	int refused = 0;

	for (size_t i = 0; i < n; i++) {
		char err[512];

		sched_decide(img, i, plan[i].dev.kind == DEV_PHYS, &sp[i]);
		memset(&root[i], 0, sizeof(root[i]));
		if (sp[i].egress == NASCAR_EGRESS_KEEP && sp[i].nshaped)
			pr_warn("%s: egress keep: shaped classes are policed on the way out of it (Nascar does not own its qdisc)",
				plan[i].dev.name);
		if (plan[i].xdp && !plan[i].tc && sp[i].nshaped)
			pr_warn("%s: only XDP is attached: packets arriving here in a class with a rate are policed, not shaped (TCP collapses under a policer); mode hybrid or auto shapes them",
				plan[i].dev.name);
		if (!sp[i].want)
			continue;
		for (size_t j = 0; j < n; j++)
			if (j != i && sp[i].line_rate && plan[j].xdp && !plan[j].tc)
				pr_warn("%s: only XDP is attached: what it forwards to %s bypasses the line rate of Nascar's scheduler there; mode hybrid or auto takes it through",
					plan[j].dev.name, plan[i].dev.name);
		if (sched_root(plan[i].dev.name, &root[i], err, sizeof(err)) < 0) {
			pr_err("%s: %s; Nascar's scheduler needs iproute2's tc", plan[i].dev.name,
			       err);
			refused = 1;
			continue;
		}
		if (root[i].ours || root[i].is_default || sp[i].egress == NASCAR_EGRESS_REPLACE)
			continue;
		pr_err("%s: its root qdisc is %s (handle %s), not a kernel default, and the policy says egress auto; write 'egress replace;' to let Nascar own it, or 'egress keep;' to leave it (rates are then policed); nothing was changed",
		       plan[i].dev.name, root[i].kind, root[i].handle);
		refused = 1;
	}
	return refused ? -1 : 0;
}
