/*
 * fdio.h - bounded reads and fixed-buffer copies on file descriptors.
 *
 * Results can be large (dom0 keeps up to QVM_REMOTE_MAX_OUTPUT a stream), so
 * they are copied through a fixed buffer, never loaded whole.
 */
#ifndef QVMR_CLIENT_FDIO_H
#define QVMR_CLIENT_FDIO_H

#include <stdint.h>

#include "buf.h"

#define FDIO_CHUNK (48u << 10)   /* a multiple of 3, for base64 */

/* Appends fd's bytes until end of file; QR_ERR_TOO_LARGE once b->max would
 * be passed (what was read stays in b).  Does not close fd. */
int fd_read_all(int fd, struct buf *b);

/*
 * Copies in (a regular file) to out until end of file: with sendfile(2),
 * so the bytes never pass through us, else through a fixed buffer.  `stop`, when not NULL, is asked after
 * an interrupted read or write; when it returns non-zero the copy ends with
 * QR_ERR_INCOMPLETE.  A failed read or write is QR_ERR_SYSTEM with errno set
 * and *write_failed telling which.  *copied counts the bytes written.
 */
int fd_copy(int in, int out, int (*stop)(void), uint64_t *copied,
	    int *write_failed);

#endif
