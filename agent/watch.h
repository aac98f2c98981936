/*
 * watch.h - wait in the VM until pending/ holds a request (watch mode).
 *
 * Blocks on inotify: on pending/ while it exists, else on the nearest
 * directory above it that does (a VM that never used qvm-remote has no
 * queue yet, and must not answer at once: dom0 would call again within a
 * second).  Where inotify is not to be had (no instance left), it looks
 * five times a second instead.
 */
#ifndef QVMR_AGENT_WATCH_H
#define QVMR_AGENT_WATCH_H

#include <stdbool.h>

#include "queue.h"

/* The least size of a token file; smaller ones are still being written. */
#define TOKEN_MIN 64

/* Whether `name` in the directory dirfd is a complete token. */
bool wait_token_ready(int dirfd, const char *name);

enum { WAIT_TIMEOUT, WAIT_REQUEST, WAIT_WOKEN };

/*
 * Waits up to `seconds` for a request: WAIT_REQUEST when one is ready,
 * WAIT_TIMEOUT when the time passed without one, WAIT_WOKEN when wake_fd
 * (-1: none) had something to read or hung up first: dom0 has results to
 * send in a session, or is gone.
 */
int wait_for_request(const struct vm_layout *q, unsigned seconds,
		     int wake_fd);

#endif
