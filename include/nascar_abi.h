/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nascar_abi.h - the one header shared by nascarc, the BPF programs,
 * nascar-apply and the tests.
 *
 * Contract:
 *  - every BPF map key and value, every .nfc record, every limit and every
 *    map name is defined here and nowhere else, and so is the map set
 *    itself (NASCAR_MAPS), the index of every ARRAY map (nascar_*_idx())
 *    and the counter pairs (NASCAR_CNT_*);
 *  - only fixed-width types from <linux/types.h>; no pointers, no bool, no
 *    enums as field types, no bitfields; every hole is an explicit pad*
 *    member that writers zero;
 *  - sizes are pinned with _Static_assert so the host build and the
 *    clang -target bpf build cannot disagree;
 *  - bump NASCAR_ABI_VERSION on any change to a struct below.
 *
 * Policy slots.  Every policy table is stored twice ("slot" 0 and 1) inside
 * the same map, the slot being part of the key.  nascar-apply fills the
 * inactive slot, then flips nascar_state.active_slot in one 8-byte map
 * update: a packet reads the slot once and uses one policy throughout, and a
 * crash before the flip leaves the old policy in force.
 *
 * Classification.  A flow matches when all six fields match: ingress
 * interface, protocol, source address, destination address, source port,
 * destination port.  For each field the compiler precomputes, for every
 * distinct value range, the bitmap of flows (in file order) that the range
 * satisfies; a packet looks up one bitmap per field, ANDs them and takes the
 * lowest set bit.  The cost is bounded by NASCAR_BITMAP_WORDS whatever the
 * number of flows (linear bit-vector search, as in bpf-iptables).
 */
#ifndef NASCAR_ABI_H
#define NASCAR_ABI_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

#define NASCAR_ABI_VERSION 2

/* The helpers below are inlined into the BPF programs, like macros. */
#define NASCAR_ABI_INLINE static inline __attribute__((always_inline))

/* Limits of one policy (the language page asks for at least these). */
#define NASCAR_MAX_FLOWS 4096
#define NASCAR_MAX_CLASSES 256
#define NASCAR_MAX_IFACES 64
#define NASCAR_MAX_ALLOW 1024 /* allow-src prefixes, all interfaces together */
#define NASCAR_BITMAP_WORDS (NASCAR_MAX_FLOWS / 64)
#define NASCAR_MAX_BITMAPS 32768 /* distinct bitmaps in one slot */
#define NASCAR_SLOTS 2
#define NASCAR_IFNAMSIZ 16
#define NASCAR_CLASS_NAMSIZ 32
#define NASCAR_FLOW_NAMSIZ 64

/* Rule index used for "no flow matched": the default block. */
#define NASCAR_RULE_DEFAULT NASCAR_MAX_FLOWS
#define NASCAR_NRULES (NASCAR_MAX_FLOWS + 1)
#define NASCAR_NO_CLASS 0xffff
#define NASCAR_DSCP_KEEP 0xff

/* Map names, as pinned under the pin directory (at most 15 characters);
 * each names a row of NASCAR_MAPS, the map table below. */
#define NASCAR_MAP_STATE "nascar_state"
#define NASCAR_MAP_SLOTS "nascar_slots"
#define NASCAR_MAP_IFACES "nascar_ifaces"
#define NASCAR_MAP_ALLOW "nascar_allow"
#define NASCAR_MAP_ADDR "nascar_addr"
#define NASCAR_MAP_PORTS "nascar_ports"
#define NASCAR_MAP_PROTO "nascar_proto"
#define NASCAR_MAP_INIF "nascar_inif"
#define NASCAR_MAP_BITS "nascar_bits"
#define NASCAR_MAP_RULES "nascar_rules"
#define NASCAR_MAP_CLASSES "nascar_classes"
#define NASCAR_MAP_POLICE "nascar_police"
#define NASCAR_MAP_FLOWS "nascar_flows"
#define NASCAR_MAP_DEVMAP "nascar_devmap"
#define NASCAR_MAP_FSTATS "nascar_fstats"
#define NASCAR_MAP_ISTATS "nascar_istats"

/* Actions (struct nascar_rule.action). */
#define NASCAR_ACT_STACK 0
#define NASCAR_ACT_FORWARD 1
#define NASCAR_ACT_DROP 2

/* Interface roles and modes (struct nascar_iface). */
#define NASCAR_ROLE_GUEST 1
#define NASCAR_ROLE_UPLINK 2

#define NASCAR_MODE_AUTO 0
#define NASCAR_MODE_XDP 1
#define NASCAR_MODE_TC 2
#define NASCAR_MODE_HYBRID 3

/* struct nascar_iface.flags */
#define NASCAR_IF_ALLOW_SRC 0x01  /* allow-src list present: check sources */
#define NASCAR_IF_XDP 0x02	  /* the XDP program is attached here */
#define NASCAR_IF_TC 0x04	  /* the TC program is attached here */
#define NASCAR_IF_XDP_NATIVE 0x08 /* XDP runs in driver mode here */
/* Native XDP redirects into this device fail (a veth whose peer has GRO
 * off and no XDP, or a device the kernel cannot vouch for before 6.3):
 * XDP hands packets routed here to TC, or to the stack. */
#define NASCAR_IF_NO_XDP_TX 0x10
/* Frames arriving here may carry partial L4 checksums (a tap's guest or a
 * veth's peer offloads them): native XDP verifies, completes or hands on. */
#define NASCAR_IF_CSUM_FIX 0x20
/* Nascar's egress scheduler (an HTB, handle NASCAR_SCHED_MAJOR) is the
 * root qdisc here: the TC path sets skb->priority to the class's HTB
 * class, NASCAR_SCHED_CLASSID(class id), so shaped classes are delayed
 * there rather than policed. */
#define NASCAR_IF_SCHED 0x40
/* ... and it holds a line rate (interface `rate`): XDP must not bypass it,
 * so where TC is attached behind XDP, XDP hands packets for it to TC. */
#define NASCAR_IF_LINE_RATE 0x80

/* Egress scheduler: the HTB's handle major and its classes.  skb->priority
 * (major << 16 | minor) selects an HTB class directly, no filter needed. */
#define NASCAR_SCHED_MAJOR 0x4e43U	/* "NC" */
#define NASCAR_SCHED_MINOR_ROOT 0x1U	/* line rate (or unlimited) */
#define NASCAR_SCHED_MINOR_DEFAULT 0x2U /* not classified by Nascar: priority 0 */
#define NASCAR_SCHED_MINOR_CLASS0 0x100U
#define NASCAR_SCHED_CLASSID(cls) \
	((NASCAR_SCHED_MAJOR << 16) | (NASCAR_SCHED_MINOR_CLASS0 + (__u32)(cls)))

/* nfc_ifqos.egress: may nascar-apply own the interface's root qdisc? */
#define NASCAR_EGRESS_AUTO 0	/* yes, replacing only a kernel default qdisc */
#define NASCAR_EGRESS_KEEP 1	/* never: rates are policed, priorities only set */
#define NASCAR_EGRESS_REPLACE 2 /* yes, whatever is there */

/* Classification fields; index into a field's lookup structure. */
#define NASCAR_DIM_SRC 0
#define NASCAR_DIM_DST 1

/* Address families as stored in keys (not AF_*: stable on disk). */
#define NASCAR_FAM_V4 4
#define NASCAR_FAM_V6 6

/*
 * nascar_state: ARRAY, one entry.  Written last by nascar-apply, in one
 * update, to switch policies.  generation increases by one per apply and
 * invalidates the flow cache.
 */
struct nascar_state {
	__u32 active_slot;
	__u32 generation;
};
_Static_assert(sizeof(struct nascar_state) == 8, "nascar_state size");

/* nascar_slots: ARRAY[NASCAR_SLOTS], the per-policy scalars. */
struct nascar_slot_cfg {
	__u32 nflows;	/* flows in the policy, rules 0..nflows-1 */
	__u32 nwords;	/* bitmap words in use: (nflows + 63) / 64 */
	__u32 nbitmaps; /* bitmaps in use in this slot */
	__u32 nclasses;
	__u32 nifaces;
	__u32 pad0;
	__u64 source_hash; /* FNV-1a 64 of the .nflow source */
};
_Static_assert(sizeof(struct nascar_slot_cfg) == 32, "nascar_slot_cfg size");

/*
 * nascar_ifaces: HASH keyed by struct nascar_ifkey.  Which interfaces the
 * policy of a slot declares; ifindex is resolved by nascar-apply.
 */
struct nascar_ifkey {
	__u32 ifindex;
	__u32 slot;
};
_Static_assert(sizeof(struct nascar_ifkey) == 8, "nascar_ifkey size");

struct nascar_iface {
	__u8 id;    /* index in the policy's interface list, < NASCAR_MAX_IFACES */
	__u8 role;  /* NASCAR_ROLE_* */
	__u8 mode;  /* NASCAR_MODE_* as written in the policy */
	__u8 flags; /* NASCAR_IF_* */
	__u32 pad0;
};
_Static_assert(sizeof(struct nascar_iface) == 8, "nascar_iface size");

/*
 * nascar_allow: LPM_TRIE.  One entry per allow-src prefix.  prefixlen counts
 * the 32 bits of slot/iface/family/pad and then the address bits, so a
 * lookup with prefixlen = 32 + 128 finds the longest allowed prefix of that
 * interface and family.  Value: __u32, always 1.
 */
struct nascar_allow_key {
	__u32 prefixlen;
	__u8 slot;
	__u8 iface;
	__u8 family; /* NASCAR_FAM_* */
	__u8 pad0;
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes */
};
_Static_assert(sizeof(struct nascar_allow_key) == 24, "nascar_allow_key size");

/*
 * nascar_addr: LPM_TRIE.  Source and destination address fields of the
 * classifier.  Every slot/dim/family has a /0 entry, so a lookup always
 * succeeds.  Value: __u32 bitmap index (within the slot).
 */
struct nascar_addr_key {
	__u32 prefixlen; /* 32 + address prefix length */
	__u8 slot;
	__u8 dim;    /* NASCAR_DIM_SRC or NASCAR_DIM_DST */
	__u8 family; /* NASCAR_FAM_* */
	__u8 pad0;
	__u8 addr[16];
};
_Static_assert(sizeof(struct nascar_addr_key) == 24, "nascar_addr_key size");

#define NASCAR_ADDR_KEY_BITS 32 /* bits of slot/dim/family/pad */

/*
 * nascar_ports: ARRAY of __u32 bitmap indexes, one per port (host order),
 * at nascar_port_idx(slot, dim, port).
 * nascar_proto: ARRAY, at nascar_proto_idx(slot, IP protocol).
 * nascar_inif: ARRAY, at nascar_iface_idx(slot, iface id).
 * (The index helpers and the map table are at the end of this part.)
 */
#define NASCAR_NPORTS 65536 /* port values of one dim */
#define NASCAR_NPROTOS 256  /* IP protocol values */
#define NASCAR_PORTS_ENTRIES (NASCAR_SLOTS * 2 * NASCAR_NPORTS)
#define NASCAR_PROTO_ENTRIES (NASCAR_SLOTS * NASCAR_NPROTOS)
#define NASCAR_INIF_ENTRIES (NASCAR_SLOTS * NASCAR_MAX_IFACES)

/* nascar_bits: ARRAY[NASCAR_SLOTS * NASCAR_MAX_BITMAPS], at
 * nascar_bitmap_idx(slot, bitmap); bit i = flow i. */
struct nascar_bitmap {
	__u64 w[NASCAR_BITMAP_WORDS];
};
_Static_assert(sizeof(struct nascar_bitmap) == 512, "nascar_bitmap size");

/* nascar_rules: ARRAY[NASCAR_SLOTS * NASCAR_NRULES], at nascar_rule_idx(slot,
 * rule); the default at rule NASCAR_RULE_DEFAULT of each slot. */
struct nascar_rule {
	__u8 action; /* NASCAR_ACT_* */
	__u8 pad0;
	__u16 class_id; /* NASCAR_NO_CLASS when none */
};
_Static_assert(sizeof(struct nascar_rule) == 4, "nascar_rule size");

/* nascar_classes: ARRAY[NASCAR_SLOTS * NASCAR_MAX_CLASSES], at
 * nascar_class_idx(slot, class id). */
/* struct nascar_class.flags */
#define NASCAR_CLASS_POLICE 0x01 /* `police;`: drop over the rate at the first hook */

struct nascar_class {
	__u8 priority; /* 0..7 */
	__u8 dscp;     /* 0..63, or NASCAR_DSCP_KEEP */
	__u8 flags;    /* NASCAR_CLASS_* */
	__u8 pad0;
	__u32 burst; /* bytes; 0 when rate is 0 */
	__u64 rate;  /* bytes per second; 0 = no limit.  Shaped where the TC
		      * path leaves by Nascar's scheduler, else policed */
};
_Static_assert(sizeof(struct nascar_class) == 16, "nascar_class size");

/*
 * nascar_police: ARRAY[NASCAR_SLOTS * NASCAR_MAX_CLASSES], one token bucket
 * per class (at nascar_class_idx(slot, class id)), shared by every CPU
 * (hence the lock).  tokens are bytes, last_ns the time of the last refill;
 * nascar-apply resets a slot's buckets to full before switching to it.
 */
struct nascar_police {
	struct bpf_spin_lock lock;
	__u32 pad0;
	__u64 tokens;  /* bytes available */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last refill */
};
_Static_assert(sizeof(struct nascar_police) == 24, "nascar_police size");

/*
 * nascar_flows: LRU_HASH, the flow cache.  Keyed by 5-tuple and ingress
 * ifindex; holds the forwarding decision so a known flow skips the
 * classifier and the FIB lookup.
 */
struct nascar_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 ifindex;
	__u8 proto;
	__u8 family;
	__u16 pad0;
};
_Static_assert(sizeof(struct nascar_flow_key) == 44, "nascar_flow_key size");

/* The programs' private per-CPU first level in front of nascar_flows
 * (bpf/maps.h, bpf/flowcache.h): NASCAR_L1_SETS sets per CPU, which the
 * loader multiplies by the number of possible CPUs. */
#define NASCAR_L1_SET_BITS 11
#define NASCAR_L1_SETS (1u << NASCAR_L1_SET_BITS)

/* struct nascar_flow_val.verdict: what the cached decision is. */
#define NASCAR_V_FORWARD 1	/* forward to ifindex with the MACs below */
#define NASCAR_V_STACK 2	/* hand to the stack (rule says stack, or not ours) */
#define NASCAR_V_DROP 3		/* rule says drop */
#define NASCAR_V_STICKY_STACK 4 /* first packet went to the stack: keep it there */

/* struct nascar_flow_val.flags */
#define NASCAR_FV_NEED_TC 0x01 /* route needs the TC path (no neighbour yet) */
#define NASCAR_FV_POLICE \
	0x02 /* police at the first hook (`police;`, or a rate where TC cannot shape) */
#define NASCAR_FV_XDP_HANDON 0x04   /* egress takes no native XDP redirect: XDP hands on */
#define NASCAR_FV_SHAPE 0x08	    /* the class has a rate without police */
#define NASCAR_FV_EGRESS_SCHED 0x10 /* the egress has Nascar's scheduler */

/* struct nascar_flow_val.stack_reason: why a flow goes to the stack. */
#define NASCAR_SR_NONE 0
#define NASCAR_SR_RULE 1	 /* the rule's action is stack */
#define NASCAR_SR_NOROUTE 2	 /* no route (unreachable, blackhole, prohibit) */
#define NASCAR_SR_LOCAL 3	 /* for the host itself, broadcast, multicast */
#define NASCAR_SR_EGRESS 4	 /* egress interface not declared by the policy */
#define NASCAR_SR_NO_NEIGH 5	 /* xdp-only: first packet had no neighbour */
#define NASCAR_SR_MTU 6		 /* over the egress MTU */
#define NASCAR_SR_TTL 7		 /* TTL or hop limit <= 1 */
#define NASCAR_SR_PARSE 8	 /* not classifiable */
#define NASCAR_SR_FWD_DISABLED 9 /* forwarding disabled on the device */
#define NASCAR_SR_CSUM 10	 /* L4 checksum invalid (native XDP on a guest) */

struct nascar_flow_val {
	__u32 generation; /* nascar_state.generation it was made under */
	__u16 rule;	  /* flow index or NASCAR_RULE_DEFAULT */
	__u16 class_id;
	__u8 verdict; /* NASCAR_V_* */
	__u8 priority;
	__u8 dscp;	    /* NASCAR_DSCP_KEEP or the value to write */
	__u8 flags;	    /* NASCAR_FV_* */
	__u16 mtu;	    /* egress MTU from bpf_fib_lookup */
	__u16 stack_reason; /* NASCAR_SR_* when verdict is a stack verdict */
	__u32 ifindex;	    /* egress */
	__u8 dmac[6];
	__u8 smac[6];
	/* when the route was last looked up, in jiffies (32 bits: an entry
	 * left unused for a whole wrap, 49 days at HZ 1000, skips one
	 * refresh) */
	__u32 fib_jiffies;
	__u64 fib_ns; /* the same, in ns (CLOCK_MONOTONIC, coarse) */
};
_Static_assert(sizeof(struct nascar_flow_val) == 48, "nascar_flow_val size");

/* A cached route is looked up again after this long, so route and
 * neighbour changes take effect within it (no daemon needed). */
#define NASCAR_FIB_TTL_NS 250000000ULL
/* The hit path reads the clock as jiffies (an inlined load, where
 * bpf_ktime_get_coarse_ns is a helper call) against a TTL in jiffies the
 * loader sets from the kernel's HZ; when HZ cannot be read, the TTL is
 * NASCAR_FIB_TTL_JIFFIES_UNKNOWN jiffies: 250 ms at HZ 100, 25 ms at HZ
 * 1000, never longer than NASCAR_FIB_TTL_NS. */
#define NASCAR_FIB_TTL_JIFFIES_UNKNOWN 25
#define NASCAR_FIB_TTL_JIFFIES(hz) \
	((hz) ? (__u32)(NASCAR_FIB_TTL_NS * (hz) / 1000000000ULL) : NASCAR_FIB_TTL_JIFFIES_UNKNOWN)

/* Flow cache entries (all slots share it: entries carry the generation). */
#define NASCAR_FLOW_ENTRIES 65536

/* nascar_devmap: DEVMAP_HASH, the egress devices of XDP redirects: key and
 * value are the ifindex. */

/*
 * Counters, per CPU.  nascar_fstats: PERCPU_ARRAY[NASCAR_SLOTS *
 * NASCAR_NRULES] per flow, at nascar_rule_idx(slot, rule) (default at
 * NASCAR_RULE_DEFAULT); nascar_istats: per interface id, [NASCAR_SLOTS *
 * NASCAR_MAX_IFACES] at nascar_iface_idx() (spoofed and not-for-us
 * packets land here too).  The struct is NASCAR_NCNT pairs of packets and
 * bytes, pair NASCAR_CNT_* at words 2 * NASCAR_CNT_* and
 * 2 * NASCAR_CNT_* + 1.  There are no class counters in the maps: every
 * packet counted with a class is counted with its rule, whose class the
 * slot's nascar_rules gives, so a class's counts are the sum of its
 * rules' (nascar-apply stats adds them up; one counter update less per
 * packet on the hit path).
 */
struct nascar_counters {
	__u64 xdp_pkts;
	__u64 xdp_bytes;
	__u64 tc_pkts;
	__u64 tc_bytes;
	__u64 stack_pkts;
	__u64 stack_bytes;
	__u64 drop_pkts; /* dropped by rule */
	__u64 drop_bytes;
	__u64 police_pkts; /* dropped by the policer */
	__u64 police_bytes;
	__u64 spoof_pkts; /* dropped by allow-src */
	__u64 spoof_bytes;
};
_Static_assert(sizeof(struct nascar_counters) == 96, "nascar_counters size");

/*
 * The pairs of struct nascar_counters, in order: X(ID, field) for the pair
 * NASCAR_CNT_<ID>, fields <field>_pkts and <field>_bytes (also the names
 * `nascar-apply stats --json` prints).  A packet is counted in one pair.
 * enum nascar_cnt: NASCAR_CNT_XDP, NASCAR_CNT_TC, ... NASCAR_CNT_SPOOF, then
 * their number, NASCAR_NCNT.
 */
#define NASCAR_CNTS(X)                                 \
	X(XDP, xdp)	  /* forwarded by XDP */       \
	X(TC, tc)	  /* forwarded by TC */        \
	X(STACK, stack)	  /* handed to the stack */    \
	X(DROP, drop)	  /* dropped by rule */        \
	X(POLICE, police) /* dropped by the policer */ \
	X(SPOOF, spoof)	  /* dropped by allow-src */

#define NASCAR_CNT_ID_(id, field) NASCAR_CNT_##id,
enum nascar_cnt { NASCAR_CNTS(NASCAR_CNT_ID_) NASCAR_NCNT };
#undef NASCAR_CNT_ID_

#define NASCAR_CNT_AT_(id, field)                                                           \
	_Static_assert(__builtin_offsetof(struct nascar_counters, field##_pkts) ==          \
				       16 * NASCAR_CNT_##id &&                              \
			       __builtin_offsetof(struct nascar_counters, field##_bytes) == \
				       16 * NASCAR_CNT_##id + 8,                            \
		       #field " is pair NASCAR_CNT_" #id);
NASCAR_CNTS(NASCAR_CNT_AT_)
#undef NASCAR_CNT_AT_
_Static_assert(sizeof(struct nascar_counters) == NASCAR_NCNT * 16, "nascar_counters pairs");

/* The packets of pair what, as a word of struct nascar_counters seen as
 * __u64[2 * NASCAR_NCNT]; its bytes are the next word. */
NASCAR_ABI_INLINE __u32 nascar_cnt_word(enum nascar_cnt what)
{
	return 2 * (__u32)what;
}

/*
 * XDP -> TC hand-over.  When XDP passes a packet it has already classified
 * (GSO frame, over MTU, neighbour not resolved), it leaves this in
 * data_meta so the TC program does not classify it again.
 */
#define NASCAR_META_MAGIC 0x4e53 /* "NS" */
/* nascar_meta.rule when XDP already counted the packet and passed it to
 * the stack: TC leaves it alone. */
#define NASCAR_META_RULE_STACK 0xffff
struct nascar_meta {
	__u16 magic;
	__u16 rule;
	__u32 generation;
};
_Static_assert(sizeof(struct nascar_meta) == 8, "nascar_meta size");

/* nascar_debug, a read-only global of nascar.bpf.o: set before load by the
 * benchmarks and tests only (0 otherwise, and dead code for the verifier). */
enum nascar_dbg {
	NASCAR_DBG_NO_CACHE = 0x01, /* never reuse a flow-cache entry */
	NASCAR_DBG_NO_COUNT = 0x02, /* no counter updates (bench: their cost) */
	NASCAR_DBG_NO_L1 = 0x04,    /* no per-CPU cache: nascar_flows every packet */
	/* tests/bpf/bench.c, the hit's cost per step: pass after the state
	 * lookup, after the parse, after the cache lookup (which on a miss
	 * of the first level includes the interface lookup); a hit that
	 * never reads the clock (so never refreshes its route) */
	NASCAR_DBG_STOP_STATE = 0x08,
	NASCAR_DBG_STOP_PARSE = 0x10,
	NASCAR_DBG_STOP_LOOKUP = 0x20,
	NASCAR_DBG_NO_CLOCK = 0x40,
};

/* ---- Map indexes ------------------------------------------------------- */

/* The key of each ARRAY map above: a slot's tables follow one another. */

/* nascar_ports */
NASCAR_ABI_INLINE __u32 nascar_port_idx(__u32 slot, __u32 dim, __u32 port)
{
	return (slot * 2 + dim) * NASCAR_NPORTS + port;
}

/* nascar_proto */
NASCAR_ABI_INLINE __u32 nascar_proto_idx(__u32 slot, __u32 proto)
{
	return slot * NASCAR_NPROTOS + proto;
}

/* nascar_inif, nascar_istats */
NASCAR_ABI_INLINE __u32 nascar_iface_idx(__u32 slot, __u32 ifid)
{
	return slot * NASCAR_MAX_IFACES + ifid;
}

/* nascar_bits */
NASCAR_ABI_INLINE __u32 nascar_bitmap_idx(__u32 slot, __u32 bitmap)
{
	return slot * NASCAR_MAX_BITMAPS + bitmap;
}

/* nascar_rules, nascar_fstats */
NASCAR_ABI_INLINE __u32 nascar_rule_idx(__u32 slot, __u32 rule)
{
	return slot * NASCAR_NRULES + rule;
}

/* nascar_classes, nascar_police */
NASCAR_ABI_INLINE __u32 nascar_class_idx(__u32 slot, __u32 class_id)
{
	return slot * NASCAR_MAX_CLASSES + class_id;
}

/* ---- The map set ------------------------------------------------------- */

/* Distinct prefixes per slot: at most two per flow (src, dst) plus the /0
 * entry of each dim and family. */
#define NASCAR_ADDR_ENTRIES (NASCAR_SLOTS * (2 * NASCAR_MAX_FLOWS + 8))
#define NASCAR_ALLOW_ENTRIES (NASCAR_SLOTS * NASCAR_MAX_ALLOW)

/*
 * Every map of the ABI, one row each, in the order of the BPF object:
 *
 *   X(ID, name, type, key, value, max_entries, map_flags, fill)
 *
 * ID: enum nascar_map_id's NASCAR_M_<ID>; name: the C identifier in the
 * BPF object, and as a string its pin name (= NASCAR_MAP_<ID>, which
 * tests/unit/test_abi.c checks); fill: 1 for the maps fill_slot() and
 * fill_switch() need.  Tables indexed by slot are NASCAR_SLOTS times one
 * policy's limit; the LPM tries are BPF_F_NO_PREALLOC (required by the
 * kernel, and they only cost what they hold).
 *
 * bpf/maps.h defines the maps from this table, nascar-apply opens, pins and
 * fills them through it (struct nascar_map_desc below), and tests/bpf checks
 * the loaded object against it.  Adding a map: a row here, its
 * NASCAR_MAP_<ID> name above.
 */
// clang-format off
#define NASCAR_MAPS(X)									\
	X(STATE, nascar_state, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_state,		\
	  1, 0, 1)									\
	X(SLOTS, nascar_slots, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_slot_cfg,	\
	  NASCAR_SLOTS, 0, 1)								\
	X(IFACES, nascar_ifaces, BPF_MAP_TYPE_HASH, struct nascar_ifkey,		\
	  struct nascar_iface, NASCAR_SLOTS * NASCAR_MAX_IFACES, 0, 1)			\
	X(ALLOW, nascar_allow, BPF_MAP_TYPE_LPM_TRIE, struct nascar_allow_key, __u32,	\
	  NASCAR_ALLOW_ENTRIES, BPF_F_NO_PREALLOC, 1)					\
	X(ADDR, nascar_addr, BPF_MAP_TYPE_LPM_TRIE, struct nascar_addr_key, __u32,	\
	  NASCAR_ADDR_ENTRIES, BPF_F_NO_PREALLOC, 1)					\
	X(PORTS, nascar_ports, BPF_MAP_TYPE_ARRAY, __u32, __u32,			\
	  NASCAR_PORTS_ENTRIES, 0, 1)							\
	X(PROTO, nascar_proto, BPF_MAP_TYPE_ARRAY, __u32, __u32,			\
	  NASCAR_PROTO_ENTRIES, 0, 1)							\
	X(INIF, nascar_inif, BPF_MAP_TYPE_ARRAY, __u32, __u32,				\
	  NASCAR_INIF_ENTRIES, 0, 1)							\
	X(BITS, nascar_bits, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_bitmap,		\
	  NASCAR_SLOTS * NASCAR_MAX_BITMAPS, 0, 1)					\
	X(RULES, nascar_rules, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_rule,		\
	  NASCAR_SLOTS * NASCAR_NRULES, 0, 1)						\
	X(CLASSES, nascar_classes, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_class,	\
	  NASCAR_SLOTS * NASCAR_MAX_CLASSES, 0, 1)					\
	X(POLICE, nascar_police, BPF_MAP_TYPE_ARRAY, __u32, struct nascar_police,	\
	  NASCAR_SLOTS * NASCAR_MAX_CLASSES, 0, 1)					\
	X(FLOWS, nascar_flows, BPF_MAP_TYPE_LRU_HASH, struct nascar_flow_key,		\
	  struct nascar_flow_val, NASCAR_FLOW_ENTRIES, 0, 0)				\
	X(DEVMAP, nascar_devmap, BPF_MAP_TYPE_DEVMAP_HASH, __u32, __u32,		\
	  NASCAR_MAX_IFACES, 0, 0)							\
	X(FSTATS, nascar_fstats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32,			\
	  struct nascar_counters, NASCAR_SLOTS * NASCAR_NRULES, 0, 1)			\
	X(ISTATS, nascar_istats, BPF_MAP_TYPE_PERCPU_ARRAY, __u32,			\
	  struct nascar_counters, NASCAR_SLOTS * NASCAR_MAX_IFACES, 0, 1)
// clang-format on

#define NASCAR_MAP_ID_(id, ...) NASCAR_M_##id,
enum nascar_map_id { NASCAR_MAPS(NASCAR_MAP_ID_) NASCAR_NMAPS };
#undef NASCAR_MAP_ID_

#ifndef __bpf__
/* Userspace: one map of the table as numbers (not a map or file layout). */
struct nascar_map_desc {
	const char *name; /* pin name, NASCAR_MAP_* */
	__u32 type;	  /* BPF_MAP_TYPE_* */
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 fill; /* needed by fill_slot() and fill_switch() */
};

/* Row id of NASCAR_MAPS (enum nascar_map_id); NULL out of range. */
static inline const struct nascar_map_desc *nascar_map_desc(unsigned int id)
{
	static const struct nascar_map_desc desc[NASCAR_NMAPS] = {
#define NASCAR_MAP_DESC_(id, name, type, key, value, max, flags, fill) \
	[NASCAR_M_##id] = {#name, type, sizeof(key), sizeof(value), max, flags, fill},
		NASCAR_MAPS(NASCAR_MAP_DESC_)
#undef NASCAR_MAP_DESC_
	};

	return id < NASCAR_NMAPS ? &desc[id] : (const struct nascar_map_desc *)0;
}
#endif

/* ---- The compiled policy file (.nfc) ---------------------------------- */

/*
 * Layout: struct nfc_header, then hdr.nsections struct nfc_section, then the
 * section payloads at the offsets they give (8-byte aligned).  All integers
 * little-endian (the BPF maps use host order; .nfc files are only read on
 * the machine kind they are made for, and the loader refuses a foreign
 * byte order through the magic).  checksum is CRC-32C of every byte after
 * the header.  Output is deterministic: same source, same bytes.
 */
#define NFC_MAGIC 0x3143464eU /* "NFC1" read as a little-endian u32 */

struct nfc_header {
	__u32 magic;
	__u32 abi_version;
	__u32 nsections;
	__u32 checksum;
	__u64 total_size;
	__u64 source_hash; /* FNV-1a 64 of the source bytes */
};
_Static_assert(sizeof(struct nfc_header) == 32, "nfc_header size");

struct nfc_section {
	__u32 type;	  /* NFC_SEC_* */
	__u32 entry_size; /* sizeof one entry; checked by the reader */
	__u32 count;
	__u32 pad0;
	__u64 offset; /* from the start of the file */
};
_Static_assert(sizeof(struct nfc_section) == 24, "nfc_section size");

#define NFC_SEC_CONFIG 1   /* 1 x struct nascar_slot_cfg */
#define NFC_SEC_IFACES 2   /* struct nfc_iface */
#define NFC_SEC_ALLOW 3	   /* struct nascar_allow_key, slot 0 */
#define NFC_SEC_CLASSES 4  /* struct nfc_class */
#define NFC_SEC_FLOWS 5	   /* struct nfc_flow, nflows + 1 (default last) */
#define NFC_SEC_ADDR 6	   /* struct nfc_addr_entry, slot 0 */
#define NFC_SEC_PORTS 7	   /* struct nfc_port_range */
#define NFC_SEC_PROTO 8	   /* 256 x __u32 */
#define NFC_SEC_INIF 9	   /* NASCAR_MAX_IFACES x __u32 */
#define NFC_SEC_BITMAPS 10 /* struct nascar_bitmap */
#define NFC_SEC_IFQOS 11   /* struct nfc_ifqos, one per interface (optional) */
#define NFC_SEC_MAX 11

struct nfc_iface {
	char name[NASCAR_IFNAMSIZ];
	struct nascar_iface val; /* flags: NASCAR_IF_ALLOW_SRC only */
};
_Static_assert(sizeof(struct nfc_iface) == 24, "nfc_iface size");

/* Interface statements of version 2 that only nascar-apply reads (the
 * data path learns of them through NASCAR_IF_SCHED / _LINE_RATE).  Absent
 * section: every interface has rate 0 and egress auto. */
struct nfc_ifqos {
	__u64 rate;  /* the link's line rate, bytes per second; 0: none (uplink only) */
	__u8 egress; /* NASCAR_EGRESS_* */
	__u8 pad0[7];
};
_Static_assert(sizeof(struct nfc_ifqos) == 16, "nfc_ifqos size");

struct nfc_class {
	char name[NASCAR_CLASS_NAMSIZ];
	struct nascar_class val;
};
_Static_assert(sizeof(struct nfc_class) == 48, "nfc_class size");

/* Flow descriptions for dump, stats and classify's output.  The matching
 * itself uses only the tables; these fields say what the source said. */
#define NFC_FLOW_QUOTED 0x01 /* name was a quoted string */
#define NFC_FLOW_IN_ANY 0xff

struct nfc_flow {
	char name[NASCAR_FLOW_NAMSIZ];
	struct nascar_rule rule;
	__u8 flags;	/* NFC_FLOW_* */
	__u8 in_iface;	/* NFC_FLOW_IN_ANY or iface id */
	__u8 proto_any; /* 1 when proto is any */
	__u8 proto;
	__u8 src_family; /* 0 any, NASCAR_FAM_* */
	__u8 src_len;
	__u8 dst_family;
	__u8 dst_len;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport_lo, sport_hi, dport_lo, dport_hi;
	__u32 line; /* source line of the flow, 0 for the default */
	__u32 pad0[2];
};
_Static_assert(sizeof(struct nfc_flow) == 128, "nfc_flow size");

struct nfc_addr_entry {
	struct nascar_addr_key key;
	__u32 bitmap;
};
_Static_assert(sizeof(struct nfc_addr_entry) == 28, "nfc_addr_entry size");

/* Ports [lo, hi] of field dim map to bitmap; ranges cover 0..65535 once per
 * dim, in ascending order. */
struct nfc_port_range {
	__u16 lo;
	__u16 hi;
	__u8 dim;
	__u8 pad0[3];
	__u32 bitmap;
};
_Static_assert(sizeof(struct nfc_port_range) == 12, "nfc_port_range size");

#endif /* NASCAR_ABI_H */
