// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sched.c - Nascar's egress scheduler (see sched.h for its shape and why
 * it is built with tc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "nascar_abi.h"
#include "sched.h"

#define GSO_MAX 65536ULL

static void rate_text(char *buf, size_t len, __u64 bytes_per_s)
{
	double bits = (double)bytes_per_s * 8;

	if (bits >= 1e9)
		snprintf(buf, len, "%.4g Gbit/s", bits / 1e9);
	else if (bits >= 1e6)
		snprintf(buf, len, "%.4g Mbit/s", bits / 1e6);
	else
		snprintf(buf, len, "%.4g kbit/s", bits / 1e3);
}

static int shaped(const struct nascar_class *c)
{
	return c->rate && !(c->flags & NASCAR_CLASS_POLICE);
}

/* -1: not probed yet; tests pin it with sched_fair_queueing_force() */
static int fq_codel_ok = -1;

void sched_fair_queueing_force(int on)
{
	fq_codel_ok = on;
}

/*
 * Can this kernel make an fq_codel qdisc (built in, or a module it loads on
 * demand)?  Asked the only way that is sure: a child in a network namespace
 * of its own puts one on its loopback device, so no device of the host is
 * touched.  No root (unshare fails): no.
 */
int sched_fair_queueing(void)
{
	int status;
	pid_t pid;

	if (fq_codel_ok >= 0)
		return fq_codel_ok;
	fq_codel_ok = 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		static const char *const argv[] = {"tc", "qdisc", "add",      "dev",
						   "lo", "root",  "fq_codel", NULL};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		execvp("tc", (char *const *)argv);
		execv("/usr/sbin/tc", (char *const *)argv);
		execv("/sbin/tc", (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	fq_codel_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	return fq_codel_ok;
}

void sched_decide(const struct nfc_image *img, size_t i, int real_link, struct sched_plan *sp)
{
	const struct nfc_ifqos *q = img->ifqos ? &img->ifqos[i] : NULL;
	char r[32];
	const char *within;

	memset(sp, 0, sizeof(*sp));
	sp->egress = q ? q->egress : NASCAR_EGRESS_AUTO;
	sp->line_rate = q ? q->rate : 0;
	for (size_t c = 0; c < img->nclasses; c++)
		sp->nshaped += shaped(&img->classes[c].val);
	if (sp->egress == NASCAR_EGRESS_KEEP) {
		snprintf(
			sp->why, sizeof(sp->why),
			"egress keep: its qdisc is left alone (priorities reach it as skb->priority%s)",
			sp->nshaped ? "; shaped classes are policed on the way out" : "");
		return;
	}
	if (!sp->line_rate && !sp->nshaped)
		return;
	sp->want = 1;
	sp->split = sp->line_rate && real_link;
	sp->fq = sched_fair_queueing();
	within =
		sp->split && sp->fq
			? "; fair queueing within a class (fq_codel), super-packets split (tbf)"
		: sp->split
			? "; one queue a class (tbf, super-packets split; this kernel has no fq_codel)"
		: sp->fq ? "; fair queueing within a class (fq_codel)"
			 : "; one FIFO a class (this kernel has no fq_codel)";
	if (sp->line_rate) {
		rate_text(r, sizeof(r), sp->line_rate);
		snprintf(sp->why, sizeof(sp->why),
			 "Nascar's scheduler: at most %s, by class priority%s%s", r,
			 sp->nshaped ? ", shaped classes delayed to their rates" : "", within);
	} else {
		snprintf(sp->why, sizeof(sp->why),
			 "Nascar's scheduler: %d shaped class%s delayed to %s rate%s here%s",
			 sp->nshaped, sp->nshaped == 1 ? "" : "es",
			 sp->nshaped == 1 ? "its" : "their", sp->nshaped == 1 ? "" : "s", within);
	}
}

/* Queue limit in bytes: SCHED_BOUND_MS at the rate, at least two
 * super-packets. */
static __u64 queue_limit(__u64 rate)
{
	__u64 b = rate * SCHED_BOUND_MS / 1000;

	return b < 2 * GSO_MAX ? 2 * GSO_MAX : b;
}

struct sbuf {
	char *p;
	size_t len, used;
	int over;
};

static void put(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->p + s->used, s->len - s->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->len - s->used)
		s->over = 1;
	else
		s->used += (size_t)n;
}

/*
 * fq_codel's target delay for a queue drained at rate: 5 ms (its default),
 * or the time two of its largest packets (unit: a super-packet, or a frame
 * when tbf splits them first) take at that rate when that is longer (at
 * 20 Mbit/s one 64 KB frame alone takes 26 ms: a smaller target would drop
 * TCP's super-packets for being large, not for a standing queue), at most
 * half of SCHED_BOUND_MS.
 */
static unsigned int codel_target_us(__u64 rate, __u64 unit)
{
	__u64 us = 2 * unit * 1000000 / (rate ? rate : 1);

	if (us < 5000)
		us = 5000;
	if (us > SCHED_BOUND_MS * 1000 / 2)
		us = SCHED_BOUND_MS * 1000 / 2;
	return (unsigned int)us;
}

/* The handle of the tbf leaf under class minor (0x4c00..0x4d00: apart
 * from NASCAR_SCHED_MAJOR and from the kernel's automatic 8000: on), so
 * that its child can be named. */
#define SCHED_SPLIT_MAJOR(minor) \
	(0x4c00U +               \
	 ((minor) == NASCAR_SCHED_MINOR_DEFAULT ? 0 : (minor)-NASCAR_SCHED_MINOR_CLASS0 + 1))

/* The leaf under class minor: tbf splitting super-packets on a real link
 * with a line rate; else fq_codel where the kernel has it (fair between
 * the flows of one class), or a FIFO; bounded when a rate of ours can make
 * packets wait.  fq_codel counts memory as the skbs' true size (a 64 KB
 * super-packet from a tap is some 2 KB more than its length), so its
 * memory_limit gets 16 KB over the FIFO's byte limit to hold the same two
 * super-packets; CoDel keeps its standing queue near the target anyway.
 * Under a tbf (which splits before its child sees the packet) the
 * fq_codel queues frames, whose true size can be half again their length:
 * twice the byte bound, and a target of two frames. */
static void leaf(struct sbuf *s, const char *dev, unsigned int minor, __u64 ceil, int line, int fq,
		 int bounded, int mtu)
{
	unsigned int frame = (unsigned int)(mtu > 0 ? mtu : 1500) + 14;

	if (line) {
		unsigned int h = SCHED_SPLIT_MAJOR(minor);

		put(s,
		    "qdisc replace dev %s parent %x:%x handle %x: tbf rate %llubit burst %u limit %llu mtu %u\n",
		    dev, NASCAR_SCHED_MAJOR, minor, h, (unsigned long long)(2 * ceil * 8),
		    2 * frame, (unsigned long long)queue_limit(ceil), frame);
		if (fq)
			put(s,
			    "qdisc replace dev %s parent %x:1 fq_codel limit 10240 memory_limit %llu target %uus interval %uus\n",
			    dev, h, (unsigned long long)(2 * queue_limit(ceil)),
			    codel_target_us(ceil, frame), SCHED_BOUND_MS * 1000);
	} else if (fq && bounded) {
		put(s,
		    "qdisc replace dev %s parent %x:%x fq_codel limit 10240 memory_limit %llu target %uus interval %uus\n",
		    dev, NASCAR_SCHED_MAJOR, minor, (unsigned long long)queue_limit(ceil) + 16384,
		    codel_target_us(ceil, GSO_MAX), SCHED_BOUND_MS * 1000);
	} else if (fq) {
		put(s, "qdisc replace dev %s parent %x:%x fq_codel\n", dev, NASCAR_SCHED_MAJOR,
		    minor);
	} else if (bounded) { /* something of ours limits it: bound the wait */
		put(s, "qdisc replace dev %s parent %x:%x bfifo limit %llu\n", dev,
		    NASCAR_SCHED_MAJOR, minor, (unsigned long long)queue_limit(ceil));
	} else { /* nothing of ours limits it: the device's own queue length */
		put(s, "qdisc replace dev %s parent %x:%x pfifo limit 1000\n", dev,
		    NASCAR_SCHED_MAJOR, minor);
	}
}

int sched_script(const struct nfc_image *img, const struct sched_plan *sp, const char *dev, int mtu,
		 int update, char *buf, size_t len)
{
	struct sbuf s = {.p = buf, .len = len};
	__u64 top = sp->line_rate ? sp->line_rate : SCHED_NO_LINE_RATE;
	/* a small guaranteed share for every class that is not shaped: what
	 * is left of the link goes to them strictly by priority (HTB lends
	 * to the lowest prio number first) */
	__u64 share = top / (8 * (img->nclasses + 1));
	unsigned int quantum = 2 * ((unsigned int)(mtu > 0 ? mtu : 1500) + 14);
	int line = sp->split;

	if (share < 1000)
		share = 1000;
	if (len)
		buf[0] = '\0';
	if (!update)
		put(&s, "qdisc replace dev %s root handle %x: htb default %x\n", dev,
		    NASCAR_SCHED_MAJOR, NASCAR_SCHED_MINOR_DEFAULT);
	put(&s, "class replace dev %s parent %x: classid %x:%x htb rate %llubit ceil %llubit\n",
	    dev, NASCAR_SCHED_MAJOR, NASCAR_SCHED_MAJOR, NASCAR_SCHED_MINOR_ROOT,
	    (unsigned long long)(top * 8), (unsigned long long)(top * 8));
	put(&s,
	    "class replace dev %s parent %x:%x classid %x:%x htb rate %llubit ceil %llubit prio 7 quantum %u\n",
	    dev, NASCAR_SCHED_MAJOR, NASCAR_SCHED_MINOR_ROOT, NASCAR_SCHED_MAJOR,
	    NASCAR_SCHED_MINOR_DEFAULT, (unsigned long long)(share * 8),
	    (unsigned long long)(top * 8), quantum);
	leaf(&s, dev, NASCAR_SCHED_MINOR_DEFAULT, top, line, sp->fq, sp->line_rate != 0, mtu);
	for (size_t c = 0; c < img->nclasses; c++) {
		const struct nascar_class *v = &img->classes[c].val;
		unsigned int minor = NASCAR_SCHED_MINOR_CLASS0 + (unsigned int)c;
		__u64 rate = share, ceil = top;

		if (shaped(v)) {
			rate = ceil = v->rate < top ? v->rate : top;
			put(&s,
			    "class replace dev %s parent %x:%x classid %x:%x htb rate %llubit ceil %llubit burst %u cburst %u prio %u quantum %u\n",
			    dev, NASCAR_SCHED_MAJOR, NASCAR_SCHED_MINOR_ROOT, NASCAR_SCHED_MAJOR,
			    minor, (unsigned long long)(rate * 8), (unsigned long long)(ceil * 8),
			    v->burst, v->burst, 7u - (v->priority & 7), quantum);
		} else {
			put(&s,
			    "class replace dev %s parent %x:%x classid %x:%x htb rate %llubit ceil %llubit prio %u quantum %u\n",
			    dev, NASCAR_SCHED_MAJOR, NASCAR_SCHED_MINOR_ROOT, NASCAR_SCHED_MAJOR,
			    minor, (unsigned long long)(rate * 8), (unsigned long long)(ceil * 8),
			    7u - (v->priority & 7), quantum);
		}
		leaf(&s, dev, minor, ceil, line, sp->fq, shaped(v) || sp->line_rate, mtu);
	}
	return s.over ? -ENOSPC : (int)s.used;
}

/* ---- running tc ---------------------------------------------------------- */

/* Runs iproute2's prog ("tc" or "ip") with args; see sched_run_tc(). */
static int run_prog(const char *prog, const char *const *args, const char *input, char *out,
		    size_t outlen)
{
	const char *argv[40];
	int in[2], outp[2], status, n = 0;
	size_t used = 0;
	pid_t pid;

	argv[n++] = prog;
	while (*args && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (outlen)
		out[0] = '\0';
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		return e;
	}
	if (pid == 0) {
		static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/"};

		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		execvp(prog, (char *const *)argv);
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			char path[64];

			snprintf(path, sizeof(path), "%s%s", dirs[i], prog);
			execv(path, (char *const *)argv);
		}
		fprintf(stderr, "cannot run %s (iproute2): %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	if (input) {
		size_t left = strlen(input);
		const char *p = input;
		struct sigaction sa = {.sa_handler = SIG_IGN}, old;

		sigaction(SIGPIPE, &sa, &old);
		while (left) {
			ssize_t w = write(in[1], p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	for (;;) {
		char tmp[4096];
		ssize_t r = read(outp[0], tmp, sizeof(tmp));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (outlen && used < outlen - 1) {
			size_t k = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;

			memcpy(out + used, tmp, k);
			used += k;
			out[used] = '\0';
		}
	}
	close(outp[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status);
}

int sched_run_tc(const char *const *args, const char *input, char *out, size_t outlen)
{
	return run_prog("tc", args, input, out, outlen);
}

/* The first line of tc's output, for an error message. */
static const char *first_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl)
		*nl = '\0';
	return s[0] ? s : "no message";
}

int sched_root(const char *dev, struct sched_root *r, char *err, size_t errlen)
{
	const char *args[] = {"qdisc", "show", "dev", dev, NULL};
	char *line, *save = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = sched_run_tc(args, NULL, r->text, sizeof(r->text));
	if (rc != 0) {
		snprintf(err, errlen, "cannot read the qdiscs of %s with tc: %s", dev,
			 rc < 0 ? strerror(-rc) : first_line(r->text));
		return rc < 0 ? rc : -EIO;
	}
	r->is_default = 1;
	{
		char copy[sizeof(r->text)];

		memcpy(copy, r->text, sizeof(copy));
		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char kind[32], handle[16], where[16];

			if (sscanf(line, "qdisc %31s %15s %15s", kind, handle, where) != 3)
				continue;
			/* clsact / ingress sit beside the root, not under it */
			if (!strcmp(kind, "clsact") || !strcmp(kind, "ingress"))
				continue;
			if (strcmp(handle, "0:") != 0)
				r->is_default = 0;
			if (!strcmp(where, "root")) {
				snprintf(r->kind, sizeof(r->kind), "%s", kind);
				snprintf(r->handle, sizeof(r->handle), "%s", handle);
			}
		}
	}
	if (!r->kind[0]) /* tc prints nothing for a device with no qdisc at all */
		snprintf(r->kind, sizeof(r->kind), "noqueue");
	{
		char ours[16];

		snprintf(ours, sizeof(ours), "%x:", NASCAR_SCHED_MAJOR);
		r->ours = !strcmp(r->kind, "htb") && !strcmp(r->handle, ours);
	}
	if (r->ours)
		r->is_default = 0;
	return 0;
}

int sched_install(const char *dev, const char *script, char *err, size_t errlen)
{
	const char *args[] = {"-batch", "-", NULL};
	char out[2048];
	int rc = sched_run_tc(args, script, out, sizeof(out));

	(void)dev;
	if (rc == 0)
		return 0;
	snprintf(err, errlen, "%s", rc < 0 ? strerror(-rc) : first_line(out));
	return rc < 0 ? rc : -EIO;
}

int sched_remove(const char *dev, char *err, size_t errlen)
{
	struct sched_root r;
	const char *args[] = {"qdisc", "del", "dev", dev, "root", NULL};
	char out[1024];
	int rc = sched_root(dev, &r, err, errlen);

	if (rc < 0)
		return rc;
	if (!r.ours)
		return 0;
	rc = sched_run_tc(args, NULL, out, sizeof(out));
	if (rc == 0)
		return 0;
	snprintf(err, errlen, "cannot remove Nascar's scheduler from %s: %s", dev,
		 rc < 0 ? strerror(-rc) : first_line(out));
	return rc < 0 ? rc : -EIO;
}

/* "64Kb", "1514b", "2Mb" as tc prints sizes. */
static __u64 tc_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end == 'K')
		v *= 1024;
	else if (*end == 'M')
		v *= 1024 * 1024;
	else if (*end == 'G')
		v *= 1024.0 * 1024 * 1024;
	return (__u64)v;
}

/*
 * An HTB class counts only the packets its leaf refused on enqueue; a leaf
 * that drops later (fq_codel: CoDel on dequeue, or the fattest flow's
 * packets on overflow) counts them in its own statistics.  Every leaf's
 * own count includes what it refused, so the larger of the two is the
 * class's drops.
 *   qdisc fq_codel 8003: parent 4e43:101 limit 10240p flows 1024 ...
 *    Sent 123 bytes 4 pkt (dropped 0, overlimits 0 requeues 0)
 */
static void leaf_drops(const char *dev, struct sched_class *cls, size_t n, char *buf, size_t len)
{
	const char *args[] = {"-s", "qdisc", "show", "dev", dev, NULL};
	struct sched_class *c = NULL;
	char *line, *save = NULL;

	if (sched_run_tc(args, NULL, buf, len) != 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned int major, minor;
		unsigned long long a, b, d;
		char kind[32], handle[16];

		if (!strncmp(line, "qdisc ", 6)) {
			c = NULL;
			if (sscanf(line, "qdisc %31s %15s parent %x:%x", kind, handle, &major,
				   &minor) != 4 ||
			    major != NASCAR_SCHED_MAJOR)
				continue;
			for (size_t i = 0; i < n && !c; i++)
				if (cls[i].minor == minor)
					c = &cls[i];
		} else if (c && sscanf(line, " Sent %llu bytes %llu pkt (dropped %llu", &a, &b,
				       &d) == 3) {
			if (d > c->drops)
				c->drops = d;
			c = NULL;
		}
	}
}

/*
 * `tc -s class show` (iproute2 6.1 prints no JSON for classes):
 *   class htb 4e43:100 parent 4e43:1 leaf 8001: prio 0 rate ...
 *    Sent 123 bytes 4 pkt (dropped 0, overlimits 0 requeues 0)
 *    backlog 0b 0p requeues 0
 */
int sched_classes(const char *dev, struct sched_class *out, size_t max)
{
	const char *args[] = {"-s", "class", "show", "dev", dev, NULL};
	static char buf[1 << 18];
	struct sched_class *c = NULL;
	char *line, *save = NULL;
	size_t n = 0;
	int rc;

	rc = sched_run_tc(args, NULL, buf, sizeof(buf));
	if (rc != 0)
		return rc < 0 ? rc : -EIO;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned int major, minor;
		unsigned long long a, b, d, ov;
		char bl[32], bp[32];

		if (sscanf(line, "class htb %x:%x", &major, &minor) == 2) {
			c = NULL;
			if (major != NASCAR_SCHED_MAJOR || n >= max)
				continue;
			c = &out[n++];
			memset(c, 0, sizeof(*c));
			c->minor = minor;
		} else if (!c) {
			continue;
		} else if (sscanf(line, " Sent %llu bytes %llu pkt (dropped %llu, overlimits %llu",
				  &a, &b, &d, &ov) == 4) {
			c->bytes = a;
			c->pkts = b;
			c->drops = d;
			c->overlimits = ov;
		} else if (sscanf(line, " backlog %31s %31s", bl, bp) == 2) {
			c->backlog_bytes = tc_size(bl);
			c->backlog_pkts = strtoull(bp, NULL, 10);
		}
	}
	leaf_drops(dev, out, n, buf, sizeof(buf));
	return (int)n;
}

int sched_prune(const char *dev, const struct nfc_image *img, char *err, size_t errlen)
{
	struct sched_class cls[NASCAR_MAX_CLASSES + 8];
	int n = sched_classes(dev, cls, sizeof(cls) / sizeof(cls[0]));

	if (n < 0) {
		snprintf(err, errlen, "cannot list the classes of %s: %s", dev, strerror(-n));
		return n;
	}
	for (int i = 0; i < n; i++) {
		char id[32], out[512];
		const char *args[] = {"class", "del", "dev", dev, "classid", id, NULL};
		int rc;

		if (cls[i].minor < NASCAR_SCHED_MINOR_CLASS0 ||
		    cls[i].minor - NASCAR_SCHED_MINOR_CLASS0 < img->nclasses)
			continue;
		snprintf(id, sizeof(id), "%x:%x", NASCAR_SCHED_MAJOR, cls[i].minor);
		rc = sched_run_tc(args, NULL, out, sizeof(out));
		if (rc != 0) {
			snprintf(err, errlen, "cannot remove class %s from %s: %s", id, dev,
				 rc < 0 ? strerror(-rc) : first_line(out));
			return rc < 0 ? rc : -EIO;
		}
	}
	return 0;
}

/* ---- 802.1Q priority --------------------------------------------------- */

/* "egress-qos-map { 1:2 3:4 }" in `ip -d link show`: "1:2 3:4". */
static int vlan_current_map(const char *dev, char *map, size_t len, char *err, size_t errlen)
{
	const char *args[] = {"-d", "link", "show", "dev", dev, NULL};
	char out[4096];
	const char *p, *e;
	int rc = run_prog("ip", args, NULL, out, sizeof(out));

	map[0] = '\0';
	if (rc != 0) {
		snprintf(err, errlen, "cannot read %s with ip: %s", dev,
			 rc < 0 ? strerror(-rc) : first_line(out));
		return rc < 0 ? rc : -EIO;
	}
	p = strstr(out, "egress-qos-map {");
	if (!p)
		return 0;
	p += strlen("egress-qos-map {");
	e = strchr(p, '}');
	if (!e)
		return 0;
	while (p < e && *p == ' ')
		p++;
	while (e > p && e[-1] == ' ')
		e--;
	snprintf(map, len, "%.*s", (int)(e - p), p);
	return 0;
}

/* ip link set dev DEV type vlan egress-qos-map FROM:TO ... (one call). */
static int vlan_set(const char *dev, char pairs[][32], size_t n, char *err, size_t errlen)
{
	const char *args[40];
	char out[1024];
	size_t k = 0;
	int rc;

	args[k++] = "link";
	args[k++] = "set";
	args[k++] = "dev";
	args[k++] = dev;
	args[k++] = "type";
	args[k++] = "vlan";
	args[k++] = "egress-qos-map";
	for (size_t i = 0; i < n && k < 39; i++)
		args[k++] = pairs[i];
	args[k] = NULL;
	rc = run_prog("ip", args, NULL, out, sizeof(out));
	if (rc == 0)
		return 0;
	snprintf(err, errlen, "cannot set the egress-qos-map of %s: %s", dev,
		 rc < 0 ? strerror(-rc) : first_line(out));
	return rc < 0 ? rc : -EIO;
}

int sched_vlan_map(const char *dev, const struct nfc_image *img, int with_sched, char *prev,
		   size_t prevlen, char *err, size_t errlen)
{
	char pairs[8 + 32][32];
	size_t n = 0;
	int rc = vlan_current_map(dev, prev, prevlen, err, errlen);

	if (rc < 0)
		return rc;
	for (unsigned int p = 0; p < 8; p++)
		snprintf(pairs[n++], sizeof(pairs[0]), "%u:%u", p, p);
	for (size_t c = 0; with_sched && c < img->nclasses; c++) {
		snprintf(pairs[n++], sizeof(pairs[0]), "%u:%u", NASCAR_SCHED_CLASSID(c),
			 img->classes[c].val.priority & 7);
		if (n == 30) { /* ip takes them in several calls */
			rc = vlan_set(dev, pairs, n, err, errlen);
			if (rc < 0)
				return rc;
			n = 0;
		}
	}
	return n ? vlan_set(dev, pairs, n, err, errlen) : 0;
}

int sched_vlan_restore(const char *dev, const char *prev, char *err, size_t errlen)
{
	char pairs[8 + 32][32], cur[512];
	size_t n = 0;
	char *tok, *save = NULL, *copy;
	int rc = vlan_current_map(dev, cur, sizeof(cur), err, errlen);

	if (rc < 0)
		return rc;
	/* every key there now back to what it was, 0 (no mapping) if none */
	copy = strdup(cur);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		unsigned int from = 0, to = 0, was = 0;
		char want[32];
		const char *hit;

		if (sscanf(tok, "%u:%u", &from, &to) != 2)
			continue;
		snprintf(want, sizeof(want), "%u:", from);
		hit = strstr(prev, want);
		if (hit && (hit == prev || hit[-1] == ' ' || hit[-1] == ','))
			sscanf(hit + strlen(want), "%u", &was);
		if (was == to)
			continue;
		snprintf(pairs[n++], sizeof(pairs[0]), "%u:%u", from, was);
		if (n == 30) {
			rc = vlan_set(dev, pairs, n, err, errlen);
			if (rc < 0) {
				free(copy);
				return rc;
			}
			n = 0;
		}
	}
	free(copy);
	return n ? vlan_set(dev, pairs, n, err, errlen) : 0;
}
