/*
 * daemon.h - the state of the running daemon, shared by the files that
 * make up its event loop (private to daemon/serve*.c and friends):
 *   serve.c     the poll loop, signals, scheduling, start and stop
 *   vmset.c     which VMs are polled: keys, reloads, reachability
 *   exchange.c  each VM's exchange: one state machine, its transport calls
 *   jobs.c      one request's life: verdict, policy, run, result, recovery
 *   policyset.c the policy in force: loads, reloads, queued jobs rechecked
 *   events.c    audit lines
 * One thread owns all of it; nothing here is locked.
 */
#ifndef QVMR_DAEMON_H
#define QVMR_DAEMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "audit.h"
#include "budget.h"
#include "buf.h"
#include "call.h"
#include "cgroup.h"
#include "config.h"
#include "dirwatch.h"
#include "exchange.h"
#include "frame.h"
#include "gate.h"
#include "jobsfile.h"
#include "argvbody.h"
#include "askfile.h"
#include "bodyrule.h"
#include "key.h"
#include "pace.h"
#include "policy.h"
#include "keystore.h"
#include "program.h"
#include "replay.h"
#include "runner.h"
#include "serve.h"
#include "transport.h"

struct vm;

struct job {
	struct job *next;
	struct vm *vm;
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	unsigned timeout_s;         /* the policy's (gate.h) */
	unsigned asked_timeout_s;   /* the request's, capped by dom0's */
	unsigned requested_s;       /* the request's own (-t), 0: none */
	int64_t queued_ms;          /* mono_ms: when it began to wait for a
				     * slot (job_queue) */
	uint8_t *body, *in;         /* owned until started */
	size_t body_len, in_len;
	int has_in, started;
	uint64_t key_gen;           /* v->key_gen that verified it (keys) */
	/* issue 15: what it is, what it asked for, what the policy gave */
	enum body_form form;
	struct argvbody argv;       /* BODY_ARGV: owned until started */
	char asked_user[POLICY_USER_MAX + 1];   /* "": none */
	char run_as[POLICY_USER_MAX + 1];       /* "root": the service's */
	int check;                  /* check=1: decided, answered, never run */
	int v1;                     /* a v1 token: an original client's */
	uint64_t policy_gen;        /* d->policy_generation that decided it */
	/* asks.c: waiting for a person; ask_id "" until it first waits */
	char ask_id[ASK_ID_LEN + 1];
	char ask_rule[ASK_RULE_MAX];     /* the rule, for the log and asks/ */
	char ask_told[GATE_RULE_MAX];    /* the same, for reasons (gate.h) */
	int64_t ask_until_ms;       /* mono_ms: no answer by then is a deny */
	time_t ask_expires;         /* the same, UTC, for the files */
	int prompted;               /* a desktop prompt was started for it */
	struct run *run;            /* from job_start() on */
	/* issue 16: live output, what the VM acknowledged of out and err,
	 * and whether it is sent at all (off: the VM answered a part with
	 * fail or gone; its result then comes whole) */
	uint64_t live_acked[2];
	int live_off;
	/* ps (jobstate.c): what the jobs file shows of it, kept from the
	 * body, which goes when it starts, and since when it is in its
	 * state (queued, asking, running), UTC */
	char shown[JOBS_CMD_MAX + 1];
	size_t shown_len;
	int shown_cut;
	time_t since;
};

#define ASK_MAX_PER_VM 8u       /* requests of a VM that wait for a person */

#define READY_MAX (4 * FETCH_REQ_MAX)   /* undelivered results per VM */

struct vm {
	struct vm *next;
	char name[VMNAME_MAX + 1];
	struct key key;
	int legacy, removed;
	/* keys: one more each time its key changes or goes; a queued job
	 * verified under another value never starts (job_start) */
	uint64_t key_gen;
	struct replay replay;
	int up;
	struct exchange x;              /* its calls (exchange.h) */
	struct job *queue, *queue_tail; /* accepted, waiting for a slot */
	struct job *asking;             /* waiting for a person (asks.c) */
	unsigned nasking;
	struct held_claim release[FETCH_HELD_MAX];  /* for the next fetch */
	size_t nrelease;
	unsigned running;
	struct deliver_item *ready;     /* in the outbox, not yet delivered */
	size_t nready, capready;
	struct budget rejects;          /* rejected work this minute */
};

struct daemon {
	struct config *cfg;
	const struct serve_opts *opts;
	struct transport transport;
	struct cgroup_base cgroup;
	struct audit audit;
	struct vm *vms;
	struct job **jobs;              /* started, not finished */
	size_t njobs;
	unsigned fetch_counter;
	struct pace pace;               /* transport calls started */
	char boot_tag[9];
	int inotify_fd;
	/* keys: the qrexec directory's watch on inotify_fd (-1: none) and
	 * whether it saw a change since the VMs were last looked at, the keys
	 * directory's (dirwatch.h), the loads so far, and the daemon's lock
	 * (liveness.h) */
	int qrexec_wd;
	int up_dirty;
	int64_t up_checked_ms;
	struct dirwatch keys_watch;
	uint64_t keys_generation;
	/* issue 15: the policy in force (empty: none), its directory's watch
	 * and its successful loads so far */
	struct policy policy;
	struct dirwatch policy_watch;
	uint64_t policy_generation;
	/* issue 15: what waits for a person (asks.c): the runtime
	 * directory's asks/ and answers/, the notes' outbox base, the watch
	 * on answers/, and the one desktop prompt */
	char asks_dir[PATH_MAX], answers_dir[PATH_MAX], notes_base[PATH_MAX];
	struct dirwatch answers_watch;
	char self_path[PATH_MAX];
	pid_t prompt_pid;               /* 0: none runs */
	const struct job *prompt_job;   /* its request, NULL once it ended */
	int prompt_unseen;              /* "no desktop" was logged */
	/* ps and stop (jobstate.c): the jobs file is due to be written (what
	 * runs or waits changed this turn), and stops/ with its watch */
	int jobs_dirty;
	char stops_dir[PATH_MAX];
	struct dirwatch stops_watch;
	int lock_fd;
	int stopping;
	int64_t stop_deadline_ms;
	struct buf line;
};

/* events.c: "[time] CATEGORY vm=.. id=.." then logline_kv* then ev_end,
 * which writes the line: 0, or audit_write()'s error (also said on
 * stderr, for the journal).  Most lines are best effort; the EXEC line is
 * not (jobs.c). */
struct buf *ev_begin(struct daemon *d, const char *category, const char *vm,
		     const char *cid);
int ev_end(struct daemon *d);
void ev_simple(struct daemon *d, const char *category, const char *vm,
	       const char *cid, const char *key, const char *value);
/* A request v sent that dom0 refuses, or a claim of v's it recovers, is a
 * unit of v's budget (budget.h): 1 when it gets its own log line, 0 when
 * it is over the budget and only counted. */
int ev_rejected(struct daemon *d, struct vm *v);
/* Writes the aggregate line of v's window when it ended over budget. */
void ev_rejects_flush(struct daemon *d, struct vm *v, int64_t now_ms);

/* vmset.c */
struct vm *vm_find(struct daemon *d, const char *name);
int ready_push(struct vm *v, const struct deliver_item *e);
void ready_drop(struct vm *v, const struct deliver_item *e);
/* Loads the keys (not the config): the VMs polled follow the key files,
 * queued jobs whose key changed or went are refused at once, and
 * runtime_dir/keys (keystate.h) tells the admin verbs. */
int vms_load(struct daemon *d);
/* Reopens v's replay store (after a failed write closed it). */
int replay_reopen(struct daemon *d, struct vm *v);
/* Which VMs' qrexec is up: stats each VM's socket when the qrexec
 * directory's watch saw a change (up_dirty), at least once a minute, and
 * on every call without a watch. */
void refresh_up(struct daemon *d, int64_t now_ms);
int vm_idle(const struct vm *v);

/* jobs.c */
void park_status(struct daemon *d, struct vm *v, const char *cid,
		 const char *claim, enum result_status st, const char *reason);
void job_free(struct job *j);
void job_start(struct daemon *d, struct job *j);
void job_finish(struct daemon *d, size_t idx);
void handle_request(struct daemon *d, struct vm *v,
		    const struct fetch_request *q);
/* A result that is not a command's own: a note (asking, approved) for
 * j's client, best effort, with left_s the seconds it still waits
 * (result.h timeout_s; 0: none). */
void park_note(struct daemon *d, const struct job *j, enum result_status st,
	       const char *reason, unsigned left_s);
/* The same for a note's whole meta; it replaces one of j's still unsent. */
void park_note_meta(struct daemon *d, const struct job *j,
		    const struct result_meta *m);
/* A started note tells a wait for a slot this long or longer. */
#define START_WAIT_TOLD_MS 1000

/* job_stop's outcomes */
enum { JOB_NOT_HELD, JOB_WITHDRAWN, JOB_STOPPING };
/*
 * Stops what v holds of cid, for the VM's own cancel (by NULL) or a stop
 * in dom0 by the person `by` (stops/, jobstate.c).  Held, not started
 * (queued, or waiting for a person): refused, JOB_WITHDRAWN.  Running:
 * run_cancel (SIGINT, TERM, KILL) with a CANCEL line, JOB_STOPPING, also
 * when it is being stopped already.  Else JOB_NOT_HELD.
 */
int job_stop(struct daemon *d, struct vm *v, const char *cid, const char *by);
/* Whether v holds cid: queued, waiting for a person, or running. */
int job_held(const struct daemon *d, const struct vm *v, const char *cid);

/* jobstate.c: the jobs file and stops/ (docs/protocol.md 9a) */
/* Fills j->shown from its body: a vector's words, a script's first line. */
void jobs_preview(struct job *j);
/* Writes runtime_dir/jobs when jobs_dirty; best effort. */
void jobs_publish(struct daemon *d);
/* Removes runtime_dir/jobs: the daemon ends (it holds the lock). */
void jobs_unpublish(struct daemon *d);
/* Creates and empties runtime_dir/stops (0700); its watch is added later. */
int stops_open(struct daemon *d);
/* Takes the stops in stops/ (its watch said so). */
void stops_take(struct daemon *d);

/* Queues j (allowed, in no list) behind v's others, to wait for a slot. */
void job_queue(struct daemon *d, struct job *j);

/* job_decide's and ask_begin's outcomes */
enum { JOB_RUNS, JOB_ASKS, JOB_GONE };
/*
 * Decides j (not started, in no list) under the policy in force, with a
 * POLICY line when there is a policy: JOB_RUNS (run_as, timeout_s set;
 * the caller queues it), JOB_ASKS (it waits for a person, asks.c holds
 * it), or JOB_GONE (refused, its VM told, j freed).
 */
int job_decide(struct daemon *d, struct job *j);

/* asks.c: requests that wait for a person (docs/protocol.md 5b) */
/* Creates and empties the runtime directory's asks/ and answers/. */
int asks_open(struct daemon *d);
/* j (in no list) waits, or waits on under g's rule: JOB_ASKS, or
 * JOB_GONE when the VM has too many waiting (refused, freed). */
int ask_begin(struct daemon *d, struct job *j, const struct gate_verdict *g);
/* Takes the answers in answers/ (its watch said so). */
void asks_answers(struct daemon *d);
/* Denies what waited too long; starts the next prompt. */
void asks_time(struct daemon *d, int64_t t);
int64_t asks_wake(const struct daemon *d, int64_t w);
/* 1 when pid was the prompt's (reaped). */
int asks_reaped(struct daemon *d, pid_t pid, int status);
/* After a policy reload: decides again what waits. */
void asks_recheck(struct daemon *d);
/* After a key change: refuses what v's current key did not verify. */
void asks_refuse_stale(struct daemon *d, struct vm *v);
/* Stopping: what waits is dropped; its claim is put back next start. */
void asks_leave(struct daemon *d, struct vm *v);
int asks_holds(const struct vm *v, const char *cid, const char *claim);
int asks_held(const struct vm *v, const char *cid);
/* A cancel from v (by NULL), or a stop in dom0 by `by`: 1 when cid
 * waited and was refused, as withdrawn or stopped. */
int asks_withdraw(struct daemon *d, struct vm *v, const char *cid,
		  const char *by);

/* policyset.c */
/*
 * Loads the policy from QVM_REMOTE_POLICY_DIR.  At the start (d->policy
 * empty, nothing loaded yet) an error is said on stderr and in the log and
 * returned: the service does not start.  Later an error keeps the policy
 * in force (an ERROR line names FILE:LINE), and a success (an INFO line)
 * decides again every queued job, refusing those it no longer allows.
 */
int policy_load(struct daemon *d);
void recover_held(struct daemon *d, struct vm *v,
		  const struct fetch_reply *r);

#endif
