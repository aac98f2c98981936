/*
 * policydir.c - the policy read from its directory (policydir.h).
 *
 * Fails closed: anything that keeps a .policy file from being read whole
 * refuses the whole directory, since any file may hold the deny rule that
 * matters.  Only a directory that does not exist means "no policy".
 */
#include "policydir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"

#include "banned.h"

#define SUFFIX ".policy"
#define SUFFIX_LEN (sizeof(SUFFIX) - 1)
#define READ_CHUNK 16384

static void fail(struct policy_error *err, const char *file,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(struct policy_error *err, const char *file,
		 const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	for (i = 0; file[i] != '\0' && i < POLICY_NAME_MAX; i++)
		err->file[i] = (file[i] >= 0x20 && file[i] <= 0x7e) ?
			       file[i] : '?';
	va_start(ap, fmt);
	if (vsnprintf(err->reason, sizeof(err->reason), fmt, ap) < 0)
		err->reason[0] = '\0';
	va_end(ap);
}

static bool wanted(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > SUFFIX_LEN &&
	       memcmp(name + n - SUFFIX_LEN, SUFFIX, SUFFIX_LEN) == 0;
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Root's policy must be root's alone; others run it unchecked (tests). */
static int check_owner(const struct stat *st, const char *file,
		       const char *what, struct policy_error *err)
{
	if (geteuid() != 0)
		return 0;
	if (st->st_uid != 0) {
		fail(err, file, "%s is owned by uid %lu, not root; chown it "
		     "to root", what, (unsigned long)st->st_uid);
		return QR_ERR_PERMISSIONS;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		fail(err, file, "%s is writable by group or others; chmod "
		     "go-w it", what);
		return QR_ERR_PERMISSIONS;
	}
	return 0;
}

static int read_fd(int fd, struct buf *b)
{
	char chunk[READ_CHUNK];
	ssize_t k;
	int r;

	for (;;) {
		k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return QR_ERR_SYSTEM;
		if (k == 0)
			return 0;
		if ((r = buf_append(b, chunk, (size_t)k)) != 0)
			return r;
	}
}

static int load_one(int dfd, const char *name, struct policy *p,
		    struct policy_error *err)
{
	struct buf b = BUF_INIT(POLICY_FILE_MAX);
	struct stat st;
	int fd, r;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP) {
			fail(err, name, "a symlink (policy files are not "
			     "followed through symlinks; copy the file)");
			return QR_ERR_INVALID;
		}
		fail(err, name, "cannot open the file: %s", strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0) {
		fail(err, name, "cannot stat the file: %s", strerror(errno));
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, name, "not a regular file");
		r = QR_ERR_INVALID;
		goto out;
	}
	if ((r = check_owner(&st, name, "the file", err)) != 0)
		goto out;
	if ((unsigned long long)st.st_size > POLICY_FILE_MAX ||
	    (r = read_fd(fd, &b)) == QR_ERR_TOO_LARGE) {
		fail(err, name, "file is larger than %u bytes",
		     POLICY_FILE_MAX);
		r = QR_ERR_TOO_LARGE;
		goto out;
	}
	if (r != 0) {
		fail(err, name, "cannot read the file: %s", strerror(errno));
		goto out;
	}
	r = policy_add_file(p, name, buf_str(&b), b.len, err);
out:
	buf_release(&b);
	close(fd);
	return r;
}

/* The wanted names of d, sorted; *names is the caller's to free. */
static int list_names(DIR *d, char ***names, size_t *n,
		      struct policy_error *err)
{
	struct dirent *e;
	char **v = NULL;
	size_t k = 0, i;
	int r;

	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL)
			break;
		if (!wanted(e->d_name))
			continue;
		if (k == POLICY_FILES_MAX) {
			fail(err, "", "more than %u policy files",
			     POLICY_FILES_MAX);
			r = QR_ERR_TOO_LARGE;
			goto fail;
		}
		if (v == NULL && (v = calloc(POLICY_FILES_MAX, sizeof(*v))) ==
		    NULL)
			goto nomem;
		if ((v[k] = strdup(e->d_name)) == NULL)
			goto nomem;
		k++;
	}
	if (errno != 0) {
		fail(err, "", "cannot read the directory: %s", strerror(errno));
		r = QR_ERR_SYSTEM;
		goto fail;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), by_bytes);
	*names = v;
	*n = k;
	return 0;
nomem:
	fail(err, "", "out of memory");
	r = QR_ERR_NOMEM;
fail:
	for (i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return r;
}

int policydir_load(const char *dir, struct policy *out,
		   struct policy_error *err)
{
	struct policy next;
	char **names = NULL;
	size_t n = 0, i;
	struct stat st;
	DIR *d = NULL;
	int fd, r;

	policy_init(&next);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			policy_release(out);
			return 0;
		}
		if (errno == ENOTDIR) {
			fail(err, "", "not a directory");
			return QR_ERR_INVALID;
		}
		fail(err, "", "cannot open the directory: %s", strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0) {
		fail(err, "", "cannot stat the directory: %s", strerror(errno));
		close(fd);
		return QR_ERR_SYSTEM;
	}
	if ((r = check_owner(&st, "", "the directory", err)) != 0) {
		close(fd);
		return r;
	}
	if ((d = fdopendir(fd)) == NULL) {
		fail(err, "", "cannot read the directory: %s", strerror(errno));
		close(fd);
		return QR_ERR_SYSTEM;
	}
	if ((r = list_names(d, &names, &n, err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = load_one(dirfd(d), names[i], &next, err)) != 0)
			goto out;
	policy_release(out);
	*out = next;
	policy_init(&next);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	policy_release(&next);
	return r;
}

void policydir_error_text(const char *dir, const struct policy_error *err,
			  char *out, size_t n)
{
	int r;

	if (err->file[0] == '\0')
		r = snprintf(out, n, "%s: %s", dir, err->reason);
	else if (err->line == 0)
		r = snprintf(out, n, "%s/%s: %s", dir, err->file, err->reason);
	else
		r = snprintf(out, n, "%s/%s:%u: %s", dir, err->file, err->line,
			     err->reason);
	if (r < 0 && n > 0)
		out[0] = '\0';
}
