/*
 * fetch.h - the VM half of a fetch: wait, claim, and write the reply.
 *
 * Does what dom0's sh fetch program does (daemon/program.c), in one
 * process: puts back the stranded claims dom0 names, waits for a request
 * in watch mode, then writes a fetch reply (lib/frame.h) that starts
 * "qvmr-fetch 1" and "agent 3" (so dom0 knows it may call the agent
 * directly, and run sessions), claiming each request it lists by moving it
 * to running/ with the marker "<cid>.auth.<claim>".
 */
#ifndef QVMR_AGENT_FETCH_H
#define QVMR_AGENT_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agentwire.h"
#include "buf.h"
#include "queue.h"

struct fetch_args {
	const char *prefix;        /* claims are PREFIX-index */
	unsigned wait_s;           /* 0: answer at once */
	unsigned max_requests;     /* 1..FETCH_REQ_MAX */
	uint64_t max_bytes;        /* stop claiming past this many bytes */
	bool claim;                /* false: list without claiming (dry run) */
	char *const *release;      /* CID CLAIM pairs to put back */
	size_t nrelease;
	int wake_fd;               /* -1, or: the wait ends when it is readable
				    * or hangs up, and nothing is claimed */
};

/*
 * Reads the words dom0 sends, PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM
 * [CID CLAIM]..., into a (which points into argv; wake_fd is -1) and
 * validates them: QR_ERR_INVALID when anything is off.
 */
int fetch_args_parse(struct fetch_args *a, int argc, char **argv);
/* Sets a (but wake_fd) from what lib/agentwire.h decoded; release is
 * w->release as the agent's words. */
void fetch_args_set(struct fetch_args *a, const struct agentwire_fetch *w,
		    char *const *release);
/* Validates what dom0 sent: QR_ERR_INVALID when anything is off. */
int fetch_args_check(const struct fetch_args *a);

/*
 * The agent's replies are written with lib/frame.h's writers into
 * agent_line(); agent_emit(out, r) sends what they wrote when r, the
 * writer's result, is 0, empties the line and returns r or QR_ERR_SYSTEM.
 */
struct buf *agent_line(void);
int agent_emit(FILE *out, int r);

/* Writes the reply to out.  0, or a negative qr_err when the reply could
 * not be written whole (dom0 then sees a malformed reply). */
int fetch_run(const struct vm_layout *q, const struct fetch_args *a,
	      FILE *out);

#endif
