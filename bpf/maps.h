/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - every map of the Nascar data path, typed from nascar_abi.h.
 *
 * Contract: names are the NASCAR_MAP_* strings of nascar_abi.h (the C
 * identifiers below are those strings), keys and values are its structs and
 * carry BTF (__type) so `bpftool map dump` prints them field by field.  No
 * pinning attribute: nascar-apply chooses the pin directory and calls
 * bpf_map__set_pin_path() itself, so the tests can load private copies.
 *
 * Sizing: tables indexed by slot are NASCAR_SLOTS times one policy's limit;
 * the LPM tries are BPF_F_NO_PREALLOC (required by the kernel, and they only
 * cost what they hold).
 */
#ifndef NASCAR_BPF_MAPS_H
#define NASCAR_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nascar_abi.h"

/* Distinct prefixes per slot: at most two per flow (src, dst) plus the /0
 * entry of each dim and family. */
#define NASCAR_ADDR_ENTRIES (NASCAR_SLOTS * (2 * NASCAR_MAX_FLOWS + 8))
#define NASCAR_ALLOW_ENTRIES (NASCAR_SLOTS * NASCAR_MAX_ALLOW)
#define NASCAR_FLOW_ENTRIES 65536

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nascar_state);
} nascar_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_SLOTS);
	__type(key, __u32);
	__type(value, struct nascar_slot_cfg);
} nascar_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_IFACES);
	__type(key, struct nascar_ifkey);
	__type(value, struct nascar_iface);
} nascar_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NASCAR_ALLOW_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nascar_allow_key);
	__type(value, __u32);
} nascar_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NASCAR_ADDR_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nascar_addr_key);
	__type(value, __u32);
} nascar_addr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_PORTS_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} nascar_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_PROTO_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} nascar_proto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_INIF_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} nascar_inif SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_BITMAPS);
	__type(key, __u32);
	__type(value, struct nascar_bitmap);
} nascar_bits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_NRULES);
	__type(key, __u32);
	__type(value, struct nascar_rule);
} nascar_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct nascar_class);
} nascar_classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct nascar_police);
} nascar_police SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NASCAR_FLOW_ENTRIES);
	__type(key, struct nascar_flow_key);
	__type(value, struct nascar_flow_val);
} nascar_flows SEC(".maps");

/* Egress devices for XDP redirect: key and value are the ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, NASCAR_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} nascar_devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_NRULES);
	__type(key, __u32);
	__type(value, struct nascar_counters);
} nascar_fstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_CLASSES);
	__type(key, __u32);
	__type(value, struct nascar_counters);
} nascar_cstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NASCAR_SLOTS *NASCAR_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct nascar_counters);
} nascar_istats SEC(".maps");

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

#endif /* NASCAR_BPF_MAPS_H */
