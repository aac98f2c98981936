/*
 * queuecmd.h - `qvm-remote queue status|clean` and queue counts.
 *
 * pending/ is the client's (a request is complete once <cid>.auth exists),
 * running/ is dom0's and is only read, results/ holds results not collected
 * yet.  `queue clean` removes results older than a day and stale temporary
 * or orphaned files; it withdraws pending requests only with --pending.
 */
#ifndef QVMR_CLIENT_QUEUECMD_H
#define QVMR_CLIENT_QUEUECMD_H

#include <stddef.h>

#include "args.h"
#include "paths.h"

#define CLEAN_AGE_S 86400   /* what "old" means for queue clean */

struct queue_counts {
	size_t pending;   /* pending/<cid>.auth */
	size_t running;   /* running/<cid>.auth.<claim> */
	size_t results;   /* results/<cid>.exit */
};

/* Counts the queue; absent directories count as empty. */
void queue_count(const struct vm_layout *p, struct queue_counts *c);

/* Runs `queue ACTION`; returns the exit code. */
int queuecmd_run(const struct vm_layout *p, const struct args *a);

#endif
