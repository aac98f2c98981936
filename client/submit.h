/*
 * submit.h - build a request and publish it in ~/.qvm-remote/queue/pending.
 *
 * The files are written through temporary dot-names and rename(2): the body
 * <cid>, then <cid>.in and <cid>.opt when there are any, and the v2 token
 * <cid>.auth last, since its appearance tells dom0 the request is complete.
 */
#ifndef QVMR_CLIENT_SUBMIT_H
#define QVMR_CLIENT_SUBMIT_H

#include <time.h>

#include "buf.h"
#include "cid.h"
#include "key.h"
#include "opts.h"
#include "paths.h"

struct request {
	char cid[CID_MAX + 1];    /* set by request_publish() */
	struct buf body;          /* max BODY_MAX; checked by the caller */
	struct buf in;            /* max IN_MAX */
	int has_in;               /* write <cid>.in (even when empty) */
	struct req_opts opts;
	char sha256[65];          /* hex SHA-256 of the body, once published */
	time_t submitted;         /* wall clock of the publish */
	struct timespec made;     /* the same to the ns: history's order */
};

void request_init(struct request *r);
void request_release(struct request *r);

/*
 * Whether r may be published: a body, or, for a withdraw (opts.cancel,
 * docs/protocol.md 5b), an empty body, no stdin and no other option.
 * Pure.  0 or QR_ERR_INVALID.
 */
int request_shape_check(const struct request *r);

/*
 * Chooses a new cid and writes the request's files, .auth last, and a SUBMIT
 * line to audit.log; refuses (QR_ERR_INVALID) what request_shape_check
 * refuses.  The queue directories must exist (paths_make_queue).
 * Prints a message and removes what it wrote on failure.
 */
int request_publish(struct request *r, const struct vm_layout *p,
		    const struct key *k);

/* Removes pending/<cid>, <cid>.in and <cid>.opt, ignoring absent ones. */
void request_remove_parts(const struct vm_layout *p, const char *cid);

/* Lowercase hex SHA-256 of p[0..n).  QR_ERR_CRYPTO on failure. */
int sha256_hex(const void *p, size_t n, char out[65]);

#endif
