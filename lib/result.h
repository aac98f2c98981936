/*
 * result.h - the .meta file of a result (results/<cid>.meta).
 *
 * "key=value\n" lines written by dom0, read by the client:
 *   status=ok|timeout|rejected|interrupted|error
 *   exit=N                 the command's exit code (also in <cid>.exit)
 *   reason=TEXT            why, for rejected / interrupted / error
 *   duration_ms=N
 *   timeout_s=N            the limit dom0 applied (absent: not recorded)
 *   out_bytes=N err_bytes=N        produced by the command
 *   out_truncated=0|1 err_truncated=0|1   cut at QVM_REMOTE_MAX_OUTPUT
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
};

const char *result_status_name(enum result_status s);
int result_meta_format(struct buf *out, const struct result_meta *m);
int result_meta_parse(const char *text, size_t n, struct result_meta *m);

#endif
