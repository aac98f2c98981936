/*
 * info.h - `qvm-remote status`, `log [N]` and `history [N]`: read-only
 * views of the key, the queue, audit.log and history/ (history also
 * collects results that arrived after their client left; archive.h).
 */
#ifndef QVMR_CLIENT_INFO_H
#define QVMR_CLIENT_INFO_H

#include "args.h"
#include "paths.h"

#define STATUS_SCAN_MAX (256u << 10)   /* audit.log tail searched by status */
#define HISTORY_PREVIEW 48             /* command bytes in a history row */

/* Each returns the exit code. */
int status_run(const struct vm_layout *p);
int log_run(const struct vm_layout *p, unsigned count);
int history_run(const struct vm_layout *p, unsigned count);

#endif
