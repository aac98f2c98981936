/*
 * liveness.h - whether a daemon runs on a runtime directory:
 * <runtime_dir>/daemon.lock, held by the daemon for its whole life.
 *
 * The lock is an open file description lock (fcntl F_OFD_SETLK), so the
 * kernel drops it when the daemon ends, crash or SIGKILL included, and a
 * probe can test it without taking it (a probe that took it, even shared,
 * would make a daemon starting at that instant think another one runs).
 * The file holds the daemon's pid, for messages only: the lock, not the
 * file, says whether a daemon runs.  Children do not keep the lock: the
 * descriptor is close-on-exec.
 */
#ifndef QVMR_LIVENESS_H
#define QVMR_LIVENESS_H

#define LIVENESS_FILE "daemon.lock"

/*
 * Takes the lock: opens (creating it 0600, not following a link)
 * runtime_dir/daemon.lock, locks it without waiting, and writes "PID\n".
 * 0 with *fd set: the caller keeps it open while it runs and never closes
 * it early.  QR_ERR_EXISTS when another process holds the lock, with that
 * daemon's pid in *other (0 when the file did not say).  QR_ERR_SYSTEM
 * (errno set) or QR_ERR_TOO_LARGE (path) otherwise; *fd is then -1.
 */
int liveness_lock(const char *runtime_dir, int *fd, long *other);

/*
 * Whether a daemon holds the lock of runtime_dir, without taking it:
 * 1 with its pid in *pid (0 when the file did not say), 0 when none does
 * (no file, or nobody holds it), or a negative qr_err when that cannot be
 * told (QR_ERR_SYSTEM with errno set).
 */
int liveness_probe(const char *runtime_dir, long *pid);

#endif
