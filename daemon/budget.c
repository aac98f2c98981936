/*
 * budget.c - the rejected work one VM may cost dom0 in a minute.
 */
#include "budget.h"

#include "banned.h"

int64_t
budget_ends(const struct budget *b)
{
	return b->spent > 0 ? b->start_ms + BUDGET_WINDOW_MS : INT64_MAX;
}

int64_t
budget_due(const struct budget *b)
{
	return b->spent > BUDGET_PER_WINDOW ? budget_ends(b) : INT64_MAX;
}

unsigned
budget_close(struct budget *b, int64_t now_ms)
{
	unsigned over;

	if (b->spent == 0 || now_ms < budget_ends(b))
		return 0;
	over = b->spent > BUDGET_PER_WINDOW ? b->spent - BUDGET_PER_WINDOW : 0;
	b->spent = 0;
	return over;
}

int
budget_take(struct budget *b, int64_t now_ms)
{
	if (b->spent == 0)
		b->start_ms = now_ms;
	if (b->spent < UINT32_MAX)
		b->spent++;
	return b->spent <= BUDGET_PER_WINDOW;
}

int
budget_spent(const struct budget *b, int64_t now_ms)
{
	return b->spent >= BUDGET_PER_WINDOW && now_ms < budget_ends(b);
}
