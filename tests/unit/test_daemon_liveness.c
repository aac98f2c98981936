/*
 * test_daemon_liveness.c - the daemon's lock on its runtime directory:
 * one holder, a probe that tells without taking it, the holder's pid, and
 * the lock gone with its holder.
 */
#include "liveness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "tmptree.h"
#include "banned.h"

struct fx {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tmptree_make(f->dir, sizeof(f->dir), "qvmr-live") != 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/" LIVENESS_FILE, f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmptree_remove(f->dir);
	free(f);
	return 0;
}

static void
test_no_file_no_daemon(void **state)
{
	struct fx *f = *state;
	long pid = -1;

	assert_int_equal(liveness_probe(f->dir, &pid), 0);
	assert_int_equal(pid, 0);
}

static void
test_lock_probe_release(void **state)
{
	struct fx *f = *state;
	struct stat st;
	long pid = 0, other = -1;
	int fd, fd2;

	assert_int_equal(liveness_lock(f->dir, &fd, &other), 0);
	assert_true(fd >= 0);
	assert_int_equal(other, 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* held: the probe says so, with the holder's pid */
	assert_int_equal(liveness_probe(f->dir, &pid), 1);
	assert_int_equal(pid, (long)getpid());
	/* a second holder is refused and told the first one's pid */
	assert_int_equal(liveness_lock(f->dir, &fd2, &other), QR_ERR_EXISTS);
	assert_int_equal(fd2, -1);
	assert_int_equal(other, (long)getpid());
	/* probing did not take the lock: still held, still ours */
	assert_int_equal(liveness_probe(f->dir, &pid), 1);
	close(fd);
	/* released with its descriptor; the stale pid in the file is no
	 * daemon */
	assert_int_equal(liveness_probe(f->dir, &pid), 0);
	assert_int_equal(liveness_lock(f->dir, &fd, &other), 0);
	close(fd);
}

/* The lock dies with its holder: a child takes it and is killed. */
static void
test_lock_gone_with_holder(void **state)
{
	struct fx *f = *state;
	int ready[2], status, fd;
	long pid = 0, other;
	pid_t child;
	char c;

	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(ready[0]);
		alarm(30);          /* never outlives a failed test */
		if (liveness_lock(f->dir, &fd, &other) != 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(liveness_probe(f->dir, &pid), 1);
	assert_int_equal(pid, (long)child);
	assert_int_equal(liveness_lock(f->dir, &fd, &other), QR_ERR_EXISTS);
	assert_int_equal(other, (long)child);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(liveness_probe(f->dir, &pid), 0);
	assert_int_equal(liveness_lock(f->dir, &fd, &other), 0);
	close(fd);
}

static void
test_refuses_a_link(void **state)
{
	struct fx *f = *state;
	char target[128];
	long other;
	int fd;

	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(liveness_lock(f->dir, &fd, &other), QR_ERR_SYSTEM);
	assert_int_equal(fd, -1);
	assert_false(tmptree_exists(f->dir, "elsewhere"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_file_no_daemon, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_probe_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_gone_with_holder,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_a_link, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
