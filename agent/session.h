/*
 * session.h - one transport call that fetches and delivers in turns.
 *
 *   qvm-remote-agent session PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM
 *                            [CID CLAIM]... qvmr-end
 *
 * A turn is a fetch (fetch.h) with the arguments given, then a deliver
 * (deliver.h) of what dom0 streams on stdin, its nonce the fetch's PREFIX:
 * dom0 sends the results of the commands that fetch brought as they end,
 * then "end N".  The next turn's arguments follow on stdin as one line,
 *
 *   "fetch PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM [CID CLAIM]... qvmr-end"
 *
 * and end of input after a deliver (or after a fetch, instead of the
 * deliver) ends the session.  So a VM's commands
 * come and go through one call: no transport call per command.  While a
 * fetch waits, input from dom0 (or its end) cuts the wait short and the
 * fetch claims nothing: dom0 has results to send, or is gone.  stdout
 * carries the replies one after the other, each flushed whole.
 */
#ifndef QVMR_AGENT_SESSION_H
#define QVMR_AGENT_SESSION_H

#include <stdio.h>

#include "fetch.h"
#include "queue.h"

/*
 * Runs turns from a's fetch until dom0 ends the session.  in must be
 * unbuffered (the wait polls its descriptor).  0 at a clean end (end of
 * input after a fetch or a deliver), 1 when a reply could not be made whole
 * or the input broke off, 2 for a next-turn line it does not accept.
 */
int session_run(const struct vm_layout *q, struct fetch_args *a, FILE *in,
		FILE *out);

#endif
