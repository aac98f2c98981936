/*
 * test_lib_reader.c - the bounded reader and parse_u64.
 */
#include "reader.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define U(s) ((const uint8_t *)(s))

static void test_lines(void **state)
{
	static const char in[] = "ab\n\ncd";
	const uint8_t *line;
	struct reader r;
	size_t n;

	reader_init(&r, in, sizeof(in) - 1);
	assert_int_equal(reader_remaining(&r), 6);
	assert_int_equal(reader_get_line(&r, 10, &line, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(line, "ab", 2);
	assert_int_equal(reader_get_line(&r, 10, &line, &n), 0);
	assert_int_equal(n, 0);
	/* "cd" has no newline: incomplete, nothing consumed */
	assert_int_equal(reader_get_line(&r, 10, &line, &n), QR_ERR_INCOMPLETE);
	assert_int_equal(r.off, 4);
	assert_int_equal(reader_remaining(&r), 2);
	assert_int_equal(reader_expect_end(&r), QR_ERR_TRAILING);
}

static void test_line_max(void **state)
{
	static const char in[] = "abcd\nabcde\n";
	const uint8_t *line;
	struct reader r;
	size_t n;

	reader_init(&r, in, sizeof(in) - 1);
	/* exactly max bytes before the newline: fine */
	assert_int_equal(reader_get_line(&r, 4, &line, &n), 0);
	assert_int_equal(n, 4);
	/* max + 1: too large, position unchanged */
	assert_int_equal(reader_get_line(&r, 4, &line, &n), QR_ERR_TOO_LARGE);
	assert_int_equal(r.off, 5);
	assert_int_equal(reader_get_line(&r, 5, &line, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(reader_expect_end(&r), 0);
	/* at the end: incomplete */
	assert_int_equal(reader_get_line(&r, 5, &line, &n), QR_ERR_INCOMPLETE);

	/* no newline and more than max bytes left: too large, not incomplete */
	reader_init(&r, "abcdef", 6);
	assert_int_equal(reader_get_line(&r, 3, &line, &n), QR_ERR_TOO_LARGE);
	assert_int_equal(reader_get_line(&r, 6, &line, &n), QR_ERR_INCOMPLETE);
	assert_int_equal(r.off, 0);
	/* max 0: only an empty line */
	reader_init(&r, "\nx\n", 3);
	assert_int_equal(reader_get_line(&r, 0, &line, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(reader_get_line(&r, 0, &line, &n), QR_ERR_TOO_LARGE);
	assert_int_equal(r.off, 1);
}

static void test_bytes_and_byte(void **state)
{
	const uint8_t *p = NULL;
	struct reader r;

	reader_init(&r, "hello\n", 6);
	assert_int_equal(reader_get_bytes(&r, 7, &p), QR_ERR_INCOMPLETE);
	assert_int_equal(r.off, 0);
	assert_int_equal(reader_get_bytes(&r, 5, &p), 0);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(reader_expect_byte(&r, 'x'), QR_ERR_INVALID);
	assert_int_equal(r.off, 5);
	assert_int_equal(reader_expect_byte(&r, '\n'), 0);
	assert_int_equal(reader_expect_byte(&r, '\n'), QR_ERR_INCOMPLETE);
	assert_int_equal(reader_get_bytes(&r, 0, &p), 0);
	assert_int_equal(reader_get_bytes(&r, 1, &p), QR_ERR_INCOMPLETE);
	assert_int_equal(reader_expect_end(&r), 0);
}

static void test_empty_input(void **state)
{
	const uint8_t *line, *p;
	struct reader r;
	size_t n;

	reader_init(&r, NULL, 5);       /* NULL means no bytes, whatever len */
	assert_int_equal(reader_remaining(&r), 0);
	assert_int_equal(reader_get_line(&r, 10, &line, &n), QR_ERR_INCOMPLETE);
	assert_int_equal(reader_get_bytes(&r, 0, &p), 0);
	assert_int_equal(reader_expect_byte(&r, 'a'), QR_ERR_INCOMPLETE);
	assert_int_equal(reader_expect_end(&r), 0);
}

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	assert_int_equal(parse_u64(U("0"), 1, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64(U("10"), 2, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64(U("11"), 2, 10, &v), QR_ERR_TOO_LARGE);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64(U("18446744073709551615"), 20, UINT64_MAX,
				   &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64(U("18446744073709551616"), 20, UINT64_MAX,
				   &v), QR_ERR_TOO_LARGE);
	assert_int_equal(parse_u64(U("99999999999999999999"), 20, UINT64_MAX,
				   &v), QR_ERR_TOO_LARGE);
	/* not canonical decimal */
	assert_int_equal(parse_u64(U(""), 0, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(NULL, 1, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("00"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("01"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("-1"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("+1"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U(" 1"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("1 "), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("0x1"), 3, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("1\0"), 2, 10, &v), QR_ERR_INVALID);
	assert_int_equal(parse_u64(U("100000000000000000000"), 21, UINT64_MAX,
				   &v), QR_ERR_INVALID);
	/* grammar wins over magnitude */
	assert_int_equal(parse_u64(U("9999999999999999999x"), 20, UINT64_MAX,
				   &v), QR_ERR_INVALID);
	/* only n bytes are read */
	assert_int_equal(parse_u64(U("12345"), 2, 100, &v), 0);
	assert_int_equal(v, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_line_max),
		cmocka_unit_test(test_bytes_and_byte),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_parse_u64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
