/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rewrite.h - what the fast path changes in a packet it forwards: TTL and
 * DSCP (with the IPv4 header checksum; skb->csum on TC), the next hop's
 * MACs, and on native XDP the completion of a partial L4 checksum.  The
 * checksum arithmetic is in csum.h.
 */
#ifndef NASCAR_BPF_REWRITE_H
#define NASCAR_BPF_REWRITE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"
#include "parse.h"
#include "csum.h"

/* TTL - 1 and DSCP; IPv4 header checksum updated incrementally (which
 * also keeps the 16-bit sum of the header, hence skb->csum, unchanged).
 * The two changed 16-bit words are read once and their new values made
 * in registers: reading a word back after a byte store into it would wait
 * for the store to reach the cache. */
static __always_inline void rewrite_ip4(struct iphdr *ip, __u8 dscp)
{
	__u16 *w = (__u16 *)ip;
	__u16 w0 = w[0], w4 = w[4], n4;
	__u16 check = ip->check;

	if (dscp != NASCAR_DSCP_KEEP) {
		/* version/IHL, then TOS: DSCP in its top six bits, ECN kept */
		__u16 n0 = bpf_htons((bpf_ntohs(w0) & 0xff03) | ((__u16)(dscp & 0x3f) << 2));

		check = csum_replace16(check, w0, n0);
		w[0] = n0;
	}
	/* TTL, then protocol */
	n4 = bpf_htons(bpf_ntohs(w4) - 0x100);
	w[4] = n4;
	ip->check = csum_replace16(check, w4, n4);
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

/* TTL and DSCP of a forwarded packet on either hook: 0, or -1 when the
 * headers are not where the parser found them.  On TC, skb->csum is kept
 * right for CHECKSUM_COMPLETE skbs (IPv4's incremental header checksum
 * update keeps the sum of the header, so only IPv6 needs it). */
static __always_inline int rewrite_l3(void *ctx, const int xdp, void *data, void *data_end,
				      __u8 family, __u8 dscp)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (family == NASCAR_FAM_V4) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -1;
		rewrite_ip4(ip, dscp);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 old[2], new[2];

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (!xdp)
			__builtin_memcpy(old, ip6, 8);
		rewrite_ip6(ip6, dscp);
		if (!xdp) {
			__builtin_memcpy(new, ip6, 8);
			bpf_csum_update(ctx, bpf_csum_diff(old, 8, new, 8, 0));
		}
	}
	return 0;
}

/* The next hop's MACs, as the route found them: 0, or -1 when the frame
 * is shorter than an Ethernet header. */
static __always_inline int rewrite_macs(void *data, void *data_end, const struct nascar_flow_val *f)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, f->dmac, 6);
	__builtin_memcpy(eth->h_source, f->smac, 6);
	return 0;
}

/* Native XDP on a guest tap: the frame may carry a partial L4 checksum
 * (guest tx offload; the flag is not visible here).  A sender that leaves
 * the checksum to the device puts the folded pseudo-header sum in the
 * field, which is what the device's sum from the L4 header on needs to
 * come out right.  So a field that holds anything else is complete (or
 * wrong, and the kernel too would forward it as it is): the frame is left
 * alone without a look at its payload.  Only a field equal to the
 * pseudo-header sum has nascar_l4_csum() (csum.h) walk the L4 bytes: a
 * valid checksum is kept (a complete one that matches by chance), a
 * partial one completed.  0: the checksum is as good as it came or now
 * correct; -1: the frame is too short for its header (the caller hands
 * it to the stack). */
static __always_inline int xdp_fix_l4_csum(struct xdp_md *ctx, const struct nascar_pkt *pk,
					   void *data, void *data_end)
{
	const __u16 *s = (const __u16 *)pk->key.src, *d = (const __u16 *)pk->key.dst;
	__u32 check_off = pk->proto == IPPROTO_TCP ? 16 : 6;
	__u16 *check = (__u16 *)((__u8 *)pk->l4 + check_off);
	__u16 fps;
	__u64 ps;
	int i;

	if ((void *)(check + 1) > data_end)
		return -1;
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
	fps = csum_fold64(ps);
	if (*check != fps)
		return 0;
	return nascar_l4_csum(
		ctx, (__u32)(pk->l4 - data), pk->l4_len, check_off,
		fps | (pk->proto == IPPROTO_UDP && pk->family == NASCAR_FAM_V4 ? 0x10000 : 0));
}

#endif /* NASCAR_BPF_REWRITE_H */
