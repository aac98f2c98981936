/*
 * summary.h - the strip above the log: what happened in the last hour.
 *
 * Fed one parsed line at a time; keeps only the events the strip counts
 * (EXEC, DONE, DONE-FAIL, INTERRUPTED, TIMEOUT, REJECT, AUTH-FAIL,
 * AUTH-DENY, ERROR, and POLICY lines that refused), at
 * most SUMMARY_EVENTS_MAX of them, dropping the oldest.  Counts are by the
 * lines' own timestamps, so a restarted viewer shows the same numbers.
 * Pure: no I/O and no clock; the caller passes "now".
 *
 *   commands   EXEC lines (a command started), per VM
 *   failures   DONE-FAIL (a command exited non-zero), INTERRUPTED (the
 *              service stopped and killed it)
 *   rejects    REJECT, AUTH-FAIL, AUTH-DENY, POLICY with action=deny or
 *              ask but not check=1 (a request refused)
 *   timeouts   TIMEOUT
 *   errors     ERROR
 *   latency    ms= of DONE, DONE-FAIL and TIMEOUT lines, oldest first
 *
 * What was not seen (older than the tail the viewer read, or dropped from
 * the ring) cannot be counted: "horizon" is the time up to which events
 * may be missing, and the page says "since ..." when it falls inside the
 * window.
 */
#ifndef QVMR_WEBUI_SUMMARY_H
#define QVMR_WEBUI_SUMMARY_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "logparse.h"

#define SUMMARY_EVENTS_MAX 8192u
#define SUMMARY_WINDOW_S 3600
#define SUMMARY_VMS_MAX 64u         /* VMs listed; the rest are "other" */
#define SUMMARY_POINTS_MAX 400u     /* latency points sent, newest kept */
#define SUMMARY_VM_MAX 31u          /* VMNAME_MAX */

enum summary_kind {
	SUM_COMMAND = 1,
	SUM_DONE,
	SUM_FAILURE,
	SUM_TIMEOUT,
	SUM_REJECT,
	SUM_ERROR,
};

struct summary_event {
	time_t when;
	uint32_t ms;            /* UINT32_MAX: no ms= */
	uint8_t kind;
	char vm[SUMMARY_VM_MAX + 1];    /* "" when the line has none */
};

struct summary {
	struct summary_event ev[SUMMARY_EVENTS_MAX];
	size_t head, n;         /* ring: oldest at head */
	time_t horizon;         /* events at or before it may be missing */
};

void summary_init(struct summary *s);
/* Counts one line; lines of other categories are ignored. */
void summary_add(struct summary *s, const struct log_entry *e);
/* Events at or before t may be missing (the viewer skipped older lines). */
void summary_set_horizon(struct summary *s, time_t t);

/*
 * Appends the summary of (now - SUMMARY_WINDOW_S, now] as one JSON object:
 *   {"now":T,"window":3600,"horizon":H,
 *    "totals":{"commands":N,"failures":N,"rejects":N,"timeouts":N,
 *              "errors":N,"done":N},
 *    "vms":[{"vm":"NAME","commands":N,"failures":N,"rejects":N,
 *            "timeouts":N}, ...],          (most commands first)
 *    "latency":[[T,MS,"DONE"], ...]}       (oldest first)
 * VMs past SUMMARY_VMS_MAX are added up under "vm":"" with "other":true.
 * Lines dated after now (a skewed clock) count as now.
 */
int summary_json(const struct summary *s, time_t now, struct buf *out);

#endif
