// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * jitlines - where a loaded BPF program's source lines sit in its JITed
 * image, for reading a perf profile of it without a disassembler (Debian's
 * perf and bpftool are built without libopcodes/libbfd, so neither can
 * annotate a JITed program).
 *
 *   jitlines PIN
 *
 * PIN is a pinned program or a pinned bpf_link (its program is read).
 * Prints one line per entry of the program's jited line info:
 *
 *   ADDRESS FILE:LINE SOURCE
 *
 * ADDRESS is the kernel address of the first instruction of that source
 * line's code (hex, as `perf script -F ip` prints sample addresses); the
 * code of a line runs up to the next address.  Then one line
 * `ADDRESS end (end of function N)` per function of the JITed image (the
 * main program and each subprogram; their images need not be adjacent).  bench/run.sh --only prof
 * (PROF_ANNOTATE) sorts perf's samples into these lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static const char *name_at(const struct btf *btf, __u32 off)
{
	const char *s = btf ? btf__name_by_offset(btf, off) : NULL;

	return s ? s : "?";
}

/* A bpf_link's fdinfo names its link_type, a program's its prog_type. */
static int is_link(int fd)
{
	char path[64], line[128];
	FILE *f;
	int link = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "link_type:", 10))
			link = 1;
	fclose(f);
	return link;
}

int main(int argc, char **argv)
{
	struct bpf_link_info linfo;
	struct bpf_prog_info info;
	__u32 len = sizeof(info), llen = sizeof(linfo), nl, i;
	struct bpf_line_info *li = NULL;
	__u64 *jl = NULL, *ks = NULL;
	__u32 *fl = NULL, nk, nf;
	struct btf *btf = NULL;
	int fd, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: jitlines PIN (a pinned program or bpf_link)\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "jitlines: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&linfo, 0, sizeof(linfo));
	if (is_link(fd) && !bpf_obj_get_info_by_fd(fd, &linfo, &llen)) {
		int pfd = bpf_prog_get_fd_by_id(linfo.prog_id);

		if (pfd < 0) {
			fprintf(stderr, "jitlines: %s: program %u of the link: %s\n", argv[1],
				linfo.prog_id, strerror(errno));
			goto out;
		}
		close(fd);
		fd = pfd;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitlines: %s: cannot read program info: %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	nl = info.nr_jited_line_info;
	if (!nl || info.nr_line_info != nl) {
		fprintf(stderr, "jitlines: %s: no JIT line info (is the JIT on, with BTF?)\n",
			argv[1]);
		goto out;
	}
	li = calloc(nl, sizeof(*li));
	jl = calloc(nl, sizeof(*jl));
	if (!li || !jl) {
		fprintf(stderr, "jitlines: out of memory\n");
		goto out;
	}
	nk = info.nr_jited_ksyms;
	nf = info.nr_jited_func_lens;
	ks = calloc(nk ? nk : 1, sizeof(*ks));
	fl = calloc(nf ? nf : 1, sizeof(*fl));
	if (!ks || !fl) {
		fprintf(stderr, "jitlines: out of memory\n");
		goto out;
	}
	memset(&info, 0, sizeof(info));
	info.nr_jited_ksyms = nk;
	info.jited_ksyms = (__u64)(unsigned long)ks;
	info.nr_jited_func_lens = nf;
	info.jited_func_lens = (__u64)(unsigned long)fl;
	info.nr_line_info = nl;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_line_info = nl;
	info.jited_line_info_rec_size = sizeof(*jl);
	info.jited_line_info = (__u64)(unsigned long)jl;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitlines: %s: cannot read line info: %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		fprintf(stderr, "jitlines: %s: no BTF %u, printing offsets only\n", argv[1],
			info.btf_id);
	for (i = 0; i < nl; i++) {
		const char *file = name_at(btf, li[i].file_name_off);
		const char *base = strrchr(file, '/');

		printf("%llx %s:%u %s\n", (unsigned long long)jl[i], base ? base + 1 : file,
		       BPF_LINE_INFO_LINE_NUM(li[i].line_col), name_at(btf, li[i].line_off));
	}
	for (i = 0; i < nk && i < nf; i++)
		printf("%llx end (end of function %u)\n", (unsigned long long)(ks[i] + fl[i]), i);
	rc = 0;
out:
	free(ks);
	free(fl);
	btf__free(btf);
	free(li);
	free(jl);
	close(fd);
	return rc;
}
