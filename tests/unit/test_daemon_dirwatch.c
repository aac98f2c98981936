/*
 * test_daemon_dirwatch.c - a directory loaded again when it changes: an
 * inotify event marks a load due at once; without a watch, the stamp
 * taken at the last load is compared at most once a tick, and a missing
 * directory that appears counts as a change.
 */
#include "dirwatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "banned.h"

static char dir[64], sub[96];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/qvmr-dirwatch-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/d", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
touch(const char *name)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sub, name);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
}

/* No inotify: the stamp, at most once a tick; a directory that appears
 * and a file in it are changes. */
static void
test_stamp(void **state)
{
	struct dirwatch w;
	int64_t t = 10000;

	dirwatch_init(&w, sub);
	dirwatch_loading(&w);                   /* loaded while missing */
	assert_false(dirwatch_due(&w, -1, t));
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_false(dirwatch_due(&w, -1, t + 10));   /* within the tick */
	assert_true(dirwatch_due(&w, -1, t + DIRWATCH_TICK_MS));
	dirwatch_loading(&w);
	t += 2 * DIRWATCH_TICK_MS;
	assert_false(dirwatch_due(&w, -1, t));
	touch("a.policy");
	t += DIRWATCH_TICK_MS;
	assert_true(dirwatch_due(&w, -1, t));
	assert_int_equal(w.wd, -1);
}

/* With inotify: a file created in the directory marks a load due at once,
 * and the directory removed drops the watch (it is tried again). */
static void
test_events(void **state)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct dirwatch w;
	char path[160];
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	dirwatch_init(&w, sub);
	assert_true(dirwatch_add(&w, fd));
	dirwatch_loading(&w);
	assert_false(dirwatch_due(&w, fd, 0));
	touch("b.policy");
	assert_true((n = read(fd, ev, sizeof(ev))) > 0);
	for (ssize_t off = 0; off < n;) {
		const struct inotify_event *e = (const void *)(ev + off);
		dirwatch_event(&w, fd, e->wd, e->mask);
		off += (ssize_t)sizeof(*e) + e->len;
	}
	assert_true(dirwatch_due(&w, fd, 0));
	dirwatch_loading(&w);
	assert_false(dirwatch_due(&w, fd, 0));
	snprintf(path, sizeof(path), "%s/b.policy", sub);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	while ((n = read(fd, ev, sizeof(ev))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct inotify_event *e = (const void *)(ev + off);
			dirwatch_event(&w, fd, e->wd, e->mask);
			off += (ssize_t)sizeof(*e) + e->len;
		}
	assert_int_equal(w.wd, -1);
	assert_true(dirwatch_due(&w, fd, 0));
	/* an overflow may have been anyone's: a load */
	dirwatch_loading(&w);
	dirwatch_event(&w, fd, -1, IN_Q_OVERFLOW);
	assert_true(w.dirty);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	};

	return cmocka_run_group_tests_name("dirwatch", tests, NULL, NULL);
}
