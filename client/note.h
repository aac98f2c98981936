/*
 * note.h - what dom0 says of a request it holds (docs/protocol.md
 * section 5b): running/<cid>.note, in the .meta format (lib/result.h),
 * status asking (a person is asked in dom0; timeout_s: the seconds dom0
 * still waits), approved, or started (it runs: timeout_s its timeout,
 * started= when that is less than asked, queued_ms= its wait for a slot;
 * the result says the same).
 * The pure half: what the client makes of it.
 *
 * The file is the VM user's (the agent or dom0's sh program writes it),
 * so anything may be in it: it is read bounded (NOTE_FILE_MAX) and
 * parsed by result_meta_parse, whose reason is printable ASCII.
 */
#ifndef QVMR_CLIENT_NOTE_H
#define QVMR_CLIENT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "result.h"

#define NOTE_FILE_MAX 4096u
/* Past the seconds an asking note says dom0 still waits, the client
 * waits this much more for dom0's own answer before withdrawing. */
#define NOTE_GRACE_S 10u
/* An asking note without timeout_s: dom0's default ask timeout. */
#define NOTE_ASK_DEFAULT_S 300u

struct note {
	enum result_status status;     /* ASKING, APPROVED or STARTED */
	char text[REASON_MAX + 1];     /* what to print, after "qvm-remote: ";
					* started: "" unless the timeout is
					* lower than asked */
	unsigned timeout_s;            /* asking: dom0 still waits this long;
					* started: the command's timeout */
	uint64_t waited_ms;            /* started: its wait for a free slot */
};

/* Parses a note's bytes.  QR_ERR_INVALID unless they are a .meta of
 * status asking, approved or started.  An asking or approved note
 * without a reason gets the words dom0 uses ("waiting for approval in
 * dom0", "approved in dom0"). */
int note_parse(const char *untrusted, size_t n, struct note *out);

/*
 * The claim deadline while a note says asking, in ms on the wait's clock:
 * the user's own --wait (explicit_ms, measured from the publish, when
 * not 0), else now_ms plus the seconds dom0 still waits and
 * NOTE_GRACE_S.
 */
uint64_t note_deadline_ms(const struct note *nt, uint64_t explicit_ms,
			  uint64_t now_ms);

#endif
