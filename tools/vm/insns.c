// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tools/vm/insns.c: load BPF objects and print, per program, what the
 * verifier says it processed (log level BPF_LOG_STATS) and the size of the
 * translated and JITed program.  Used by the check-vm tier to record the
 * instruction counts on each kernel and architecture.
 *
 *   nascar-insns OBJ...   one "INSNS: obj prog processed=N xlated=B jited=B"
 *                         line per program, "PASS:"/"FAIL:" per object
 *
 * On a rejection libbpf prints the verifier's log (level 1) on stderr.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SZ (1u << 20)

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static long processed(const char *log)
{
	const char *p = strstr(log, "processed ");

	return p ? strtol(p + 10, NULL, 10) : -1;
}

static int one(const char *path)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	char *logs[64] = { 0 };
	int n = 0, err;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		printf("FAIL: insns: %s: open: %s\n", base(path), strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
	{
		if (n == 64)
			break;
		logs[n] = calloc(1, LOG_SZ);
		if (!logs[n])
			break;
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, logs[n], LOG_SZ);
		n++;
	}
	err = bpf_object__load(obj);
	if (err) {
		printf("FAIL: insns: %s loads (%s)\n", base(path), strerror(-err));
	} else {
		int i = 0;

		bpf_object__for_each_program(prog, obj)
		{
			struct bpf_prog_info info;
			__u32 len = sizeof(info);

			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
				memset(&info, 0, sizeof(info));
			printf("INSNS: %s %s processed=%ld xlated=%u jited=%u\n", base(path),
			       bpf_program__name(prog), i < n ? processed(logs[i]) : -1L,
			       info.xlated_prog_len, info.jited_prog_len);
			i++;
		}
		printf("PASS: insns: %s loads and JITs\n", base(path));
	}
	bpf_object__close(obj);
	while (n > 0)
		free(logs[--n]);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	libbpf_set_print(print_fn);
	for (i = 1; i < argc; i++)
		bad |= one(argv[i]);
	return bad;
}
