/*
 * test_daemon_outbox.c - results parked in dom0's state directory: whole
 * or not there, also when dom0 dies while one is stored or removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "outbox.h"
#include "cid.h"
#include "err.h"
#include "fileio.h"
#include "vmname.h"
#include "banned.h"

struct fixture {
	char dir[64];
	char vmdir[128];
	char cid[CID_MAX + 1];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-outbox-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->vmdir, sizeof(f->vmdir), "%s/outbox/work", f->dir);
	assert_int_equal(cid_generate(f->cid, time(NULL), 9), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Names in the VM's outbox directory, dot-names too. */
static int
names_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
park(struct fixture *f, const char *claim, struct deliver_item *e)
{
	struct outbox_writer w;
	struct result_meta m;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	assert_int_equal(outbox_begin(f->dir, "work", f->cid, claim, &w), 0);
	assert_int_equal(outbox_append(&w, 0, "hello\n", 6), 0);
	assert_int_equal(outbox_commit(&w, f->cid, claim, &m, e), 0);
}

static void
test_removed_entry_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct deliver_item e, *v;
	size_t n;

	park(f, "0a0b0c0d-1-0", &e);
	assert_int_equal(outbox_scan(f->dir, "work", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].cid, f->cid);
	free(v);
	assert_int_equal(outbox_remove(&e), 0);
	assert_int_equal(names_in(f->vmdir), 0);
	/* a second remove (a deliver retried) is no error */
	assert_int_equal(outbox_remove(&e), 0);
}

/* What a crash in the middle of a remove leaves: the entry under its
 * dot-name with some files gone.  The next start clears it. */
static void
test_remove_torn_by_a_crash_is_cleared(void **state)
{
	struct fixture *f = *state;
	struct deliver_item e, *v;
	char gone[PATH_MAX], path[PATH_MAX + 8];
	size_t n;

	park(f, "0a0b0c0d-1-1", &e);
	snprintf(gone, sizeof(gone), "%s/.gone-%s+0a0b0c0d-1-1", f->vmdir,
		 f->cid);
	assert_int_equal(rename(e.dir, gone), 0);
	snprintf(path, sizeof(path), "%s/meta", gone);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(outbox_scan(f->dir, "work", &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(names_in(f->vmdir), 0);
}

/* A committed entry keeps every file until it is removed. */
static void
test_committed_entry_is_whole(void **state)
{
	struct fixture *f = *state;
	struct deliver_item e;
	char path[PATH_MAX + 8];
	struct stat st;

	park(f, "0a0b0c0d-1-2", &e);
	snprintf(path, sizeof(path), "%s/out", e.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);
	snprintf(path, sizeof(path), "%s/meta", e.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(outbox_remove(&e), 0);
	assert_int_equal(stat(e.dir, &st), -1);
}

/* Appends go to their stream whole; the writeback of each
 * OUTBOX_WRITEBACK bytes is started as they are written (not all at the
 * commit's fsync), each stream on its own. */
static void
test_append_starts_writeback_behind(void **state)
{
	struct fixture *f = *state;
	struct outbox_writer w;
	struct result_meta m;
	struct deliver_item e;
	static char chunk[1 << 20];
	char path[PATH_MAX + 8];
	struct stat st;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(outbox_begin(f->dir, "work", f->cid, "0a-1-2", &w), 0);
	for (size_t k = 0; k + 1 < OUTBOX_WRITEBACK / sizeof(chunk); k++)
		assert_int_equal(outbox_append(&w, 0, chunk, sizeof(chunk)), 0);
	assert_int_equal(w.flushed[0], 0);
	assert_int_equal(outbox_append(&w, 0, chunk, sizeof(chunk)), 0);
	assert_int_equal(w.flushed[0], OUTBOX_WRITEBACK);
	assert_int_equal(outbox_append(&w, 0, chunk, 5), 0);
	assert_int_equal(w.flushed[0], OUTBOX_WRITEBACK);
	assert_int_equal(outbox_append(&w, 1, "err\n", 4), 0);
	assert_int_equal(w.written[1], 4);
	assert_int_equal(w.flushed[1], 0);
	assert_int_equal(outbox_commit(&w, f->cid, "0a-1-2", &m, &e), 0);
	snprintf(path, sizeof(path), "%s/out", e.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, OUTBOX_WRITEBACK + 5);
	snprintf(path, sizeof(path), "%s/err", e.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
}

/* A file size limit stands in for a full file system: writes past it
 * fail (EFBIG), as they would with ENOSPC. */
static void
limit_file_size(rlim_t bytes)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = bytes;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void
test_begin_fails_when_the_meta_has_no_room(void **state)
{
	struct fixture *f = *state;
	struct outbox_writer w;

	signal(SIGXFSZ, SIG_IGN);
	limit_file_size(OUTBOX_META_RESERVE / 2);
	assert_int_not_equal(outbox_begin(f->dir, "work", f->cid, "0a-1-0", &w),
			     0);
	limit_file_size(RLIM_INFINITY);
	/* and it leaves nothing behind */
	assert_int_equal(names_in(f->vmdir), 0);
}

/* Output that no longer fits is lost, but the result is committed: its
 * meta has the room outbox_begin kept. */
static void
test_commit_fits_in_the_room_kept(void **state)
{
	struct fixture *f = *state;
	static const char big[2 * OUTBOX_META_RESERVE];
	struct outbox_writer w;
	struct result_meta m;
	struct deliver_item e;
	char path[PATH_MAX + 8];
	struct buf meta = BUF_INIT(4096);

	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	m.exit_code = 3;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(outbox_begin(f->dir, "work", f->cid, "0a-1-1", &w), 0);
	limit_file_size(OUTBOX_META_RESERVE);
	assert_int_not_equal(write_all(w.out_fd, big, sizeof(big)), 0);
	assert_int_equal(outbox_commit(&w, f->cid, "0a-1-1", &m, &e), 0);
	limit_file_size(RLIM_INFINITY);
	assert_int_equal(e.exit_code, 3);
	snprintf(path, sizeof(path), "%s/meta", e.dir);
	assert_int_equal(read_file(path, &meta), 0);
	/* the meta is exactly what was written, not its room */
	assert_non_null(strstr(buf_str(&meta), "exit=3\n"));
	assert_int_equal(strlen(buf_str(&meta)), meta.len);
	buf_release(&meta);
}

static void
test_the_volatile_outbox_is_no_vm_name(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	assert_int_equal(outbox_volatile_dir(dir, "/run/qvm-remote"), 0);
	assert_false(vmname_valid(strrchr(dir, '/') + 1));
	assert_int_equal(strncmp(dir, "/run/qvm-remote/", 16), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_removed_entry_leaves_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_remove_torn_by_a_crash_is_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_append_starts_writeback_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_committed_entry_is_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_begin_fails_when_the_meta_has_no_room, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_commit_fits_in_the_room_kept,
						setup, teardown),
		cmocka_unit_test(test_the_volatile_outbox_is_no_vm_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
