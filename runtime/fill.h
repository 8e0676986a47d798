/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fill.h - the one code path that puts a validated .nfc image into the BPF
 * maps, and the one update that switches policies.  Used by nascar-apply
 * (runtime/) and by the BPF tests, so the tests exercise exactly what the
 * loader does.
 *
 * Protocol (see nascar_abi.h, "Policy slots"):
 *   1. fill_read_state()            which slot is active, which generation;
 *   2. fill_slot(other slot, ...)   replaces everything of the inactive slot:
 *      interfaces, allow-src and address LPM entries (old ones of that slot
 *      deleted first), port/proto/interface bitmaps index tables, bitmaps,
 *      rules, classes, policer buckets (reset to full), the slot's counters
 *      (zeroed) and last nascar_slots[slot];
 *   3. fill_switch(other slot, generation + 1)   one 8-byte update of
 *      nascar_state: the next packet uses the new policy, and the flow cache
 *      entries of the old generation stop matching.
 * A failure in 2 leaves the active slot untouched; call 2 again or give up.
 * Packets never read the inactive slot, so 2 needs no ordering.
 *
 * All functions return 0 or a negative errno; those taking err/errlen leave
 * one line there (no trailing newline).
 */
#ifndef NASCAR_FILL_H
#define NASCAR_FILL_H

#include <stddef.h>
#include <linux/types.h>
#include "nascar_abi.h"
#include "nfc.h"

struct bpf_object;

/* Map file descriptors by enum nascar_map_id (fd[NASCAR_M_STATE], ...); -1
 * for a map that is not at hand.  fill_slot() needs those whose NASCAR_MAPS
 * row says fill (all but flows and devmap). */
struct fill_maps {
	int fd[NASCAR_NMAPS];
	int owned; /* fds were opened by fill_maps_from_pins(): close them */
};

/* Map fds of a loaded object (a skeleton's skel->obj), by NASCAR_MAP_* name.
 * The fds stay owned by the object. */
int fill_maps_from_obj(struct fill_maps *m, struct bpf_object *obj);
/* Opens DIR/NASCAR_MAP_* pins (bpf_obj_get); release with fill_maps_close(). */
int fill_maps_from_pins(struct fill_maps *m, const char *dir);
void fill_maps_close(struct fill_maps *m);

/*
 * Loads img into policy slot `slot` (0 or 1, normally the inactive one).
 * ifindex_of_iface[i] is the ifindex of img->ifaces[i] (> 0, resolved by
 * the caller in the right network namespace).  The interface flags written
 * to nascar_ifaces are those of the image (NASCAR_IF_ALLOW_SRC) ...
 */
int fill_slot(struct fill_maps *m, const struct nfc_image *img, int slot,
	      const int *ifindex_of_iface, char *err, size_t errlen);
/* ... or, with fill_slot_ex(), those ORed with attach_flags[i]
 * (NASCAR_IF_XDP, NASCAR_IF_TC, NASCAR_IF_XDP_NATIVE: how nascar-apply
 * attached to interface i; NULL = none).  The data path relies on them:
 * NASCAR_IF_TC tells XDP that a TC program takes what it hands on (else a
 * flow whose first packet needs the stack stays on the stack), and
 * NASCAR_IF_XDP_NATIVE on a guest turns on partial-checksum completion. */
int fill_slot_ex(struct fill_maps *m, const struct nfc_image *img, int slot,
		 const int *ifindex_of_iface, const __u8 *attach_flags, char *err, size_t errlen);

/* Makes `slot` active under `generation` (one map update). */
int fill_switch(struct fill_maps *m, int slot, __u32 generation);
/* Current nascar_state (all zero before the first switch). */
int fill_read_state(struct fill_maps *m, struct nascar_state *st);

/* XDP redirect targets (nascar_devmap): egress interfaces XDP may use. */
int fill_devmap_add(struct fill_maps *m, int ifindex);
int fill_devmap_del(struct fill_maps *m, int ifindex);

#endif /* NASCAR_FILL_H */
