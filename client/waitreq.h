/*
 * waitreq.h - `qvm-remote --wait-for-request SEC`, run by dom0's fetch
 * program inside the VM so that a watch-mode fetch waits without a poll
 * loop (docs/protocol.md section 4).
 *
 * Exit 0 as soon as a name *.auth (not a dot-name) exists in
 * ~/.qvm-remote/queue/pending, 1 when SEC seconds pass first, 2 on any
 * error, including a missing directory (it is not created).  The watch is
 * added before the directory is listed, so a request published in between
 * is not missed.  Prints nothing: its stdout is the fetch reply.
 */
#ifndef QVMR_CLIENT_WAITREQ_H
#define QVMR_CLIENT_WAITREQ_H

#define WAITREQ_FOUND 0
#define WAITREQ_TIMEOUT 1
#define WAITREQ_ERROR 2

/* Whether a directory entry name is a complete request's token.  Pure. */
int waitreq_is_token(const char *name);

/* Returns the exit code. */
int wait_for_request(unsigned seconds);

#endif
