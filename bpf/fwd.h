/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd.h - the forwarding decision shared by the XDP and TC entry points:
 * flow cache, then classify.h, route.h, police.h, rewrite.h and counters.h
 * in that order.  Everything is static __always_inline; nascar_run() is
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
#include "maps.h"
#include "parse.h"
#include "counters.h"
#include "classify.h"
#include "police.h"
#include "route.h"
#include "rewrite.h"

/* XDP hands a packet on.  With TC attached behind it (hybrid), TC counts
 * and finishes the job; the metadata says which rule XDP found (or that XDP
 * already sent it to the stack: NASCAR_META_RULE_STACK). */
static __always_inline int xdp_pass(struct xdp_md *ctx, __u8 iflags, __u32 rule, __u32 gen)
{
	struct nascar_meta *m;
	void *data;

	if (!(iflags & NASCAR_IF_TC))
		return XDP_PASS;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XDP_PASS;
	m->magic = NASCAR_META_MAGIC;
	m->rule = rule;
	m->generation = gen;
	return XDP_PASS;
}

#define NASCAR_PULL_LEN (14 + 40 + 60)
/* Headers in front of each segment of a GSO skb, near enough for the
 * policer: Ethernet, IP, and TCP without options. */
#define GSO_HDR_LEN(fam) ((fam) == NASCAR_FAM_V4 ? 14 + 20 + 20 : 14 + 40 + 20)

#define RET_PASS(xdp) ((xdp) ? XDP_PASS : TC_ACT_OK)
#define RET_DROP(xdp) ((xdp) ? XDP_DROP : TC_ACT_SHOT)

static __always_inline int nascar_run(void *ctx, const int xdp)
{
	struct xdp_md *xctx = ctx;
	struct __sk_buff *skb = ctx;
	struct nascar_state *st;
	struct nascar_iface *ifc;
	struct nascar_ifcache_val *ic;
	struct nascar_ifkey ik;
	struct nascar_pkt pk;
	struct nascar_flow_val *f, *cv;
	struct nascar_route_in rin;
	struct bpf_fib_lookup fib;
	void *data, *data_end;
	__u32 zero = 0, slot, gen, ifid, ifindex, rule, meta_rule = NASCAR_NO_RULE;
	__u32 k0;
	__u8 iflags, role;
	__u64 len, now;
	int r, have_nh = 0;

	if (xdp) {
		data = (void *)(long)xctx->data;
		data_end = (void *)(long)xctx->data_end;
		ifindex = xctx->ingress_ifindex;
		len = data_end - data;
	} else {
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		ifindex = skb->ifindex;
		len = skb->len;
		/* A GSO skb may carry only part of its headers in the linear
		 * area: pull enough for Ethernet + IPv6 + TCP. */
		if (data + NASCAR_PULL_LEN > data_end && len > (__u64)(data_end - data)) {
			bpf_skb_pull_data(skb, len < NASCAR_PULL_LEN ? len : NASCAR_PULL_LEN);
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
		}
	}

	st = bpf_map_lookup_elem(&nascar_state, &zero);
	if (!st)
		return RET_PASS(xdp);
	slot = st->active_slot & 1;
	gen = st->generation;
	/* Generation 0: a first apply is attaching hooks and filling slot 0;
	 * nothing has been switched to yet, so nothing is ours. */
	if (!gen)
		return RET_PASS(xdp);
	k0 = ifindex & (NASCAR_IFCACHE - 1);
	ic = bpf_map_lookup_elem(&nascar_ifcache, &k0);
	if (!ic)
		return RET_PASS(xdp);
	if (ic->ifindex != ifindex || ic->generation != gen) {
		ik.ifindex = ifindex;
		ik.slot = slot;
		ifc = bpf_map_lookup_elem(&nascar_ifaces, &ik);
		if (!ifc)
			return RET_PASS(xdp);
		ic->ifc = *ifc;
		ic->ifindex = ifindex;
		ic->generation = gen;
	}
	ifid = ic->ifc.id & (NASCAR_MAX_IFACES - 1);
	iflags = ic->ifc.flags;
	role = ic->ifc.role;

	if (!xdp && skb->vlan_present) {
		/* The tag was taken off into the skb (on receive, before TC):
		 * a frame of a VLAN, not an untagged frame of this interface.
		 * Tags still in the bytes make the parser say NP_OTHER. */
		nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_STACK, len);
		return TC_ACT_OK;
	}

	if (!xdp) {
		/* hand-over from XDP */
		struct nascar_meta *m = (void *)(long)skb->data_meta;

		if ((void *)(m + 1) <= data && m->magic == NASCAR_META_MAGIC &&
		    m->generation == gen) {
			if (m->rule == NASCAR_META_RULE_STACK)
				return TC_ACT_OK;
			if (m->rule < NASCAR_NRULES)
				meta_rule = m->rule;
		}
	}

	__builtin_memset(&pk, 0, sizeof(pk));
	r = nascar_parse(data, data_end, (__u32)len, &pk);
	if (r == NP_OTHER || r == NP_ND) {
		nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_STACK, len);
		return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen) : TC_ACT_OK;
	}
	pk.key.ifindex = ifindex;

	cv = 0;
	if (r == NP_OK && !(nascar_debug & NASCAR_DBG_NO_CACHE))
		cv = bpf_map_lookup_elem(&nascar_flows, &pk.key);
	if (cv && cv->generation == gen) {
		/* A hit acts on the entry in place (no copy); only a route
		 * refresh builds a new decision in scratch and stores it. */
		f = cv;
		if ((f->verdict == NASCAR_V_FORWARD ||
		     (f->verdict == NASCAR_V_STACK && f->stack_reason != NASCAR_SR_RULE)) &&
		    (now = bpf_ktime_get_coarse_ns()) - f->fib_ns > NASCAR_FIB_TTL_NS) {
			f = bpf_map_lookup_elem(&nascar_scratch, &zero);
			if (!f)
				return RET_PASS(xdp);
			*f = *cv;
			rin.slot = slot;
			rin.in_ifindex = ifindex;
			rin.iflags = iflags;
			rin.xdp = xdp;
			rin.refresh = 1;
			if (nascar_route(ctx, &pk, &rin, f, &fib) == ROUTE_OK) {
				f->fib_ns = now;
				have_nh = 1;
				bpf_map_update_elem(&nascar_flows, &pk.key, f, BPF_ANY);
			} else {
				/* too big for XDP: hand on (TC counts it when it is
				 * there), route again next time */
				if (!xdp || !(iflags & NASCAR_IF_TC))
					nascar_count(slot, ifid, f->rule, f->class_id,
						     NASCAR_CNT_STACK, len);
				if (xdp)
					return xdp_pass(xctx, iflags, f->rule, gen);
				return TC_ACT_OK;
			}
		}
		rule = f->rule;
	} else {
		struct nascar_rule *ru;
		struct nascar_class *cl;
		__u32 k;

		/* The decision is built in per-CPU scratch memory rather than
		 * on the stack: the verifier forgets what is stored in map
		 * values, so the many ways of reaching a decision merge into
		 * one state for the code that acts on it (instead of
		 * multiplying its states). */
		f = bpf_map_lookup_elem(&nascar_scratch, &zero);
		if (!f)
			return RET_PASS(xdp);
		if ((iflags & NASCAR_IF_ALLOW_SRC) && meta_rule == NASCAR_NO_RULE &&
		    !nascar_allowed(slot, ifid, &pk)) {
			nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_SPOOF,
				     len);
			return RET_DROP(xdp);
		}
		if (r != NP_OK) {
			nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_STACK,
				     len);
			return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen)
				   : TC_ACT_OK;
		}

		rule = meta_rule != NASCAR_NO_RULE ? meta_rule
						   : nascar_classify_pkt(slot, ifid, &pk);
		if (rule > NASCAR_RULE_DEFAULT) {
			nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_STACK,
				     len);
			return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen)
				   : TC_ACT_OK;
		}
		k = nascar_rule_idx(slot, rule);
		ru = bpf_map_lookup_elem(&nascar_rules, &k);
		if (!ru) {
			nascar_count(slot, ifid, NASCAR_NO_RULE, NASCAR_NO_CLASS, NASCAR_CNT_STACK,
				     len);
			return RET_PASS(xdp);
		}
		__builtin_memset(f, 0, sizeof(*f));
		f->generation = gen;
		f->rule = rule;
		f->class_id = ru->class_id;
		f->dscp = NASCAR_DSCP_KEEP;
		if (ru->class_id < NASCAR_MAX_CLASSES) {
			k = nascar_class_idx(slot, ru->class_id);
			cl = bpf_map_lookup_elem(&nascar_classes, &k);
			if (cl) {
				f->priority = cl->priority;
				f->dscp = cl->dscp;
				if (cl->rate)
					f->flags |= (cl->flags & NASCAR_CLASS_POLICE)
							    ? NASCAR_FV_POLICE
							    : NASCAR_FV_SHAPE;
			}
		}
		if (ru->action == NASCAR_ACT_DROP) {
			f->verdict = NASCAR_V_DROP;
		} else if (ru->action == NASCAR_ACT_FORWARD) {
			rin.slot = slot;
			rin.in_ifindex = ifindex;
			rin.iflags = iflags;
			rin.xdp = xdp;
			rin.refresh = 0;
			if (nascar_route(ctx, &pk, &rin, f, &fib) != ROUTE_OK) {
				/* too big for XDP and nothing known yet: hand on, no entry */
				if (xdp && (iflags & NASCAR_IF_TC))
					return xdp_pass(xctx, iflags, rule, gen);
				nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
				return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen)
					   : TC_ACT_OK;
			}
			have_nh = 1;
			f->fib_ns = bpf_ktime_get_coarse_ns();
		} else {
			f->verdict = NASCAR_V_STACK;
			f->stack_reason = NASCAR_SR_RULE;
		}
		bpf_map_update_elem(&nascar_flows, &pk.key, f, BPF_ANY);
	}

	/* ---- act ---- */
	if (f->verdict == NASCAR_V_DROP) {
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_DROP, len);
		return RET_DROP(xdp);
	}
	if (f->verdict != NASCAR_V_FORWARD) {
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
		return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen) : TC_ACT_OK;
	}
	if (pk.ttl <= 1) {
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
		return xdp ? xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen) : TC_ACT_OK;
	}

	if (xdp) {
		struct ethhdr *eth = data;
		/* Native XDP cannot see whether a frame's L4 checksum is
		 * partial: on a guest's tap, or where the runtime says the
		 * sender may offload checksums (a veth), check and complete. */
		int csum_walk = (iflags & NASCAR_IF_XDP_NATIVE) &&
				((iflags & NASCAR_IF_CSUM_FIX) || role == NASCAR_ROLE_GUEST) &&
				(pk.proto == IPPROTO_TCP || pk.proto == IPPROTO_UDP);

		/* what XDP cannot take goes on to TC (or the stack): a route
		 * that needs TC, a frame over the egress MTU, an egress that
		 * refuses native redirects (it would drop the frame after we
		 * counted it), a frame too big for the checksum walk below */
		if ((f->flags & (NASCAR_FV_NEED_TC | NASCAR_FV_XDP_HANDON)) ||
		    ((f->flags & NASCAR_FV_SHAPE) && (iflags & NASCAR_IF_TC)) ||
		    pk.l3_len > f->mtu || (csum_walk && len > NASCAR_CSUM_MAX_FRAME) ||
		    bpf_redirect_map(&nascar_devmap, f->ifindex, XDP_PASS) != XDP_REDIRECT) {
			if (!(iflags & NASCAR_IF_TC))
				nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
			return xdp_pass(xctx, iflags, rule, gen);
		}
		if (csum_walk && xdp_fix_l4_csum(xctx, &pk, data)) {
			nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
			return xdp_pass(xctx, iflags, NASCAR_META_RULE_STACK, gen);
		}
		/* XDP alone cannot delay: a shaped class is policed here */
		if ((f->flags & (NASCAR_FV_POLICE | NASCAR_FV_SHAPE)) &&
		    !police_take(slot, f->class_id, len, len)) {
			nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_POLICE, len);
			return XDP_DROP;
		}
		if ((void *)(eth + 1) > data_end)
			return XDP_PASS;
		if (pk.family == NASCAR_FAM_V4) {
			struct iphdr *ip = (void *)(eth + 1);

			if ((void *)(ip + 1) > data_end)
				return XDP_PASS;
			rewrite_ip4(ip, f->dscp);
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);

			if ((void *)(ip6 + 1) > data_end)
				return XDP_PASS;
			rewrite_ip6(ip6, f->dscp);
		}
		__builtin_memcpy(eth->h_dest, f->dmac, 6);
		__builtin_memcpy(eth->h_source, f->smac, 6);
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_XDP, len);
		return XDP_REDIRECT;
	}

	/* TC */
	if (f->mtu && !skb->gso_size && pk.l3_len > f->mtu) {
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_STACK, len);
		return TC_ACT_OK;
	}
	/* police; or a rate where no scheduler of ours can delay the packet */
	if (((f->flags & NASCAR_FV_POLICE) ||
	     ((f->flags & NASCAR_FV_SHAPE) && !(f->flags & NASCAR_FV_EGRESS_SCHED))) &&
	    !police_take(slot, f->class_id, len,
			 skb->gso_size ? (__u64)skb->gso_size + GSO_HDR_LEN(pk.family) : len)) {
		nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_POLICE, len);
		return TC_ACT_SHOT;
	}
	{
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > data_end)
			return TC_ACT_OK;
		if (pk.family == NASCAR_FAM_V4) {
			struct iphdr *ip = (void *)(eth + 1);

			if ((void *)(ip + 1) > data_end)
				return TC_ACT_OK;
			rewrite_ip4(ip, f->dscp);
		} else {
			struct ipv6hdr *ip6 = (void *)(eth + 1);
			__u32 old[2], new[2];

			if ((void *)(ip6 + 1) > data_end)
				return TC_ACT_OK;
			__builtin_memcpy(old, ip6, 8);
			rewrite_ip6(ip6, f->dscp);
			__builtin_memcpy(new, ip6, 8);
			/* keep skb->csum right for CHECKSUM_COMPLETE skbs */
			bpf_csum_update(skb, bpf_csum_diff(old, 8, new, 8, 0));
		}
	}
	/* Nascar's scheduler on the egress: the class's own HTB class (a
	 * shaped class is delayed there); elsewhere the 802.1Q priority */
	skb->priority = (f->flags & NASCAR_FV_EGRESS_SCHED) ? NASCAR_SCHED_CLASSID(f->class_id)
							    : f->priority;
	nascar_count(slot, ifid, rule, f->class_id, NASCAR_CNT_TC, len);
	if (have_nh && (f->flags & NASCAR_FV_NEED_TC)) {
		struct bpf_redir_neigh nh;

		__builtin_memset(&nh, 0, sizeof(nh));
		if (fib.family == AF_INET) {
			nh.nh_family = AF_INET;
			nh.ipv4_nh = fib.ipv4_dst;
		} else {
			nh.nh_family = AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		}
		return bpf_redirect_neigh(f->ifindex, &nh, sizeof(nh), 0);
	}
	if (!(f->flags & NASCAR_FV_NEED_TC)) {
		/* The neighbour was resolved when the route was looked up (at
		 * most NASCAR_FIB_TTL_NS ago): write its MACs and redirect,
		 * which spares the kernel a second route and neighbour lookup.
		 * GSO skbs are segmented on the way out as usual. */
		struct ethhdr *eth = (void *)(long)skb->data;

		if ((void *)(eth + 1) > (void *)(long)skb->data_end)
			return TC_ACT_OK;
		__builtin_memcpy(eth->h_dest, f->dmac, 6);
		__builtin_memcpy(eth->h_source, f->smac, 6);
		return bpf_redirect(f->ifindex, 0);
	}
	return bpf_redirect_neigh(f->ifindex, 0, 0, 0);
}

#endif /* NASCAR_BPF_FWD_H */
