/*
 * pace.c - the start rate of transport calls (pace.h).
 */
#include "pace.h"

#include <assert.h>

#include "banned.h"

#define PACE_STEP_MS (1000 / PACE_PER_S)
#define PACE_SLACK_MS ((int64_t)(PACE_BURST - 1) * PACE_STEP_MS)

static_assert(PACE_PER_S > 0 && PACE_PER_S <= 1000, "a step of 1 ms at least");

int
pace_take(struct pace *p, int64_t now_ms)
{
	if (now_ms < p->next_ms - PACE_SLACK_MS)
		return 0;
	p->next_ms = (p->next_ms > now_ms ? p->next_ms : now_ms) + PACE_STEP_MS;
	return 1;
}

int64_t
pace_due(const struct pace *p)
{
	return p->next_ms - PACE_SLACK_MS;
}
