/*
 * outbox.c - durable storage of results until they reach their VM.
 */
#include "outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "err.h"
#include "grow.h"
#include "fileio.h"
#include "frame.h"
#include "banned.h"

static int
path_fmt(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
path_fmt(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? QR_ERR_TOO_LARGE : 0;
}

static int
open_new(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (path_fmt(path, sizeof(path), "%s/%s", dir, name) != 0)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
			  O_NOFOLLOW, 0600);
}

/* Removes dir and every file in it (a crash may leave a temporary). */
static void
remove_entry_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0 &&
			    path_fmt(path, sizeof(path), "%s/%s", dir,
				     e->d_name) == 0)
				(void)unlink(path);
		closedir(d);
	}
	(void)rmdir(dir);
}

/* Allocates len bytes of fd's file (glibc writes zeros where the file
 * system has no fallocate). */
static int
reserve(int fd, size_t len)
{
	int e = posix_fallocate(fd, 0, (off_t)len);

	errno = e;
	return e == 0 ? 0 : QR_ERR_SYSTEM;
}

int
outbox_volatile_dir(char out[PATH_MAX], const char *runtime_dir)
{
	return path_fmt(out, PATH_MAX, "%s/_volatile", runtime_dir);
}

int
outbox_begin(const char *base, const char *vm, const char *cid,
	     const char *claim, struct outbox_writer *w)
{
	char vmdir[PATH_MAX];
	int r;

	memset(w->written, 0, sizeof(w->written));
	memset(w->flushed, 0, sizeof(w->flushed));
	w->out_fd = w->err_fd = w->meta_fd = -1;
	if ((r = path_fmt(vmdir, sizeof(vmdir), "%s/outbox/%s", base,
			  vm)) != 0 ||
	    (r = path_fmt(w->dir, sizeof(w->dir), "%s/%s+%s", vmdir, cid,
			  claim)) != 0 ||
	    (r = path_fmt(w->tmpdir, sizeof(w->tmpdir), "%s/.%s+%s", vmdir,
			  cid, claim)) != 0)
		return r;
	if ((r = mkdir_p(vmdir, 0700)) != 0)
		return r;
	remove_entry_dir(w->tmpdir);
	if (mkdir(w->tmpdir, 0700) < 0)
		return QR_ERR_SYSTEM;
	w->out_fd = open_new(w->tmpdir, "out");
	w->err_fd = open_new(w->tmpdir, "err");
	w->meta_fd = open_new(w->tmpdir, "meta");
	if (w->out_fd < 0 || w->err_fd < 0 || w->meta_fd < 0 ||
	    reserve(w->meta_fd, OUTBOX_META_RESERVE) != 0) {
		int e = errno;
		outbox_abort(w);
		errno = e;
		return QR_ERR_SYSTEM;
	}
	return 0;
}

static void
close_all(struct outbox_writer *w)
{
	int *fds[] = { &w->out_fd, &w->err_fd, &w->meta_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void
outbox_abort(struct outbox_writer *w)
{
	close_all(w);
	remove_entry_dir(w->tmpdir);
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	int r;

	if (fd < 0)
		return QR_ERR_SYSTEM;
	r = fsync(fd) < 0 ? QR_ERR_SYSTEM : 0;
	close(fd);
	return r;
}

static void
entry_fill(struct deliver_item *e, const char *dir, const char *cid,
	   const char *claim, const struct result_meta *m)
{
	memset(e, 0, sizeof(*e));
	/* lengths were checked by the grammar of both names */
	memcpy(e->cid, cid, strnlen(cid, CID_MAX));
	memcpy(e->claim, claim, strnlen(claim, CLAIM_MAX));
	e->exit_code = m->exit_code;
	e->status = m->status;
	memcpy(e->dir, dir, strnlen(dir, sizeof(e->dir) - 1));
}

int
outbox_append(struct outbox_writer *w, int i, const void *p, size_t n)
{
	int fd = i == 0 ? w->out_fd : w->err_fd;
	int r = write_all(fd, p, n);

	if (r != 0)
		return r;
	w->written[i] += n;
	if (n > 0)
		w->last[i] = ((const unsigned char *)p)[n - 1];
	if (w->written[i] - w->flushed[i] >= OUTBOX_WRITEBACK) {
		/* a hint: where it fails the commit's fsync does it all */
		(void)sync_file_range(fd, (off_t)w->flushed[i],
				      (off_t)(w->written[i] - w->flushed[i]),
				      SYNC_FILE_RANGE_WRITE);
		w->flushed[i] = w->written[i];
	}
	return 0;
}

int
outbox_commit(struct outbox_writer *w, const char *cid, const char *claim,
	      const struct result_meta *m, struct deliver_item *e)
{
	struct buf meta = BUF_INIT(4096);
	char parent[PATH_MAX];
	char *slash;
	int r;

	if ((r = result_meta_format(&meta, m)) != 0)
		goto out;
	if (meta.len > OUTBOX_META_RESERVE) {
		r = QR_ERR_TOO_LARGE;
		goto out;
	}
	r = QR_ERR_SYSTEM;
	/* into the room outbox_begin kept: this cannot run out of space */
	if (pwrite(w->meta_fd, meta.data, meta.len, 0) != (ssize_t)meta.len ||
	    ftruncate(w->meta_fd, (off_t)meta.len) < 0 ||
	    fsync(w->out_fd) < 0 || fsync(w->err_fd) < 0 ||
	    fsync(w->meta_fd) < 0)
		goto out;
	close_all(w);
	remove_entry_dir(w->dir);    /* a stale copy from a crashed run */
	if (rename(w->tmpdir, w->dir) < 0)
		goto out;
	memcpy(parent, w->dir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash != NULL)
		*slash = '\0';
	if ((r = fsync_path(parent)) != 0)
		goto out;
	entry_fill(e, w->dir, cid, claim, m);
	r = 0;
out:
	buf_release(&meta);
	if (r != 0)
		outbox_abort(w);
	return r;
}

/*
 * The entry leaves its committed name in one rename, to a dot-name that
 * outbox_scan clears, and only then loses its files: a crash in between
 * leaves garbage, never a committed entry without meta (which no scan
 * would load or clear) or one without out (which would be delivered
 * again, empty).
 */
int
outbox_remove(const struct deliver_item *e)
{
	char gone[PATH_MAX];
	const char *slash = strrchr(e->dir, '/');
	int r;

	if (slash == NULL)
		return QR_ERR_INVALID;
	if ((r = path_fmt(gone, sizeof(gone), "%.*s/.gone-%s",
			  (int)(slash - e->dir), e->dir, slash + 1)) != 0)
		return r;
	remove_entry_dir(gone);     /* one a crash left behind */
	if (rename(e->dir, gone) < 0)
		return errno == ENOENT ? 0 : QR_ERR_SYSTEM;
	remove_entry_dir(gone);
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct deliver_item *x = a, *y = b;

	return strcmp(x->cid, y->cid);
}

/* Loads one committed entry named "<cid>+<claim>"; QR_ERR_INVALID if not. */
static int
entry_load(const char *vmdir, const char *name, struct deliver_item *e)
{
	struct buf meta = BUF_INIT(4096);
	struct result_meta m;
	const char *plus = strchr(name, '+');
	char cid[CID_MAX + 1], dir[PATH_MAX], path[PATH_MAX];
	size_t clen;
	int r;

	if (plus == NULL || (clen = (size_t)(plus - name)) > CID_MAX ||
	    !cid_valid(name, clen) || !claim_valid(plus + 1, strlen(plus + 1)))
		return QR_ERR_INVALID;
	memcpy(cid, name, clen);
	cid[clen] = '\0';
	if ((r = path_fmt(dir, sizeof(dir), "%s/%s", vmdir, name)) != 0 ||
	    (r = path_fmt(path, sizeof(path), "%s/meta", dir)) != 0 ||
	    (r = read_file(path, &meta)) != 0 ||
	    (r = result_meta_parse(meta.data, meta.len, &m)) != 0)
		goto out;
	entry_fill(e, dir, cid, plus + 1, &m);
out:
	buf_release(&meta);
	return r;
}

int
outbox_scan(const char *state_dir, const char *vm, struct deliver_item **out,
	    size_t *n)
{
	char vmdir[PATH_MAX], path[PATH_MAX];
	struct deliver_item *v = NULL, *grown;
	size_t len = 0, cap = 0;
	struct dirent *d;
	DIR *dir;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = path_fmt(vmdir, sizeof(vmdir), "%s/outbox/%s", state_dir,
			  vm)) != 0)
		return r;
	if ((dir = opendir(vmdir)) == NULL)
		return errno == ENOENT ? 0 : QR_ERR_SYSTEM;
	r = 0;
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (d->d_name[0] == '.') {
			if (path_fmt(path, sizeof(path), "%s/%s", vmdir,
				     d->d_name) == 0)
				remove_entry_dir(path);
			continue;
		}
		if ((grown = grow_array(v, &cap, len, sizeof(*v), 16)) == NULL) {
			r = QR_ERR_NOMEM;
			break;
		}
		v = grown;
		if (entry_load(vmdir, d->d_name, &v[len]) == 0)
			len++;
	}
	closedir(dir);
	if (r != 0) {
		free(v);
		return r;
	}
	if (len > 1)
		qsort(v, len, sizeof(*v), entry_cmp);
	*out = v;
	*n = len;
	return 0;
}
