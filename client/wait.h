/*
 * wait.h - wait for dom0 to take a request and to deliver its result.
 *
 * inotify watches on pending/ (IN_MOVED_FROM, IN_DELETE: the claim renames
 * <cid>.auth away) and results/ (IN_MOVED_TO, IN_CLOSE_WRITE: .exit is
 * renamed in last) are set up before the request is published, so no event
 * is missed; the events only wake the loop, and the state is then read from
 * the files themselves.  The loop poll()s the inotify fd and the signal
 * self-pipe with deadlines on a monotonic clock; timeouts drive only the
 * waiting indicator, the hint and the deadlines.  There is no sleep loop.
 *
 * Withdrawing renames pending/<cid>.auth to pending/.<cid>.withdrawn: dom0
 * claims by renaming the same file, so exactly one of the two renames
 * succeeds and a request is either withdrawn or taken, never both.
 *
 * A request dom0 has taken may still be held there, waiting for a
 * person's approval (docs/protocol.md section 5b): dom0 says so in a note,
 * running/<cid>.note (note.h), watched with IN_MOVED_TO on running/.  Each
 * change of the note's status is printed once ("qvm-remote: REASON"),
 * also with -q: a wait for a person is not progress noise.  While the
 * note says asking, the request counts as not yet taken: with
 * withdraw_held the wait ends as WAIT_HELD at the claim deadline (the
 * user's --wait, else what the note says dom0 still waits, plus
 * NOTE_GRACE_S) or on a signal, and the caller withdraws it in dom0
 * (withdraw.h); the run deadline starts when the note says approved.
 *
 * With live, a command's output is copied as it comes (livecopy.h):
 * running/ is also watched for IN_MODIFY, and each wake-up after the
 * claim copies what is new; the indicator is not drawn again once output
 * was shown.
 *
 * With vanish_check, a request whose token left pending/ without a claim
 * marker in running/ (running/<cid>.auth.<claim>), a body there or in
 * pending/ (an original dom0 running it, a claim being put back), a
 * release's .rel.<cid>.* or a result for VANISH_GRACE_MS ends as
 * WAIT_VANISHED: no dom0 of this protocol took it.
 * An original qvm-remote-dom0 deletes a request it cannot read; this one
 * claims by a rename, so its marker appears as the token goes, and it
 * publishes .exit before it removes the marker.  The grace covers a
 * result published and its marker removed between two looks.
 *
 * A signal after dom0 took the request (and no note says asking) ends
 * the wait as WAIT_STOP with stop_running, and the caller asks dom0 to
 * stop the command (withdraw.h running_stop, issue 16); without it, as
 * WAIT_DETACHED: the command runs on.
 */
#ifndef QVMR_CLIENT_WAIT_H
#define QVMR_CLIENT_WAIT_H

#include <stdint.h>

#include "livecopy.h"
#include "note.h"
#include "paths.h"

#define INDICATOR_AFTER_MS 2000u
#define NOTICE_AFTER_MS 5000u
#define VANISH_GRACE_MS 2000u

enum wait_outcome {
	WAIT_RESULT,      /* results/<cid>.exit exists */
	WAIT_NOT_TAKEN,   /* claim deadline passed; withdrawn, nothing ran */
	WAIT_NO_RESULT,   /* taken, but no result within the run deadline */
	WAIT_WITHDRAWN,   /* a signal came before dom0 took it; withdrawn */
	WAIT_DETACHED,    /* a signal came after dom0 took it */
	WAIT_PENDING,     /* until_ms passed first; nothing withdrawn */
	WAIT_HELD,        /* dom0 holds it asking a person, and the claim
			   * deadline passed or a signal came (signal):
			   * to be withdrawn in dom0 (withdraw.h) */
	/* after WAIT_HELD, from held_withdraw(): */
	WAIT_CANCELLED,   /* withdrawn in dom0 before it ran */
	WAIT_CANCEL_LOST, /* dom0 did not answer the withdraw; may still run */
	WAIT_STOP,        /* a signal came after dom0 took it (stop_running):
			   * to be stopped in dom0 (withdraw.h) */
	WAIT_VANISHED,    /* vanish_check: removed without a claim or a
			   * result; nothing of ours ran it */
};

struct wait_params {
	uint64_t notice_ms;   /* "is qvm-remote-dom0 running?" after this; 0: never */
	uint64_t claim_ms;    /* withdraw when dom0 has not taken it by then */
	uint64_t run_ms;      /* give up this long after the claim */
	int indicator;        /* draw the waiting indicator (terminal, no -q) */
	uint64_t until_ms;    /* not 0: stop waiting then (WAIT_PENDING) and
			       * leave the request as it is, taken or not
			       * (mcp: the agent asks again later) */
	int withdraw_held;    /* a request held asking ends as WAIT_HELD;
			       * else it counts as taken */
	int claim_given;      /* claim_ms is the user's --wait: also the
			       * deadline of a request held asking */
	int stop_running;     /* a signal after the claim ends as WAIT_STOP;
			       * else WAIT_DETACHED */
	int vanish_check;     /* a request gone without a claim marker ends
			       * as WAIT_VANISHED */
	struct live_copy *live;   /* not NULL: copy live output there; it
				   * outlives the wait (result_show skips
				   * what it shows) */
};

struct wait_report {
	enum wait_outcome outcome;
	int signal;           /* WAIT_WITHDRAWN, WAIT_DETACHED: which one */
	int claimed;
	uint64_t claim_ms;    /* when dom0 took it, ms after the publish */
	uint64_t total_ms;    /* when the wait ended, ms after the publish */
	int have_note;        /* note holds the last note read */
	struct note note;
	int result_in;        /* WAIT_CANCELLED: dom0's answer (rejected,
			       * withdrawn) is in results/ */
	int stop_asked;       /* running_stop() sent a cancel and said how it
			       * went: the exit is 130 whatever the outcome */
};

struct waiter {
	int ifd;
};

/* Sets up the watches; call before publishing.  Prints a message on
 * failure. */
int waiter_open(struct waiter *w, const struct vm_layout *p);
void waiter_close(struct waiter *w);

/*
 * Waits for request cid, published at t0 (mono_ms(), clock.h).  signals_install()
 * must have been called.  Returns 0 with rep filled, or an error after a
 * message (the request is then left as it is).
 */
int waiter_wait(struct waiter *w, const struct vm_layout *p,
		const char *cid, const struct wait_params *wp, uint64_t t0,
		struct wait_report *rep);

/* Reads running/<cid>.note (bounded, parsed): 0, QR_ERR_NOT_FOUND when
 * there is none, QR_ERR_INVALID when it is not a note. */
int note_load(const struct vm_layout *p, const char *cid, struct note *nt);

/*
 * Takes a request back: 0 when it was withdrawn (its files are removed and
 * a WITHDRAWN line logged), QR_ERR_NOT_FOUND when dom0 has taken it, or
 * QR_ERR_SYSTEM (with a message).
 */
int request_withdraw(const struct vm_layout *p, const char *cid);

#endif
