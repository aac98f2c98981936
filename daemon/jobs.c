/*
 * jobs.c - one request's life in dom0: verdict, run, result, recovery.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/sha.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "gate.h"
#include "logline.h"
#include "outbox.h"
#include "request.h"

#include "banned.h"

#define PREVIEW_MAX 100             /* bytes of a command shown in the log */

/* Stores a result that is not a command's own under base's outbox: out
 * its stdout, or with out NULL the reason on stderr. */
static int
park_in(const char *base, struct vm *v, const char *cid, const char *claim,
	const struct result_meta *m, const char *out, struct deliver_item *e)
{
	struct outbox_writer w;
	char text[REASON_MAX + 32];
	int n, r;

	if ((r = outbox_begin(base, v->name, cid, claim, &w)) != 0)
		return r;
	/* old clients only print .err, so the reason goes there too */
	if (out != NULL)
		r = outbox_append(&w, 0, out, strlen(out));
	else if ((n = snprintf(text, sizeof(text), "qvm-remote-dom0: %s: %s\n",
			       result_status_name(m->status), m->reason)) > 0)
		r = outbox_append(&w, 1, text, (size_t)n);
	if (r != 0) {
		outbox_abort(&w);
		return r;
	}
	return outbox_commit(&w, cid, claim, m, e);
}

/*
 * Parks a result that is not a command's own (rejected, error, a check's
 * answer).  It goes to the durable outbox; when the state directory
 * cannot take it (full, read-only, failing), to the volatile one on the
 * runtime tmpfs, so the client still gets its answer at once.  A crash
 * loses a volatile entry; recovery then answers for its claim again
 * (design.md section 6).
 */
static void
park(struct daemon *d, struct vm *v, const char *cid, const char *claim,
     const struct result_meta *m, const char *out)
{
	char volatile_dir[PATH_MAX];
	struct deliver_item e;

	if (park_in(d->cfg->state_dir, v, cid, claim, m, out, &e) != 0) {
		ev_simple(d, "ERROR", v->name, cid, "reason",
			  "cannot store a result in the state directory; it "
			  "waits in the runtime directory");
		if (outbox_volatile_dir(volatile_dir, d->cfg->runtime_dir) != 0 ||
		    park_in(volatile_dir, v, cid, claim, m, out, &e) != 0)
			goto fail;
	}
	if (ready_push(v, &e) != 0)
		goto fail;
	return;
fail:
	ev_simple(d, "ERROR", v->name, cid, "reason",
		  "cannot store a result; the VM gets it at a later fetch");
}

void
park_status(struct daemon *d, struct vm *v, const char *cid,
	    const char *claim, enum result_status st, const char *reason)
{
	struct result_meta m;
	int n;

	memset(&m, 0, sizeof(m));
	m.status = st;
	m.exit_code = st == RESULT_REJECTED ? EXIT_REJECTED
		      : st == RESULT_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ERROR;
	n = snprintf(m.reason, sizeof(m.reason), "%s", reason);
	(void)n;
	park(d, v, cid, claim, &m, NULL);
}

void
park_note(struct daemon *d, const struct job *j, enum result_status st,
	      const char *reason, unsigned left_s)
{
	struct result_meta m;

	memset(&m, 0, sizeof(m));
	m.status = st;
	m.timeout_s = left_s;
	snprintf(m.reason, sizeof(m.reason), "%s", reason);
	park_note_meta(d, j, &m);
}

void
park_note_meta(struct daemon *d, const struct job *j,
	       const struct result_meta *m)
{
	struct vm *v = j->vm;
	struct deliver_item e;

	/* a note still unsent says what is no longer so: the new one
	 * replaces it; one on its way stays, and this one is skipped */
	for (size_t i = 0; i < v->nready; i++)
		if (v->ready[i].note && strcmp(v->ready[i].cid, j->cid) == 0) {
			if (exchange_sending(v, &v->ready[i]))
				return;
			e = v->ready[i];
			(void)outbox_remove(&e);
			ready_drop(v, &e);
			break;
		}
	if (park_in(d->notes_base, v, j->cid, j->claim, m, "", &e) != 0)
		return;
	e.note = 1;
	if (ready_push(v, &e) != 0)
		(void)outbox_remove(&e);
}

/*
 * The EXEC line: the full body's SHA-256, its size and a preview (a
 * vector's as shell-quoted words, with form=argv), and user= when it runs
 * as someone other than root (user NULL: not decided, as in a DRY line);
 * with dry, a DRY line's policy decision (action=, rule=).  0 when it was
 * written.
 */
static int
log_exec(struct daemon *d, const char *vm, const char *cid,
	 const uint8_t *body, size_t len, enum body_form form,
	 const char *user, const char *category,
	 const struct gate_verdict *dry)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	struct buf words = BUF_INIT(8 * PREVIEW_MAX), *b;
	int r;

	SHA256(body, len, md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	b = ev_begin(d, category, vm, cid);
	(void)logline_kvs(b, "sha256", hex);
	(void)logline_kvu(b, "bytes", len);
	if (form == BODY_ARGV)
		(void)logline_kvs(b, "form", "argv");
	if (user != NULL && strcmp(user, "root") != 0)
		(void)logline_kvs(b, "user", user);
	/* one more byte than the preview keeps, so that it shows the cut */
	if (form == BODY_ARGV &&
	    argvbody_quote(&words, body, len, PREVIEW_MAX + 1) == 0)
		(void)logline_kv(b, "cmd", words.data, words.len, PREVIEW_MAX);
	else    /* without the newline the client ends a script with */
		(void)logline_kv(b, "cmd", body,
				 len > 0 && body[len - 1] == '\n' ? len - 1 : len,
				 PREVIEW_MAX);
	if (dry != NULL) {
		(void)logline_kvs(b, "action",
				  policy_action_name(dry->d.action));
		(void)logline_kvs(b, "rule", dry->rule);
	}
	r = ev_end(d);
	buf_release(&words);
	return r;
}

/* --dry-run's DRY line, with what the policy would decide for a request
 * that passed every check (nothing is claimed, decided for real or run). */
static void
log_dry(struct daemon *d, struct vm *v, const struct fetch_request *q,
	const struct request_verdict *verdict)
{
	const struct frame_part *body = &q->part[PART_BODY];
	struct argvbody av = { 0 };
	struct gate_verdict g;
	int decided = 0;

	if (verdict->accept && !policy_empty(&d->policy) &&
	    (verdict->form != BODY_ARGV ||
	     argvbody_decode(body->p, body->len, &av) == 0)) {
		struct gate_request gq = {
			.vm = v->name, .form = verdict->form,
			.argv = (const char *const *)av.argv, .argc = av.argc,
			.user = verdict->user[0] != '\0' ? verdict->user : NULL,
			.timeout_s = verdict->timeout_s,
		};
		gate_decide(&d->policy, d->cfg->policy_dir, &gq, &g);
		decided = 1;
	}
	(void)log_exec(d, v->name, q->cid, body->p, body->len, verdict->form,
		       NULL, "DRY", decided ? &g : NULL);
	argvbody_release(&av);
}

void
job_free(struct job *j)
{
	free(j->run);
	free(j->body);
	free(j->in);
	argvbody_release(&j->argv);
	free(j);
}

/* The user a decision names: whom it runs as, else the rule's or the
 * request's. */
static const char *
decided_user(const struct job *j, const struct gate_verdict *g)
{
	return g->outcome == GATE_RUN ? g->user
	       : g->d.line != 0 ? g->d.user : j->asked_user;
}

/* "POLICY vm= id= action= rule= form= user= timeout= check=": one
 * decision. */
static void
log_policy(struct daemon *d, const struct job *j,
	   const struct gate_verdict *g)
{
	const char *user = decided_user(j, g);
	struct buf *b = ev_begin(d, "POLICY", j->vm->name, j->cid);

	(void)logline_kvs(b, "action", g->no_policy ? "allow"
				       : policy_action_name(g->d.action));
	(void)logline_kvs(b, "rule", g->no_policy ? "no policy" : g->rule);
	(void)logline_kvs(b, "form", j->form == BODY_ARGV ? "argv" : "script");
	if (user[0] != '\0')
		(void)logline_kvs(b, "user", user);
	if (g->outcome == GATE_RUN)
		(void)logline_kvu(b, "timeout", g->timeout_s);
	if (j->check)
		(void)logline_kvs(b, "check", "1");
	ev_end(d);
}

/*
 * A check request's answer (opts.h check=1), as its stdout: key=value
 * lines, decision= (allow, deny, ask), rule= (PATH:LINE, "none" or "no
 * policy"), then for allow and ask user= and timeout=, for deny and ask
 * reason=; its exit status 0, GATE_EXIT_DENY or GATE_EXIT_ASK.  Nothing
 * runs, and nothing is recorded in the replay store: a check that comes
 * again answers the same.
 */
static void
answer_check(struct daemon *d, struct job *j, const struct gate_verdict *g)
{
	struct buf text = BUF_INIT(GATE_RULE_MAX + REASON_MAX +
				   POLICY_USER_MAX + 128);
	int ask = g->outcome == GATE_ASK;
	const char *decision = g->outcome == GATE_RUN ? "allow"
			       : ask ? "ask" : "deny";
	struct result_meta m;
	int r;

	r = buf_printf(&text, "decision=%s\nrule=%s\n", decision,
		       g->no_policy ? "no policy" : g->rule);
	if (r == 0 && (g->outcome == GATE_RUN || ask))
		r = buf_printf(&text, "user=%s\ntimeout=%u\n", g->user,
			       g->timeout_s);
	if (r == 0 && g->outcome != GATE_RUN)
		r = buf_printf(&text, "reason=%s\n", g->reason);
	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	m.exit_code = g->outcome == GATE_RUN ? 0
		      : ask ? GATE_EXIT_ASK : GATE_EXIT_DENY;
	if (r == 0)
		park(d, j->vm, j->cid, j->claim, &m, buf_str(&text));
	else
		park_status(d, j->vm, j->cid, j->claim, RESULT_ERROR,
			    "dom0 could not write the policy's answer");
	buf_release(&text);
}

int
job_decide(struct daemon *d, struct job *j)
{
	struct gate_request q = {
		.vm = j->vm->name, .form = j->form,
		.argv = (const char *const *)j->argv.argv, .argc = j->argv.argc,
		.user = j->asked_user[0] != '\0' ? j->asked_user : NULL,
		.timeout_s = j->asked_timeout_s,
	};
	struct gate_verdict g;

	gate_decide(&d->policy, d->cfg->policy_dir, &q, &g);
	j->policy_gen = d->policy_generation;
	if (j->check) {
		/* a check is a signed question, not a refusal: one line
		 * whatever it answers, as a command that runs is, so an
		 * agent asking often is not paused */
		log_policy(d, j, &g);
		answer_check(d, j, &g);
		job_free(j);
		return JOB_GONE;
	}
	if (g.outcome == GATE_REFUSE) {
		/* refusals count against the VM's budget, as every one does */
		if (ev_rejected(d, j->vm))
			log_policy(d, j, &g);
		park_status(d, j->vm, j->cid, j->claim, RESULT_REJECTED,
			    g.reason);
		job_free(j);
		return JOB_GONE;
	}
	memcpy(j->run_as, g.user, sizeof(j->run_as));
	j->timeout_s = g.timeout_s;
	if (g.outcome == GATE_ASK)
		return ask_begin(d, j, &g);     /* its own POLICY line */
	if (!g.no_policy)
		log_policy(d, j, &g);
	return JOB_RUNS;
}

/* A job that does not run: the log says why (as `category`), the VM gets
 * `status` with `told` (or the same reason), and the job is freed. */
static void
job_refuse(struct daemon *d, struct job *j, const char *category,
	   const char *why, enum result_status status, const char *told)
{
	ev_simple(d, category, j->vm->name, j->cid, "reason", why);
	park_status(d, j->vm, j->cid, j->claim, status,
		    told != NULL ? told : why);
	job_free(j);
}

/*
 * The user j runs as, when not root: looked up now, right before it
 * would run, so a user removed meanwhile runs nothing.  0, or j was
 * refused (and freed).
 */
static int
job_user(struct daemon *d, struct job *j, struct run_user *u)
{
	char why[REASON_MAX];
	int r = run_user_lookup(j->run_as, u), e = errno;

	if (r == 0)
		return 0;
	if (r == QR_ERR_NOT_FOUND)
		snprintf(why, sizeof(why), "no user '%s' in dom0; nothing ran",
			 j->run_as);
	else
		snprintf(why, sizeof(why), "cannot look up the user '%s' in "
			 "dom0: %s; nothing ran", j->run_as,
			 r == QR_ERR_SYSTEM ? strerror(e) : qr_strerror(r));
	job_refuse(d, j, "REJECT", why, RESULT_REJECTED, NULL);
	return -1;
}

/*
 * A note as a command starts, when the client would not know it (issue
 * 17): its timeout is lower than the -t it asked for (dom0's cap or its
 * policy rule), or it waited for a free slot (QVM_REMOTE_MAX_PER_VM,
 * QVM_REMOTE_MAX_JOBS) for a second or more.  Nothing otherwise: a
 * command that starts at once costs no write into its VM.  Its result
 * says the same (run_finish): a fast command's note is gone before its
 * client reads it, and a command that was asked about gets no note.
 */
static void
tell_start(struct daemon *d, struct job *j, int64_t waited_ms)
{
	struct run *r = j->run;
	struct result_meta m;

	if (j->requested_s > j->timeout_s)
		snprintf(r->started, sizeof(r->started), "dom0 runs it with a "
			 "timeout of %u s, not the %u s asked (%s)",
			 j->timeout_s, j->requested_s,
			 j->timeout_s < j->asked_timeout_s
			 ? "its policy rule's timeout=" :
			 "QVM_REMOTE_TIMEOUT, dom0's longest");
	if (waited_ms >= START_WAIT_TOLD_MS)
		r->queued_ms = (uint64_t)waited_ms;
	/* no note for an original client, which reads none, nor in place
	 * of an approved one: a client that knows no started note would
	 * keep the asking one it had, and withdraw an approved command */
	if ((r->queued_ms == 0 && r->started[0] == '\0') || j->v1 ||
	    j->ask_id[0] != '\0')
		return;
	memset(&m, 0, sizeof(m));
	m.status = RESULT_STARTED;
	m.timeout_s = j->timeout_s;
	m.queued_ms = r->queued_ms;
	memcpy(m.started, r->started, sizeof(m.started));
	park_note_meta(d, j, &m);
}

void
job_start(struct daemon *d, struct job *j)
{
	struct vm *v = j->vm;
	struct run_env env;
	struct run_user user, *as = NULL;
	struct run_request q = {
		.vm = v->name, .cid = j->cid, .claim = j->claim,
		.body = j->body, .body_len = j->body_len,
		.argv = j->form == BODY_ARGV ? j->argv.argv : NULL,
		.in = j->has_in ? j->in : NULL, .in_len = j->in_len,
		.timeout_s = j->timeout_s, .max_output = d->cfg->max_output,
		.runtime_dir = d->cfg->runtime_dir,
		.state_dir = d->cfg->state_dir,
		.cgroup = &d->cgroup, .max_pids = d->cfg->max_pids,
		.max_memory = d->cfg->max_memory, .cut_in_err = j->v1,
	};
	struct job **g;
	int r;

	d->jobs_dirty = 1;      /* it leaves the queue, to run or not */
	/* keys: the key that verified it was revoked or replaced since (a
	 * replaced key may have leaked: what it signed must not run later) */
	if (v->removed || j->key_gen != v->key_gen) {
		job_refuse(d, j, "AUTH-DENY", v->removed
			   ? "this VM's key was revoked in dom0; nothing ran"
			   : "the key that signed this request was replaced in "
			     "dom0; nothing ran", RESULT_REJECTED, NULL);
		return;
	}
	if (strcmp(j->run_as, "root") != 0) {
		if (job_user(d, j, &user) != 0)
			return;
		as = &user;
		q.user = as;
	}
	/*
	 * Durable before it runs, and only now: a cid runs at most once,
	 * crash or not, and one that was accepted but never started is not
	 * in the store, so crash recovery puts it back in pending/ instead
	 * of answering "interrupted".  A second claim of the same cid that
	 * got this far (an earlier one started first) never runs.  A store
	 * that a failed write closed is reopened first: space freed is
	 * enough, no restart.
	 */
	if (v->replay.fd < 0)
		(void)replay_reopen(d, v);
	r = replay_record(&v->replay, j->cid, time(NULL));
	if (r == QR_ERR_EXISTS) {
		job_refuse(d, j, "AUTH-FAIL", "replayed request: this id already "
			   "ran", RESULT_REJECTED, NULL);
		goto out;
	}
	if (r != 0) {
		job_refuse(d, j, "ERROR", "cannot record the id in the replay "
			   "store", RESULT_REJECTED,
			   "dom0 cannot write its state directory (replay "
			   "store); nothing ran");
		goto out;
	}
	/* no run without its audit line, on disk: the id is spent, the
	 * command never runs */
	if (log_exec(d, v->name, j->cid, j->body, j->body_len, j->form,
		     j->run_as, "EXEC", NULL) != 0 ||
	    audit_sync(&d->audit) != 0) {
		job_refuse(d, j, "ERROR", "cannot write the audit log",
			   RESULT_REJECTED, "dom0 cannot write its audit log; "
			   "nothing ran");
		goto out;
	}
	run_env_init(&env, v->name, j->cid, as);
	q.envp = env.vec;
	q.cwd = env.storage[1] + strlen("HOME=");
	g = reallocarray(d->jobs, d->njobs + 1, sizeof(*g));
	if (g != NULL)
		d->jobs = g;
	/* the run's state (paths, the outbox entry) exists only while it runs:
	 * a burst of queued requests costs their bodies, not 20 KiB each */
	if (g == NULL || (j->run = calloc(1, sizeof(*j->run))) == NULL)
		r = QR_ERR_NOMEM;
	else
		r = run_start(j->run, &q, mono_ms());
	free(j->body);
	free(j->in);
	j->body = j->in = NULL;
	argvbody_release(&j->argv);
	if (r != 0) {
		char why[REASON_MAX];
		snprintf(why, sizeof(why), "cannot start the command: %s; "
			 "nothing ran",
			 r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
		job_refuse(d, j, "ERROR", why, RESULT_REJECTED, NULL);
		goto out;
	}
	j->started = 1;
	j->since = time(NULL);
	v->running++;
	d->jobs[d->njobs++] = j;
	tell_start(d, j, mono_ms() - j->queued_ms);
out:
	if (as != NULL)
		run_user_release(as);
}

void
job_finish(struct daemon *d, size_t idx)
{
	struct job *j = d->jobs[idx];
	struct vm *v = j->vm;
	struct deliver_item e;
	int64_t t = mono_ms();
	const char *cat;
	struct buf *b;

	d->jobs[idx] = d->jobs[--d->njobs];
	v->running--;
	d->jobs_dirty = 1;
	if (run_finish(j->run, j->cid, j->claim, t, &e) != 0) {
		ev_simple(d, "ERROR", v->name, j->cid, "reason",
			  "cannot store the result; the VM gets an error");
		park_status(d, v, j->cid, j->claim, RESULT_ERROR,
			    "dom0 could not store the result");
		job_free(j);
		return;
	}
	cat = e.status == RESULT_TIMEOUT ? "TIMEOUT"
	      : e.status == RESULT_INTERRUPTED ? "INTERRUPTED"
	      : e.exit_code == 0 ? "DONE" : "DONE-FAIL";
	b = ev_begin(d, cat, v->name, j->cid);
	(void)logline_kvu(b, "exit", (uint64_t)e.exit_code);
	(void)logline_kvu(b, "ms", (uint64_t)(t - j->run->started_ms));
	(void)logline_kvu(b, "out", j->run->bytes[0]);
	(void)logline_kvu(b, "err", j->run->bytes[1]);
	/* the VM stopped it: the last signal it took (INT, TERM, KILL) */
	if (j->run->cancelled)
		(void)logline_kvs(b, "cancelled",
				  j->run->cancelled == SIGINT ? "INT"
				  : j->run->cancelled == SIGTERM ? "TERM"
								 : "KILL");
	if (e.status == RESULT_INTERRUPTED)
		(void)logline_kvs(b, "reason", RUN_STOPPED_REASON);
	ev_end(d);
	for (int i = 0; i < 2; i++)
		if (j->run->bytes[i] > d->cfg->max_output) {
			b = ev_begin(d, "TRUNC", v->name, j->cid);
			(void)logline_kvs(b, "stream", i == 0 ? "out" : "err");
			(void)logline_kvu(b, "produced", j->run->bytes[i]);
			(void)logline_kvu(b, "kept", d->cfg->max_output);
			ev_end(d);
		}
	/* what the VM holds of its output already is not sent again */
	if (!j->live_off)
		memcpy(e.from, j->live_acked, sizeof(e.from));
	exchange_moved(v, &e);
	if (ready_push(v, &e) != 0)
		ev_simple(d, "ERROR", v->name, j->cid, "reason",
			  "out of memory; the result waits in the outbox");
	job_free(j);
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

void
job_queue(struct daemon *d, struct job *j)
{
	struct vm *v = j->vm;

	j->since = time(NULL);
	j->queued_ms = mono_ms();
	d->jobs_dirty = 1;
	if (v->queue_tail != NULL)
		v->queue_tail->next = j;
	else
		v->queue = j;
	v->queue_tail = j;
}

/* Whether a job of v not yet started holds cid. */
static int
cid_queued(const struct vm *v, const char *cid)
{
	for (const struct job *j = v->queue; j != NULL; j = j->next)
		if (strcmp(j->cid, cid) == 0)
			return 1;
	return asks_held(v, cid);
}

/* Takes v's queued job of cid out of the queue; NULL: none. */
static struct job *
queue_take(struct vm *v, const char *cid)
{
	struct job *prev = NULL;

	for (struct job *j = v->queue; j != NULL; prev = j, j = j->next) {
		if (strcmp(j->cid, cid) != 0)
			continue;
		if (prev != NULL)
			prev->next = j->next;
		else
			v->queue = j->next;
		if (v->queue_tail == j)
			v->queue_tail = prev;
		j->next = NULL;
		return j;
	}
	return NULL;
}

/* v's command of cid that dom0 runs now (started, not finished); NULL:
 * none.  Another VM's command of the same cid is never v's. */
static struct job *
job_running(const struct daemon *d, const struct vm *v, const char *cid)
{
	for (size_t i = 0; i < d->njobs; i++)
		if (d->jobs[i]->vm == v && strcmp(d->jobs[i]->cid, cid) == 0)
			return d->jobs[i];
	return NULL;
}

int
job_held(const struct daemon *d, const struct vm *v, const char *cid)
{
	return cid_queued(v, cid) || job_running(d, v, cid) != NULL;
}

int
job_stop(struct daemon *d, struct vm *v, const char *cid, const char *by)
{
	static const char why_vm[] = "withdrawn by the VM while it waited "
				     "for a slot; nothing ran";
	char why[REASON_MAX + 1];
	struct job *j;
	struct buf *b;
	int r;

	if (asks_withdraw(d, v, cid, by))
		return JOB_WITHDRAWN;
	if ((j = queue_take(v, cid)) != NULL) {
		d->jobs_dirty = 1;
		if (by != NULL) {
			snprintf(why, sizeof(why), "stopped in dom0 by %s; "
				 "nothing ran", by);
			b = ev_begin(d, "INFO", v->name, j->cid);
			(void)logline_kvs(b, "action", "stopped");
			(void)logline_kvs(b, "by", by);
			(void)logline_kvs(b, "via", "terminal");
			(void)logline_kvs(b, "reason", why);
			ev_end(d);
		} else {
			ev_simple(d, "INFO", v->name, j->cid, "action", why_vm);
		}
		park_status(d, v, j->cid, j->claim, RESULT_REJECTED,
			    by != NULL ? why : why_vm);
		job_free(j);
		return JOB_WITHDRAWN;
	}
	if ((j = job_running(d, v, cid)) == NULL)
		return JOB_NOT_HELD;
	/* the VM's cancel and a stop in dom0 stop it the same way */
	r = run_cancel(j->run, mono_ms());
	if (r == 0) {
		d->jobs_dirty = 1;
		b = ev_begin(d, "CANCEL", v->name, j->cid);
		if (by != NULL) {
			(void)logline_kvs(b, "by", by);
			(void)logline_kvs(b, "via", "terminal");
		}
		(void)logline_kvs(b, "signal", "INT");
		ev_end(d);
	}
	return r == 0 || r == QR_ERR_EXISTS ? JOB_STOPPING : JOB_NOT_HELD;
}

/*
 * A cancel (cancel=CID, docs/protocol.md 5b).  A request dom0 holds but
 * has not started, waiting for a person or for a slot, is withdrawn:
 * "withdrawn" (exit 0).  A command of the VM that runs now is stopped
 * (job_stop) with a CANCEL line: "stopping" (exit 0), also when it is
 * being stopped already.  Anything else, a command already finished
 * among them, is "not-held" (exit 1).  The cancel runs nothing and is
 * answered at once.
 */
static void
answer_cancel(struct daemon *d, struct vm *v, const struct fetch_request *q,
	      const char *target)
{
	int r = job_stop(d, v, target, NULL);
	struct result_meta m;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	m.exit_code = r != JOB_NOT_HELD ? 0 : 1;
	park(d, v, q->cid, q->claim, &m, r == JOB_WITHDRAWN ? "withdrawn\n"
					  : r == JOB_STOPPING ? "stopping\n"
							      : "not-held\n");
}

void
handle_request(struct daemon *d, struct vm *v, const struct fetch_request *q)
{
	struct request_policy pol = {
		/* revoked by a reload: a fetch still in flight brings no run */
		.key = v->removed ? NULL : &v->key, .legacy_ok = v->legacy,
		.now = time(NULL),
		.max_age_s = d->cfg->max_age_s,
		.timeout_default_s = d->cfg->timeout_s,
		.timeout_cap_s = d->cfg->timeout_s, .replay = &v->replay,
	};
	struct request_verdict verdict;
	struct job *j;
	struct buf *b;

	request_check(q, &pol, &verdict);
	/* keys: say why there is no key */
	if (v->removed && !verdict.accept &&
	    strcmp(verdict.category, "AUTH-DENY") == 0)
		verdict.reason = "this VM's key was revoked in dom0";
	/* the store learns a cid only when its command starts: until then a
	 * second claim of it (re-planted, or twice in one reply) is caught
	 * here */
	if (verdict.accept && cid_queued(v, q->cid)) {
		verdict.accept = 0;
		verdict.category = "AUTH-FAIL";
		verdict.reason = "replayed request: this id is already queued";
	}
	if (verdict.accept || ev_rejected(d, v)) {
		b = ev_begin(d, verdict.category, v->name, q->cid);
		(void)logline_kvs(b, "reason", verdict.reason);
		ev_end(d);
	}
	if (d->opts->dry_run) {
		log_dry(d, v, q, &verdict);
		return;
	}
	if (!verdict.accept) {
		park_status(d, v, q->cid, q->claim, RESULT_REJECTED,
			    verdict.reason);
		return;
	}
	if (verdict.cancel[0] != '\0') {
		answer_cancel(d, v, q, verdict.cancel);
		return;
	}
	/* recorded in the replay store when it starts (job_start) */
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		goto nomem;
	j->vm = v;
	j->key_gen = v->key_gen;    /* keys: the key that verified it */
	memcpy(j->cid, q->cid, sizeof(j->cid));
	memcpy(j->claim, q->claim, sizeof(j->claim));
	j->asked_timeout_s = verdict.timeout_s;
	j->requested_s = verdict.requested_s;
	j->form = verdict.form;
	memcpy(j->asked_user, verdict.user, sizeof(j->asked_user));
	j->check = verdict.check;
	j->v1 = verdict.token == TOKEN_V1;
	/* an original client reads no live files: its result comes whole,
	 * and running/ holds no more of it than the claim marker */
	j->live_off = j->v1;
	j->body_len = q->part[PART_BODY].len;
	j->body = dup_bytes(q->part[PART_BODY].p, j->body_len);
	j->has_in = q->part[PART_IN].present;
	j->in_len = q->part[PART_IN].len;
	j->in = dup_bytes(q->part[PART_IN].p, j->in_len);
	/* the body rule passed it (request_check): only memory can fail */
	if (j->body == NULL || j->in == NULL ||
	    (j->form == BODY_ARGV &&
	     argvbody_decode(j->body, j->body_len, &j->argv) != 0)) {
		job_free(j);
		goto nomem;
	}
	jobs_preview(j);
	/* the policy decides after every check and before the EXEC line */
	if (job_decide(d, j) == JOB_RUNS)
		job_queue(d, j);
	return;
nomem:
	park_status(d, v, q->cid, q->claim, RESULT_ERROR,
		    "dom0 is out of memory; nothing ran");
}

static int
same_claim(const char *cid, const char *claim, const char *c2,
	   const char *k2)
{
	return strcmp(cid, c2) == 0 && strcmp(claim, k2) == 0;
}

/* A claim counts as worked on from the moment its fetch reply is read
 * until its result was delivered. */
static int
claim_in_flight(const struct daemon *d, const struct vm *v,
		const struct held_claim *h)
{
	for (const struct job *j = v->queue; j != NULL; j = j->next)
		if (same_claim(h->cid, h->claim, j->cid, j->claim))
			return 1;
	for (size_t i = 0; i < d->njobs; i++)
		if (d->jobs[i]->vm == v &&
		    same_claim(h->cid, h->claim, d->jobs[i]->cid,
			       d->jobs[i]->claim))
			return 1;
	/* a note is no result: its claim is worked on only while it waits
	 * or runs */
	for (size_t i = 0; i < v->nready; i++)
		if (!v->ready[i].note &&
		    same_claim(h->cid, h->claim, v->ready[i].cid,
			       v->ready[i].claim))
			return 1;
	if (asks_holds(v, h->cid, h->claim))
		return 1;
	/* being delivered, or delivered while this fetch was out: done,
	 * not stranded */
	return exchange_holds(v, h);
}

/*
 * Crash recovery (design.md section 6) for claims in running/ that nobody
 * works on: a fetch whose reply was lost, or a daemon that died.  A cid the
 * replay store holds, or may have forgotten (replay_lookup), may have run:
 * it gets "interrupted" and never runs again.  Any other cid never
 * started: it goes back to pending/ (and is judged afresh when fetched).
 */
void
recover_held(struct daemon *d, struct vm *v, const struct fetch_reply *r)
{
	for (size_t i = 0; i < r->nheld; i++) {
		const struct held_claim *h = &r->held[i];
		int ran;
		struct buf *b;

		if (claim_in_flight(d, v, h))
			continue;
		/* the store's rule, the one request_check applies too */
		ran = replay_lookup(&v->replay, h->cid) != REPLAY_NEW;
		if (ev_rejected(d, v)) {
			b = ev_begin(d, "RECOVER", v->name, h->cid);
			(void)logline_kvs(b, "claim", h->claim);
			(void)logline_kvs(b, "action",
					  ran ? "interrupted" : "released");
			ev_end(d);
		}
		if (ran)
			park_status(d, v, h->cid, h->claim, RESULT_INTERRUPTED,
				    "dom0 stopped while the command ran; it may "
				    "have run and will not run again");
		else if (v->nrelease < FETCH_HELD_MAX)
			v->release[v->nrelease++] = *h;
	}
	/* the next fetch starts after those markers were removed */
	exchange_forget_gone(v);
}
