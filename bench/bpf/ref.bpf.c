// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ref.bpf.c - reference programs for the benchmarks, nothing else:
 *   ref_pass    returns XDP_PASS (the floor of any XDP program);
 *   ref_router  the study's bare router: bpf_fib_lookup, MAC rewrite,
 *               bpf_redirect_map into its own DEVMAP (no TTL, no policy);
 *   ref_sink    drop-and-count sink for the server side of the bench: counts
 *               packets, and UDP packets whose checksum is valid / invalid.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "ref.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ref_devmap SEC(".maps");

/* ref_sink counters, per CPU: [0] packets, [1] bytes, [2] UDP checksum
 * valid, [3] UDP checksum invalid, [4] UDP without checksum. */
#define SINK_PKTS 0
#define SINK_BYTES 1
#define SINK_UDP_OK 2
#define SINK_UDP_BAD 3
#define SINK_UDP_NOCSUM 4
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} ref_sink_cnt SEC(".maps");

SEC("xdp")
int ref_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int ref_router(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup p = {};
	struct ethhdr *eth = data;
	int rc;

	if (ref_fib_query(data, data_end, ctx->ingress_ifindex, &p))
		return XDP_PASS;
	rc = bpf_fib_lookup(ctx, &p, sizeof(p), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, p.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p.smac, ETH_ALEN);
	return bpf_redirect_map(&ref_devmap, p.ifindex, 0);
}

static __always_inline void sink_add(__u32 k, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&ref_sink_cnt, &k);

	if (c)
		*c += v;
}

/* Ones-complement sum of len bytes at off (<= 1500), or -1.  A global
 * function: verified once, on its own. */
__attribute__((noinline)) int ref_sum(struct xdp_md *ctx, __u32 off, __u32 len, __u32 seed)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + (off & 0xff);
	__u64 sum = seed;
	int bad = 0;

	if (len > 1500)
		return -1;
	sum = csum_bytes(p, data_end, len, sum, &bad);
	if (bad)
		return -1;
	return csum_fold64(sum);
}

SEC("xdp")
int ref_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *uh;
	__u64 ps = 0;
	__u32 ulen, off;
	int r;

	sink_add(SINK_PKTS, 1);
	sink_add(SINK_BYTES, data_end - data);
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
			return XDP_DROP;
		uh = (void *)(ip + 1);
		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		if (!uh->check) {
			sink_add(SINK_UDP_NOCSUM, 1);
			return XDP_DROP;
		}
		ps = (__u64)(ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) +
		     (ip->daddr >> 16);
		off = sizeof(*eth) + sizeof(*ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u16 *a;
		int i;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_DROP;
		uh = (void *)(ip6 + 1);
		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		a = (__u16 *)&ip6->saddr;
		for (i = 0; i < 16; i++)
			ps += a[i];
		off = sizeof(*eth) + sizeof(*ip6);
	} else {
		return XDP_DROP;
	}
	ulen = bpf_ntohs(uh->len);
	ps += bpf_htons(IPPROTO_UDP) + uh->len;
	r = ulen < sizeof(*uh) ? -1 : ref_sum(ctx, off, ulen, csum_fold64(ps));
	sink_add(r == 0xffff ? SINK_UDP_OK : SINK_UDP_BAD, 1);
	return XDP_DROP;
}
