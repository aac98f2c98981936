/*
 * audit.h - dom0's audit log (design.md section 7).
 *
 * Lines are built with lib/logline.h up to, not including, the newline;
 * audit_write() appends " chain=HEX\n" where HEX is the first 16 bytes, in
 * hex, of SHA-256(previous chain value as hex || the line before " chain=").
 * The first line of a file chains from 32 zero hex digits.  Editing or
 * deleting a line breaks every later chain value, which audit_verify()
 * reports by line number.
 */
#ifndef QVMR_AUDIT_H
#define QVMR_AUDIT_H

#include <stdio.h>
#include <sys/types.h>

#include "buf.h"

#define AUDIT_CHAIN_HEX 32
/* The longest line audit_write() accepts, chain value and newline included;
 * longer lines are refused, and audit_verify() reports them as broken. */
#define AUDIT_LINE_MAX (32u << 10)
/* How much of the file's end audit_open() reads to find the last chain. */
#define AUDIT_TAIL_MAX (2 * AUDIT_LINE_MAX)

struct audit {
	int fd;                             /* O_APPEND, -1 when closed */
	char prev[AUDIT_CHAIN_HEX + 1];     /* chain value of the last line */
	int echo;                           /* also write lines to stderr;
					     * audit_open sets it to 0 */
	off_t end;                          /* file size after our last write */
};

/*
 * Opens (creating 0640, and its directory 0750 when missing) the log and
 * reads the chain value of its last line, so a restarted daemon continues
 * the chain.  Only the file's last AUDIT_TAIL_MAX bytes are read.  A last
 * line without a chain value (hand-written, or a fresh file) restarts the
 * chain from zeros; a last line without its newline (a torn write) is ended
 * first, so it stays a line of its own that audit_verify() reports.
 */
int audit_open(struct audit *a, const char *path);
/*
 * Appends the chain value and the newline to line, then writes it with one
 * write(2).  The line must be printable ASCII, as lib/logline.h writes it
 * (so no newline), else QR_ERR_INVALID; longer than AUDIT_LINE_MAX is
 * QR_ERR_TOO_LARGE.  Writers hold an flock(2) on the file while they write,
 * and a writer that finds the file grew since its last line (an admin verb
 * wrote while the daemon runs) rereads the chain first, so several
 * processes can share one log without breaking its chain.  On failure line
 * is left as it was.
 */
int audit_write(struct audit *a, struct buf *line);
/*
 * Makes every line written so far durable (fdatasync): a command runs only
 * after its EXEC line is on disk.  0, or QR_ERR_SYSTEM with errno.
 */
int audit_sync(struct audit *a);
void audit_close(struct audit *a);

/*
 * Checks every line's chain value.  Returns 0 when all verify; otherwise
 * writes the 1-based number of the first broken line to *bad_line and
 * returns QR_ERR_MISMATCH.  *lines receives the number of lines read.
 */
int audit_verify(const char *path, unsigned long *lines,
		 unsigned long *bad_line);

#endif
