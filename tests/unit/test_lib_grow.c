/*
 * test_lib_grow.c - arrays that double: room kept, growth, and a size
 * that would overflow refused with the array left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "grow.h"
#include "banned.h"

static void
test_growth_doubles_from_first(void **state)
{
	int *a = NULL, *g;
	size_t cap = 0;

	for (size_t n = 0; n < 100; n++) {
		assert_non_null(g = grow_array(a, &cap, n, sizeof(*a), 8));
		a = g;
		a[n] = (int)n;
		assert_true(cap > n);
	}
	assert_int_equal(cap, 128);
	for (size_t n = 0; n < 100; n++)
		assert_int_equal(a[n], (int)n);
	/* room left: the same array back, cap unchanged */
	assert_ptr_equal(grow_array(a, &cap, 100, sizeof(*a), 8), a);
	assert_int_equal(cap, 128);
	free(a);
}

static void
test_overflow_leaves_the_array(void **state)
{
	char *a = malloc(16);
	size_t cap = SIZE_MAX / 2 + 1;

	assert_non_null(a);
	assert_null(grow_array(a, &cap, cap, 1, 8));
	assert_int_equal(cap, SIZE_MAX / 2 + 1);
	cap = 0;
	assert_null(grow_array(a, &cap, 0, 0, 8));
	assert_int_equal(cap, 0);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_doubles_from_first),
		cmocka_unit_test(test_overflow_leaves_the_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
