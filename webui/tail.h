/*
 * tail.h - following the audit log by its path, as `tail -F` does.
 *
 * The viewer reads the log; it never writes, locks or renames it.  On
 * open only the last `window` bytes are read (starting at the first whole
 * line in them), so memory and start-up work stay bounded however large
 * the log is; the lines before are only counted, so line numbers match
 * what `qvm-remote-dom0 audit verify` reports.
 *
 * Each tail_poll() reads what was appended since the last one and reports
 * complete lines.  It also notices:
 *   - truncation (the file got shorter, or the bytes just before where
 *     reading stopped changed: truncated and written again between two
 *     polls): reads it again from its start;
 *   - rotation (the path now names another file): reads what the old file
 *     still had, then follows the new one from its start;
 *   - removal (the path names no file for TAIL_GONE_MS: a rename and a
 *     create, as logrotate does them, are a rotation): waits for a file;
 *   - a line longer than LOGPARSE_LINE_MAX: reported by number, skipped.
 * A line without its newline yet waits for it.  The caller polls; a stat
 * every fraction of a second costs nothing next to the page it feeds.
 */
#ifndef QVMR_WEBUI_TAIL_H
#define QVMR_WEBUI_TAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define TAIL_WINDOW_DEFAULT (4u << 20)
#define TAIL_READ_BUDGET (1u << 20)     /* bytes one tail_poll() reads */
#define TAIL_SEEN_MAX 64u               /* bytes kept to notice a rewrite */
#define TAIL_GONE_MS 1000

enum tail_mark {
	TAIL_OPENED = 1,        /* arg: 1 when older lines were skipped */
	TAIL_ROTATED,           /* the path names another file now */
	TAIL_TRUNCATED,         /* the file got shorter */
	TAIL_GONE,              /* the path names no file now */
	TAIL_LONG_LINE,         /* arg: the number of a line not shown */
};

struct tail_ops {
	/* a complete line, without its newline; lineno counts from 1, and
	 * is 0 when the lines before could not be counted */
	void (*line)(void *ctx, uint64_t lineno, const char *line, size_t n);
	void (*mark)(void *ctx, enum tail_mark what, uint64_t arg);
};

enum tail_state { TAIL_WAITING, TAIL_READING, TAIL_FAILED };

struct tail {
	char *path;             /* owned */
	size_t window;
	int fd;                 /* -1 when no file is open */
	dev_t dev;
	ino_t ino;
	off_t off;              /* the next byte to read */
	uint64_t lineno;        /* complete lines before off */
	int counted;            /* lineno is known (0: a read failed) */
	struct buf partial;     /* an unfinished line */
	int discard;            /* drop bytes up to the next newline */
	int discard_report;     /* ...and report that line as too long */
	char seen[TAIL_SEEN_MAX];       /* the bytes before off, as read */
	size_t seen_len;
	int64_t gone_since;     /* monotonic ms the path was first missing */
	enum tail_state state;
	int err;                /* errno of the last failure to open */
};

/* No I/O yet.  0, or QR_ERR_NOMEM. */
int tail_init(struct tail *t, const char *path, size_t window);
void tail_release(struct tail *t);

/*
 * Reads what is new, at most TAIL_READ_BUDGET bytes, calling ops.  Returns
 * 1 when more is waiting (call again at once), 0 when caught up, and also
 * 0 while the file is missing or unreadable: t->state and t->err say
 * which, and the next call tries again.
 */
int tail_poll(struct tail *t, const struct tail_ops *ops, void *ctx);

#endif
