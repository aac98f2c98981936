/*
 * transport.h - the one way dom0 reaches a VM: a POSIX sh program run in
 * the VM as its default user, fed on stdin, whose stdout dom0 reads
 * (design.md section 2, docs/protocol.md section 3).
 *
 * qrexec-client is preferred: C, no qubesd round trips, never starts a VM.
 * qvm-run is the fallback.  Both are found once, at start: qrexec-client on
 * PATH and then in /usr/lib/qubes (where dom0 keeps it), qvm-run on PATH.
 * The simulator in sim/ is reached by PATH alone: the code path is the same.
 */
#ifndef QVMR_TRANSPORT_H
#define QVMR_TRANSPORT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"

struct transport {
	enum transport_kind kind;
	char path[PATH_MAX];          /* absolute */
	char qrexec_dir[PATH_MAX];    /* where qrexec.<VM> appears */
};

/* Finds the program for c->transport.  QR_ERR_NOT_FOUND, with msg set. */
int transport_init(struct transport *t, const struct config *c, char *msg,
		   size_t msglen);

/* Whether vm's qrexec is up: a stat(2), no transport call. */
int transport_vm_up(const struct transport *t, const char *vm);
/*
 * Whether a VM named vm exists, as qubesd says through `qvm-check -q`
 * (found on PATH, a 10 s deadline): 1, 0, or -1 when that cannot be told
 * (no qvm-check, or it failed otherwise).  No transport call.
 */
int transport_vm_exists(const char *vm);

/*
 * The command a call runs in the VM: NULL for the runner, which stores the
 * sh program that follows on stdin and runs it only when it arrived whole
 * (transport.c, VM_RUNNER; program.h, PROGRAM_END); or a command line
 * built from validated values only (an agent call, program.h), which must
 * itself refuse to run when cut short.
 *
 * transport_prelude() appends what precedes the program on stdin:
 * qrexec-client's qubes.VMShell reads commands, so it gets the command and
 * "; exit\n"; qvm-run gets the command as an argument, so nothing.
 */
int transport_prelude(const struct transport *t, const char *command,
		      struct buf *b);
/*
 * Starts one call into vm (a valid VM name) running `command`, in a
 * session of its own (proc_spawn(), proc.h).  On success *pid is the child
 * and *in_fd / *out_fd / *err_fd are the non-blocking, close-on-exec pipe
 * ends the caller owns and closes: it writes the prelude and the program
 * to in_fd, reads out_fd and err_fd, and reaps pid.
 */
int transport_start(const struct transport *t, const char *vm,
		    const char *command, pid_t *pid, int *in_fd, int *out_fd,
		    int *err_fd);
/*
 * Runs one call to completion, for the admin verbs (not the event loop),
 * through proc_run() (proc.h): sends program (ending it with PROGRAM_END),
 * collects stdout into out (bounded by out->max), gives up after
 * timeout_s, and returns the child's exit status via *status (-1 when it
 * was killed: at the deadline, or for sending more than out->max).
 * Returns 0 when the call ran, whatever its status.
 */
int transport_run(const struct transport *t, const char *vm,
		  const char *program, struct buf *out, unsigned timeout_s,
		  int *status);

#endif
