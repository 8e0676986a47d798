/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nascar_classify.h - the first-match step of the classifier, one source for
 * the BPF programs and for userspace (nascarc classify, the tests).
 *
 * Contract: the caller has looked up, for one packet, the six field bitmaps
 * (ingress interface, protocol, source address, destination address, source
 * port, destination port) in the tables of one policy slot; this returns the
 * index of the lowest flow whose bit is set in all six, or
 * NASCAR_RULE_DEFAULT when none is.  The loop is bounded by
 * NASCAR_BITMAP_WORDS and stops at nwords, so its cost depends on the
 * position of the first match, never on how many flows follow it.
 *
 * How the lookups are done is the caller's business: BPF map lookups in
 * bpf/, the in-memory .nfc tables in lib/classify.c.  Both sides read the
 * same compiled tables, so both give the same answer.
 */
#ifndef NASCAR_CLASSIFY_H
#define NASCAR_CLASSIFY_H

#include "nascar_abi.h"

#ifndef NASCAR_INLINE
#ifdef __bpf__
#define NASCAR_INLINE static __attribute__((always_inline)) inline
#else
#define NASCAR_INLINE static inline
#endif
#endif

struct nascar_fields {
	const struct nascar_bitmap *b[6];
};

/* Index of the lowest set bit of a non-zero word. */
NASCAR_INLINE __u32 nascar_ffs64(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffffULL)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xffULL)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xfULL)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3ULL)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1ULL))
		n += 1;
	return n;
}

/* First flow set in all six bitmaps, or NASCAR_RULE_DEFAULT. */
NASCAR_INLINE __u32 nascar_first_match(const struct nascar_fields *f, __u32 nwords)
{
	__u32 i;

	for (i = 0; i < NASCAR_BITMAP_WORDS; i++) {
		__u64 w;

		if (i >= nwords)
			break;
		w = f->b[0]->w[i] & f->b[1]->w[i] & f->b[2]->w[i] & f->b[3]->w[i] & f->b[4]->w[i] &
		    f->b[5]->w[i];
		if (w)
			return i * 64 + nascar_ffs64(w);
	}
	return NASCAR_RULE_DEFAULT;
}

#endif /* NASCAR_CLASSIFY_H */
