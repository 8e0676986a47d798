// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_xdp.c - loads the benchmark's helper programs (bench/run.sh runs it
 * inside a rig namespace with nsenter --net):
 *
 *   bench_xdp attach IFNAME PROG HOOK PINDIR
 *       PROG: sink    ref_sink (ref.bpf.c): drop, count packets and valid /
 *                     invalid UDP checksums
 *             router  ref_router (ref.bpf.c): bare fib + MAC + devmap
 *                     router (HOOK native or generic); its devmap gets every
 *                     interface of the namespace but lo
 *             pass    ref_pass (ref.bpf.c): XDP_PASS
 *             drop    bench_drop (bench_progs.bpf.c): drop everything
 *             tcrouter bench_tc_router (bench_progs.bpf.c), HOOK tc
 *       HOOK: native | generic (XDP), tc (tcx ingress, netlink clsact when
 *             the kernel has no tcx)
 *       Attaches with a bpf_link pinned at PINDIR/link and pins the counter
 *       map at PINDIR/cnt; `rm -rf PINDIR` (or deleting the namespace)
 *       detaches.  Prints "attached PROG HOOK IFNAME".
 *   bench_xdp read PINDIR
 *       Counters summed over CPUs:
 *       "pkts=N bytes=N udp_ok=N udp_bad=N udp_nocsum=N" (sink) or
 *       "pkts=N redirected=N" (bench_progs).
 *   bench_xdp detach PINDIR
 *       Removes the link pin (detaching the program) and the map pin.
 *   bench_xdp load PROG PINDIR
 *       PROG router or tcrouter, loaded (devmap filled as for attach) and
 *       pinned at PINDIR/prog with its counters at PINDIR/cnt, attached
 *       nowhere: for `nascar-vmm gen --ab`, which puts it and Nascar's
 *       program on Nascar's bpf_link in turn.
 *
 * Exit status 0 on success, 1 on failure (with a message on stderr).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ref.skel.h"
#include "bench_progs.skel.h"

#define BPF_TCX_INGRESS_VAL 46 /* enum bpf_attach_type, Linux 6.6 */

static int die(const char *what, int err)
{
	fprintf(stderr, "bench_xdp: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int fill_devmap(struct bpf_map *m)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd = bpf_map__fd(m), n = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		__u32 k = i->if_index, v = i->if_index;

		if (!strcmp(i->if_name, "lo"))
			continue;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0)
			n++;
	}
	if_freenameindex(ifs);
	return n;
}

static int do_attach(const char *ifname, const char *prog, const char *hook, const char *dir)
{
	struct ref_bpf *ref = NULL;
	struct bench_progs_bpf *bp = NULL;
	struct bpf_program *p = NULL;
	struct bpf_map *cnt = NULL;
	char path[512];
	int ifindex = (int)if_nametoindex(ifname), xdp = 0, err;
	const char *how = hook;

	if (!ifindex)
		return die(ifname, errno);
	if (!strcmp(hook, "native") || !strcmp(hook, "generic"))
		xdp = 1;
	else if (strcmp(hook, "tc"))
		return die("hook must be native, generic or tc", EINVAL);
	if (!strcmp(prog, "sink") || !strcmp(prog, "router") || !strcmp(prog, "pass")) {
		ref = ref_bpf__open_and_load();
		if (!ref)
			return die("loading ref.bpf.o", errno);
		p = !strcmp(prog, "sink")     ? ref->progs.ref_sink
		    : !strcmp(prog, "router") ? ref->progs.ref_router
					      : ref->progs.ref_pass;
		cnt = ref->maps.ref_sink_cnt;
		if (!strcmp(prog, "router") && fill_devmap(ref->maps.ref_devmap) <= 0)
			return die("filling the devmap", ENODEV);
	} else if (!strcmp(prog, "drop") || !strcmp(prog, "tcrouter")) {
		bp = bench_progs_bpf__open_and_load();
		if (!bp)
			return die("loading bench_progs.bpf.o", errno);
		p = !strcmp(prog, "drop") ? bp->progs.bench_drop : bp->progs.bench_tc_router;
		cnt = bp->maps.bench_cnt;
	} else {
		return die("PROG must be sink, router, pass, drop or tcrouter", EINVAL);
	}
	if (xdp != (bpf_program__type(p) == BPF_PROG_TYPE_XDP))
		return die("program and hook do not match", EINVAL);

	if (mkdir(dir, 0700) && errno != EEXIST)
		return die(dir, errno);
	if (xdp) {
		LIBBPF_OPTS(bpf_link_create_opts, lo);
		int fd;

		lo.flags = !strcmp(hook, "native") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(bpf_program__fd(p), ifindex, BPF_XDP, &lo);
		if (fd < 0)
			return die("attaching XDP", errno);
		snprintf(path, sizeof(path), "%s/link", dir);
		unlink(path);
		if (bpf_obj_pin(fd, path))
			return die("pinning the link", errno);
		close(fd);
	} else {
		/* tcx (Linux 6.6+) by number: Debian 12's libbpf predates it */
		int fd = bpf_link_create(bpf_program__fd(p), ifindex,
					 (enum bpf_attach_type)BPF_TCX_INGRESS_VAL, NULL);

		if (fd >= 0) {
			snprintf(path, sizeof(path), "%s/link", dir);
			unlink(path);
			if (bpf_obj_pin(fd, path))
				return die("pinning the tcx link", errno);
			close(fd);
			how = "tc(tcx)";
		} else {
			LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, to, .handle = 1, .priority = 1,
				    .prog_fd = bpf_program__fd(p));
			FILE *f;

			err = bpf_tc_hook_create(&h);
			if (err && err != -EEXIST)
				return die("creating clsact", err);
			err = bpf_tc_attach(&h, &to);
			if (err)
				return die("attaching TC", err);
			/* remember the ifindex so detach can remove the filter */
			snprintf(path, sizeof(path), "%s/tc-ifindex", dir);
			f = fopen(path, "w");
			if (!f)
				return die(path, errno);
			fprintf(f, "%d\n", ifindex);
			fclose(f);
			how = "tc(netlink)";
		}
	}
	snprintf(path, sizeof(path), "%s/cnt", dir);
	unlink(path);
	err = bpf_map__pin(cnt, path);
	if (err)
		return die("pinning the counters", err);
	printf("attached %s %s %s\n", prog, how, ifname);
	/* the pins hold the link and the map; the rest goes with the process */
	return 0;
}

static int do_load(const char *prog, const char *dir)
{
	struct ref_bpf *ref = NULL;
	struct bench_progs_bpf *bp = NULL;
	struct bpf_program *p;
	struct bpf_map *cnt;
	char path[512];
	int err;

	if (!strcmp(prog, "router")) {
		ref = ref_bpf__open_and_load();
		if (!ref)
			return die("loading ref.bpf.o", errno);
		if (fill_devmap(ref->maps.ref_devmap) <= 0)
			return die("filling the devmap", ENODEV);
		p = ref->progs.ref_router;
		cnt = ref->maps.ref_sink_cnt;
	} else if (!strcmp(prog, "tcrouter")) {
		bp = bench_progs_bpf__open_and_load();
		if (!bp)
			return die("loading bench_progs.bpf.o", errno);
		p = bp->progs.bench_tc_router;
		cnt = bp->maps.bench_cnt;
	} else {
		return die("PROG must be router or tcrouter", EINVAL);
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return die(dir, errno);
	snprintf(path, sizeof(path), "%s/prog", dir);
	unlink(path);
	err = bpf_program__pin(p, path);
	if (err)
		return die("pinning the program", err);
	snprintf(path, sizeof(path), "%s/cnt", dir);
	unlink(path);
	err = bpf_map__pin(cnt, path);
	if (err)
		return die("pinning the counters", err);
	printf("loaded %s\n", prog);
	return 0;
}

static int do_read(const char *dir)
{
	char path[512];
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	int fd, ncpu = libbpf_num_possible_cpus();
	__u64 *v, sum[8] = {0};
	__u32 k, n;

	snprintf(path, sizeof(path), "%s/cnt", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return die(path, errno);
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return die("map info", errno);
	n = info.max_entries < 8 ? info.max_entries : 8;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return die("calloc", ENOMEM);
	for (k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			return die("map lookup", errno);
		for (int c = 0; c < ncpu; c++)
			sum[k] += v[c];
	}
	free(v);
	if (n == 8)
		printf("pkts=%llu bytes=%llu udp_ok=%llu udp_bad=%llu udp_nocsum=%llu\n",
		       (unsigned long long)sum[0], (unsigned long long)sum[1],
		       (unsigned long long)sum[2], (unsigned long long)sum[3],
		       (unsigned long long)sum[4]);
	else
		printf("pkts=%llu redirected=%llu\n", (unsigned long long)sum[0],
		       (unsigned long long)sum[1]);
	return 0;
}

static int do_detach(const char *dir)
{
	char path[512];
	FILE *f;
	int ifindex = 0;

	snprintf(path, sizeof(path), "%s/tc-ifindex", dir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &ifindex) == 1 && ifindex > 0) {
			LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, to, .handle = 1, .priority = 1);

			bpf_tc_detach(&h, &to);
		}
		fclose(f);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/link", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/prog", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cnt", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (argc == 6 && !strcmp(argv[1], "attach"))
		return do_attach(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 3 && !strcmp(argv[1], "read"))
		return do_read(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return do_detach(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "load"))
		return do_load(argv[2], argv[3]);
	fprintf(stderr, "usage: bench_xdp attach IFNAME sink|router|pass|drop|tcrouter "
			"native|generic|tc PINDIR\n"
			"       bench_xdp read PINDIR\n"
			"       bench_xdp detach PINDIR\n"
			"       bench_xdp load router|tcrouter PINDIR\n");
	return 2;
}
