/*
 * test_lib_buf.c - the bounded buffer.
 */
#include "buf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static void test_empty(void **state)
{
	struct buf b = BUF_INIT(16);

	assert_null(b.data);
	assert_string_equal(buf_str(&b), "");
	buf_reset(&b);
	buf_consume(&b, 0);
	buf_release(&b);
	assert_int_equal(b.max, 16);
}

static void test_append_and_nul(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_append_str(&b, "def"), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(buf_str(&b), "abcdef");
	assert_int_equal(b.data[b.len], '\0');
	/* binary with NULs */
	assert_int_equal(buf_append(&b, "\0x", 2), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "abcdef\0x", 8);
	/* zero bytes are fine, even from NULL */
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 8);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
}

static void test_null_args(void **state)
{
	struct buf b = BUF_INIT(10);

	assert_int_equal(buf_append(&b, NULL, 1), QR_ERR_INVALID);
	assert_int_equal(buf_append_str(&b, NULL), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_max_exact_and_over(void **state)
{
	struct buf b = BUF_INIT(5);

	assert_int_equal(buf_append(&b, "12345", 5), 0);
	assert_true(b.cap <= 6);
	assert_int_equal(buf_append(&b, "6", 1), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 5);
	assert_string_equal(buf_str(&b), "12345");
	buf_consume(&b, 2);
	assert_string_equal(buf_str(&b), "345");
	assert_int_equal(buf_append(&b, "678", 3), QR_ERR_TOO_LARGE);
	assert_int_equal(buf_append(&b, "67", 2), 0);
	assert_string_equal(buf_str(&b), "34567");
	buf_release(&b);
}

static void test_max_zero(void **state)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append(&b, "x", 1), QR_ERR_TOO_LARGE);
	assert_int_equal(buf_printf(&b, "%d", 1), QR_ERR_TOO_LARGE);
	buf_release(&b);
}

static void test_overflow_checked(void **state)
{
	/* a length near SIZE_MAX: the sum must not wrap into a small value */
	struct buf b = { NULL, SIZE_MAX - 2, 0, SIZE_MAX };

	assert_int_equal(buf_append(&b, "12345", 5), QR_ERR_TOO_LARGE);
	assert_null(b.data);
	assert_int_equal(b.len, SIZE_MAX - 2);
	/* len + n fits but the NUL does not */
	b.len = SIZE_MAX - 3;
	assert_int_equal(buf_append(&b, "123", 3), QR_ERR_TOO_LARGE);
	assert_null(b.data);
}

static void test_growth(void **state)
{
	struct buf b = BUF_INIT(1u << 20);
	char chunk[1000];
	size_t i;

	memset(chunk, 'a', sizeof(chunk));
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 1000000);
	assert_true(b.cap <= (1u << 20) + 1);
	assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 1001000);
	buf_consume(&b, 1001000);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_release(&b);
}

static void test_printf(void **state)
{
	struct buf b = BUF_INIT(20);

	assert_int_equal(buf_printf(&b, "%s=%d", "x", 42), 0);
	assert_int_equal(buf_printf(&b, "%c", '!'), 0);
	assert_string_equal(buf_str(&b), "x=42!");
	assert_int_equal(b.len, 5);
	/* too long: unchanged, still terminated */
	assert_int_equal(buf_printf(&b, "%020d", 1), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "x=42!");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(buf_printf(&b, "%015d", 7), 0);
	assert_int_equal(b.len, 20);
	assert_string_equal(buf_str(&b), "x=42!000000000000007");
	buf_release(&b);
}

static void test_reset_consume(void **state)
{
	struct buf b = BUF_INIT(64);
	char *keep;

	assert_int_equal(buf_append_str(&b, "hello world"), 0);
	keep = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, keep);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append_str(&b, "abcdef"), 0);
	buf_consume(&b, 6);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append_str(&b, "abcdef"), 0);
	buf_consume(&b, 100);     /* clamped, not an overrun */
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append_and_nul),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_max_exact_and_over),
		cmocka_unit_test(test_max_zero),
		cmocka_unit_test(test_overflow_checked),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_reset_consume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
