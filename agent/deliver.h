/*
 * deliver.h - the VM half of a deliver: publish results from dom0.
 *
 * Reads from `in` what dom0 sends (docs/protocol.md section 4):
 *
 *   per result: "item CID CLAIM EXIT STATUS OUTLEN ERRLEN METALEN[ ...]\n"
 *               then the OUTLEN + ERRLEN + METALEN bytes of .out, .err, .meta
 *   per live part: "live CID CLAIM OUTFROM OUTLEN ERRFROM ERRLEN\n"
 *               then OUTLEN + ERRLEN bytes (agent/live.h)
 *   "end COUNT\n"
 *
 * and writes a deliver reply (lib/frame.h) to `out`.  A result is
 * published, like the sh deliver program does it, only while the VM has
 * no result of its cid (results/, history/): into temporaries named after
 * this call's nonce, renamed into results/ with .exit last, then the
 * request's files and the marker are removed and a RESULT line is added
 * to ~/.qvm-remote/audit.log.  A result the VM has is answered "gone",
 * its claim's files removed if a marker was left, so a repeated deliver
 * never rewrites a result the client may have read; one whose marker was
 * removed in the VM is still published.  A refused ping (status dropped)
 * removes its claim and writes no result.
 * An item of status asking, approved or started is a note (docs/protocol.md
 * section 5b): while the marker exists its .meta becomes
 * running/<cid>.note (through a temporary and a rename), answered "ok";
 * the marker, results/ and audit.log stay as they are; "gone" without the
 * marker, "fail" for a note with output or an I/O error.  Publishing a
 * result removes the note.  A result that continues the live files (its
 * OUTFROM and ERRFROM, lib/agentwire.h) takes their bytes and only what
 * follows from the stream; it is "gone" at once when the VM has the
 * result, and publishing any result removes the live files.
 * Each result is handled once it has arrived whole; input that ends early
 * or breaks the format ends the run with no "done" line.
 */
#ifndef QVMR_AGENT_DELIVER_H
#define QVMR_AGENT_DELIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "queue.h"

/* A nonce dom0 may name temporaries after: 1..CLAIM_MAX of [0-9a-f-]. */
bool deliver_nonce_valid(const char *nonce);

/* 0 after "end", else a negative qr_err. */
int deliver_run(const struct vm_layout *q, const char *nonce, FILE *in,
		FILE *out);

#endif
