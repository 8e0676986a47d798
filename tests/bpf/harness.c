// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * harness.c - main() of bpf_tests and the shared helpers (see harness.h).
 *   bpf_tests [all|maps|packets|modes|qos|diff N|bench ...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "../../runtime/load.h"
#include "../../runtime/probe.h"
#include "nascar.skel.h"

const char *nascarc_path;
int n_pass, n_fail, n_skip;

/* failed expectations since the last result line, and how many were printed */
static int expect_pending, expect_printed;

void expect_failed(const char *file, int line, const char *what)
{
	if (expect_printed++ < EXPECT_REPORT_MAX)
		fprintf(stderr, "  %s:%d: expected %s\n", file, line, what);
	expect_pending++;
}

void expect_failed_eq(const char *file, int line, const char *what, long long got, long long want)
{
	if (expect_printed++ < EXPECT_REPORT_MAX)
		fprintf(stderr, "  %s:%d: expected %s (got %lld, want %lld)\n", file, line, what,
			got, want);
	expect_pending++;
}

void result(const char *name, int ok)
{
	if (expect_printed > EXPECT_REPORT_MAX)
		fprintf(stderr, "  (%d more failed expectations not shown)\n",
			expect_printed - EXPECT_REPORT_MAX);
	if (expect_pending)
		ok = 0;
	expect_pending = 0;
	expect_printed = 0;
	printf("%s: %s\n", ok ? "PASS" : "FAIL", name);
	fflush(stdout);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

void results_finish(void)
{
	if (expect_pending)
		result("expectations after the last result line", 0);
}

int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/*
 * Set a permanent IPv4 neighbour entry with one rtnetlink request, in this
 * process: the same as `ip neigh replace A lladdr M dev D nud permanent`
 * without a fork and exec, which under emulation can take longer than a
 * timing-sensitive test allows between two packets.
 */
int neigh_set4(const char *dev, const char *addr, const __u8 mac[6])
{
	struct {
		struct nlmsghdr nh;
		struct ndmsg nd;
		char attrs[64];
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct rtattr *rta;
	struct in_addr a;
	int fd, err;

	if (inet_pton(AF_INET, addr, &a) != 1 || !if_nametoindex(dev))
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.nd));
	req.nh.nlmsg_type = RTM_NEWNEIGH;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	req.nd.ndm_family = AF_INET;
	req.nd.ndm_ifindex = (int)if_nametoindex(dev);
	req.nd.ndm_state = NUD_PERMANENT;
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = NDA_DST;
	rta->rta_len = RTA_LENGTH(sizeof(a));
	memcpy(RTA_DATA(rta), &a, sizeof(a));
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	rta = (struct rtattr *)((char *)&req + req.nh.nlmsg_len);
	rta->rta_type = NDA_LLADDR;
	rta->rta_len = RTA_LENGTH(6);
	memcpy(RTA_DATA(rta), mac, 6);
	req.nh.nlmsg_len += RTA_ALIGN(rta->rta_len);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	else if (recv(fd, &ack, sizeof(ack), 0) < (ssize_t)sizeof(ack))
		err = -EIO;
	else
		err = ack.nh.nlmsg_type == NLMSG_ERROR ? ack.err.error : -EIO;
	close(fd);
	return err;
}

void parse_mac(const char *s, __u8 mac[6])
{
	unsigned int v[6] = {0};
	int i;

	sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)v[i];
}

static int get_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

int env_open(struct env *e, __u32 debug_flags)
{
	static const char *names[3] = {"nsc0", "nsc1", "nsc2"};
	int i, err;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 3; i++) {
		e->ifx[i] = (int)if_nametoindex(names[i]);
		if (!e->ifx[i] || get_mac(names[i], e->mac[i])) {
			fprintf(stderr, "interface %s missing: run through test_bpf.sh\n",
				names[i]);
			return -ENODEV;
		}
	}
	e->skel = nascar_bpf__open();
	if (!e->skel)
		return -errno;
	e->skel->rodata->nascar_debug = debug_flags;
	e->skel->rodata->nascar_fib_ttl_jiffies = NASCAR_FIB_TTL_JIFFIES(probe_kernel_hz());
	e->fib_ttl_ns = (long long)e->skel->rodata->nascar_fib_ttl_jiffies * 1000000000LL /
			(probe_kernel_hz() ? probe_kernel_hz() : 1000);
	err = load_size_maps(e->skel->obj);
	if (err)
		fprintf(stderr, "load_size_maps: %s\n", strerror(-err));
	else if ((err = nascar_bpf__load(e->skel)))
		fprintf(stderr, "nascar_bpf__load: %s\n", strerror(-err));
	if (err) {
		nascar_bpf__destroy(e->skel);
		e->skel = NULL;
		return err;
	}
	err = fill_maps_from_obj(&e->m, e->skel->obj);
	if (err)
		return err;
	e->prog_xdp = bpf_program__fd(e->skel->progs.nascar_xdp);
	e->prog_tc = bpf_program__fd(e->skel->progs.nascar_tc);
	for (i = 0; i < 3; i++)
		if (fill_devmap_add(&e->m, e->ifx[i]))
			fprintf(stderr, "devmap add %s failed\n", names[i]);
	snprintf(e->tmpdir, sizeof(e->tmpdir), "/tmp/nscbpf-XXXXXX");
	if (!mkdtemp(e->tmpdir))
		return -errno;
	e->slot = 1; /* the first env_policy fills slot 0 */
	return 0;
}

void env_close(struct env *e)
{
	if (e->have_img)
		nfc_image_free(&e->img);
	e->have_img = 0;
	if (e->skel)
		nascar_bpf__destroy(e->skel);
	e->skel = NULL;
	if (e->tmpdir[0])
		sh("rm -rf %s", e->tmpdir);
	e->tmpdir[0] = 0;
}

static int env_fill(struct env *e, const __u8 *attach_flags)
{
	static const char *names[3] = {"nsc0", "nsc1", "nsc2"};
	int ifx[NASCAR_MAX_IFACES];
	char err[256];
	size_t i;
	int j, slot = !e->slot, rc;

	for (i = 0; i < e->img.nifaces; i++) {
		ifx[i] = 0;
		for (j = 0; j < 3; j++)
			if (!strncmp(e->img.ifaces[i].name, names[j], NASCAR_IFNAMSIZ))
				ifx[i] = e->ifx[j];
	}
	rc = fill_slot_ex(&e->m, &e->img, slot, ifx, attach_flags, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fill_slot: %s\n", err);
		return rc;
	}
	rc = fill_switch(&e->m, slot, e->gen + 1);
	if (rc)
		return rc;
	e->gen++;
	e->slot = slot;
	return 0;
}

int env_policy(struct env *e, const char *text, const __u8 *attach_flags)
{
	char src[128], out[128], err[256];
	FILE *f;
	int rc;

	snprintf(src, sizeof(src), "%s/p.nflow", e->tmpdir);
	snprintf(out, sizeof(out), "%s/p.nfc", e->tmpdir);
	f = fopen(src, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	fclose(f);
	rc = sh("%s compile %s -o %s >%s/compile.log 2>&1", nascarc_path, src, out, e->tmpdir);
	if (rc) {
		fprintf(stderr, "nascarc compile failed:\n");
		sh("cat %s/compile.log >&2", e->tmpdir);
		return -EINVAL;
	}
	if (e->have_img)
		nfc_image_free(&e->img);
	e->have_img = 0;
	rc = nfc_load_file(out, &e->img, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "nfc_load_file: %s\n", err);
		return rc;
	}
	e->have_img = 1;
	return env_fill(e, attach_flags);
}

int env_reapply(struct env *e, const __u8 *attach_flags)
{
	return env_fill(e, attach_flags);
}

int run_xdp(struct env *e, int ifindex, const void *pkt, size_t len, struct run *r)
{
	struct xdp_md ctx_in = {.data_end = (__u32)len, .ingress_ifindex = (__u32)ifindex};
	struct xdp_md ctx_out = {0};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	int err = bpf_prog_test_run_opts(e->prog_xdp, &o);

	if (err)
		return -errno;
	r->retval = o.retval;
	r->outlen = o.data_size_out;
	r->metalen = ctx_out.data;
	r->priority = 0;
	return 0;
}

int run_tc(struct env *e, int ifindex, const void *pkt, size_t len, struct run *r)
{
	struct __sk_buff ctx_in = {0}, ctx_out = {0};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	int err;

	ctx_in.ifindex = (__u32)ifindex;
	err = bpf_prog_test_run_opts(e->prog_tc, &o);
	if (err)
		return -errno;
	r->retval = o.retval;
	r->outlen = o.data_size_out;
	r->metalen = 0;
	r->priority = ctx_out.priority;
	return 0;
}

void read_counters(int fd, __u32 idx, struct nascar_counters *c)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct nascar_counters v[256];
	size_t k;

	memset(c, 0, sizeof(*c));
	if (ncpu <= 0 || ncpu > 256 || bpf_map_lookup_elem(fd, &idx, v))
		return;
	for (i = 0; i < ncpu; i++)
		for (k = 0; k < sizeof(*c) / 8; k++)
			((__u64 *)c)[k] += ((__u64 *)&v[i])[k];
}

__u64 counters_pkts(const struct nascar_counters *c)
{
	__u64 n = 0;

	for (int what = 0; what < NASCAR_NCNT; what++)
		n += ((const __u64 *)c)[nascar_cnt_word((enum nascar_cnt)what)];
	return n;
}

struct nascar_counters fcnt(struct env *e, __u32 rule)
{
	struct nascar_counters c;

	read_counters(e->m.fd[NASCAR_M_FSTATS], nascar_rule_idx((__u32)e->slot, rule), &c);
	return c;
}

/* A class's counters are its rules' (as nascar-apply stats adds them up):
 * the data path counts per rule only. */
struct nascar_counters ccnt(struct env *e, __u32 cls)
{
	struct nascar_counters c, f;
	struct nascar_rule ru;

	memset(&c, 0, sizeof(c));
	for (__u32 rule = 0; rule < NASCAR_NRULES; rule++) {
		__u32 k = nascar_rule_idx((__u32)e->slot, rule);

		if (bpf_map_lookup_elem(e->m.fd[NASCAR_M_RULES], &k, &ru) || ru.class_id != cls)
			continue;
		read_counters(e->m.fd[NASCAR_M_FSTATS], k, &f);
		for (size_t w = 0; w < sizeof(c) / 8; w++)
			((__u64 *)&c)[w] += ((const __u64 *)&f)[w];
	}
	return c;
}

struct nascar_counters icnt(struct env *e, __u32 ifid)
{
	struct nascar_counters c;

	read_counters(e->m.fd[NASCAR_M_ISTATS], nascar_iface_idx((__u32)e->slot, ifid), &c);
	return c;
}

/* ---- packets ------------------------------------------------------------ */

static __u64 sum16(const __u8 *p, size_t n, __u64 s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u64)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (__u64)p[n - 1] << 8;
	return s;
}

static __u16 fold(__u64 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

int ip4_csum_ok(const __u8 *ip)
{
	return fold(sum16(ip, (size_t)(ip[0] & 15) * 4, 0)) == 0xffff;
}

/* pseudo-header sum (host order words) */
static __u64 pseudo(const __u8 *l3, int family, int proto, size_t l4len)
{
	__u64 s;

	if (family == 4)
		s = sum16(l3 + 12, 8, 0);
	else
		s = sum16(l3 + 8, 32, 0);
	return s + (__u64)proto + (__u64)l4len;
}

static int l4_check_off(int proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

size_t build_pkt(const struct pktspec *s, __u8 *buf)
{
	static const __u8 dmac[6] = {0x02, 0, 0, 0, 0xaa, 0x01};
	static const __u8 smac[6] = {0x02, 0, 0, 0, 0xbb, 0x02};
	size_t l3len, l4hdr, l4len, off = 14;
	__u8 *l3 = buf + 14, *l4;
	int proto = s->proto;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	l4hdr = proto == IPPROTO_TCP ? 20 : 8;
	l4len = l4hdr + (size_t)s->payload;
	if (s->family == 4) {
		buf[12] = 0x08;
		buf[13] = 0x00;
		l3len = 20 + l4len;
		memset(l3, 0, 20);
		l3[0] = 0x45;
		l3[1] = s->tos;
		l3[2] = (__u8)(l3len >> 8);
		l3[3] = (__u8)l3len;
		l3[4] = 0x12;
		l3[5] = 0x34;
		l3[8] = s->ttl;
		l3[9] = (__u8)proto;
		inet_pton(AF_INET, s->src, l3 + 12);
		inet_pton(AF_INET, s->dst, l3 + 16);
		{
			__u16 c = (__u16)~fold(sum16(l3, 20, 0));

			l3[10] = (__u8)(c >> 8);
			l3[11] = (__u8)c;
		}
		l4 = l3 + 20;
	} else {
		buf[12] = 0x86;
		buf[13] = 0xdd;
		l3len = 40 + l4len;
		memset(l3, 0, 40);
		l3[0] = (__u8)(0x60 | (s->tos >> 4));
		l3[1] = (__u8)(s->tos << 4);
		l3[4] = (__u8)(l4len >> 8);
		l3[5] = (__u8)l4len;
		l3[6] = (__u8)proto;
		l3[7] = s->ttl;
		inet_pton(AF_INET6, s->src, l3 + 8);
		inet_pton(AF_INET6, s->dst, l3 + 24);
		l4 = l3 + 40;
	}
	memset(l4, 0, l4hdr);
	{
		size_t i;

		for (i = 0; i < (size_t)s->payload; i++)
			l4[l4hdr + i] = (__u8)(i * 7 + 3);
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		l4[0] = (__u8)(s->sport >> 8);
		l4[1] = (__u8)s->sport;
		l4[2] = (__u8)(s->dport >> 8);
		l4[3] = (__u8)s->dport;
		if (proto == IPPROTO_UDP) {
			l4[4] = (__u8)(l4len >> 8);
			l4[5] = (__u8)l4len;
		} else {
			l4[12] = 0x50;
			l4[13] = 0x10; /* ACK */
			l4[15] = 0xff;
		}
	} else {
		l4[0] = s->icmp_type ? s->icmp_type : (s->family == 4 ? 8 : 128);
		l4[4] = 0x12;
		l4[6] = 0x00;
		l4[7] = 0x01;
	}
	{
		int co = l4_check_off(proto);
		__u64 ps = (proto == IPPROTO_ICMP) ? 0 : pseudo(l3, s->family, proto, l4len);
		__u16 c = (__u16)~fold(sum16(l4, l4len, ps));

		if (proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		if (s->bad_csum == 1)
			c ^= 0x5a5a;
		if (s->bad_csum == 2)
			c = fold(ps); /* what a guest with tx offload leaves */
		l4[co] = (__u8)(c >> 8);
		l4[co + 1] = (__u8)c;
		if (s->bad_csum == 3 && s->payload >= 2) {
			/* valid, yet the field equals the pseudo-header sum: the
			 * first payload word makes the sum come out right */
			__u16 t = fold(ps), x;

			l4[co] = (__u8)(t >> 8);
			l4[co + 1] = (__u8)t;
			l4[l4hdr] = l4[l4hdr + 1] = 0;
			x = (__u16)~fold(sum16(l4, l4len, ps));
			l4[l4hdr] = (__u8)(x >> 8);
			l4[l4hdr + 1] = (__u8)x;
		}
	}
	return off + l3len;
}

int l4_csum_ok(const __u8 *frame, size_t len)
{
	const __u8 *l3 = frame + 14, *l4;
	int family, proto;
	size_t l4len;
	__u64 ps;

	if (len < 34)
		return 0;
	if (frame[12] == 0x08) {
		family = 4;
		proto = l3[9];
		l4 = l3 + (l3[0] & 15) * 4;
		l4len = (size_t)(l3[2] << 8 | l3[3]) - (size_t)(l3[0] & 15) * 4;
	} else {
		family = 6;
		proto = l3[6];
		l4 = l3 + 40;
		l4len = (size_t)(l3[4] << 8 | l3[5]);
	}
	if (l4 + l4len > frame + len)
		return 0;
	ps = proto == IPPROTO_ICMP ? 0 : pseudo(l3, family, proto, l4len);
	return fold(sum16(l4, l4len, ps)) == 0xffff;
}

int main(int argc, char **argv)
{
	struct env e;
	const char *what = argc > 1 ? argv[1] : "all";
	int err, n = 10000;

	nascarc_path = getenv("NASCARC");
	if (!nascarc_path)
		nascarc_path = "build/nascarc";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(what, "bench"))
		return bench_main(argc - 1, argv + 1);
	if (argc > 2)
		n = atoi(argv[2]);

	err = env_open(&e, 0);
	if (err) {
		fprintf(stderr, "cannot load the BPF object: %s\n", strerror(-err));
		env_close(&e);
		return err == -ENODEV ? 2 : 1;
	}
	if (!strcmp(what, "all") || !strcmp(what, "maps"))
		test_maps(&e);
	if (!strcmp(what, "all") || !strcmp(what, "packets"))
		test_packets(&e);
	if (!strcmp(what, "all") || !strcmp(what, "modes"))
		test_modes(&e);
	if (!strcmp(what, "all") || !strcmp(what, "qos"))
		test_qos(&e);
	if (!strcmp(what, "all") || !strcmp(what, "diff"))
		test_diff(&e, n);
	env_close(&e);
	results_finish();
	printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;
}
