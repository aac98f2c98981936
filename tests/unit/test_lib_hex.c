/*
 * test_lib_hex.c - the hex encoder: every byte value, no NUL written.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
