/*
 * test_daemon_jobs.c - when a cid enters the replay store, and what crash
 * recovery makes of that: accepted is not started, started is recorded
 * (durably) first, and a second claim of a cid never runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "daemon.h"
#include "cid.h"
#include "key.h"
#include "replay.h"
#include "token.h"
#include "banned.h"

static const char key_hex[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct fixture {
	char dir[64];
	struct config cfg;
	struct serve_opts opts;
	struct daemon d;
	struct vm *v;
	char cid[CID_MAX + 1];
	char token[TOKEN_V2_TEXT_LEN + 1];
	const char *body;
	struct fetch_request q;
};

static void
set_part(struct fetch_request *q, enum part_kind k, const char *s)
{
	q->part[k].present = s != NULL;
	q->part[k].p = (const uint8_t *)s;
	q->part[k].len = s != NULL ? strlen(s) : 0;
}

/* The request a client would have sent for f->cid, under claim. */
static void
build(struct fixture *f, const char *claim)
{
	struct token_input ti = {
		.cid = f->cid, .cid_len = strlen(f->cid),
		.body = (const uint8_t *)f->body, .body_len = strlen(f->body),
	};

	memset(&f->q, 0, sizeof(f->q));
	memcpy(f->q.cid, f->cid, strlen(f->cid) + 1);
	snprintf(f->q.claim, sizeof(f->q.claim), "%s", claim);
	set_part(&f->q, PART_BODY, f->body);
	assert_int_equal(token_v2_text(&f->v->key, &ti, f->token), 0);
	set_part(&f->q, PART_AUTH, f->token);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-jobs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_defaults(&f->cfg);
	snprintf(f->cfg.state_dir, sizeof(f->cfg.state_dir), "%s/state", f->dir);
	snprintf(f->cfg.runtime_dir, sizeof(f->cfg.runtime_dir), "%s/run",
		 f->dir);
	assert_int_equal(mkdir(f->cfg.state_dir, 0700), 0);
	assert_int_equal(mkdir(f->cfg.runtime_dir, 0700), 0);
	f->d.cfg = &f->cfg;
	f->d.opts = &f->opts;
	f->d.inotify_fd = -1;
	buf_init(&f->d.line, 8192);
	snprintf(path, sizeof(path), "%s/log", f->dir);
	assert_int_equal(audit_open(&f->d.audit, path, f->cfg.state_dir), 0);
	f->v = calloc(1, sizeof(*f->v));
	assert_non_null(f->v);
	snprintf(f->v->name, sizeof(f->v->name), "work");
	assert_int_equal(key_parse(key_hex, 64, &f->v->key), 0);
	assert_int_equal(replay_open(&f->v->replay, f->cfg.state_dir, "work",
				     time(NULL), f->cfg.max_age_s + 300), 0);
	f->d.vms = f->v;
	assert_int_equal(cid_generate(f->cid, time(NULL), 77), 0);
	f->body = "true\n";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	for (size_t i = 0; i < f->d.njobs; i++) {
		run_abort(f->d.jobs[i]->run);
		job_free(f->d.jobs[i]);
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	free(f->d.jobs);
	while (f->v->queue != NULL) {
		struct job *j = f->v->queue;
		f->v->queue = j->next;
		job_free(j);
	}
	replay_close(&f->v->replay);
	free(f->v->ready);
	free(f->v);
	audit_close(&f->d.audit);
	buf_release(&f->d.line);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The first queued job of the VM, taken off its queue. */
static struct job *
dequeue(struct fixture *f)
{
	struct job *j = f->v->queue;

	assert_non_null(j);
	f->v->queue = j->next;
	if (f->v->queue == NULL)
		f->v->queue_tail = NULL;
	j->next = NULL;
	return j;
}

static void
test_accepted_is_not_recorded_until_it_starts(void **state)
{
	struct fixture *f = *state;
	struct replay again;

	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	assert_non_null(f->v->queue);
	assert_int_equal(f->v->nready, 0);
	/* queued only: a crash now puts its claim back in pending/ */
	assert_int_not_equal(replay_lookup(&f->v->replay, f->cid), REPLAY_SEEN);
	job_start(&f->d, dequeue(f));
	assert_int_equal(f->d.njobs, 1);
	assert_int_equal(f->v->running, 1);
	assert_int_equal(replay_lookup(&f->v->replay, f->cid), REPLAY_SEEN);
	/* and on disk, as the next daemon would read it */
	assert_int_equal(replay_open(&again, f->cfg.state_dir, "work",
				     time(NULL), f->cfg.max_age_s + 300), 0);
	assert_int_equal(replay_lookup(&again, f->cid), REPLAY_SEEN);
	replay_close(&again);
}

static void
test_second_claim_of_a_queued_cid_is_rejected(void **state)
{
	struct fixture *f = *state;

	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	build(f, "0a0b0c0d-1-1");
	handle_request(&f->d, f->v, &f->q);
	/* one job; the second claim has its rejection waiting */
	assert_non_null(f->v->queue);
	assert_null(f->v->queue->next);
	assert_string_equal(f->v->queue->claim, "0a0b0c0d-1-0");
	assert_int_equal(f->v->nready, 1);
	assert_int_equal(f->v->ready[0].status, RESULT_REJECTED);
	assert_string_equal(f->v->ready[0].claim, "0a0b0c0d-1-1");
}

static void
test_a_recorded_cid_never_starts(void **state)
{
	struct fixture *f = *state;

	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	assert_non_null(f->v->queue);
	/* it started under another claim in the meantime */
	assert_int_equal(replay_record(&f->v->replay, f->cid, time(NULL)), 0);
	job_start(&f->d, dequeue(f));
	assert_int_equal(f->d.njobs, 0);
	assert_int_equal(f->v->running, 0);
	assert_int_equal(f->v->nready, 1);
	assert_int_equal(f->v->ready[0].status, RESULT_REJECTED);
}

static void
test_recovery_releases_unstarted_and_interrupts_started(void **state)
{
	struct fixture *f = *state;
	struct fetch_reply *r = calloc(1, sizeof(*r));
	char started[CID_MAX + 1];

	assert_non_null(r);
	assert_int_equal(cid_generate(started, time(NULL), 78), 0);
	assert_int_equal(replay_record(&f->v->replay, started, time(NULL)), 0);
	r->nheld = 2;
	memcpy(r->held[0].cid, f->cid, sizeof(r->held[0].cid));
	snprintf(r->held[0].claim, sizeof(r->held[0].claim), "0a0b0c0d-1-0");
	memcpy(r->held[1].cid, started, sizeof(r->held[1].cid));
	snprintf(r->held[1].claim, sizeof(r->held[1].claim), "0a0b0c0d-1-1");
	recover_held(&f->d, f->v, r);
	assert_int_equal(f->v->nrelease, 1);
	assert_string_equal(f->v->release[0].cid, f->cid);
	assert_int_equal(f->v->nready, 1);
	assert_string_equal(f->v->ready[0].cid, started);
	assert_int_equal(f->v->ready[0].status, RESULT_INTERRUPTED);
	free(r);
}

/* A fetch that read running/ before a deliver removed a marker lists a
 * claim that is done: it is not answered "interrupted" again. */
static void
test_claim_delivered_during_the_fetch_is_not_recovered(void **state)
{
	struct fixture *f = *state;
	struct fetch_reply *r = calloc(1, sizeof(*r));
	struct deliver_item e;

	assert_non_null(r);
	memset(&e, 0, sizeof(e));
	memcpy(e.cid, f->cid, sizeof(e.cid));
	snprintf(e.claim, sizeof(e.claim), "0a0b0c0d-1-0");
	assert_int_equal(replay_record(&f->v->replay, f->cid, time(NULL)), 0);
	assert_int_equal(ready_push(f->v, &e), 0);
	f->v->x.state = X_FETCHING;    /* a fetch is out while it is delivered */
	exchange_delivered(f->v, &e);
	f->v->x.state = X_IDLE;
	assert_int_equal(f->v->nready, 0);
	r->nheld = 1;
	memcpy(r->held[0].cid, e.cid, sizeof(r->held[0].cid));
	memcpy(r->held[0].claim, e.claim, sizeof(r->held[0].claim));
	recover_held(&f->d, f->v, r);
	assert_int_equal(f->v->nready, 0);
	assert_int_equal(f->v->nrelease, 0);
	/* a later fetch that still lists it: then it is stranded */
	recover_held(&f->d, f->v, r);
	assert_int_equal(f->v->nready, 1);
	assert_int_equal(f->v->ready[0].status, RESULT_INTERRUPTED);
	free(r);
}

/* A request the policy denies is answered at once and never queued, nor
 * recorded: nothing of it runs (issue 15). */
static void
test_denied_by_policy_never_queues(void **state)
{
	static const char text[] = "work deny @script\n";
	struct fixture *f = *state;

	policy_init(&f->d.policy);
	assert_int_equal(policy_add_file(&f->d.policy, "10-a.policy", text,
					 sizeof(text) - 1, NULL), 0);
	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	assert_null(f->v->queue);
	assert_int_equal(f->v->nready, 1);
	assert_int_equal(f->v->ready[0].status, RESULT_REJECTED);
	assert_int_equal(f->v->ready[0].exit_code, EXIT_REJECTED);
	assert_int_equal(replay_lookup(&f->v->replay, f->cid), REPLAY_NEW);
	policy_release(&f->d.policy);
}

/* A queued job whose user is gone from dom0 by the time a slot frees is
 * refused then, and its id is not spent. */
static void
test_unknown_user_never_starts(void **state)
{
	struct fixture *f = *state;
	struct job *j;

	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	j = dequeue(f);
	assert_string_equal(j->run_as, "root");
	snprintf(j->run_as, sizeof(j->run_as), "qvmr-no-such-user");
	job_start(&f->d, j);
	assert_int_equal(f->d.njobs, 0);
	assert_int_equal(f->v->nready, 1);
	assert_int_equal(f->v->ready[0].status, RESULT_REJECTED);
	assert_int_equal(replay_lookup(&f->v->replay, f->cid), REPLAY_NEW);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_accepted_is_not_recorded_until_it_starts, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_second_claim_of_a_queued_cid_is_rejected, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_a_recorded_cid_never_starts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_recovery_releases_unstarted_and_interrupts_started,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_claim_delivered_during_the_fetch_is_not_recovered,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_denied_by_policy_never_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_never_starts,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
