/*
 * replay.h - the durable per-VM store of started cids (design.md s. 4).
 *
 * <state_dir>/replay/<vm> holds "CID EPOCH\n" lines, EPOCH being when dom0
 * started the cid's command (jobs.c records it then, not when the request
 * is accepted, so a crash can put back what never started), and at most
 * one "floor T\n" line.  replay_record() appends and fdatasyncs before it
 * returns, so a cid is on disk before its command runs: a cid runs at most
 * once, even across a crash.
 *
 * Forgetting.  An entry expires by the time its cid names, never by dom0's
 * clock when it ran: it may be dropped once that time is more than the
 * window before now.  Whatever the store drops, it first raises its floor
 * above the dropped cids' times, durably (the floor is in the rewritten
 * file), and a cid whose time is below the floor counts as one that may
 * have run (replay_lookup).  So no clock, however wrong at one moment, can
 * make a dropped cid new again: a clock that ran ahead can only make the
 * store forget early, and then ids as old as the ones forgotten are
 * refused until they are refused as stale anyway.
 *
 * Entries are dropped in batches, at open and while records arrive, only
 * when the store holds at least REPLAY_PRUNE_MIN entries and twice as many
 * as after the last look; the file is rewritten atomically then.  So memory
 * and file stay within about twice what the window holds (and at least
 * REPLAY_PRUNE_MIN), the rewrite costs one fsync per many records, and a
 * small store, the common case, never forgets during a clock glitch.
 */
#ifndef QVMR_REPLAY_H
#define QVMR_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bounds.h"
#include "cid.h"

/* "CID EPOCH": a cid, a space and up to 20 digits. */
#define REPLAY_LINE_MAX (CID_MAX + 1 + 20)
/* A store never holds more entries than this; past it replay_record and
 * replay_open fail with QR_ERR_TOO_LARGE rather than forget a cid that is
 * still in the window. */
#define REPLAY_ENTRIES_MAX (1u << 20)
#define REPLAY_FILE_MAX ((size_t)(REPLAY_ENTRIES_MAX + 1) * \
			 (REPLAY_LINE_MAX + 1))
/* Below this many entries nothing is dropped. */
#define REPLAY_PRUNE_MIN 1024u

struct replay_entry {
	char cid[CID_MAX + 1];
	time_t t;                   /* the time the cid names (cid_time) */
	time_t ran;                 /* dom0's clock when it started (EPOCH) */
};

struct replay {
	int fd;                     /* append descriptor, -1 when closed */
	size_t n, cap;
	struct replay_entry *e;     /* sorted by cid, owned */
	time_t floor;               /* every dropped cid named a time below */
	uint64_t window_s;          /* see replay_open; callers may update */
	size_t next_look;           /* prune when n reaches this */
	char *dir;                  /* <state_dir>/replay, owned */
	char vm[VMNAME_MAX + 1];
};

enum replay_state {
	REPLAY_NEW = 0,             /* never started */
	REPLAY_SEEN,                /* recorded: it started */
	REPLAY_FORGOTTEN,           /* below the floor (or no readable time):
				     * it may have run */
};

/*
 * Opens (creating) the store of vm, a valid VM name.  window_s must cover
 * every cid the freshness check can still accept (request_window_s()):
 * entries whose cid time is more than window_s before now may be dropped.
 * Malformed lines (a torn append after a crash) are dropped, since their
 * cid was never acknowledged, so never run.
 */
int replay_open(struct replay *r, const char *state_dir, const char *vm,
		time_t now, uint64_t window_s);
/*
 * What the store knows of cid.  The one rule for "may this id have run?":
 * freshness (request.c) and crash recovery (jobs.c) both ask it.
 */
enum replay_state replay_lookup(const struct replay *r, const char *cid);
/*
 * Durably records cid (a valid cid naming a readable time, else
 * QR_ERR_INVALID); QR_ERR_EXISTS if it is already there.  The caller looked
 * it up (REPLAY_NEW) when it accepted it.  After a failed write the store
 * refuses further records (QR_ERR_SYSTEM) until it is reopened, because a
 * torn line would swallow the next one.  A record may start a prune (see
 * above); a prune that fails leaves every entry in place.
 */
int replay_record(struct replay *r, const char *cid, time_t now);
/*
 * Drops the entries that left the window at now, whatever the store's
 * size: the floor goes up and the file is rewritten first.  0 also when
 * nothing was due.  On a failed rewrite nothing is dropped; if the new file
 * cannot be reopened for appends, records fail until the store is reopened.
 */
int replay_prune(struct replay *r, time_t now);
void replay_close(struct replay *r);

#endif
