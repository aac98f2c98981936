/*
 * dirwatch.h - a directory whose files the running daemon loads again as
 * soon as they change: the keys (vmset.c) and the policy (policyset.c).
 *
 * With inotify, a watch on the directory (files created, deleted, moved,
 * written or chmod-ed, and the directory itself moved or deleted) marks a
 * load due at once.  Without a watch (no inotify, the directory missing,
 * the watch lost), once every DIRWATCH_TICK_MS the directory's stamp (a
 * digest of its identity, mode, owner and times and of each entry's name,
 * identity, size, mode, owner and times) is compared with the one taken
 * at the last load, and the watch is tried again.  A missing or unreadable
 * directory has a stamp of its own, so losing it is a change too.
 *
 * The owner loads when dirwatch_due says so, and calls dirwatch_loading
 * before it reads the directory: a change made while it reads shows as a
 * new stamp (or event) and brings one more load.  One thread; the inotify
 * descriptor is the caller's, shared by several watches.
 */
#ifndef QVMR_DIRWATCH_H
#define QVMR_DIRWATCH_H

#include <stdint.h>

#define DIRWATCH_STAMP_LEN 32
#define DIRWATCH_TICK_MS 1000       /* the stamp's period without a watch */

struct dirwatch {
	const char *path;           /* not owned; outlives the watch */
	int wd;                     /* the inotify watch, -1: none */
	int dirty;                  /* a load is due */
	uint64_t loads;             /* dirwatch_loading calls so far */
	int64_t checked_ms;         /* the last look without a watch */
	unsigned char stamp[DIRWATCH_STAMP_LEN];  /* at the last load */
};

/* No watch yet, nothing loaded. */
void dirwatch_init(struct dirwatch *w, const char *path);

/*
 * Adds the watch on inotify_fd (-1: none) when w has none.  A watch added
 * after a load marks a load due: what changed while nothing watched.
 * Returns whether w has a watch now.
 */
int dirwatch_add(struct dirwatch *w, int inotify_fd);

/* Takes one event read from inotify_fd: one of w's watch (a load is due;
 * the watch is dropped when the directory moved or went), or an overflow
 * (wd -1, IN_Q_OVERFLOW: events were lost, maybe w's). */
void dirwatch_event(struct dirwatch *w, int inotify_fd, int wd,
		    uint32_t mask);

/*
 * Whether a load is due at now_ms (mono_ms): an event marked one, or,
 * without a watch and at most once a DIRWATCH_TICK_MS, the stamp differs
 * from the last load's; the watch is tried again then too.
 */
int dirwatch_due(struct dirwatch *w, int inotify_fd, int64_t now_ms);

/* Before a load reads the directory: takes its stamp and clears the due
 * mark (a stamp that cannot be taken leaves a load due). */
void dirwatch_loading(struct dirwatch *w);

#endif
