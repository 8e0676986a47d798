// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_nfc.c - lowering, the .nfc container and the userspace classifier.
 *
 * The randomized case builds random policies, compiles them to tables and
 * checks the table-driven classifier against a deliberately naive reference:
 * a linear scan over the flows in file order.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nfc.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

/* Small address pools so that random prefixes overlap a lot. */
static void rnd_addr(uint8_t family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (family == NASCAR_FAM_V4) {
		addr[0] = 10;
		addr[1] = (uint8_t)rnd_below(2);
		addr[2] = (uint8_t)rnd_below(3);
		addr[3] = (uint8_t)rnd_below(8);
	} else {
		addr[0] = 0xfd;
		addr[1] = 0x00;
		addr[7] = (uint8_t)rnd_below(3);
		addr[15] = (uint8_t)rnd_below(8);
	}
}

static void mask_prefix(struct pol_prefix *p)
{
	unsigned int i;

	for (i = p->len; i < 128; i++)
		p->addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static void rnd_prefix(struct pol_prefix *p, uint8_t family)
{
	static const uint8_t v4len[] = {8, 16, 24, 29, 32};
	static const uint8_t v6len[] = {16, 64, 120, 128};

	memset(p, 0, sizeof(*p));
	if (!family)
		return;
	p->family = family;
	rnd_addr(family, p->addr);
	p->len = family == NASCAR_FAM_V4 ? v4len[rnd_below(5)] : v6len[rnd_below(4)];
	mask_prefix(p);
}

static void rnd_ports(uint16_t *lo, uint16_t *hi)
{
	uint16_t a = (uint16_t)(1000 + rnd_below(20)), b = (uint16_t)(a + rnd_below(6));

	if (rnd_below(2)) {
		*lo = 0;
		*hi = 65535;
	} else {
		*lo = a;
		*hi = rnd_below(3) ? a : b;
	}
}

static void rnd_policy(struct policy *p, size_t nflows)
{
	static const int protos[] = {6, 17, 1, 58};
	size_t i;

	memset(p, 0, sizeof(*p));
	p->nifaces = 1 + rnd_below(3);
	p->ifaces = calloc(p->nifaces, sizeof(*p->ifaces));
	for (i = 0; i < p->nifaces; i++) {
		snprintf(p->ifaces[i].name, sizeof(p->ifaces[i].name), "if%u",
			 (unsigned int)(i % 64));
		p->ifaces[i].role = i ? NASCAR_ROLE_UPLINK : NASCAR_ROLE_GUEST;
	}
	p->nclasses = 1 + rnd_below(4);
	p->classes = calloc(p->nclasses, sizeof(*p->classes));
	for (i = 0; i < p->nclasses; i++) {
		snprintf(p->classes[i].name, sizeof(p->classes[i].name), "c%u",
			 (unsigned int)(i % 1000));
		p->classes[i].priority = (uint8_t)(i % 8);
		p->classes[i].dscp = NASCAR_DSCP_KEEP;
	}
	p->nflows = nflows;
	p->flows = calloc(nflows ? nflows : 1, sizeof(*p->flows));
	for (i = 0; i < nflows; i++) {
		struct pol_flow *f = &p->flows[i];
		uint8_t fam = (uint8_t)(rnd_below(3) == 0 ? 0
					: rnd_below(2)	  ? NASCAR_FAM_V4
							  : NASCAR_FAM_V6);

		snprintf(f->name, sizeof(f->name), "f%u", (unsigned int)i);
		rnd_prefix(&f->src, rnd_below(2) ? fam : 0);
		rnd_prefix(&f->dst, rnd_below(2) ? fam : 0);
		f->proto = rnd_below(3) ? protos[rnd_below(4)] : POL_PROTO_ANY;
		f->sport_hi = f->dport_hi = 65535;
		if (f->proto == 6 || f->proto == 17) {
			rnd_ports(&f->sport_lo, &f->sport_hi);
			rnd_ports(&f->dport_lo, &f->dport_hi);
		}
		f->in_iface = rnd_below(2) ? (int)rnd_below((uint32_t)p->nifaces) : POL_IFACE_ANY;
		f->action = (int)rnd_below(3);
		f->class_idx = f->action == NASCAR_ACT_FORWARD
				       ? (int)rnd_below((uint32_t)p->nclasses)
				       : POL_CLASS_NONE;
		f->line = (unsigned int)i + 1;
	}
	p->default_action = NASCAR_ACT_STACK;
	p->default_class = POL_CLASS_NONE;
	p->source_hash = rnd();
}

static int ref_prefix(const struct pol_prefix *p, uint8_t family, const uint8_t *addr)
{
	unsigned int i;

	if (!p->family)
		return 1;
	if (p->family != family)
		return 0;
	for (i = 0; i < p->len; i++)
		if ((p->addr[i / 8] ^ addr[i / 8]) & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

/* The reference: first flow in file order that matches. */
static uint32_t ref_classify(const struct policy *p, int ifid, const struct nfc_pkt *k)
{
	size_t i;

	for (i = 0; i < p->nflows; i++) {
		const struct pol_flow *f = &p->flows[i];

		if (f->in_iface != POL_IFACE_ANY && f->in_iface != ifid)
			continue;
		if (f->proto != POL_PROTO_ANY && f->proto != k->proto)
			continue;
		if (!ref_prefix(&f->src, k->family, k->src) ||
		    !ref_prefix(&f->dst, k->family, k->dst))
			continue;
		if (k->sport < f->sport_lo || k->sport > f->sport_hi || k->dport < f->dport_lo ||
		    k->dport > f->dport_hi)
			continue;
		return (uint32_t)i;
	}
	return NASCAR_RULE_DEFAULT;
}

static void rnd_pkt(struct nfc_pkt *k)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 47};

	memset(k, 0, sizeof(*k));
	k->family = rnd_below(2) ? NASCAR_FAM_V4 : NASCAR_FAM_V6;
	k->proto = protos[rnd_below(5)];
	rnd_addr(k->family, k->src);
	rnd_addr(k->family, k->dst);
	if (k->proto == 6 || k->proto == 17) {
		k->sport = (uint16_t)(rnd_below(4) ? 998 + rnd_below(30) : rnd());
		k->dport = (uint16_t)(rnd_below(4) ? 998 + rnd_below(30) : rnd());
	}
}

static int build(const struct policy *p, struct nfc_image *img)
{
	char err[256];
	void *buf;
	size_t size;
	int ret;

	ret = nfc_build(p, &buf, &size, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nfc_build: %s\n", err);
		return ret;
	}
	ret = nfc_parse(buf, size, img, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nfc_parse: %s\n", err);
		free(buf);
	}
	return ret;
}

static void test_random_against_reference(void)
{
	int round, n, mismatches = 0;

	for (round = 0; round < 60; round++) {
		struct policy p;
		struct nfc_image img;
		size_t nflows = round < 5 ? (size_t)round : 1 + rnd_below(round < 50 ? 80 : 700);

		rnd_policy(&p, nflows);
		if (build(&p, &img)) {
			CHECK(0, "round %d: build failed", round);
			policy_free(&p);
			continue;
		}
		for (n = 0; n < 2000; n++) {
			struct nfc_pkt k;
			struct nfc_verdict v;
			int ifid = (int)rnd_below((uint32_t)p.nifaces);
			uint32_t want;

			rnd_pkt(&k);
			want = ref_classify(&p, ifid, &k);
			CHECK(nfc_classify_id(&img, ifid, &k, &v) == 0, "classify failed");
			if (v.rule != want && mismatches++ < 5)
				CHECK(0, "round %d packet %d: got rule %u, reference %u", round, n,
				      v.rule, want);
		}
		nfc_image_free(&img);
		policy_free(&p);
	}
	CHECK(mismatches == 0, "%d mismatches", mismatches);
}

static void test_deterministic(void)
{
	struct policy p;
	void *a, *b;
	size_t sa, sb;
	char err[128];

	rng_state = 42;
	rnd_policy(&p, 300);
	CHECK(nfc_build(&p, &a, &sa, err, sizeof(err)) == 0, "%s", err);
	CHECK(nfc_build(&p, &b, &sb, err, sizeof(err)) == 0, "%s", err);
	CHECK(sa == sb && !memcmp(a, b, sa), "two builds differ");
	free(a);
	free(b);
	policy_free(&p);
}

/* An image with any one of its bytes changed (XOR 0x41), or cut to any
 * shorter length, is refused cleanly.  Every offset and every length is
 * tried (about 20 KB: a second in all, also under ASan/UBSan). */
static void test_corruption(void)
{
	struct policy p;
	struct nfc_image img;
	void *buf;
	size_t size, i;
	char err[256];
	int accepted = 0;

	rng_state = 7;
	rnd_policy(&p, 20);
	CHECK(nfc_build(&p, &buf, &size, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < size; i++) {
		unsigned char *c = (unsigned char *)buf + i;

		*c ^= 0x41;
		if (nfc_parse(buf, size, &img, err, sizeof(err)) == 0)
			accepted++;
		*c ^= 0x41;
	}
	CHECK(accepted == 0, "%d corrupted images accepted", accepted);
	for (i = 0; i < size; i++)
		CHECK(nfc_parse(buf, i, &img, err, sizeof(err)) < 0, "truncation to %zu accepted",
		      i);
	((struct nfc_header *)buf)->abi_version = NASCAR_ABI_VERSION + 1;
	CHECK(nfc_parse(buf, size, &img, err, sizeof(err)) < 0 && strstr(err, "ABI version"),
	      "wrong ABI: %s", err);
	free(buf);
	policy_free(&p);
}

static void test_endpoint(void)
{
	uint8_t fam, a[16];
	uint16_t port;
	int has;

	CHECK(nfc_parse_endpoint("10.0.0.1:80", &fam, a, &port, &has) == 0 && fam == 4 &&
		      port == 80 && has && a[0] == 10 && a[3] == 1,
	      "v4 with port");
	CHECK(nfc_parse_endpoint("10.0.0.1", &fam, a, &port, &has) == 0 && !has, "v4");
	CHECK(nfc_parse_endpoint("[fd00::1]:443", &fam, a, &port, &has) == 0 && fam == 6 &&
		      port == 443 && a[15] == 1,
	      "v6 with port");
	CHECK(nfc_parse_endpoint("fd00::1", &fam, a, &port, &has) == 0 && fam == 6 && !has, "v6");
	CHECK(nfc_parse_endpoint("10.0.0.1:65536", &fam, a, &port, &has) < 0, "port range");
	CHECK(nfc_parse_endpoint("10.0.0:1", &fam, a, &port, &has) < 0, "bad v4");
	CHECK(nfc_parse_endpoint("[fd00::1", &fam, a, &port, &has) < 0, "bad bracket");
	CHECK(nfc_parse_endpoint("", &fam, a, &port, &has) < 0, "empty");
}

/* A 4096-flow policy with distinct ports everywhere still fits the limits. */
static void test_limits(void)
{
	struct policy p;
	void *buf;
	size_t size, i;
	char err[256];

	memset(&p, 0, sizeof(p));
	rng_state = 99;
	rnd_policy(&p, NASCAR_MAX_FLOWS);
	for (i = 0; i < p.nflows; i++) {
		p.flows[i].proto = 17;
		p.flows[i].sport_lo = p.flows[i].sport_hi = (uint16_t)(2000 + i);
		p.flows[i].dport_lo = p.flows[i].dport_hi = (uint16_t)(10000 + i);
	}
	CHECK(nfc_build(&p, &buf, &size, err, sizeof(err)) == 0, "%s", err);
	free(buf);
	policy_free(&p);
	rnd_policy(&p, NASCAR_MAX_FLOWS + 1);
	CHECK(nfc_build(&p, &buf, &size, err, sizeof(err)) < 0 && strstr(err, "4096"),
	      "over the flow limit: %s", err);
	policy_free(&p);
}

int main(void)
{
	TEST(test_random_against_reference);
	TEST(test_deterministic);
	TEST(test_corruption);
	TEST(test_endpoint);
	TEST(test_limits);
	return TEST_EXIT();
}
