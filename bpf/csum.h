/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * csum.h - ones-complement sums over packet bytes, for BPF programs.
 *
 * Contract: csum_bytes() adds len bytes starting at p (len <= 24 * 64 + 63)
 * to sum, in chunks the verifier can bound, and returns the 64-bit
 * accumulator, or sets *bad when the bytes run past data_end.  Callers fold
 * the result with csum_fold64().  Used by the fast path's partial-checksum
 * completion (fwd.h) and by the benchmark's checksum-counting sink.
 */
#ifndef NASCAR_BPF_CSUM_H
#define NASCAR_BPF_CSUM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NASCAR_CSUM_CHUNKS 24 /* 24 * 64 >= 1500 */

static __always_inline __u16 csum_fold64(__u64 s)
{
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline __u64 csum_bytes(__u8 *p, void *data_end, __u32 len, __u64 sum, int *bad)
{
	__u32 i;

	for (i = 0; i < NASCAR_CSUM_CHUNKS && len >= 64; i++) {
		if ((void *)(p + 64) > data_end)
			goto out;
		sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 64, 0);
		p += 64;
		len -= 64;
	}
	if (len >= 64)
		goto out;
	if (len >= 32) {
		if ((void *)(p + 32) > data_end)
			goto out;
		sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 32, 0);
		p += 32;
		len -= 32;
	}
	if (len >= 16) {
		if ((void *)(p + 16) > data_end)
			goto out;
		sum += (__u32)bpf_csum_diff(0, 0, (__be32 *)p, 16, 0);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		if ((void *)(p + 8) > data_end)
			goto out;
		sum += (__u64) * (__u32 *)p + *(__u32 *)(p + 4);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		if ((void *)(p + 4) > data_end)
			goto out;
		sum += *(__u32 *)p;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		if ((void *)(p + 2) > data_end)
			goto out;
		sum += *(__u16 *)p;
		p += 2;
		len -= 2;
	}
	if (len) {
		__u8 last[2] = {0, 0};

		if ((void *)(p + 1) > data_end)
			goto out;
		last[0] = *p;
		sum += *(__u16 *)last;
	}
	return sum;
out:
	*bad = 1;
	return 0;
}

#endif /* NASCAR_BPF_CSUM_H */
