/*
 * exchange.c - the transport calls per VM: fetch and deliver, or a session
 * that does both in turns (agent/session.h).
 *
 * A session is a fetch call into the agent that stays open: when its
 * fetch reply is whole, the call moves from v->fetch to v->deliver and
 * collects the results of what that fetch brought, sending each as it
 * comes; it closes the deliver once they are all sent (or SESSION_COLLECT_MS
 * passed, or there is no room for more), with the next turn's fetch after
 * "end N" when another fetch is wanted; at the deliver reply it moves back
 * to v->fetch.  A result that comes while a session fetches is sent into
 * it at once: the agent's wait ends, its fetch claims nothing, and the turn
 * goes on as above (v->carrying until the fetch reply is in).
 */
#include "daemon.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "err.h"
#include "logline.h"
#include "outbox.h"

#include "banned.h"

#define FETCH_GRACE_S 30            /* a fetch may take this beyond its wait */
#define DELIVER_TIMEOUT_S 120
#define BACKOFF_MAX_MS 30000
#define FETCH_BUDGET (4u << 20)     /* stop claiming past this many bytes */
#define DELIVER_BUDGET (32u << 20)  /* output bytes per deliver call */
#define FETCH_EARLY_TRIES 3         /* parses of a reply before its end */
/* how long a session's deliver waits for the results of its fetch's
 * commands: meanwhile no fetch waits in the VM, and a later result costs
 * no call either (session_wake), only a turn */
#define SESSION_COLLECT_MS 50

static int session_collect(struct daemon *d, struct vm *v);
static void deliver_cleanup(struct vm *v);

static void
vm_failed(struct daemon *d, struct vm *v, const char *what,
	  const struct call *c)
{
	int64_t backoff = 1000;

	/* the next fetch is an sh program again, which finds out afresh
	 * whether the agent is there (it may have been removed) */
	v->agent = 0;

	/* counted even while stopping, so the stop does not wait for this
	 * VM; not logged then, as we may have ended the call ourselves */
	if (v->failures++ == 0 && !d->stopping) {
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
	v->next_fetch_ms = v->next_deliver_ms = mono_ms() + backoff;
}

static void
vm_recovered(struct daemon *d, struct vm *v)
{
	if (v->failures > 0)
		ev_simple(d, "INFO", v->name, NULL, "action", "reachable again");
	v->failures = 0;
}

int
fetch_wanted(const struct daemon *d, const struct vm *v)
{
	/* a VM whose results do not go out gets no new work: the backlog of
	 * its outbox stays bounded; --once and --dry-run fetch once.  A VM
	 * whose key was dropped is still fetched from, so that its clients
	 * hear at once that dom0 refuses them (handle_request) */
	return !d->stopping && v->queue == NULL && v->nready < READY_MAX &&
	       !((d->opts->once || d->opts->dry_run) && v->fetched);
}

static int
session_wanted(const struct daemon *d, const struct vm *v)
{
	return v->agent >= AGENT_SESSION && d->cfg->poll == POLL_WATCH &&
	       !d->opts->once && !d->opts->dry_run;
}

/* The next fetch into v: its claims' prefix, its wait, and v's stranded
 * claims to put back (the list is v's no longer: a failed fetch loses it,
 * and the next one's held lines rebuild it). */
static void
next_fetch(struct daemon *d, struct vm *v, struct fetch_params *p,
	   char prefix[CLAIM_MAX + 1], int64_t now_ms)
{
	*p = (struct fetch_params){
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
	snprintf(prefix, CLAIM_MAX + 1, "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	memcpy(v->fetch_prefix, prefix, sizeof(v->fetch_prefix));
	v->nrelease = 0;
	v->fetch_wait_s = p->wait_s;
	v->fetch_started_ms = now_ms;
}

void
start_fetch(struct daemon *d, struct vm *v)
{
	struct buf prog = BUF_INIT(64u << 10),
		   cmd = BUF_INIT(AGENT_FETCH_CMD_MAX);
	char prefix[CLAIM_MAX + 1];
	struct fetch_params p;
	int64_t t = mono_ms();
	int session = session_wanted(d, v), r;
	struct call *c;

	next_fetch(d, v, &p, prefix, t);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	r = !v->agent ? program_fetch(&prog, &p)
	    : session ? program_agent_session(&cmd, &p)
		      : program_agent_fetch(&cmd, &p);
	if (r != 0 ||
	    call_start(c, &d->transport, v->name,
		       v->agent ? buf_str(&cmd) : NULL, &prog, NULL,
		       FETCH_REPLY_MAX, t,
		       t + ((int64_t)p.wait_s + FETCH_GRACE_S) * 1000) != 0) {
		free(c);
		ev_simple(d, "ERROR", v->name, NULL, "reason",
			  "cannot start the transport");
		v->next_fetch_ms = t + BACKOFF_MAX_MS;
		goto out;
	}
	c->keep_open = v->agent && session;
	v->fetch = c;
	v->fetch_early_tries = 0;
out:
	buf_release(&prog);
	buf_release(&cmd);
}

/* Every request must carry the claim this fetch assigned it, PREFIX-i:
 * a reply that names another claim (one in flight, say) is not ours. */
static int
claims_ours(const struct vm *v, const struct fetch_reply *r)
{
	char want[CLAIM_MAX + 32];

	for (size_t i = 0; i < r->n; i++) {
		snprintf(want, sizeof(want), "%.*s-%u", (int)CLAIM_MAX,
			 v->fetch_prefix, (unsigned)i);
		if (strcmp(want, r->req[i].claim) != 0)
			return 0;
	}
	return 1;
}

/* Acts on a valid fetch reply: the requests, the held claims, and when
 * to fetch next. */
static void
fetch_apply(struct daemon *d, struct vm *v, const struct fetch_reply *reply)
{
	int64_t t = mono_ms();

	vm_recovered(d, v);
	v->agent = reply->agent;
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
	else if (reply->n == 0 && v->fetch_wait_s > 0 && !v->carrying &&
		 t - v->fetch_started_ms < 1000 && v->nrelease == 0)
		v->next_fetch_ms = t + 1000;
	else
		v->next_fetch_ms = t;
	/* past its budget of rejected work, a VM is not fetched from until
	 * the budget's window ends (budget.h) */
	if (budget_spent(&v->rejects, t) &&
	    v->next_fetch_ms < budget_ends(&v->rejects))
		v->next_fetch_ms = budget_ends(&v->rejects);
}

/* Parses c's reply; 0 when it is whole, valid and names our claims. */
static int
fetch_parse(const struct vm *v, const struct call *c, struct fetch_reply *r)
{
	int e = frame_parse_fetch((const uint8_t *)c->reply.data,
				  c->reply.len, r);

	return e == 0 && !claims_ours(v, r) ? QR_ERR_INVALID : e;
}

/* Whether the reply so far ends with a line "done N", as a whole one
 * does: a look at its last few bytes, however long the reply. */
static int
ends_with_done(const struct buf *b)
{
	static const char word[] = "\ndone ";
	size_t k = sizeof(word) - 1, digits = 0;

	if (b->len < k + 2 || b->data[b->len - 1] != '\n')
		return 0;
	while (digits < 3 && b->len >= k + 2 + digits &&
	       b->data[b->len - 2 - digits] >= '0' &&
	       b->data[b->len - 2 - digits] <= '9')
		digits++;
	return digits > 0 && digits < 3 && b->len >= k + 1 + digits &&
	       memcmp(b->data + b->len - 1 - digits - k, word, k) == 0;
}

void
fetch_early(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;
	struct fetch_reply *reply;

	if (c == NULL || v->fetch_applied || c->failed)
		return;
	/* a few tries a call: a VM that keeps sending "done" lines into a
	 * reply that never parses must not have it parsed again and again;
	 * then the reply is parsed when the call ends, and a session, which
	 * would not, has its input closed so that it does */
	if (v->fetch_early_tries >= FETCH_EARLY_TRIES) {
		if (v->carrying)
			(void)program_deliver_close(v->source, NULL);
		if (c->keep_open)
			call_end_input(c);
		return;
	}
	if (!ends_with_done(&c->reply) ||
	    (reply = malloc(sizeof(*reply))) == NULL)
		return;
	v->fetch_early_tries++;
	if (fetch_parse(v, c, reply) == 0) {
		v->fetch_applied = 1;
		v->fetched = 1;
		fetch_apply(d, v, reply);
		if (c->keep_open && session_collect(d, v) == 0)
			goto out;
		/* a session that cannot collect ends after an empty deliver */
		if (c->keep_open && call_send(c, "end 0\n") == 0)
			call_end_input(c);
		/* the next fetch need not wait for this one's transport to
		 * wind down: it waits aside, at most one at a time */
		if (v->ending == NULL) {
			v->ending = c;
			v->fetch = NULL;
			v->fetch_applied = 0;
		}
	}
out:
	free(reply);
}

void
fetch_done(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;
	struct fetch_reply *reply = NULL;
	int r;

	v->fetch = NULL;
	v->fetched = 1;
	if (v->carrying)
		deliver_cleanup(v);     /* the results stay in the outbox */
	if (v->fetch_applied) {
		v->fetch_applied = 0;
		goto out;       /* acted on at its "done" line: nothing left */
	}
	if (!call_ok(c) && d->stopping)
		goto out;       /* we ended it: not the VM's failure */
	if (!call_ok(c)) {
		vm_failed(d, v, c->failed ? "fetch failed (deadline or reply "
			  "too large)" : "fetch failed in the transport", c);
		goto out;
	}
	if ((reply = malloc(sizeof(*reply))) == NULL)
		goto out;
	if ((r = fetch_parse(v, c, reply)) != 0) {
		struct buf *b = ev_begin(d, "ERROR", v->name, NULL);
		(void)logline_kvs(b, "reason", "malformed fetch reply");
		(void)logline_kvs(b, "error", qr_strerror(r));
		ev_end(d);
		v->next_fetch_ms = mono_ms() + BACKOFF_MAX_MS;
		goto out;
	}
	fetch_apply(d, v, reply);
out:
	free(reply);
	call_release(c);
	free(c);
}

/* Whether a cid is among the first n items already picked. */
static int
picked(const struct deliver_item *v, size_t n, const char *cid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].cid, cid) == 0)
			return 1;
	return 0;
}

/* Bytes of output an outbox entry holds, for the size of a batch. */
static uint64_t
item_bytes(const struct deliver_item *e)
{
	static const char *const files[] = { "out", "err" };
	char path[PATH_MAX];
	struct stat st;
	uint64_t sum = 0;

	for (size_t i = 0; i < 2; i++)
		if (snprintf(path, sizeof(path), "%s/%s", e->dir, files[i]) > 0 &&
		    stat(path, &st) == 0)
			sum += (uint64_t)st.st_size;
	return sum;
}

/* Adds v's ready results that are not in the deliver yet, oldest first,
 * a cid at most once per call (the reply names cids); past DELIVER_BUDGET
 * or FETCH_REQ_MAX the rest waits for the next call.  1 when some were
 * left out. */
static int
pick_ready(struct vm *v)
{
	for (size_t i = 0; i < v->nready; i++) {
		if (picked(v->sending, v->nsending, v->ready[i].cid))
			continue;
		if (v->nsending == FETCH_REQ_MAX ||
		    (v->nsending > 0 && v->sending_bytes >= DELIVER_BUDGET))
			return 1;
		v->sending_bytes += item_bytes(&v->ready[i]);
		v->sending[v->nsending++] = v->ready[i];
	}
	return 0;
}

/* Sets up v->sending and v->source for a deliver; 0 or -1. */
static int
deliver_setup(struct vm *v, const char *nonce)
{
	/* not calloc: zeroing would make every page of it resident */
	v->sending = malloc(FETCH_REQ_MAX * sizeof(*v->sending));
	v->source = malloc(sizeof(*v->source));
	v->nsending = 0;
	v->sending_bytes = 0;
	if (v->sending != NULL && v->source != NULL &&
	    program_deliver_init(v->source, nonce, NULL, 0, v->agent) == 0)
		return 0;
	free(v->sending);
	free(v->source);
	v->sending = NULL;
	v->source = NULL;
	return -1;
}

static void
deliver_cleanup(struct vm *v)
{
	if (v->source != NULL)
		program_deliver_release(v->source);
	free(v->source);
	v->source = NULL;
	free(v->sending);
	v->sending = NULL;
	v->nsending = 0;
	v->session_deliver = v->collecting = v->carrying = 0;
}

void
start_deliver(struct daemon *d, struct vm *v)
{
	struct buf empty = BUF_INIT(1), cmd = BUF_INIT(256);
	char nonce[CLAIM_MAX + 1];
	struct call *c = calloc(1, sizeof(*c));
	int64_t t = mono_ms();

	snprintf(nonce, sizeof(nonce), "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	if (c == NULL || deliver_setup(v, nonce) != 0)
		goto fail;
	program_deliver_anchor(v->source, &d->audit);   /* issue 12 */
	(void)pick_ready(v);
	program_deliver_add(v->source, v->sending, v->nsending);
	if ((v->agent && program_agent_deliver(&cmd, v->source) != 0) ||
	    call_start(c, &d->transport, v->name,
		       v->agent ? buf_str(&cmd) : NULL, &empty, v->source,
		       DELIVER_REPLY_MAX, t, t + (DELIVER_TIMEOUT_S +
		       (int64_t)(v->sending_bytes >> 20)) * 1000) != 0)
		goto fail;
	v->deliver = c;
	buf_release(&cmd);
	return;
fail:
	buf_release(&cmd);
	deliver_cleanup(v);
	free(c);
	v->next_deliver_ms = t + BACKOFF_MAX_MS;
}

/* The session in v->fetch has answered its fetch: it becomes v's deliver,
 * open for the results of what it brought.  0, or -1 when it cannot (a
 * deliver call is out). */
static int
session_collect(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;
	int64_t t = mono_ms();

	if (!v->carrying) {
		if (v->deliver != NULL ||
		    deliver_setup(v, v->fetch_prefix) != 0)
			return -1;
		program_deliver_open(v->source);
		program_deliver_anchor(v->source, &d->audit);   /* issue 12 */
		c->src = v->source;
	}
	v->carrying = 0;
	buf_reset(&c->reply);
	c->deadline_ms = t + SESSION_COLLECT_MS + DELIVER_TIMEOUT_S * 1000;
	v->fetch = NULL;
	v->fetch_applied = 0;
	v->deliver = c;
	v->session_deliver = v->collecting = 1;
	v->collect_until = t + SESSION_COLLECT_MS;
	return 0;
}

int
session_wake(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;

	if (v->carrying)
		return 1;
	if (c == NULL || !c->keep_open || v->fetch_applied || c->failed ||
	    c->in < 0 || deliver_setup(v, v->fetch_prefix) != 0)
		return 0;
	program_deliver_open(v->source);
	program_deliver_anchor(v->source, &d->audit);   /* issue 12 */
	(void)pick_ready(v);
	program_deliver_add(v->source, v->sending, v->nsending);
	c->src = v->source;
	v->carrying = 1;
	return 1;
}

/* Ends the collecting: "end N", then the next turn when a fetch is
 * wanted, else the end of the session's input. */
static void
session_close(struct daemon *d, struct vm *v, int64_t t)
{
	struct buf line = BUF_INIT(AGENT_FETCH_CMD_MAX + 2);
	struct call *c = v->deliver;
	char prefix[CLAIM_MAX + 1];
	struct fetch_params p;

	v->collecting = 0;
	v->turn_next = 0;
	if (fetch_wanted(d, v) && t >= v->next_fetch_ms) {
		next_fetch(d, v, &p, prefix, t);
		v->turn_next = program_agent_turn(&line, &p) == 0;
	}
	if (program_deliver_close(v->source, v->turn_next ? buf_str(&line)
							  : NULL) != 0)
		v->turn_next = 0;
	if (!v->turn_next)
		call_end_input(c);
	c->deadline_ms = t + (DELIVER_TIMEOUT_S +
			      (int64_t)(v->sending_bytes >> 20)) * 1000;
	buf_release(&line);
}

void
session_tick(struct daemon *d, struct vm *v, int64_t t)
{
	int full;

	if (!v->collecting)
		return;
	full = pick_ready(v);
	program_deliver_add(v->source, v->sending, v->nsending);
	/* the commands that fetch brought are done when v runs and queues
	 * none; a result that does not fit goes in the next call */
	if (full || d->stopping || t >= v->collect_until ||
	    (v->running == 0 && v->queue == NULL))
		session_close(d, v, t);
}

/* Acts on a deliver reply: what was delivered leaves the outbox.  0 when
 * everything sent was delivered. */
static int
deliver_apply(struct daemon *d, struct vm *v, const struct call *c,
	      size_t len)
{
	struct deliver_reply reply;
	size_t delivered = 0;

	if (frame_parse_deliver((const uint8_t *)c->reply.data, len,
				&reply) != 0) {
		vm_failed(d, v, "malformed deliver reply", c);
		return -1;
	}
	for (size_t i = 0; i < reply.n; i++) {
		const struct deliver_entry *e = &reply.e[i];
		for (size_t k = 0; k < v->nsending; k++) {
			if (strcmp(v->sending[k].cid, e->cid) != 0)
				continue;
			if (e->status == DELIVER_FAIL)
				break;
			(void)outbox_remove(&v->sending[k]);
			ready_drop(v, &v->sending[k]);
			delivered++;
			break;
		}
	}
	/* a VM that answers "fail" (a full disk) backs off like a failed call */
	if (delivered < v->nsending) {
		vm_failed(d, v, "results not delivered; they stay in the outbox",
			  c);
		return -1;
	}
	vm_recovered(d, v);
	return 0;
}

void
deliver_early(struct daemon *d, struct vm *v)
{
	struct call *c = v->deliver;
	size_t span;
	int ok;

	if (c == NULL || !v->session_deliver || c->failed)
		return;
	/* the reply is looked for once dom0 has closed the deliver; until it
	 * is acted on, a session has nothing to say beyond it: more is cut
	 * off, not held */
	span = v->collecting ? 0 : frame_deliver_span(
		(const uint8_t *)c->reply.data, c->reply.len);
	if (span == 0 && c->reply.len > DELIVER_REPLY_MAX)
		call_tick(c, INT64_MAX);
	if (span == 0)
		return;
	ok = deliver_apply(d, v, c, span) == 0;
	buf_consume(&c->reply, span);
	deliver_cleanup(v);
	v->deliver = NULL;
	if (ok && v->turn_next && v->fetch == NULL) {
		/* the session's next turn: it fetches again */
		v->fetch = c;
		v->fetch_early_tries = 0;
		c->deadline_ms = mono_ms() +
			((int64_t)v->fetch_wait_s + FETCH_GRACE_S) * 1000;
	} else if (ok && v->ending == NULL) {
		v->ending = c;          /* its input is closed: it ends */
	} else {
		call_free(&c);
	}
}

void
deliver_done(struct daemon *d, struct vm *v)
{
	struct call *c = v->deliver;

	v->deliver = NULL;
	if (!call_ok(c))
		vm_failed(d, v, "deliver failed in the transport", c);
	else
		(void)deliver_apply(d, v, c, c->reply.len);
	call_free(&c);
	deliver_cleanup(v);
}
