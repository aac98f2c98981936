/*
 * run.h - run one command in dom0: build, publish, wait, show, archive.
 */
#ifndef QVMR_CLIENT_RUN_H
#define QVMR_CLIENT_RUN_H

#include "args.h"
#include "paths.h"
#include "submit.h"
#include "wait.h"

#define RUN_GRACE_S 60u        /* past the timeout, before giving up */
#define DEFAULT_TIMEOUT_S 300u /* dom0's default QVM_REMOTE_TIMEOUT */
#define PING_WAIT_S 10u

/* `qvm-remote [options] COMMAND...` or a body on stdin; returns the exit
 * code (the remote one, or one of exitcode.h). */
int run_command(const struct vm_layout *p, const struct args *a);

/*
 * Loads the key, makes the queue, installs the signal handlers, publishes
 * r (whose body the caller checked) and waits as wp says; rep says how the
 * wait ended.  0, or an error after a message.  Shared by run_command and
 * the mcp server's tools.
 */
int submit_and_wait(const struct vm_layout *p, struct request *r,
		    const struct wait_params *wp, struct wait_report *rep);

/* `qvm-remote ping`: runs `true` in dom0 and reports the round trip. */
int run_ping(const struct vm_layout *p, const struct args *a);

#endif
