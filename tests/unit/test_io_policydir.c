/*
 * test_io_policydir.c - the policy read from a directory (io/policydir.h).
 */
#include "policydir.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "tmptree.h"

#include "banned.h"

static char dir[64];
static char path[512];
static struct policy P;
static struct policy_error E;
static struct policy_decision D;

static int setup(void **state)
{
	if (tmptree_make(dir, sizeof(dir), "qvmr-policydir") != 0)
		return -1;
	/* mkdtemp makes 0700; a policy directory is 0755 */
	if (chmod(dir, 0755) != 0)
		return -1;
	policy_init(&P);
	memset(&E, 0, sizeof(E));
	return 0;
}

static int teardown(void **state)
{
	policy_release(&P);
	tmptree_remove(dir);
	return 0;
}

static const char *in_dir(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void put(const char *name, const char *text)
{
	int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0644);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static int load(void)
{
	memset(&E, 0, sizeof(E));
	return policydir_load(dir, &P, &E);
}

static void load_ok(void)
{
	int r = load();

	if (r != 0)
		fail_msg("refused (%d) %s:%u: %s", r, E.file, E.line, E.reason);
}

static enum policy_action decide(const char *prog)
{
	const char *argv[] = { prog };
	struct policy_request req = { "work", POLICY_ARGV, argv, 1, NULL };

	assert_int_equal(policy_match(&P, &req, &D), 0);
	return D.action;
}

static void test_name_order(void **state)
{
	put("20-b.policy", "work deny a\nwork deny b\nwork allow c\n");
	put("10-a.policy", "work allow a\n");
	put("100-c.policy", "work allow b\nwork deny c\n");
	load_ok();
	assert_int_equal(P.n_files, 3);
	assert_int_equal(decide("a"), POLICY_ALLOW);
	assert_string_equal(D.file, "10-a.policy");
	/* "100-c" sorts before "20-b" */
	assert_int_equal(decide("b"), POLICY_ALLOW);
	assert_string_equal(D.file, "100-c.policy");
	assert_int_equal(decide("c"), POLICY_DENY);
	assert_string_equal(D.file, "100-c.policy");
	assert_int_equal(D.line, 2);
}

/* Byte order, whatever a locale's collation would say: 'B' before 'a'. */
static void test_byte_order(void **state)
{
	put("a.policy", "work deny z\n");
	put("B.policy", "work ask z\n");
	put("b.policy", "work allow z\n");
	load_ok();
	assert_int_equal(decide("z"), POLICY_ASK);
	assert_string_equal(D.file, "B.policy");
	assert_string_equal(P.files[0], "B.policy");
	assert_string_equal(P.files[1], "a.policy");
	assert_string_equal(P.files[2], "b.policy");
}

static void test_skips_other_names(void **state)
{
	static const char *const others[] = {
		".hidden.policy", "50.policy.rpmnew", "50.policy.rpmsave",
		"50.policy~", "50.policy.dpkg-old", "README", "50.conf",
		".policy", "policy", "50.Policy", "#50.policy#",
	};
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		put(others[i], "work allow evil\n");
	/* a directory of another name is not looked into */
	assert_int_equal(mkdir(in_dir("sub"), 0755), 0);
	put("sub/x.policy", "work allow evil\n");
	put("50.policy", "work allow good\n");
	load_ok();
	assert_int_equal(P.n_files, 1);
	assert_int_equal(decide("good"), POLICY_ALLOW);
	assert_int_equal(decide("evil"), POLICY_DENY);
	assert_int_equal(D.line, 0);
}

static void test_missing_and_empty(void **state)
{
	char gone[600];

	/* an empty directory: no policy */
	put("README", "not a policy\n");
	load_ok();
	assert_true(policy_empty(&P));
	/* a missing one: no policy either, and the old one is dropped */
	put("a.policy", "work allow x\n");
	load_ok();
	assert_false(policy_empty(&P));
	snprintf(gone, sizeof(gone), "%s/none", dir);
	assert_int_equal(policydir_load(gone, &P, &E), 0);
	assert_true(policy_empty(&P));
	/* a file where the directory should be is an error */
	assert_int_equal(policydir_load(in_dir("a.policy"), &P, &E),
			 QR_ERR_INVALID);
	assert_string_equal(E.file, "");
	assert_string_equal(E.reason, "not a directory");
}

static void test_error_names_second_file(void **state)
{
	put("10-a.policy", "work allow a\n");
	put("20-b.policy", "# fine\nwork allow b\nwork alow c\n");
	assert_int_equal(load(), QR_ERR_INVALID);
	assert_string_equal(E.file, "20-b.policy");
	assert_int_equal(E.line, 3);
	assert_string_equal(E.reason,
			    "unknown action 'alow' (expected allow, deny or ask)");
	assert_true(policy_empty(&P));
}

static void test_error_text(void **state)
{
	struct policy_error e = { .file = "20-b.policy", .line = 3,
				  .reason = "unknown action 'alow'" };
	char t[512];

	policydir_error_text("/etc/p.d", &e, t, sizeof(t));
	assert_string_equal(t, "/etc/p.d/20-b.policy:3: unknown action 'alow'");
	e.line = 0;
	policydir_error_text("/etc/p.d", &e, t, sizeof(t));
	assert_string_equal(t, "/etc/p.d/20-b.policy: unknown action 'alow'");
	e.file[0] = '\0';
	policydir_error_text("/etc/p.d", &e, t, sizeof(t));
	assert_string_equal(t, "/etc/p.d: unknown action 'alow'");
}

static void test_failure_keeps_old_policy(void **state)
{
	put("a.policy", "work allow a\n");
	load_ok();
	put("b.policy", "work allow 'b\n");
	assert_int_equal(load(), QR_ERR_INVALID);
	assert_string_equal(E.file, "b.policy");
	assert_int_equal(P.n_files, 1);
	assert_int_equal(decide("a"), POLICY_ALLOW);
}

static void test_not_regular(void **state)
{
	put("a.policy", "work allow a\n");
	assert_int_equal(mkdir(in_dir("d.policy"), 0755), 0);
	assert_int_equal(load(), QR_ERR_INVALID);
	assert_string_equal(E.file, "d.policy");
	assert_string_equal(E.reason, "not a regular file");
	assert_int_equal(rmdir(in_dir("d.policy")), 0);
	assert_int_equal(symlink("a.policy", in_dir("l.policy")), 0);
	assert_int_equal(load(), QR_ERR_INVALID);
	assert_string_equal(E.file, "l.policy");
	assert_non_null(strstr(E.reason, "symlink"));
	assert_true(policy_empty(&P));
}

static void test_too_large(void **state)
{
	static char big[POLICY_FILE_MAX + 2];
	size_t i;

	/* comment lines of 64 bytes, one byte too many in all */
	memset(big, '#', POLICY_FILE_MAX + 1);
	for (i = 63; i < POLICY_FILE_MAX; i += 64)
		big[i] = '\n';
	put("a.policy", big);
	assert_int_equal(load(), QR_ERR_TOO_LARGE);
	assert_string_equal(E.file, "a.policy");
	assert_int_equal(E.line, 0);
	assert_string_equal(E.reason, "file is larger than 1048576 bytes");
	big[POLICY_FILE_MAX] = '\0';
	put("a.policy", big);
	load_ok();
}

static void test_permissions(void **state)
{
	if (geteuid() != 0)
		skip();
	put("a.policy", "work allow a\n");
	put("b.policy", "work allow b\n");
	load_ok();
	policy_release(&P);

	assert_int_equal(chmod(in_dir("b.policy"), 0664), 0);
	assert_int_equal(load(), QR_ERR_PERMISSIONS);
	assert_string_equal(E.file, "b.policy");
	assert_int_equal(E.line, 0);
	assert_non_null(strstr(E.reason, "writable by group or others"));
	assert_int_equal(chmod(in_dir("b.policy"), 0646), 0);
	assert_int_equal(load(), QR_ERR_PERMISSIONS);
	assert_int_equal(chmod(in_dir("b.policy"), 0644), 0);

	assert_int_equal(chown(in_dir("a.policy"), 1000, 0), 0);
	assert_int_equal(load(), QR_ERR_PERMISSIONS);
	assert_string_equal(E.file, "a.policy");
	assert_non_null(strstr(E.reason, "owned by uid 1000, not root"));
	assert_int_equal(chown(in_dir("a.policy"), 0, 0), 0);
	load_ok();
	policy_release(&P);

	/* the directory too: whoever writes it can add a file */
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(load(), QR_ERR_PERMISSIONS);
	assert_string_equal(E.file, "");
	assert_non_null(strstr(E.reason, "the directory is writable"));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chown(dir, 1000, 1000), 0);
	assert_int_equal(load(), QR_ERR_PERMISSIONS);
	assert_non_null(strstr(E.reason, "the directory is owned by uid"));
	assert_int_equal(chown(dir, 0, 0), 0);
	load_ok();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_name_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skips_other_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_error_names_second_file,
						setup, teardown),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test_setup_teardown(test_failure_keeps_old_policy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
