/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * harness.h - shared pieces of build/tests/bpf_tests: the loaded
 * skeleton, policy loading through runtime/fill.c from real nascarc
 * output, BPF_PROG_TEST_RUN wrappers, packet builders and checksums.
 *
 * The program runs inside the network namespace that test_bpf.sh builds:
 * nsc0 (guest side, 172.16.0.1/24, 2001:db8:16::1/64), nsc1 (uplink,
 * 10.0.0.1/24, 2001:db8:10::1/64) and nsc2 (192.168.50.1/24, not declared
 * by the test policies), each a veth with its peer nscNp.
 */
#ifndef NASCAR_TEST_HARNESS_H
#define NASCAR_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "../../runtime/fill.h"

struct nascar_bpf;

struct env {
	struct nascar_bpf *skel;
	struct fill_maps m;
	int ifx[3]; /* nsc0 nsc1 nsc2 */
	__u8 mac[3][6];
	struct nfc_image img;
	int have_img;
	__u32 gen;
	int slot;
	int prog_xdp, prog_tc;
	char tmpdir[64];
	/* how long a cached route is surely still used: the TTL in jiffies
	 * the object was loaded with, at HZ 1000 when HZ is unknown */
	long long fib_ttl_ns;
};

extern const char *nascarc_path;
extern int n_pass, n_fail, n_skip;

/*
 * The one assertion style of the C tests in tests/bpf/: a case is
 *
 *	int ok = 1;
 *	EXPECT(cond);  EXPECT_EQ(got, want);  ...
 *	result("what the case shows", ok);
 *
 * Every check is an EXPECT or EXPECT_EQ (no hand-written `ok = expr`), and
 * every EXPECT reaches a result line: besides clearing the local `ok`, a
 * failed expectation is recorded in the harness, result() turns the next
 * result line into a FAIL whatever `ok` says, and results_finish() (called
 * by main() before the summary) prints a FAIL for expectations that failed
 * after the last result line.  So an EXPECT in set-up code between two cases
 * cannot be lost; give set-up steps a case of their own anyway, so the FAIL
 * line names them.  Failed expectations print FILE:LINE on stderr (the first
 * EXPECT_REPORT_MAX of each case; the rest are counted).
 */
void result(const char *name, int ok);
void results_finish(void);
void expect_failed(const char *file, int line, const char *what);
void expect_failed_eq(const char *file, int line, const char *what, long long got, long long want);
#define EXPECT_REPORT_MAX 10
#define EXPECT(cond)                                              \
	do {                                                      \
		if (!(cond)) {                                    \
			expect_failed(__FILE__, __LINE__, #cond); \
			ok = 0;                                   \
		}                                                 \
	} while (0)
/* EXPECT(got == want), printing both values when they differ */
#define EXPECT_EQ(got, want)                                                                  \
	do {                                                                                  \
		long long got_ = (long long)(got), want_ = (long long)(want);                 \
		if (got_ != want_) {                                                          \
			expect_failed_eq(__FILE__, __LINE__, #got " == " #want, got_, want_); \
			ok = 0;                                                               \
		}                                                                             \
	} while (0)

/* debug_flags: rodata nascar_debug before load (0 normally). */
int env_open(struct env *e, __u32 debug_flags);
void env_close(struct env *e);
/* Compiles text with nascarc, loads it into the inactive slot with the
 * given attach flags per interface id, switches (generation + 1). */
int env_policy(struct env *e, const char *text, const __u8 *attach_flags);
/* Same image again, new generation (cache invalidation). */
int env_reapply(struct env *e, const __u8 *attach_flags);

struct run {
	__u32 retval;
	__u32 metalen;	/* XDP: bytes of data_meta in front of out */
	__u32 priority; /* TC: skb->priority after the run */
	__u32 outlen;
	__u8 out[9000];
};
int run_xdp(struct env *e, int ifindex, const void *pkt, size_t len, struct run *r);
int run_tc(struct env *e, int ifindex, const void *pkt, size_t len, struct run *r);

/* Sum over CPUs of one counter entry. */
void read_counters(int fd, __u32 idx, struct nascar_counters *c);
__u64 counters_pkts(const struct nascar_counters *c);
/* counters of the active slot: per rule, per class, per interface id */
struct nascar_counters fcnt(struct env *e, __u32 rule);
struct nascar_counters ccnt(struct env *e, __u32 cls);
struct nascar_counters icnt(struct env *e, __u32 ifid);

/* Packets */
struct pktspec {
	int family; /* 4 or 6 */
	int proto;
	const char *src, *dst;
	__u16 sport, dport;
	__u8 ttl;
	__u8 tos;     /* IPv4 tos / IPv6 traffic class */
	int payload;  /* bytes of L4 payload */
	int bad_csum; /* 1: wrong L4 checksum, 2: partial (pseudo-header sum only),
		       * 3: valid with the field equal to the pseudo-header sum */
	__u8 icmp_type;
};
size_t build_pkt(const struct pktspec *s, __u8 *buf);
int ip4_csum_ok(const __u8 *ip);
int l4_csum_ok(const __u8 *frame, size_t len); /* TCP/UDP/ICMP(v6) of an eth frame */
void parse_mac(const char *s, __u8 mac[6]);
int neigh_set4(const char *dev, const char *addr, const __u8 mac[6]); /* 0 or -errno */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int test_maps(struct env *e);
int test_packets(struct env *e);
int test_modes(struct env *e);
int test_qos(struct env *e);
int test_diff(struct env *e, int npackets);
int bench_main(int argc, char **argv);

#endif
