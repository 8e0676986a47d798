// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nascar.bpf.c - the two entry points of the Nascar fast path:
 * SEC("xdp") nascar_xdp and SEC("tc") nascar_tc (clsact ingress).
 * Both call nascar_run() in fwd.h, the forwarding decision, which reads top
 * to bottom over one header per concern:
 *   parse.h     parser            classify.h  allow-src, classifier
 *   route.h     FIB lookup        police.h    token-bucket policer
 *   rewrite.h   TTL, DSCP, L4     csum.h      checksum arithmetic
 *   counters.h  counters          maps.h      the maps
 * See fwd.h for the order of checks and the cache rules.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
/* the global (noinline) functions of the headers are defined here, once */
#define NASCAR_BPF_IMPL
#include "fwd.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int nascar_xdp(struct xdp_md *ctx)
{
	return nascar_run(ctx, 1);
}

SEC("tc")
int nascar_tc(struct __sk_buff *skb)
{
	return nascar_run(skb, 0);
}
