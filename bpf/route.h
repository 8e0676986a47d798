/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * route.h - the route of a flow: bpf_fib_lookup, then the egress interface
 * (nascar_ifaces), turned into a forward decision (next hop MACs, egress,
 * MTU, hand-on flags) or a stack verdict with its reason.
 */
#ifndef NASCAR_BPF_ROUTE_H
#define NASCAR_BPF_ROUTE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"
#include "maps.h"
#include "parse.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

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

#endif /* NASCAR_BPF_ROUTE_H */
