// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_qos.bpf.c - the benchmark's egress classifier for the QoS set-up
 * (bench/run.sh, "nascar-tc-htb"): an HTB qdisc on gw eth0 whose classes are
 * chosen by skb->priority, as Nascar's TC path sets it from the policy's
 * class.  HTB itself only looks at skb->priority when it carries the qdisc's
 * major number (Nascar writes 0..7), and this kernel has neither the prio
 * qdisc nor the basic/meta classifier, so this program maps it (cls_bpf,
 * not direct-action: the return value is the class id):
 *   priority 6..7 -> 1:10 (urgent)   4..5 -> 1:20   0..3 -> 1:30 (bulk)
 * Loaded by tc: tc filter add dev eth0 parent 1: bpf obj bench_qos.bpf.o sec tc
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int bench_prio_class(struct __sk_buff *skb)
{
	__u32 p = skb->priority;

	if (p >= 6 && p <= 7)
		return 0x10010;
	if (p >= 4 && p <= 7)
		return 0x10020;
	return 0x10030;
}
