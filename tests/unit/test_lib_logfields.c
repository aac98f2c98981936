/*
 * test_lib_logfields.c - a log-grammar line of a fixed set of fields.
 */
#include "logfields.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static const char *const keys[] = { "vm", "id", "cut" };   /* 2 required */

static int parse(const char *line, unsigned *seen)
{
	static struct log_entry e;

	return logfields_parse(line, strlen(line), "JOB", keys, 3, 2, &e, seen);
}

static void test_fields(void **state)
{
	unsigned seen = 0;

	(void)state;
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB vm=work id=x", &seen), 0);
	assert_int_equal(seen, 3u);
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB id=x vm=work cut=1",
			       &seen), 0);
	assert_int_equal(seen, 7u);
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB vm=work id=x", NULL), 0);
	/* another category, a key not its own, a key twice, one missing */
	assert_int_equal(parse("[2026-12-03T18:00:00Z] ASK vm=work id=x", &seen),
			 QR_ERR_INVALID);
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB vm=work id=x by=me",
			       &seen), QR_ERR_INVALID);
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB vm=work vm=x id=x",
			       &seen), QR_ERR_INVALID);
	assert_int_equal(parse("[2026-12-03T18:00:00Z] JOB vm=work cut=1", &seen),
			 QR_ERR_INVALID);
	assert_int_equal(parse("JOB vm=work id=x", &seen), QR_ERR_INVALID);
	assert_int_equal(logfields_index(keys, 3, "cut"), 2);
	assert_int_equal(logfields_index(keys, 3, "by"), -1);
}

static void test_values(void **state)
{
	struct log_field f = { .key = "id", .value = "abc", .value_len = 3 };
	char small[4], tiny[3];
	uint64_t x = 0;

	(void)state;
	assert_int_equal(logfields_copy(small, sizeof(small), &f), 0);
	assert_string_equal(small, "abc");
	assert_int_equal(logfields_copy(tiny, sizeof(tiny), &f), QR_ERR_INVALID);
	f.value = "a\0c";
	assert_int_equal(logfields_copy(small, sizeof(small), &f), QR_ERR_INVALID);
	f.value = "42";
	f.value_len = 2;
	assert_int_equal(logfields_u64(&f, 1, 42, &x), 0);
	assert_int_equal(x, 42);
	assert_int_equal(logfields_u64(&f, 43, 100, &x), QR_ERR_INVALID);
	assert_int_equal(logfields_u64(&f, 0, 41, &x), QR_ERR_INVALID);
	f.value = "042";
	f.value_len = 3;
	assert_int_equal(logfields_u64(&f, 0, 100, &x), QR_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
