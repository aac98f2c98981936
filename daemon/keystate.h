/*
 * keystate.h - the keys the running daemon holds, as it tells the admin
 * verbs: <runtime_dir>/keys (docs/protocol.md section 9).
 *
 * The daemon writes the file, atomically, after every load of its keys
 * (at start, on a change of the keys directory, on SIGHUP); authorize and
 * revoke change a key file, then wait until the file shows the change, so
 * that what they print is what the running daemon does.  The file holds
 * fingerprints, never keys:
 *
 *     qvmr-keys 1
 *     pid 4242
 *     generation 7
 *     vm work SHA256:3f9a... served 2
 *     vm old - dropped 1
 *     vm spare SHA256:91be... not-polled 0
 *     end
 *
 * One "vm NAME FINGERPRINT STATE RUNNING" line per VM (fingerprint "-"
 * when there is none), in any order, each name once; RUNNING counts the
 * VM's commands running at that load.  STATE: served (its key is loaded
 * and it is polled), dropped (its key is gone from the daemon; commands
 * already running finish), not-polled (a key file the daemon does not use:
 * QVM_REMOTE_VMS or --vm leaves the VM out), unusable (a key file the
 * daemon cannot use).  "end" closes the file.
 */
#ifndef QVMR_KEYSTATE_H
#define QVMR_KEYSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "key.h"

#define KEYSTATE_FILE "keys"
#define KEYSTATE_VMS_MAX (2 * CONFIG_LIST_MAX)
#define KEYSTATE_LINE_MAX (VMNAME_MAX + KEY_FINGERPRINT_MAX + 48)
#define KEYSTATE_TEXT_MAX (64 + KEYSTATE_VMS_MAX * (KEYSTATE_LINE_MAX + 1))
#define KEYSTATE_RUNNING_MAX 1000000u

enum keystate_vm {
	KEYSTATE_SERVED,
	KEYSTATE_DROPPED,
	KEYSTATE_NOT_POLLED,
	KEYSTATE_UNUSABLE,
};

struct keystate_entry {
	char vm[VMNAME_MAX + 1];
	char fp[KEY_FINGERPRINT_MAX];   /* "" for none */
	enum keystate_vm state;
	unsigned running;
};

/* Some 13 KiB: callers allocate it. */
struct keystate {
	long pid;
	uint64_t generation;
	size_t n;
	struct keystate_entry vm[KEYSTATE_VMS_MAX];
};

/* "served", "dropped", ... as the file spells them. */
const char *keystate_vm_name(enum keystate_vm st);

/*
 * Appends an entry to s: QR_ERR_TOO_LARGE when s is full, QR_ERR_INVALID
 * for a bad VM name or a fingerprint with a blank or control byte,
 * QR_ERR_EXISTS when s names vm already.  fp NULL or "" for none.
 */
int keystate_add(struct keystate *s, const char *vm, const char *fp,
		 enum keystate_vm st, unsigned running);

/* The entry of vm, or NULL. */
const struct keystate_entry *keystate_find(const struct keystate *s,
					   const char *vm);

/* The file's text for s, appended to out. */
int keystate_format(const struct keystate *s, struct buf *out);

/*
 * Parses text[0..n) (pure).  QR_ERR_INVALID (a line that does not follow
 * the grammar), QR_ERR_INCOMPLETE (no "end"), QR_ERR_TRAILING (bytes after
 * it), QR_ERR_TOO_LARGE (more VMs than KEYSTATE_VMS_MAX), QR_ERR_EXISTS (a
 * name twice).  On failure *out is unspecified.
 */
int keystate_parse(const char *text, size_t n, struct keystate *out);

/* Writes s to runtime_dir/keys through a temporary name and a rename,
 * mode 0600 (the directory is tmpfs: no fsync). */
int keystate_write(const char *runtime_dir, const struct keystate *s);

/* Reads and parses runtime_dir/keys: QR_ERR_NOT_FOUND when absent, else
 * as read_file and keystate_parse. */
int keystate_read(const char *runtime_dir, struct keystate *out);

/*
 * Called by keystate_wait with the file as it is now (s NULL when it
 * cannot be read: not yet written, say); nonzero ends the wait.
 */
typedef int (*keystate_done_fn)(const struct keystate *s, void *arg);

#define KEYSTATE_WAIT_NO_INOTIFY 1u     /* look every 100 ms instead */

/*
 * Calls done() with the file now, then each time runtime_dir may have
 * changed (inotify on the directory, and at least every 250 ms, since the
 * directory itself may be replaced), until done() returns nonzero or the
 * monotonic deadline_ms (clock.h mono_ms) passes.  0 when done() ended it,
 * QR_ERR_INCOMPLETE when the deadline came first, QR_ERR_NOMEM.  done()
 * keeps what it needs of s: s is valid during the call only.
 */
int keystate_wait(const char *runtime_dir, int64_t deadline_ms,
		  unsigned flags, keystate_done_fn done, void *arg);

#endif
