/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * police.h - the token-bucket policer of a class (nascar_classes rate and
 * burst, nascar_police state under its spin lock).  Used for policed
 * classes, and for shaped classes where no scheduler of ours can delay
 * the packet (XDP alone, or an egress without Nascar's qdisc).
 */
#ifndef NASCAR_BPF_POLICE_H
#define NASCAR_BPF_POLICE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nascar_abi.h"
#include "maps.h"

#define NSEC_PER_SEC 1000000000ULL

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

/* Headers in front of each segment of a GSO skb, near enough for the
 * policer: Ethernet, IP, and TCP without options. */
#define GSO_HDR_LEN(fam) ((fam) == NASCAR_FAM_V4 ? 14 + 20 + 20 : 14 + 40 + 20)

/* 1: the forwarded packet may go on; 0: over its class's rate (drop it).
 * Asks the policer for a policed class, and for a shaped class where no
 * scheduler of ours can delay the packet: XDP alone never can (a shaped
 * packet with TC behind XDP went on to TC before this), TC when the egress
 * has no Nascar scheduler (NASCAR_FV_EGRESS_SCHED). */
static __always_inline int police_pass(void *ctx, const int xdp, __u32 slot,
				       const struct nascar_flow_val *f, __u64 len, __u8 family)
{
	struct __sk_buff *skb = ctx;

	if (!(f->flags & NASCAR_FV_POLICE) &&
	    !((f->flags & NASCAR_FV_SHAPE) && (xdp || !(f->flags & NASCAR_FV_EGRESS_SCHED))))
		return 1;
	return police_take(slot, f->class_id, len,
			   !xdp && skb->gso_size ? (__u64)skb->gso_size + GSO_HDR_LEN(family)
						 : len);
}

#endif /* NASCAR_BPF_POLICE_H */
