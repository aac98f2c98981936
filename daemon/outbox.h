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

/* Room kept for an entry's meta from its start (result.h's longest meta
 * is well under it), so a result that ran can always be committed. */
#define OUTBOX_META_RESERVE 4096

struct outbox_writer {
	char tmpdir[PATH_MAX];
	char dir[PATH_MAX];
	int out_fd, err_fd, meta_fd; /* owned until commit or abort */
	uint64_t written[2];         /* out, err: appended so far */
	uint64_t flushed[2];         /* of which writeback was started */
	unsigned char last[2];       /* the last byte appended to each */
};

/* outbox_append starts the writeback of each this many bytes written */
#define OUTBOX_WRITEBACK (8u << 20)

/*
 * The volatile outbox's base (for outbox_begin) in runtime_dir: the
 * runtime tmpfs, for answers the state directory could not take.  Its
 * name cannot be a VM's (VM names start with a letter).
 */
int outbox_volatile_dir(char out[PATH_MAX], const char *runtime_dir);

/*
 * Creates the entry's temporary directory with out and err open, and meta
 * with OUTBOX_META_RESERVE bytes allocated: a file system too full for the
 * meta fails here, before a command runs, not at its end.  base is the
 * state directory, or the volatile outbox's base: entries go to
 * base/outbox/VM/.
 */
int outbox_begin(const char *base, const char *vm, const char *cid,
		 const char *claim, struct outbox_writer *w);
/*
 * Appends n bytes to the entry's out (i 0) or err (i 1).  Each
 * OUTBOX_WRITEBACK bytes it starts their writeback without waiting for it
 * (sync_file_range), so the commit's fsync has little left to wait for
 * however much was written: the daemon's loop, which every VM shares, is
 * not held for the whole output at the end (46 ms for 100 MiB here).
 */
int outbox_append(struct outbox_writer *w, int i, const void *p, size_t n);
/* Writes meta into its room, fsyncs, publishes; fills e.  Closes the
 * descriptors. */
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
