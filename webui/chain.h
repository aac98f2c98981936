/*
 * chain.h - the log's keyless check, as the page's banner shows it.
 *
 * The viewer runs without the seal key, so it checks what anyone can
 * (lib/logcheck.h): every chain value and the seal sequence.  That
 * finds damage and clumsy edits; it cannot find a rewrite whose chain was
 * recomputed, which only `qvm-remote-dom0 audit verify --key` can.
 *
 * A watch checks incrementally: it keeps its position and chain state
 * between checks and reads only what was appended, so a break in new
 * lines shows at once however fast the log grows.  It starts over when
 * the file shrinks or is replaced (rotation), re-reads it whole when it
 * changed without growing (an edit in place: its mtime or, as the mtime
 * can be put back, its ctime changed), and at least every
 * CHAIN_FULL_S seconds, for an edit of lines it already passed that came
 * with an append.  A last line without its newline is a line being
 * written, not a break, until a later check finds it still unfinished.
 */
#ifndef QVMR_WEBUI_CHAIN_H
#define QVMR_WEBUI_CHAIN_H

#include <time.h>
#include <sys/types.h>

#include "buf.h"

enum chain_state {
	CHAIN_CHECKING = 0,     /* not checked yet */
	CHAIN_OK,               /* every line verifies */
	CHAIN_BROKEN,           /* lines 1..bad-1 verify, line bad does not */
	CHAIN_EMPTY,            /* the file holds no line */
	CHAIN_MISSING,          /* no file at the path */
	CHAIN_ERROR,            /* the file cannot be read: err */
};

struct chain_status {
	enum chain_state state;
	unsigned long lines;    /* lines read (all of them unless broken) */
	unsigned long bad;      /* the first broken line, 1-based */
	int err;                /* errno, for CHAIN_ERROR */
	time_t checked;         /* when, wall clock */
};

#define CHAIN_FULL_S 30

struct logcheck;

struct chain_watch {
	struct logcheck *lc;    /* NULL until the first check */
	int have;               /* lc holds the file below */
	dev_t dev;
	ino_t ino;
	off_t pos;              /* just after the last whole line checked */
	off_t partial_at;       /* size when a partial last line was seen */
	off_t size;             /* the file at the last check */
	struct timespec mtime;
	struct timespec ctime;  /* which no one can put back, as mtime can */
	struct chain_status broken;     /* kept once found */
	struct timespec full;   /* when the file was last read from 0 */
	char *buf;
};

void chain_watch_init(struct chain_watch *w);
void chain_watch_release(struct chain_watch *w);
/*
 * Checks what the file at path gained since the last call into *st.
 * Returns QR_ERR_INCOMPLETE when its last line is still being written
 * (check again shortly; *st holds the lines before it), else 0 with the
 * outcome in *st.
 */
int chain_watch_check(struct chain_watch *w, const char *path,
		      struct chain_status *st);
/*
 * 1 when the watch's next check reads the file from the start again
 * (CHAIN_FULL_S since the last time): a caller that checks only when the
 * file changed checks then too, for an edit that came with an append.
 */
int chain_watch_due(const struct chain_watch *w);
/* One check of the whole file, with a watch of its own. */
int chain_check(const char *path, struct chain_status *st);

/*
 * Appends {"state":"ok","lines":N,"bad":M,"checked":T,"error":"..."}
 * with state one of checking ok broken empty missing error.  Pure.
 */
int chain_json(const struct chain_status *st, struct buf *out);

#endif
