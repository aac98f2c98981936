/*
 * test_daemon_keystore.c - dom0's per-VM key files.
 */
#include "keystore.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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

#define KEY_A "574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c"
#define KEY_B "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct fx {
	char top[64];
	char dir[96];
	char path[160];
	struct key a, b;
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->top, sizeof(f->top), "/tmp/qvmr-keystore-XXXXXX");
	if (mkdtemp(f->top) == NULL) {
		free(f);
		return -1;
	}
	/* a path below a directory that does not exist yet: ensure_dir
	 * creates both */
	snprintf(f->dir, sizeof(f->dir), "%s/etc/remote.d", f->top);
	if (key_parse(KEY_A, 64, &f->a) != 0 || key_parse(KEY_B, 64, &f->b))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->top, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static const char *
kpath(struct fx *f, const char *vm)
{
	snprintf(f->path, sizeof(f->path), "%s/%s.key", f->dir, vm);
	return f->path;
}

static void
test_missing_dir(void **state)
{
	struct fx *f = *state;
	char msg[256];
	struct name_list l;
	struct key k;

	assert_int_equal(keystore_check_dir(f->dir, msg, sizeof(msg)),
			 QR_ERR_NOT_FOUND);
	assert_non_null(strstr(msg, "does not exist"));
	assert_int_equal(keystore_load(f->dir, "work", &k), QR_ERR_NOT_FOUND);
	assert_int_equal(keystore_list(f->dir, &l), QR_ERR_NOT_FOUND);
	assert_int_equal(l.n, 0);
}

static void
test_store_load_list_remove(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1];
	struct name_list l;
	struct stat st;
	struct key k;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(keystore_check_dir(f->dir, NULL, 0), 0);
	/* twice is fine */
	assert_int_equal(keystore_ensure_dir(f->dir), 0);

	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	assert_string_equal(other, "");
	assert_int_equal(stat(kpath(f, "work"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keystore_load(f->dir, "work", &k), 0);
	assert_true(key_equal(&k, &f->a));

	assert_int_equal(keystore_store(f->dir, "personal", &f->b, other), 0);
	assert_int_equal(keystore_list(f->dir, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.name[0], "personal");
	assert_string_equal(l.name[1], "work");

	assert_int_equal(keystore_remove(f->dir, "work"), 0);
	assert_int_equal(keystore_remove(f->dir, "work"), QR_ERR_NOT_FOUND);
	assert_int_equal(keystore_load(f->dir, "work", &k), QR_ERR_NOT_FOUND);
	assert_int_equal(keystore_list(f->dir, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.name[0], "personal");
	key_wipe(&k);
}

static void
test_duplicate_key_refused(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1];
	struct stat st;
	struct key k;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	assert_int_equal(keystore_store(f->dir, "personal", &f->a, other),
			 QR_ERR_EXISTS);
	assert_string_equal(other, "work");
	assert_int_equal(stat(kpath(f, "personal"), &st), -1);
	/* a VM may keep or replace its own key */
	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	assert_int_equal(keystore_store(f->dir, "work", &f->b, other), 0);
	assert_int_equal(keystore_load(f->dir, "work", &k), 0);
	assert_true(key_equal(&k, &f->b));
	/* and now the old key is free for another VM */
	assert_int_equal(keystore_store(f->dir, "personal", &f->a, other), 0);
	key_wipe(&k);
}

static void
test_loose_key_file_refused(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1];
	struct key k;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	assert_int_equal(chmod(kpath(f, "work"), 0644), 0);
	assert_int_equal(keystore_load(f->dir, "work", &k), QR_ERR_PERMISSIONS);
	assert_int_equal(chmod(kpath(f, "work"), 0640), 0);
	assert_int_equal(keystore_load(f->dir, "work", &k), QR_ERR_PERMISSIONS);
	assert_int_equal(chmod(kpath(f, "work"), 0600), 0);
	assert_int_equal(keystore_load(f->dir, "work", &k), 0);
	key_wipe(&k);
}

static void
test_loose_dir_refused(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1], msg[512], want[256];
	struct name_list l;
	struct key k;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(keystore_check_dir(f->dir, msg, sizeof(msg)),
			 QR_ERR_PERMISSIONS);
	snprintf(want, sizeof(want), "keys directory %s is accessible by "
		 "others; fix with: chmod 700 %s", f->dir, f->dir);
	assert_string_equal(msg, want);
	assert_int_equal(keystore_store(f->dir, "personal", &f->b, other),
			 QR_ERR_PERMISSIONS);
	assert_int_equal(keystore_load(f->dir, "work", &k), QR_ERR_PERMISSIONS);
	assert_int_equal(keystore_list(f->dir, &l), QR_ERR_PERMISSIONS);
	/* a group bit alone is enough to refuse */
	assert_int_equal(chmod(f->dir, 0710), 0);
	assert_int_equal(keystore_check_dir(f->dir, NULL, 0),
			 QR_ERR_PERMISSIONS);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(keystore_load(f->dir, "work", &k), 0);
	key_wipe(&k);
}

static void
test_not_a_directory(void **state)
{
	struct fx *f = *state;
	char msg[512];
	int fd;

	snprintf(f->path, sizeof(f->path), "%s/file", f->top);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(keystore_check_dir(f->path, msg, sizeof(msg)),
			 QR_ERR_PERMISSIONS);
	assert_non_null(strstr(msg, "not a directory"));
}

static void
test_bad_vm_names(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1];
	struct key k;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(keystore_store(f->dir, "../evil", &f->a, other),
			 QR_ERR_INVALID);
	assert_int_equal(keystore_store(f->dir, "dom0", &f->a, other),
			 QR_ERR_INVALID);
	assert_int_equal(keystore_store(f->dir, "", &f->a, other),
			 QR_ERR_INVALID);
	assert_int_equal(keystore_load(f->dir, "a/b", &k), QR_ERR_INVALID);
	assert_int_equal(keystore_remove(f->dir, ".hidden"), QR_ERR_INVALID);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_list_ignores_other_names(void **state)
{
	struct fx *f = *state;
	char other[VMNAME_MAX + 1], p[256];
	struct name_list l;

	assert_int_equal(keystore_ensure_dir(f->dir), 0);
	assert_int_equal(keystore_store(f->dir, "work", &f->a, other), 0);
	snprintf(p, sizeof(p), "%s/notes.txt", f->dir);
	put(p, "x");
	snprintf(p, sizeof(p), "%s/.work.key.tmp.abcdef", f->dir);
	put(p, KEY_B);
	snprintf(p, sizeof(p), "%s/bad name.key", f->dir);
	put(p, KEY_B);
	snprintf(p, sizeof(p), "%s/dom0.key", f->dir);
	put(p, KEY_B);
	snprintf(p, sizeof(p), "%s/.key", f->dir);
	put(p, KEY_B);
	snprintf(p, sizeof(p), "%s/sub.key", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/link.key", f->dir);
	assert_int_equal(symlink("work.key", p), 0);

	assert_int_equal(keystore_list(f->dir, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.name[0], "work");
	/* an unreadable neighbour does not block a store */
	snprintf(p, sizeof(p), "%s/broken.key", f->dir);
	put(p, "not a key");
	assert_int_equal(keystore_store(f->dir, "personal", &f->b, other), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_load_list_remove,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_key_file_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_dir_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_a_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_vm_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_ignores_other_names,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
