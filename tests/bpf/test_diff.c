// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_diff.c - differential test: random .nflow policies compiled by
 * nascarc, random packets; the BPF programs (through BPF_PROG_TEST_RUN,
 * observed through the per-rule and per-class counters and the verdict)
 * must agree with nfc_classify() (what `nascarc classify` prints) on flow,
 * class and action.  Half of the packets go through XDP, half through TC.
 */
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef TC_ACT_REDIRECT
#define TC_ACT_REDIRECT 7
#endif

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

static const char *v4pfx[] = {"10.0.0.0/8",	 "10.0.0.0/24", "10.0.0.10",	 "10.0.0.0/16",
			      "172.16.0.0/24",	 "172.16.0.42", "172.16.0.0/12", "10.1.0.0/16",
			      "192.168.50.0/24", "0.0.0.0/1",	"10.0.0.20",	 "8.0.0.0/7"};
static const char *v6pfx[] = {"2001:db8::/32",
			      "2001:db8:10::/64",
			      "2001:db8:10::10",
			      "2001:db8:16::/64",
			      "2001:db8:16::42",
			      "2001:db8:11::/48",
			      "::/1",
			      "2001:db8:16::/120"};
static const char *portpfx[] = {"80",	      "23",	"5000-5010", "29536",
				"1024-65535", "0-1023", "0",	     "5005"};
static const char *v4addr[] = {"10.0.0.10",   "10.0.0.11",  "10.0.0.20",     "10.1.2.3",
			       "172.16.0.42", "172.16.0.7", "192.168.50.10", "8.8.8.8",
			       "10.0.5.5",    "9.1.2.3",    "10.0.0.1"};
static const char *v6addr[] = {"2001:db8:10::10", "2001:db8:10::99", "2001:db8:16::42",
			       "2001:db8:16::7",  "2001:db8:11::5",  "2001:db8:99::1",
			       "2001:db8:16::1"};
static const __u16 ports[] = {23, 80, 5000, 5005, 5010, 5011, 29536, 1023, 1024, 40000, 0, 65535};

static void addr_clause(char *buf, size_t n, const char *kw, int fam, int with_port)
{
	const char *a = fam == 4 ? v4pfx[rnd(sizeof(v4pfx) / sizeof(v4pfx[0]))]
				 : v6pfx[rnd(sizeof(v6pfx) / sizeof(v6pfx[0]))];

	if (with_port && rnd(2))
		snprintf(buf, n, "%s %s port %s; ", kw, rnd(5) ? a : "any",
			 portpfx[rnd(sizeof(portpfx) / sizeof(portpfx[0]))]);
	else if (fam && rnd(4))
		snprintf(buf, n, "%s %s; ", kw, a);
	else if (with_port && rnd(2))
		snprintf(buf, n, "%s any port %s; ", kw,
			 portpfx[rnd(sizeof(portpfx) / sizeof(portpfx[0]))]);
	else
		buf[0] = 0;
}

static char *gen_policy(int big)
{
	size_t cap = 1 << 18, len = 0;
	char *p = malloc(cap);
	/* big: several bitmap words, so the first-match loop crosses words */
	int nflows = big ? 60 + (int)rnd(300) : 1 + (int)rnd(40), i;

	len += (size_t)snprintf(p + len, cap - len, "interface nsc0 { role guest; %s}\n",
				rnd(2) ? "allow-src 172.16.0.0/24, 2001:db8:16::/64; " : "");
	len += (size_t)snprintf(p + len, cap - len, "interface nsc1 { role uplink; }\n");
	len += (size_t)snprintf(p + len, cap - len,
				"class c0 { priority 7; dscp ef; }\nclass c1 { priority 3; }\n"
				"class c2 { priority 1; dscp cs1; }\n");
	for (i = 0; i < nflows; i++) {
		char from[96], to[96];
		int fam = (int)rnd(3);	 /* 0 any, 1 v4, 2 v6 */
		int proto = (int)rnd(5); /* any tcp udp icmp icmpv6 */
		int a = (int)rnd(5);

		fam = fam == 1 ? 4 : fam == 2 ? 6 : 0;
		if (proto == 3 && fam == 6)
			proto = 0;
		if (proto == 4 && fam == 4)
			proto = 0;
		addr_clause(from, sizeof(from), "from", fam, proto == 1 || proto == 2);
		addr_clause(to, sizeof(to), "to", fam, proto == 1 || proto == 2);
		if (fam && !from[0] && !to[0])
			snprintf(to, sizeof(to), "to %s; ",
				 fam == 4 ? "10.0.0.0/8" : "2001:db8::/32");
		len += (size_t)snprintf(p + len, cap - len, "flow f%d { %s%s%s%s", i, from, to,
					proto == 1   ? "proto tcp; "
					: proto == 2 ? "proto udp; "
					: proto == 3 ? "proto icmp; "
					: proto == 4 ? "proto icmpv6; "
						     : "",
					rnd(4) == 0 ? (rnd(2) ? "in nsc0; " : "in nsc1; ") : "");
		if (a == 0)
			len += (size_t)snprintf(p + len, cap - len, "action drop; }\n");
		else if (a == 1)
			len += (size_t)snprintf(p + len, cap - len, "action stack; }\n");
		else
			len += (size_t)snprintf(p + len, cap - len, "class c%u; }\n", rnd(3));
	}
	switch (rnd(3)) {
	case 0:
		len += (size_t)snprintf(p + len, cap - len, "default { action drop; }\n");
		break;
	case 1:
		len += (size_t)snprintf(p + len, cap - len,
					"default { action forward; class c1; }\n");
		break;
	default:
		break;
	}
	return p;
}

/* one random packet through XDP or TC (tc): 1 when BPF and nfc_classify()
 * agree, -1 when not (each disagreement is a failed EXPECT) */
static int diff_one(struct env *e, int tc, int *nreport)
{
	struct pktspec s;
	struct nfc_pkt np;
	struct nfc_verdict v;
	struct nascar_counters f0 = {0}, f1, c0 = {0}, c1, i0, i1;
	__u8 pkt[512];
	size_t len;
	struct run r;
	int ifx = (int)rnd(20), ifid = -1, ok = 1;
	unsigned int k;
	__u32 PASS = tc ? TC_ACT_OK : XDP_PASS, DROP = tc ? TC_ACT_SHOT : XDP_DROP;
	__u32 RED = tc ? TC_ACT_REDIRECT : XDP_REDIRECT;

	ifx = ifx < 9 ? 0 : ifx < 18 ? 1 : 2;
	memset(&s, 0, sizeof(s));
	s.family = rnd(2) ? 4 : 6;
	k = rnd(3);
	s.proto = k == 0   ? IPPROTO_TCP
		  : k == 1 ? IPPROTO_UDP
			   : (s.family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (s.family == 4) {
		s.src = v4addr[rnd(sizeof(v4addr) / sizeof(v4addr[0]))];
		s.dst = v4addr[rnd(sizeof(v4addr) / sizeof(v4addr[0]))];
	} else {
		s.src = v6addr[rnd(sizeof(v6addr) / sizeof(v6addr[0]))];
		s.dst = v6addr[rnd(sizeof(v6addr) / sizeof(v6addr[0]))];
	}
	s.sport = rnd(3) ? ports[rnd(sizeof(ports) / sizeof(ports[0]))] : (__u16)rnd(65536);
	s.dport = rnd(3) ? ports[rnd(sizeof(ports) / sizeof(ports[0]))] : (__u16)rnd(65536);
	s.ttl = 64;
	s.payload = (int)rnd(40);
	len = build_pkt(&s, pkt);

	memset(&np, 0, sizeof(np));
	np.family = s.family == 4 ? NASCAR_FAM_V4 : NASCAR_FAM_V6;
	np.proto = (uint8_t)s.proto;
	if (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP) {
		np.sport = s.sport;
		np.dport = s.dport;
	}
	inet_pton(s.family == 4 ? AF_INET : AF_INET6, s.src, np.src);
	inet_pton(s.family == 4 ? AF_INET : AF_INET6, s.dst, np.dst);
	for (k = 0; k < e->img.nifaces; k++)
		if (!strcmp(e->img.ifaces[k].name, ifx == 0 ? "nsc0" : ifx == 1 ? "nsc1" : "nsc2"))
			ifid = (int)k;
	/* neither can fail on a valid image and packet: a failure is a failed
	 * packet, not a skipped one */
	EXPECT(!nfc_classify_id(&e->img, ifid, &np, &v));
	if (!ok)
		return -1;

	if (v.matched_iface && !v.spoofed) {
		f0 = fcnt(e, v.rule);
		if (v.class_id >= 0)
			c0 = ccnt(e, (__u32)v.class_id);
	}
	i0 = icnt(e, ifid < 0 ? 0 : (__u32)ifid);
	EXPECT(!(tc ? run_tc : run_xdp)(e, e->ifx[ifx], pkt, len, &r));
	if (!ok)
		return -1;

	if (!v.matched_iface) {
		EXPECT_EQ(r.retval, PASS);
		EXPECT(r.outlen == len && !memcmp(r.out, pkt, len));
	} else if (v.spoofed) {
		i1 = icnt(e, (__u32)ifid);
		EXPECT_EQ(r.retval, DROP);
		EXPECT_EQ(i1.spoof_pkts, i0.spoof_pkts + 1);
	} else {
		f1 = fcnt(e, v.rule);
		EXPECT_EQ(counters_pkts(&f1), counters_pkts(&f0) + 1);
		if (v.class_id >= 0) {
			c1 = ccnt(e, (__u32)v.class_id);
			EXPECT_EQ(counters_pkts(&c1), counters_pkts(&c0) + 1);
		}
		switch (v.action) {
		case NASCAR_ACT_DROP:
			EXPECT_EQ(r.retval, DROP);
			EXPECT_EQ(f1.drop_pkts, f0.drop_pkts + 1);
			break;
		case NASCAR_ACT_STACK:
			EXPECT_EQ(r.retval, PASS);
			EXPECT_EQ(f1.stack_pkts, f0.stack_pkts + 1);
			break;
		default:
			EXPECT(r.retval == RED || r.retval == PASS);
			EXPECT_EQ(f1.drop_pkts, f0.drop_pkts);
			break;
		}
	}
	if (!ok && *nreport < 3 && v.matched_iface && !v.spoofed) {
		__u32 q;

		for (q = 0; q < NASCAR_NRULES; q++) {
			struct nascar_counters c = fcnt(e, q);

			if (counters_pkts(&c))
				fprintf(stderr,
					"  rule %u: xdp %llu tc %llu stack %llu drop %llu\n", q,
					(unsigned long long)c.xdp_pkts,
					(unsigned long long)c.tc_pkts,
					(unsigned long long)c.stack_pkts,
					(unsigned long long)c.drop_pkts);
		}
		fprintf(stderr, "  before: stack %llu xdp %llu\n",
			(unsigned long long)f0.stack_pkts, (unsigned long long)f0.xdp_pkts);
	}
	if (!ok && (*nreport)++ < 10)
		fprintf(stderr,
			"  mismatch (%s): in %s %s proto %d %s:%u -> %s:%u: expected rule %u class "
			"%d "
			"action %d spoofed %d matched %d; got retval %u\n",
			tc ? "tc" : "xdp",
			ifx == 0   ? "nsc0"
			: ifx == 1 ? "nsc1"
				   : "nsc2",
			s.family == 4 ? "ipv4" : "ipv6", s.proto, s.src, s.sport, s.dst, s.dport,
			v.rule, v.class_id, v.action, v.spoofed, v.matched_iface, r.retval);
	return ok ? 1 : -1;
}

int test_diff(struct env *e, int npackets)
{
	__u8 flags[2] = {NASCAR_IF_XDP | NASCAR_IF_TC, NASCAR_IF_XDP | NASCAR_IF_TC};
	__u8 xdponly[2] = {NASCAR_IF_XDP, NASCAR_IF_XDP};
	int done = 0, bad = 0, npol = 0, nreport = 0, i, ok;
	char name[128];

	srandom(12345);
	while (done < npackets) {
		char *text = gen_policy(npol % 5 == 4);

		/* xdp-only flags: XDP counts every packet it passes itself */
		ok = 1;
		EXPECT(!env_policy(e, text, npol % 2 ? flags : xdponly));
		if (!ok) {
			fprintf(stderr, "policy failed to load:\n%s\n", text);
			free(text);
			result("diff: random policy compiles and loads", ok);
			return -1;
		}
		npol++;
		for (i = 0; i < 200 && done < npackets; i++) {
			/* hybrid flags: XDP hands some packets to TC uncounted, so
			 * those policies are checked through TC only */
			if (diff_one(e, ((npol - 1) % 2) ? 1 : (i % 3 == 0), &nreport) < 0)
				bad++;
			done++;
		}
		free(text);
	}
	snprintf(name, sizeof(name),
		 "diff: BPF and nfc_classify agree on flow, class, action (%d packets, %d "
		 "policies, %d mismatches)",
		 done, npol, bad);
	ok = 1;
	EXPECT_EQ(bad, 0);
	result(name, ok);
	return bad ? -1 : 0;
}
