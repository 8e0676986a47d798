/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - bounds-checked Ethernet / IPv4 / IPv6 / TCP / UDP / ICMP parser
 * shared by the XDP and TC entry points.
 *
 * Contract: nascar_parse() reads [data, data_end) and never writes.  It
 * returns one of
 *   NP_OK      IPv4 without options and not fragmented, or IPv6 whose next
 *              header is TCP/UDP/ICMPv6, with a complete L4 header inside
 *              the IP length: every field of pk is set and the packet can be
 *              classified;
 *   NP_L3      the IP header is complete (pk->key.src/dst/family are set, so
 *              allow-src can be checked) but the packet is not classifiable:
 *              IPv4 options, fragments, other protocols, extension headers,
 *              truncated L4, IP length larger than the frame (frame_len);
 *   NP_ND      IPv6 neighbour discovery (ICMPv6 133..137): always stack;
 *   NP_OTHER   not IPv4/IPv6 (ARP, VLAN tags, ...) or truncated before the
 *              end of the IP header: stack.
 * Ports are left 0 for ICMP/ICMPv6, as the classifier expects.  For NP_OK
 * and NP_L3 the key is complete (ports 0 for NP_L3); ifindex is the
 * caller's.
 */
#ifndef NASCAR_BPF_PARSE_H
#define NASCAR_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nascar_abi.h"

#define NP_OK 0
#define NP_L3 1
#define NP_ND 2
#define NP_OTHER 3

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

#define NASCAR_IP_MF 0x2000
#define NASCAR_IP_OFFSET 0x1fff

struct nascar_pkt {
	struct nascar_flow_key key;
	void *l3; /* struct iphdr or struct ipv6hdr */
	void *l4;
	__u32 l3_len; /* IP total length: header + payload */
	__u32 l4_len; /* payload length from the IP header */
	__u8 family;  /* NASCAR_FAM_* */
	__u8 proto;
	__u8 ttl; /* TTL or hop limit */
	__u8 pad0;
};

/*
 * The key is written as the flow cache reads it (flowcache.h: five 8-byte
 * words and a 4-byte one), one store per word, after it has been put
 * together in registers.  A load that spans two narrower stores (the
 * addresses' 4-byte copies, the 2-byte ports, the 1-byte protocol) cannot
 * be served from the store buffer: it waits for the stores to reach the
 * cache, which cost the hit path some 10 ns on its hash and compare
 * (bench/run.sh --only prof, PROF_ANNOTATE).  The layout is the struct's,
 * on either byte order.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NASCAR_KEY_LO32(x) ((__u64)(__u32)(x))
#define NASCAR_KEY_W4(ports, ifindex) ((__u64)(ports) | (__u64)(ifindex) << 32)
#define NASCAR_KEY_PORTS(sport, dport) ((__u32)(__u16)(sport) | (__u32)(__u16)(dport) << 16)
#define NASCAR_KEY_W10(proto, family) ((__u32)(proto) | (__u32)(family) << 8)
#else
#define NASCAR_KEY_LO32(x) ((__u64)(__u32)(x) << 32)
#define NASCAR_KEY_W4(ports, ifindex) ((__u64)(ports) << 32 | (__u64)(__u32)(ifindex))
#define NASCAR_KEY_PORTS(sport, dport) ((__u32)(__u16)(sport) << 16 | (__u32)(__u16)(dport))
#define NASCAR_KEY_W10(proto, family) ((__u32)(proto) << 24 | (__u32)(family) << 16)
#endif
_Static_assert(__builtin_offsetof(struct nascar_flow_key, sport) == 32 &&
		       __builtin_offsetof(struct nascar_flow_key, ifindex) == 36 &&
		       __builtin_offsetof(struct nascar_flow_key, proto) == 40 &&
		       __builtin_offsetof(struct nascar_flow_key, family) == 41,
	       "nascar_flow_key: the word layout parse.h writes");

static __always_inline void nascar_key_put(struct nascar_flow_key *k, __u64 s0, __u64 s1, __u64 d0,
					   __u64 d1, __u32 ports, __u32 ifindex, __u8 proto,
					   __u8 family)
{
	__u64 *w = (__u64 *)k;

	w[0] = s0;
	w[1] = s1;
	w[2] = d0;
	w[3] = d1;
	w[4] = NASCAR_KEY_W4(ports, ifindex);
	((__u32 *)k)[10] = NASCAR_KEY_W10(proto, family);
}

/* The ports of the L4 header at l4 into *ports (as the key holds them; 0
 * for ICMP), or NP_L3 / NP_ND. */
static __always_inline int nascar_parse_l4(struct nascar_pkt *pk, void *l4, void *data_end,
					   __u32 *ports)
{
	pk->l4 = l4;
	*ports = 0;
	switch (pk->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end || pk->l4_len < sizeof(*th))
			return NP_L3;
		*ports = NASCAR_KEY_PORTS(th->source, th->dest);
		return NP_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || pk->l4_len < sizeof(*uh))
			return NP_L3;
		*ports = NASCAR_KEY_PORTS(uh->source, uh->dest);
		return NP_OK;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *t = l4;

		/* type, code, checksum and 4 bytes of rest-of-header */
		if ((void *)(t + 8) > data_end || pk->l4_len < 8)
			return NP_L3;
		if (pk->proto == IPPROTO_ICMPV6 && t[0] >= 133 && t[0] <= 137)
			return NP_ND;
		return NP_OK;
	}
	}
	return NP_L3;
}

/* frame_len is the whole frame's length: data_end - data for XDP, skb->len
 * for TC, where a GSO skb's payload lies outside [data, data_end) and only
 * the headers need to be linear.  ifindex goes into the key. */
static __always_inline int nascar_parse(void *data, void *data_end, __u32 frame_len, __u32 ifindex,
					struct nascar_pkt *pk)
{
	struct ethhdr *eth = data;
	__u32 ports = 0;
	int r;

	if ((void *)(eth + 1) > data_end)
		return NP_OTHER;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 tot;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
			return NP_OTHER;
		pk->l3 = ip;
		pk->family = NASCAR_FAM_V4;
		pk->proto = ip->protocol;
		pk->ttl = ip->ttl;
		tot = bpf_ntohs(ip->tot_len);
		r = NP_L3;
		if (ip->ihl == 5 && tot >= sizeof(*ip) && tot <= frame_len - sizeof(*eth) &&
		    !(ip->frag_off & bpf_htons(NASCAR_IP_MF | NASCAR_IP_OFFSET))) {
			pk->l3_len = tot;
			pk->l4_len = tot - sizeof(*ip);
			r = nascar_parse_l4(pk, ip + 1, data_end, &ports);
		}
		nascar_key_put(&pk->key, NASCAR_KEY_LO32(ip->saddr), 0, NASCAR_KEY_LO32(ip->daddr),
			       0, ports, ifindex, pk->proto, NASCAR_FAM_V4);
		return r;
	}

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		const __u64 *a;
		__u32 plen;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return NP_OTHER;
		pk->l3 = ip6;
		pk->family = NASCAR_FAM_V6;
		pk->proto = ip6->nexthdr;
		pk->ttl = ip6->hop_limit;
		plen = bpf_ntohs(ip6->payload_len);
		r = NP_L3;
		if (plen + sizeof(*ip6) <= frame_len - sizeof(*eth)) {
			pk->l3_len = plen + sizeof(*ip6);
			pk->l4_len = plen;
			r = nascar_parse_l4(pk, ip6 + 1, data_end, &ports);
		}
		a = (const __u64 *)&ip6->saddr;
		nascar_key_put(&pk->key, a[0], a[1], a[2], a[3], ports, ifindex, pk->proto,
			       NASCAR_FAM_V6);
		return r;
	}

	return NP_OTHER;
}

#endif /* NASCAR_BPF_PARSE_H */
