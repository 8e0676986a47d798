/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * counters.h - the data path's counters: per ingress interface and per rule
 * (flow), each a packets/bytes pair for one nascar_cnt outcome
 * (nascar_abi.h; a class's counts are its rules', added up by the
 * reader).  Also the nascar_debug knob, which can switch the
 * counters (and the flow cache, fwd.h) off for the benchmarks.
 */
#ifndef NASCAR_BPF_COUNTERS_H
#define NASCAR_BPF_COUNTERS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "nascar_abi.h"
#include "maps.h"

/* Debug knobs (NASCAR_DBG_*), set before load by the benchmarks and tests
 * only (dead code for the verifier otherwise). */
const volatile __u32 nascar_debug = 0;

static __always_inline void cnt_one(void *map, __u32 idx, enum nascar_cnt what, __u64 bytes)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (!c)
		return;
	c[nascar_cnt_word(what)] += 1;
	c[nascar_cnt_word(what) + 1] += bytes;
}

static __always_inline void nascar_count(__u32 slot, __u32 ifid, __u32 rule, enum nascar_cnt what,
					 __u64 bytes)
{
	if (nascar_debug & NASCAR_DBG_NO_COUNT)
		return;
	cnt_one(&nascar_istats, nascar_iface_idx(slot, ifid), what, bytes);
	if (rule < NASCAR_NRULES)
		cnt_one(&nascar_fstats, nascar_rule_idx(slot, rule), what, bytes);
}

#endif /* NASCAR_BPF_COUNTERS_H */
