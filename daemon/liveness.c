/*
 * liveness.c - the daemon's lock on its runtime directory.
 */
#include "liveness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "reader.h"
#include "banned.h"

#define PID_TEXT_MAX 24

static int
lock_path(const char *dir, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/" LIVENESS_FILE, dir);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

/* The pid the file names, or 0. */
static long
read_pid(int fd)
{
	char text[PID_TEXT_MAX];
	ssize_t n;
	uint64_t pid;
	size_t len;

	while ((n = pread(fd, text, sizeof(text), 0)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return 0;
	len = (size_t)n;
	if (memchr(text, '\n', len) == NULL)
		return 0;
	len = (size_t)((char *)memchr(text, '\n', len) - text);
	if (parse_u64((const uint8_t *)text, len, INT32_MAX, &pid) != 0)
		return 0;
	return (long)pid;
}

static struct flock
whole_file(short type)
{
	struct flock l;

	memset(&l, 0, sizeof(l));
	l.l_type = type;
	l.l_whence = SEEK_SET;     /* l_start = l_len = 0: the whole file */
	return l;
}

int
liveness_lock(const char *runtime_dir, int *fd, long *other)
{
	char path[PATH_MAX], text[PID_TEXT_MAX];
	struct flock l = whole_file(F_WRLCK);
	int f, n, r, e;

	*fd = -1;
	*other = 0;
	if ((r = lock_path(runtime_dir, path)) != 0)
		return r;
	f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return QR_ERR_SYSTEM;
	if (fcntl(f, F_OFD_SETLK, &l) != 0) {
		e = errno;
		if (e == EAGAIN || e == EACCES) {
			*other = read_pid(f);
			close(f);
			return QR_ERR_EXISTS;
		}
		close(f);
		errno = e;
		return QR_ERR_SYSTEM;
	}
	/* ours now: what an earlier daemon wrote is stale */
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(f, 0) != 0 ||
	    pwrite(f, text, (size_t)n, 0) != (ssize_t)n) {
		e = errno;
		close(f);
		errno = e;
		return QR_ERR_SYSTEM;
	}
	*fd = f;
	return 0;
}

int
liveness_probe(const char *runtime_dir, long *pid)
{
	char path[PATH_MAX];
	struct flock l = whole_file(F_WRLCK);
	int f, r, e;

	*pid = 0;
	if ((r = lock_path(runtime_dir, path)) != 0)
		return r;
	f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (f < 0)
		return errno == ENOENT ? 0 : QR_ERR_SYSTEM;
	if (fcntl(f, F_OFD_GETLK, &l) != 0) {
		e = errno;
		close(f);
		errno = e;
		return QR_ERR_SYSTEM;
	}
	if (l.l_type == F_UNLCK) {
		close(f);
		return 0;
	}
	*pid = read_pid(f);
	close(f);
	return 1;
}
