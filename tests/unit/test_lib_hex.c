/*
 * test_lib_hex.c - the hex encoder (every byte value, no NUL written) and
 * the digit decoder (every char).
 */
#include "hex.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "banned.h"

static void test_every_byte(void **state)
{
	uint8_t all[256];
	char out[2 * 256 + 1], want[3];

	(void)state;
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	memset(out, 'X', sizeof(out));
	hex_encode(all, sizeof(all), out);
	for (size_t i = 0; i < sizeof(all); i++) {
		snprintf(want, sizeof(want), "%02x", (unsigned)i);
		assert_memory_equal(out + 2 * i, want, 2);
	}
	/* exactly 2n characters: the byte after them is untouched */
	assert_int_equal(out[2 * 256], 'X');
}

static void test_empty(void **state)
{
	char out[1] = { 'X' };

	(void)state;
	hex_encode((const uint8_t *)"", 0, out);
	assert_int_equal(out[0], 'X');
}

static void test_value(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? c - '0'
			   : c >= 'a' && c <= 'f' ? c - 'a' + 10
			   : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		assert_int_equal(hex_value((char)c), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
