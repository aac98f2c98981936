/*
 * test_daemon_replay.c - the durable store of accepted cids: a cid runs at
 * most once, across restarts, and a torn write never hides a record.
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

#define T0 ((time_t)1795860900)    /* 2026-11-28 */
#define WINDOW 86700u

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

	assert_false(replay_seen(&r, CID1));
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_true(replay_seen(&r, CID1));
	assert_false(replay_seen(&r, CID2));
	assert_int_equal(replay_record(&r, CID1, T0 + 5), QR_ERR_EXISTS);
	assert_int_equal(replay_record(&r, PING, T0), 0);
	assert_true(replay_seen(&r, PING));
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
	assert_true(replay_seen(&r, CID1));
	assert_true(replay_seen(&r, CID2));
	assert_true(replay_seen(&r, CID3));
	assert_int_equal(replay_record(&r, CID2, T0 + 60), QR_ERR_EXISTS);
	/* kept sorted for the binary search */
	assert_true(strcmp(r.cid[0], r.cid[1]) < 0);
	assert_true(strcmp(r.cid[1], r.cid[2]) < 0);
	replay_close(&r);

	/* another VM's store is another file */
	assert_int_equal(replay_open(&r, f->dir, "personal", T0, WINDOW), 0);
	assert_false(replay_seen(&r, CID1));
	replay_close(&r);
}

static void
test_prune_past_window(void **state)
{
	struct fx *f = *state;
	struct replay r;

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(replay_record(&r, CID1, T0), 0);
	assert_int_equal(replay_record(&r, CID2, T0 + 100), 0);
	replay_close(&r);

	/* exactly at the window's edge: still kept */
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + WINDOW, WINDOW),
			 0);
	assert_int_equal(r.n, 2);
	replay_close(&r);

	assert_int_equal(replay_open(&r, f->dir, "work", T0 + WINDOW + 1,
				     WINDOW), 0);
	assert_int_equal(r.n, 1);
	assert_false(replay_seen(&r, CID1));
	assert_true(replay_seen(&r, CID2));
	replay_close(&r);
	/* the file was rewritten without it */
	assert_string_equal(contents(f), CID2 " 1795861000\n");

	/* an entry from the future (clock set back) is kept */
	assert_int_equal(replay_open(&r, f->dir, "work", T0 - 1000, WINDOW), 0);
	assert_true(replay_seen(&r, CID2));
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
	       CID3 " 17958");   /* torn append: no newline */
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 100, WINDOW), 0);
	assert_int_equal(r.n, 1);
	assert_true(replay_seen(&r, CID1));
	assert_false(replay_seen(&r, CID2));
	assert_false(replay_seen(&r, CID3));
	/* a repeated cid keeps its latest time; the file is clean again */
	assert_int_equal(r.when[0], T0 + 50);
	assert_string_equal(contents(f), CID1 " 1795860950\n");
	/* and appends start on a line of their own */
	assert_int_equal(replay_record(&r, CID3, T0 + 100), 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0 + 100, WINDOW), 0);
	assert_int_equal(r.n, 2);
	assert_true(replay_seen(&r, CID3));
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
	assert_false(replay_seen(&r, CID2));
	assert_int_equal(r.fd, -1);
	assert_int_equal(replay_record(&r, CID3, T0), QR_ERR_SYSTEM);
	assert_true(replay_seen(&r, CID1));
	replay_close(&r);

	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_true(replay_seen(&r, CID1));
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
		assert_true(strcmp(r.cid[i - 1], r.cid[i]) < 0);
	replay_close(&r);
	assert_int_equal(replay_open(&r, f->dir, "work", T0, WINDOW), 0);
	assert_int_equal(r.n, 500);
	for (i = 0; i < 500; i++) {
		snprintf(cid, sizeof(cid), "20261128-101500-%u-%08x",
			 (i * 7919u) % 500u, i);
		assert_true(replay_seen(&r, cid));
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
		cmocka_unit_test_setup_teardown(test_prune_past_window, setup,
						teardown),
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
