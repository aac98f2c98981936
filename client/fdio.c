/*
 * fdio.c - bounded reads and fixed-buffer copies on file descriptors.
 */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>
#include <sys/sendfile.h>

#include "err.h"
#include "fileio.h"

#include "banned.h"

#define SENDFILE_MAX ((size_t)1 << 30)   /* bytes asked of one call */

int fd_read_all(int fd, struct buf *b)
{
	char chunk[16384];
	ssize_t n;
	int r;

	for (;;) {
		if ((n = read_once(fd, chunk, sizeof(chunk))) < 0)
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

/* In the kernel, with no copy through us: 1 when sendfile(2) cannot do
 * this pair (an old kernel, an odd descriptor) and nothing was sent. */
static int send_in_kernel(int in, int out, int (*stop)(void),
			  uint64_t *copied, int *write_failed, int *r)
{
	ssize_t n;

	for (;;) {
		if (stop && stop()) {
			*r = QR_ERR_INCOMPLETE;
			return 0;
		}
		n = sendfile(out, in, NULL, SENDFILE_MAX);
		if (n > 0) {
			*copied += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			*r = 0;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EINVAL || errno == ENOSYS) && *copied == 0)
			return 1;
		/* which end failed: these are the writing side's */
		*write_failed = errno == EPIPE || errno == ENOSPC ||
				errno == EAGAIN || errno == EDQUOT ||
				errno == EFBIG;
		*r = QR_ERR_SYSTEM;
		return 0;
	}
}

int fd_copy(int in, int out, int (*stop)(void), uint64_t *copied,
	    int *write_failed)
{
	static char chunk[FDIO_CHUNK];
	ssize_t n;
	int r;

	*write_failed = 0;
	*copied = 0;
	if (send_in_kernel(in, out, stop, copied, write_failed, &r) == 0)
		return r;
	for (;;) {
		if (stop && stop())
			return QR_ERR_INCOMPLETE;
		if ((n = read_once(in, chunk, sizeof(chunk))) < 0)
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
