/*
 * test_client_livecopy.c - live output (livecopy.h): what is new in
 * running/<cid>.out and .err is copied once, in order, to its own stream;
 * a missing file is nothing yet; a closed reader stops that stream only.
 */
#include "livecopy.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "fileio.h"

#include "banned.h"

#define CID "20261204-061500-4242-0000000000000000000000000000000a"

struct fx {
	char home[64];
	struct vm_layout p;
	int out[2], err[2];      /* pipes: what the client writes */
	struct live_copy lc;
};

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->home, sizeof(f->home), "/tmp/test_client_livecopy.XXXXXX");
	assert_non_null(mkdtemp(f->home));
	assert_int_equal(vm_layout_init(&f->p, f->home), 0);
	assert_int_equal(paths_make_queue(&f->p), 0);
	assert_int_equal(pipe2(f->out, O_NONBLOCK), 0);
	assert_int_equal(pipe2(f->err, O_NONBLOCK), 0);
	live_copy_init(&f->lc);
	assert_int_equal(f->lc.fd[0], 1);
	assert_int_equal(f->lc.fd[1], 2);
	f->lc.fd[0] = f->out[1];
	f->lc.fd[1] = f->err[1];
	signal(SIGPIPE, SIG_IGN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 2; i++) {
		if (f->out[i] >= 0)
			close(f->out[i]);
		if (f->err[i] >= 0)
			close(f->err[i]);
	}
	nftw(f->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Appends n bytes of p to running/CID<sfx>, as the agent does. */
static void append(struct fx *f, const char *sfx, const char *p, size_t n)
{
	char path[PATH_MAX];
	int fd;

	assert_int_equal(path_cid(path, sizeof(path), f->p.running, CID, sfx), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, p, n), 0);
	close(fd);
}

/* What the pipe holds now, as a string. */
static const char *drained(int fd)
{
	static char got[4096];
	ssize_t n = read(fd, got, sizeof(got) - 1);

	got[n > 0 ? n : 0] = '\0';
	return got;
}

static void test_copies_what_is_new_once(void **state)
{
	struct fx *f = *state;

	assert_int_equal(live_copy(&f->p, CID, &f->lc), 0);   /* nothing yet */
	assert_false(live_copy_shown(&f->lc));
	append(f, VM_LIVE_OUT, "one\n", 4);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 1);
	assert_string_equal(drained(f->out[0]), "one\n");
	assert_true(live_copy_shown(&f->lc));
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 0);   /* no repeat */
	assert_string_equal(drained(f->out[0]), "");
	append(f, VM_LIVE_OUT, "two\n", 4);
	append(f, VM_LIVE_ERR, "e1\n", 3);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 1);
	assert_string_equal(drained(f->out[0]), "two\n");
	assert_string_equal(drained(f->err[0]), "e1\n");
	assert_int_equal(f->lc.shown[0], 8);
	assert_int_equal(f->lc.shown[1], 3);
}

/* The live file goes (its result was published): nothing more, and the
 * counts stay what result_show() skips. */
static void test_file_gone(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	append(f, VM_LIVE_OUT, "abc", 3);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 1);
	assert_int_equal(path_cid(path, sizeof(path), f->p.running, CID,
				  VM_LIVE_OUT), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 0);
	assert_int_equal(f->lc.shown[0], 3);
}

/* A closed stdout stops stdout's copy; stderr goes on. */
static void test_closed_reader_stops_its_stream(void **state)
{
	struct fx *f = *state;

	close(f->out[0]);
	f->out[0] = -1;
	append(f, VM_LIVE_OUT, "lost\n", 5);
	append(f, VM_LIVE_ERR, "kept\n", 5);
	(void)live_copy(&f->p, CID, &f->lc);
	assert_true(f->lc.stopped[0]);
	assert_false(f->lc.stopped[1]);
	assert_string_equal(drained(f->err[0]), "kept\n");
	append(f, VM_LIVE_ERR, "more\n", 5);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 1);
	assert_string_equal(drained(f->err[0]), "more\n");
}

/* Not a regular file (a FIFO put there): not opened for reading. */
static void test_not_a_file(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	assert_int_equal(path_cid(path, sizeof(path), f->p.running, CID,
				  VM_LIVE_OUT), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(live_copy(&f->p, CID, &f->lc), 0);
	assert_int_equal(f->lc.shown[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copies_what_is_new_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_reader_stops_its_stream,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
