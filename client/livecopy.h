/*
 * livecopy.h - a running command's output as it comes (docs/protocol.md
 * section 6b).
 *
 * dom0 sends a running command's output into the VM's session, and the
 * agent appends it to running/<cid>.out and running/<cid>.err, always a
 * prefix of the result's .out and .err.  While the client waits, each
 * wake-up copies what is new in them to its stdout and stderr; when the
 * result comes, result_show() skips what was shown (show_opts.skip).
 * The files are read through the file descriptor, never loaded whole.
 */
#ifndef QVMR_CLIENT_LIVECOPY_H
#define QVMR_CLIENT_LIVECOPY_H

#include <stdint.h>

#include "paths.h"

struct live_copy {
	int fd[2];           /* where stdout and stderr go: 1 and 2 */
	uint64_t shown[2];   /* bytes of each written there */
	int stopped[2];      /* a write failed (a closed stdout): no more */
};

/* fd[] = {1, 2}, nothing shown yet. */
void live_copy_init(struct live_copy *lc);

/*
 * Copies the bytes of cid's live files past shown[] to fd[] (erasing the
 * waiting indicator first); 1 when some were written, else 0.  A missing
 * file is nothing yet; a read that fails is tried again at the next call;
 * a write that fails stops that stream.  A signal (signals.h) ends the
 * copy early, leaving it to the caller's wait loop.
 */
int live_copy(const struct vm_layout *p, const char *cid,
	      struct live_copy *lc);

/* Whether anything was shown (the indicator stays off after that). */
int live_copy_shown(const struct live_copy *lc);

#endif
