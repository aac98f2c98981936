/*
 * logcheck.h - verifying dom0's audit log (auditfmt.h has the line format).
 *
 * One checker reads the lines of one or more files, oldest first, and
 * stops at the first break.  Without a key it checks what anyone can:
 * every chain value, the seq of sealed lines going up by one, no unsealed
 * line after a sealed one, a rotated file's first line continuing the
 * file before it.  That finds damage and clumsy edits, not a deliberate
 * rewrite: whoever can write the file can recompute all of it.
 *
 * With the verification key (seal.h) it also recomputes every seal from
 * the key's seq on: a line sealed before an attacker got dom0's key state
 * cannot be changed, removed, moved or added without a seal failing.
 *
 * Anchors (the "dom0-log=SEQ:SEAL" a VM's audit.log keeps of every result
 * it got) find a cut tail: a log that ends before an anchor's seq, or
 * whose line at that seq has another seal, was rewritten (or the VM's
 * file was; with the key, the log's own lines are proven).
 *
 * Pure: the caller reads the files and feeds the lines (logverify.h from
 * disk, the viewer as the log grows).
 */
#ifndef QVMR_LOGCHECK_H
#define QVMR_LOGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define LOGCHECK_ANCHORS_MAX (1u << 20)
#define LOGCHECK_WHY_MAX 512
#define LOGCHECK_NAME_MAX 4096

struct logcheck_anchor {
	uint64_t seq;
	char seal[SEAL_HEX + 1];
	unsigned long line;             /* where it was read */
	unsigned file;                  /* index into the anchor files */
};

struct logcheck {
	/* the key, evolved as lines are checked; key.seq 0: no key */
	struct seal_key key;
	uint64_t key_start;
	/* anchors, sorted by seq once the first line is checked */
	struct logcheck_anchor *anchors;
	size_t nanchors, anchors_cap, next_anchor;
	int sorted;
	char anchor_files[16][LOGCHECK_NAME_MAX];
	unsigned nanchor_files;

	/* the file being read */
	char file[LOGCHECK_NAME_MAX];
	unsigned long lines_file;       /* its lines read */
	char chain[SEAL_CHAIN_HEX + 1];
	int file_sealed;                /* a sealed line in this file */

	/* across files */
	int seen;                       /* a sealed line in any file */
	uint64_t first_seq, last_seq;
	char last_seal[SEAL_HEX + 1];
	char last_chain[SEAL_CHAIN_HEX + 1];
	unsigned long lines;            /* every line read */
	unsigned long unsealed;         /* lines before a file's first seal */
	unsigned long proven;           /* seals recomputed with the key */
	unsigned long uncovered;        /* sealed before the key's seq */
	unsigned long anchors_ok, anchors_older;
	int restarts;                   /* action=seal-restart lines */

	/* the first break */
	char bad_file[LOGCHECK_NAME_MAX];
	unsigned long bad_line;         /* 1-based in bad_file; 0: none */
	int bad_anchor;                 /* found by an anchor */
	char why[LOGCHECK_WHY_MAX];
};

void logcheck_init(struct logcheck *c);
/* Checks seals from k->seq on with k (copied). */
void logcheck_set_key(struct logcheck *c, const struct seal_key *k);
/*
 * Adds the anchors in text[0..n) (a VM's audit.log, or any lines holding
 * " dom0-log=SEQ:SEAL"), read from the file named from.  Lines without
 * one are skipped.  QR_ERR_TOO_LARGE past LOGCHECK_ANCHORS_MAX or 16
 * files; QR_ERR_NOMEM.
 */
int logcheck_add_anchors(struct logcheck *c, const char *text, size_t n,
			 const char *from);
/* A new file begins; name is used in messages. */
void logcheck_begin_file(struct logcheck *c, const char *name);
/*
 * Checks one line (no newline).  0, or QR_ERR_MISMATCH with bad_file,
 * bad_line and why set; once broken, every call returns QR_ERR_MISMATCH.
 */
int logcheck_line(struct logcheck *c, const char *line, size_t n);
/*
 * The next line is broken without a look at it: longer than any line
 * written (too_long), or the file's last bytes, with no newline.  Returns
 * QR_ERR_MISMATCH, as logcheck_line() for a broken line.
 */
int logcheck_torn(struct logcheck *c, int too_long);
/* After the last file: the anchors past the log's end.  0 or
 * QR_ERR_MISMATCH. */
int logcheck_finish(struct logcheck *c);
void logcheck_release(struct logcheck *c);

#endif
