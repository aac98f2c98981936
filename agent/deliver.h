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
 * published, like the sh deliver program does it, only while its claim
 * marker exists: into temporaries named after this call's nonce, renamed
 * into results/ with .exit last, then the request's files and the marker
 * are removed and a RESULT line is added to ~/.qvm-remote/audit.log.  A
 * result whose marker is gone is answered "gone" and left alone, so a
 * repeated deliver never rewrites a result the client may have read.
 * An item of status asking or approved is a note (docs/protocol.md
 * section 5b): while the marker exists its .meta becomes
 * running/<cid>.note (through a temporary and a rename), answered "ok";
 * the marker, results/ and audit.log stay as they are; "gone" without the
 * marker, "fail" for a note with output or an I/O error.  Publishing a
 * result removes the note.  A result that continues the live files (its
 * OUTFROM and ERRFROM, lib/agentwire.h) takes their bytes and only what
 * follows from the stream; it is "gone" at once when its marker is, and
 * publishing any result removes the live files.
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
