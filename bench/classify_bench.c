// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * classify_bench.c - nanoseconds per userspace classification (the twin of
 * the BPF classifier) and compile time, for policies of 1, 100 and 4096
 * flows.  Each policy's flows are distinct UDP destination ports; the
 * packets hit the last flow (the worst case for first-match) or miss all.
 * Prints one line per case, medians of several runs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfc.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void make_policy(struct policy *p, size_t n)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->nifaces = 2;
	p->ifaces = calloc(2, sizeof(*p->ifaces));
	strcpy(p->ifaces[0].name, "tap0");
	p->ifaces[0].role = NASCAR_ROLE_GUEST;
	strcpy(p->ifaces[1].name, "eth0");
	p->ifaces[1].role = NASCAR_ROLE_UPLINK;
	p->nclasses = 1;
	p->classes = calloc(1, sizeof(*p->classes));
	strcpy(p->classes[0].name, "c");
	p->classes[0].dscp = NASCAR_DSCP_KEEP;
	p->nflows = n;
	p->flows = calloc(n, sizeof(*p->flows));
	for (i = 0; i < n; i++) {
		struct pol_flow *f = &p->flows[i];

		snprintf(f->name, sizeof(f->name), "f%u", (unsigned int)i);
		f->src.family = NASCAR_FAM_V4;
		f->src.len = 32;
		f->src.addr[0] = 172;
		f->src.addr[1] = 16;
		f->src.addr[3] = 42;
		f->dst.family = NASCAR_FAM_V4;
		f->dst.len = 24;
		f->dst.addr[0] = 10;
		f->dst.addr[2] = (uint8_t)(i % 200);
		f->proto = 17;
		f->sport_hi = 65535;
		f->dport_lo = f->dport_hi = (uint16_t)(20000 + i);
		f->in_iface = POL_IFACE_ANY;
		f->action = NASCAR_ACT_FORWARD;
		f->class_idx = 0;
	}
	p->default_action = NASCAR_ACT_STACK;
	p->default_class = POL_CLASS_NONE;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {1, 100, 4096};
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	long iters = quick ? 200000 : 2000000;
	int runs = quick ? 3 : 7;
	size_t s;

	printf("%-6s %-12s %12s %12s %12s\n", "flows", "compile_ms", "hit_last_ns", "miss_ns",
	       "iterations");
	for (s = 0; s < 3; s++) {
		struct policy p;
		struct nfc_image img;
		struct nfc_pkt hit, miss;
		struct nfc_verdict v;
		double t_hit[9], t_miss[9], t_comp[9];
		char err[256];
		void *buf;
		size_t size;
		int r;
		long i;
		volatile uint32_t sink = 0;

		make_policy(&p, sizes[s]);
		for (r = 0; r < runs; r++) {
			double t0 = now_ns();

			if (nfc_build(&p, &buf, &size, err, sizeof(err))) {
				fprintf(stderr, "build: %s\n", err);
				return 1;
			}
			t_comp[r] = (now_ns() - t0) / 1e6;
			if (r < runs - 1)
				free(buf);
		}
		if (nfc_parse(buf, size, &img, err, sizeof(err))) {
			fprintf(stderr, "parse: %s\n", err);
			return 1;
		}
		memset(&hit, 0, sizeof(hit));
		hit.family = NASCAR_FAM_V4;
		hit.proto = 17;
		hit.src[0] = 172;
		hit.src[1] = 16;
		hit.src[3] = 42;
		hit.dst[0] = 10;
		hit.dst[2] = (uint8_t)((sizes[s] - 1) % 200);
		hit.dst[3] = 9;
		hit.sport = 4000;
		hit.dport = (uint16_t)(20000 + sizes[s] - 1);
		miss = hit;
		miss.dport = 9;
		nfc_classify_id(&img, 0, &hit, &v);
		if (v.rule != sizes[s] - 1) {
			fprintf(stderr, "self-check failed: rule %u\n", v.rule);
			return 1;
		}
		for (r = 0; r < runs; r++) {
			double t0 = now_ns();

			for (i = 0; i < iters; i++) {
				nfc_classify_id(&img, 0, &hit, &v);
				sink += v.rule;
			}
			t_hit[r] = (now_ns() - t0) / iters;
			t0 = now_ns();
			for (i = 0; i < iters; i++) {
				nfc_classify_id(&img, 0, &miss, &v);
				sink += v.rule;
			}
			t_miss[r] = (now_ns() - t0) / iters;
		}
		qsort(t_hit, runs, sizeof(double), cmp_d);
		qsort(t_miss, runs, sizeof(double), cmp_d);
		qsort(t_comp, runs, sizeof(double), cmp_d);
		printf("%-6zu %-12.2f %12.1f %12.1f %12ld\n", sizes[s], t_comp[runs / 2],
		       t_hit[runs / 2], t_miss[runs / 2], iters);
		nfc_image_free(&img);
		policy_free(&p);
	}
	return 0;
}
