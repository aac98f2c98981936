/*
 * test_daemon_budget.c - the rejected work one VM may cost dom0 in a
 * minute: within the budget every unit is logged, past it units are only
 * counted, the VM is not fetched from until the window ends, and the
 * count comes out once when it does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "budget.h"
#include "banned.h"

#define T0 1000000

static void
test_within_the_budget_every_unit_is_logged(void **state)
{
	struct budget b = { 0 };

	(void)state;
	for (unsigned i = 0; i < BUDGET_PER_WINDOW; i++)
		assert_int_equal(budget_take(&b, T0 + i), 1);
	assert_int_equal(budget_take(&b, T0 + 100), 0);
	assert_int_equal(budget_take(&b, T0 + 200), 0);
}

static void
test_a_spent_budget_holds_fetches_until_the_window_ends(void **state)
{
	struct budget b = { 0 };

	(void)state;
	assert_int_equal(budget_spent(&b, T0), 0);
	assert_true(budget_ends(&b) == INT64_MAX);
	for (unsigned i = 0; i < BUDGET_PER_WINDOW - 1; i++)
		(void)budget_take(&b, T0);
	assert_int_equal(budget_spent(&b, T0), 0);
	(void)budget_take(&b, T0 + 5);
	assert_int_equal(budget_spent(&b, T0 + 5), 1);
	/* the window is timed from its first unit */
	assert_true(budget_ends(&b) == T0 + BUDGET_WINDOW_MS);
	assert_int_equal(budget_spent(&b, T0 + BUDGET_WINDOW_MS - 1), 1);
	assert_int_equal(budget_spent(&b, T0 + BUDGET_WINDOW_MS), 0);
}

static void
test_the_aggregate_counts_what_went_over_once(void **state)
{
	struct budget b = { 0 };

	(void)state;
	for (unsigned i = 0; i < BUDGET_PER_WINDOW + 7; i++)
		(void)budget_take(&b, T0);
	assert_true(budget_due(&b) == T0 + BUDGET_WINDOW_MS);
	/* not before the window ends */
	assert_int_equal(budget_close(&b, T0 + BUDGET_WINDOW_MS - 1), 0);
	assert_int_equal(budget_close(&b, T0 + BUDGET_WINDOW_MS), 7);
	assert_int_equal(budget_close(&b, T0 + BUDGET_WINDOW_MS + 1), 0);
	assert_true(budget_due(&b) == INT64_MAX);
	/* a new window starts full */
	assert_int_equal(budget_take(&b, T0 + BUDGET_WINDOW_MS + 2), 1);
	assert_true(budget_ends(&b) == T0 + 2 * BUDGET_WINDOW_MS + 2);
}

static void
test_a_window_within_the_budget_has_no_aggregate(void **state)
{
	struct budget b = { 0 };

	(void)state;
	(void)budget_take(&b, T0);
	assert_true(budget_due(&b) == INT64_MAX);
	assert_int_equal(budget_close(&b, T0 + BUDGET_WINDOW_MS), 0);
	/* closed: the next unit opens a window of its own */
	assert_int_equal(budget_take(&b, T0 + 3 * BUDGET_WINDOW_MS), 1);
	assert_true(budget_ends(&b) == T0 + 4 * BUDGET_WINDOW_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_the_budget_every_unit_is_logged),
		cmocka_unit_test(
			test_a_spent_budget_holds_fetches_until_the_window_ends),
		cmocka_unit_test(test_the_aggregate_counts_what_went_over_once),
		cmocka_unit_test(test_a_window_within_the_budget_has_no_aggregate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
