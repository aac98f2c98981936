/*
 * result.h - the .meta file of a result (results/<cid>.meta).
 *
 * "key=value\n" lines written by dom0, read by the client:
 *   status=ok|timeout|rejected|interrupted|error
 *          or, in a note (running/<cid>.note, not a result: the request
 *          is still dom0's), asking|approved
 *   exit=N                 the command's exit code (also in <cid>.exit)
 *   reason=TEXT            why, for rejected / interrupted / error
 *   duration_ms=N
 *   timeout_s=N            the limit dom0 applied (absent: not recorded);
 *                          in an asking note, the seconds dom0 still waits
 *                          for a person's answer
 *   out_bytes=N err_bytes=N        produced by the command
 *   out_truncated=0|1 err_truncated=0|1   cut at QVM_REMOTE_MAX_OUTPUT
 *   cancelled=1            the VM asked dom0 to stop the command while it
 *                          ran (docs/protocol.md 5b); absent: it did not.
 *                          The status stays the command's own (ok with its
 *                          exit code, also when the signals killed it)
 * The parser ignores unknown keys, so dom0 may add some.
 */
#ifndef QVMR_RESULT_H
#define QVMR_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bounds.h"

enum result_status {
	RESULT_OK,
	RESULT_TIMEOUT,
	RESULT_REJECTED,
	RESULT_INTERRUPTED,
	RESULT_ERROR,
	/* notes: a request dom0 holds, not yet a result (docs/protocol.md
	 * section 5b) */
	RESULT_ASKING,          /* waits for a person in dom0 */
	RESULT_APPROVED,        /* a person approved it; it runs soon */
	RESULT_STARTED,         /* it runs, with less time than asked or
				 * after a wait for a slot (started,
				 * queued_ms below) */
};

/* The .exit value written for a result that is not a command's own. */
#define EXIT_TIMEOUT 124
#define EXIT_ERROR 125
#define EXIT_REJECTED 126
#define EXIT_INTERRUPTED 255

struct result_meta {
	enum result_status status;
	int exit_code;
	char reason[REASON_MAX + 1];
	uint64_t duration_ms;
	unsigned timeout_s;     /* 0: not recorded */
	uint64_t out_bytes, err_bytes;
	int out_truncated, err_truncated;
	int cancelled;          /* 0 or 1: a cancel=CID stopped it */
	/* what dom0 says of the start, in a started note and again in the
	 * result (a note may be gone before the client reads it): */
	uint64_t queued_ms;     /* its wait for a free slot, 0: none told */
	char started[REASON_MAX + 1];   /* its timeout was lowered: how */
};

const char *result_status_name(enum result_status s);
/* Whether s ends a request (a result), rather than telling how it goes
 * (a note). */
int result_status_final(enum result_status s);
int result_meta_format(struct buf *out, const struct result_meta *m);
/*
 * The notice for a stream dom0 cut: "dom0 kept only the first KEPT bytes
 * of STREAM (QVM_REMOTE_MAX_OUTPUT); PRODUCED were written".  stream is
 * "stdout" or "stderr"; kept is what the result holds, produced the
 * .meta's count.  The client prints it; for an original client, which
 * reads no .meta, dom0 ends the result's .err with it.  Pure.
 */
void result_cut_notice(char *out, size_t n, const char *stream,
		       uint64_t kept, uint64_t produced);
int result_meta_parse(const char *text, size_t n, struct result_meta *m);

#endif
