/*
 * test_daemon_agenthint.c - the agent level kept across restarts: what
 * was stored reads back, and anything else in its place reads as none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "agenthint.h"
#include "err.h"
#include "banned.h"

static int
setup(void **state)
{
	char *dir = calloc(1, 64);

	assert_non_null(dir);
	snprintf(dir, 64, "/tmp/qvmr-hint-XXXXXX");
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void
plant(const char *dir, const char *vm, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/agents", dir);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/agents/%s", dir, vm);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_a_stored_level_reads_back(void **state)
{
	const char *dir = *state;
	char path[256];
	struct stat st;

	assert_int_equal(agenthint_load(dir, "work"), 0);
	assert_int_equal(agenthint_save(dir, "work", 3), 0);
	assert_int_equal(agenthint_load(dir, "work"), 3);
	assert_int_equal(agenthint_load(dir, "other"), 0);
	snprintf(path, sizeof(path), "%s/agents/work", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(agenthint_save(dir, "work", 99), 0);
	assert_int_equal(agenthint_load(dir, "work"), 99);
}

static void
test_level_zero_removes_it(void **state)
{
	const char *dir = *state;

	assert_int_equal(agenthint_save(dir, "work", 0), 0);   /* none yet */
	assert_int_equal(agenthint_save(dir, "work", 2), 0);
	assert_int_equal(agenthint_save(dir, "work", 0), 0);
	assert_int_equal(agenthint_load(dir, "work"), 0);
}

static void
test_anything_else_reads_as_none(void **state)
{
	const char *dir = *state;
	static const char *const bad[] = {
		"", "\n", "3", "x\n", "100\n", "03\n", "3 \n", "-3\n",
		"3\n\n", "4294967299\n", "2\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		plant(dir, "work", bad[i]);
		assert_int_equal(agenthint_load(dir, "work"), 0);
	}
	plant(dir, "work", "0\n");
	assert_int_equal(agenthint_load(dir, "work"), 0);
	plant(dir, "work", "2\n");
	assert_int_equal(agenthint_load(dir, "work"), 2);
}

static void
test_names_that_are_no_vm_traverse_nowhere(void **state)
{
	const char *dir = *state;

	plant(dir, "work", "2\n");
	assert_int_equal(agenthint_load(dir, "../agents/work"), 0);
	assert_int_equal(agenthint_save(dir, "../x", 2), QR_ERR_INVALID);
	assert_int_equal(agenthint_save(dir, "dom0x/..", 2), QR_ERR_INVALID);
	assert_int_equal(agenthint_save(dir, "work", 100), QR_ERR_INVALID);
	assert_int_equal(agenthint_load(dir, "work"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_stored_level_reads_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_zero_removes_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_anything_else_reads_as_none,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_names_that_are_no_vm_traverse_nowhere, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
