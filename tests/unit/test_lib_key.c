/*
 * test_lib_key.c - key parsing, files, generation and fingerprints.
 */
#include "key.h"
#include "keyfile.h"

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

#define KEYHEX "574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c"
#define KEYHEX_UPPER \
	"574B3FE52C6E8362DFC70319FE7EC6C73CFFA1C9759CF9DFFC3D2163879D253C"

struct tmp {
	char dir[64];
	char path[128];
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
	memcpy(t->dir, "/tmp/qvmr-key-XXXXXX", 21);
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

static void put(const char *path, const char *text, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Directory entries other than "." and "..". */
static int count_entries(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_parse(void **state)
{
	struct key k;

	assert_int_equal(key_parse(KEYHEX, 64, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
	assert_int_equal(key_parse(KEYHEX "\n", 65, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
	assert_int_equal(key_parse(KEYHEX "\r\n", 66, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
	/* uppercase is normalised: the HMAC key is the lowercase text */
	memset(&k, 0, sizeof(k));
	assert_int_equal(key_parse(KEYHEX_UPPER "\n", 65, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
}

static void test_parse_invalid(void **state)
{
	struct key k;
	char s[70];

	memset(&k, 'z', sizeof(k));
	assert_int_equal(key_parse(KEYHEX, 63, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse("", 0, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(NULL, 64, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(KEYHEX "\n\n", 66, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(KEYHEX " ", 65, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(KEYHEX "\r", 65, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(KEYHEX "0", 65, &k), QR_ERR_INVALID);
	assert_int_equal(key_parse(KEYHEX "\n\r", 66, &k), QR_ERR_INVALID);
	memcpy(s, KEYHEX, 64);
	s[10] = 'g';
	assert_int_equal(key_parse(s, 64, &k), QR_ERR_INVALID);
	s[10] = '\0';
	assert_int_equal(key_parse(s, 64, &k), QR_ERR_INVALID);
	/* a failed parse leaves the output alone */
	assert_int_equal(k.hex[0], 'z');
}

static void test_read_ok(void **state)
{
	struct tmp *t = *state;
	struct key k;

	put(tpath(t, "auth.key"), KEYHEX "\n", 65, 0600);
	assert_int_equal(key_read_file(t->path, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
	put(tpath(t, "upper.key"), KEYHEX_UPPER, 64, 0400);
	assert_int_equal(key_read_file(t->path, &k), 0);
	assert_string_equal(k.hex, KEYHEX);
	key_wipe(&k);
}

static void test_read_permissions(void **state)
{
	struct tmp *t = *state;
	struct key k;

	put(tpath(t, "open.key"), KEYHEX "\n", 65, 0644);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_PERMISSIONS);
	put(tpath(t, "group.key"), KEYHEX "\n", 65, 0640);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_PERMISSIONS);
	put(tpath(t, "other.key"), KEYHEX "\n", 65, 0604);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_PERMISSIONS);
	put(tpath(t, "x.key"), KEYHEX "\n", 65, 0610);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_PERMISSIONS);
}

static void test_read_errors(void **state)
{
	struct tmp *t = *state;
	char target[128], big[200];
	struct key k;

	assert_int_equal(key_read_file(tpath(t, "missing"), &k),
			 QR_ERR_NOT_FOUND);
	/* contents */
	put(tpath(t, "bad.key"), "not a key\n", 10, 0600);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
	put(tpath(t, "empty.key"), "", 0, 0600);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
	/* larger than KEY_FILE_MAX, even if it starts with a key */
	memset(big, '\n', sizeof(big));
	memcpy(big, KEYHEX, 64);
	put(tpath(t, "big.key"), big, sizeof(big), 0600);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
	put(tpath(t, "max.key"), big, KEY_FILE_MAX, 0600);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
	/* a symlink in the last component is not followed */
	put(tpath(t, "real.key"), KEYHEX "\n", 65, 0600);
	snprintf(target, sizeof(target), "%s", t->path);
	assert_int_equal(symlink(target, tpath(t, "link.key")), 0);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_SYSTEM);
	assert_int_equal(errno, ELOOP);
	/* not a regular file */
	assert_int_equal(mkdir(tpath(t, "dir.key"), 0700), 0);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
	assert_int_equal(mkfifo(tpath(t, "fifo.key"), 0600), 0);
	assert_int_equal(key_read_file(t->path, &k), QR_ERR_INVALID);
}

static void test_write(void **state)
{
	struct tmp *t = *state;
	struct key k, back;
	struct stat st;
	char text[80];
	ssize_t n;
	int fd;

	assert_int_equal(key_parse(KEYHEX, 64, &k), 0);
	/* over a looser existing file: the result is 0600 */
	put(tpath(t, "auth.key"), "old", 3, 0644);
	assert_int_equal(key_write_file(t->path, &k), 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	fd = open(t->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text));
	close(fd);
	assert_int_equal(n, 65);
	assert_memory_equal(text, KEYHEX "\n", 65);
	assert_int_equal(key_read_file(t->path, &back), 0);
	assert_true(key_equal(&k, &back));
	/* no temporary left behind */
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_relative(void **state)
{
	struct tmp *t = *state;
	char cwd[4096];
	struct key k, back;

	assert_int_equal(key_parse(KEYHEX, 64, &k), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(t->dir), 0);
	assert_int_equal(key_write_file("auth.key", &k), 0);
	assert_int_equal(key_read_file("auth.key", &back), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_true(key_equal(&k, &back));
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_errors(void **state)
{
	struct tmp *t = *state;
	struct key k, bad;
	char longp[5000];

	assert_int_equal(key_parse(KEYHEX, 64, &k), 0);
	assert_int_equal(key_write_file(tpath(t, "nodir/auth.key"), &k),
			 QR_ERR_SYSTEM);
	assert_int_equal(key_write_file(tpath(t, ""), &k), QR_ERR_INVALID);
	assert_int_equal(key_write_file(NULL, &k), QR_ERR_INVALID);
	memset(&bad, 'g', sizeof(bad));
	assert_int_equal(key_write_file(tpath(t, "bad.key"), &bad),
			 QR_ERR_INVALID);
	assert_int_equal(access(t->path, F_OK), -1);
	assert_int_equal(count_entries(t->dir), 0);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	memcpy(longp + sizeof(longp) - 10, "/auth.key", 10);
	assert_int_equal(key_write_file(longp, &k), QR_ERR_TOO_LARGE);
}

static void test_generate(void **state)
{
	struct key a, b, c;
	size_t i;

	assert_int_equal(key_generate(&a), 0);
	assert_int_equal(key_generate(&b), 0);
	assert_int_equal(strlen(a.hex), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", a.hex[i]));
	assert_false(key_equal(&a, &b));
	assert_int_equal(key_parse(a.hex, 64, &c), 0);
	assert_true(key_equal(&a, &c));
	key_wipe(&a);
	key_wipe(&b);
	key_wipe(&c);
}

/*
 * Expected value from the command line:
 *   printf %s 574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c \
 *     | openssl dgst -sha256 -binary | openssl base64 -A
 *   -> DK0GVxrDfH924bMW9FUvq3/D+N7xaXwOG+B0aFYoB1g=   (padding dropped)
 */
static void test_fingerprint(void **state)
{
	char fp[KEY_FINGERPRINT_MAX];
	struct key k, bad;

	assert_int_equal(key_parse(KEYHEX_UPPER, 64, &k), 0);
	assert_int_equal(key_fingerprint(&k, fp), 0);
	assert_string_equal(fp, "SHA256:DK0GVxrDfH924bMW9FUvq3/D+N7xaXwOG+B0aFYoB1g");
	assert_int_equal(strlen(fp), 7 + 43);
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(key_fingerprint(&bad, fp), QR_ERR_INVALID);
}

static void test_equal_and_wipe(void **state)
{
	struct key a, b;
	size_t i;

	assert_int_equal(key_parse(KEYHEX, 64, &a), 0);
	assert_int_equal(key_parse(KEYHEX_UPPER, 64, &b), 0);
	assert_true(key_equal(&a, &b));
	b.hex[63] = b.hex[63] == '0' ? '1' : '0';
	assert_false(key_equal(&a, &b));
	key_wipe(&a);
	for (i = 0; i < sizeof(a.hex); i++)
		assert_int_equal(a.hex[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test_setup_teardown(test_read_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_permissions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_relative, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup,
						teardown),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_equal_and_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
