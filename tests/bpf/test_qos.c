// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_qos.c - packet tests for nflow version 2's class rates on the data
 * path: a shaped class (rate without police) is handed by XDP to TC where
 * TC is attached, and delayed, not policed, when the egress has Nascar's
 * scheduler (skb->priority = its HTB class); where nothing can delay it
 * (xdp only, or an egress without the scheduler) it is policed; an egress
 * with a line rate is never bypassed by an XDP redirect when TC can take
 * the packet through the qdisc.
 *
 * Interface ids: 0 = nsc0 (guest), 1 = nsc1 (uplink).
 */
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include "harness.h"

#define R_SHAPED 0
#define R_PLAIN 1
#define C_SHAPED 0
#define C_PLAIN 1

static const char policy[] = "interface nsc0 { role guest; }\n"
			     "interface nsc1 { role uplink; }\n"
			     "class shaped { priority 2; rate 10kbps; burst 1000; }\n"
			     "class plain { priority 6; }\n"
			     "flow s { to 10.0.0.10 port 5001; proto udp; class shaped; }\n"
			     "flow p { to 10.0.0.10 port 5002; proto udp; class plain; }\n";

static struct pktspec pkt_to(__u16 dport, __u16 sport)
{
	struct pktspec s = {.family = 4,
			    .proto = IPPROTO_UDP,
			    .src = "172.16.0.42",
			    .dst = "10.0.0.10",
			    .sport = sport,
			    .dport = dport,
			    .ttl = 64,
			    .payload = 400};
	return s;
}

static int meta_rule(const struct run *r, __u16 rule)
{
	struct nascar_meta m;

	if (r->metalen != sizeof(m))
		return 0;
	memcpy(&m, r->out, sizeof(m));
	return m.magic == NASCAR_META_MAGIC && m.rule == rule;
}

/* n packets of the shaped flow through TC: how many were redirected. */
static int tc_burst(struct env *e, int n, __u16 sport, __u32 *prio)
{
	struct pktspec s = pkt_to(5001, sport);
	__u8 pkt[600];
	struct run r;
	size_t len = build_pkt(&s, pkt);
	int fwd = 0;

	for (int i = 0; i < n; i++) {
		if (run_tc(e, e->ifx[0], pkt, len, &r))
			return -1;
		if (r.retval == TC_ACT_REDIRECT) {
			fwd++;
			*prio = r.priority;
		}
	}
	return fwd;
}

static void t_shape_sched(struct env *e)
{
	__u8 sched[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC,
			 NASCAR_IF_XDP | NASCAR_IF_TC | NASCAR_IF_SCHED};
	struct pktspec s = pkt_to(5001, 30001);
	struct nascar_counters c0, c1;
	__u8 pkt[600];
	struct run r;
	size_t len;
	__u32 prio = 0;
	int ok = 1;

	EXPECT(!env_policy(e, policy, sched));
	len = build_pkt(&s, pkt);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, XDP_PASS);
	EXPECT(meta_rule(&r, R_SHAPED));
	c0 = fcnt(e, R_SHAPED);
	/* 20 x 442 bytes against a 1000-byte bucket: a policer would pass 2 */
	EXPECT_EQ(tc_burst(e, 20, 30002, &prio), 20);
	EXPECT_EQ(prio, NASCAR_SCHED_CLASSID(C_SHAPED));
	c1 = fcnt(e, R_SHAPED);
	EXPECT_EQ(c1.police_pkts, c0.police_pkts);
	EXPECT_EQ(c1.tc_pkts, c0.tc_pkts + 20);
	result("shaped class, egress with Nascar's scheduler: XDP hands to TC, TC sets the HTB "
	       "class and never polices",
	       ok);

	/* an unshaped class on that egress: its own HTB class, XDP still
	 * redirects it (no line rate) */
	ok = 1;
	s = pkt_to(5002, 30003);
	len = build_pkt(&s, pkt);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, XDP_REDIRECT);
	EXPECT(!run_tc(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, TC_ACT_REDIRECT);
	EXPECT_EQ(r.priority, NASCAR_SCHED_CLASSID(C_PLAIN));
	result("unshaped class, egress with the scheduler but no line rate: XDP redirects, TC "
	       "selects the class's HTB class",
	       ok);
}

static void t_shape_elsewhere(struct env *e)
{
	__u8 nosched[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC,
			   NASCAR_IF_XDP | NASCAR_IF_TC};
	__u8 xdponly[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE, NASCAR_IF_XDP | NASCAR_IF_SCHED};
	struct pktspec s = pkt_to(5001, 30011);
	struct nascar_counters c0, c1;
	__u8 pkt[600];
	struct run r;
	size_t len;
	__u32 prio = 0;
	int ok = 1, fwd, i;

	EXPECT(!env_policy(e, policy, nosched));
	c0 = fcnt(e, R_SHAPED);
	fwd = tc_burst(e, 20, 30011, &prio);
	EXPECT(fwd >= 1 && fwd <= 3);
	EXPECT_EQ(prio, 2u); /* the 802.1Q priority, as before */
	c1 = fcnt(e, R_SHAPED);
	EXPECT_EQ(c1.police_pkts, c0.police_pkts + (__u64)(20 - fwd));
	result("shaped class, egress without Nascar's scheduler (egress keep): TC polices it, "
	       "skb->priority stays the class priority",
	       ok);

	ok = 1;
	EXPECT(!env_policy(e, policy, xdponly));
	len = build_pkt(&s, pkt);
	c0 = fcnt(e, R_SHAPED);
	for (i = 0, fwd = 0; i < 20; i++) {
		EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
		fwd += r.retval == XDP_REDIRECT;
	}
	EXPECT(fwd >= 1 && fwd <= 3);
	c1 = fcnt(e, R_SHAPED);
	EXPECT_EQ(c1.police_pkts, c0.police_pkts + (__u64)(20 - fwd));
	result("shaped class, only XDP attached: XDP polices it (it cannot delay)", ok);
}

static void t_line_rate(struct env *e)
{
	__u8 line_tc[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE | NASCAR_IF_TC,
			   NASCAR_IF_XDP | NASCAR_IF_TC | NASCAR_IF_SCHED | NASCAR_IF_LINE_RATE};
	__u8 line_xdp[2] = {NASCAR_IF_XDP | NASCAR_IF_XDP_NATIVE,
			    NASCAR_IF_XDP | NASCAR_IF_SCHED | NASCAR_IF_LINE_RATE};
	struct pktspec s = pkt_to(5002, 30021);
	__u8 pkt[600];
	struct run r;
	size_t len;
	int ok = 1;

	EXPECT(!env_policy(e, policy, line_tc));
	len = build_pkt(&s, pkt);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, XDP_PASS);
	EXPECT(meta_rule(&r, R_PLAIN));
	EXPECT(!run_tc(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, TC_ACT_REDIRECT);
	EXPECT_EQ(r.priority, NASCAR_SCHED_CLASSID(C_PLAIN));
	result("egress with a line rate: XDP hands even unshaped classes to TC, which goes "
	       "through the scheduler",
	       ok);

	ok = 1;
	EXPECT(!env_policy(e, policy, line_xdp));
	s.sport = 30022;
	len = build_pkt(&s, pkt);
	EXPECT(!run_xdp(e, e->ifx[0], pkt, len, &r));
	EXPECT_EQ(r.retval, XDP_REDIRECT);
	result("egress with a line rate, only XDP on the ingress: XDP still redirects (there is "
	       "no TC to hand to; nascar-apply warns)",
	       ok);
}

int test_qos(struct env *e)
{
	t_shape_sched(e);
	t_shape_elsewhere(e);
	t_line_rate(e);
	return 0;
}
