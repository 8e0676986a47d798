/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ref.h - the FIB query of the bare reference routers (ref.bpf.c on the
 * XDP hook, bench_progs.bpf.c on the TC hook), so both measure the same
 * work: parse Ethernet + IPv4/IPv6, fill a bpf_fib_lookup, nothing more.
 */
#ifndef NASCAR_BPF_REF_H
#define NASCAR_BPF_REF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* 0 and p filled (ifindex = ingress), or -1: not IPv4/IPv6, or truncated. */
static __always_inline int ref_fib_query(void *data, void *data_end, __u32 ingress,
					 struct bpf_fib_lookup *p)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return -1;
		p->family = AF_INET;
		p->tos = ip->tos;
		p->l4_protocol = ip->protocol;
		p->tot_len = bpf_ntohs(ip->tot_len);
		p->ipv4_src = ip->saddr;
		p->ipv4_dst = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		p->family = AF_INET6;
		p->l4_protocol = ip6->nexthdr;
		p->tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(p->ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(p->ipv6_dst, &ip6->daddr, 16);
	} else {
		return -1;
	}
	p->ifindex = ingress;
	return 0;
}

#endif /* NASCAR_BPF_REF_H */
