/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * csum.h - ones-complement sums over packet bytes, for BPF programs.
 *
 * Contract: csum_bytes() adds len bytes starting at p (len <= 24 * 64 + 63)
 * to sum, in chunks the verifier can bound, and returns the 64-bit
 * accumulator, or sets *bad when the bytes run past data_end.  Callers fold
 * the result with csum_fold64().  Used by the fast path's partial-checksum
 * completion (nascar_l4_csum below, from rewrite.h) and by the benchmark's
 * checksum-counting sink.  csum_replace16() updates a checksum for one
 * changed 16-bit word (RFC 1624).
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

/* The sum of n 32-bit words at p, in line: for the short L4 payloads of a
 * vehicle's messages, cheaper than a call of bpf_csum_diff (a 64-byte
 * frame's walk went from about 45 to 15 ns in tests/bpf/bench.c).  Words
 * into a 64-bit accumulator cannot carry out. */
static __always_inline __u64 csum_words(const __u8 *p, const int n)
{
	const __u32 *w = (const __u32 *)p;
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < n; i++)
		s += w[i];
	return s;
}

static __always_inline __u64 csum_bytes(__u8 *p, void *data_end, __u32 len, __u64 sum, int *bad)
{
	__u32 i;

	for (i = 0; i < NASCAR_CSUM_CHUNKS && len >= 64; i++) {
		__u8 *e = p + 64;

		/* keep clang from comparing p + 63 with data_end - 1 */
		asm volatile("" : "+r"(e));
		if ((void *)e > data_end)
			goto out;
		sum += csum_words(p, 16);
		p += 64;
		len -= 64;
	}
	if (len >= 64)
		goto out;
	if (len >= 32) {
		if ((void *)(p + 32) > data_end)
			goto out;
		sum += csum_words(p, 8);
		p += 32;
		len -= 32;
	}
	if (len >= 16) {
		if ((void *)(p + 16) > data_end)
			goto out;
		sum += csum_words(p, 4);
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

/* Frames up to this size get their L4 checksum checked on native XDP
 * guest interfaces (GSO frames never come through native XDP). */
#define NASCAR_CSUM_MAX_FRAME 1518

/* RFC 1624 incremental update of a 16-bit field, all values as stored. */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u64 s = (__u16)~check;

	s += (__u16)~old;
	s += new;
	return (__u16)~csum_fold64(s);
}

/* The sum over the L4 bytes of a native XDP frame (rewrite.h's
 * xdp_fix_l4_csum() adds up the pseudo-header).  A global (separately
 * verified) function so its data-dependent loop does not multiply the
 * states of the main program.  pseudo: the folded pseudo-header sum, with
 * 0x10000 set for UDP over IPv4 (where 0 means "no checksum").
 * Returns 0 when the checksum is now correct (valid, or partial and
 * completed), -1 when it is simply wrong. */
__attribute__((noinline)) int nascar_l4_csum(struct xdp_md *ctx, __u32 l4_off, __u32 len,
					     __u32 check_off, __u32 pseudo);

/* Global functions are defined once, in nascar.bpf.c (NASCAR_BPF_IMPL). */
#ifdef NASCAR_BPF_IMPL
__attribute__((noinline)) int nascar_l4_csum(struct xdp_md *ctx, __u32 l4_off, __u32 len,
					     __u32 check_off, __u32 pseudo)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 ps = pseudo & 0xffff, *check;
	__u64 sum = ps;
	__u8 *p;
	int bad = 0;

	if (len > NASCAR_CSUM_MAX_FRAME)
		return -1;
	/* masks, not just compares: clang may test one copy and use another */
	p = data + (l4_off & 0x7f);
	check = (__u16 *)(p + (check_off & 0x1f));
	if ((void *)(check + 1) > data_end)
		return -1;
	if (*check == 0 && (pseudo & 0x10000))
		return 0; /* UDP over IPv4 without checksum */

	sum = csum_bytes(p, data_end, len, sum, &bad);
	if (bad)
		return -1;

	if (csum_fold64(sum) == 0xffff)
		return 0; /* valid */
	if (*check == ps) {
		/* partial: the field holds the folded pseudo-header sum */
		__u16 c = ~csum_fold64(sum + (__u16)~ps);

		if (check_off == 6 && c == 0)
			c = 0xffff;
		*check = c;
		return 0;
	}
	return -1;
}
#endif

#endif /* NASCAR_BPF_CSUM_H */
