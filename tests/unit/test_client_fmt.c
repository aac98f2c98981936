/*
 * test_client_fmt.c - times as people read them, and the waiting indicator
 * line, which must fit an 80-column terminal to be redrawn in place.
 */
#include "timefmt.h"
#include "progress.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "banned.h"

static void test_elapsed(void **state)
{
	char s[32];

	fmt_elapsed(s, sizeof(s), 0);
	assert_string_equal(s, "0 s");
	fmt_elapsed(s, sizeof(s), 59999);
	assert_string_equal(s, "59 s");
	fmt_elapsed(s, sizeof(s), 65000);
	assert_string_equal(s, "1 min 05 s");
	fmt_elapsed(s, sizeof(s), 3600000 + 3 * 60000 + 59000);
	assert_string_equal(s, "1 h 03 min");
}

static void test_duration(void **state)
{
	char s[32];

	fmt_duration(s, sizeof(s), 212);
	assert_string_equal(s, "212 ms");
	fmt_duration(s, sizeof(s), 3456);
	assert_string_equal(s, "3.4 s");
	fmt_duration(s, sizeof(s), 125000);
	assert_string_equal(s, "2 min 05 s");
}

static void test_ago(void **state)
{
	char s[32];

	fmt_ago(s, sizeof(s), 0);
	assert_string_equal(s, "just now");
	fmt_ago(s, sizeof(s), 38);
	assert_string_equal(s, "38 s ago");
	fmt_ago(s, sizeof(s), 600);
	assert_string_equal(s, "10 min ago");
	fmt_ago(s, sizeof(s), 3 * 3600);
	assert_string_equal(s, "3 h ago");
	fmt_ago(s, sizeof(s), 5 * 86400);
	assert_string_equal(s, "5 days ago");
}

static void test_indicator(void **state)
{
	char s[PROGRESS_LINE_MAX];

	progress_format(s, sizeof(s), 0, 3200);
	assert_string_equal(s, "qvm-remote: waiting for dom0 ... 3 s "
			    "(Ctrl-C withdraws)");
	progress_format(s, sizeof(s), 1, 75000);
	assert_string_equal(s, "qvm-remote: running in dom0 ... 1 min 15 s");
	/* The longest line still fits 79 columns. */
	progress_format(s, sizeof(s), 0, UINT64_C(99999) * 3600000);
	assert_true(strlen(s) < 80);
}

static void test_progress_disabled_is_silent(void **state)
{
	/* Without progress_enable() nothing is drawn or erased. */
	progress_show(0, 5000);
	progress_erase();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elapsed),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_ago),
		cmocka_unit_test(test_indicator),
		cmocka_unit_test(test_progress_disabled_is_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
