/*
 * withdraw.h - take back a request dom0 holds asking a person, or stop
 * a command dom0 runs (docs/protocol.md section 5b, "Withdrawing a held
 * request", "Stopping a running command").
 *
 * The request is dom0's already (claimed), so no rename decides: the
 * client asks dom0, with a second request signed as any, an empty body
 * and cancel=CID as its only option, and dom0 answers "withdrawn" (exit
 * 0: it held CID and refused it), "stopping" (exit 0: CID ran and is
 * being stopped) or "not-held" (exit 1: finished, or unknown).  The
 * cancel's own result files are removed once read; they are no
 * command's.  Both uses send it the same way (cancel_send in
 * withdraw.c).
 */
#ifndef QVMR_CLIENT_WITHDRAW_H
#define QVMR_CLIENT_WITHDRAW_H

#include <stdint.h>

#include "key.h"
#include "paths.h"
#include "wait.h"

#define WITHDRAW_WAIT_MS 15000u   /* for the cancel's answer; then as much
				   * for the target's own result */

#define STOP_WAIT_MS 15000u       /* after "stopping", for the result */

/* What dom0 answered a cancel: its stdout and exit.  Pure. */
enum cancel_answer {
	CANCEL_WITHDRAWN, CANCEL_STOPPING, CANCEL_NOT_HELD, CANCEL_UNKNOWN
};
enum cancel_answer cancel_answer_of(const char *untrusted_out, size_t n,
				    int status_ok, int exit_code);

/*
 * After waiter_wait() ended with WAIT_HELD for cid (published at t0, its
 * wait wp): withdraws it in dom0 and fills rep: WAIT_CANCELLED (and
 * result_in when dom0's refusal came within WITHDRAW_WAIT_MS),
 * WAIT_CANCEL_LOST, WAIT_DETACHED after a second signal, or, when dom0
 * says not-held (an approval came first: it runs), the outcome of a
 * further wait for its result as a taken request.  rep->signal keeps the
 * first signal.  0, or an error after a message.
 */
int held_withdraw(struct waiter *w, const struct vm_layout *p,
		  const struct key *k, const char *cid,
		  const struct wait_params *wp, uint64_t t0,
		  struct wait_report *rep);

/*
 * After waiter_wait() ended with WAIT_STOP for cid (dom0 runs it, a
 * signal came): asks dom0 to stop it and says so on one line, "asked
 * dom0 to stop the command (id CID)", which ends when the outcome is
 * known ("; stopped" once its result came, within STOP_WAIT_MS of
 * dom0's "stopping").  Fills rep: WAIT_RESULT (shown by the caller, the
 * exit still 130), WAIT_NO_RESULT, WAIT_CANCEL_LOST (dom0 did not
 * answer, or cannot stop a running command), WAIT_DETACHED after a
 * second signal; rep->stop_asked is set.  When dom0 says not-held (it
 * had ended), the wait goes on as for a taken request and stop_asked is
 * clear: its result is the command's own.  0, or an error after a
 * message.
 */
int running_stop(struct waiter *w, const struct vm_layout *p,
		 const struct key *k, const char *cid,
		 const struct wait_params *wp, uint64_t t0,
		 struct wait_report *rep);

#endif
