// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_sched.c - the pure half of Nascar's egress scheduler (runtime/sched.c):
 * which interfaces get it, and the tc script that builds it.  No root, no tc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nfc.h"
#include "../../runtime/sched.h"

static struct nfc_class cls[3];
static struct nfc_ifqos qos[2];

/* control (7, no rate), bulk (1, 20 Mbit/s shaped), camera (5, 30 Mbit/s
 * police); interface 0 a guest, 1 an uplink at 100 Mbit/s. */
static void image(struct nfc_image *img, int with_qos)
{
	memset(img, 0, sizeof(*img));
	memset(cls, 0, sizeof(cls));
	memset(qos, 0, sizeof(qos));
	strcpy(cls[0].name, "control");
	cls[0].val.priority = 7;
	strcpy(cls[1].name, "bulk");
	cls[1].val.priority = 1;
	cls[1].val.rate = 20000000 / 8;
	cls[1].val.burst = 25000;
	strcpy(cls[2].name, "camera");
	cls[2].val.priority = 5;
	cls[2].val.rate = 30000000 / 8;
	cls[2].val.burst = 37500;
	cls[2].val.flags = NASCAR_CLASS_POLICE;
	qos[1].rate = 100000000 / 8;
	img->classes = cls;
	img->nclasses = 3;
	img->nifaces = 2;
	img->ifqos = with_qos ? qos : NULL;
}

static void decide(void)
{
	struct nfc_image img;
	struct sched_plan sp;

	sched_fair_queueing_force(0);
	image(&img, 1);
	sched_decide(&img, 0, 0, &sp);
	CHECK(sp.want && !sp.line_rate && sp.nshaped == 1 && !sp.fq, "guest: %d %llu %d", sp.want,
	      (unsigned long long)sp.line_rate, sp.nshaped);
	sched_decide(&img, 1, 1, &sp);
	CHECK(sp.want && sp.line_rate == 12500000 && sp.split, "uplink: %d %llu", sp.want,
	      (unsigned long long)sp.line_rate);
	CHECK(strstr(sp.why, "100 Mbit/s") != NULL, "why: %s", sp.why);
	CHECK(strstr(sp.why, "tbf, super-packets split") != NULL && !sp.fq, "why: %s", sp.why);

	/* the kernel has fq_codel: virtual links get it as the leaf, split NIC
	 * leaves under their tbf */
	sched_fair_queueing_force(1);
	sched_decide(&img, 1, 1, &sp);
	CHECK(sp.split && sp.fq &&
		      strstr(sp.why, "fair queueing within a class (fq_codel), super-packets "
				     "split (tbf)") != NULL,
	      "split and fq: %s", sp.why);
	sched_decide(&img, 0, 0, &sp);
	CHECK(sp.fq && strstr(sp.why, "fair queueing within a class (fq_codel)") != NULL,
	      "fq: %d %s", sp.fq, sp.why);
	sched_fair_queueing_force(0);
	sched_decide(&img, 0, 0, &sp);
	CHECK(!sp.fq && strstr(sp.why, "no fq_codel") != NULL, "no fq: %s", sp.why);

	/* police; alone needs no scheduler */
	cls[1].val.flags = NASCAR_CLASS_POLICE;
	sched_decide(&img, 0, 0, &sp);
	CHECK(!sp.want && sp.nshaped == 0, "guest with police only: %d", sp.want);
	sched_decide(&img, 1, 0, &sp);
	CHECK(sp.want && !sp.split,
	      "uplink rate alone still wants it; a virtual link is not split");

	/* egress keep: never */
	image(&img, 1);
	qos[0].egress = NASCAR_EGRESS_KEEP;
	sched_decide(&img, 0, 0, &sp);
	CHECK(!sp.want && strstr(sp.why, "policed") != NULL, "keep: %d %s", sp.want, sp.why);

	/* a version-1 file: no IFQOS section, rates shape */
	image(&img, 0);
	sched_decide(&img, 1, 0, &sp);
	CHECK(sp.want && !sp.line_rate && sp.egress == NASCAR_EGRESS_AUTO, "v1: %d", sp.want);
}

static int has_line(const char *script, const char *want)
{
	return strstr(script, want) != NULL;
}

static void script(void)
{
	struct nfc_image img;
	struct sched_plan sp;
	char buf[8192], tiny[64];

	image(&img, 1);
	sched_decide(&img, 1, 1, &sp);
	CHECK(sched_script(&img, &sp, "eth0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "qdisc replace dev eth0 root handle 4e43: htb default 2\n"), "%s", buf);
	CHECK(has_line(buf, "classid 4e43:1 htb rate 100000000bit ceil 100000000bit\n"), "%s", buf);
	/* control: priority 7 -> HTB prio 0, ceil the line rate */
	CHECK(has_line(buf, "classid 4e43:100 htb rate "), "%s", buf);
	CHECK(has_line(buf, "ceil 100000000bit prio 0 quantum 3028\n"), "%s", buf);
	/* bulk: shaped at its rate, with its burst */
	CHECK(has_line(buf, "classid 4e43:101 htb rate 20000000bit ceil 20000000bit burst 25000 "
			    "cburst 25000 prio 6"),
	      "%s", buf);
	/* camera: police; -> not shaped by the qdisc, prio 2 */
	CHECK(has_line(buf, "classid 4e43:102 htb rate ") &&
		      !has_line(buf, "classid 4e43:102 htb rate 30000000bit ceil 30000000bit"),
	      "%s", buf);
	/* with a line rate every leaf is a tbf that splits super-packets:
	 * burst of two 1514-byte frames, queue of 100 ms at the rate (20 Mbit/s:
	 * 250000 bytes) */
	CHECK(has_line(buf, "parent 4e43:101 handle 4c02: tbf rate 40000000bit burst 3028 limit "
			    "250000 mtu 1514"),
	      "%s", buf);
	CHECK(has_line(buf, "parent 4e43:2 handle 4c00: tbf rate 200000000bit burst 3028 limit "
			    "1250000"),
	      "%s", buf);
	CHECK(!has_line(buf, "fq_codel"), "no fq_codel on this kernel: %s", buf);
	/* where the kernel has fq_codel it is the tbf's child: twice the byte
	 * bound (a frame's true size), a target of two frames (5 ms floor) */
	sched_fair_queueing_force(1);
	sched_decide(&img, 1, 1, &sp);
	CHECK(sched_script(&img, &sp, "eth0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:101 handle 4c02: tbf rate 40000000bit"), "%s", buf);
	CHECK(has_line(buf, "qdisc replace dev eth0 parent 4c02:1 fq_codel limit 10240 "
			    "memory_limit 500000 target 5000us interval 100000us\n"),
	      "%s", buf);
	CHECK(has_line(buf, "qdisc replace dev eth0 parent 4c00:1 fq_codel limit 10240 "
			    "memory_limit 2500000 target 5000us"),
	      "%s", buf);
	sched_fair_queueing_force(0);
	sched_decide(&img, 1, 1, &sp);

	/* a line rate on a virtual link: FIFO leaves, bounded at the line rate */
	sched_decide(&img, 1, 0, &sp);
	CHECK(sched_script(&img, &sp, "eth0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:101 bfifo limit 250000\n"), "%s", buf);
	CHECK(!has_line(buf, "tbf"), "%s", buf);

	/* without a line rate: FIFO leaves, the shaped one bounded */
	sched_decide(&img, 0, 0, &sp);
	CHECK(sched_script(&img, &sp, "tap0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:101 bfifo limit 250000\n"), "%s", buf);
	CHECK(has_line(buf, "parent 4e43:100 pfifo limit 1000\n"), "%s", buf);
	CHECK(!has_line(buf, "tbf"), "%s", buf);

	/* a slow class still queues two super-packets */
	cls[1].val.rate = 1000000 / 8;
	CHECK(sched_script(&img, &sp, "tap0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:101 bfifo limit 131072\n"), "%s", buf);

	CHECK(sched_script(&img, &sp, "tap0", 1500, 0, tiny, sizeof(tiny)) == -ENOSPC,
	      "a short buffer is refused");

	/* fq_codel leaves: shaped and line-rate leaves bounded by memory, with a
	 * target of two super-packets at the rate (20 Mbit/s: 52 ms, capped at
	 * 50), the unlimited ones with fq_codel's defaults */
	cls[1].val.rate = 20000000 / 8;
	sched_fair_queueing_force(1);
	sched_decide(&img, 0, 0, &sp);
	CHECK(sched_script(&img, &sp, "tap0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:101 fq_codel limit 10240 memory_limit 266384 "
			    "target 50000us interval 100000us\n"),
	      "%s", buf);
	CHECK(has_line(buf, "parent 4e43:100 fq_codel\n"), "%s", buf);
	CHECK(!has_line(buf, "fifo"), "%s", buf);
	sched_decide(&img, 1, 0, &sp); /* 100 Mbit/s line, virtual: 10.5 ms */
	CHECK(sched_script(&img, &sp, "eth0", 1500, 0, buf, sizeof(buf)) > 0, "script");
	CHECK(has_line(buf, "parent 4e43:100 fq_codel limit 10240 memory_limit 1266384 "
			    "target 10485us interval 100000us\n"),
	      "%s", buf);
	sched_fair_queueing_force(0);
	sched_decide(&img, 0, 0, &sp);

	/* an update of our own HTB: classes and leaves only */
	CHECK(sched_script(&img, &sp, "tap0", 1500, 1, buf, sizeof(buf)) > 0, "update");
	CHECK(!has_line(buf, "root handle") && has_line(buf, "classid 4e43:101 htb"), "%s", buf);
}

int main(void)
{
	TEST(decide);
	TEST(script);
	return TEST_EXIT();
}
