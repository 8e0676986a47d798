/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd.h - the forwarding decision shared by the XDP and TC entry points:
 * flow cache, classification glue, FIB lookup, policer, header rewrite,
 * counters.  Everything is static __always_inline; nascar_run() is
 * instantiated twice, with xdp = 1 and xdp = 0, and the compiler drops the
 * half that does not apply.
 *
 * Order per packet (both hooks):
 *   1. active slot and generation from nascar_state; ingress interface must
 *      be declared by that slot (nascar_ifaces), else XDP_PASS/TC_ACT_OK
 *      untouched and uncounted;
 *   2. parse; not IP, IPv6 ND -> stack;
 *   3. flow cache hit (same generation) -> cached decision;
 *   4. miss: allow-src (spoofed -> drop), not classifiable -> stack,
 *      classify (nascar_first_match), for forward: FIB lookup; store;
 *   5. act: drop / stack / forward (TTL, MTU, policer, rewrite, redirect).
 * A cache hit skips allow-src: the entry was made for this very source
 * under this very generation, which already passed it.
 *
 * Route and neighbour changes: a cached route is used for at most
 * NASCAR_FIB_TTL_NS, then looked up again on the next packet of the flow
 * (the classification is kept).  No daemon is needed and a stale next hop
 * lives at most 250 ms.
 *
 * skb->priority (TC path) = class priority 0..7, unchanged.  With a prio
 * qdisc's default priomap 6 and 7 land in the most urgent band; with mqprio
 * map priorities to traffic classes explicitly.
 */
#ifndef NASCAR_BPF_FWD_H
#define NASCAR_BPF_FWD_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"
#include "nascar_classify.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define NASCAR_NO_RULE 0xffffffffU
#define NSEC_PER_SEC 1000000000ULL

/* Frames up to this size get their L4 checksum checked on native XDP
 * guest interfaces (GSO frames never come through native XDP). */
#define NASCAR_CSUM_MAX_FRAME 1518

/* Debug knobs (NASCAR_DBG_*), set before load by the benchmarks and tests
 * only (dead code for the verifier otherwise). */
const volatile __u32 nascar_debug = 0;

/* ---- counters ---------------------------------------------------------- */

static __always_inline void cnt_one(void *map, __u32 idx, enum nascar_cnt what, __u64 bytes)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (!c)
		return;
	c[nascar_cnt_word(what)] += 1;
	c[nascar_cnt_word(what) + 1] += bytes;
}

static __always_inline void nascar_count(__u32 slot, __u32 ifid, __u32 rule, __u32 class_id,
					 enum nascar_cnt what, __u64 bytes)
{
	if (nascar_debug & NASCAR_DBG_NO_COUNT)
		return;
	cnt_one(&nascar_istats, nascar_iface_idx(slot, ifid), what, bytes);
	if (rule < NASCAR_NRULES)
		cnt_one(&nascar_fstats, nascar_rule_idx(slot, rule), what, bytes);
	if (class_id < NASCAR_MAX_CLASSES)
		cnt_one(&nascar_cstats, nascar_class_idx(slot, class_id), what, bytes);
}

/* ---- checksums --------------------------------------------------------- */

/* RFC 1624 incremental update of a 16-bit field, all values as stored. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u64 s = (__u16)~check;

	s += (__u16)~old;
	s += new;
	return (__u16)~csum_fold64(s);
}

/* ---- classification ---------------------------------------------------- */

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

/* ---- policer ----------------------------------------------------------- */

/* Bytes earned in elapsed ns at rate bytes/s, capped at need (no overflow
 * for any rate below 2^43 bytes/s and any elapsed time). */
static __always_inline __u64 police_earned(__u64 elapsed, __u64 rate, __u64 need)
{
	__u64 secs = elapsed / NSEC_PER_SEC, rem = elapsed % NSEC_PER_SEC, add = 0;

	if (rate > (1ULL << 43))
		rate = 1ULL << 43;
	if (secs) {
		if (secs >= need || rate >= (need + secs - 1) / secs)
			return need;
		add = secs * rate;
	}
	if (rate >= (1ULL << 34))
		add += (rem >> 9) * rate / (NSEC_PER_SEC >> 9);
	else
		add += rem * rate / NSEC_PER_SEC;
	return add < need ? add : need;
}

/* 1: conforms (tokens taken), 0: over the rate.  seg is the size of the
 * first segment of a GSO super-packet (len otherwise): see below. */
static __always_inline int police_take(__u32 slot, __u32 class_id, __u64 len, __u64 seg)
{
	struct nascar_class *c;
	struct nascar_police *p;
	__u32 k = nascar_class_idx(slot, class_id & (NASCAR_MAX_CLASSES - 1));
	__u64 now, rate, burst, tokens, need, add;
	int ok;

	c = bpf_map_lookup_elem(&nascar_classes, &k);
	p = bpf_map_lookup_elem(&nascar_police, &k);
	if (!c || !p || !c->rate)
		return 1;
	rate = c->rate;
	burst = c->burst;
	now = bpf_ktime_get_ns();

	bpf_spin_lock(&p->lock);
	tokens = p->tokens;
	if (tokens >= burst) {
		tokens = burst;
		p->last_ns = now;
	} else if (now > p->last_ns) {
		need = burst - tokens;
		add = police_earned(now - p->last_ns, rate, need);
		if (add >= need) {
			tokens = burst;
			p->last_ns = now;
		} else if (add) {
			/* advance by the time actually converted into tokens, so
			 * sub-byte remainders are not lost at high packet rates */
			tokens += add;
			p->last_ns += add * NSEC_PER_SEC / rate;
		}
	}
	/* A GSO super-packet (TC only, up to 64 KB) is many frames on the
	 * wire.  It cannot be cut here, so it is judged as a per-segment
	 * policer would judge its first segment: it passes when one segment
	 * conforms, and what it takes beyond the tokens becomes a debt, kept
	 * as last_ns in the future (nothing is earned before then), so the
	 * long-term rate still holds and the packets after it are dropped
	 * until the debt is paid.  Charging it whole against a bucket smaller
	 * than itself dropped every super-packet of a TSO flow (issue 10).
	 * A frame larger than the whole bucket likewise passes when it is
	 * full. */
	if (seg > len)
		seg = len;
	ok = tokens >= (seg < burst ? seg : burst);
	if (ok && len > tokens) {
		p->last_ns = now + (len - tokens) * NSEC_PER_SEC / rate;
		tokens = 0;
	} else if (ok) {
		tokens -= len;
	}
	p->tokens = tokens;
	bpf_spin_unlock(&p->lock);
	return ok;
}

/* ---- routing ----------------------------------------------------------- */

struct nascar_route_in {
	__u32 slot;
	__u32 in_ifindex;
	__u8 iflags;
	__u8 xdp;
	__u8 refresh; /* fv already holds a forward decision */
	__u8 pad0;
};

#define ROUTE_OK 0	 /* fv updated; store it */
#define ROUTE_PKT_ONLY 1 /* this packet can't be routed here (too big): hand on, don't store */

/*
 * Looks the route of pk up and turns fv (rule/class already set) into
 * FORWARD or a stack verdict.  nh returns the next hop for redirect_neigh.
 */
static __always_inline int nascar_route(void *ctx, const struct nascar_pkt *pk,
					const struct nascar_route_in *in,
					struct nascar_flow_val *fv, struct bpf_fib_lookup *p)
{
	struct nascar_iface *egress;
	struct nascar_ifkey ek;
	int rc;

	__builtin_memset(p, 0, sizeof(*p));
	p->l4_protocol = pk->proto;
	p->sport = pk->key.sport;
	p->dport = pk->key.dport;
	p->ifindex = in->in_ifindex;
	/* XDP: the real length, so the kernel checks the egress MTU.  TC: 0,
	 * so it checks the skb (GSO-aware) instead. */
	p->tot_len = in->xdp ? pk->l3_len : 0;
	if (pk->family == NASCAR_FAM_V4) {
		struct iphdr *ip = pk->l3;

		p->family = AF_INET;
		p->tos = ip->tos;
		__builtin_memcpy(&p->ipv4_src, pk->key.src, 4);
		__builtin_memcpy(&p->ipv4_dst, pk->key.dst, 4);
	} else {
		struct ipv6hdr *ip6 = pk->l3;

		p->family = AF_INET6;
		p->flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		__builtin_memcpy(p->ipv6_src, pk->key.src, 16);
		__builtin_memcpy(p->ipv6_dst, pk->key.dst, 16);
	}

	rc = bpf_fib_lookup(ctx, p, sizeof(*p), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return ROUTE_PKT_ONLY;

	fv->stack_reason = NASCAR_SR_NONE;
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		break;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		fv->verdict = NASCAR_V_STACK;
		fv->stack_reason = NASCAR_SR_LOCAL;
		return ROUTE_OK;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		fv->verdict = NASCAR_V_STACK;
		fv->stack_reason = NASCAR_SR_FWD_DISABLED;
		return ROUTE_OK;
	default:
		fv->verdict = NASCAR_V_STACK;
		fv->stack_reason = NASCAR_SR_NOROUTE;
		return ROUTE_OK;
	}

	ek.ifindex = p->ifindex;
	ek.slot = in->slot;
	egress = bpf_map_lookup_elem(&nascar_ifaces, &ek);
	if (!egress) {
		fv->verdict = NASCAR_V_STACK;
		fv->stack_reason = NASCAR_SR_EGRESS;
		return ROUTE_OK;
	}
	/* Both hooks of an interface share its cache entries: the flags
	 * depend only on the two interfaces, never on the hook.  XDP hands
	 * on what it cannot redirect, and what would bypass a line-rate
	 * scheduler when TC is there to take it through the qdisc. */
	fv->flags &= ~(NASCAR_FV_XDP_HANDON | NASCAR_FV_EGRESS_SCHED);
	if (((egress->flags & NASCAR_IF_NO_XDP_TX) && (in->iflags & NASCAR_IF_XDP_NATIVE)) ||
	    ((egress->flags & NASCAR_IF_LINE_RATE) && (in->iflags & NASCAR_IF_TC)))
		fv->flags |= NASCAR_FV_XDP_HANDON;
	if (egress->flags & NASCAR_IF_SCHED)
		fv->flags |= NASCAR_FV_EGRESS_SCHED;

	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		if (!in->xdp || (in->iflags & NASCAR_IF_TC)) {
			/* TC resolves the neighbour (bpf_redirect_neigh) */
			fv->verdict = NASCAR_V_FORWARD;
			fv->flags |= NASCAR_FV_NEED_TC;
			fv->ifindex = p->ifindex;
			fv->mtu = 0;
			return ROUTE_OK;
		}
		if (in->refresh && fv->verdict == NASCAR_V_FORWARD &&
		    !(fv->flags & NASCAR_FV_NEED_TC) && fv->ifindex == p->ifindex) {
			/* xdp-only, flow already on the fast path, same egress:
			 * keep its MACs rather than move it to the stack half-way
			 * (docs/architecture.md, kernel fact 6); the neighbour
			 * entry merely aged. */
			return ROUTE_OK;
		}
		/* xdp-only, first packet: the stack resolves the neighbour and
		 * keeps the whole flow (no half-NATed connections). */
		fv->verdict = NASCAR_V_STICKY_STACK;
		fv->stack_reason = NASCAR_SR_NO_NEIGH;
		return ROUTE_OK;
	}

	fv->verdict = NASCAR_V_FORWARD;
	fv->flags &= ~NASCAR_FV_NEED_TC;
	fv->ifindex = p->ifindex;
	fv->mtu = p->mtu_result;
	__builtin_memcpy(fv->dmac, p->dmac, 6);
	__builtin_memcpy(fv->smac, p->smac, 6);
	return ROUTE_OK;
}

/* ---- header rewrite ---------------------------------------------------- */

/* TTL - 1 and DSCP; IPv4 header checksum updated incrementally (which
 * also keeps the 16-bit sum of the header, hence skb->csum, unchanged). */
static __always_inline void rewrite_ip4(struct iphdr *ip, __u8 dscp)
{
	__u16 *w = (__u16 *)ip;
	__u16 old, new;
	__u16 check = ip->check;

	if (dscp != NASCAR_DSCP_KEEP) {
		old = w[0];
		ip->tos = (dscp << 2) | (ip->tos & 3);
		new = w[0];
		check = csum_replace16(check, old, new);
	}
	old = w[4];
	ip->ttl -= 1;
	new = w[4];
	ip->check = csum_replace16(check, old, new);
}

static __always_inline void rewrite_ip6(struct ipv6hdr *ip6, __u8 dscp)
{
	if (dscp != NASCAR_DSCP_KEEP) {
		__u32 *w = (__u32 *)ip6;
		__u32 v = bpf_ntohl(*w);

		v = (v & 0xf03fffffU) | ((__u32)dscp << 22);
		*w = bpf_htonl(v);
	}
	ip6->hop_limit -= 1;
}

/* Native XDP on a guest tap: the frame may carry a partial L4 checksum
 * (guest tx offload; the flag is not visible here).  The sum over the L4
 * bytes is a global (separately verified) function so its data-dependent
 * loop does not multiply the states of the main program.
 * Returns 0 when the checksum is now correct (valid, or partial and
 * completed), -1 when it is simply wrong (the caller hands the packet to
 * the stack). */
__attribute__((noinline)) int nascar_l4_csum(struct xdp_md *ctx, __u32 l4_off, __u32 len,
					     __u32 check_off, __u32 pseudo);

static __always_inline int xdp_fix_l4_csum(struct xdp_md *ctx, const struct nascar_pkt *pk,
					   void *data)
{
	const __u16 *s = (const __u16 *)pk->key.src, *d = (const __u16 *)pk->key.dst;
	__u64 ps;
	int i;

	if (pk->family == NASCAR_FAM_V4) {
		ps = (__u64)s[0] + s[1] + d[0] + d[1];
	} else {
		ps = 0;
#pragma unroll
		for (i = 0; i < 8; i++)
			ps += (__u64)s[i] + d[i];
		ps += bpf_htons((__u16)(pk->l4_len >> 16));
	}
	ps += bpf_htons((__u16)pk->l4_len) + bpf_htons((__u16)pk->proto);
	return nascar_l4_csum(
		ctx, (__u32)(pk->l4 - data), pk->l4_len, pk->proto == IPPROTO_TCP ? 16 : 6,
		csum_fold64(ps) |
			(pk->proto == IPPROTO_UDP && pk->family == NASCAR_FAM_V4 ? 0x10000 : 0));
}

/* Global functions are defined once, in nascar.bpf.c (NASCAR_BPF_IMPL). */
#ifdef NASCAR_BPF_IMPL
__attribute__((noinline)) int nascar_l4_csum(struct xdp_md *ctx, __u32 l4_off, __u32 len,
					     __u32 check_off, __u32 pseudo)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 ps = pseudo & 0xffff, *check;
	__u64 sum = ps;
	__u8 *p;
	int bad = 0;

	if (len > NASCAR_CSUM_MAX_FRAME)
		return -1;
	/* masks, not just compares: clang may test one copy and use another */
	p = data + (l4_off & 0x7f);
	check = (__u16 *)(p + (check_off & 0x1f));
	if ((void *)(check + 1) > data_end)
		return -1;
	if (*check == 0 && (pseudo & 0x10000))
		return 0; /* UDP over IPv4 without checksum */

	sum = csum_bytes(p, data_end, len, sum, &bad);
	if (bad)
		return -1;

	if (csum_fold64(sum) == 0xffff)
		return 0; /* valid */
	if (*check == ps) {
		/* partial: the field holds the folded pseudo-header sum */
		__u16 c = ~csum_fold64(sum + (__u16)~ps);

		if (check_off == 6 && c == 0)
			c = 0xffff;
		*check = c;
		return 0;
	}
	return -1;
}
#endif

#endif /* NASCAR_BPF_FWD_H */
