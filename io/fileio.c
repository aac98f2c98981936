/*
 * fileio.c - bounded whole-file reads and atomic writes.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#include "banned.h"

#define READ_CHUNK 16384

int open_regular(const char *path, struct stat *st)
{
	int fd, e, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	if (fstat(fd, st) != 0)
		r = QR_ERR_SYSTEM;
	else if (!S_ISREG(st->st_mode))
		r = QR_ERR_INVALID;
	else
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int read_file(const char *path, struct buf *b)
{
	char chunk[READ_CHUNK];
	size_t orig = b->len, got;
	struct stat st;
	int fd, r, saved;

	if ((fd = open_regular(path, &st)) < 0)
		return fd;
	if ((uint64_t)st.st_size > b->max - b->len) {
		r = QR_ERR_TOO_LARGE;
		goto out;
	}
	do {
		if ((r = read_full(fd, chunk, sizeof(chunk), &got)) != 0 ||
		    (r = buf_append(b, chunk, got)) != 0)
			goto out;
	} while (got == sizeof(chunk));
out:
	saved = errno;
	close(fd);
	if (r != 0)
		buf_truncate(b, orig);
	errno = saved;
	return r;
}

int pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = pwrite(fd, c, n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return QR_ERR_SYSTEM;
		}
		c += k;
		off += k;
		n -= (size_t)k;
	}
	return 0;
}

ssize_t read_once(int fd, void *p, size_t n)
{
	ssize_t k;

	do
		k = read(fd, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

/* read(2), or pread(2) at off when off >= 0, until n bytes or the end. */
static int read_until(int fd, void *p, size_t n, off_t off, size_t *got)
{
	char *c = p;

	*got = 0;
	while (*got < n) {
		ssize_t k = off < 0 ? read(fd, c + *got, n - *got)
			  : pread(fd, c + *got, n - *got, off + (off_t)*got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return QR_ERR_SYSTEM;
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return 0;
}

int read_full(int fd, void *p, size_t n, size_t *got)
{
	return read_until(fd, p, n, -1, got);
}

int pread_full(int fd, void *p, size_t n, off_t off, size_t *got)
{
	if (off < 0) {
		errno = EINVAL;
		return QR_ERR_SYSTEM;
	}
	return read_until(fd, p, n, off, got);
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, c, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return QR_ERR_SYSTEM;
		}
		if (k == 0) {
			errno = EIO;
			return QR_ERR_SYSTEM;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A single component that is not "." or "..". */
static int name_ok(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int write_file_atomic(const char *dir, const char *name, const void *data,
		      size_t n, mode_t mode, int do_fsync)
{
	struct buf tmp = BUF_INIT(PATH_MAX), dst = BUF_INIT(PATH_MAX);
	int fd = -1, dfd = -1, created = 0, r, saved;

	if (dir == NULL || name == NULL || dir[0] == '\0' || !name_ok(name) ||
	    (data == NULL && n > 0))
		return QR_ERR_INVALID;
	if ((r = buf_printf(&tmp, "%s/.%s.tmp.XXXXXX", dir, name)) != 0 ||
	    (r = buf_printf(&dst, "%s/%s", dir, name)) != 0)
		goto out;
	/* mkostemp creates the file 0600, so nothing is ever readable by
	 * others before the fchmod below */
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	created = 1;
	if (fchmod(fd, mode) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if ((r = write_all(fd, data, n)) != 0)
		goto out;
	if (do_fsync && fsync(fd) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (rename(tmp.data, dst.data) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	created = 0;
	if (do_fsync) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0) {
			r = QR_ERR_SYSTEM;
			goto out;
		}
	}
	r = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (created)
		unlink(tmp.data);
	buf_release(&tmp);
	buf_release(&dst);
	errno = saved;
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	struct stat st;
	size_t len, i;
	char c;

	if (path == NULL || path[0] == '\0')
		return QR_ERR_INVALID;
	len = strnlen(path, sizeof(p));
	if (len >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return QR_ERR_TOO_LARGE;
	}
	memcpy(p, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue;        /* "//" or a trailing '/' */
		c = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) != 0) {
			if (errno != EEXIST)
				return QR_ERR_SYSTEM;
			if (stat(p, &st) != 0)
				return QR_ERR_SYSTEM;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return QR_ERR_SYSTEM;
			}
		}
		p[i] = c;
	}
	return 0;
}
