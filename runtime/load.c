// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nascar_abi.h"
#include "nascar.skel.h"
#include "load.h"
#include "probe.h"
#include "log.h"
#include "state.h"
#include "nfc.h"

static const char *const prog_names[] = {LOAD_PROG_XDP, LOAD_PROG_TC};

void load_init(struct rt_bpf *b)
{
	memset(b, 0, sizeof(*b));
	b->prog_xdp = -1;
	b->prog_tc = -1;
	for (int i = 0; i < NASCAR_NMAPS; i++)
		b->map[i] = -1;
}

static void pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	snprintf(buf, len, "%s/%s", pin_dir, name);
}

static void prog_pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	snprintf(buf, len, "%s/prog_%s", pin_dir, name);
}

void load_log_path(char *buf, size_t len)
{
	const char *dir = getenv("NASCAR_LOG_DIR");
	const char *tmp = getenv("TMPDIR");

	if (!dir)
		dir = "/var/log/nascar";
	if (mkdir_p(dir, 0755) == 0 && access(dir, W_OK) == 0) {
		snprintf(buf, len, "%s/verifier.log", dir);
		return;
	}
	snprintf(buf, len, "%s/nascar-verifier.log", tmp && *tmp ? tmp : "/tmp");
}

/* The program libbpf names in "prog 'X': ..." lines of a failed load. */
static void failed_prog(const char *log, char *buf, size_t len)
{
	const char *p = strstr(log, "prog '");

	snprintf(buf, len, "?");
	while (p) {
		const char *q = strchr(p + 6, '\'');

		if (q && strstr(q, "failed") && (size_t)(q - p - 6) < len) {
			const char *eol = strchr(q, '\n');

			if (!eol || strstr(q, "failed") < eol) {
				memcpy(buf, p + 6, (size_t)(q - p - 6));
				buf[q - p - 6] = '\0';
				return;
			}
		}
		p = strstr(p + 6, "prog '");
	}
}

static int write_log(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len) {
		n = write(fd, text, len);
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		text += n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

/*
 * The kernel adds BPF_F_RDONLY_PROG to every devmap it creates, and
 * libbpf 1.1's reuse check compares flags, so it refuses our own pinned
 * devmap.  Check it here (type, sizes) and hand libbpf the fd.
 */
static int reuse_devmap(struct bpf_map *map, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* not pinned yet: libbpf creates and pins it */
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != bpf_map__type(map) ||
	    info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		close(fd);
		return nfc_fail(
			err, errlen, -EINVAL,
			"the map pinned at %s does not match this build of nascar-apply; run 'nascar-apply detach' (with the old build) and apply again",
			path);
	}
	ret = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (ret < 0)
		return nfc_fail(err, errlen, ret, "cannot reuse %s: %s", path, strerror(-ret));
	return 0;
}

int load_size_maps(struct bpf_object *obj)
{
	struct bpf_map *l1 = bpf_object__find_map_by_name(obj, "nascar_l1");
	int ncpu = libbpf_num_possible_cpus();

	if (!l1)
		return 0; /* an object without the first level (--bpf-obj) */
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	if ((unsigned int)ncpu > UINT32_MAX / NASCAR_L1_SETS)
		return -E2BIG;
	return bpf_map__set_max_entries(l1, (__u32)ncpu * NASCAR_L1_SETS);
}

int load_object(struct rt_bpf *b, const char *pin_dir, const char *obj_path, char *err,
		size_t errlen)
{
	int reuse_progs = 1, ret;
	int pfd[2] = {-1, -1};
	struct bpf_map *map;
	char path[PATH_MAX];
	const char *dbg;

	/* Pinned programs in place: reuse them, load only the maps. */
	for (int i = 0; i < 2; i++) {
		prog_pin_path(path, sizeof(path), pin_dir, prog_names[i]);
		pfd[i] = bpf_obj_get(path);
		if (pfd[i] < 0)
			reuse_progs = 0;
	}
	if (!reuse_progs) {
		for (int i = 0; i < 2; i++)
			if (pfd[i] >= 0)
				close(pfd[i]);
		pfd[0] = pfd[1] = -1;
	}

	if (obj_path) {
		b->obj = bpf_object__open_file(obj_path, NULL);
		if (!b->obj)
			return nfc_fail(err, errlen, -errno, "cannot open BPF object %s: %s",
					obj_path, strerror(errno));
	} else {
		b->skel = nascar_bpf__open();
		if (!b->skel)
			return nfc_fail(err, errlen, -errno, "cannot open the BPF object: %s",
					strerror(errno));
		b->obj = b->skel->obj;
		/* bench only (bench/run.sh A/B rows): NASCAR_DBG_* bits, which
		 * switch off parts of the hit path (nascar_abi.h) */
		b->skel->rodata->nascar_fib_ttl_jiffies = NASCAR_FIB_TTL_JIFFIES(probe_kernel_hz());
		dbg = getenv("NASCAR_BENCH_DEBUG");
		if (dbg && *dbg)
			b->skel->rodata->nascar_debug = (__u32)strtoul(dbg, NULL, 0);
	}
	ret = load_size_maps(b->obj);
	if (ret < 0)
		return nfc_fail(err, errlen, ret, "cannot size the flow cache's per-CPU sets: %s",
				strerror(-ret));
	bpf_object__for_each_map(map, b->obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
		if (bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP ||
		    bpf_map__type(map) == BPF_MAP_TYPE_DEVMAP_HASH) {
			ret = reuse_devmap(map, path, err, errlen);
			if (ret < 0)
				return ret;
		}
		ret = bpf_map__set_pin_path(map, path);
		if (ret < 0)
			return nfc_fail(err, errlen, ret, "cannot set pin path %s: %s", path,
					strerror(-ret));
	}
	for (int i = 0; i < 2; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(b->obj, prog_names[i]);

		if (!p)
			return nfc_fail(err, errlen, -ENOENT, "the BPF object has no program %s",
					prog_names[i]);
		if (reuse_progs)
			bpf_program__set_autoload(p, false);
	}

	log_capture_start();
	ret = bpf_object__load(b->obj);
	log_capture_stop();
	if (ret < 0) {
		size_t len;
		const char *text = log_captured(&len);
		char logf[PATH_MAX], prog[64];
		const char *mm = strstr(text, "couldn't reuse pinned map");

		if (mm || strstr(text, "parameter mismatch"))
			return nfc_fail(
				err, errlen, ret,
				"the maps pinned under %s do not match this build of nascar-apply; run 'nascar-apply detach' (with the old build) and apply again",
				pin_dir);
		if (!strstr(text, "BPF program load failed") &&
		    !strstr(text, "failed to load: -")) {
			char what[256] = "";
			const char *l = strstr(text, "failed");

			if (l) {
				const char *bol = l, *eol = strchr(l, '\n');

				while (bol > text && bol[-1] != '\n')
					bol--;
				if (!strncmp(bol, "libbpf: ", 8))
					bol += 8;
				snprintf(what, sizeof(what), " (%.*s)",
					 (int)((eol ? eol : l + strlen(l)) - bol), bol);
			}
			return nfc_fail(
				err, errlen, ret,
				"cannot load the BPF object: %s%s; run with -vv for libbpf's messages",
				strerror(-ret), what);
		}
		load_log_path(logf, sizeof(logf));
		failed_prog(text, prog, sizeof(prog));
		if (write_log(logf, text, len) < 0)
			return nfc_fail(
				err, errlen, ret,
				"the kernel's verifier rejected program '%s' (%s) and its log could not be written to %s; run with -vv to see it",
				prog, strerror(-ret), logf);
		return nfc_fail(err, errlen, ret,
				"the kernel's verifier rejected program '%s' (%s); full log in %s",
				prog, strerror(-ret), logf);
	}

	for (int i = 0; i < NASCAR_NMAPS; i++) {
		map = bpf_object__find_map_by_name(b->obj, nascar_map_desc(i)->name);
		if (!map)
			return nfc_fail(err, errlen, -ENOENT, "the BPF object has no map %s",
					nascar_map_desc(i)->name);
		b->map[i] = bpf_map__fd(map);
	}
	if (reuse_progs) {
		b->prog_xdp = pfd[0];
		b->prog_tc = pfd[1];
		b->own_progs = 1;
		pr_debug("reusing pinned programs under %s", pin_dir);
		return 0;
	}
	b->prog_xdp = bpf_program__fd(bpf_object__find_program_by_name(b->obj, LOAD_PROG_XDP));
	b->prog_tc = bpf_program__fd(bpf_object__find_program_by_name(b->obj, LOAD_PROG_TC));
	for (int i = 0; i < 2; i++) {
		int fd = i ? b->prog_tc : b->prog_xdp;

		prog_pin_path(path, sizeof(path), pin_dir, prog_names[i]);
		unlink(path);
		if (bpf_obj_pin(fd, path) < 0)
			return nfc_fail(err, errlen, -errno, "cannot pin %s: %s", path,
					strerror(errno));
	}
	return 0;
}

int load_pinned(struct rt_bpf *b, const char *pin_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	b->own_fds = 1;
	b->own_progs = 1;
	for (int i = 0; i < NASCAR_NMAPS; i++) {
		pin_path(path, sizeof(path), pin_dir, nascar_map_desc(i)->name);
		b->map[i] = bpf_obj_get(path);
		if (b->map[i] < 0) {
			int ret = -errno;

			return nfc_fail(err, errlen, ret, "cannot open %s: %s", path,
					strerror(-ret));
		}
	}
	prog_pin_path(path, sizeof(path), pin_dir, LOAD_PROG_XDP);
	b->prog_xdp = bpf_obj_get(path);
	prog_pin_path(path, sizeof(path), pin_dir, LOAD_PROG_TC);
	b->prog_tc = bpf_obj_get(path);
	return 0;
}

void load_close(struct rt_bpf *b)
{
	if (b->own_fds) {
		for (int i = 0; i < NASCAR_NMAPS; i++)
			if (b->map[i] >= 0)
				close(b->map[i]);
	}
	/* Program fds from pins are ours to close; the object's are not. */
	if (b->own_progs) {
		if (b->prog_xdp >= 0)
			close(b->prog_xdp);
		if (b->prog_tc >= 0)
			close(b->prog_tc);
	}
	if (b->skel)
		nascar_bpf__destroy(b->skel);
	else if (b->obj)
		bpf_object__close(b->obj);
	load_init(b);
}

int load_pins_exist(const char *pin_dir)
{
	char path[PATH_MAX];
	struct stat st;

	for (int i = 0; i < NASCAR_NMAPS; i++) {
		pin_path(path, sizeof(path), pin_dir, nascar_map_desc(i)->name);
		if (stat(path, &st) == 0)
			return 1;
	}
	return 0;
}

/* Our pins directly under pin_dir: removed (unpin), or only counted. */
static int our_pins(const char *pin_dir, int unpin)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	/* Every map of the object is pinned under its own name, and all of
	 * them are called nascar_*; the programs are prog_nascar_*. */
	d = opendir(pin_dir);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "nascar_", 7) != 0 &&
		    strncmp(de->d_name, "prog_nascar_", 12) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (!unpin || unlink(path) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

int load_count_pins(const char *pin_dir)
{
	return our_pins(pin_dir, 0);
}

int load_unpin_all(const char *pin_dir)
{
	char path[PATH_MAX + 8];
	int n = our_pins(pin_dir, 1);

	snprintf(path, sizeof(path), "%s/links", pin_dir);
	rmdir(path);
	rmdir(pin_dir);
	return n;
}
