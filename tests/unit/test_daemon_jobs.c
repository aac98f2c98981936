/*
 * test_daemon_jobs.c - when a cid enters the replay store, and what crash
 * recovery makes of that: accepted is not started, started is recorded
 * (durably) first, and a second claim of a cid never runs; and a cancel
 * of a running command (issue 16): the VM's own stops it, another VM's
 * or one of a finished command is not-held; the service stopping ends a
 * command as interrupted, not as timed out.
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
#include "clock.h"
#include "err.h"
#include "fileio.h"
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

/* A cancel of target from vm v, signed with v's key, as f->q. */
static void
build_cancel(struct fixture *f, struct vm *v, const char *claim,
	     const char *target, char opt[CID_MAX + 16])
{
	struct token_input ti = { 0 };

	memset(&f->q, 0, sizeof(f->q));
	assert_int_equal(cid_generate(f->q.cid, time(NULL), 99), 0);
	snprintf(f->q.claim, sizeof(f->q.claim), "%s", claim);
	snprintf(opt, CID_MAX + 16, "cancel=%s\n", target);
	set_part(&f->q, PART_BODY, "");
	set_part(&f->q, PART_OPT, opt);
	ti.cid = f->q.cid;
	ti.cid_len = strlen(f->q.cid);
	ti.body = (const uint8_t *)"";
	ti.opt = (const uint8_t *)opt;
	ti.opt_len = strlen(opt);
	assert_int_equal(token_v2_text(&v->key, &ti, f->token), 0);
	set_part(&f->q, PART_AUTH, f->token);
}

/* The stdout of v's ready result of cid ("" when none). */
static void
answer_of(struct vm *v, const char *cid, char *out, size_t n)
{
	struct buf b = BUF_INIT(256);
	char path[PATH_MAX + 8];

	out[0] = '\0';
	for (size_t i = 0; i < v->nready; i++)
		if (strcmp(v->ready[i].cid, cid) == 0) {
			snprintf(path, sizeof(path), "%s/out", v->ready[i].dir);
			if (read_file(path, &b) == 0)
				snprintf(out, n, "%.*s", (int)b.len, b.data);
		}
	buf_release(&b);
}

/* Lines of the fixture's log that hold text. */
static int
log_count(struct fixture *f, const char *text)
{
	struct buf b = BUF_INIT(1 << 20);
	char path[128];
	int n = 0;

	snprintf(path, sizeof(path), "%s/log", f->dir);
	assert_int_equal(read_file(path, &b), 0);
	for (const char *p = buf_str(&b); (p = strstr(p, text)) != NULL; p++)
		n++;
	buf_release(&b);
	return n;
}

/* Starts f->body as a command of f->v; returns its job. */
static struct job *
start_one(struct fixture *f)
{
	build(f, "0a0b0c0d-1-0");
	handle_request(&f->d, f->v, &f->q);
	job_start(&f->d, dequeue(f));
	assert_int_equal(f->d.njobs, 1);
	return f->d.jobs[0];
}

/* Waits up to ms for the run's process; 1 when it was reaped. */
static int
reaped_within(struct run *r, int ms)
{
	int status;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			run_reaped(r, status, mono_ms());
			return 1;
		}
		usleep(10000);
	}
	return 0;
}

/* The VM's cancel of its running command sends SIGINT at once and says
 * "stopping"; a second one sends nothing more; the result keeps the
 * command's own status and says cancelled=1. */
static void
test_cancel_stops_a_running_command(void **state)
{
	struct fixture *f = *state;
	char opt[CID_MAX + 16], out[64], cancel1[CID_MAX + 1];
	struct deliver_item e;
	struct buf meta = BUF_INIT(4096);
	char path[PATH_MAX + 8];
	struct result_meta m;
	struct job *j;

	f->body = "trap 'exit 7' INT; sleep 30 & wait\n";
	j = start_one(f);
	usleep(200000);     /* bash has set its trap */
	build_cancel(f, f->v, "0a0b0c0d-2-0", j->cid, opt);
	handle_request(&f->d, f->v, &f->q);
	memcpy(cancel1, f->q.cid, sizeof(cancel1));
	answer_of(f->v, cancel1, out, sizeof(out));
	assert_string_equal(out, "stopping\n");
	assert_int_equal(f->v->ready[f->v->nready - 1].exit_code, 0);
	assert_int_equal(j->run->cancelled, SIGINT);
	assert_int_equal(log_count(f, "] CANCEL vm=work id="), 1);
	assert_int_equal(log_count(f, " signal=INT"), 1);
	/* a second cancel: still stopping, nothing sent again */
	build_cancel(f, f->v, "0a0b0c0d-3-0", j->cid, opt);
	handle_request(&f->d, f->v, &f->q);
	answer_of(f->v, f->q.cid, out, sizeof(out));
	assert_string_equal(out, "stopping\n");
	assert_int_equal(log_count(f, "] CANCEL vm=work id="), 1);
	assert_true(reaped_within(j->run, 3000));
	while (j->run->fd[0] >= 0 || j->run->fd[1] >= 0)
		for (int k = 0; k < 2; k++)
			if (j->run->fd[k] >= 0)
				run_pump(j->run, j->run->fd[k]);
	assert_int_equal(run_finish(j->run, j->cid, j->claim, mono_ms(), &e), 0);
	snprintf(path, sizeof(path), "%s/meta", e.dir);
	assert_int_equal(read_file(path, &meta), 0);
	assert_int_equal(result_meta_parse(meta.data, meta.len, &m), 0);
	assert_int_equal(m.status, RESULT_OK);
	assert_int_equal(m.exit_code, 7);       /* its own, from the trap */
	assert_int_equal(m.cancelled, 1);
	buf_release(&meta);
	/* done now: a cancel of it is not-held */
	run_abort(j->run);
	job_free(j);
	f->d.njobs = 0;
	f->v->running = 0;
	build_cancel(f, f->v, "0a0b0c0d-4-0", cancel1, opt);
	handle_request(&f->d, f->v, &f->q);
	answer_of(f->v, f->q.cid, out, sizeof(out));
	assert_string_equal(out, "not-held\n");
}

/* A command that ignores INT and TERM is killed: TERM RUN_CANCEL_TERM_MS
 * after the cancel, KILL RUN_CANCEL_KILL_MS after that. */
static void
test_cancel_escalates(void **state)
{
	struct fixture *f = *state;
	struct job *j;
	int64_t t;

	f->body = "trap '' INT TERM; sleep 30\n";
	j = start_one(f);
	usleep(200000);
	t = mono_ms();
	assert_int_equal(run_cancel(j->run, t), 0);
	assert_int_equal(run_cancel(j->run, t), QR_ERR_EXISTS);
	assert_true(run_next_deadline(j->run) == t + RUN_CANCEL_TERM_MS);
	assert_false(reaped_within(j->run, 300));
	run_tick(j->run, t + RUN_CANCEL_TERM_MS);
	assert_int_equal(j->run->cancelled, SIGTERM);
	assert_true(run_next_deadline(j->run) ==
		    t + RUN_CANCEL_TERM_MS + RUN_CANCEL_KILL_MS);
	assert_false(reaped_within(j->run, 300));
	run_tick(j->run, t + RUN_CANCEL_TERM_MS + RUN_CANCEL_KILL_MS);
	assert_int_equal(j->run->cancelled, SIGKILL);
	assert_true(reaped_within(j->run, 2000));
	assert_true(WIFSIGNALED(j->run->status));
	assert_int_equal(run_cancel(j->run, t), QR_ERR_NOT_FOUND);
}

/* Another VM's cancel names a cid that is not its own: not-held, and the
 * command runs on (its key signed it: the token is right, the VM is not). */
static void
test_cancel_from_another_vm_is_not_held(void **state)
{
	struct fixture *f = *state;
	struct vm *other = calloc(1, sizeof(*other));
	char opt[CID_MAX + 16], out[64];
	struct job *j;

	assert_non_null(other);
	snprintf(other->name, sizeof(other->name), "other");
	assert_int_equal(key_parse(key_hex, 64, &other->key), 0);
	assert_int_equal(replay_open(&other->replay, f->cfg.state_dir, "other",
				     time(NULL), f->cfg.max_age_s + 300), 0);
	f->body = "sleep 30\n";
	j = start_one(f);
	build_cancel(f, other, "0a0b0c0d-2-0", j->cid, opt);
	handle_request(&f->d, other, &f->q);
	answer_of(other, f->q.cid, out, sizeof(out));
	assert_string_equal(out, "not-held\n");
	assert_int_equal(j->run->cancelled, 0);
	assert_int_equal(log_count(f, "] CANCEL "), 0);
	assert_false(reaped_within(j->run, 200));
	replay_close(&other->replay);
	free(other->ready);
	free(other);
}

/* The service stopping past its grace kills what runs: interrupted, exit
 * 255, its reason; and an INTERRUPTED line, no TIMEOUT. */
static void
test_stop_interrupts_not_timeout(void **state)
{
	struct fixture *f = *state;
	struct job *j;
	int64_t t;

	f->body = "sleep 30\n";
	j = start_one(f);
	t = mono_ms();
	run_interrupt(j->run, t);
	assert_int_equal(j->run->stopped, 1);
	run_tick(j->run, t);
	assert_true(reaped_within(j->run, 2000));
	while (j->run->fd[0] >= 0 || j->run->fd[1] >= 0)
		for (int k = 0; k < 2; k++)
			if (j->run->fd[k] >= 0)
				run_pump(j->run, j->run->fd[k]);
	j->run->in_cgroup = 0;
	job_finish(&f->d, 0);
	assert_int_equal(f->d.njobs, 0);
	assert_int_equal(f->v->ready[f->v->nready - 1].status,
			 RESULT_INTERRUPTED);
	assert_int_equal(f->v->ready[f->v->nready - 1].exit_code, 255);
	assert_int_equal(log_count(f, "] INTERRUPTED vm=work "), 1);
	assert_int_equal(log_count(f, "reason=\"" RUN_STOPPED_REASON "\""), 1);
	assert_int_equal(log_count(f, "] TIMEOUT "), 0);
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
		cmocka_unit_test_setup_teardown(
			test_cancel_stops_a_running_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_escalates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_cancel_from_another_vm_is_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stop_interrupts_not_timeout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
