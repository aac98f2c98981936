/*
 * test_agent_fetch.c - the agent's fetch in a temporary home: what it
 * claims and in which order, the reply dom0 parses, budgets, junk, dry
 * runs, stranded claims put back, and the wait (queue missing or not).
 */
#include "fetch.h"
#include "queue.h"
#include "watch.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "tmptree.h"

#include "banned.h"

#define CID_A "20261128-101500-4242-0000000000000000000000000000000a"
#define CID_B "20261128-101501-4242-0000000000000000000000000000000b"
#define CID_C "20261128-101502-4242-0000000000000000000000000000000c"
#define TOKEN "v2:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fx {
	char home[64];
	struct vm_layout q;
	char *reply;
	size_t len;
	struct fetch_reply r;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tmptree_make(f->home, sizeof(f->home), "test_agent"), 0);
	assert_int_equal(setenv("HOME", f->home, 1), 0);
	assert_int_equal(queue_init(&f->q), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmptree_remove(f->home);
	free(f->reply);
	free(f);
	return 0;
}

static void
make_queue(struct fx *f)
{
	assert_int_equal(mkdir_p(f->q.pending, 0700), 0);
	assert_int_equal(mkdir_p(f->q.running, 0700), 0);
}

static void
put(const char *dir, const char *name, const char *text)
{
	assert_int_equal(write_file_atomic(dir, name, text, strlen(text), 0600, 0), 0);
}

static void
request(struct fx *f, const char *cid, const char *body)
{
	char name[CID_MAX + 8];

	put(f->q.pending, cid, body);
	snprintf(name, sizeof(name), "%s.auth", cid);
	put(f->q.pending, name, TOKEN);
}

/* Runs a fetch into f->reply and parses it; returns fetch_run's result. */
static int
fetch(struct fx *f, const struct fetch_args *a)
{
	FILE *m;
	int r;

	free(f->reply);
	f->reply = NULL;
	m = open_memstream(&f->reply, &f->len);
	assert_non_null(m);
	r = fetch_run(&f->q, a, m);
	assert_int_equal(fclose(m), 0);
	assert_int_equal(frame_parse_fetch((const uint8_t *)f->reply, f->len,
					   &f->r), 0);
	return r;
}

static const struct fetch_args plain = {
	.prefix = "0a1b2c3d-7", .max_requests = FETCH_REQ_MAX,
	.max_bytes = 1u << 20, .claim = true, .wake_fd = -1,
};

static void
test_claims_oldest_first(void **state)
{
	struct fx *f = *state;

	make_queue(f);
	request(f, CID_B, "echo b\n");
	request(f, CID_A, "echo a\n");
	put(f->q.pending, CID_A ".in", "input");
	put(f->q.pending, CID_A ".opt", "timeout=5\n");
	assert_int_equal(fetch(f, &plain), 0);
	assert_true(f->r.agent);
	assert_int_equal(f->r.n, 2);
	assert_string_equal(f->r.req[0].cid, CID_A);
	assert_string_equal(f->r.req[0].claim, "0a1b2c3d-7-0");
	assert_string_equal(f->r.req[1].cid, CID_B);
	assert_string_equal(f->r.req[1].claim, "0a1b2c3d-7-1");
	assert_memory_equal(f->r.req[0].part[PART_BODY].p, "echo a\n", 7);
	assert_memory_equal(f->r.req[0].part[PART_IN].p, "input", 5);
	assert_memory_equal(f->r.req[0].part[PART_OPT].p, "timeout=5\n", 10);
	assert_int_equal(f->r.req[0].part[PART_AUTH].len, strlen(TOKEN));
	assert_false(f->r.req[1].part[PART_IN].present);
	/* claimed: moved to running/ with the marker */
	assert_false(tmptree_exists(f->q.pending, CID_A ".auth"));
	assert_false(tmptree_exists(f->q.pending, CID_A));
	assert_true(tmptree_exists(f->q.running, CID_A ".auth.0a1b2c3d-7-0"));
	assert_true(tmptree_exists(f->q.running, CID_A));
	assert_true(tmptree_exists(f->q.running, CID_A ".in"));
	assert_true(tmptree_exists(f->q.running, CID_A ".opt"));
	/* the next fetch lists the claims as held, and claims nothing */
	assert_int_equal(fetch(f, &plain), 0);
	assert_int_equal(f->r.n, 0);
	assert_int_equal(f->r.nheld, 2);
}

static void
test_budgets_and_junk(void **state)
{
	struct fx *f = *state;
	struct fetch_args one = plain;
	char big[2000];

	make_queue(f);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	request(f, CID_A, big);
	request(f, CID_B, "b\n");
	request(f, CID_C, "c\n");
	put(f->q.pending, "junk.auth", TOKEN);               /* not a cid */
	put(f->q.pending, CID_C "x", "not a token");
	one.max_requests = 1;
	assert_int_equal(fetch(f, &one), 0);
	assert_int_equal(f->r.n, 1);
	assert_int_equal(f->r.skipped, 1);
	/* past the byte budget, claiming stops: one more request only */
	one.max_requests = FETCH_REQ_MAX;
	one.max_bytes = 1;
	assert_int_equal(fetch(f, &one), 0);
	assert_int_equal(f->r.n, 1);
	assert_string_equal(f->r.req[0].cid, CID_B);
	assert_true(tmptree_exists(f->q.pending, "junk.auth"));
}

static void
test_incomplete_token_and_symlink_are_left(void **state)
{
	struct fx *f = *state;
	char target[2 * PATH_MAX], link[2 * PATH_MAX];

	make_queue(f);
	put(f->q.pending, CID_A, "a\n");
	put(f->q.pending, CID_A ".auth", "v2:0123");      /* still being written */
	put(f->q.pending, CID_B, "b\n");
	snprintf(target, sizeof(target), "%s/elsewhere", f->home);
	snprintf(link, sizeof(link), "%s/%s.auth", f->q.pending, CID_B);
	put(f->home, "elsewhere", TOKEN);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(fetch(f, &plain), 0);
	assert_int_equal(f->r.n, 0);
	assert_true(tmptree_exists(f->q.pending, CID_A ".auth"));
	assert_true(tmptree_exists(f->q.pending, CID_B ".auth"));
}

static void
test_dry_run_claims_nothing(void **state)
{
	struct fx *f = *state;
	struct fetch_args peek = plain;

	make_queue(f);
	request(f, CID_A, "a\n");
	peek.claim = false;
	assert_int_equal(fetch(f, &peek), 0);
	assert_int_equal(f->r.n, 1);
	assert_int_equal(f->r.nheld, 0);
	assert_true(tmptree_exists(f->q.pending, CID_A ".auth"));
	assert_false(tmptree_exists(f->q.running, CID_A));
}

static void
test_release_puts_back(void **state)
{
	struct fx *f = *state;
	char *rel[] = { CID_A, "0a1b2c3d-7-0" };
	struct fetch_args a = plain;

	make_queue(f);
	request(f, CID_A, "a\n");
	assert_int_equal(fetch(f, &plain), 0);
	assert_int_equal(f->r.n, 1);
	/* dom0 names it stranded: it is put back and claimed anew */
	a.prefix = "0a1b2c3d-8";
	a.release = rel;
	a.nrelease = 1;
	assert_int_equal(fetch(f, &a), 0);
	assert_int_equal(f->r.n, 1);
	assert_string_equal(f->r.req[0].claim, "0a1b2c3d-8-0");
	assert_false(tmptree_exists(f->q.running, CID_A ".auth.0a1b2c3d-7-0"));
	assert_true(tmptree_exists(f->q.running, CID_A ".auth.0a1b2c3d-8-0"));
	assert_memory_equal(f->r.req[0].part[PART_BODY].p, "a\n", 2);
}

static void
test_no_queue_answers_done_0(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fetch(f, &plain), 0);
	assert_int_equal(f->r.n, 0);
	assert_true(f->r.agent);
}

static void
test_args_checked(void **state)
{
	char *bad_rel[] = { "x.auth", "0a1b2c3d-7-0" };
	struct fetch_args a = plain;

	(void)state;
	assert_int_equal(fetch_args_check(&a), 0);
	a.prefix = "0a1b2c3d";
	assert_int_equal(fetch_args_check(&a), QR_ERR_INVALID);
	a = plain;
	a.max_requests = FETCH_REQ_MAX + 1;
	assert_int_equal(fetch_args_check(&a), QR_ERR_INVALID);
	a.max_requests = 0;
	assert_int_equal(fetch_args_check(&a), QR_ERR_INVALID);
	a = plain;
	a.release = bad_rel;
	a.nrelease = 1;
	assert_int_equal(fetch_args_check(&a), QR_ERR_INVALID);
}

static void
test_wait(void **state)
{
	struct fx *f = *state;
	int64_t t0;
	pid_t pid;
	int st;

	/* no queue yet: the wait sits out its time (a junk name does not
	 * end it), and a request made meanwhile, directories and all,
	 * ends it */
	t0 = mono_ms();
	assert_int_equal(wait_for_request(&f->q, 1, -1), 0);
	assert_true(mono_ms() - t0 >= 1000);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(200000);
		if (mkdir_p(f->q.pending, 0700) != 0)
			_exit(1);
		usleep(100000);
		put(f->q.pending, "junk.auth", TOKEN);
		usleep(100000);
		request(f, CID_A, "a\n");
		_exit(0);
	}
	assert_int_equal(wait_for_request(&f->q, 30, -1), 1);
	assert_true(mono_ms() - t0 < 30000);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a request already there ends it at once */
	assert_int_equal(wait_for_request(&f->q, 30, -1), 1);
}

/* In a session the wait also ends when dom0 writes (results to send) or
 * goes (end of input), and that fetch claims nothing. */
static void
test_wait_woken(void **state)
{
	struct fx *f = *state;
	struct fetch_args a = plain;
	int p[2];
	int64_t t0;

	make_queue(f);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "i", 1), 1);
	t0 = mono_ms();
	assert_int_equal(wait_for_request(&f->q, 30, p[0]), WAIT_WOKEN);
	assert_true(mono_ms() - t0 < 10000);
	a.wait_s = 30;
	a.wake_fd = p[0];
	assert_int_equal(fetch(f, &a), 0);
	assert_int_equal(f->r.n, 0);
	assert_true(mono_ms() - t0 < 10000);
	close(p[0]);
	close(p[1]);
	/* the end of dom0's input */
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	assert_int_equal(wait_for_request(&f->q, 30, p[0]), WAIT_WOKEN);
	assert_true(mono_ms() - t0 < 10000);
	close(p[0]);
	/* nothing to read: the wait sits out its time */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(wait_for_request(&f->q, 1, p[0]), WAIT_TIMEOUT);
	close(p[0]);
	close(p[1]);
}

/* Runs in a child as nobody, whose inotify instances are all taken. */
static int
wait_without_inotify(struct fx *f)
{
	char token[PATH_MAX + CID_MAX + 8];
	int64_t t0;
	pid_t pid;
	int p[2];

	while (inotify_init1(IN_CLOEXEC) >= 0)
		;
	if (errno != EMFILE && errno != ENFILE)
		return 10;
	t0 = mono_ms();
	if (wait_for_request(&f->q, 1, -1) != 0 || mono_ms() - t0 < 1000)
		return 11;
	if ((pid = fork()) == 0) {
		usleep(300000);
		request(f, CID_A, "a\n");
		_exit(0);
	}
	if (pid < 0 || wait_for_request(&f->q, 30, -1) != 1 ||
	    mono_ms() - t0 > 20000)
		return 12;
	/* woken by dom0 while looking five times a second (the request
	 * that ended the last wait is taken away first) */
	if (pipe(p) != 0 || write(p[1], "i", 1) != 1)
		return 13;
	snprintf(token, sizeof(token), "%s/%s.auth", f->q.pending, CID_A);
	if (unlink(token) != 0)
		return 14;
	t0 = mono_ms();
	if (wait_for_request(&f->q, 30, p[0]) != WAIT_WOKEN ||
	    mono_ms() - t0 > 10000)
		return 15;
	return 0;
}

static void
test_wait_without_inotify(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	int st;

	if (geteuid() != 0)
		skip();       /* it needs a user of its own to exhaust */
	make_queue(f);
	assert_int_equal(chown(f->home, 65534, 65534), 0);
	assert_int_equal(chown(f->q.base, 65534, 65534), 0);
	assert_int_equal(chown(f->q.queue, 65534, 65534), 0);
	assert_int_equal(chown(f->q.pending, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(setgid(65534) != 0 || setuid(65534) != 0
		      ? 9 : wait_without_inotify(f));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claims_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budgets_and_junk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_token_and_symlink_are_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_claims_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_puts_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_queue_answers_done_0, setup, teardown),
		cmocka_unit_test(test_args_checked),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_woken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_without_inotify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
