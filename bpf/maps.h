/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - every map of the Nascar data path, typed from nascar_abi.h.
 *
 * Contract: the maps are the rows of NASCAR_MAPS in nascar_abi.h, defined
 * here from that table: names are its NASCAR_MAP_* strings (the C
 * identifiers are those strings), keys and values are its structs and
 * carry BTF (__type) so `bpftool map dump` prints them field by field.  No
 * pinning attribute: nascar-apply chooses the pin directory and calls
 * bpf_map__set_pin_path() itself, so the tests can load private copies.
 */
#ifndef NASCAR_BPF_MAPS_H
#define NASCAR_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nascar_abi.h"

/* The maps of the ABI, one per row of NASCAR_MAPS.  (The parameters end in
 * _ so that they do not replace the field names of __uint and __type.) */
#define NASCAR_BPF_MAP_(id_, name_, type_, key_, value_, max_, flags_, fill_) \
	struct {                                                              \
		__uint(type, type_);                                          \
		__uint(max_entries, max_);                                    \
		__uint(map_flags, flags_);                                    \
		__type(key, key_);                                            \
		__type(value, value_);                                        \
	} name_ SEC(".maps");
NASCAR_MAPS(NASCAR_BPF_MAP_)
#undef NASCAR_BPF_MAP_

/* Private to the programs (not in the ABI, never pinned by name): the
 * decision of the packet being processed, see nascar_run().  XDP and TC
 * ingress never nest on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nascar_flow_val);
} nascar_scratch SEC(".maps");

/* Private to the programs: per CPU, the interface last seen in each of
 * NASCAR_IFCACHE buckets (ifindex modulo), copied from nascar_ifaces with
 * the generation it was read under.  A slot's interfaces are only written
 * while the slot is inactive and every switch takes a new generation, so a
 * copy of the current generation is what nascar_ifaces holds; a hit spares
 * the hash lookup. */
#define NASCAR_IFCACHE 64
struct nascar_ifcache_val {
	__u32 ifindex;
	__u32 generation;
	struct nascar_iface ifc;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NASCAR_IFCACHE);
	__type(key, __u32);
	__type(value, struct nascar_ifcache_val);
} nascar_ifcache SEC(".maps");

/* Private to the programs: per CPU, a two-way set-associative copy of the
 * flow cache entries last used on that CPU (bpf/flowcache.h), in front of
 * nascar_flows.  An entry carries its whole key and the generation, so a
 * stale or absent entry is a miss that falls through to nascar_flows.
 *
 * One plain array holds every CPU's sets, CPU c's at c * NASCAR_L1_SETS:
 * BPF_F_MMAPABLE makes the kernel start its values on a page, so a set
 * (three cache lines) starts on a cache line; a per-CPU array places its
 * values at 8-byte alignment, where a set straddles four lines.  The loader
 * sets max_entries to NASCAR_L1_SETS times the number of possible CPUs
 * (load_size_maps() in runtime/load.c); a CPU beyond it has no sets and uses
 * nascar_flows alone. */
struct nascar_l1_ent {
	struct nascar_flow_key key;
	__u8 ifid; /* the ingress interface's (key.ifindex) nascar_iface */
	__u8 iflags;
	__u8 role;
	__u8 pad0;
	struct nascar_flow_val val;
};
struct nascar_l1_set {
	struct nascar_l1_ent way[2];
};
_Static_assert(sizeof(struct nascar_l1_set) % 64 == 0, "nascar_l1_set: whole cache lines");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NASCAR_L1_SETS);
	__type(key, __u32);
	__type(value, struct nascar_l1_set);
} nascar_l1 SEC(".maps");

#endif /* NASCAR_BPF_MAPS_H */
