/*
 * queue.h - the VM's queue as the agent sees it (lib/vmlayout.h).
 *
 * The agent runs as the VM's user, started by dom0; it trusts nothing in
 * the queue, which any process of that user may change at any moment.
 */
#ifndef QVMR_AGENT_QUEUE_H
#define QVMR_AGENT_QUEUE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmlayout.h"

/* Fills q from $HOME, else the password database (vm_layout_init).
 * QR_ERR_INVALID when there is no absolute home, QR_ERR_TOO_LARGE when a
 * path does not fit. */
int queue_init(struct vm_layout *q);

/* DIR/NAME SUFFIX into out; QR_ERR_TOO_LARGE when it does not fit. */
int queue_path(char out[PATH_MAX], const char *dir, const char *name,
	       const char *suffix);

/* running/<cid>.auth.<claim>, the marker of a claim. */
int queue_marker(char out[PATH_MAX], const struct vm_layout *q,
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
