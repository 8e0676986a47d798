/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fwd.h - the forwarding decision shared by the XDP and TC entry points,
 * nascar_run(), and its exits (to_stack, hand_on, drop: one
 * helper per way a packet leaves).  The steps it calls live one header per
 * concern: classify.h, route.h, police.h, rewrite.h (over csum.h) and
 * counters.h.  Everything is static __always_inline; nascar_run() is
 * instantiated twice, with xdp = 1 and xdp = 0, and the compiler drops the
 * half that does not apply.
 *
 * Order per packet (both hooks):
 *   1. active slot and generation from nascar_state; TC only: the rule
 *      XDP handed over (or that XDP sent the packet to the stack); parse;
 *   2. the per-CPU first level of the flow cache (flowcache.h): a hit of
 *      this generation carries the ingress interface's id and flags;
 *   3. otherwise the ingress interface must be declared by the active
 *      slot (nascar_ifaces), else XDP_PASS/TC_ACT_OK untouched and
 *      uncounted; TC: a VLAN's frame -> stack; not IP, IPv6 ND -> stack;
 *      then nascar_flows;
 *   4. flow cache hit (same generation) -> cached decision (a route older
 *      than NASCAR_FIB_TTL_NS looked up again); miss: allow-src (spoofed
 *      -> drop), not classifiable -> stack, classify (nascar_first_match),
 *      for forward: FIB lookup (route_flow); store;
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
#include "flowcache.h"

/* A cached route's lifetime in jiffies (NASCAR_FIB_TTL_JIFFIES), set by
 * the loader from the kernel's HZ. */
const volatile __u32 nascar_fib_ttl_jiffies = NASCAR_FIB_TTL_JIFFIES_UNKNOWN;

/* What the decision knows of the hook a packet came in on. */
struct nascar_hook {
	__u64 len;     /* of the packet (skb->len on TC, GSO included) */
	__u32 slot;    /* active policy slot */
	__u32 gen;     /* its generation */
	__u32 ifindex; /* ingress interface */
	__u32 ifid;    /* its id in the slot */
	__u8 iflags;   /* its NASCAR_IF_* */
	__u8 role;     /* its NASCAR_ROLE_* */
};

#define RET_PASS(xdp) ((xdp) ? XDP_PASS : TC_ACT_OK)
#define RET_DROP(xdp) ((xdp) ? XDP_DROP : TC_ACT_SHOT)

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

/* The exits of the decision, one per way a packet leaves. */

/* To the kernel stack, counted here (a TC hook behind XDP is told so and
 * leaves the packet alone). */
static __always_inline int to_stack(void *ctx, const int xdp, const struct nascar_hook *h,
				    __u32 rule)
{
	nascar_count(h->slot, h->ifid, rule, NASCAR_CNT_STACK, h->len);
	return xdp ? xdp_pass(ctx, h->iflags, NASCAR_META_RULE_STACK, h->gen) : TC_ACT_OK;
}

/* This hook cannot finish the packet: XDP hands it on to the TC hook
 * behind it with the rule it found (TC counts it), or to the stack when
 * there is none; TC hands it to the stack.  Counted here when it goes to
 * the stack. */
static __always_inline int hand_on(void *ctx, const int xdp, const struct nascar_hook *h,
				   __u32 rule)
{
	if (!xdp || !(h->iflags & NASCAR_IF_TC))
		nascar_count(h->slot, h->ifid, rule, NASCAR_CNT_STACK, h->len);
	return xdp ? xdp_pass(ctx, h->iflags, rule, h->gen) : TC_ACT_OK;
}

/* Dropped, counted as what (NASCAR_CNT_DROP, _SPOOF, _POLICE). */
static __always_inline int drop(const int xdp, const struct nascar_hook *h, __u32 rule,
				enum nascar_cnt what)
{
	nascar_count(h->slot, h->ifid, rule, what, h->len);
	return RET_DROP(xdp);
}

/* nascar_route() for this hook; refresh: f already holds a decision. */
static __always_inline int route_flow(void *ctx, const int xdp, const struct nascar_hook *h,
				      const struct nascar_pkt *pk, __u8 refresh,
				      struct nascar_flow_val *f, struct bpf_fib_lookup *fib)
{
	struct nascar_route_in rin;

	rin.slot = h->slot;
	rin.in_ifindex = h->ifindex;
	rin.iflags = h->iflags;
	rin.xdp = xdp;
	rin.refresh = refresh;
	return nascar_route(ctx, pk, &rin, f, fib);
}

/* TC sends a forwarded packet (L3 already rewritten) on its way: class
 * priority, count, redirect. */
static __always_inline int tc_redirect(struct __sk_buff *skb, const struct nascar_hook *h,
				       __u32 rule, const struct nascar_flow_val *f, int have_nh,
				       const struct bpf_fib_lookup *fib)
{
	/* Nascar's scheduler on the egress: the class's own HTB class (a
	 * shaped class is delayed there); elsewhere the 802.1Q priority */
	skb->priority = (f->flags & NASCAR_FV_EGRESS_SCHED) ? NASCAR_SCHED_CLASSID(f->class_id)
							    : f->priority;
	nascar_count(h->slot, h->ifid, rule, NASCAR_CNT_TC, h->len);
	if (have_nh && (f->flags & NASCAR_FV_NEED_TC)) {
		struct bpf_redir_neigh nh;

		__builtin_memset(&nh, 0, sizeof(nh));
		if (fib->family == AF_INET) {
			nh.nh_family = AF_INET;
			nh.ipv4_nh = fib->ipv4_dst;
		} else {
			nh.nh_family = AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, fib->ipv6_dst, 16);
		}
		return bpf_redirect_neigh(f->ifindex, &nh, sizeof(nh), 0);
	}
	if (!(f->flags & NASCAR_FV_NEED_TC)) {
		/* The neighbour was resolved when the route was looked up (at
		 * most NASCAR_FIB_TTL_NS ago): write its MACs and redirect,
		 * which spares the kernel a second route and neighbour lookup.
		 * GSO skbs are segmented on the way out as usual. */
		if (rewrite_macs((void *)(long)skb->data, (void *)(long)skb->data_end, f))
			return TC_ACT_OK;
		return bpf_redirect(f->ifindex, 0);
	}
	return bpf_redirect_neigh(f->ifindex, 0, 0, 0);
}

#define NASCAR_PULL_LEN (14 + 40 + 60)

static __always_inline int nascar_run(void *ctx, const int xdp)
{
	struct xdp_md *xctx = ctx;
	struct __sk_buff *skb = ctx;
	struct nascar_state *st;
	struct nascar_iface *ifc;
	struct nascar_ifcache_val *ic;
	struct nascar_ifkey ik;
	struct nascar_hook h;
	struct nascar_pkt pk;
	struct nascar_flow_val *f, *cv;
	struct nascar_l1_set *l1 = 0;
	struct bpf_fib_lookup fib;
	void *data, *data_end;
	__u32 zero = 0, rule, meta_rule = NASCAR_NO_RULE;
	__u32 k0, now_j;
	int r, have_nh = 0;

	if (xdp) {
		data = (void *)(long)xctx->data;
		data_end = (void *)(long)xctx->data_end;
		h.ifindex = xctx->ingress_ifindex;
		h.len = data_end - data;
	} else {
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		h.ifindex = skb->ifindex;
		h.len = skb->len;
		/* A GSO skb may carry only part of its headers in the linear
		 * area: pull enough for Ethernet + IPv6 + TCP. */
		if (data + NASCAR_PULL_LEN > data_end && h.len > (__u64)(data_end - data)) {
			bpf_skb_pull_data(skb, h.len < NASCAR_PULL_LEN ? h.len : NASCAR_PULL_LEN);
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
		}
	}

	st = bpf_map_lookup_elem(&nascar_state, &zero);
	if (!st)
		return RET_PASS(xdp);
	h.slot = st->active_slot & 1;
	h.gen = st->generation;
	/* Generation 0: a first apply is attaching hooks and filling slot 0;
	 * nothing has been switched to yet, so nothing is ours. */
	if (!h.gen)
		return RET_PASS(xdp);
	if (nascar_debug & NASCAR_DBG_STOP_STATE)
		return RET_PASS(xdp);

	if (!xdp) {
		/* hand-over from XDP */
		struct nascar_meta *m = (void *)(long)skb->data_meta;

		if ((void *)(m + 1) <= data && m->magic == NASCAR_META_MAGIC &&
		    m->generation == h.gen) {
			if (m->rule == NASCAR_META_RULE_STACK)
				return TC_ACT_OK;
			if (m->rule < NASCAR_NRULES)
				meta_rule = m->rule;
		}
	}

	__builtin_memset(&pk, 0, sizeof(pk));
	r = nascar_parse(data, data_end, (__u32)h.len, h.ifindex, &pk);
	if (nascar_debug & NASCAR_DBG_STOP_PARSE)
		return RET_PASS(xdp);

	/* The first level first: an entry of this generation was made for a
	 * packet of this very interface under this very policy, so it carries
	 * the interface's id and flags too, and a hit needs no interface
	 * lookup.  (A frame of a VLAN, tag taken off into the skb, is not a
	 * frame of this interface: it takes the way below.) */
	cv = 0;
	if (r == NP_OK && !(nascar_debug & (NASCAR_DBG_NO_CACHE | NASCAR_DBG_NO_L1)) &&
	    (xdp || !skb->vlan_present)) {
		struct nascar_l1_ent *e;

		l1 = nascar_l1_set(&pk.key);
		e = nascar_l1_get(l1, &pk.key, h.gen);
		if (e) {
			cv = &e->val;
			h.ifid = e->ifid & (NASCAR_MAX_IFACES - 1);
			h.iflags = e->iflags;
			h.role = e->role;
		}
	}
	if (!cv) {
		k0 = h.ifindex & (NASCAR_IFCACHE - 1);
		ic = bpf_map_lookup_elem(&nascar_ifcache, &k0);
		if (!ic)
			return RET_PASS(xdp);
		if (ic->ifindex != h.ifindex || ic->generation != h.gen) {
			ik.ifindex = h.ifindex;
			ik.slot = h.slot;
			ifc = bpf_map_lookup_elem(&nascar_ifaces, &ik);
			if (!ifc)
				return RET_PASS(xdp);
			ic->ifc = *ifc;
			ic->ifindex = h.ifindex;
			ic->generation = h.gen;
		}
		h.ifid = ic->ifc.id & (NASCAR_MAX_IFACES - 1);
		h.iflags = ic->ifc.flags;
		h.role = ic->ifc.role;

		/* The tag was taken off into the skb (on receive, before TC):
		 * a frame of a VLAN, not an untagged frame of this interface.
		 * Tags still in the bytes make the parser say NP_OTHER. */
		if (!xdp && skb->vlan_present)
			return to_stack(ctx, xdp, &h, NASCAR_NO_RULE);
		if (r == NP_OTHER || r == NP_ND)
			return to_stack(ctx, xdp, &h, NASCAR_NO_RULE);
		if (r == NP_OK && !(nascar_debug & NASCAR_DBG_NO_CACHE)) {
			cv = bpf_map_lookup_elem(&nascar_flows, &pk.key);
			if (cv && cv->generation == h.gen)
				cv = nascar_l1_put(l1, &pk.key, cv, h.ifid, h.iflags, h.role);
		}
	}
	if ((nascar_debug & NASCAR_DBG_STOP_LOOKUP) && cv && cv->generation == h.gen)
		return RET_PASS(xdp);
	if (cv && cv->generation == h.gen) {
		/* A hit acts on the entry in place (no copy); only a route
		 * refresh builds a new decision in scratch and stores it. */
		f = cv;
		if (!(nascar_debug & NASCAR_DBG_NO_CLOCK) &&
		    (f->verdict == NASCAR_V_FORWARD ||
		     (f->verdict == NASCAR_V_STACK && f->stack_reason != NASCAR_SR_RULE)) &&
		    (now_j = (__u32)bpf_jiffies64()) - f->fib_jiffies > nascar_fib_ttl_jiffies) {
			f = bpf_map_lookup_elem(&nascar_scratch, &zero);
			if (!f)
				return RET_PASS(xdp);
			*f = *cv;
			/* too big for XDP: hand on, route again next time */
			if (route_flow(ctx, xdp, &h, &pk, 1, f, &fib) != ROUTE_OK)
				return hand_on(ctx, xdp, &h, f->rule);
			f->fib_jiffies = now_j;
			f->fib_ns = bpf_ktime_get_coarse_ns();
			have_nh = 1;
			bpf_map_update_elem(&nascar_flows, &pk.key, f, BPF_ANY);
			/* cv is this CPU's copy when there is a set */
			if (l1)
				__builtin_memcpy(cv, f, sizeof(*f));
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
		if ((h.iflags & NASCAR_IF_ALLOW_SRC) && meta_rule == NASCAR_NO_RULE &&
		    !nascar_allowed(h.slot, h.ifid, &pk))
			return drop(xdp, &h, NASCAR_NO_RULE, NASCAR_CNT_SPOOF);
		if (r != NP_OK)
			return to_stack(ctx, xdp, &h, NASCAR_NO_RULE);

		rule = meta_rule != NASCAR_NO_RULE ? meta_rule
						   : nascar_classify_pkt(h.slot, h.ifid, &pk);
		if (rule > NASCAR_RULE_DEFAULT)
			return to_stack(ctx, xdp, &h, NASCAR_NO_RULE);
		k = nascar_rule_idx(h.slot, rule);
		ru = bpf_map_lookup_elem(&nascar_rules, &k);
		if (!ru) {
			nascar_count(h.slot, h.ifid, NASCAR_NO_RULE, NASCAR_CNT_STACK, h.len);
			return RET_PASS(xdp);
		}
		__builtin_memset(f, 0, sizeof(*f));
		f->generation = h.gen;
		f->rule = rule;
		f->class_id = ru->class_id;
		f->dscp = NASCAR_DSCP_KEEP;
		if (ru->class_id < NASCAR_MAX_CLASSES) {
			k = nascar_class_idx(h.slot, ru->class_id);
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
			/* too big for XDP and nothing known yet: hand on, no entry */
			if (route_flow(ctx, xdp, &h, &pk, 0, f, &fib) != ROUTE_OK)
				return hand_on(ctx, xdp, &h, rule);
			have_nh = 1;
			f->fib_jiffies = (__u32)bpf_jiffies64();
			f->fib_ns = bpf_ktime_get_coarse_ns();
		} else {
			f->verdict = NASCAR_V_STACK;
			f->stack_reason = NASCAR_SR_RULE;
		}
		bpf_map_update_elem(&nascar_flows, &pk.key, f, BPF_ANY);
		nascar_l1_put(l1, &pk.key, f, h.ifid, h.iflags, h.role);
	}

	/* ---- act ---- */
	if (f->verdict == NASCAR_V_DROP)
		return drop(xdp, &h, rule, NASCAR_CNT_DROP);
	if (f->verdict != NASCAR_V_FORWARD || pk.ttl <= 1)
		return to_stack(ctx, xdp, &h, rule);

	if (xdp) {
		/* Native XDP cannot see whether a frame's L4 checksum is
		 * partial: on a guest's tap, or where the runtime says the
		 * sender may offload checksums (a veth), check and complete. */
		int csum_walk = (h.iflags & NASCAR_IF_XDP_NATIVE) &&
				((h.iflags & NASCAR_IF_CSUM_FIX) || h.role == NASCAR_ROLE_GUEST) &&
				(pk.proto == IPPROTO_TCP || pk.proto == IPPROTO_UDP);

		/* what XDP cannot take goes on to TC (or the stack): a route
		 * that needs TC, a frame over the egress MTU, an egress that
		 * refuses native redirects (it would drop the frame after we
		 * counted it), a frame too big for the checksum walk below */
		if ((f->flags & (NASCAR_FV_NEED_TC | NASCAR_FV_XDP_HANDON)) ||
		    ((f->flags & NASCAR_FV_SHAPE) && (h.iflags & NASCAR_IF_TC)) ||
		    pk.l3_len > f->mtu || (csum_walk && h.len > NASCAR_CSUM_MAX_FRAME) ||
		    bpf_redirect_map(&nascar_devmap, f->ifindex, XDP_PASS) != XDP_REDIRECT)
			return hand_on(ctx, xdp, &h, rule);
		if (csum_walk && xdp_fix_l4_csum(xctx, &pk, data, data_end))
			return to_stack(ctx, xdp, &h, rule);
	} else if (f->mtu && !skb->gso_size && pk.l3_len > f->mtu) {
		return to_stack(ctx, xdp, &h, rule);
	}
	if (!police_pass(ctx, xdp, h.slot, f, h.len, pk.family))
		return drop(xdp, &h, rule, NASCAR_CNT_POLICE);
	if (rewrite_l3(ctx, xdp, data, data_end, pk.family, f->dscp))
		return RET_PASS(xdp);
	if (!xdp)
		return tc_redirect(skb, &h, rule, f, have_nh, &fib);
	if (rewrite_macs(data, data_end, f))
		return XDP_PASS;
	nascar_count(h.slot, h.ifid, rule, NASCAR_CNT_XDP, h.len);
	return XDP_REDIRECT;
}

#endif /* NASCAR_BPF_FWD_H */
