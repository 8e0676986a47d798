// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_modes.c - packet tests for the data-path side of the mode contract
 * (issue 8): a VLAN-tagged frame is never an untagged frame of the
 * declared interface, XDP never redirects into an egress that refuses
 * native redirects, and native XDP completes partial checksums wherever
 * the runtime says a sender may offload them, not only on a guest.
 *
 * Policy: tests/bpf/policies/basic.nflow (rule 0 "ctl": 172.16.0.42 ->
 * 10.0.0.10 udp 29536, class control; rule 11 "back": in nsc1 to
 * 172.16.0.42).  Interface ids: 0 = nsc0 (guest), 1 = nsc1 (uplink).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include "harness.h"

#define R_CTL 0
#define R_BACK 11

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static struct pktspec ctl_pkt(int payload)
{
	struct pktspec s = {.family = 4,
			    .proto = IPPROTO_UDP,
			    .src = "172.16.0.42",
			    .dst = "10.0.0.10",
			    .sport = 41000,
			    .dport = 29536,
			    .ttl = 64,
			    .payload = payload};
	return s;
}

/* Insert a 4-byte tag (TPID tpid, VLAN 100, PCP 5) after the MACs. */
static size_t tag_frame(__u8 *buf, size_t len, __u16 tpid)
{
	memmove(buf + 16, buf + 12, len - 12);
	buf[12] = (__u8)(tpid >> 8);
	buf[13] = (__u8)tpid;
	buf[14] = (__u8)(5 << 5);
	buf[15] = 100;
	return len + 4;
}

static int unchanged(const struct run *r, const __u8 *pkt, size_t len)
{
	return r->outlen >= r->metalen && r->outlen - r->metalen == len &&
	       !memcmp(r->out + r->metalen, pkt, len);
}

static void t_vlan_bytes(struct env *e)
{
	static const struct {
		__u16 tpid;
		const char *what;
	} tags[] = {{0x8100, "802.1Q"}, {0x88a8, "802.1ad"}};
	__u8 pkt[256];
	struct run r;
	size_t len;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		for (int tc = 0; tc <= 1; tc++) {
			struct pktspec s = ctl_pkt(32);
			struct nascar_counters f0, f1, i0, i1;
			char name[160];
			int ok = 1;

			s.sport = (__u16)(41100 + i * 2 + (unsigned)tc);
			len = build_pkt(&s, pkt);
			/* the same frame untagged is forwarded: the tag alone decides */
			EXPECT(!(tc ? run_tc : run_xdp)(e, e->ifx[0], pkt, len, &r));
			EXPECT(r.retval == (tc ? (__u32)TC_ACT_REDIRECT : (__u32)XDP_REDIRECT));
			len = tag_frame(pkt, len, tags[i].tpid);
			f0 = fcnt(e, R_CTL);
			i0 = icnt(e, 0);
			EXPECT(!(tc ? run_tc : run_xdp)(e, e->ifx[0], pkt, len, &r));
			EXPECT(r.retval == (tc ? (__u32)TC_ACT_OK : (__u32)XDP_PASS));
			EXPECT(unchanged(&r, pkt, len));
			f1 = fcnt(e, R_CTL);
			i1 = icnt(e, 0);
			EXPECT(counters_pkts(&f1) == counters_pkts(&f0));
			EXPECT(i1.stack_pkts == i0.stack_pkts + 1);
			EXPECT(i1.xdp_pkts == i0.xdp_pkts && i1.tc_pkts == i0.tc_pkts);
			snprintf(name, sizeof(name),
				 "%s: %s tag in the frame's bytes: to the stack unchanged, not the "
				 "untagged flow",
				 tc ? "tc" : "xdp", tags[i].what);
			result(name, ok);
		}
	}
}

/* Egress nsc1 refuses native redirects (NASCAR_IF_NO_XDP_TX). */
static void t_no_xdp_tx(struct env *e)
{
	__u8 native_tc[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC,
			     NASCAR_IF_XDP | NASCAR_IF_TC | NASCAR_IF_NO_XDP_TX};
	__u8 native_only[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE,
			       NASCAR_IF_XDP | NASCAR_IF_NO_XDP_TX};
	__u8 generic_tc[2] = {NASCAR_IF_XDP | NASCAR_IF_TC,
			      NASCAR_IF_XDP | NASCAR_IF_TC | NASCAR_IF_NO_XDP_TX};
	__u8 native_ok[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC,
			     NASCAR_IF_XDP | NASCAR_IF_TC};
	struct nascar_counters f0, f1;
	struct pktspec s = ctl_pkt(32);
	__u8 pkt[256];
	struct run r;
	size_t len;
	int ok;

	len = build_pkt(&s, pkt);

	ok = 1;
	EXPECT(!env_reapply(e, native_tc));
	f0 = fcnt(e, R_CTL);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
	EXPECT(r.retval == XDP_PASS);
	EXPECT(r.metalen == sizeof(struct nascar_meta) && unchanged(&r, pkt, len));
	if (r.metalen == sizeof(struct nascar_meta)) {
		struct nascar_meta m;

		memcpy(&m, r.out, sizeof(m));
		EXPECT(m.magic == NASCAR_META_MAGIC && m.rule == R_CTL);
	}
	f1 = fcnt(e, R_CTL);
	EXPECT(f1.xdp_pkts == f0.xdp_pkts); /* never counted as forwarded by XDP */
	EXPECT(!run_tc(e, e->ifx[0], pkt, len, &r) && r.retval == TC_ACT_REDIRECT);
	f0 = fcnt(e, R_CTL);
	EXPECT(f0.tc_pkts == f1.tc_pkts + 1);
	/* a second packet, now a cache hit, the same */
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r) && r.retval == XDP_PASS);
	f1 = fcnt(e, R_CTL);
	EXPECT(f1.xdp_pkts == f0.xdp_pkts);
	result("xdp native: egress refusing native redirects: handed to TC with the rule, TC "
	       "forwards",
	       ok);

	ok = 1;
	EXPECT(!env_reapply(e, native_only));
	f0 = fcnt(e, R_CTL);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r) && r.retval == XDP_PASS);
	EXPECT(unchanged(&r, pkt, len));
	f1 = fcnt(e, R_CTL);
	EXPECT(f1.xdp_pkts == f0.xdp_pkts && f1.stack_pkts == f0.stack_pkts + 1);
	result("xdp native only: egress refusing native redirects: to the stack, counted as "
	       "stack",
	       ok);

	ok = 1;
	EXPECT(!env_reapply(e, generic_tc));
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r) && r.retval == XDP_REDIRECT);
	EXPECT(!env_reapply(e, native_ok));
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r) && r.retval == XDP_REDIRECT);
	result("xdp: generic XDP, or an egress taking native redirects: redirected as before", ok);
}

/* Return path: nsc1 (uplink) with native XDP, peer offloading checksums. */
static void t_csum_uplink(struct env *e)
{
	__u8 fix[2] = {NASCAR_IF_XDP | NASCAR_IF_TC,
		       NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC | NASCAR_IF_CSUM_FIX};
	__u8 nofix[2] = {NASCAR_IF_XDP | NASCAR_IF_TC,
			 NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC};
	static const int protos[] = {IPPROTO_TCP, IPPROTO_UDP};
	__u8 pkt[2048];
	struct run r;
	size_t len;
	int ok;

	for (size_t i = 0; i < 2; i++) {
		struct pktspec s = {.family = 4,
				    .proto = protos[i],
				    .src = "10.0.0.10",
				    .dst = "172.16.0.42",
				    .sport = 80,
				    .dport = (__u16)(42000 + i),
				    .ttl = 64,
				    .payload = 200,
				    .bad_csum = 2};
		char name[160];

		ok = 1;
		EXPECT(!env_reapply(e, fix));
		len = build_pkt(&s, pkt);
		EXPECT(!l4_csum_ok(pkt, len));
		EXPECT(!run_xdp(e, e->ifx[1], pkt, len, &r) && r.retval == XDP_REDIRECT);
		EXPECT(l4_csum_ok(r.out, len));
		/* a frame too big to walk is handed to TC, never sent partial
		 * (nsc0's MTU raised so that the route alone would take it) */
		EXPECT(sh("ip link set nsc0 mtu 4000") == 0);
		s.payload = 1600;
		s.sport = 81;
		len = build_pkt(&s, pkt);
		EXPECT(!run_xdp(e, e->ifx[1], pkt, len, &r) && r.retval == XDP_PASS);
		EXPECT(r.metalen == sizeof(struct nascar_meta) && unchanged(&r, pkt, len));
		s.bad_csum = 0;
		s.sport = 83;
		len = build_pkt(&s, pkt);
		EXPECT(!run_xdp(e, e->ifx[1], pkt, len, &r) && r.retval == XDP_PASS);
		EXPECT(sh("ip link set nsc0 mtu 1500") == 0);
		s.bad_csum = 2;
		snprintf(name, sizeof(name),
			 "xdp native uplink with NASCAR_IF_CSUM_FIX: partial %s checksum "
			 "completed, a frame over %d bytes handed on",
			 protos[i] == IPPROTO_TCP ? "tcp" : "udp", 1518);
		result(name, ok);

		/* the control: without the flag the frame leaves partial, which
		 * is what the guest saw before (TcpInCsumErrors) */
		ok = 1;
		EXPECT(!env_reapply(e, nofix));
		s.payload = 200;
		s.sport = 82;
		len = build_pkt(&s, pkt);
		EXPECT(!run_xdp(e, e->ifx[1], pkt, len, &r) && r.retval == XDP_REDIRECT);
		EXPECT(!l4_csum_ok(r.out, len));
		snprintf(name, sizeof(name),
			 "xdp native uplink without NASCAR_IF_CSUM_FIX: %s checksum not walked "
			 "(control)",
			 protos[i] == IPPROTO_TCP ? "tcp" : "udp");
		result(name, ok);
	}
}

int test_modes(struct env *e)
{
	__u8 hybrid[2] = {NASCAR_IF_XDP | NASCAR_IF_TC, NASCAR_IF_XDP | NASCAR_IF_TC};
	char *text = slurp("tests/bpf/policies/basic.nflow");
	int ok = 1;

	EXPECT(text && !env_policy(e, text, hybrid));
	result("modes: load basic.nflow", ok);
	if (!ok) {
		free(text);
		return -1;
	}
	t_vlan_bytes(e);
	t_no_xdp_tx(e);
	t_csum_uplink(e);
	free(text);
	return 0;
}
