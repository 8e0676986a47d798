/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * preflight.h - what nascar-apply checks before it changes anything: the
 * .nfc file, the privileges, the bpf filesystem (and the mount namespace it
 * lives in), and whether Nascar's egress scheduler may take the interfaces'
 * root qdiscs.
 *
 * Contract: every check changes nothing on the machine and returns 0, or
 * -1 after printing its one-line error (a refusal that says how to get
 * past it).  preflight_mount_bpffs() is the exception: it is the change a
 * successful preflight_bpffs() asks for, made by the first step of an
 * apply that changes the machine.
 */
#ifndef NASCAR_PREFLIGHT_H
#define NASCAR_PREFLIGHT_H

#include <stddef.h>
#include "nfc.h"
#include "plan.h"
#include "sched.h"

/* Loads and validates the compiled policy; the error names the file. */
int preflight_nfc(const char *file, struct nfc_image *img);

/* 1 when the process may load and attach BPF programs (CAP_NET_ADMIN and
 * CAP_BPF or CAP_SYS_ADMIN); prints nothing. */
int preflight_caps(void);

/* Is pin_dir on bpffs, or can it be?  *mount_at is set to the directory to
 * mount bpffs on (only /sys/fs/bpf itself), or "".  private_ok: accept a
 * bpffs private to this mount namespace (--private-bpffs). */
int preflight_bpffs(const char *pin_dir, char *mount_at, size_t len, int private_ok);
int preflight_mount_bpffs(const char *at);

/* Which of the n interfaces of plan get Nascar's scheduler (sp), and what
 * their root qdisc is now (root); refuses to replace a qdisc the policy
 * does not allow it to.  Also warns about rates that end up policed. */
int preflight_sched(const struct nfc_image *img, const struct plan_if *plan, size_t n,
		    struct sched_plan *sp, struct sched_root *root);

#endif /* NASCAR_PREFLIGHT_H */
