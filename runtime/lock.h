/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lock.h - one nascar-apply at a time per pin directory.
 *
 * Contract: every command that changes the machine (apply, detach) holds
 * an exclusive flock(2) on /run/nascar/<pin dir with '/' turned into
 * '-'>.lock for as long as it runs.  The lock is keyed by the pin
 * directory, not the state directory, because the pins are what the
 * kernel shares; --state-dir does not change it.  The holder writes its
 * pid into the file.  The kernel drops the lock when the holder dies, so
 * a killed run never leaves a stale lock.  When nothing is applied any
 * more (no pins, no state) the holder removes the file before it lets go;
 * a waiter that then gets the lock on the removed file opens it again.
 * status and stats never take the lock; they may ask who holds it
 * (lock_holder(), which reads /proc/locks and never blocks a writer).
 */
#ifndef NASCAR_LOCK_H
#define NASCAR_LOCK_H

#include <stddef.h>

#define NASCAR_LOCK_WAIT_DEFAULT 5.0 /* seconds, --wait */

void lock_path(char *buf, size_t len, const char *pin_dir);
/* Takes the lock, waiting up to wait_s seconds (0: one try).  0, or -1
 * after printing the one-line error ("another nascar-apply (pid N) is
 * running on PIN_DIR; ..."). */
int lock_take(const char *pin_dir, const char *state_dir, double wait_s);
/* Lets go; removes the lock file first if nothing is applied any more. */
void lock_release(void);
/* Pid of the nascar-apply that holds the lock on pin_dir: 0 if none,
 * -1 if it is held but the holder is unknown.  Never waits. */
int lock_holder(const char *pin_dir);

#endif /* NASCAR_LOCK_H */
