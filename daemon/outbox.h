/*
 * outbox.h - finished results waiting to be delivered (design.md s. 5).
 *
 * <state_dir>/outbox/<vm>/<cid>+<claim>/{out,err,meta} is one result, a
 * struct deliver_item once committed.  It
 * is built under a dot-name, fsynced, and renamed into place, so an entry
 * that exists is complete; it is removed only after a deliver call said
 * "ok" or "gone" for it.  A dom0 crash after a command finished therefore
 * never loses its result.
 */
#ifndef QVMR_OUTBOX_H
#define QVMR_OUTBOX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "result.h"

struct outbox_writer {
	char tmpdir[PATH_MAX];
	char dir[PATH_MAX];
	int out_fd, err_fd;          /* owned until commit or abort */
};

/* Creates the entry's temporary directory with out and err open. */
int outbox_begin(const char *state_dir, const char *vm, const char *cid,
		 const char *claim, struct outbox_writer *w);
/* Writes meta, fsyncs, publishes; fills e.  Closes the descriptors. */
int outbox_commit(struct outbox_writer *w, const char *cid,
		  const char *claim, const struct result_meta *m,
		  struct deliver_item *e);
/* Discards an unfinished entry. */
void outbox_abort(struct outbox_writer *w);
/* Removes a delivered entry: first renamed to a dot-name, so a crash
 * never leaves a committed entry with some of its files gone.  An entry
 * that is already gone is no error. */
int outbox_remove(const struct deliver_item *e);
/*
 * The committed entries of vm, oldest cid first, in a new array the
 * caller frees.  Unfinished dot-directories left by a crash are removed.
 */
int outbox_scan(const char *state_dir, const char *vm,
		struct deliver_item **out, size_t *n);

#endif
