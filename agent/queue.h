/*
 * queue.h - the VM's queue as the agent sees it (docs/protocol.md s. 2).
 *
 *   ~/.qvm-remote/queue/{pending,running,results}/, ~/.qvm-remote/audit.log
 *
 * The agent runs as the VM's user, started by dom0; it trusts nothing in
 * the queue, which any process of that user may change at any moment.
 */
#ifndef QVMR_AGENT_QUEUE_H
#define QVMR_AGENT_QUEUE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct agent_queue {
	char home[PATH_MAX];
	char base[PATH_MAX];      /* ~/.qvm-remote */
	char queue[PATH_MAX];     /* ~/.qvm-remote/queue */
	char pending[PATH_MAX];
	char running[PATH_MAX];
	char results[PATH_MAX];
	char audit[PATH_MAX];     /* ~/.qvm-remote/audit.log */
};

/* Fills q from $HOME, else the password database.  QR_ERR_INVALID when
 * there is no absolute home, QR_ERR_TOO_LARGE when a path does not fit. */
int queue_init(struct agent_queue *q);

/* The files of a request besides its token: "<cid>" plus these. */
#define QUEUE_REQUEST_FILES 3
extern const char *const queue_request_suffix[QUEUE_REQUEST_FILES];

/* DIR/NAME SUFFIX into out; QR_ERR_TOO_LARGE when it does not fit. */
int queue_path(char out[PATH_MAX], const char *dir, const char *name,
	       const char *suffix);

/* running/<cid>.auth.<claim>, the marker of a claim. */
int queue_marker(char out[PATH_MAX], const struct agent_queue *q,
		 const char *cid, const char *claim);

/* Renames a request's files (not its token) from one directory to
 * another, those that exist; a failure leaves that file where it was. */
void queue_move_request(const char *from_dir, const char *to_dir,
			const char *cid);

/* "<cid>.auth": a token dom0 would claim, by name. */
bool queue_token_name(const char *name);

/*
 * "<cid>.auth.<claim>": a claim marker in running/.  On success the cid
 * and claim are copied out (sizes CID_MAX + 1 and CLAIM_MAX + 1).
 */
bool queue_marker_name(const char *name, char *cid, char *claim);

#endif
