/*
 * test_client_queue.c - a request's life in a temporary home: publish (token
 * last, and valid), withdraw versus claim (exactly one wins), the wait's
 * outcomes, and the history folder.
 */
#include "archive.h"
#include "paths.h"
#include "signals.h"
#include "submit.h"
#include "wait.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "key.h"
#include "token.h"

#include "banned.h"

#define KEYHEX "574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c"

struct fx {
	char home[64];
	struct vm_layout p;
	struct key k;
	struct request r;
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
	snprintf(f->home, sizeof(f->home), "/tmp/test_client_queue.XXXXXX");
	assert_non_null(mkdtemp(f->home));
	assert_int_equal(vm_layout_init(&f->p, f->home), 0);
	assert_int_equal(paths_make_queue(&f->p), 0);
	assert_int_equal(key_parse(KEYHEX, 64, &f->k), 0);
	request_init(&f->r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	request_release(&f->r);
	nftw(f->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int exists(const char *dir, const char *cid, const char *sfx)
{
	char path[PATH_MAX];
	struct stat st;

	assert_int_equal(path_cid(path, sizeof(path), dir, cid, sfx), 0);
	return lstat(path, &st) == 0;
}

static void slurp(const char *dir, const char *cid, const char *sfx,
		  struct buf *b)
{
	char path[PATH_MAX];

	buf_reset(b);
	assert_int_equal(path_cid(path, sizeof(path), dir, cid, sfx), 0);
	assert_int_equal(read_file(path, b), 0);
}

static void publish(struct fx *f, const char *body, int with_in)
{
	request_release(&f->r);
	request_init(&f->r);
	assert_int_equal(buf_append_str(&f->r.body, body), 0);
	if (with_in) {
		assert_int_equal(buf_append(&f->r.in, "\0\1\2\377", 4), 0);
		f->r.has_in = 1;
	}
	f->r.opts.timeout = 7;
	assert_int_equal(request_publish(&f->r, &f->p, &f->k), 0);
}

static void test_publish_token_covers_everything(void **state)
{
	struct fx *f = *state;
	struct buf body = BUF_INIT(1 << 20), in = BUF_INIT(1 << 20),
		   opt = BUF_INIT(4096), auth = BUF_INIT(4096),
		   log = BUF_INIT(1 << 16);
	struct token_input ti;
	enum token_kind kind;
	const char *cid;

	publish(f, "qvm-ls --running\n", 1);
	cid = f->r.cid;
	assert_true(cid_valid(cid, strlen(cid)));
	slurp(f->p.pending, cid, "", &body);
	slurp(f->p.pending, cid, ".in", &in);
	slurp(f->p.pending, cid, ".opt", &opt);
	slurp(f->p.pending, cid, ".auth", &auth);
	assert_string_equal(buf_str(&body), "qvm-ls --running\n");
	assert_int_equal(in.len, 4);
	assert_string_equal(buf_str(&opt), "timeout=7\n");
	assert_int_equal(auth.len, TOKEN_V2_TEXT_LEN);
	memset(&ti, 0, sizeof(ti));
	ti.cid = cid;
	ti.cid_len = strlen(cid);
	ti.body = (uint8_t *)body.data;
	ti.body_len = body.len;
	ti.opt = (uint8_t *)opt.data;
	ti.opt_len = opt.len;
	ti.in = (uint8_t *)in.data;
	ti.in_len = in.len;
	assert_int_equal(token_verify(&f->k, &ti, (uint8_t *)auth.data,
				      auth.len, 0, &kind), 0);
	assert_int_equal(kind, TOKEN_V2);
	/* A changed stdin no longer matches. */
	in.data[0] = 'X';
	assert_int_equal(token_verify(&f->k, &ti, (uint8_t *)auth.data,
				      auth.len, 0, &kind), QR_ERR_MISMATCH);
	assert_int_equal(read_file(f->p.audit, &log), 0);
	assert_non_null(strstr(buf_str(&log), " SUBMIT id="));
	assert_non_null(strstr(buf_str(&log), cid));
	assert_non_null(strstr(buf_str(&log), "cmd=\"qvm-ls --running\""));
	buf_release(&body);
	buf_release(&in);
	buf_release(&opt);
	buf_release(&auth);
	buf_release(&log);
}

static void test_withdraw_before_claim(void **state)
{
	struct fx *f = *state;
	struct buf log = BUF_INIT(1 << 16);

	publish(f, "true\n", 1);
	assert_int_equal(request_withdraw(&f->p, f->r.cid), 0);
	assert_false(exists(f->p.pending, f->r.cid, ".auth"));
	assert_false(exists(f->p.pending, f->r.cid, ""));
	assert_false(exists(f->p.pending, f->r.cid, ".in"));
	assert_false(exists(f->p.pending, f->r.cid, ".opt"));
	assert_int_equal(read_file(f->p.audit, &log), 0);
	assert_non_null(strstr(buf_str(&log), " WITHDRAWN id="));
	/* A second withdraw finds nothing: it is not a claim by dom0 either. */
	assert_int_equal(request_withdraw(&f->p, f->r.cid), QR_ERR_NOT_FOUND);
	buf_release(&log);
}

static void claim(struct fx *f)
{
	char from[PATH_MAX], to[PATH_MAX], name[128];

	assert_int_equal(path_cid(from, sizeof(from), f->p.pending, f->r.cid,
				  ".auth"), 0);
	snprintf(name, sizeof(name), "%s.auth.deadbeef-1-0", f->r.cid);
	assert_int_equal(path_join(to, sizeof(to), f->p.running, name), 0);
	assert_int_equal(rename(from, to), 0);
}

static void test_withdraw_after_claim_loses(void **state)
{
	struct fx *f = *state;

	publish(f, "true\n", 0);
	claim(f);
	assert_int_equal(request_withdraw(&f->p, f->r.cid), QR_ERR_NOT_FOUND);
	/* Nothing dom0 still needs was removed. */
	assert_true(exists(f->p.pending, f->r.cid, ""));
}

static void put_result(struct fx *f, const char *out, const char *meta,
		       const char *code)
{
	char name[128];

	snprintf(name, sizeof(name), "%s.out", f->r.cid);
	assert_int_equal(write_file_atomic(f->p.results, name, out,
					   strlen(out), 0600, 0), 0);
	snprintf(name, sizeof(name), "%s.meta", f->r.cid);
	assert_int_equal(write_file_atomic(f->p.results, name, meta,
					   strlen(meta), 0600, 0), 0);
	snprintf(name, sizeof(name), "%s.exit", f->r.cid);
	assert_int_equal(write_file_atomic(f->p.results, name, code,
					   strlen(code), 0600, 0), 0);
}

static void test_wait_outcomes(void **state)
{
	struct fx *f = *state;
	struct wait_params wp = { .claim_ms = 100, .run_ms = 100 };
	struct wait_report rep;
	struct waiter w;

	assert_int_equal(signals_install(), 0);
	/* Nobody takes it: withdrawn at the claim deadline. */
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp, (uint64_t)mono_ms(),
				     &rep), 0);
	assert_int_equal(rep.outcome, WAIT_NOT_TAKEN);
	assert_false(exists(f->p.pending, f->r.cid, ".auth"));
	waiter_close(&w);
	/* Taken but no result: give up after run_ms, delete nothing. */
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	claim(f);
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp, (uint64_t)mono_ms(),
				     &rep), 0);
	assert_int_equal(rep.outcome, WAIT_NO_RESULT);
	assert_true(rep.claimed);
	waiter_close(&w);
	/* The result is there. */
	assert_int_equal(waiter_open(&w, &f->p), 0);
	put_result(f, "x\n", "status=ok\nexit=0\n", "0\n");
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp, (uint64_t)mono_ms(),
				     &rep), 0);
	assert_int_equal(rep.outcome, WAIT_RESULT);
	waiter_close(&w);
}

/* Issue 16: a signal after dom0 took the request ends the wait as
 * WAIT_STOP with stop_running (the caller asks dom0 to stop it), as
 * WAIT_DETACHED without; before the claim it is withdrawn either way. */
static void test_wait_signal_after_the_claim(void **state)
{
	struct fx *f = *state;
	struct wait_params wp = { .claim_ms = 10000, .run_ms = 10000,
				  .withdraw_held = 1, .stop_running = 1 };
	struct wait_report rep;
	struct waiter w;

	assert_int_equal(signals_install(), 0);
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	claim(f);
	signals_reset();
	assert_int_equal(raise(SIGINT), 0);
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_STOP);
	assert_int_equal(rep.signal, SIGINT);
	wp.stop_running = 0;
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_DETACHED);
	waiter_close(&w);
	/* not taken yet: withdrawn by the rename, stop_running or not */
	wp.stop_running = 1;
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_WITHDRAWN);
	waiter_close(&w);
	signals_reset();
}

static void put_note(struct fx *f, const char *text)
{
	char name[128];

	snprintf(name, sizeof(name), "%s.note", f->r.cid);
	assert_int_equal(write_file_atomic(f->p.running, name, text,
					   strlen(text), 0600, 0), 0);
}

/* A taken request dom0 holds asking a person counts as not taken: with
 * withdraw_held its wait ends WAIT_HELD at the claim deadline (--wait
 * given), not at the run deadline, and the note is in the report; once
 * approved, the run deadline counts again. */
static void test_wait_held_by_a_note(void **state)
{
	struct fx *f = *state;
	struct wait_params wp = { .claim_ms = 300, .run_ms = 100,
				  .withdraw_held = 1, .claim_given = 1 };
	struct wait_report rep;
	struct waiter w;

	assert_int_equal(signals_install(), 0);
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	claim(f);
	put_note(f, "status=asking\nexit=0\nreason=waiting for approval in "
		 "dom0 (ask: none)\ntimeout_s=290\n");
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_HELD);
	assert_int_equal(rep.signal, 0);
	assert_true(rep.have_note);
	assert_int_equal(rep.note.status, RESULT_ASKING);
	assert_string_equal(rep.note.text, "waiting for approval in dom0 "
			    "(ask: none)");
	assert_true(rep.total_ms >= 300);
	/* without withdraw_held (mcp) the same note is a taken request */
	wp.withdraw_held = 0;
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_NO_RESULT);
	assert_true(rep.have_note);
	/* approved: the run deadline, from the approval */
	wp.withdraw_held = 1;
	put_note(f, "status=approved\nexit=0\nreason=approved in dom0\n");
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_NO_RESULT);
	assert_int_equal(rep.note.status, RESULT_APPROVED);
	/* a note that is not one is ignored */
	put_note(f, "status=ok\nexit=0\n");
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_NO_RESULT);
	assert_false(rep.have_note);
	waiter_close(&w);
}

/* mcp's wait: at until_ms the request is left as it is, never withdrawn,
 * whatever the claim deadline says. */
static void test_wait_until_leaves_the_request(void **state)
{
	struct fx *f = *state;
	struct wait_params wp = { .claim_ms = 10000, .run_ms = 1000,
				  .until_ms = 100 };
	struct wait_report rep;
	struct waiter w;

	assert_int_equal(signals_install(), 0);
	assert_int_equal(waiter_open(&w, &f->p), 0);
	publish(f, "true\n", 0);
	assert_int_equal(waiter_wait(&w, &f->p, f->r.cid, &wp,
				     (uint64_t)mono_ms(), &rep), 0);
	assert_int_equal(rep.outcome, WAIT_PENDING);
	assert_false(rep.claimed);
	assert_true(exists(f->p.pending, f->r.cid, ".auth"));
	assert_true(exists(f->p.pending, f->r.cid, ""));
	assert_true(rep.total_ms >= 100 && rep.total_ms < 5000);
	waiter_close(&w);
}

static void test_archive_and_collect(void **state)
{
	struct fx *f = *state;
	struct result_info ri;
	struct buf b = BUF_INIT(4096);
	char dir[PATH_MAX];

	publish(f, "echo hi\n", 0);
	claim(f);
	put_result(f, "hi\n", "status=ok\nexit=3\nduration_ms=5\n", "3\n");
	assert_int_equal(result_load(&f->p, f->r.cid, &ri), 0);
	assert_int_equal(ri.exit_code, 3);
	assert_int_equal(archive_result(&f->p, &f->r, &ri, 1, 42), 0);
	assert_false(exists(f->p.results, f->r.cid, ".exit"));
	assert_int_equal(path_history_of(&f->p, f->r.cid, dir, sizeof(dir)),
			 0);
	slurp(dir, "", "out", &b);
	assert_string_equal(buf_str(&b), "hi\n");
	slurp(dir, "", "command", &b);
	assert_string_equal(buf_str(&b), "echo hi\n");
	{       /* stamped with the publish: history orders by it */
		char cmd[2 * PATH_MAX];
		struct stat st;
		snprintf(cmd, sizeof(cmd), "%s/command", dir);
		assert_int_equal(stat(cmd, &st), 0);
		assert_true(st.st_mtim.tv_sec == f->r.made.tv_sec &&
			    st.st_mtim.tv_nsec == f->r.made.tv_nsec);
	}
	slurp(dir, "", "exit", &b);
	assert_string_equal(buf_str(&b), "3\n");
	buf_reset(&b);
	assert_int_equal(read_file(f->p.audit, &b), 0);
	assert_non_null(strstr(buf_str(&b), " DONE id="));
	assert_non_null(strstr(buf_str(&b), " exit=3 ms=42\n"));

	/* A result left by a client that went away is collected later... */
	publish(f, "sleep 1\n", 0);
	claim(f);
	assert_int_equal(archive_leave(&f->p, &f->r), 0);
	assert_int_equal(archive_collect(&f->p), 0);
	put_result(f, "late\n", "status=ok\nexit=0\n", "0\n");
	assert_int_equal(archive_collect(&f->p), 1);
	assert_false(exists(f->p.results, f->r.cid, ".exit"));
	assert_int_equal(path_history_of(&f->p, f->r.cid, dir, sizeof(dir)),
			 0);
	slurp(dir, "", "out", &b);
	assert_string_equal(buf_str(&b), "late\n");

	/* ...but never the result of a client still waiting for it. */
	publish(f, "true\n", 0);
	claim(f);
	put_result(f, "", "status=ok\nexit=0\n", "0\n");
	assert_int_equal(archive_collect(&f->p), 0);
	assert_true(exists(f->p.results, f->r.cid, ".exit"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_publish_token_covers_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_before_claim,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_after_claim_loses,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_until_leaves_the_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_signal_after_the_claim,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_held_by_a_note, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_outcomes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_archive_and_collect,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
