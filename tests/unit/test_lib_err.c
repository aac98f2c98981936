/*
 * test_lib_err.c - qr_strerror covers every code.
 */
#include "err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "banned.h"

static void test_every_code_distinct_lowercase(void **state)
{
	static const int codes[] = {
		QR_OK, QR_ERR_NOMEM, QR_ERR_INVALID, QR_ERR_TOO_LARGE,
		QR_ERR_INCOMPLETE, QR_ERR_TRAILING, QR_ERR_SYSTEM,
		QR_ERR_PERMISSIONS, QR_ERR_MISMATCH, QR_ERR_CRYPTO,
		QR_ERR_NOT_FOUND, QR_ERR_EXISTS,
	};
	size_t n = sizeof(codes) / sizeof(codes[0]), i, j;

	for (i = 0; i < n; i++) {
		const char *s = qr_strerror(codes[i]);
		size_t len;

		assert_non_null(s);
		len = strlen(s);
		assert_true(len > 0);
		assert_true(s[len - 1] != '.');
		for (j = 0; j < len; j++)
			assert_false(s[j] >= 'A' && s[j] <= 'Z');
		assert_string_not_equal(s, qr_strerror(-999));
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, qr_strerror(codes[j]));
	}
}

static void test_unknown_code(void **state)
{
	assert_string_equal(qr_strerror(-999), "unknown error");
	assert_string_equal(qr_strerror(7), "unknown error");
	assert_string_equal(qr_strerror(QR_ERR_MISMATCH),
			    "authentication token does not match");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_distinct_lowercase),
		cmocka_unit_test(test_unknown_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
