// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lock.c - the apply lock (see lock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "load.h"
#include "lock.h"
#include "log.h"
#include "state.h"

static struct {
	int fd;
	int made_dir; /* this run created NASCAR_DEFAULT_STATE_DIR */
	char path[PATH_MAX];
	char pin_dir[PATH_MAX];
	char state_dir[PATH_MAX];
} held = {.fd = -1};

void lock_path(char *buf, size_t len, const char *pin_dir)
{
	char esc[PATH_MAX];
	unsigned long long h = 0xcbf29ce484222325ULL;

	state_escape(esc, sizeof(esc), pin_dir);
	if (strlen(esc) <= 200) {
		snprintf(buf, len, "%s/%.200s.lock", NASCAR_DEFAULT_STATE_DIR, esc);
		return;
	}
	/* a file name has at most NAME_MAX bytes: keep a prefix and a hash
	 * of the whole pin directory (FNV-1a 64) */
	for (const char *p = pin_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(buf, len, "%s/%.180s-%016llx.lock", NASCAR_DEFAULT_STATE_DIR, esc, h);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(s * 1e9)};

	if (s <= 0)
		return;
	if (s >= 1)
		ts = (struct timespec){.tv_sec = 1, .tv_nsec = 0};
	nanosleep(&ts, NULL);
}

/* The flock holder of the file at path according to /proc/locks: its pid,
 * -1 if held by a pid this namespace cannot see, 0 if not held. */
static int proc_locks_holder(const struct stat *st)
{
	char line[512];
	int pid = 0;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char kind[16];
		unsigned int maj, min;
		unsigned long ino;
		int p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; waiters
		 * have "->" before FLOCK and are skipped by the %15s match */
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &p, &maj, &min, &ino) != 5)
			continue;
		if (strcmp(kind, "FLOCK") != 0 || ino != (unsigned long)st->st_ino ||
		    maj != major(st->st_dev) || min != minor(st->st_dev))
			continue;
		pid = p > 0 ? p : -1;
		break;
	}
	fclose(f);
	return pid;
}

int lock_holder(const char *pin_dir)
{
	char path[PATH_MAX];
	struct stat st;

	lock_path(path, sizeof(path), pin_dir);
	if (stat(path, &st) < 0)
		return 0;
	return proc_locks_holder(&st);
}

/* Who holds fd's lock: /proc/locks, else the pid the holder wrote. */
static int holder_of(int fd)
{
	char buf[32];
	struct stat st;
	ssize_t n;
	int pid = 0;

	if (fstat(fd, &st) == 0)
		pid = proc_locks_holder(&st);
	if (pid > 0)
		return pid;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		pid = atoi(buf);
	}
	return pid > 0 ? pid : -1;
}

static int open_lock_file(const char *path, int *made_dir)
{
	struct stat st;
	int fd;

	if (stat(NASCAR_DEFAULT_STATE_DIR, &st) < 0 && errno == ENOENT) {
		int ret = mkdir_p(NASCAR_DEFAULT_STATE_DIR, 0755);

		if (ret == 0)
			*made_dir = 1;
		else if (ret != -EEXIST) {
			errno = -ret;
			return -1;
		}
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	return fd;
}

int lock_take(const char *pin_dir, const char *state_dir, double wait_s)
{
	char path[PATH_MAX];
	double deadline = now_s() + (wait_s > 0 ? wait_s : 0);
	int fd = -1, made_dir = 0, tries = 0, late = 0;

	lock_path(path, sizeof(path), pin_dir);
	for (;;) {
		struct stat a, b;

		fd = open_lock_file(path, &made_dir);
		if (fd < 0) {
			int e = errno;

			/* the directory went away between mkdir and open (the
			 * previous holder removed it): once more */
			if (e == ENOENT && ++tries < 100)
				continue;
			if (e == EACCES || e == EPERM || e == EROFS)
				pr_err("needs root to take the apply lock %s (%s); run it as root, e.g. with sudo",
				       path, strerror(e));
			else
				pr_err("cannot open the apply lock %s (%s); check %s", path,
				       strerror(e), NASCAR_DEFAULT_STATE_DIR);
			return -1;
		}
		while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			double left = deadline - now_s();

			if (e == EINTR)
				continue;
			if (e != EWOULDBLOCK) {
				pr_err("cannot lock %s (%s); check %s", path, strerror(e),
				       NASCAR_DEFAULT_STATE_DIR);
				close(fd);
				return -1;
			}
			if (left <= 0) {
				int pid = holder_of(fd);
				char who[32];

				/* nobody to name: the holder has just let go, so
				 * try again rather than blame an unknown pid */
				if (pid <= 0 && ++late < 5) {
					nap(0.002);
					continue;
				}

				if (pid > 0)
					snprintf(who, sizeof(who), "pid %d", pid);
				else
					snprintf(who, sizeof(who), "pid unknown");
				if (wait_s > 0)
					pr_err("another nascar-apply (%s) is running on %s; waited %g s for it: try again when it has finished, or give a longer --wait (lock: %s)",
					       who, pin_dir, wait_s, path);
				else
					pr_err("another nascar-apply (%s) is running on %s; try again when it has finished, or give --wait SECONDS (lock: %s)",
					       who, pin_dir, path);
				close(fd);
				return -1;
			}
			nap(left < 0.02 ? left : 0.02);
		}
		/* Locked; but is it still the file at path?  The previous
		 * holder may have removed it after we opened it. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(fd);
		if (++tries >= 100) {
			pr_err("cannot lock %s: it keeps being replaced; check %s", path,
			       NASCAR_DEFAULT_STATE_DIR);
			return -1;
		}
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%d\n", (int)getpid());
	held.fd = fd;
	held.made_dir = made_dir;
	snprintf(held.path, sizeof(held.path), "%s", path);
	snprintf(held.pin_dir, sizeof(held.pin_dir), "%s", pin_dir);
	snprintf(held.state_dir, sizeof(held.state_dir), "%s", state_dir);
	pr_debug("holding the apply lock %s", path);
	return 0;
}

void lock_release(void)
{
	char state[PATH_MAX + 32];
	struct stat st;

	if (held.fd < 0)
		return;
	snprintf(state, sizeof(state), "%s/%s", held.state_dir, NASCAR_STATE_FILE);
	if (!load_pins_exist(held.pin_dir) && stat(state, &st) < 0 && errno == ENOENT) {
		/* nothing applied: leave no lock file behind (we still hold
		 * it, so nobody is between its open and its flock unnoticed) */
		unlink(held.path);
		if (held.made_dir || strcmp(held.state_dir, NASCAR_DEFAULT_STATE_DIR) == 0)
			rmdir(NASCAR_DEFAULT_STATE_DIR); /* only if empty */
	} else if (ftruncate(held.fd, 0) < 0) {
		pr_debug("cannot clear %s: %s", held.path, strerror(errno));
	}
	close(held.fd); /* drops the flock */
	held.fd = -1;
}
