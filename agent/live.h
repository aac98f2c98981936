/*
 * live.h - a running command's output as the VM holds it while it runs
 * (docs/protocol.md section 6b).
 *
 * running/<cid>.out and running/<cid>.err are always an exact prefix of
 * the result's .out and .err: dom0 sends their bytes by offset, and each
 * span is written only where the file does not hold it yet, each byte at
 * its offset, so a part sent again (a retry after a lost reply) writes
 * nothing twice, and one that two sessions write at once (a session dom0
 * gave up on, still reading) lands once.  A span
 * that starts past the file's end is a gap and is refused.  Whatever
 * happens, every byte announced is read, so the stream stays in step.
 */
#ifndef QVMR_AGENT_LIVE_H
#define QVMR_AGENT_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agentwire.h"
#include "frame.h"
#include "queue.h"

/*
 * Receives live part l's bytes from `in`: DELIVER_OK when the live files
 * now hold both spans, DELIVER_GONE without the claim marker (nothing
 * written), DELIVER_FAIL on a gap or an error.  *r is 0, or
 * QR_ERR_INCOMPLETE when the input ended early.
 */
enum deliver_status live_part(FILE *in, const struct vm_layout *q,
			      const struct agentwire_live *l, int *r);

/*
 * Receives the last `len` bytes of stream f (0 stdout, 1 stderr) of a
 * result that continues its live file from `from` (> 0), cuts the file
 * to from + len and links it at `path` (the result's temporary, which
 * publishing renames into results/).  *bad when it cannot; the live file
 * is left for a retry.  0, or QR_ERR_INCOMPLETE.
 */
int live_finish(FILE *in, const struct vm_layout *q, const char *cid, int f,
		uint64_t from, uint64_t len, const char *path, bool *bad);

/* Removes both live files of cid (once its result is published). */
void live_remove(const struct vm_layout *q, const char *cid);

#endif
