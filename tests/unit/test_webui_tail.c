/*
 * test_webui_tail.c - following the log by its path: appends, unfinished
 * lines, the bounded first read, truncation (also when rewritten between
 * two polls), rotation, removal, overlong lines and files that are not.
 */
#include "tail.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "err.h"
#include "logparse.h"
#include "banned.h"

#define EVENTS_MAX 256

struct event {
	int mark;               /* 0: a line */
	uint64_t arg;           /* line number, or the mark's argument */
	char text[64];
	size_t len;
};

struct fx {
	char dir[64];
	char path[128];
	struct tail t;
	struct event ev[EVENTS_MAX];
	size_t n;
	int count_only;         /* lines are only counted */
	uint64_t lines;
};

static void
on_line(void *ctx, uint64_t lineno, const char *line, size_t n)
{
	struct fx *f = ctx;
	struct event *e;

	f->lines++;
	if (f->count_only)
		return;
	assert_true(f->n < EVENTS_MAX);
	e = &f->ev[f->n++];
	e->mark = 0;
	e->arg = lineno;
	e->len = n;
	memcpy(e->text, line, n < sizeof(e->text) - 1 ? n : sizeof(e->text) - 1);
	e->text[n < sizeof(e->text) - 1 ? n : sizeof(e->text) - 1] = '\0';
}

static void
on_mark(void *ctx, enum tail_mark what, uint64_t arg)
{
	struct fx *f = ctx;
	struct event *e;

	assert_true(f->n < EVENTS_MAX);
	e = &f->ev[f->n++];
	e->mark = (int)what;
	e->arg = arg;
	e->text[0] = '\0';
	e->len = 0;
}

static const struct tail_ops ops = { on_line, on_mark };

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
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-tail-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/qvm-remote.log", f->dir);
	if (tail_init(&f->t, f->path, TAIL_WINDOW_DEFAULT) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tail_release(&f->t);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
append(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, n), (ssize_t)n);
	close(fd);
}

static void
appends(const char *path, const char *s)
{
	append(path, s, strlen(s));
}

/* Polls until caught up. */
static void
drain(struct fx *f)
{
	int i;

	for (i = 0; i < 100 && tail_poll(&f->t, &ops, f) == 1; i++)
		;
	assert_true(i < 100);
}

static void
expect_line(struct fx *f, size_t i, uint64_t lineno, const char *text)
{
	assert_true(i < f->n);
	assert_int_equal(f->ev[i].mark, 0);
	assert_int_equal(f->ev[i].arg, lineno);
	assert_string_equal(f->ev[i].text, text);
}

static void
expect_mark(struct fx *f, size_t i, enum tail_mark what, uint64_t arg)
{
	assert_true(i < f->n);
	assert_int_equal(f->ev[i].mark, (int)what);
	assert_int_equal(f->ev[i].arg, arg);
}

static void
test_missing_then_created(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tail_poll(&f->t, &ops, f), 0);
	assert_int_equal(f->t.state, TAIL_WAITING);
	assert_int_equal(f->n, 0);
	appends(f->path, "one\ntwo\n");
	drain(f);
	assert_int_equal(f->t.state, TAIL_READING);
	assert_int_equal(f->n, 3);
	expect_mark(f, 0, TAIL_OPENED, 0);
	expect_line(f, 1, 1, "one");
	expect_line(f, 2, 2, "two");
}

/* A line shows once its newline is there, not before. */
static void
test_unfinished_line_waits(void **state)
{
	struct fx *f = *state;

	appends(f->path, "a\nb");
	drain(f);
	assert_int_equal(f->n, 2);
	appends(f->path, "c");
	drain(f);
	assert_int_equal(f->n, 2);
	appends(f->path, "\n\nd\n");
	drain(f);
	assert_int_equal(f->n, 5);
	expect_line(f, 1, 1, "a");
	expect_line(f, 2, 2, "bc");
	expect_line(f, 3, 3, "");
	expect_line(f, 4, 4, "d");
}

/* Only the window is read; numbers still count from the file's start. */
static void
test_window_on_a_line_boundary(void **state)
{
	struct fx *f = *state;
	char line[32];
	unsigned i;

	for (i = 1; i <= 100; i++) {
		snprintf(line, sizeof(line), "line %03u ..........\n", i);
		assert_int_equal(strlen(line), 20);
		appends(f->path, line);
	}
	f->t.window = 200;
	drain(f);
	assert_int_equal(f->n, 11);
	expect_mark(f, 0, TAIL_OPENED, 1);
	expect_line(f, 1, 91, "line 091 ..........");
	expect_line(f, 10, 100, "line 100 ..........");
}

static void
test_window_mid_line(void **state)
{
	struct fx *f = *state;
	char line[32];
	unsigned i;

	for (i = 1; i <= 100; i++) {
		snprintf(line, sizeof(line), "line %03u ..........\n", i);
		appends(f->path, line);
	}
	f->t.window = 190;      /* starts inside line 91: it is dropped */
	drain(f);
	assert_int_equal(f->n, 10);
	expect_mark(f, 0, TAIL_OPENED, 1);
	expect_line(f, 1, 92, "line 092 ..........");
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;

	appends(f->path, "old one\nold two\nold three\n");
	drain(f);
	assert_int_equal(truncate(f->path, 0), 0);
	drain(f);
	appends(f->path, "new\n");
	drain(f);
	assert_int_equal(f->n, 7);
	expect_mark(f, 4, TAIL_TRUNCATED, 0);
	expect_mark(f, 5, TAIL_OPENED, 0);
	expect_line(f, 6, 1, "new");
}

/* test_rewritten_between_polls: truncated and written past the old end
 * before the next poll, which only the bytes before the offset show */
static void
test_rewritten_between_polls(void **state)
{
	struct fx *f = *state;

	appends(f->path, "old one\n");
	drain(f);
	assert_int_equal(truncate(f->path, 0), 0);
	appends(f->path, "brand new first line\nsecond\n");
	drain(f);
	assert_int_equal(f->n, 6);
	expect_mark(f, 2, TAIL_TRUNCATED, 0);
	expect_mark(f, 3, TAIL_OPENED, 0);
	expect_line(f, 4, 1, "brand new first line");
	expect_line(f, 5, 2, "second");
}

/* Lines the writer added to the old file after the rename are read
 * first, then the new file from its start. */
static void
test_rotated(void **state)
{
	struct fx *f = *state;
	char old[160];

	snprintf(old, sizeof(old), "%s.1", f->path);
	appends(f->path, "first\n");
	drain(f);
	assert_int_equal(rename(f->path, old), 0);
	appends(old, "late\n");
	appends(f->path, "fresh\n");
	drain(f);
	assert_int_equal(f->n, 6);
	expect_line(f, 1, 1, "first");
	expect_line(f, 2, 2, "late");
	expect_mark(f, 3, TAIL_ROTATED, 0);
	expect_mark(f, 4, TAIL_OPENED, 0);
	expect_line(f, 5, 1, "fresh");
}

static void
test_removed(void **state)
{
	struct fx *f = *state;
	struct timespec pause = { 1, 100000000 };

	appends(f->path, "x\n");
	drain(f);
	assert_int_equal(unlink(f->path), 0);
	drain(f);
	/* not at once: a rotation's create may still come */
	assert_int_equal(f->n, 2);
	nanosleep(&pause, NULL);
	drain(f);
	assert_int_equal(f->n, 3);
	expect_mark(f, 2, TAIL_GONE, 0);
	assert_int_equal(f->t.state, TAIL_WAITING);
	appends(f->path, "y\n");
	drain(f);
	expect_mark(f, 3, TAIL_OPENED, 0);
	expect_line(f, 4, 1, "y");
}

/* test_long_line_skipped: memory stays bounded by LOGPARSE_LINE_MAX */
static void
test_long_line_skipped(void **state)
{
	struct fx *f = *state;
	size_t n = LOGPARSE_LINE_MAX + 5000;
	char *big = malloc(n + 1);

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\n';
	appends(f->path, "before\n");
	append(f->path, big, n + 1);
	appends(f->path, "after\n");
	drain(f);
	assert_int_equal(f->n, 4);
	expect_line(f, 1, 1, "before");
	expect_mark(f, 2, TAIL_LONG_LINE, 2);
	expect_line(f, 3, 3, "after");
	assert_true(f->t.partial.cap <= LOGPARSE_LINE_MAX + 1);
	free(big);
}

/* More than one poll's budget is read over several polls. */
static void
test_budget(void **state)
{
	struct fx *f = *state;
	size_t n = 3 * TAIL_READ_BUDGET;
	char *big = malloc(n);
	size_t i;

	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (i % 1024 == 1023) ? '\n' : 'a';
	append(f->path, big, n);
	f->t.window = n;
	f->count_only = 1;
	assert_int_equal(tail_poll(&f->t, &ops, f), 1);
	assert_int_equal(f->t.off, (off_t)TAIL_READ_BUDGET);
	drain(f);
	assert_int_equal(f->t.off, (off_t)n);
	assert_int_equal(f->t.lineno, n / 1024);
	assert_int_equal(f->lines, n / 1024);
	free(big);
}

static void
test_not_a_regular_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(tail_poll(&f->t, &ops, f), 0);
	assert_int_equal(f->t.state, TAIL_FAILED);
	assert_int_equal(f->n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_then_created,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unfinished_line_waits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_on_a_line_boundary,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_mid_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_between_polls,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_regular_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
