/*
 * budget.h - the rejected work one VM may cost dom0 in a minute.
 *
 * Every request dom0 refuses and every claim it recovers costs a log line
 * and an outbox entry, at disk speed; a process in a VM that can write
 * the queue, key or no key, could plant them without end.  Each VM gets
 * BUDGET_PER_WINDOW such units a window: past it, dom0 still answers what
 * it fetched, logs no line per unit but one aggregate line when the window
 * ends, and fetches from that VM no more until then.  Other VMs never
 * wait for it.  Pure: the caller gives the time.
 */
#ifndef QVMR_BUDGET_H
#define QVMR_BUDGET_H

#include <stdint.h>

#define BUDGET_PER_WINDOW 30u
#define BUDGET_WINDOW_MS 60000

struct budget {
	int64_t start_ms;       /* the window began; 0: none open */
	unsigned spent;         /* units in it */
};

/*
 * Counts one unit at now_ms, opening a window when none is open (call
 * budget_close() first, so a unit never counts into a window that ended).
 * 1 when it is within the budget (log it as usual), 0 when it is over
 * (it counts for the aggregate line instead).
 */
int budget_take(struct budget *b, int64_t now_ms);
/* Whether the window is spent: no fetch until budget_ends(). */
int budget_spent(const struct budget *b, int64_t now_ms);
/* When the open window ends; INT64_MAX when none is open. */
int64_t budget_ends(const struct budget *b);
/* When budget_close() has an aggregate to give: the end of a window that
 * went over; INT64_MAX otherwise. */
int64_t budget_due(const struct budget *b);
/*
 * Closes a window that ended by now_ms: returns how many units went over
 * the budget in it (0 if none, or if no window ended).
 */
unsigned budget_close(struct budget *b, int64_t now_ms);

#endif
