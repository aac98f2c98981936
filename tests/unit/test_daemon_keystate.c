/*
 * test_daemon_keystate.c - <runtime_dir>/keys: format and parse, the
 * file's writer and reader, and the admin verbs' wait with its deadline
 * (with inotify and without).
 */
#include "keystate.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "tmptree.h"
#include "banned.h"

#define FP_A "SHA256:3f9aq1xwS0b2c9GIlD4Qe9dH2kz8v1Hn5sZc0iO4bQk"
#define FP_B "SHA256:91beAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjj"

struct fx {
	char dir[64];
	struct keystate s, got;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tmptree_make(f->dir, sizeof(f->dir), "qvmr-ks") != 0)
		return -1;
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
fill(struct keystate *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = 4242;
	s->generation = 7;
	assert_int_equal(keystate_add(s, "work", FP_A, KEYSTATE_SERVED, 2), 0);
	assert_int_equal(keystate_add(s, "old", NULL, KEYSTATE_DROPPED, 1), 0);
	assert_int_equal(keystate_add(s, "spare", FP_B, KEYSTATE_NOT_POLLED, 0),
			 0);
	assert_int_equal(keystate_add(s, "bad", "", KEYSTATE_UNUSABLE, 0), 0);
}

static int
parse_str(const char *text, struct keystate *out)
{
	return keystate_parse(text, strlen(text), out);
}

static void
test_format_parse_round_trip(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT(KEYSTATE_TEXT_MAX);
	const struct keystate_entry *e;

	fill(&f->s);
	assert_int_equal(keystate_format(&f->s, &b), 0);
	assert_string_equal(buf_str(&b),
			    "qvmr-keys 1\npid 4242\ngeneration 7\n"
			    "vm work " FP_A " served 2\n"
			    "vm old - dropped 1\n"
			    "vm spare " FP_B " not-polled 0\n"
			    "vm bad - unusable 0\n"
			    "end\n");
	assert_int_equal(keystate_parse(b.data, b.len, &f->got), 0);
	assert_int_equal(f->got.pid, 4242);
	assert_int_equal(f->got.generation, 7);
	assert_int_equal(f->got.n, 4);
	e = keystate_find(&f->got, "work");
	assert_non_null(e);
	assert_string_equal(e->fp, FP_A);
	assert_int_equal(e->state, KEYSTATE_SERVED);
	assert_int_equal(e->running, 2);
	e = keystate_find(&f->got, "old");
	assert_non_null(e);
	assert_string_equal(e->fp, "");
	assert_int_equal(e->state, KEYSTATE_DROPPED);
	assert_null(keystate_find(&f->got, "nobody"));
	buf_release(&b);
}

static void
test_add_refuses(void **state)
{
	struct fx *f = *state;
	char name[16];

	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(keystate_add(&f->s, "../x", NULL, KEYSTATE_SERVED, 0),
			 QR_ERR_INVALID);
	assert_int_equal(keystate_add(&f->s, "work", "SHA256:a b",
				      KEYSTATE_SERVED, 0), QR_ERR_INVALID);
	assert_int_equal(keystate_add(&f->s, "work", "-", KEYSTATE_SERVED, 0),
			 QR_ERR_INVALID);
	assert_int_equal(keystate_add(&f->s, "work", NULL, 99, 0),
			 QR_ERR_INVALID);
	assert_int_equal(keystate_add(&f->s, "work", NULL, KEYSTATE_SERVED,
				      KEYSTATE_RUNNING_MAX + 1), QR_ERR_INVALID);
	assert_int_equal(keystate_add(&f->s, "work", NULL, KEYSTATE_SERVED, 0),
			 0);
	assert_int_equal(keystate_add(&f->s, "work", NULL, KEYSTATE_DROPPED, 0),
			 QR_ERR_EXISTS);
	for (size_t i = 1; i < KEYSTATE_VMS_MAX; i++) {
		snprintf(name, sizeof(name), "vm%zu", i);
		assert_int_equal(keystate_add(&f->s, name, NULL,
					      KEYSTATE_SERVED, 0), 0);
	}
	assert_int_equal(keystate_add(&f->s, "onemore", NULL, KEYSTATE_SERVED,
				      0), QR_ERR_TOO_LARGE);
}

static void
test_parse_refuses(void **state)
{
	struct fx *f = *state;
	static const char head[] = "qvmr-keys 1\npid 1\ngeneration 1\n";
	static const struct {
		const char *text;
		int r;
	} bad[] = {
		{ "", QR_ERR_INCOMPLETE },
		{ "qvmr-keys 2\npid 1\ngeneration 1\nend\n", QR_ERR_INVALID },
		{ "qvmr-keys 1\ngeneration 1\npid 1\nend\n", QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 01\ngeneration 1\nend\n", QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration -1\nend\n", QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\n", QR_ERR_INCOMPLETE },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nend", QR_ERR_INCOMPLETE },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nend\nx", QR_ERR_TRAILING },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a - served\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a - gone 0\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a  - served 0\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm .a - served 0\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a - served x\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a - served 0 \nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nkey a\nend\n",
		  QR_ERR_INVALID },
		{ "qvmr-keys 1\npid 1\ngeneration 1\nvm a - served 0\n"
		  "vm a - dropped 0\nend\n", QR_ERR_EXISTS },
	};
	char text[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(parse_str(bad[i].text, &f->got), bad[i].r);
	/* a fingerprint with a control byte */
	snprintf(text, sizeof(text), "%svm a SHA\x01 served 0\nend\n", head);
	assert_int_equal(parse_str(text, &f->got), QR_ERR_INVALID);
	/* a line longer than any the writer makes */
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse_str(text, &f->got), QR_ERR_INVALID);
	assert_int_equal(parse_str("qvmr-keys 1\npid 1\ngeneration 1\nend\n",
				   &f->got), 0);
	assert_int_equal(f->got.n, 0);
}

static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void
test_write_read(void **state)
{
	struct fx *f = *state;
	char path[128];
	struct stat st;

	assert_int_equal(keystate_read(f->dir, &f->got), QR_ERR_NOT_FOUND);
	fill(&f->s);
	assert_int_equal(keystate_write(f->dir, &f->s), 0);
	snprintf(path, sizeof(path), "%s/" KEYSTATE_FILE, f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keystate_read(f->dir, &f->got), 0);
	assert_int_equal(f->got.n, 4);
	assert_int_equal(f->got.generation, 7);
	/* a newer write replaces it whole */
	f->s.generation = 8;
	f->s.n = 1;
	assert_int_equal(keystate_write(f->dir, &f->s), 0);
	assert_int_equal(keystate_read(f->dir, &f->got), 0);
	assert_int_equal(f->got.n, 1);
	assert_int_equal(f->got.generation, 8);
	/* no temporaries left behind: the directory holds the file alone */
	assert_int_equal(entries(f->dir), 1);
}

/* done(): until the file shows generation >= *arg */
struct want {
	uint64_t generation;
	unsigned calls, nulls;
};

static int
has_generation(const struct keystate *s, void *arg)
{
	struct want *w = arg;

	w->calls++;
	if (s == NULL) {
		w->nulls++;
		return 0;
	}
	return s->generation >= w->generation;
}

static void
wait_expires(struct fx *f, unsigned flags)
{
	struct want w = { .generation = 9 };
	int64_t t0 = mono_ms();

	/* no file at all: the deadline ends it */
	assert_int_equal(keystate_wait(f->dir, t0 + 300, flags, has_generation,
				       &w), QR_ERR_INCOMPLETE);
	assert_true(mono_ms() >= t0 + 300);
	assert_true(w.calls >= 2);      /* the first look and the last */
	assert_int_equal(w.nulls, w.calls);
	/* an old file: still the deadline */
	fill(&f->s);
	assert_int_equal(keystate_write(f->dir, &f->s), 0);
	w.calls = w.nulls = 0;
	assert_int_equal(keystate_wait(f->dir, mono_ms() + 200, flags,
				       has_generation, &w), QR_ERR_INCOMPLETE);
	assert_int_equal(w.nulls, 0);
	/* a deadline already past: one look, then it ends */
	w.calls = 0;
	assert_int_equal(keystate_wait(f->dir, mono_ms() - 1, flags,
				       has_generation, &w), QR_ERR_INCOMPLETE);
	assert_int_equal(w.calls, 1);
}

static void
test_wait_deadline(void **state)
{
	wait_expires(*state, 0);
}

static void
test_wait_deadline_no_inotify(void **state)
{
	wait_expires(*state, KEYSTATE_WAIT_NO_INOTIFY);
}

/* A child writes generation 9 after a while; the wait ends then, long
 * before its generous deadline. */
static void
wait_for_writer(struct fx *f, unsigned flags)
{
	struct want w = { .generation = 9 };
	int64_t t0;
	pid_t pid;
	int status;

	fill(&f->s);
	assert_int_equal(keystate_write(f->dir, &f->s), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(300 * 1000);
		f->s.generation = 9;
		_exit(keystate_write(f->dir, &f->s) == 0 ? 0 : 1);
	}
	t0 = mono_ms();
	assert_int_equal(keystate_wait(f->dir, t0 + 20000, flags,
				       has_generation, &w), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(keystate_read(f->dir, &f->got), 0);
	assert_int_equal(f->got.generation, 9);
}

static void
test_wait_sees_write(void **state)
{
	wait_for_writer(*state, 0);
}

static void
test_wait_sees_write_no_inotify(void **state)
{
	wait_for_writer(*state, KEYSTATE_WAIT_NO_INOTIFY);
}

/* done() may end the wait without a file (the daemon went away). */
static int
always(const struct keystate *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
	return 1;
}

static void
test_wait_done_at_once(void **state)
{
	struct fx *f = *state;
	unsigned calls = 0;

	assert_int_equal(keystate_wait(f->dir, mono_ms() + 60000, 0, always,
				       &calls), 0);
	assert_int_equal(calls, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_parse_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_deadline_no_inotify,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_sees_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_sees_write_no_inotify,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_done_at_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
