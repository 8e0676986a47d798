/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * flowcache.h - the per-CPU first level of the flow cache (nascar_l1,
 * maps.h) in front of the shared LRU hash nascar_flows.
 *
 * A hit in nascar_flows costs a jhash of the 44-byte key, a bucket walk and
 * a key compare inside the kernel; a hit here is a multiplicative hash of
 * the key's words, an array slot the verifier inlines, and a compare of
 * five 8-byte and one 4-byte word.  The bucket is direct-mapped: a flow
 * whose bucket holds another flow (or a decision of an older generation)
 * misses here, finds its entry in nascar_flows and takes the bucket.
 *
 * Contract: nascar_flows stays the cache of record (the miss path and a
 * route refresh write it, then the bucket); a bucket is only a copy, valid
 * when its key equals the packet's and its generation is the active one.
 * A bucket is per CPU and XDP and TC ingress never nest on one CPU, so its
 * entry can be used in place.  Each CPU refreshes its copy of a route on
 * its own after NASCAR_FIB_TTL_NS, as it would the shared entry.
 */
#ifndef NASCAR_BPF_FLOWCACHE_H
#define NASCAR_BPF_FLOWCACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nascar_abi.h"
#include "maps.h"

/* The bucket of a key: its words folded (the addresses, the ports, the
 * interface, protocol and family), spread by two multiplications, the top
 * NASCAR_L1_BITS bits. */
static __always_inline __u32 nascar_l1_hash(const struct nascar_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h;

	h = (w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u;
	h ^= w[4] ^ w[5] ^ w[6] ^ w[7];
	h = (h ^ w[8]) * 0x85ebca6bu;
	h ^= w[9] ^ w[10];
	h *= 0xc2b2ae35u;
	return h >> (32 - NASCAR_L1_BITS);
}

static __always_inline int nascar_l1_key_eq(const struct nascar_flow_key *a,
					    const struct nascar_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
		 (__u64)(((const __u32 *)a)[10] ^ ((const __u32 *)b)[10]));
}

/* This CPU's bucket for key (never NULL in practice; the verifier wants
 * the check). */
static __always_inline struct nascar_l1_ent *nascar_l1_bucket(const struct nascar_flow_key *key)
{
	__u32 i = nascar_l1_hash(key);

	return bpf_map_lookup_elem(&nascar_l1, &i);
}

/* The bucket's decision for key under generation gen, or NULL. */
static __always_inline struct nascar_flow_val *
nascar_l1_get(struct nascar_l1_ent *b, const struct nascar_flow_key *key, __u32 gen)
{
	if (b && b->val.generation == gen && nascar_l1_key_eq(&b->key, key))
		return &b->val;
	return 0;
}

/* The bucket takes key's decision (a copy of what nascar_flows holds). */
static __always_inline void nascar_l1_put(struct nascar_l1_ent *b,
					  const struct nascar_flow_key *key,
					  const struct nascar_flow_val *v)
{
	if (!b)
		return;
	__builtin_memcpy(&b->key, key, sizeof(b->key));
	__builtin_memcpy(&b->val, v, sizeof(b->val));
}

#endif /* NASCAR_BPF_FLOWCACHE_H */
