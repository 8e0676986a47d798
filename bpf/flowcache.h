/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * flowcache.h - the per-CPU first level of the flow cache (nascar_l1,
 * maps.h) in front of the shared LRU hash nascar_flows.
 *
 * A hit in nascar_flows costs a jhash of the 44-byte key, a bucket walk and
 * a key compare inside the kernel; a hit here is a multiplicative hash of
 * the key's words, an array slot the verifier inlines, and a compare of
 * five 8-byte and one 4-byte word per way.  A set has two ways, so two
 * flows that share a set do not evict each other on every packet (with
 * one way, 1024 flows in 4096 buckets left about a fifth of them
 * missing here); a third one takes the front way and drops the older.
 *
 * Contract: nascar_flows stays the cache of record (the miss path and a
 * route refresh write it, then the set); an entry here is only a copy,
 * valid when its key equals the packet's and its generation is the active
 * one.  It also holds the ingress interface's id, flags and role as they
 * were under that generation (constant within it), so a hit needs no
 * interface lookup.  A set is per CPU and XDP and TC ingress never nest on one CPU, so
 * its entries can be used in place.  Each CPU refreshes its copy of a route on
 * its own after nascar_fib_ttl_jiffies (fwd.h), as it would the shared entry.
 */
#ifndef NASCAR_BPF_FLOWCACHE_H
#define NASCAR_BPF_FLOWCACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"
#include "maps.h"

/* The set of a key.  Everything but the ports is folded into one word
 * (the destination turned by 16 bits, so that a flow and its reply do not
 * cancel out, the protocol and family by 8), its high bytes folded down
 * onto its low ones; the ports are added as numbers and the sum is spread
 * by Fibonacci hashing (the top NASCAR_L1_SET_BITS bits of a
 * multiplication by 2^32 / golden ratio), which spreads an arithmetic run
 * of ports evenly: a client's connections to one server (Linux steps its
 * ephemeral ports by 2) and the replies to them.  Up to NASCAR_L1_SETS
 * keys that differ only by consecutive or every other port never put
 * three in one set (one way would have to go).  Unrelated keys land about
 * as randomly as with a hash that mixes every word (in a simulation, 3 %
 * of 1024 and 10 % of 2048 random flows find their set full, as they did
 * with the three multiplications this hash had before; one is cheaper on
 * the hit path, whose chain of dependent multiplications showed in its
 * profile). */
static __always_inline __u32 nascar_l1_hash(const struct nascar_flow_key *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 d = w[4] ^ w[5] ^ w[6] ^ w[7], s;

	s = w[0] ^ w[1] ^ w[2] ^ w[3] ^ (d << 16 | d >> 16) ^ w[9] ^ (w[10] << 8 | w[10] >> 24);
	s ^= s >> 16;
	s ^= (s >> 8) & 0xff;
	s += (__u32)bpf_ntohs(k->sport) + bpf_ntohs(k->dport);
	return (s * 0x9e3779b1u) >> (32 - NASCAR_L1_SET_BITS);
}

static __always_inline int nascar_l1_key_eq(const struct nascar_flow_key *a,
					    const struct nascar_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
		 (__u64)(((const __u32 *)a)[10] ^ ((const __u32 *)b)[10]));
}

/* This CPU's set for key, or NULL for a CPU the loader sized no sets
 * for. */
static __always_inline struct nascar_l1_set *nascar_l1_set(const struct nascar_flow_key *key)
{
	__u32 i = bpf_get_smp_processor_id() * NASCAR_L1_SETS + nascar_l1_hash(key);

	return bpf_map_lookup_elem(&nascar_l1, &i);
}

/* The set's entry for key under generation gen, or NULL. */
static __always_inline struct nascar_l1_ent *
nascar_l1_get(struct nascar_l1_set *s, const struct nascar_flow_key *key, __u32 gen)
{
	if (!s)
		return 0;
	if (s->way[0].val.generation == gen && nascar_l1_key_eq(&s->way[0].key, key))
		return &s->way[0];
	if (s->way[1].val.generation == gen && nascar_l1_key_eq(&s->way[1].key, key))
		return &s->way[1];
	return 0;
}

/* The set takes key's decision v (a copy of what nascar_flows holds; key
 * is not in the set under v's generation) and the ingress interface's id,
 * flags and role: into a way that holds an older generation, else into
 * way 0, whose entry moves to way 1 (dropping that one).  Returns the
 * copy of v, or v when there is no set. */
static __always_inline struct nascar_flow_val *nascar_l1_put(struct nascar_l1_set *s,
							     const struct nascar_flow_key *key,
							     struct nascar_flow_val *v, __u8 ifid,
							     __u8 iflags, __u8 role)
{
	struct nascar_l1_ent *e;

	if (!s)
		return v;
	if (s->way[0].val.generation != v->generation) {
		e = &s->way[0];
	} else if (s->way[1].val.generation != v->generation) {
		e = &s->way[1];
	} else {
		__builtin_memcpy(&s->way[1], &s->way[0], sizeof(s->way[1]));
		e = &s->way[0];
	}
	__builtin_memcpy(&e->key, key, sizeof(e->key));
	e->ifid = ifid;
	e->iflags = iflags;
	e->role = role;
	__builtin_memcpy(&e->val, v, sizeof(e->val));
	return &e->val;
}

#endif /* NASCAR_BPF_FLOWCACHE_H */
