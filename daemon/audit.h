/*
 * audit.h - dom0's audit log (design.md sections 7 and 7a): the writer.
 * Lines are built with lib/logline.h up to, not including,
 * the newline; audit_write() seals them, appends " seq=N seal=SEAL
 * chain=CHAIN" and the newline, in the format of lib/auditfmt.h.  The
 * seal needs the key (seal.h), which evolves one step per line; the chain
 * is a check anyone can make, against accidental damage only, since
 * whoever can write the file can recompute it.
 *
 * The key state lives in STATE_DIR/log-seal (0600), read and advanced under
 * an flock(2) of that file by every writer (the daemon, the admin verbs).
 * A log file that begins after lines already sealed (a rotated log) starts
 * with "INFO action=log-continue prev_seq= prev_seal= prev_chain=", sealed
 * to the old file's last line.  A writer that finds the state and the log
 * disagree (lines cut, a line not sealed, a lost state) writes a sealed
 * ERROR line that says so before its own line, and never silently
 * restarts.  logcheck.h verifies, logverify.h from the files.
 */
#ifndef QVMR_AUDIT_H
#define QVMR_AUDIT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "auditfmt.h"
#include "buf.h"
#include "seal.h"

/* How much of the file's end audit_open() reads to find the last chain. */
#define AUDIT_TAIL_MAX (2 * AUDIT_LINE_MAX)
/* The file names in the state directory. */
#define AUDIT_SEAL_FILE "log-seal"
#define AUDIT_PENDING_FILE "log-verify.key"
#define AUDIT_WHY_MAX 768
#define AUDIT_PATH_MAX 4096

/* Where the log stood after a line: the anchor a VM keeps. */
struct audit_anchor {
	uint64_t seq;                       /* 0: nothing sealed yet */
	char seal[AUDIT_SEAL_HEX + 1];
};

/* What the last line of the log file is, as resync read it. */
struct audit_tail {
	int lines;                          /* the file has lines */
	int sealed;                         /* its last line is sealed */
	uint64_t seq;
	char seal[AUDIT_SEAL_HEX + 1];
	char chain[AUDIT_CHAIN_HEX + 1];
	struct buf text;                    /* that line, no newline */
};

struct audit {
	int live;                           /* audit_open ran: close state_fd
					     * (a struct initialised as
					     * { .fd = -1 } closes nothing) */
	int fd;                             /* the log, O_APPEND; -1 closed */
	int state_fd;                       /* the seal state, -1 closed */
	char path[AUDIT_PATH_MAX];
	char state_dir[AUDIT_PATH_MAX];
	char prev[AUDIT_CHAIN_HEX + 1];     /* chain value of the last line */
	int echo;                           /* also write lines to stderr;
					     * audit_open sets it to 0 */
	off_t end;                          /* file size after our last write */
	dev_t dev;                          /* the file fd is, to notice a */
	ino_t ino;                          /* rotation */
	struct audit_tail tail;
	struct audit_anchor last;           /* after our last line */
	int state_err;                      /* the state could not be saved */
	char *show_key;                     /* setup-key: a new seal's key
					     * goes here, not to a file */
	char why[AUDIT_WHY_MAX];            /* why audit_open refused */
};

/*
 * Opens (creating 0640, and its directory 0750 when missing) the log at
 * path and the seal state in state_dir (created 0700), and reads the last
 * line of the log, so a restarted daemon continues its chain and seal.
 * Refuses, with the reason and the fix in a->why and QR_ERR_PERMISSIONS, a
 * log that is a symlink (QR_ERR_SYSTEM, ELOOP), not a regular file, not
 * owned by this uid, writable by group or others, or with another link; a
 * log directory not owned by this uid or root or writable by group or
 * others; a seal state that others can read.  Only the file's last
 * AUDIT_TAIL_MAX bytes are read.  A last line without its newline (a torn
 * write of another program) is ended first, so it stays a line of its
 * own that verify reports.
 */
int audit_open(struct audit *a, const char *path, const char *state_dir);
/*
 * Seals line and writes it, " seq= seal= chain=" and the newline
 * appended, with one write(2), then advances the key state (the old key
 * wiped in memory and overwritten in the state file).  The line must be
 * printable ASCII, as lib/logline.h writes it (so no newline), else
 * QR_ERR_INVALID; longer than AUDIT_LINE_MAX is QR_ERR_TOO_LARGE.  When
 * the file at the log's path is no longer the one open (a rotation), the
 * new file is opened first.  Returns 0 or a negative qr_err, errno set on
 * QR_ERR_SYSTEM; on failure line is left as it was, the file as it was
 * (a partial write is cut off again), and no key state advanced for it.
 */
int audit_write(struct audit *a, struct buf *line);
/*
 * Makes every line written so far and the key state durable (fdatasync of
 * both).  0, or a negative qr_err (errno set) when either cannot be made
 * durable or the last state update failed.
 */
int audit_sync(struct audit *a);
/* The seq and seal of the last line this writer wrote (seq 0: none). */
void audit_anchor(const struct audit *a, struct audit_anchor *out);
/*
 * Opens the file at the log's path again (SIGHUP after a rotation): a new
 * file begins sealed to the old one.  On failure the old file stays open
 * and a->why says why.
 */
int audit_reopen(struct audit *a);
/*
 * audit setup-key: with no seal state yet, starts the seal and writes its
 * verification key into key (NUL-terminated), keeping no copy in dom0;
 * with a pending key (one a writer kept in the state directory), moves
 * it into key and erases the file.  Returns 0, or QR_ERR_EXISTS when a
 * seal exists and its key was shown already.
 */
int audit_setup_key(struct audit *a, char key[SEAL_KEY_TEXT_MAX]);
/* Whether state_dir holds a verification key not shown yet. */
int audit_key_pending(const char *state_dir);
void audit_close(struct audit *a);

#endif
