/*
 * test_daemon_replay.c - the durable store of accepted cids: a cid runs at
 * most once, across restarts, and a torn write never hides a record; what
 * it forgets, it forgets below a durable floor, so no clock brings a
 * forgotten cid back.
 */
#include "replay.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "banned.h"

#define T0 ((time_t)1795860900)    /* 2026-11-28 10:15:00, CID1's time */
#define WINDOW 86700u
#define DAY 86400

#define CID1 "20261128-101500-4242-0123456789abcdef0123456789abcdef"
#define CID2 "20261128-101501-4242-fedcba9876543210fedcba9876543210"
#define CID3 "20261128-101502-77-00000000"
#define PING "ping-1764324900000000000-4242"

struct fx {
	char dir[64];
	char path[128];
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-replay-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/replay/work", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The store file's contents, NUL-terminated, in a static buffer. */
static const char *
contents(const struct fx *f)
{
	static char text[4096];
	int fd = open(f->path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	assert_true(n >= 0);
	text[n] = '\0';
	close(fd);
	return text;
}

static void
put(const struct fx *f, const char *text)
{
	char dir[96];
	int fd;

	snprintf(dir, sizeof(dir), "%s/replay", f->dir);
	(void)mkdir(dir, 0700);
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_record_and_seen(void **state)
{
	struct fx *f = *state;
	struct replay r;
	struct stat st;
	char dir[96];

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	snprintf(dir, sizeof(dir), "%s/replay", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_not_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_not_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_equal(replay_record(&r, CID1, T0 + 5), QR_ERR_EXISTS);
	assert_int_equal(replay_record(&r, PING, T0), 0);
	assert_int_equal(replay_lookup(&r, PING), REPLAY_SEEN);
	/* nothing but a cid reaches the file */
	assert_int_equal(replay_record(&r, "../../x 1\n", T0), QR_ERR_INVALID);
	assert_int_equal(replay_record(&r, "", T0), QR_ERR_INVALID);
	assert_int_equal(r.n, 2);
	replay_close(&r);
	assert_int_equal(r.fd, -1);
}

/* Every record is on disk when replay_record returns: a second reader
 * sees it while the store is still open. */
static void
test_record_is_on_disk_at_once(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_string_equal(contents(f), CID1 " 1795860900\n");
	assert_int_equal(replay_record(&r, CID2, T0 + 1), 0);
	assert_string_equal(contents(f), CID1 " 1795860900\n"
			    CID2 " 1795860901\n");
	replay_close(&r);
}

static void
test_survives_reopen(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_record(&r, CID2, T0), 0);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_int_equal(replay_record(&r, CID3, T0), 0);
	replay_close(&r);

	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 60, WINDOW), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, CID3), REPLAY_SEEN);
	assert_int_equal(replay_record(&r, CID2, T0 + 60), QR_ERR_EXISTS);
	/* kept sorted for the binary search */
	assert_true(strcmp(r.e[0].cid, r.e[1].cid) < 0);
	assert_true(strcmp(r.e[1].cid, r.e[2].cid) < 0);
	replay_close(&r);

	/* another VM's store is another file */
	assert_int_equal(replay_open(&r, f->dir, "personal", T0, WINDOW), 0);
	assert_int_not_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	replay_close(&r);
}

/* Expiry goes by the cid's own time, not by when it ran; an explicit
 * prune drops what left the window and raises the floor above it. */
static void
test_prune_by_the_cids_own_time(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	/* CID1 names T0 but ran a day later: its own time counts */
	assert_int_equal(replay_record(&r, CID1, T0 + DAY), 0);
	assert_int_equal(replay_record(&r, CID2, T0 + 1), 0);
	/* exactly at the window's edge: still kept */
	assert_int_equal(replay_prune(&r, T0 + WINDOW), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.floor, 0);
	assert_int_equal(replay_prune(&r, T0 + WINDOW + 1), 0);
	assert_int_equal(r.n, 1);
	assert_int_not_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	/* gone from the store, but not new again: below the floor */
	assert_int_equal(r.floor, T0 + 1);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_FORGOTTEN);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, CID3), REPLAY_NEW);
	/* the file was rewritten: the floor first, without CID1 */
	assert_string_equal(contents(f), "floor 1795860901\n"
			    CID2 " 1795860901\n");
	/* and appends go to the new file */
	assert_int_equal(replay_record(&r, CID3, T0 + WINDOW + 1), 0);
	replay_close(&r);

	/* the floor survives a reopen, with any clock */
	assert_int_equal(replay_open(&r, f->dir, "work", T0 - 1000, WINDOW), 0);
	assert_int_equal(r.floor, T0 + 1);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_FORGOTTEN);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, CID3), REPLAY_SEEN);
	replay_close(&r);
}

/*
 * The attack: dom0's clock runs two days ahead at one start (it comes
 * from the clock VM), then is put right.  A small store forgets nothing
 * then, so the correct clock still sees the cid as a replay.
 */
static void
test_clock_ahead_then_correct_still_seen(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_int_equal(replay_record(&r, PING, T0), 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 2 * DAY, WINDOW),
			 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_equal(replay_lookup(&r, PING), REPLAY_SEEN);
	replay_close(&r);
}

/* Writes n cids naming time t into a store file, as a daemon would have. */
static void
put_many(const struct fx *f, const char *floor_line, unsigned n, time_t t,
	 unsigned tag)
{
	char cid[CID_MAX + 1], line[128], day[32];
	struct tm tm;
	FILE *fp;
	char dir[96];

	snprintf(dir, sizeof(dir), "%s/replay", f->dir);
	(void)mkdir(dir, 0700);
	fp = fopen(f->path, "a");
	assert_non_null(fp);
	if (floor_line != NULL)
		fputs(floor_line, fp);
	assert_non_null(gmtime_r(&t, &tm));
	strftime(day, sizeof(day), "%Y%m%d-%H%M%S", &tm);
	for (unsigned i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "%s-%u-%08x", day, tag, i);
		snprintf(line, sizeof(line), "%s %lld\n", cid, (long long)t);
		fputs(line, fp);
	}
	fclose(fp);
}

/*
 * The same attack on a store large enough to be pruned while the clock is
 * ahead: what it forgets, it forgets below a floor kept on disk, so the
 * correct clock refuses those cids as "may have run", and ids made after
 * them are new.
 */
static void
test_clock_ahead_forgets_only_below_the_floor(void **state)
{
	struct fx *f = *state;
	struct replay r;

	put_many(f, NULL, REPLAY_PRUNE_MIN, T0, 7);
	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(r.n, REPLAY_PRUNE_MIN);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	replay_close(&r);

	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 2 * DAY, WINDOW),
			 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.floor, T0 + 1);
	replay_close(&r);
	assert_string_equal(contents(f), "floor 1795860901\n");

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_FORGOTTEN);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_NEW);   /* T0 + 1 */
	replay_close(&r);
}

/*
 * Pruned while it runs, not only at the next start: memory stays within
 * twice what the window holds, the file is compacted (and reloads equal),
 * and the compaction is amortized: one rewrite per hundreds of records.
 */
static void
test_pruned_while_running(void **state)
{
	struct fx *f = *state;
	struct replay r, again;
	char cid[CID_MAX + 1], day[32];
	unsigned i, rewrites = 0, live_max = 0;
	struct stat st;
	ino_t ino;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(stat(f->path, &st), 0);
	ino = st.st_ino;
	/* one record every 100 s for 5 windows: about 867 cids are live */
	for (i = 0; i < 5 * 867; i++) {
		time_t now = T0 + (time_t)i * 100;
		struct tm tm;

		assert_non_null(gmtime_r(&now, &tm));
		strftime(day, sizeof(day), "%Y%m%d-%H%M%S", &tm);
		snprintf(cid, sizeof(cid), "%s-1-%08x", day, i);
		assert_int_equal(replay_record(&r, cid, now), 0);
		assert_int_equal(stat(f->path, &st), 0);
		if (st.st_ino != ino) {
			rewrites++;
			ino = st.st_ino;
		}
		if (r.n > live_max)
			live_max = (unsigned)r.n;
	}
	assert_true(live_max <= 2 * 868 + 1);
	assert_true(rewrites >= 2);
	assert_true(rewrites <= 5 * 867 / 400);
	assert_true(r.floor > T0 + 2 * (time_t)WINDOW);
	/* the newest is still there; what left the window is forgotten */
	assert_int_equal(replay_lookup(&r, cid), REPLAY_SEEN);
	snprintf(cid, sizeof(cid), "20261128-101500-1-%08x", 0u);
	assert_int_equal(replay_lookup(&r, cid), REPLAY_FORGOTTEN);

	/* compacted now: the file holds exactly what memory holds */
	assert_int_equal(replay_prune(&r, T0 + (5 * 867 - 1) * 100), 0);
	assert_int_equal(r.n, 868);
	assert_int_equal(replay_open(&again, f->dir, "work",
				     T0 + (5 * 867 - 1) * 100, WINDOW), 0);
	assert_int_equal(again.n, r.n);
	assert_int_equal(again.floor, r.floor);
	for (i = 0; i < r.n; i++) {
		assert_string_equal(again.e[i].cid, r.e[i].cid);
		assert_int_equal(again.e[i].t, r.e[i].t);
		assert_int_equal(again.e[i].ran, r.e[i].ran);
	}
	replay_close(&again);
	replay_close(&r);
}

/* A torn last line is dropped also when the open prunes. */
static void
test_torn_line_dropped_when_pruning(void **state)
{
	struct fx *f = *state;
	struct replay r;
	char dir[96];
	FILE *fp;

	put_many(f, "floor 5\nfloor 17\n", REPLAY_PRUNE_MIN, T0, 3);
	put_many(f, NULL, 2, T0 + 2 * DAY, 4);
	snprintf(dir, sizeof(dir), "%s/replay", f->dir);
	fp = fopen(f->path, "a");
	assert_non_null(fp);
	fputs(CID3 " 17958", fp);
	fclose(fp);
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 2 * DAY, WINDOW),
			 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.floor, T0 + 1);
	assert_int_not_equal(replay_lookup(&r, CID3), REPLAY_SEEN);
	assert_int_equal(replay_record(&r, CID2, T0 + 2 * DAY), 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 2 * DAY, WINDOW),
			 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	replay_close(&r);
}

static void
test_malformed_lines_skipped(void **state)
{
	struct fx *f = *state;
	struct replay r;

	put(f, "garbage\n"
	       CID1 " 1795860900\n"
	       "\n"
	       CID2 "\n"
	       "20261128-101500-4242-XYZ 1795860900\n"
	       CID2 " -5\n"
	       CID2 " 01795860900\n"
	       CID2 "  1795860900\n"
	       CID3 " 1795860900 extra\n"
	       CID1 " 1795860950\n"
	       "../../etc/passwd 1795860900\n"
	       "20261399-101500-4242-0123456789abcdef 1795860900\n" /* month 13 */
	       "floor x\n"
	       CID3 " 17958");   /* torn append: no newline */
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 100, WINDOW), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_not_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_not_equal(replay_lookup(&r, CID3), REPLAY_SEEN);
	/* a repeated cid keeps its latest time; the file is clean again */
	assert_int_equal(r.e[0].ran, T0 + 50);
	assert_int_equal(r.e[0].t, T0);
	assert_string_equal(contents(f), CID1 " 1795860950\n");
	/* and appends start on a line of their own */
	assert_int_equal(replay_record(&r, CID3, T0 + 100), 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 100, WINDOW), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(replay_lookup(&r, CID3), REPLAY_SEEN);
	replay_close(&r);
}

static void
test_clean_file_not_rewritten(void **state)
{
	struct fx *f = *state;
	struct replay r;
	struct stat before, after;

	put(f, CID1 " 1795860900\n");
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	replay_close(&r);
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
}

/* A failed append may leave a torn line; the store must stop appending
 * (the next line would join the torn one and be lost on reopen) rather
 * than acknowledge a record it cannot keep. */
static void
test_failed_write_stops_records(void **state)
{
	struct fx *f = *state;
	struct replay r;
	int full;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (full < 0)
		skip();
	assert_true(dup2(full, r.fd) >= 0);
	close(full);
	assert_int_equal(replay_record(&r, CID2, T0), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOSPC);
	assert_int_not_equal(replay_lookup(&r, CID2), REPLAY_SEEN);
	assert_int_equal(r.fd, -1);
	assert_int_equal(replay_record(&r, CID3, T0), QR_ERR_SYSTEM);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	replay_close(&r);

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_lookup(&r, CID1), REPLAY_SEEN);
	assert_int_equal(replay_record(&r, CID2, T0), 0);
	replay_close(&r);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "../work", T0, WINDOW),
			 QR_ERR_INVALID);
	assert_int_equal(r.fd, -1);
	assert_int_equal(replay_open(&r, f->dir, "", T0, WINDOW),
			 QR_ERR_INVALID);
	replay_close(&r);   /* harmless after a failed open */
}

static void
test_many_entries(void **state)
{
	struct fx *f = *state;
	struct replay r;
	char cid[CID_MAX + 1];
	unsigned i;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	/* inserted in a scrambled order */
	for (i = 0; i < 500; i++) {
		snprintf(cid, sizeof(cid), "20261128-101500-%u-%08x",
			 (i * 7919u) % 500u, i);
		assert_int_equal(replay_record(&r, cid, T0), 0);
	}
	for (i = 1; i < r.n; i++)
		assert_true(strcmp(r.e[i - 1].cid, r.e[i].cid) < 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(r.n, 500);
	for (i = 0; i < 500; i++) {
		snprintf(cid, sizeof(cid), "20261128-101500-%u-%08x",
			 (i * 7919u) % 500u, i);
		assert_int_equal(replay_lookup(&r, cid), REPLAY_SEEN);
	}
	replay_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_seen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_record_is_on_disk_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prune_by_the_cids_own_time,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_clock_ahead_then_correct_still_seen, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_clock_ahead_forgets_only_below_the_floor, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_pruned_while_running,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_torn_line_dropped_when_pruning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines_skipped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_file_not_rewritten,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_stops_records,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_entries, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
