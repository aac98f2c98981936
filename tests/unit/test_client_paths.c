/*
 * test_client_paths.c - the client's file layout and how paths are shown.
 */
#include "paths.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static void test_layout(void **state)
{
	struct vm_layout p;

	assert_int_equal(vm_layout_init(&p, "/home/user/"), 0);
	assert_string_equal(p.base, "/home/user/.qvm-remote");
	assert_string_equal(p.key, "/home/user/.qvm-remote/auth.key");
	assert_string_equal(p.audit, "/home/user/.qvm-remote/audit.log");
	assert_string_equal(p.pending, "/home/user/.qvm-remote/queue/pending");
	assert_string_equal(p.running, "/home/user/.qvm-remote/queue/running");
	assert_string_equal(p.results, "/home/user/.qvm-remote/queue/results");
	assert_string_equal(p.history, "/home/user/.qvm-remote/history");
	assert_int_equal(vm_layout_init(&p, "/"), 0);
	assert_string_equal(p.key, "/.qvm-remote/auth.key");
}

static void test_bad_home(void **state)
{
	static char longhome[PATH_MAX + 8];
	struct vm_layout p;

	assert_int_equal(vm_layout_init(&p, ""), QR_ERR_INVALID);
	assert_int_equal(vm_layout_init(&p, "home/user"), QR_ERR_INVALID);
	memset(longhome, 'a', sizeof(longhome) - 1);
	longhome[0] = '/';
	assert_int_equal(vm_layout_init(&p, longhome), QR_ERR_TOO_LARGE);
}

static void test_show_tilde(void **state)
{
	struct vm_layout p;
	char s[PATH_MAX];

	assert_int_equal(vm_layout_init(&p, "/home/user"), 0);
	assert_string_equal(path_show(&p, p.key, s, sizeof(s)),
			    "~/.qvm-remote/auth.key");
	assert_string_equal(path_show(&p, "/home/user", s, sizeof(s)), "~");
	/* A sibling that shares the prefix is not the home directory. */
	assert_string_equal(path_show(&p, "/home/username/x", s, sizeof(s)),
			    "/home/username/x");
	assert_string_equal(path_show(&p, "/etc/passwd", s, sizeof(s)),
			    "/etc/passwd");
}

static void test_cid_paths(void **state)
{
	const char *cid = "20261128-101500-4242-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d";
	struct vm_layout p;
	char s[PATH_MAX];

	assert_int_equal(vm_layout_init(&p, "/h"), 0);
	assert_int_equal(path_cid(s, sizeof(s), p.pending, cid, ".auth"), 0);
	assert_string_equal(s, "/h/.qvm-remote/queue/pending/"
			    "20261128-101500-4242-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d"
			    ".auth");
	assert_int_equal(path_history_of(&p, cid, s, sizeof(s)), 0);
	assert_string_equal(s, "/h/.qvm-remote/history/2026-11-28/"
			    "20261128-101500-4242-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d");
	assert_int_equal(path_history_of(&p, "ping-123-4", s, sizeof(s)),
			 QR_ERR_INVALID);
	assert_int_equal(path_join(s, 8, "/abc", "defg"), QR_ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_bad_home),
		cmocka_unit_test(test_show_tilde),
		cmocka_unit_test(test_cid_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
