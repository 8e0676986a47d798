/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * load.h - the BPF object of nascar-apply: open, load, pin, reuse.
 *
 * Contract: every map is pinned at <pin dir>/<map name> (the NASCAR_MAP_*
 * names; the maps of the ABI are the rows of NASCAR_MAPS); the two programs
 * at <pin dir>/prog_nascar_xdp and prog_nascar_tc; links under
 * <pin dir>/links/ (attach.h).  A load with pins in place reuses the pinned
 * maps (libbpf checks that they match this build) and the pinned programs,
 * so every interface runs the same program instance.  A verifier rejection
 * writes libbpf's whole output to a log file whose path load_object()
 * returns in err.
 */
#ifndef NASCAR_LOAD_H
#define NASCAR_LOAD_H

#include <stddef.h>
#include "nascar_abi.h"

struct bpf_object;
struct nascar_bpf;

#define LOAD_PROG_XDP "nascar_xdp"
#define LOAD_PROG_TC "nascar_tc"

struct rt_bpf {
	struct nascar_bpf *skel; /* the embedded object, or NULL */
	struct bpf_object *obj;	 /* skel->obj, or one opened from --bpf-obj */
	int prog_xdp;		 /* fds, -1 when absent */
	int prog_tc;
	int map[NASCAR_NMAPS]; /* fds, by enum nascar_map_id (NASCAR_M_*) */
	int own_fds;	       /* map fds opened from pins (close them) */
	int own_progs;	       /* program fds opened from pins (close them) */
};

void load_init(struct rt_bpf *b);
/* Opens and loads (reusing pins), pins maps and programs.  obj_path NULL:
 * the embedded skeleton.  Returns -EACCES etc; err is one line. */
int load_object(struct rt_bpf *b, const char *pin_dir, const char *obj_path, char *err,
		size_t errlen);
/* Sizes the maps whose size depends on the machine (the per-CPU sets of
 * nascar_l1: NASCAR_L1_SETS per possible CPU) in an opened, not yet loaded
 * object.  Returns 0 or a negative errno. */
int load_size_maps(struct bpf_object *obj);
/* Only opens the pinned maps (status, stats, detach).  -ENOENT if none. */
int load_pinned(struct rt_bpf *b, const char *pin_dir, char *err, size_t errlen);
void load_close(struct rt_bpf *b);
/* Removes every pin nascar-apply makes under pin_dir, then the directory
 * if it is empty.  Returns the number of pins removed. */
int load_unpin_all(const char *pin_dir);
/* The pins load_unpin_all() would remove (detach --dry-run). */
int load_count_pins(const char *pin_dir);
/* Any of our maps pinned under pin_dir? */
int load_pins_exist(const char *pin_dir);
/* Where a verifier log goes. */
void load_log_path(char *buf, size_t len);

#endif /* NASCAR_LOAD_H */
