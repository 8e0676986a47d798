/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * classify.h - from a parsed packet to a rule: the allow-src check
 * (nascar_allowed) and the classifier (nascar_classify_pkt, over the global
 * function nascar_classify, which does the six field lookups and the
 * first-match step of nascar_classify.h).
 */
#ifndef NASCAR_BPF_CLASSIFY_H
#define NASCAR_BPF_CLASSIFY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"
#include "nascar_classify.h"
#include "maps.h"
#include "parse.h"

/* No rule: the classifier failed (map inconsistency), or nothing known. */
#define NASCAR_NO_RULE 0xffffffffU

static __always_inline const struct nascar_bitmap *bits_of(__u32 slot, const __u32 *idx)
{
	__u32 k;

	if (!idx)
		return 0;
	k = nascar_bitmap_idx(slot, *idx & (NASCAR_MAX_BITMAPS - 1));
	return bpf_map_lookup_elem(&nascar_bits, &k);
}

/* What the classifier needs of a packet (argument of the global function
 * below, on the caller's stack). */
struct nascar_cls_in {
	__u32 slot;
	__u32 ifid;
	__u8 family;
	__u8 proto;
	__u16 sport; /* host order, 0 unless TCP/UDP */
	__u16 dport;
	__u16 pad0;
	__u8 src[16];
	__u8 dst[16];
};

/*
 * Rule index (flow or NASCAR_RULE_DEFAULT), or -1 on a map inconsistency
 * (the caller sends the packet to the stack).  A global function: the
 * verifier checks it once, on its own, instead of following each of the
 * first-match loop's exits (word x bit) through the rest of the program.
 */
__attribute__((noinline)) int nascar_classify(const struct nascar_cls_in *in);

#ifdef NASCAR_BPF_IMPL
__attribute__((noinline)) int nascar_classify(const struct nascar_cls_in *in)
{
	struct nascar_fields f;
	struct nascar_addr_key ak;
	struct nascar_slot_cfg *cfg;
	__u32 k, slot;
	int i;

	if (!in)
		return -1;
	slot = in->slot & 1;
	cfg = bpf_map_lookup_elem(&nascar_slots, &slot);
	if (!cfg)
		return -1;

	k = nascar_iface_idx(slot, in->ifid & (NASCAR_MAX_IFACES - 1));
	f.b[0] = bits_of(slot, bpf_map_lookup_elem(&nascar_inif, &k));
	k = nascar_proto_idx(slot, in->proto);
	f.b[1] = bits_of(slot, bpf_map_lookup_elem(&nascar_proto, &k));

	__builtin_memset(&ak, 0, sizeof(ak));
	ak.prefixlen = NASCAR_ADDR_KEY_BITS + (in->family == NASCAR_FAM_V4 ? 32 : 128);
	ak.slot = slot;
	ak.family = in->family;
	ak.dim = NASCAR_DIM_SRC;
	__builtin_memcpy(ak.addr, in->src, 16);
	f.b[2] = bits_of(slot, bpf_map_lookup_elem(&nascar_addr, &ak));
	ak.dim = NASCAR_DIM_DST;
	__builtin_memcpy(ak.addr, in->dst, 16);
	f.b[3] = bits_of(slot, bpf_map_lookup_elem(&nascar_addr, &ak));

	k = nascar_port_idx(slot, NASCAR_DIM_SRC, in->sport);
	f.b[4] = bits_of(slot, bpf_map_lookup_elem(&nascar_ports, &k));
	k = nascar_port_idx(slot, NASCAR_DIM_DST, in->dport);
	f.b[5] = bits_of(slot, bpf_map_lookup_elem(&nascar_ports, &k));

	for (i = 0; i < 6; i++)
		if (!f.b[i])
			return -1;
	return (int)nascar_first_match(&f, cfg->nwords);
}
#endif

static __always_inline __u32 nascar_classify_pkt(__u32 slot, __u32 ifid,
						 const struct nascar_pkt *pk)
{
	struct nascar_cls_in in;
	int r;

	__builtin_memset(&in, 0, sizeof(in));
	in.slot = slot;
	in.ifid = ifid;
	in.family = pk->family;
	in.proto = pk->proto;
	if (pk->proto == IPPROTO_TCP || pk->proto == IPPROTO_UDP) {
		in.sport = bpf_ntohs(pk->key.sport);
		in.dport = bpf_ntohs(pk->key.dport);
	}
	__builtin_memcpy(in.src, pk->key.src, 16);
	__builtin_memcpy(in.dst, pk->key.dst, 16);
	r = nascar_classify(&in);
	return r < 0 ? NASCAR_NO_RULE : (__u32)r;
}

static __always_inline int nascar_allowed(__u32 slot, __u32 ifid, const struct nascar_pkt *pk)
{
	struct nascar_allow_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = NASCAR_ADDR_KEY_BITS + (pk->family == NASCAR_FAM_V4 ? 32 : 128);
	k.slot = slot;
	k.iface = ifid;
	k.family = pk->family;
	__builtin_memcpy(k.addr, pk->key.src, 16);
	return bpf_map_lookup_elem(&nascar_allow, &k) != 0;
}

#endif /* NASCAR_BPF_CLASSIFY_H */
