/*
 * chain.h - the hash chain of the log, as the page's banner shows it.
 *
 * daemon/audit.c's audit_verify() does the checking; this adds what a
 * live view needs: telling a line that is being written from a broken one,
 * and the JSON the page reads.
 */
#ifndef QVMR_WEBUI_CHAIN_H
#define QVMR_WEBUI_CHAIN_H

#include <time.h>

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

/*
 * Verifies the file at path into *st.  Returns QR_ERR_INCOMPLETE when the
 * answer may be wrong because the file changed while it was read and the
 * break is at its last line (a line being appended, not an edit): check
 * again shortly.  Otherwise 0, with the outcome in *st.
 */
int chain_check(const char *path, struct chain_status *st);

/*
 * Appends {"state":"ok","lines":N,"bad":M,"checked":T,"error":"..."}
 * with state one of checking ok broken empty missing error.  Pure.
 */
int chain_json(const struct chain_status *st, struct buf *out);

#endif
