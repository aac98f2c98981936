/*
 * serve.c - the event loop: per VM, fetch -> verify -> run -> deliver.
 *
 * Everything waits in one poll(): the self-pipe that signal handlers write
 * to, an inotify watch on the qrexec socket directory (so a VM that starts
 * is noticed at once without a transport call), the pipes of transport
 * calls and of running commands.  Every wait has a monotonic deadline.
 * A VM's bad reply or failing transport ends that VM's exchange only.
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "audit.h"
#include "call.h"
#include "cgroup.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "keystore.h"
#include "logline.h"
#include "outbox.h"
#include "program.h"
#include "replay.h"
#include "request.h"
#include "runner.h"
#include "transport.h"
#include "vmname.h"
#include "banned.h"

#define TICK_MS 1000                /* stat VMs at least this often */
#define FETCH_GRACE_S 30            /* a fetch may take this beyond its wait */
#define DELIVER_TIMEOUT_S 120
#define BACKOFF_MAX_MS 30000
#define FETCH_BUDGET (4u << 20)     /* stop claiming past this many bytes */
#define PREVIEW_MAX 100

struct vm;

struct job {
	struct job *next;
	struct vm *vm;
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	unsigned timeout_s;
	uint8_t *body, *in;         /* owned until started */
	size_t body_len, in_len;
	int has_in, started;
	struct run run;
};

struct vm {
	struct vm *next;
	char name[VMNAME_MAX + 1];
	struct key key;
	int legacy, removed;
	struct replay replay;
	int up;
	struct call *fetch, *deliver;
	struct deliver_item *sending;   /* the items of the deliver in flight */
	size_t nsending;
	struct deliver_src *source;     /* and the program it is streaming */
	int64_t next_fetch_ms, next_deliver_ms;
	struct job *queue, *queue_tail; /* accepted, waiting for a slot */
	struct held_claim release[FETCH_HELD_MAX];  /* for the next fetch */
	size_t nrelease;
	unsigned running;
	struct deliver_item *ready;     /* in the outbox, not yet delivered */
	size_t nready, capready;
	unsigned failures;
	int fetched;                    /* --once: the one fetch is done */
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
	char boot_tag[9];
	int inotify_fd;
	int stopping;
	int64_t stop_deadline_ms;
	struct buf line;
};

static int signal_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(signal_pipe[1], &b, 1);
	errno = saved;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- audit lines ------------------------------------------------------ */

static struct buf *
ev_begin(struct daemon *d, const char *category, const char *vm,
	 const char *cid)
{
	buf_reset(&d->line);
	(void)logline_begin(&d->line, time(NULL), category);
	if (vm != NULL)
		(void)logline_kvs(&d->line, "vm", vm);
	if (cid != NULL)
		(void)logline_kvs(&d->line, "id", cid);
	return &d->line;
}

static void
ev_end(struct daemon *d)
{
	if (audit_write(&d->audit, &d->line) != 0)
		fprintf(stderr, "qvm-remote-dom0: cannot write the audit log: %s\n",
			strerror(errno));
}

static void
ev_simple(struct daemon *d, const char *category, const char *vm,
	  const char *cid, const char *key, const char *value)
{
	struct buf *b = ev_begin(d, category, vm, cid);

	if (key != NULL)
		(void)logline_kvs(b, key, value);
	ev_end(d);
}

/* ---- the VM table ------------------------------------------------------ */

static struct vm *
vm_find(struct daemon *d, const char *name)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static int
ready_push(struct vm *v, const struct deliver_item *e)
{
	if (v->nready == v->capready) {
		size_t cap = v->capready ? v->capready * 2 : 8;
		struct deliver_item *g = reallocarray(v->ready, cap, sizeof(*g));
		if (g == NULL)
			return QR_ERR_NOMEM;
		v->ready = g;
		v->capready = cap;
	}
	v->ready[v->nready++] = *e;
	return 0;
}

static void
ready_drop(struct vm *v, const char *cid)
{
	for (size_t i = 0; i < v->nready; i++)
		if (strcmp(v->ready[i].cid, cid) == 0) {
			memmove(&v->ready[i], &v->ready[i + 1],
				(v->nready - i - 1) * sizeof(*v->ready));
			v->nready--;
			return;
		}
}

static struct vm *
vm_add(struct daemon *d, const char *name, const struct key *k)
{
	struct vm *v = calloc(1, sizeof(*v));
	struct deliver_item *parked = NULL;
	size_t nparked = 0;

	if (v == NULL)
		return NULL;
	memcpy(v->name, name, strnlen(name, VMNAME_MAX));
	v->key = *k;
	v->legacy = name_list_has(&d->cfg->legacy, name);
	if (replay_open(&v->replay, d->cfg->state_dir, name, time(NULL),
			d->cfg->max_age_s + FUTURE_SLACK_S) != 0) {
		ev_simple(d, "ERROR", name, NULL, "reason",
			  "cannot open the replay store; VM not polled");
		free(v);
		return NULL;
	}
	/* results parked by an earlier run go out first */
	if (outbox_scan(d->cfg->state_dir, name, &parked, &nparked) == 0) {
		for (size_t i = 0; i < nparked; i++)
			(void)ready_push(v, &parked[i]);
		free(parked);
	}
	v->next = d->vms;
	d->vms = v;
	return v;
}

/* Loads the keys of the VMs to poll: keyed VMs, narrowed by the config's
 * list and by --vm.  Existing entries are updated in place. */
static int
vms_load(struct daemon *d)
{
	struct name_list keyed;
	char msg[512];
	int r;

	if ((r = keystore_check_dir(d->cfg->keys_dir, msg, sizeof(msg))) != 0) {
		fprintf(stderr, "qvm-remote-dom0: %s\n", msg);
		return r;
	}
	if ((r = keystore_list(d->cfg->keys_dir, &keyed)) != 0)
		return r;
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		v->removed = 1;
	for (size_t i = 0; i < d->cfg->vms.n; i++)
		if (!name_list_has(&keyed, d->cfg->vms.name[i]))
			ev_simple(d, "INFO", d->cfg->vms.name[i], NULL, "reason",
				  "listed in QVM_REMOTE_VMS but has no key; "
				  "not polled");
	for (size_t i = 0; i < keyed.n; i++) {
		const char *name = keyed.name[i];
		struct key k;
		struct vm *v;

		if (d->cfg->vms_set && !name_list_has(&d->cfg->vms, name))
			continue;
		if (d->opts->only_vm != NULL && strcmp(d->opts->only_vm, name))
			continue;
		if ((r = keystore_load(d->cfg->keys_dir, name, &k)) != 0) {
			ev_simple(d, "ERROR", name, NULL, "reason",
				  qr_strerror(r));
			continue;
		}
		if ((v = vm_find(d, name)) != NULL) {
			v->key = k;
			v->removed = 0;
			v->legacy = name_list_has(&d->cfg->legacy, name);
		} else if (vm_add(d, name, &k) != NULL) {
			ev_simple(d, "INFO", name, NULL, "action", "polling");
		}
		key_wipe(&k);
	}
	return 0;
}

/* ---- results ----------------------------------------------------------- */

/* Parks a result that is not a command's own (rejected, error). */
static void
park_status(struct daemon *d, struct vm *v, const char *cid,
	    const char *claim, enum result_status st, const char *reason)
{
	struct outbox_writer w;
	struct result_meta m;
	struct deliver_item e;
	char text[REASON_MAX + 32];
	int n;

	memset(&m, 0, sizeof(m));
	m.status = st;
	m.exit_code = st == RESULT_REJECTED ? EXIT_REJECTED
		      : st == RESULT_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_ERROR;
	n = snprintf(m.reason, sizeof(m.reason), "%s", reason);
	(void)n;
	if (outbox_begin(d->cfg->state_dir, v->name, cid, claim, &w) != 0)
		goto fail;
	/* old clients only print .err, so the reason goes there too */
	n = snprintf(text, sizeof(text), "qvm-remote-dom0: %s: %s\n",
		     result_status_name(st), reason);
	if (n > 0 && write_all(w.err_fd, text, (size_t)n) != 0) {
		outbox_abort(&w);
		goto fail;
	}
	if (outbox_commit(&w, cid, claim, &m, &e) != 0 || ready_push(v, &e))
		goto fail;
	return;
fail:
	ev_simple(d, "ERROR", v->name, cid, "reason",
		  "cannot store a result in the state directory");
}

static void
job_free(struct job *j)
{
	free(j->body);
	free(j->in);
	free(j);
}

static void
job_start(struct daemon *d, struct job *j)
{
	struct vm *v = j->vm;
	struct run_env env;
	struct run_request q = {
		.vm = v->name, .cid = j->cid, .claim = j->claim,
		.body = j->body, .body_len = j->body_len,
		.in = j->has_in ? j->in : NULL, .in_len = j->in_len,
		.timeout_s = j->timeout_s, .max_output = d->cfg->max_output,
		.runtime_dir = d->cfg->runtime_dir,
		.state_dir = d->cfg->state_dir,
		.cgroup = &d->cgroup, .max_pids = d->cfg->max_pids,
		.max_memory = d->cfg->max_memory,
	};
	struct job **g;
	int r;

	run_env_init(&env, v->name, j->cid);
	q.envp = env.vec;
	q.cwd = env.storage[1] + strlen("HOME=");
	g = reallocarray(d->jobs, d->njobs + 1, sizeof(*g));
	if (g == NULL) {
		r = QR_ERR_NOMEM;
	} else {
		d->jobs = g;
		r = run_start(&j->run, &q, now_ms());
	}
	free(j->body);
	free(j->in);
	j->body = j->in = NULL;
	if (r != 0) {
		char why[REASON_MAX];
		snprintf(why, sizeof(why), "cannot start the command: %s",
			 r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
		ev_simple(d, "ERROR", v->name, j->cid, "reason", why);
		park_status(d, v, j->cid, j->claim, RESULT_ERROR, why);
		job_free(j);
		return;
	}
	j->started = 1;
	v->running++;
	d->jobs[d->njobs++] = j;
}

static void
job_finish(struct daemon *d, size_t idx)
{
	struct job *j = d->jobs[idx];
	struct vm *v = j->vm;
	struct deliver_item e;
	int64_t t = now_ms();
	const char *cat;
	struct buf *b;

	d->jobs[idx] = d->jobs[--d->njobs];
	v->running--;
	if (run_finish(&j->run, j->cid, j->claim, t, &e) != 0) {
		ev_simple(d, "ERROR", v->name, j->cid, "reason",
			  "cannot store the result; the VM gets an error");
		park_status(d, v, j->cid, j->claim, RESULT_ERROR,
			    "dom0 could not store the result");
		job_free(j);
		return;
	}
	cat = e.status == RESULT_TIMEOUT ? "TIMEOUT"
	      : e.exit_code == 0 ? "DONE" : "DONE-FAIL";
	b = ev_begin(d, cat, v->name, j->cid);
	(void)logline_kvu(b, "exit", (uint64_t)e.exit_code);
	(void)logline_kvu(b, "ms", (uint64_t)(t - j->run.started_ms));
	(void)logline_kvu(b, "out", j->run.bytes[0]);
	(void)logline_kvu(b, "err", j->run.bytes[1]);
	ev_end(d);
	for (int i = 0; i < 2; i++)
		if (j->run.bytes[i] > d->cfg->max_output) {
			b = ev_begin(d, "TRUNC", v->name, j->cid);
			(void)logline_kvs(b, "stream", i == 0 ? "out" : "err");
			(void)logline_kvu(b, "produced", j->run.bytes[i]);
			(void)logline_kvu(b, "kept", d->cfg->max_output);
			ev_end(d);
		}
	if (ready_push(v, &e) != 0)
		ev_simple(d, "ERROR", v->name, j->cid, "reason",
			  "out of memory; the result waits in the outbox");
	job_free(j);
}

/* ---- requests ---------------------------------------------------------- */

static void
log_exec(struct daemon *d, struct vm *v, const struct fetch_request *q,
	 const char *category)
{
	const struct frame_part *body = &q->part[PART_BODY];
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	struct buf *b;

	SHA256(body->p, body->len, md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	b = ev_begin(d, category, v->name, q->cid);
	(void)logline_kvs(b, "sha256", hex);
	(void)logline_kvu(b, "bytes", body->len);
	(void)logline_kv(b, "cmd", body->p, body->len, PREVIEW_MAX);
	ev_end(d);
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c != NULL && n > 0)
		memcpy(c, p, n);
	return c;
}

static void
handle_request(struct daemon *d, struct vm *v, const struct fetch_request *q)
{
	struct request_policy pol = {
		.key = &v->key, .legacy_ok = v->legacy, .now = time(NULL),
		.max_age_s = d->cfg->max_age_s,
		.timeout_default_s = d->cfg->timeout_s,
		.timeout_cap_s = d->cfg->timeout_s, .replay = &v->replay,
	};
	struct request_verdict verdict;
	struct job *j;
	struct buf *b;

	request_check(q, &pol, &verdict);
	b = ev_begin(d, verdict.category, v->name, q->cid);
	(void)logline_kvs(b, "reason", verdict.reason);
	ev_end(d);
	if (d->opts->dry_run) {
		log_exec(d, v, q, "DRY");
		return;
	}
	if (!verdict.accept) {
		park_status(d, v, q->cid, q->claim, RESULT_REJECTED,
			    verdict.reason);
		return;
	}
	/* durable before it runs: a cid runs at most once, crash or not */
	if (replay_record(&v->replay, q->cid, time(NULL)) != 0) {
		ev_simple(d, "ERROR", v->name, q->cid, "reason",
			  "cannot record the id in the replay store");
		park_status(d, v, q->cid, q->claim, RESULT_ERROR,
			    "dom0 could not record the request; nothing ran");
		return;
	}
	log_exec(d, v, q, "EXEC");
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		goto nomem;
	j->vm = v;
	memcpy(j->cid, q->cid, sizeof(j->cid));
	memcpy(j->claim, q->claim, sizeof(j->claim));
	j->timeout_s = verdict.timeout_s;
	j->body_len = q->part[PART_BODY].len;
	j->body = dup_bytes(q->part[PART_BODY].p, j->body_len);
	j->has_in = q->part[PART_IN].present;
	j->in_len = q->part[PART_IN].len;
	j->in = dup_bytes(q->part[PART_IN].p, j->in_len);
	if (j->body == NULL || j->in == NULL) {
		job_free(j);
		goto nomem;
	}
	if (v->queue_tail != NULL)
		v->queue_tail->next = j;
	else
		v->queue = j;
	v->queue_tail = j;
	return;
nomem:
	park_status(d, v, q->cid, q->claim, RESULT_ERROR,
		    "dom0 is out of memory; nothing ran");
}

/* ---- calls -------------------------------------------------------------- */

static void
vm_failed(struct daemon *d, struct vm *v, const char *what,
	  const struct call *c)
{
	int64_t backoff = 1000;

	if (d->stopping)
		return;     /* we ended the call ourselves */
	if (v->failures++ == 0) {
		struct buf *b = ev_begin(d, "ERROR", v->name, NULL);
		(void)logline_kvs(b, "reason", what);
		if (c->status >= 0)
			(void)logline_kvu(b, "status", (uint64_t)c->status);
		else
			(void)logline_kvs(b, "status", "killed");
		ev_end(d);
	}
	for (unsigned i = 1; i < v->failures && backoff < BACKOFF_MAX_MS; i++)
		backoff *= 2;
	if (backoff > BACKOFF_MAX_MS)
		backoff = BACKOFF_MAX_MS;
	v->next_fetch_ms = v->next_deliver_ms = now_ms() + backoff;
}

static void
vm_recovered(struct daemon *d, struct vm *v)
{
	if (v->failures > 0)
		ev_simple(d, "INFO", v->name, NULL, "action", "reachable again");
	v->failures = 0;
}

static void
start_fetch(struct daemon *d, struct vm *v)
{
	struct buf prog = BUF_INIT(64u << 10);
	char prefix[CLAIM_MAX + 1];
	struct fetch_params p = {
		/* the first fetch of a VM answers at once: its held lines
		 * drive crash recovery, which should not wait for traffic */
		.wait_s = d->cfg->poll == POLL_WATCH && !d->opts->once &&
				  !d->opts->dry_run && v->fetched &&
				  v->nrelease == 0
			  ? d->cfg->watch_wait_s : 0,
		.claim_prefix = prefix,
		.max_requests = FETCH_REQ_MAX,
		.max_bytes = FETCH_BUDGET,
		.peek = d->opts->dry_run,
		.release = v->release, .nrelease = v->nrelease,
	};
	int64_t t = now_ms();
	struct call *c;

	snprintf(prefix, sizeof(prefix), "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	/* a failed fetch loses the list: the next one's held lines rebuild it */
	v->nrelease = 0;
	if (program_fetch(&prog, &p) != 0 ||
	    call_start(c, &d->transport, v->name, &prog, NULL,
		       FETCH_REPLY_MAX, t,
		       t + ((int64_t)p.wait_s + FETCH_GRACE_S) * 1000) != 0) {
		free(c);
		ev_simple(d, "ERROR", v->name, NULL, "reason",
			  "cannot start the transport");
		v->next_fetch_ms = t + BACKOFF_MAX_MS;
		goto out;
	}
	v->fetch = c;
out:
	buf_release(&prog);
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
	for (size_t i = 0; i < v->nready; i++)
		if (same_claim(h->cid, h->claim, v->ready[i].cid,
			       v->ready[i].claim))
			return 1;
	for (size_t i = 0; i < v->nsending; i++)
		if (same_claim(h->cid, h->claim, v->sending[i].cid,
			       v->sending[i].claim))
			return 1;
	return 0;
}

/*
 * Crash recovery (design.md section 6) for claims in running/ that nobody
 * works on: a fetch whose reply was lost, or a daemon that died.  A cid in
 * the replay store may have run: it gets "interrupted" and never runs
 * again.  A cid not in it never ran: it goes back to pending/.
 */
static void
recover_held(struct daemon *d, struct vm *v, const struct fetch_reply *r)
{
	for (size_t i = 0; i < r->nheld; i++) {
		const struct held_claim *h = &r->held[i];
		int ran;
		struct buf *b;

		if (claim_in_flight(d, v, h))
			continue;
		ran = replay_seen(&v->replay, h->cid);
		b = ev_begin(d, "RECOVER", v->name, h->cid);
		(void)logline_kvs(b, "claim", h->claim);
		(void)logline_kvs(b, "action", ran ? "interrupted" : "released");
		ev_end(d);
		if (ran)
			park_status(d, v, h->cid, h->claim, RESULT_INTERRUPTED,
				    "dom0 stopped while the command ran; it may "
				    "have run and will not run again");
		else if (v->nrelease < FETCH_HELD_MAX)
			v->release[v->nrelease++] = *h;
	}
}

static void
fetch_done(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;
	struct fetch_reply *reply = NULL;
	int64_t t = now_ms();
	int r;

	v->fetch = NULL;
	v->fetched = 1;
	if (!call_ok(c)) {
		vm_failed(d, v, c->failed ? "fetch failed (deadline or reply "
			  "too large)" : "fetch failed in the transport", c);
		goto out;
	}
	if ((reply = malloc(sizeof(*reply))) == NULL)
		goto out;
	if ((r = frame_parse_fetch((const uint8_t *)c->reply.data,
				   c->reply.len, reply)) != 0) {
		struct buf *b = ev_begin(d, "ERROR", v->name, NULL);
		(void)logline_kvs(b, "reason", "malformed fetch reply");
		(void)logline_kvs(b, "error", qr_strerror(r));
		ev_end(d);
		v->next_fetch_ms = t + BACKOFF_MAX_MS;
		goto out;
	}
	vm_recovered(d, v);
	if (reply->skipped > 0) {
		struct buf *b = ev_begin(d, "REJECT", v->name, NULL);
		(void)logline_kvs(b, "reason", "names in pending/ that are not "
				  "request ids were left alone");
		(void)logline_kvu(b, "count", reply->skipped);
		ev_end(d);
	}
	for (size_t i = 0; i < reply->n; i++)
		handle_request(d, v, &reply->req[i]);
	recover_held(d, v, reply);
	/* interval mode waits; watch mode fetches again at once unless the
	 * VM answered too fast to have waited (no inotify, no sleep) */
	if (d->cfg->poll == POLL_INTERVAL)
		v->next_fetch_ms = t + (int64_t)d->cfg->interval_s * 1000;
	else if (reply->n == 0 && t - c->started_ms < 1000 &&
		 v->nrelease == 0)
		v->next_fetch_ms = t + 1000;
	else
		v->next_fetch_ms = t;
out:
	free(reply);
	call_release(c);
	free(c);
}

static void
start_deliver(struct daemon *d, struct vm *v)
{
	struct buf empty = BUF_INIT(1);
	struct deliver_src *src;
	struct call *c;
	size_t n = v->nready < FETCH_REQ_MAX ? v->nready : FETCH_REQ_MAX;
	int64_t t = now_ms();

	v->sending = malloc(n * sizeof(*v->sending));
	src = malloc(sizeof(*src));
	c = calloc(1, sizeof(*c));
	if (v->sending == NULL || src == NULL || c == NULL)
		goto fail;
	memcpy(v->sending, v->ready, n * sizeof(*v->sending));
	v->nsending = n;
	program_deliver_init(src, v->sending, n);
	v->source = src;
	if (call_start(c, &d->transport, v->name, &empty, src,
		       DELIVER_REPLY_MAX, t,
		       t + DELIVER_TIMEOUT_S * 1000) != 0)
		goto fail;
	v->deliver = c;
	return;
fail:
	free(v->sending);
	v->sending = NULL;
	v->source = NULL;
	free(src);
	free(c);
	v->next_deliver_ms = t + BACKOFF_MAX_MS;
}

static void
deliver_done(struct daemon *d, struct vm *v)
{
	struct call *c = v->deliver;
	struct deliver_reply reply;
	size_t delivered = 0;

	v->deliver = NULL;
	if (!call_ok(c)) {
		vm_failed(d, v, "deliver failed in the transport", c);
		goto out;
	}
	if (frame_parse_deliver((const uint8_t *)c->reply.data, c->reply.len,
				&reply) != 0) {
		ev_simple(d, "ERROR", v->name, NULL, "reason",
			  "malformed deliver reply");
		v->next_deliver_ms = now_ms() + BACKOFF_MAX_MS;
		goto out;
	}
	vm_recovered(d, v);
	for (size_t i = 0; i < reply.n; i++) {
		const struct deliver_entry *e = &reply.e[i];
		for (size_t k = 0; k < v->nsending; k++) {
			if (strcmp(v->sending[k].cid, e->cid) != 0)
				continue;
			if (e->status == DELIVER_FAIL)
				break;
			(void)outbox_remove(&v->sending[k]);
			ready_drop(v, e->cid);
			delivered++;
			break;
		}
	}
	if (delivered < v->nsending)
		v->next_deliver_ms = now_ms() + 1000;
out:
	call_release(c);
	free(c);
	program_deliver_release(v->source);
	free(v->source);
	v->source = NULL;
	free(v->sending);
	v->sending = NULL;
	v->nsending = 0;
}

/* ---- the loop ----------------------------------------------------------- */

static void
refresh_up(struct daemon *d)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		int up = transport_vm_up(&d->transport, v->name);
		if (up && !v->up)
			v->next_fetch_ms = v->next_deliver_ms = 0;
		v->up = up;
	}
}

static unsigned
jobs_running(const struct daemon *d)
{
	return (unsigned)d->njobs;
}

static void
schedule(struct daemon *d, struct vm *v, int64_t t)
{
	while (v->queue != NULL && v->running < d->cfg->max_per_vm &&
	       jobs_running(d) < d->cfg->max_jobs) {
		struct job *j = v->queue;
		v->queue = j->next;
		if (v->queue == NULL)
			v->queue_tail = NULL;
		j->next = NULL;
		job_start(d, j);
	}
	if (!v->up)
		return;
	if (v->deliver == NULL && v->nready > 0 && t >= v->next_deliver_ms)
		start_deliver(d, v);
	if (v->fetch == NULL && v->queue == NULL && !d->stopping &&
	    !v->removed && !(d->opts->once && v->fetched) &&
	    t >= v->next_fetch_ms)
		start_fetch(d, v);
}

struct pollset {
	struct pollfd *fds;
	size_t n, cap;
};

static int
pollset_add(struct pollset *p, int fd, short events)
{
	if (fd < 0 || events == 0)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct pollfd *g = reallocarray(p->fds, cap, sizeof(*g));
		if (g == NULL)
			return QR_ERR_NOMEM;
		p->fds = g;
		p->cap = cap;
	}
	p->fds[p->n++] = (struct pollfd){ .fd = fd, .events = events };
	return 0;
}

static void
pollset_call(struct pollset *p, const struct call *c)
{
	if (c == NULL)
		return;
	(void)pollset_add(p, c->in, call_events(c, c->in));
	(void)pollset_add(p, c->out, POLLIN);
	(void)pollset_add(p, c->err, POLLIN);
}

static short
revents_of(const struct pollset *p, int fd)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->fds[i].fd == fd)
			return p->fds[i].revents;
	return 0;
}

static void
call_dispatch(const struct pollset *p, struct call *c)
{
	int fds[3];
	short ev;

	if (c == NULL)
		return;
	fds[0] = c->in;
	fds[1] = c->out;
	fds[2] = c->err;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && (ev = revents_of(p, fds[i])) != 0)
			call_io(c, fds[i], ev);
}

static void
reap(struct daemon *d)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < d->njobs; i++)
			if (d->jobs[i]->run.pid == pid)
				run_reaped(&d->jobs[i]->run, status, now_ms());
		for (struct vm *v = d->vms; v != NULL; v = v->next) {
			if (v->fetch != NULL && v->fetch->pid == pid)
				call_reaped(v->fetch, status);
			if (v->deliver != NULL && v->deliver->pid == pid)
				call_reaped(v->deliver, status);
		}
	}
}

static int reload(struct daemon *d);

static void
read_signals(struct daemon *d)
{
	unsigned char sig[64];
	ssize_t n = read(signal_pipe[0], sig, sizeof(sig));

	for (ssize_t i = 0; i < n; i++) {
		if (sig[i] == SIGCHLD) {
			reap(d);
		} else if (sig[i] == SIGHUP) {
			(void)reload(d);
		} else if (!d->stopping) {
			d->stopping = 1;
			d->stop_deadline_ms = now_ms() +
				(int64_t)d->cfg->stop_grace_s * 1000;
			ev_simple(d, "INFO", NULL, NULL, "action", "stopping");
		}
	}
}

static int
reload(struct daemon *d)
{
	struct config fresh;
	char err[CONFIG_ERR_MAX];

	config_defaults(&fresh);
	if ((d->opts->config_path != NULL &&
	     config_load_file(d->opts->config_path, &fresh, err) < 0 &&
	     errno != ENOENT) ||
	    config_apply_env(&fresh, err) != 0) {
		ev_simple(d, "ERROR", NULL, NULL, "reason",
			  "reload failed; keeping the old configuration");
		return -1;
	}
	/* paths and the transport stay: work in flight depends on them */
	d->cfg->vms = fresh.vms;
	d->cfg->vms_set = fresh.vms_set;
	d->cfg->legacy = fresh.legacy;
	d->cfg->timeout_s = fresh.timeout_s;
	d->cfg->max_jobs = fresh.max_jobs;
	d->cfg->max_per_vm = fresh.max_per_vm;
	d->cfg->max_output = fresh.max_output;
	d->cfg->max_age_s = fresh.max_age_s;
	ev_simple(d, "INFO", NULL, NULL, "action", "reloaded");
	return vms_load(d);
}

static int
vm_idle(const struct vm *v)
{
	return v->fetch == NULL && v->deliver == NULL && v->queue == NULL &&
	       v->running == 0;
}

/* Frees VMs that were dropped by a reload and have nothing in flight. */
static void
vms_prune(struct daemon *d)
{
	struct vm **pp = &d->vms;

	while (*pp != NULL) {
		struct vm *v = *pp;
		if (v->removed && vm_idle(v)) {
			*pp = v->next;
			ev_simple(d, "INFO", v->name, NULL, "action",
				  "no longer polled");
			replay_close(&v->replay);
			key_wipe(&v->key);
			free(v->ready);
			free(v);
			continue;
		}
		pp = &v->next;
	}
}

/* True when the loop has nothing left to do and may return. */
static int
finished(struct daemon *d)
{
	int once = d->opts->once || d->opts->dry_run;

	if (!d->stopping && !once)
		return 0;
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		if (!vm_idle(v))
			return 0;
		if (once && v->up && !d->stopping && !v->fetched)
			return 0;
		if (v->up && v->nready > 0 && v->failures == 0 &&
		    !d->opts->dry_run)
			return 0;
	}
	return 1;
}

static int64_t
next_wakeup(struct daemon *d, int64_t t)
{
	int64_t w = t + (d->inotify_fd >= 0 ? 60000 : TICK_MS);

	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		if (!v->up)
			continue;
		if (v->fetch != NULL && v->fetch->deadline_ms < w)
			w = v->fetch->deadline_ms;
		if (v->deliver != NULL && v->deliver->deadline_ms < w)
			w = v->deliver->deadline_ms;
		if (v->fetch == NULL && v->next_fetch_ms < w)
			w = v->next_fetch_ms;
		if (v->deliver == NULL && v->nready > 0 &&
		    v->next_deliver_ms < w)
			w = v->next_deliver_ms;
	}
	for (size_t i = 0; i < d->njobs; i++) {
		int64_t r = run_next_deadline(&d->jobs[i]->run);
		if (r < w)
			w = r;
	}
	if (d->stopping && d->stop_deadline_ms < w)
		w = d->stop_deadline_ms;
	return w;
}

static void
stop_hard(struct daemon *d, int64_t t)
{
	/* past the grace period: running commands end as timed out, fetches
	 * are abandoned (their claims are recovered at the next start) */
	for (size_t i = 0; i < d->njobs; i++)
		if (!d->jobs[i]->run.exited) {
			d->jobs[i]->run.deadline_ms = t;
			run_tick(&d->jobs[i]->run, t);
			d->jobs[i]->run.kill_ms = t;
		}
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		if (v->fetch != NULL && !v->fetch->failed)
			call_tick(v->fetch, INT64_MAX);
}

static void
loop_once(struct daemon *d, struct pollset *ps)
{
	int64_t t = now_ms(), wake;
	int timeout;

	refresh_up(d);
	if (d->stopping) {
		for (struct vm *v = d->vms; v != NULL; v = v->next)
			if (v->fetch != NULL && d->cfg->poll == POLL_WATCH)
				call_tick(v->fetch, INT64_MAX);
		if (t >= d->stop_deadline_ms)
			stop_hard(d, t);
	}
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		schedule(d, v, t);
	ps->n = 0;
	(void)pollset_add(ps, signal_pipe[0], POLLIN);
	(void)pollset_add(ps, d->inotify_fd, POLLIN);
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		pollset_call(ps, v->fetch);
		pollset_call(ps, v->deliver);
	}
	for (size_t i = 0; i < d->njobs; i++) {
		(void)pollset_add(ps, d->jobs[i]->run.fd[0], POLLIN);
		(void)pollset_add(ps, d->jobs[i]->run.fd[1], POLLIN);
	}
	wake = next_wakeup(d, t);
	timeout = wake <= t ? 0 : wake - t > 60000 ? 60000 : (int)(wake - t);
	if (poll(ps->fds, ps->n, timeout) < 0 && errno != EINTR)
		return;
	if (revents_of(ps, signal_pipe[0]) != 0)
		read_signals(d);
	if (d->inotify_fd >= 0 && revents_of(ps, d->inotify_fd) != 0) {
		char ev[4096];
		(void)!read(d->inotify_fd, ev, sizeof(ev));
	}
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		call_dispatch(ps, v->fetch);
		call_dispatch(ps, v->deliver);
	}
	for (size_t i = 0; i < d->njobs; i++)
		for (int k = 0; k < 2; k++) {
			int fd = d->jobs[i]->run.fd[k];
			if (fd >= 0 && revents_of(ps, fd) != 0)
				run_pump(&d->jobs[i]->run, fd);
		}
	/* SIGCHLD may have been coalesced: reaping is cheap, do it always */
	reap(d);
	t = now_ms();
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		if (v->fetch != NULL) {
			call_tick(v->fetch, t);
			if (call_done(v->fetch))
				fetch_done(d, v);
		}
		if (v->deliver != NULL) {
			call_tick(v->deliver, t);
			if (call_done(v->deliver))
				deliver_done(d, v);
		}
	}
	for (size_t i = 0; i < d->njobs;) {
		run_tick(&d->jobs[i]->run, t);
		if (run_done(&d->jobs[i]->run))
			job_finish(d, i);   /* moves the last job into slot i */
		else
			i++;
	}
	vms_prune(d);
}

static int
setup_signals(void)
{
	struct sigaction sa;
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return QR_ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return QR_ERR_SYSTEM;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
teardown(struct daemon *d)
{
	while (d->vms != NULL) {
		struct vm *v = d->vms;
		d->vms = v->next;
		if (v->fetch != NULL) {
			call_release(v->fetch);
			free(v->fetch);
		}
		if (v->deliver != NULL) {
			call_release(v->deliver);
			free(v->deliver);
			program_deliver_release(v->source);
			free(v->source);
		}
		while (v->queue != NULL) {
			struct job *j = v->queue;
			v->queue = j->next;
			job_free(j);
		}
		replay_close(&v->replay);
		key_wipe(&v->key);
		free(v->sending);
		free(v->ready);
		free(v);
	}
	for (size_t i = 0; i < d->njobs; i++) {
		run_abort(&d->jobs[i]->run);
		job_free(d->jobs[i]);
	}
	free(d->jobs);
	if (d->inotify_fd >= 0)
		close(d->inotify_fd);
	audit_close(&d->audit);
	buf_release(&d->line);
}

int
serve(struct config *c, const struct serve_opts *o)
{
	struct daemon d;
	struct pollset ps = { NULL, 0, 0 };
	unsigned char tag[4];
	char msg[512];
	int rc = 1;

	memset(&d, 0, sizeof(d));
	d.cfg = c;
	d.opts = o;
	d.inotify_fd = -1;
	d.audit.fd = -1;
	buf_init(&d.line, 8192);
	if (transport_init(&d.transport, c, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "qvm-remote-dom0: %s\n", msg);
		goto out;
	}
	if (audit_open(&d.audit, c->log_path) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot open the log '%s': %s\n",
			c->log_path, strerror(errno));
		goto out;
	}
	d.audit.echo = o->verbose;
	if (mkdir_p(c->runtime_dir, 0700) != 0 ||
	    mkdir_p(c->state_dir, 0700) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot create '%s' or '%s': %s\n",
			c->runtime_dir, c->state_dir, strerror(errno));
		goto out;
	}
	if (RAND_bytes(tag, sizeof(tag)) != 1)
		goto out;
	if (cgroup_init(&d.cgroup, msg, sizeof(msg)) != 0)
		snprintf(msg, sizeof(msg), "cgroup set-up failed");
	snprintf(d.boot_tag, sizeof(d.boot_tag), "%02x%02x%02x%02x", tag[0],
		 tag[1], tag[2], tag[3]);
	if (setup_signals() != 0)
		goto out;
	d.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d.inotify_fd >= 0 &&
	    inotify_add_watch(d.inotify_fd, c->qrexec_dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_TO |
			      IN_MOVED_FROM) < 0) {
		close(d.inotify_fd);
		d.inotify_fd = -1;
	}
	{
		struct buf *b = ev_begin(&d, "INFO", NULL, NULL);
		(void)logline_kvs(b, "action", o->dry_run ? "start dry-run"
					       : o->once ? "start once" : "start");
		(void)logline_kvs(b, "transport", d.transport.path);
		(void)logline_kvs(b, "poll", c->poll == POLL_WATCH ? "watch"
								  : "interval");
		(void)logline_kvs(b, "containment", d.cgroup.active
				  ? "cgroup" : "process group");
		if (!d.cgroup.active)
			(void)logline_kvs(b, "why", msg);
		ev_end(&d);
	}
	if (vms_load(&d) != 0)
		goto out;
	refresh_up(&d);     /* --once must know which VMs it will reach */
	if (d.vms == NULL)
		ev_simple(&d, "INFO", NULL, NULL, "reason",
			  "no authorized VMs; authorize one with "
			  "qvm-remote-dom0 authorize --from-vm VM");
	while (!finished(&d))
		loop_once(&d, &ps);
	ev_simple(&d, "INFO", NULL, NULL, "action", "stopped");
	rc = 0;
out:
	free(ps.fds);
	teardown(&d);
	return rc;
}
