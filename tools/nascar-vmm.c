// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nascar-vmm: a tiny VMM emulator for the Nascar test rig.
 *
 * It opens tap devices the way Firecracker's virtio-net backend does
 * (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, a 12-byte virtio_net_hdr_v1,
 * TUNSETOFFLOAD, O_NONBLOCK, one thread) and either
 *
 *   forward  copies frames between two taps (e.g. tap0 in namespace gw and
 *            the "guest NIC" eth0 in namespace vm) with their virtio-net
 *            headers untouched, so GSO super-packets and partial checksums
 *            cross exactly as they would between a guest and its host, or
 *
 *   gen      writes pre-built 64-byte-payload UDP frames into one tap as fast
 *            as one thread can, as a guest would send them, and reports
 *            frames per second and the thread's CPU time per frame.
 *
 * Run `nascar-vmm --help` for the options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VNET_HDR_LEN 12 /* sizeof(struct virtio_net_hdr_v1) == mrg_rxbuf */
#define BUF_LEN (VNET_HDR_LEN + 65536 + 4096)
#define ETH_FRAME_MAX 1514 /* 1500-byte MTU plus the Ethernet header */
#define BURST 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("nascar-vmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- namespaces and taps ---------------------------------------------- */

static int orig_netns = -1;

static void enter_netns(const char *ns)
{
	char path[256];
	int fd;

	if (orig_netns < 0) {
		orig_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (orig_netns < 0)
			die("open /proc/self/ns/net: %s", strerror(errno));
	}
	if (!ns || !*ns)
		return;
	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
}

static void leave_netns(void)
{
	if (orig_netns >= 0 && setns(orig_netns, CLONE_NEWNET) < 0)
		die("setns back to the original namespace: %s", strerror(errno));
}

struct tap {
	const char *ns;
	const char *name;
	int fd;
	unsigned char mac[6];
};

/*
 * Open (attach to, or create) tap NAME inside namespace NS as Firecracker
 * does.  create: make it persistent (it then survives this process).
 */
static void tap_open(struct tap *t, int offload, int create, int up)
{
	struct ifreq ifr;
	unsigned int feat = 0;
	int hdr = VNET_HDR_LEN;
	int sock;

	enter_netns(t->ns);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		die("open /dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (strlen(t->name) >= IFNAMSIZ)
		die("interface name too long: %s", t->name);
	strncpy(ifr.ifr_name, t->name, IFNAMSIZ - 1);
	if (!create) {
		/* Attach only: refuse to make a new device by accident. */
		if (if_nametoindex(t->name) == 0)
			die("tap %s does not exist in namespace %s (use --create)", t->name,
			    t->ns ? t->ns : "(current)");
	}
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF %s in %s: %s", t->name, t->ns ? t->ns : "(current)",
		    strerror(errno));
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		die("TUNSETVNETHDRSZ %s: %s", t->name, strerror(errno));
	if (offload)
		feat = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(t->fd, TUNSETOFFLOAD, feat) < 0)
		die("TUNSETOFFLOAD %s: %s", t->name, strerror(errno));
	if (create && ioctl(t->fd, TUNSETPERSIST, 1) < 0)
		die("TUNSETPERSIST %s: %s", t->name, strerror(errno));

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		struct ifreq q;

		memset(&q, 0, sizeof(q));
		strncpy(q.ifr_name, t->name, IFNAMSIZ - 1);
		if (ioctl(sock, SIOCGIFHWADDR, &q) == 0)
			memcpy(t->mac, q.ifr_hwaddr.sa_data, 6);
		if (up && ioctl(sock, SIOCGIFFLAGS, &q) == 0 && !(q.ifr_flags & IFF_UP)) {
			q.ifr_flags |= IFF_UP;
			if (ioctl(sock, SIOCSIFFLAGS, &q) < 0)
				fprintf(stderr, "nascar-vmm: cannot set %s up: %s\n", t->name,
					strerror(errno));
		}
		close(sock);
	}
	leave_netns();
}

static void tap_close(struct tap *t, int unpersist)
{
	if (t->fd < 0)
		return;
	if (unpersist)
		ioctl(t->fd, TUNSETPERSIST, 0);
	close(t->fd);
	t->fd = -1;
}

/* ---- forward mode --------------------------------------------------- */

struct dir_stats {
	uint64_t frames, bytes; /* frames copied (bytes without vnet hdr) */
	uint64_t gso;		/* vnet hdr gso_type != NONE */
	uint64_t big;		/* frames longer than 1514 bytes */
	uint64_t max_len;	/* longest frame seen */
	uint64_t needs_csum;	/* VIRTIO_NET_HDR_F_NEEDS_CSUM set */
	uint64_t write_err;	/* writes that failed (frame dropped) */
	uint64_t write_eagain;	/* of which EAGAIN */
};

static void stats_line(FILE *f, const char *tag, const struct dir_stats *s)
{
	fprintf(f,
		"%s frames=%llu bytes=%llu gso=%llu big=%llu max_len=%llu needs_csum=%llu "
		"write_err=%llu eagain=%llu\n",
		tag, (unsigned long long)s->frames, (unsigned long long)s->bytes,
		(unsigned long long)s->gso, (unsigned long long)s->big,
		(unsigned long long)s->max_len, (unsigned long long)s->needs_csum,
		(unsigned long long)s->write_err, (unsigned long long)s->write_eagain);
}

static void write_stats_file(const char *path, const struct dir_stats *ab,
			     const struct dir_stats *ba, int running)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "state=%s pid=%d\n", running ? "running" : "stopped", (int)getpid());
	stats_line(f, "a_to_b", ab);
	stats_line(f, "b_to_a", ba);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}

/* Copy every frame waiting on src to dst (up to BURST); returns frames moved. */
static int pump(int src, int dst, unsigned char *buf, struct dir_stats *s)
{
	int n = 0;

	while (n < BURST) {
		ssize_t r = read(src, buf, BUF_LEN);
		const struct virtio_net_hdr_v1 *h = (const void *)buf;
		ssize_t w;
		uint64_t len;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN or a real error: poll again */
		}
		if (r < VNET_HDR_LEN)
			continue;
		len = (uint64_t)r - VNET_HDR_LEN;
		n++;
		if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			s->gso++;
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			s->needs_csum++;
		if (len > ETH_FRAME_MAX)
			s->big++;
		if (len > s->max_len)
			s->max_len = len;
		for (int tries = 0;; tries++) {
			w = write(dst, buf, (size_t)r);
			if (w >= 0 || errno != EAGAIN || tries >= 100)
				break;
			s->write_eagain++;
			{
				struct pollfd p = {.fd = dst, .events = POLLOUT};

				poll(&p, 1, 1);
			}
		}
		if (w != r) {
			s->write_err++;
			continue;
		}
		s->frames++;
		s->bytes += len;
	}
	return n;
}

struct fwd_opts {
	struct tap a, b;
	int offload, create, del_on_exit;
	double duration;
	const char *stats;
	int quiet;
};

static int do_forward(struct fwd_opts *o)
{
	struct dir_stats ab, ba;
	unsigned char *buf;
	double t0, last_write = 0;
	uint64_t seen = 0, seen_written = (uint64_t)-1;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	buf = malloc(BUF_LEN);
	if (!buf)
		die("out of memory");
	tap_open(&o->a, o->offload, o->create, 1);
	tap_open(&o->b, o->offload, o->create, 1);
	write_stats_file(o->stats, &ab, &ba, 1);
	if (!o->quiet)
		fprintf(stderr, "nascar-vmm: forwarding %s/%s <-> %s/%s, offload %s\n",
			o->a.ns ? o->a.ns : "-", o->a.name, o->b.ns ? o->b.ns : "-", o->b.name,
			o->offload ? "on" : "off");
	t0 = now_mono();
	while (!stop_flag) {
		struct pollfd p[2] = {
			{.fd = o->a.fd, .events = POLLIN},
			{.fd = o->b.fd, .events = POLLIN},
		};
		double t;
		int r = poll(p, 2, 100);

		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0) {
			if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
				die("tap %s: poll error", o->a.name);
			if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL))
				die("tap %s: poll error", o->b.name);
			if (p[0].revents & POLLIN)
				seen += (uint64_t)pump(o->a.fd, o->b.fd, buf, &ab);
			if (p[1].revents & POLLIN)
				seen += (uint64_t)pump(o->b.fd, o->a.fd, buf, &ba);
		}
		t = now_mono();
		if (o->duration > 0 && t - t0 >= o->duration)
			break;
		if (o->stats && seen != seen_written && t - last_write >= 0.2) {
			write_stats_file(o->stats, &ab, &ba, 1);
			seen_written = seen;
			last_write = t;
		}
	}
	write_stats_file(o->stats, &ab, &ba, 0);
	if (!o->quiet) {
		stats_line(stderr, "vmm: a_to_b", &ab);
		stats_line(stderr, "vmm: b_to_a", &ba);
	}
	tap_close(&o->a, o->del_on_exit);
	tap_close(&o->b, o->del_on_exit);
	free(buf);
	return 0;
}

/* ---- gen mode ------------------------------------------------------- */

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		mac[i] = (unsigned char)m[i];
	}
	return 0;
}

struct gen_opts {
	struct tap t;
	int offload, cpu, flows, partial, ipv6, have_dmac, payload;
	int vlan;		  /* > 0: an 802.1Q tag with this VLAN id in the frame's bytes */
	int packet;		  /* write through an AF_PACKET socket on the device, no tap */
	unsigned long long count; /* stop after this many frames (0: no limit) */
	const char *ab;		  /* LINK,PROG_A,PROG_B: alternate on a pinned bpf_link */
	double ab_slice;	  /* seconds per program while alternating */
	int ab_first;		  /* 0: start with PROG_A, 1: with PROG_B */
	double seconds;
	unsigned char smac[6], dmac[6];
	const char *sip, *dip;
	unsigned int sport, dport;
};

/* Build one frame (vnet header + Ethernet + IP + UDP + payload) into buf. */
static size_t build_frame(const struct gen_opts *o, unsigned char *buf, unsigned int sport,
			  const unsigned char *saddr, const unsigned char *daddr)
{
	struct virtio_net_hdr_v1 *vh = (void *)buf;
	size_t l2len = o->vlan ? 18 : 14;
	unsigned char *eth = buf + VNET_HDR_LEN, *ip = eth + l2len, *udp;
	size_t iplen = o->ipv6 ? 40 : 20, alen = o->ipv6 ? 16 : 4;
	uint16_t ulen = (uint16_t)(8 + o->payload);
	uint32_t sum;

	memset(buf, 0, VNET_HDR_LEN + l2len + iplen + ulen);
	memcpy(eth, o->dmac, 6);
	memcpy(eth + 6, o->smac, 6);
	if (o->vlan) {
		put16(eth + 12, 0x8100);
		put16(eth + 14, (uint16_t)(o->vlan & 0xfff)); /* PCP 0 */
	}
	put16(eth + l2len - 2, o->ipv6 ? 0x86dd : 0x0800);
	if (o->ipv6) {
		ip[0] = 0x60;
		put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, daddr, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + ulen));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, saddr, 4);
		memcpy(ip + 16, daddr, 4);
		put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, 20)));
	}
	udp = ip + iplen;
	put16(udp, (uint16_t)sport);
	put16(udp + 2, (uint16_t)o->dport);
	put16(udp + 4, ulen);
	for (int i = 0; i < o->payload; i++)
		udp[8 + i] = (unsigned char)('a' + i % 26);

	/* pseudo header */
	sum = csum_add(0, saddr, alen);
	sum = csum_add(sum, daddr, alen);
	sum += IPPROTO_UDP;
	sum += ulen;
	if (o->partial) {
		/* As a guest with tx checksum offload sends it. */
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = (uint16_t)(l2len + iplen);
		vh->csum_offset = 6;
		put16(udp + 6, csum_fold(sum));
	} else {
		uint16_t c = (uint16_t)~csum_fold(csum_add(sum, udp, ulen));

		put16(udp + 6, c ? c : 0xffff);
	}
	vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	return VNET_HDR_LEN + l2len + iplen + ulen;
}

/*
 * A/B on one bpf_link (--ab): the generator puts PROG_A and PROG_B on the
 * pinned link in turn, a slice each (bpf_link_update, a pointer swap in the
 * kernel), and keeps frames, wall time and its own CPU time per program.
 * Two programs compared this way share every drift of a shared machine
 * (a neighbour's load, frequency, cache) within tens of milliseconds, which
 * two runs seconds apart do not.  The link is left on PROG_A.
 */
struct ab {
	int link_fd, prog_fd[2], cur;
	unsigned int slices;
	double slice, t_mark, secs[2], swap_s;
	uint64_t f_mark, c_mark, frames[2], cpu_ns[2];
};

static int bpf_obj_get_path(const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uint64_t)(uintptr_t)path;
	return (int)syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
}

static void ab_put(struct ab *ab, int side)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_update.link_fd = (uint32_t)ab->link_fd;
	attr.link_update.new_prog_fd = (uint32_t)ab->prog_fd[side];
	if (syscall(__NR_bpf, BPF_LINK_UPDATE, &attr, sizeof(attr)) < 0)
		die("--ab: bpf_link_update: %s", strerror(errno));
	ab->cur = side;
}

static void ab_open(struct ab *ab, const char *spec, double slice, int first)
{
	char *copy = strdup(spec), *part[3], *save = NULL, *tok;
	int n = 0;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && n < 3; tok = strtok_r(NULL, ",", &save))
		part[n++] = tok;
	if (n != 3 || tok)
		die("--ab wants LINK,PROG_A,PROG_B (three pinned paths), got '%s'", spec);
	memset(ab, 0, sizeof(*ab));
	ab->link_fd = bpf_obj_get_path(part[0]);
	if (ab->link_fd < 0)
		die("--ab: %s: %s", part[0], strerror(errno));
	for (int i = 0; i < 2; i++) {
		ab->prog_fd[i] = bpf_obj_get_path(part[1 + i]);
		if (ab->prog_fd[i] < 0)
			die("--ab: %s: %s", part[1 + i], strerror(errno));
	}
	free(copy);
	ab->slice = slice;
	ab_put(ab, first);
}

/* The running slice starts at (now, frames, cpu). */
static void ab_start(struct ab *ab, double now, uint64_t frames, uint64_t cpu)
{
	ab->t_mark = now;
	ab->f_mark = frames;
	ab->c_mark = cpu;
}

/* Close the running slice at (now, frames, cpu); unless last, put the
 * other program on and start its slice once the swap is done (the swap's
 * own time counts for neither program). */
static void ab_mark(struct ab *ab, double now, uint64_t frames, uint64_t cpu, int last)
{
	double t;

	ab->secs[ab->cur] += now - ab->t_mark;
	ab->frames[ab->cur] += frames - ab->f_mark;
	ab->cpu_ns[ab->cur] += cpu - ab->c_mark;
	ab->slices++;
	if (last)
		return;
	ab_put(ab, !ab->cur);
	t = now_mono();
	ab->swap_s += t - now;
	ab_start(ab, t, frames, thread_cpu_ns());
}

static void ab_close(struct ab *ab)
{
	double fps[2];

	if (ab->cur != 0)
		ab_put(ab, 0);
	for (int i = 0; i < 2; i++)
		fps[i] = ab->secs[i] > 0 ? (double)ab->frames[i] / ab->secs[i] : 0.0;
	printf("ab: slices=%u a_frames=%llu a_seconds=%.3f a_fps=%.0f a_cpu_ns_per_frame=%.1f "
	       "b_frames=%llu b_seconds=%.3f b_fps=%.0f b_cpu_ns_per_frame=%.1f ratio=%.4f "
	       "swap_us=%.1f\n",
	       ab->slices, (unsigned long long)ab->frames[0], ab->secs[0], fps[0],
	       ab->frames[0] ? (double)ab->cpu_ns[0] / (double)ab->frames[0] : 0.0,
	       (unsigned long long)ab->frames[1], ab->secs[1], fps[1],
	       ab->frames[1] ? (double)ab->cpu_ns[1] / (double)ab->frames[1] : 0.0,
	       fps[1] > 0 ? fps[0] / fps[1] : 0.0,
	       ab->slices > 1 ? ab->swap_s * 1e6 / (ab->slices - 1) : 0.0);
	close(ab->link_fd);
	close(ab->prog_fd[0]);
	close(ab->prog_fd[1]);
}

static int do_gen(struct gen_opts *o)
{
	struct ab ab;
	double next_slice = 0;
	unsigned char saddr[16], daddr[16];
	unsigned char *frames;
	size_t flen = 0, stride = 256;
	uint64_t frames_out = 0, eagain = 0, errs = 0, cpu0, cpu1;
	double t0, t1, deadline;
	struct rusage ru0, ru1;
	int af = o->ipv6 ? AF_INET6 : AF_INET;
	unsigned int f = 0;

	if (inet_pton(af, o->sip, saddr) != 1)
		die("bad --src-ip %s", o->sip);
	if (inet_pton(af, o->dip, daddr) != 1)
		die("bad --dst-ip %s", o->dip);
	if (o->flows < 1 || o->flows > 65536)
		die("--flows must be 1..65536");
	if (o->payload < 0 || o->payload > 1400)
		die("--payload must be 0..1400");
	if (o->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("cannot pin to cpu %d: %s", o->cpu, strerror(errno));
	}
	stride = (size_t)(VNET_HDR_LEN + 18 + 40 + 8 + o->payload + 63) & ~(size_t)63;
	if (o->packet) {
		/* Frames without a virtio-net header, sent on any device (e.g.
		 * a veth) as the host's own stack would send them. */
		struct sockaddr_ll sll;

		if (!o->have_dmac)
			die("--packet needs --dst-mac");
		if (o->partial)
			die("--partial-csum needs a tap (the virtio-net header)");
		enter_netns(o->t.ns);
		o->t.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (o->t.fd < 0)
			die("AF_PACKET socket: %s", strerror(errno));
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_ifindex = (int)if_nametoindex(o->t.name);
		if (!sll.sll_ifindex)
			die("no device %s in namespace %s", o->t.name,
			    o->t.ns ? o->t.ns : "(current)");
		if (bind(o->t.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			die("bind to %s: %s", o->t.name, strerror(errno));
		leave_netns();
	} else {
		tap_open(&o->t, o->offload, 0, 1);
	}
	if (!o->have_dmac)
		memcpy(o->dmac, o->t.mac, 6);
	frames = calloc((size_t)o->flows, stride);
	if (!frames)
		die("out of memory");
	for (int i = 0; i < o->flows; i++)
		flen = build_frame(o, frames + (size_t)i * stride,
				   (o->sport + (unsigned int)i) & 0xffff, saddr, daddr);

	if (o->ab)
		ab_open(&ab, o->ab, o->ab_slice, o->ab_first);
	getrusage(RUSAGE_THREAD, &ru0);
	cpu0 = thread_cpu_ns();
	t0 = now_mono();
	deadline = t0 + o->seconds;
	if (o->ab) {
		ab_start(&ab, t0, 0, cpu0);
		next_slice = t0 + ab.slice;
	}
	while (!stop_flag) {
		for (int k = 0; k < 256; k++) {
			size_t skip = o->packet ? VNET_HDR_LEN : 0;
			ssize_t w;

			if (o->count && frames_out >= o->count) {
				stop_flag = 1;
				break;
			}
			w = write(o->t.fd, frames + (size_t)f * stride + skip, flen - skip);
			if (w < 0 && o->packet && errno == ENOBUFS)
				errno = EAGAIN; /* a full qdisc: retry, as for a tap */
			if (w == (ssize_t)(flen - skip)) {
				frames_out++;
				if (++f == (unsigned int)o->flows)
					f = 0;
			} else if (w < 0 && errno == EAGAIN) {
				eagain++; /* retry the same frame */
			} else if (w < 0 && errno == EINTR) {
				break;
			} else {
				errs++;
				if (++f == (unsigned int)o->flows)
					f = 0;
			}
		}
		t1 = now_mono();
		if (t1 >= deadline)
			break;
		if (o->ab && t1 >= next_slice) {
			ab_mark(&ab, t1, frames_out, thread_cpu_ns(), 0);
			next_slice = t1 + ab.slice;
		}
	}
	t1 = now_mono();
	cpu1 = thread_cpu_ns();
	getrusage(RUSAGE_THREAD, &ru1);
	if (o->ab)
		ab_mark(&ab, t1, frames_out, cpu1, 1);

	{
		double secs = t1 - t0;
		double usr = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
			     (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
		double sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			     (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

		printf("gen: frames=%llu seconds=%.3f fps=%.0f cpu_ns_per_frame=%.1f "
		       "cpu_s=%.3f usr_s=%.3f sys_s=%.3f eagain=%llu errors=%llu flows=%d "
		       "frame_len=%zu partial_csum=%d ipv6=%d cpu=%d\n",
		       (unsigned long long)frames_out, secs,
		       secs > 0 ? (double)frames_out / secs : 0.0,
		       frames_out ? (double)(cpu1 - cpu0) / (double)frames_out : 0.0,
		       (double)(cpu1 - cpu0) / 1e9, usr, sys, (unsigned long long)eagain,
		       (unsigned long long)errs, o->flows, flen - VNET_HDR_LEN, o->partial, o->ipv6,
		       o->cpu);
		if (o->ab)
			ab_close(&ab);
		fflush(stdout);
	}
	tap_close(&o->t, 0);
	free(frames);
	return 0;
}

/* ---- main ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  nascar-vmm forward --ns-a NS --tap-a NAME --ns-b NS --tap-b NAME\n"
	      "                     [--offload on|off] [--create] [--delete-on-exit]\n"
	      "                     [--duration SECONDS] [--stats FILE] [--quiet]\n"
	      "      Copy frames (with their virtio-net headers) between two taps.\n"
	      "      --create makes missing taps persistent ones; --delete-on-exit\n"
	      "      removes them again.  --stats FILE is rewritten every 0.2 s with\n"
	      "      per-direction counters (frames, gso, big = frames > 1514 bytes,\n"
	      "      needs_csum, write errors) and once more at exit.\n"
	      "  nascar-vmm gen --ns NS --tap NAME --src-ip A --dst-ip B\n"
	      "                 [--src-mac M] [--dst-mac M (default: the tap's MAC)]\n"
	      "                 [--sport P] [--dport P] [--flows N] [--seconds S]\n"
	      "                 [--cpu N] [--partial-csum] [--ipv6] [--payload BYTES]\n"
	      "                 [--offload on|off] [--vlan ID] [--packet] [--count N]\n"
	      "                 [--ab LINK,PROG_A,PROG_B [--ab-slice-ms MS] [--ab-first a|b]]\n"
	      "      Write pre-built UDP frames (64-byte payload by default) into the\n"
	      "      tap as the guest would, over N flows (source ports sport..+N-1),\n"
	      "      and print one line.  --vlan puts an 802.1Q tag in the frames'\n"
	      "      bytes; --packet sends them on any device NAME through an AF_PACKET\n"
	      "      socket instead (needs --dst-mac); --count stops after N frames:\n"
	      "      gen: frames=N seconds=S fps=F cpu_ns_per_frame=X ... eagain=E errors=E\n"
	      "      --ab takes three bpffs pins, a bpf_link and two programs, and\n"
	      "      puts the programs on the link in turn, MS (50) milliseconds each,\n"
	      "      leaving PROG_A on it; a second line gives each program's share:\n"
	      "      ab: slices=N a_frames=N a_seconds=S a_fps=F ... b_fps=F ratio=A/B\n"
	      "NS is a name under /run/netns or a path to a namespace file.\n",
	      f);
}

static int parse_onoff(const char *s)
{
	if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "yes"))
		return 1;
	if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "no"))
		return 0;
	die("expected on or off, got '%s'", s);
}

enum {
	O_NS_A = 256,
	O_TAP_A,
	O_NS_B,
	O_TAP_B,
	O_OFFLOAD,
	O_CREATE,
	O_DELETE,
	O_DURATION,
	O_STATS,
	O_QUIET,
	O_NS,
	O_TAP,
	O_SIP,
	O_DIP,
	O_SMAC,
	O_DMAC,
	O_SPORT,
	O_DPORT,
	O_FLOWS,
	O_SECONDS,
	O_CPU,
	O_PARTIAL,
	O_IPV6,
	O_PAYLOAD,
	O_VLAN,
	O_PACKET,
	O_COUNT,
	O_AB,
	O_AB_SLICE,
	O_AB_FIRST,
	O_HELP,
};

static const struct option longopts[] = {
	{"ns-a", required_argument, NULL, O_NS_A},
	{"tap-a", required_argument, NULL, O_TAP_A},
	{"ns-b", required_argument, NULL, O_NS_B},
	{"tap-b", required_argument, NULL, O_TAP_B},
	{"offload", required_argument, NULL, O_OFFLOAD},
	{"create", no_argument, NULL, O_CREATE},
	{"delete-on-exit", no_argument, NULL, O_DELETE},
	{"duration", required_argument, NULL, O_DURATION},
	{"stats", required_argument, NULL, O_STATS},
	{"quiet", no_argument, NULL, O_QUIET},
	{"ns", required_argument, NULL, O_NS},
	{"tap", required_argument, NULL, O_TAP},
	{"src-ip", required_argument, NULL, O_SIP},
	{"dst-ip", required_argument, NULL, O_DIP},
	{"src-mac", required_argument, NULL, O_SMAC},
	{"dst-mac", required_argument, NULL, O_DMAC},
	{"sport", required_argument, NULL, O_SPORT},
	{"dport", required_argument, NULL, O_DPORT},
	{"flows", required_argument, NULL, O_FLOWS},
	{"seconds", required_argument, NULL, O_SECONDS},
	{"cpu", required_argument, NULL, O_CPU},
	{"partial-csum", no_argument, NULL, O_PARTIAL},
	{"ipv6", no_argument, NULL, O_IPV6},
	{"payload", required_argument, NULL, O_PAYLOAD},
	{"vlan", required_argument, NULL, O_VLAN},
	{"packet", no_argument, NULL, O_PACKET},
	{"count", required_argument, NULL, O_COUNT},
	{"ab", required_argument, NULL, O_AB},
	{"ab-slice-ms", required_argument, NULL, O_AB_SLICE},
	{"ab-first", required_argument, NULL, O_AB_FIRST},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static long parse_num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("bad %s '%s' (expected %ld..%ld)", what, s, lo, hi);
	return v;
}

static double parse_secs(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || v < 0 || v > 1e6)
		die("bad %s '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	struct fwd_opts fo;
	struct gen_opts go;
	const char *mode;
	int c, gen;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	if (!strcmp(mode, "forward"))
		gen = 0;
	else if (!strcmp(mode, "gen"))
		gen = 1;
	else {
		fprintf(stderr, "nascar-vmm: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	memset(&fo, 0, sizeof(fo));
	memset(&go, 0, sizeof(go));
	fo.a.fd = fo.b.fd = go.t.fd = -1;
	fo.offload = go.offload = 1;
	go.cpu = -1;
	go.flows = 1;
	go.seconds = 5;
	go.ab_slice = 0.05;
	go.payload = 64;
	go.sport = 10000;
	go.dport = 9;
	parse_mac("02:00:00:00:00:42", go.smac);

	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_NS_A:
			fo.a.ns = optarg;
			break;
		case O_TAP_A:
			fo.a.name = optarg;
			break;
		case O_NS_B:
			fo.b.ns = optarg;
			break;
		case O_TAP_B:
			fo.b.name = optarg;
			break;
		case O_OFFLOAD:
			fo.offload = go.offload = parse_onoff(optarg);
			break;
		case O_CREATE:
			fo.create = 1;
			break;
		case O_DELETE:
			fo.del_on_exit = 1;
			break;
		case O_DURATION:
			fo.duration = parse_secs(optarg, "--duration");
			break;
		case O_STATS:
			fo.stats = optarg;
			break;
		case O_QUIET:
			fo.quiet = 1;
			break;
		case O_NS:
			go.t.ns = optarg;
			break;
		case O_TAP:
			go.t.name = optarg;
			break;
		case O_SIP:
			go.sip = optarg;
			break;
		case O_DIP:
			go.dip = optarg;
			break;
		case O_SMAC:
			if (parse_mac(optarg, go.smac))
				die("bad --src-mac %s", optarg);
			break;
		case O_DMAC:
			if (parse_mac(optarg, go.dmac))
				die("bad --dst-mac %s", optarg);
			go.have_dmac = 1;
			break;
		case O_SPORT:
			go.sport = (unsigned int)parse_num(optarg, 1, 65535, "--sport");
			break;
		case O_DPORT:
			go.dport = (unsigned int)parse_num(optarg, 1, 65535, "--dport");
			break;
		case O_FLOWS:
			go.flows = (int)parse_num(optarg, 1, 65536, "--flows");
			break;
		case O_SECONDS:
			go.seconds = parse_secs(optarg, "--seconds");
			break;
		case O_CPU:
			go.cpu = (int)parse_num(optarg, 0, CPU_SETSIZE - 1, "--cpu");
			break;
		case O_PARTIAL:
			go.partial = 1;
			break;
		case O_IPV6:
			go.ipv6 = 1;
			break;
		case O_PAYLOAD:
			go.payload = (int)parse_num(optarg, 0, 1400, "--payload");
			break;
		case O_VLAN:
			go.vlan = (int)parse_num(optarg, 1, 4094, "--vlan");
			break;
		case O_PACKET:
			go.packet = 1;
			break;
		case O_COUNT:
			go.count = (unsigned long long)parse_num(optarg, 1, 1000000000, "--count");
			break;
		case O_AB:
			go.ab = optarg;
			break;
		case O_AB_SLICE:
			go.ab_slice = (double)parse_num(optarg, 1, 10000, "--ab-slice-ms") / 1000.0;
			break;
		case O_AB_FIRST:
			if (strcmp(optarg, "a") && strcmp(optarg, "b"))
				die("--ab-first wants a or b, got '%s'", optarg);
			go.ab_first = optarg[0] == 'b';
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nascar-vmm: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	install_signals();
	if (gen) {
		if (!go.t.name || !go.sip || !go.dip)
			die("gen needs --tap, --src-ip and --dst-ip");
		c = do_gen(&go);
	} else {
		if (!fo.a.name || !fo.b.name)
			die("forward needs --tap-a and --tap-b");
		c = do_forward(&fo);
	}
	if (orig_netns >= 0)
		close(orig_netns);
	return c;
}
