// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_frontend.c - lexer and semantic pass, through nflow_compile_buffer():
 * address forms, names that look like hex, units, ports, defaults, the
 * unreachable-flow analysis, and the version-2 statements (police, an
 * interface rate and egress) down to the .nfc.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frontend.h"
#include "nfc.h"

/* Compiles src; returns the number of errors, fills *p when there are none. */
static int compile(const char *src, struct policy *p, int *warnings)
{
	struct diag d;
	int errs;

	diag_init(&d, "t.nflow", src, strlen(src));
	nflow_compile_buffer(src, strlen(src), &d, p);
	errs = d.nerrors;
	if (warnings)
		*warnings = d.nwarnings;
	diag_free(&d);
	return errs;
}

#define HDR "interface tap0 { role guest; }\nclass c { priority 1; }\n"

static int addr_is(const struct pol_prefix *pp, int af, const char *text, int len)
{
	uint8_t a[16] = {0};

	if (inet_pton(af, text, a) != 1)
		return 0;
	return pp->family == (af == AF_INET ? NASCAR_FAM_V4 : NASCAR_FAM_V6) && pp->len == len &&
	       !memcmp(pp->addr, a, af == AF_INET ? 4 : 16);
}

static void test_ipv6_forms(void)
{
	static const struct {
		const char *text;
		int len;
	} v6[] = {
		{"fe80::1", 128},	 {"::", 128},	     {"::1", 128},
		{"::ffff:1.2.3.4", 128}, {"2001:db8::", 32}, {"1:2:3:4:5:6:7:8", 128},
		{"dead:beef::", 64},	 {"ABCD::EF", 128},  {"::ffff:0:0", 96},
	};
	size_t i;

	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		char src[256];
		struct policy p;
		int errs;

		snprintf(src, sizeof(src), HDR "flow f { to %s/%d; class c; }\n", v6[i].text,
			 v6[i].len);
		errs = compile(src, &p, NULL);
		CHECK(errs == 0, "%s: %d errors", v6[i].text, errs);
		if (errs)
			continue;
		CHECK(p.nflows == 1 && addr_is(&p.flows[0].dst, AF_INET6, v6[i].text, v6[i].len),
		      "%s", v6[i].text);
		policy_free(&p);
	}
}

static void test_bad_addresses(void)
{
	static const char *const bad[] = {"1::2::3",	      "12345::",   "1.2.3",
					  "256.0.0.1",	      "1.2.3.4.5", "::g",
					  "1:2:3:4:5:6:7:8:9"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char src[256];
		struct policy p;

		snprintf(src, sizeof(src), HDR "flow f { to %s; class c; }\n", bad[i]);
		CHECK(compile(src, &p, NULL) > 0, "'%s' accepted", bad[i]);
	}
}

static void test_hex_looking_names(void)
{
	struct policy p;
	int errs = compile("interface dead { role guest; }\nclass beef { priority 2; }\n"
			   "flow cafe { in dead; to 10.0.0.0/8; class beef; }\n",
			   &p, NULL);

	CHECK(errs == 0, "%d errors", errs);
	if (errs)
		return;
	CHECK(!strcmp(p.ifaces[0].name, "dead") && !strcmp(p.classes[0].name, "beef") &&
		      !strcmp(p.flows[0].name, "cafe") && p.flows[0].in_iface == 0,
	      "names");
	CHECK(addr_is(&p.flows[0].dst, AF_INET, "10.0.0.0", 8), "dst");
	policy_free(&p);
}

static void test_rates(void)
{
	static const struct {
		const char *rate, *burst;
		uint64_t bytes;
		uint32_t b;
	} cases[] = {
		{"8bit", NULL, 1, 3028},
		{"12bit", NULL, 2, 3028}, /* 1.5 rounds up */
		{"1kbit", NULL, 125, 3028},
		{"400mbit", NULL, 50000000, 500000},
		{"1.25gbit", NULL, 156250000, 1562500},
		{"1bps", NULL, 1, 3028},
		{"2.5kbps", "100", 2500, 100},
		{"3mbps", "1.5kb", 3000000, 1536},
		{"1gbps", "2mb", 1000000000, 2097152},
		{"100mbit", "64b", 12500000, 64},
		{"1000000gbps", NULL, 1000000000000000ULL, UINT32_MAX},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char src[256], burst[64] = "";
		struct policy p;
		int errs;

		if (cases[i].burst)
			snprintf(burst, sizeof(burst), " burst %s;", cases[i].burst);
		snprintf(src, sizeof(src),
			 "interface t { role guest; }\nclass c { priority 1; rate %s;%s }\n"
			 "flow f { class c; }\n",
			 cases[i].rate, burst);
		errs = compile(src, &p, NULL);
		CHECK(errs == 0, "%s: %d errors", cases[i].rate, errs);
		if (errs)
			continue;
		CHECK(p.classes[0].rate == cases[i].bytes, "%s: rate %llu", cases[i].rate,
		      (unsigned long long)p.classes[0].rate);
		CHECK(p.classes[0].burst == cases[i].b, "%s: burst %u", cases[i].rate,
		      p.classes[0].burst);
		policy_free(&p);
	}
}

static void test_bad_rates(void)
{
	static const char *const bad[] = {
		"0bit", "0.0mbit", "1", "1.5", "3bit", "10mbits", "99999999999999999999gbps"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char src[256];
		struct policy p;

		snprintf(src, sizeof(src),
			 "interface t { role guest; }\nclass c { priority 1; rate %s; }\n"
			 "flow f { class c; }\n",
			 bad[i]);
		CHECK(compile(src, &p, NULL) > 0, "rate '%s' accepted", bad[i]);
	}
}

static void test_flow_defaults_and_ports(void)
{
	struct policy p;
	int errs =
		compile(HDR "flow a { class c; }\n"
			    "flow b { from 10.0.0.0/8 port 1000-2000; to ::1 port 53; proto udp;"
			    " class c; }\n"
			    "flow \"q n\" { from ::/0 port 0-65535; proto tcp; action stack; }\n",
			&p, NULL);

	CHECK(errs == 1, "%d errors (b mixes families)", errs);
	if (!errs)
		policy_free(&p);
	errs = compile(HDR "flow a { class c; }\n"
			   "flow b { from 10.0.0.0/8 port 1000-2000; to 1.2.3.4 port 53; proto udp;"
			   " in tap0; action drop; }\n"
			   "flow \"q n\" { from ::/0 port 0-65535; proto tcp; action stack; }\n"
			   "default { action forward; class c; }\n",
		       &p, NULL);
	CHECK(errs == 0, "%d errors", errs);
	if (errs)
		return;
	CHECK(p.nflows == 3, "nflows %zu", p.nflows);
	CHECK(p.flows[0].proto == POL_PROTO_ANY && p.flows[0].in_iface == POL_IFACE_ANY &&
		      p.flows[0].src.family == 0 && p.flows[0].dst.family == 0 &&
		      p.flows[0].sport_lo == 0 && p.flows[0].sport_hi == 65535 &&
		      p.flows[0].action == NASCAR_ACT_FORWARD && p.flows[0].class_idx == 0,
	      "defaults of flow a");
	CHECK(p.flows[1].sport_lo == 1000 && p.flows[1].sport_hi == 2000 &&
		      p.flows[1].dport_lo == 53 && p.flows[1].dport_hi == 53 &&
		      p.flows[1].proto == 17 && p.flows[1].in_iface == 0 &&
		      p.flows[1].action == NASCAR_ACT_DROP &&
		      p.flows[1].class_idx == POL_CLASS_NONE,
	      "flow b");
	CHECK(p.flows[2].quoted && !strcmp(p.flows[2].name, "q n") && p.flows[2].proto == 6 &&
		      addr_is(&p.flows[2].src, AF_INET6, "::", 0) &&
		      p.flows[2].action == NASCAR_ACT_STACK,
	      "flow q n");
	CHECK(p.default_action == NASCAR_ACT_FORWARD && p.default_class == 0, "default");
	CHECK(p.flows[1].line == 4, "line %u", p.flows[1].line);
	policy_free(&p);
}

static void test_interface_and_class_fields(void)
{
	struct policy p;
	int errs =
		compile("interface g { role guest; mode hybrid; allow-src 10.0.0.1, fd00::/8; }\n"
			"interface u { role uplink; mode xdp; }\n"
			"class c { priority 7; dscp af41; }\nclass d { priority 0; dscp 5; }\n"
			"class e { priority 3; }\n"
			"flow f { class c; }\nflow g { to 1.1.1.1; class d; }\n"
			"default { action forward; class e; }\n",
			&p, NULL);

	CHECK(errs == 0, "%d errors", errs);
	if (errs)
		return;
	CHECK(p.nifaces == 2 && p.ifaces[0].role == NASCAR_ROLE_GUEST &&
		      p.ifaces[0].mode == NASCAR_MODE_HYBRID && p.ifaces[0].nallow == 2 &&
		      addr_is(&p.ifaces[0].allow[0], AF_INET, "10.0.0.1", 32) &&
		      addr_is(&p.ifaces[0].allow[1], AF_INET6, "fd00::", 8),
	      "guest");
	CHECK(p.ifaces[1].role == NASCAR_ROLE_UPLINK && p.ifaces[1].mode == NASCAR_MODE_XDP &&
		      p.ifaces[1].nallow == 0,
	      "uplink");
	CHECK(p.classes[0].priority == 7 && p.classes[0].dscp == 34 && p.classes[0].rate == 0 &&
		      p.classes[0].burst == 0,
	      "class c");
	CHECK(p.classes[1].dscp == 5 && p.classes[2].dscp == NASCAR_DSCP_KEEP, "dscp");
	policy_free(&p);
}

/* Version 2: the statements' values in the policy and in the .nfc built from it. */
static void test_version2_fields(void)
{
	struct policy p;
	struct nfc_image img;
	char err[256];
	void *buf = NULL;
	size_t size = 0;
	int errs =
		compile("interface g { role guest; egress replace; }\n"
			"interface u { role uplink; rate 100mbit; }\n"
			"interface k { role uplink; egress keep; }\n"
			"interface r { role uplink; rate 2.5gbps; egress auto; }\n"
			"class pol { priority 7; rate 8kbit; police; }\n"
			"class shp { priority 1; rate 1mbit; }\n"
			"class none { priority 3; }\n"
			"flow a { to 10.0.0.1; class pol; }\nflow b { to 10.0.0.2; class shp; }\n"
			"default { action forward; class none; }\n",
			&p, NULL);

	CHECK(errs == 0, "%d errors", errs);
	if (errs)
		return;
	CHECK(p.ifaces[0].rate == 0 && p.ifaces[0].egress == NASCAR_EGRESS_REPLACE, "g");
	CHECK(p.ifaces[1].rate == 12500000 && p.ifaces[1].egress == NASCAR_EGRESS_AUTO,
	      "u: rate %llu", (unsigned long long)p.ifaces[1].rate);
	CHECK(p.ifaces[2].rate == 0 && p.ifaces[2].egress == NASCAR_EGRESS_KEEP, "k");
	CHECK(p.ifaces[3].rate == 2500000000ULL && p.ifaces[3].egress == NASCAR_EGRESS_AUTO,
	      "r: rate %llu", (unsigned long long)p.ifaces[3].rate);
	CHECK(p.classes[0].police == 1 && p.classes[0].rate == 1000, "pol");
	CHECK(p.classes[1].police == 0 && p.classes[1].rate == 125000, "shp");
	CHECK(p.classes[2].police == 0 && p.classes[2].rate == 0, "none");

	CHECK(nfc_build(&p, &buf, &size, err, sizeof(err)) == 0, "build: %s", err);
	if (buf && nfc_parse(buf, size, &img, err, sizeof(err)) == 0) {
		CHECK(img.ifqos != NULL, "no interface qos section");
		if (img.ifqos)
			CHECK(img.ifqos[0].egress == NASCAR_EGRESS_REPLACE &&
				      img.ifqos[1].rate == 12500000 &&
				      img.ifqos[2].egress == NASCAR_EGRESS_KEEP &&
				      img.ifqos[3].rate == 2500000000ULL &&
				      img.ifqos[3].egress == NASCAR_EGRESS_AUTO,
			      "ifqos");
		CHECK(img.classes[0].val.flags == NASCAR_CLASS_POLICE &&
			      img.classes[1].val.flags == 0 && img.classes[2].val.flags == 0,
		      "class flags");
		nfc_image_free(&img);
	} else {
		CHECK(0, "parse: %s", err);
		free(buf);
	}
	policy_free(&p);

	/* a version-1 policy: no police flag, every interface rate 0 and egress auto */
	errs = compile("interface g { role guest; }\ninterface u { role uplink; mode tc; }\n"
		       "class c { priority 1; rate 1mbit; }\nflow f { class c; }\n",
		       &p, NULL);
	CHECK(errs == 0, "v1: %d errors", errs);
	if (errs)
		return;
	CHECK(p.ifaces[0].rate == 0 && p.ifaces[0].egress == NASCAR_EGRESS_AUTO &&
		      p.ifaces[1].rate == 0 && p.ifaces[1].egress == NASCAR_EGRESS_AUTO &&
		      !p.classes[0].police,
	      "v1 defaults");
	policy_free(&p);
}

/* Version 2 errors and warnings, counted (the goldens pin the text). */
static void test_version2_diagnostics(void)
{
	static const struct {
		const char *src;
		int errors, warnings;
	} cases[] = {
		{"class c { priority 1; police; }\nflow f { class c; }\n", 1, 0},
		{"class c { priority 1; rate 1mbit; police; police; }\nflow f { class c; }\n", 1,
		 0},
		{"interface g { role guest; rate 1mbit; }\n", 1, 0},
		{"interface u { role uplink; rate 0bit; }\n", 1, 0},
		{"interface u { role uplink; rate 10; }\n", 1, 0},
		{"interface u { role uplink; rate 1mbit; egress keep; }\n", 1, 0},
		{"interface u { role uplink; egress keep; rate 1mbit; }\n", 1, 0},
		{"interface u { role uplink; rate 1mbit; egress replace; }\n", 0, 0},
		{"interface u { role uplink; egress off; }\n", 1, 0},
		{"interface u { role uplink; police; }\n", 1, 0},
		{"class c { priority 1; egress keep; }\nflow f { class c; }\n", 1, 0},
		/* TCP (or any protocol) in a rated class without police, XDP only */
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; }\n"
		 "flow f { proto tcp; class c; }\n",
		 0, 1},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; }\n"
		 "flow f { class c; }\n",
		 0, 1},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; }\n"
		 "default { action forward; class c; }\n",
		 0, 1},
		{"interface x { role guest; mode xdp; }\ninterface y { role uplink; }\n"
		 "class c { priority 1; rate 1mbit; }\nflow f { in y; class c; }\n",
		 0, 0},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; police; "
		 "}\n"
		 "flow f { proto tcp; class c; }\n",
		 0, 0},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; }\n"
		 "flow f { proto udp; class c; }\n",
		 0, 0},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; }\n"
		 "flow f { proto tcp; class c; }\n",
		 0, 0},
		{"interface x { role guest; mode hybrid; }\nclass c { priority 1; rate 1mbit; }\n"
		 "flow f { proto tcp; class c; }\n",
		 0, 0},
		{"interface x { role guest; mode xdp; }\nclass c { priority 1; rate 1mbit; }\n"
		 "flow f { proto tcp; action drop; }\n",
		 0, 1}, /* the class is unused: only that warning */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy p;
		int w = 0, errs = compile(cases[i].src, &p, &w);

		CHECK(errs == cases[i].errors && w == cases[i].warnings,
		      "case %zu: %d errors, %d warnings", i, errs, w);
		if (!errs)
			policy_free(&p);
	}
}

/* Each case: two flows; is the second reported unreachable? */
static void test_unreachable(void)
{
	static const struct {
		const char *a, *b;
		int unreachable;
	} cases[] = {
		{"", "to 10.0.0.1;", 1},
		{"to 10.0.0.0/8;", "to 10.1.0.0/16;", 1},
		{"to 10.1.0.0/16;", "to 10.0.0.0/8;", 0},
		{"to 10.0.0.0/8;", "to 11.0.0.0/8;", 0},
		{"proto tcp;", "proto udp;", 0},
		{"proto tcp;", "proto tcp; to any port 80;", 1},
		{"proto tcp; to any port 80;", "proto tcp;", 0},
		{"proto tcp; to any port 1-1024;", "proto tcp; to any port 80-90;", 1},
		{"proto tcp; to any port 1-1024;", "proto tcp; to any port 1000-2000;", 0},
		{"in tap0;", "in tap0; to 1.2.3.4;", 1},
		{"in tap0;", "in eth0;", 0},
		{"in tap0;", "", 0},
		{"to 0.0.0.0/0;", "from 1.2.3.4;", 1},
		{"to 0.0.0.0/0;", "", 0},
		{"to ::/0;", "to 1.2.3.4;", 0},
		{"from 2001:db8::/32;", "from 2001:db8:1::/48; to ::1;", 1},
		{"from 2001:db8::/32; proto udp;", "from 2001:db8:1::/48;", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char src[512];
		struct policy p;
		int w = 0, errs;

		snprintf(
			src, sizeof(src),
			"interface tap0 { role guest; }\ninterface eth0 { role uplink; }\n"
			"class c { priority 1; }\nflow a { %s class c; }\nflow b { %s class c; }\n",
			cases[i].a, cases[i].b);
		errs = compile(src, &p, &w);
		CHECK(errs == 0, "case %zu: %d errors", i, errs);
		if (errs)
			continue;
		CHECK(w == cases[i].unreachable, "case %zu ('%s' then '%s'): %d warnings", i,
		      cases[i].a, cases[i].b, w);
		policy_free(&p);
	}
}

static void test_werror(void)
{
	const char *src = "interface t { role guest; }\nclass c { priority 1; }\n"
			  "class unused { priority 2; }\nflow f { class c; }\n";
	struct policy p;
	struct diag d;
	int rc;

	diag_init(&d, "t", src, strlen(src));
	rc = nflow_compile_buffer(src, strlen(src), &d, &p);
	CHECK(rc == 0 && d.nwarnings == 1, "rc %d warnings %d", rc, d.nwarnings);
	if (!rc)
		policy_free(&p);
	diag_free(&d);
	diag_init(&d, "t", src, strlen(src));
	d.werror = 1;
	rc = nflow_compile_buffer(src, strlen(src), &d, &p);
	CHECK(rc == -1 && d.nerrors == 1, "rc %d errors %d", rc, d.nerrors);
	CHECK(p.flows == NULL && p.nflows == 0, "policy left empty");
	diag_free(&d);
}

static void test_source_hash(void)
{
	const char *src = "interface t { role uplink; }\n";
	struct policy p;

	CHECK(compile(src, &p, NULL) == 0, "compiles");
	CHECK(p.source_hash == nfc_fnv1a64(src, strlen(src)), "hash");
	policy_free(&p);
}

static void test_garbage_does_not_crash(void)
{
	static const char *const inputs[] = {
		"",
		"{",
		"}",
		";;;",
		"flow",
		"flow \"",
		"interface { } } }",
		"class c { rate ; }",
		"flow f { from 1.2.3.4/ ; }",
		"flow f { to any port 1- ; }",
		"default { default { } }",
		"\x01\x02\xff",
		"flow \"a\tb\" { action drop; }",
		"interface t { allow-src , ; }",
	};
	size_t i;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct policy p;

		/* on errors p is left empty, so freeing it is always right */
		CHECK(compile(inputs[i], &p, NULL) >= 0, "input %zu", i);
		policy_free(&p);
	}
	/* a NUL byte inside the buffer is just a bad character */
	{
		const char src[] = "interface t { role uplink; }\0 junk";
		struct diag d;
		struct policy p;

		diag_init(&d, "t", src, sizeof(src) - 1);
		CHECK(nflow_compile_buffer(src, sizeof(src) - 1, &d, &p) == -1, "NUL");
		diag_free(&d);
	}
}

int main(void)
{
	TEST(test_ipv6_forms);
	TEST(test_bad_addresses);
	TEST(test_hex_looking_names);
	TEST(test_rates);
	TEST(test_bad_rates);
	TEST(test_flow_defaults_and_ports);
	TEST(test_interface_and_class_fields);
	TEST(test_version2_fields);
	TEST(test_version2_diagnostics);
	TEST(test_unreachable);
	TEST(test_werror);
	TEST(test_source_hash);
	TEST(test_garbage_does_not_crash);
	return TEST_EXIT();
}
