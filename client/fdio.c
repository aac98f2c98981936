/*
 * fdio.c - bounded reads and fixed-buffer copies on file descriptors.
 */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>

#include "err.h"

#include "banned.h"

int fd_read_all(int fd, struct buf *b)
{
	char chunk[16384];
	ssize_t n;
	int r;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QR_ERR_SYSTEM;
		if (n == 0)
			return 0;
		if ((r = buf_append(b, chunk, (size_t)n)) != 0)
			return r;
	}
}

static int write_some(int out, const char *p, size_t n, int (*stop)(void))
{
	ssize_t w;

	while (n > 0) {
		w = write(out, p, n);
		if (w < 0 && errno == EINTR) {
			if (stop && stop())
				return QR_ERR_INCOMPLETE;
			continue;
		}
		if (w < 0)
			return QR_ERR_SYSTEM;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fd_copy(int in, int out, int (*stop)(void), uint64_t *copied,
	    int *write_failed)
{
	static char chunk[FDIO_CHUNK];
	ssize_t n;
	int r;

	*write_failed = 0;
	*copied = 0;
	for (;;) {
		if (stop && stop())
			return QR_ERR_INCOMPLETE;
		n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QR_ERR_SYSTEM;
		if (n == 0)
			return 0;
		if ((r = write_some(out, chunk, (size_t)n, stop)) != 0) {
			*write_failed = r == QR_ERR_SYSTEM;
			return r;
		}
		*copied += (uint64_t)n;
	}
}
