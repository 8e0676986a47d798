/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * state.h - what nascar-apply created, kept so that detach removes exactly
 * that and status/stats can describe it.
 *
 * The state lives in a directory outside bpffs (bpffs holds no regular
 * files): /run/nascar for the default pin directory, /run/nascar/<pin dir
 * with '/' turned into '-'> for another one, or --state-dir.  It holds
 *   nascar.state       this text file (rewritten by rename, never in place)
 *   applied-0.nfc      the .nfc last loaded into slot 0 (names for stats)
 *   applied-1.nfc      the same for slot 1
 * The state is rewritten after every hook added or removed, so a kill at
 * any point leaves at most one hook unrecorded: the one whose syscall had
 * just returned.  Links are safe even then (an unpinned link dies with the
 * process); netlink filters carry a fixed handle and priority that the next
 * apply and detach look for.
 */
#ifndef NASCAR_STATE_H
#define NASCAR_STATE_H

#include <limits.h>
#include <net/if.h>
#include <linux/types.h>
#include "nascar_abi.h"
#include "util.h"

#define NASCAR_DEFAULT_PIN_DIR "/sys/fs/bpf/nascar"
#define NASCAR_DEFAULT_STATE_DIR "/run/nascar"
#define NASCAR_STATE_FILE "nascar.state"
/* Handle and priority of our netlink clsact filter ("NS"). */
#define NASCAR_TC_HANDLE 0x4e53
#define NASCAR_TC_PRIO 0x4e53

struct st_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int id; /* interface id in the policy now in force, -1 when leaving */
	int role;
	int mode;     /* as the policy says */
	int eff_mode; /* after auto */
	int xdp;      /* XDP_* as attached */
	int tc;	      /* TC_* as attached */
	__u32 xdp_prog_id;
	__u32 tc_prog_id;
	int clsact_created;  /* we created the clsact qdisc (netlink only) */
	int sched;	     /* Nascar's scheduler is the root qdisc (sched.h) */
	char sched_prev[48]; /* the root qdisc it replaced: "kind/handle" */
	int vlan_map;	     /* we set this VLAN device's egress-qos-map */
	char vlan_prev[512]; /* ... and what it was, "1:2,3:4" */
	char reason[320];
};

#define ST_MAX_IFACES (2 * NASCAR_MAX_IFACES)

struct rt_state {
	int valid; /* a state file was read */
	char pin_dir[PATH_MAX];
	char source[PATH_MAX]; /* the .nfc given to the last apply */
	__u32 generation;
	__u32 active_slot;
	__u64 slot_hash[NASCAR_SLOTS];
	__u32 slot_csum[NASCAR_SLOTS];
	__u32 slot_gen[NASCAR_SLOTS];
	size_t nifaces;
	struct st_iface ifaces[ST_MAX_IFACES];
};

/* 0, -ENOENT when there is no state, or -EINVAL (err says why). */
int state_read(const char *dir, struct rt_state *st, char *err, size_t errlen);
int state_write(const char *dir, const struct rt_state *st, char *err, size_t errlen);
int state_remove(const char *dir);
struct st_iface *state_find(struct rt_state *st, const char *name);
struct st_iface *state_add(struct rt_state *st, const char *name);
void state_del(struct rt_state *st, struct st_iface *s);

/* Paths derived from the pin directory. */
void state_link_path(char *buf, size_t len, const char *pin_dir, const char *hook, int ifindex);
void state_nfc_path(char *buf, size_t len, const char *state_dir, unsigned int slot);
void state_default_dir(char *buf, size_t len, const char *pin_dir);
/* pin_dir with its slashes turned into dashes, as in the default state
 * directory and the lock file (lock.h): /sys/fs/bpf/x -> sys-fs-bpf-x. */
void state_escape(char *buf, size_t len, const char *pin_dir);

#endif /* NASCAR_STATE_H */
