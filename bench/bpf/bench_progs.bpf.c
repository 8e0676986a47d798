// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_progs.bpf.c - programs only the benchmark uses (bench/run.sh, loaded
 * by bench/bench_xdp.c); the reference XDP programs are in ref.bpf.c.
 *   bench_drop       XDP: drop every frame (the limit: what one VMM thread
 *                    can write into tap0 when the host does nothing with it);
 *                    counts packets so the bench sees it ran.
 *   bench_tc_router  TC (clsact ingress): the bare router on the TC hook,
 *                    the twin of ref_router: bpf_fib_lookup + MAC rewrite +
 *                    bpf_redirect, nothing else (no TTL, no policy).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ref.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* [0] packets seen, [1] redirected (tc router) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} bench_cnt SEC(".maps");

static __always_inline void cnt_add(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&bench_cnt, &k);

	if (c)
		*c += 1;
}

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	cnt_add(0);
	return XDP_DROP;
}

SEC("tc")
int bench_tc_router(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bpf_fib_lookup p = {};
	struct ethhdr *eth = data;
	int rc;

	cnt_add(0);
	if (ref_fib_query(data, data_end, skb->ingress_ifindex, &p))
		return TC_ACT_OK;
	rc = bpf_fib_lookup(skb, &p, sizeof(p), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	/* data may have moved: re-check before writing */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	__builtin_memcpy(eth->h_dest, p.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, p.smac, ETH_ALEN);
	cnt_add(1);
	return bpf_redirect(p.ifindex, 0);
}
