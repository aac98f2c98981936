/*
 * fileio.h - whole-file reads with a limit, atomic writes.
 */
#ifndef QVMR_FILEIO_H
#define QVMR_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

struct stat;

/*
 * Opens path read-only as a regular file: no symlink in the last component,
 * O_NONBLOCK so that a FIFO planted there cannot hang the open,
 * close-on-exec.  Returns the descriptor with *st filled in, or a negative
 * qr_err: QR_ERR_NOT_FOUND, QR_ERR_INVALID (not a regular file) or
 * QR_ERR_SYSTEM (errno set).
 */
int open_regular(const char *path, struct stat *st);

/*
 * Appends the file's contents to b; QR_ERR_TOO_LARGE past b->max,
 * QR_ERR_NOT_FOUND when absent.  Refuses anything but a regular file
 * (QR_ERR_INVALID) and does not follow a symlink in the last component
 * (QR_ERR_SYSTEM, errno ELOOP).  On failure b is as it was.
 */
int read_file(const char *path, struct buf *b);

/*
 * Writes data to dir/name through dir/.name.tmp.XXXXXX with the given mode,
 * then renames it into place; with do_fsync, fsyncs the file and the
 * directory so the new name survives a crash.
 */
int write_file_atomic(const char *dir, const char *name, const void *data,
		      size_t n, mode_t mode, int do_fsync);

/* write(2) all of it, retrying on EINTR and short writes. */
int write_all(int fd, const void *p, size_t n);
/* pwrite(2) all of it at off, retrying likewise. */
int pwrite_all(int fd, const void *p, size_t n, off_t off);
/* One read(2), retried on EINTR: what read returns. */
ssize_t read_once(int fd, void *p, size_t n);
/* read(2) up to n bytes, retrying on EINTR and short reads, until n or
 * the end of the input; *got receives how many.  0 or QR_ERR_SYSTEM. */
int read_full(int fd, void *p, size_t n, size_t *got);
/* pread(2) up to n bytes at off, retrying on EINTR and short reads, until
 * n or the end of the file; *got receives how many.  0 or QR_ERR_SYSTEM. */
int pread_full(int fd, void *p, size_t n, off_t off, size_t *got);

/* mkdir -p with mode for each created component; existing ones are kept. */
int mkdir_p(const char *path, mode_t mode);

#endif
