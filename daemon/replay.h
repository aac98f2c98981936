/*
 * replay.h - the durable per-VM store of started cids (design.md s. 4).
 *
 * <state_dir>/replay/<vm> holds "CID EPOCH\n" lines, EPOCH being when dom0
 * started the cid's command (jobs.c records it then, not when the request
 * is accepted, so a crash can put back what never started).
 * replay_record() appends and fdatasyncs before it returns, so a cid is on
 * disk before its command runs: a cid runs at most once, even across a
 * crash.  Entries older than the window are dropped
 * when the store is opened (the file is rewritten atomically).
 */
#ifndef QVMR_REPLAY_H
#define QVMR_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cid.h"

/* "CID EPOCH": a cid, a space and up to 20 digits. */
#define REPLAY_LINE_MAX (CID_MAX + 1 + 20)
/* A store never holds more entries than this; past it replay_record and
 * replay_open fail with QR_ERR_TOO_LARGE rather than forget a cid. */
#define REPLAY_ENTRIES_MAX (1u << 20)
#define REPLAY_FILE_MAX ((size_t)REPLAY_ENTRIES_MAX * (REPLAY_LINE_MAX + 1))

struct replay {
	int fd;                 /* append descriptor, -1 when closed */
	size_t n, cap;
	char (*cid)[CID_MAX + 1];   /* sorted, owned */
	time_t *when;           /* parallel to cid */
};

/*
 * Opens (creating) the store of vm, a valid VM name, keeping entries newer
 * than now-window.  The window must cover every cid the freshness check can
 * still accept: max age plus the 5 minutes a cid may lie in the future.
 * Malformed lines (a torn append after a crash) are dropped, since their
 * cid was never acknowledged, so never run.
 */
int replay_open(struct replay *r, const char *state_dir, const char *vm,
		time_t now, uint64_t window_s);
/* 1 when cid is in the store, else 0. */
int replay_seen(const struct replay *r, const char *cid);
/*
 * Durably records cid (a valid cid, else QR_ERR_INVALID); QR_ERR_EXISTS if
 * it is already there.  After a failed write the store refuses further
 * records (QR_ERR_SYSTEM) until it is reopened, because a torn line would
 * swallow the next one.
 */
int replay_record(struct replay *r, const char *cid, time_t now);
void replay_close(struct replay *r);

#endif
