/*
 * archive.h - history/YYYY-MM-DD/<cid>/{command,out,err,meta,exit} and the
 * result lines of audit.log.
 *
 * The date is the cid's own (UTC), so a request's folder is known from its
 * id.  A client that leaves before its result arrives (Ctrl-C after dom0
 * took the command, or no result in time) writes the folder with only
 * `command` in it; archive_collect() later moves such results in, so they
 * show up in `qvm-remote history`.  Results of a client still waiting are
 * never touched: their folder does not exist until that client archives.
 */
#ifndef QVMR_CLIENT_ARCHIVE_H
#define QVMR_CLIENT_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "paths.h"
#include "submit.h"

/*
 * Moves results/<cid>.{out,err,meta,exit} into the history folder (.exit
 * last), writes `command` (the body, its mtime the publish's: history
 * orders a second's requests by it) and appends the result line to
 * audit.log with ms when have_ms.  Prints a message on failure.
 */
int archive_result(const struct vm_layout *p, const struct request *rq,
		   const struct result_info *ri, int have_ms, uint64_t ms);

/* Writes history/<date>/<cid>/command for a result that will come later. */
int archive_leave(const struct vm_layout *p, const struct request *rq);

/* Moves in the results of requests left by archive_leave().  Returns how
 * many, or a negative error after a message. */
int archive_collect(const struct vm_layout *p);

#endif
