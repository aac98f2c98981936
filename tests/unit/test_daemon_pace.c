/*
 * test_daemon_pace.c - the start rate of transport calls: a burst of
 * PACE_BURST, then PACE_PER_S a second, and never a flood of forks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pace.h"
#include "banned.h"

#define T0 1000000

static void
test_a_burst_then_the_rate(void **state)
{
	struct pace p = { 0 };
	unsigned n = 0;

	while (pace_take(&p, T0))
		n++;
	assert_int_equal(n, PACE_BURST);
	assert_true(pace_due(&p) > T0);
	assert_int_equal(pace_take(&p, pace_due(&p) - 1), 0);
	assert_int_equal(pace_take(&p, pace_due(&p)), 1);
	assert_int_equal(pace_take(&p, pace_due(&p) - 1), 0);
}

static void
test_flood_of_starts_over_a_second_is_cut(void **state)
{
	struct pace p = { 0 };
	unsigned n = 0;

	/* 200 VMs asking every millisecond for a second */
	for (int64_t t = T0; t < T0 + 1000; t++)
		for (int vm = 0; vm < 200; vm++)
			n += (unsigned)pace_take(&p, t);
	assert_true(n >= PACE_PER_S);
	assert_true(n <= PACE_BURST + PACE_PER_S);
}

static void
test_an_idle_pace_allows_a_burst_again(void **state)
{
	struct pace p = { 0 };
	unsigned n = 0;

	while (pace_take(&p, T0))
		;
	while (pace_take(&p, T0 + 60000))
		n++;
	assert_int_equal(n, PACE_BURST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_then_the_rate),
		cmocka_unit_test(test_flood_of_starts_over_a_second_is_cut),
		cmocka_unit_test(test_an_idle_pace_allows_a_burst_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
