/*
 * test_lib_fileio.c - bounded reads, atomic writes, mkdir -p.
 */
#include "fileio.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

struct tmp {
	char dir[64];
	char path[256];
};

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	memcpy(t->dir, "/tmp/qvmr-fileio-XXXXXX", 24);
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static const char *tpath(struct tmp *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

static void put(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_read(void **state)
{
	struct tmp *t = *state;
	struct buf b = BUF_INIT(10);

	put(tpath(t, "f"), "hello\0you", 9);
	assert_int_equal(read_file(t->path, &b), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "hello\0you", 9);
	assert_int_equal(b.data[9], '\0');
	/* appends; one byte more than max fails and leaves b as it was */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(read_file(t->path, &b), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "ab");
	assert_int_equal(b.len, 2);
	b.max = 11;
	assert_int_equal(read_file(t->path, &b), 0);
	assert_int_equal(b.len, 11);
	/* empty file */
	buf_reset(&b);
	put(tpath(t, "empty"), "", 0);
	assert_int_equal(read_file(t->path, &b), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_read_large(void **state)
{
	struct tmp *t = *state;
	struct buf b = BUF_INIT(100000);
	static uint8_t data[100000];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31);
	put(tpath(t, "big"), data, sizeof(data));
	assert_int_equal(read_file(t->path, &b), 0);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.data, data, sizeof(data));
	buf_reset(&b);
	b.max = sizeof(data) - 1;
	assert_int_equal(read_file(t->path, &b), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_read_refuses(void **state)
{
	struct tmp *t = *state;
	struct buf b = BUF_INIT(100);
	char target[256];

	assert_int_equal(read_file(tpath(t, "none"), &b), QR_ERR_NOT_FOUND);
	put(tpath(t, "real"), "x", 1);
	snprintf(target, sizeof(target), "%s", t->path);
	assert_int_equal(symlink(target, tpath(t, "link")), 0);
	assert_int_equal(read_file(t->path, &b), QR_ERR_SYSTEM);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(mkdir(tpath(t, "dir"), 0700), 0);
	assert_int_equal(read_file(t->path, &b), QR_ERR_INVALID);
	/* a FIFO neither hangs nor is read */
	assert_int_equal(mkfifo(tpath(t, "fifo"), 0600), 0);
	assert_int_equal(read_file(t->path, &b), QR_ERR_INVALID);
	assert_int_equal(read_file(tpath(t, "real/x"), &b), QR_ERR_SYSTEM);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_write_atomic(void **state)
{
	struct tmp *t = *state;
	struct buf b = BUF_INIT(100);
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(write_file_atomic(t->dir, "out", "data\n", 5, 0644, 1),
			 0);
	umask(old);
	assert_int_equal(stat(tpath(t, "out"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);   /* umask does not apply */
	assert_int_equal(read_file(t->path, &b), 0);
	assert_string_equal(buf_str(&b), "data\n");
	/* replaces, without fsync too; the mode is the new one */
	assert_int_equal(write_file_atomic(t->dir, "out", "new", 3, 0600, 0),
			 0);
	buf_reset(&b);
	assert_int_equal(read_file(t->path, &b), 0);
	assert_string_equal(buf_str(&b), "new");
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* empty contents */
	assert_int_equal(write_file_atomic(t->dir, "empty", NULL, 0, 0600, 1),
			 0);
	assert_int_equal(stat(tpath(t, "empty"), &st), 0);
	assert_int_equal(st.st_size, 0);
	/* no temporaries left */
	assert_int_equal(count_entries(t->dir), 2);
	buf_release(&b);
}

static void test_write_errors(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(write_file_atomic(t->dir, "", "x", 1, 0600, 0),
			 QR_ERR_INVALID);
	assert_int_equal(write_file_atomic(t->dir, "a/b", "x", 1, 0600, 0),
			 QR_ERR_INVALID);
	assert_int_equal(write_file_atomic(t->dir, ".", "x", 1, 0600, 0),
			 QR_ERR_INVALID);
	assert_int_equal(write_file_atomic(t->dir, "..", "x", 1, 0600, 0),
			 QR_ERR_INVALID);
	assert_int_equal(write_file_atomic("", "x", "x", 1, 0600, 0),
			 QR_ERR_INVALID);
	assert_int_equal(write_file_atomic(t->dir, "x", NULL, 1, 0600, 0),
			 QR_ERR_INVALID);
	{
		char longd[5000];

		memset(longd, 'a', sizeof(longd) - 1);
		longd[0] = '/';
		longd[sizeof(longd) - 1] = '\0';
		assert_int_equal(write_file_atomic(longd, "x", "x", 1, 0600, 0),
				 QR_ERR_TOO_LARGE);
	}
	assert_int_equal(write_file_atomic(tpath(t, "missing"), "x", "x", 1,
					   0600, 0), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	/* the target is a directory: rename fails, the temporary goes */
	assert_int_equal(mkdir(tpath(t, "d"), 0700), 0);
	assert_int_equal(mkdir(tpath(t, "d/sub"), 0700), 0);
	put(tpath(t, "d/sub/x"), "x", 1);
	assert_int_equal(write_file_atomic(tpath(t, "d"), "sub", "x", 1, 0600,
					   1), QR_ERR_SYSTEM);
	assert_int_equal(count_entries(tpath(t, "d")), 1);
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_all(void **state)
{
	char back[16];
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write_all(p[1], "abc", 3), 0);
	assert_int_equal(write_all(p[1], NULL, 0), 0);
	assert_int_equal(read(p[0], back, sizeof(back)), 3);
	assert_memory_equal(back, "abc", 3);
	close(p[0]);
	close(p[1]);
	assert_int_equal(write_all(-1, "x", 1), QR_ERR_SYSTEM);
	assert_int_equal(errno, EBADF);
}

static void test_mkdir_p(void **state)
{
	struct tmp *t = *state;
	struct stat st;
	char longp[5000];

	assert_int_equal(mkdir_p(tpath(t, "a/b//c/"), 0700), 0);
	assert_int_equal(stat(tpath(t, "a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* existing is fine */
	assert_int_equal(mkdir_p(tpath(t, "a/b/c"), 0700), 0);
	assert_int_equal(mkdir_p(t->dir, 0700), 0);
	/* a file in the way */
	put(tpath(t, "a/file"), "x", 1);
	assert_int_equal(mkdir_p(tpath(t, "a/file/d"), 0700), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(mkdir_p(tpath(t, "a/file"), 0700), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(mkdir_p("", 0700), QR_ERR_INVALID);
	assert_int_equal(mkdir_p(NULL, 0700), QR_ERR_INVALID);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(mkdir_p(longp, 0700), QR_ERR_TOO_LARGE);
}

/* In place, at an offset: what the log's seal state is written with. */
static void test_pwrite_pread_at_offset(void **state)
{
	struct tmp *t = *state;
	char back[16];
	size_t got = 99;
	int fd = open(tpath(t, "st"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite_all(fd, "0123456789", 10, 0), 0);
	assert_int_equal(pwrite_all(fd, "abc", 3, 4), 0);
	assert_int_equal(pread_full(fd, back, sizeof(back), 0, &got), 0);
	/* stops at the end of the file */
	assert_int_equal(got, 10);
	assert_memory_equal(back, "0123abc789", 10);
	assert_int_equal(pread_full(fd, back, 4, 8, &got), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(back, "89", 2);
	close(fd);
	assert_int_equal(pread_full(fd, back, 4, 0, &got), QR_ERR_SYSTEM);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pwrite_pread_at_offset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_large, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup,
						teardown),
		cmocka_unit_test(test_write_all),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
