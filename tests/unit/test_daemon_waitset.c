/*
 * test_daemon_waitset.c - the loop's epoll set: what is ready is reported,
 * a closed number reused by another pipe is watched anew, a stale
 * registration's events are dropped, and what a turn does not want leaves
 * the set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "waitset.h"
#include "banned.h"

struct fixture {
	struct waitset w;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(waitset_init(&f->w), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	waitset_release(&f->w);
	free(f);
	return 0;
}

static void
open_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

static void
put_byte(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

/* One turn: want fd for POLLIN with serial s, wait 0 ms. */
static short
turn_in(struct waitset *w, int fd, uint64_t s)
{
	waitset_begin(w);
	assert_int_equal(waitset_add(w, fd, POLLIN, s), 0);
	assert_int_equal(waitset_wait(w, 0), 0);
	return waitset_revents(w, fd);
}

static void
test_ready_pipe_is_reported_and_idle_one_is_not(void **state)
{
	struct fixture *f = *state;
	uint64_t s = waitset_serial();
	int a[2], b[2];

	open_pipe(a);
	open_pipe(b);
	put_byte(a[1]);
	waitset_begin(&f->w);
	assert_int_equal(waitset_add(&f->w, a[0], POLLIN, s), 0);
	assert_int_equal(waitset_add(&f->w, b[0], POLLIN, s), 0);
	assert_int_equal(waitset_wait(&f->w, 0), 0);
	assert_int_equal(waitset_revents(&f->w, a[0]), POLLIN);
	assert_int_equal(waitset_revents(&f->w, b[0]), 0);
	/* the next turn forgets the last one's events until it waits */
	waitset_begin(&f->w);
	assert_int_equal(waitset_revents(&f->w, a[0]), 0);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static void
test_writer_closed_is_reported_as_hangup(void **state)
{
	struct fixture *f = *state;
	int p[2];

	open_pipe(p);
	close(p[1]);
	assert_true(turn_in(&f->w, p[0], waitset_serial()) & POLLHUP);
	close(p[0]);
}

/* A call's pipe closed and its number given to the next call's pipe: the
 * kernel dropped the old registration with the old pipe, so the new one
 * must be registered again, or the new call is never heard. */
static void
test_reused_number_of_a_closed_pipe_is_watched_anew(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2];
	int n;

	open_pipe(a);
	assert_int_equal(turn_in(&f->w, a[0], waitset_serial()), 0);
	n = a[0];
	close(a[0]), close(a[1]);
	open_pipe(b);
	assert_int_equal(b[0], n);      /* the lowest free number again */
	put_byte(b[1]);
	assert_int_equal(turn_in(&f->w, b[0], waitset_serial()), POLLIN);
	close(b[0]), close(b[1]);
}

/* The old pipe still open elsewhere (as in a child between fork and
 * exec), readable, its registration alive under the reused number: its
 * events are not the new pipe's. */
static void
test_stale_registration_of_a_reused_number_is_dropped(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2], keep;

	open_pipe(a);
	assert_int_equal(turn_in(&f->w, a[0], waitset_serial()), 0);
	keep = dup(a[0]);
	assert_true(keep >= 0);
	close(a[0]);
	open_pipe(b);
	assert_int_equal(b[0], a[0]);
	put_byte(a[1]);         /* the old pipe is ready, the new one not */
	assert_int_equal(turn_in(&f->w, b[0], waitset_serial()), 0);
	put_byte(b[1]);
	assert_int_equal(turn_in(&f->w, b[0], f->w.fds[b[0]].serial), POLLIN);
	close(keep), close(a[1]), close(b[0]), close(b[1]);
}

static void
test_descriptor_a_turn_does_not_want_leaves_the_set(void **state)
{
	struct fixture *f = *state;
	uint64_t s = waitset_serial();
	int a[2], b[2];

	open_pipe(a);
	open_pipe(b);
	put_byte(a[1]);
	assert_int_equal(turn_in(&f->w, a[0], s), POLLIN);
	/* the next turn waits on b only: a, still readable, is not heard */
	assert_int_equal(turn_in(&f->w, b[0], s), 0);
	assert_int_equal(waitset_revents(&f->w, a[0]), 0);
	assert_int_equal(f->w.fds[a[0]].events, 0);
	/* and wanted again, it is */
	assert_int_equal(turn_in(&f->w, a[0], s), POLLIN);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static void
test_changed_events_are_updated(void **state)
{
	struct fixture *f = *state;
	uint64_t s = waitset_serial();
	int p[2];

	open_pipe(p);
	waitset_begin(&f->w);
	assert_int_equal(waitset_add(&f->w, p[1], POLLOUT, s), 0);
	assert_int_equal(waitset_wait(&f->w, 0), 0);
	assert_int_equal(waitset_revents(&f->w, p[1]), POLLOUT);
	/* nothing left to write: the same pipe, POLLIN only, is quiet */
	assert_int_equal(turn_in(&f->w, p[1], s), 0);
	/* wanted twice in one turn: both kinds of event */
	waitset_begin(&f->w);
	assert_int_equal(waitset_add(&f->w, p[1], POLLIN, s), 0);
	assert_int_equal(waitset_add(&f->w, p[1], POLLOUT, s), 0);
	assert_int_equal(waitset_wait(&f->w, 0), 0);
	assert_int_equal(waitset_revents(&f->w, p[1]), POLLOUT);
	close(p[0]), close(p[1]);
}

/* epoll takes no regular file: reported as an error at once (and the
 * wait does not block), so its owner sees the descriptor fail. */
static void
test_descriptor_the_kernel_refuses_is_an_error_at_once(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/qvmr-waitset-XXXXXX";
	struct timespec t0, t1;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	waitset_begin(&f->w);
	assert_int_equal(waitset_add(&f->w, fd, POLLIN, waitset_serial()), 0);
	assert_int_equal(waitset_wait(&f->w, 60000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(waitset_revents(&f->w, fd), POLLERR);
	assert_true(t1.tv_sec - t0.tv_sec < 30);
	close(fd);
}

static void
test_many_pipes_one_ready(void **state)
{
	struct fixture *f = *state;
	enum { N = 300 };
	int p[N][2], ready = 0;
	uint64_t s = waitset_serial();

	for (int i = 0; i < N; i++)
		open_pipe(p[i]);
	put_byte(p[N - 7][1]);
	waitset_begin(&f->w);
	for (int i = 0; i < N; i++)
		assert_int_equal(waitset_add(&f->w, p[i][0], POLLIN, s), 0);
	assert_int_equal(waitset_wait(&f->w, 0), 0);
	for (int i = 0; i < N; i++)
		ready += waitset_revents(&f->w, p[i][0]) != 0;
	assert_int_equal(ready, 1);
	assert_int_equal(waitset_revents(&f->w, p[N - 7][0]), POLLIN);
	for (int i = 0; i < N; i++)
		close(p[i][0]), close(p[i][1]);
}

static void
test_nothing_wanted_and_bad_numbers_are_no_events(void **state)
{
	struct fixture *f = *state;

	waitset_begin(&f->w);
	assert_int_equal(waitset_add(&f->w, -1, POLLIN, 1), 0);
	assert_int_equal(waitset_add(&f->w, 0, 0, 1), 0);
	assert_int_equal(waitset_wait(&f->w, 0), 0);
	assert_int_equal(waitset_revents(&f->w, -1), 0);
	assert_int_equal(waitset_revents(&f->w, 1 << 20), 0);
	assert_true(waitset_serial() != waitset_serial());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ready_pipe_is_reported_and_idle_one_is_not,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_writer_closed_is_reported_as_hangup,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reused_number_of_a_closed_pipe_is_watched_anew,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stale_registration_of_a_reused_number_is_dropped,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_descriptor_a_turn_does_not_want_leaves_the_set,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_changed_events_are_updated, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_descriptor_the_kernel_refuses_is_an_error_at_once,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_many_pipes_one_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_nothing_wanted_and_bad_numbers_are_no_events,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
