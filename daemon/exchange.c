/*
 * exchange.c - each VM's exchange: one state machine, its calls, its
 * replies.
 *
 * The line of a VM holds at most one live call.  Its states:
 *
 *   X_IDLE        no live call.  A fetch starts when one is wanted and
 *                 due (next_fetch_ms: the interval, a backoff after
 *                 failures, the reject budget's pause, the pace of new
 *                 calls over all VMs, pace.h); with a session
 *                 agent, results to send while no fetch is wanted start a
 *                 quiet turn, a session whose first fetch claims nothing.
 *   X_FETCHING    a fetch waits for its reply: an sh program, the agent's
 *                 fetch, or a session's turn.
 *   X_CARRYING    a session's fetch into which the VM's ready results are
 *                 being sent: that input cut its wait short, so it claims
 *                 nothing; its reply, then the deliver's, come next.
 *   X_COLLECTING  a session's fetch reply was acted on; its deliver is
 *                 open and takes the results of what it brought as they
 *                 come, SESSION_COLLECT_MS at least, for as long as
 *                 commands wait for a slot (SESSION_HOLD_MS at most).
 *   X_CLOSING     the deliver was closed ("end N"), followed by the next
 *                 turn's fetch line or by the end of the input; its reply
 *                 is due.
 *
 * and beside it, for results the line cannot carry (no session: sh
 * programs, agents of level 1, interval mode, --once; or a session that
 * is busy or ending):
 *
 *   XD_IDLE       no deliver call.
 *   XD_DELIVERING a deliver call of its own waits for its end.
 *
 * The two never send at once: one deliver is in flight at a time, the
 * session's (X_CARRYING to X_CLOSING) or the one beside.
 *
 *              start: fetch wanted / quiet turn
 *     +--------------------------------------------> X_FETCHING <----+
 *     |                                             |   |    |       |
 *     |       reply (not a session), or call end    |   |    | start:|
 *     |  X_IDLE <-----------------------------------+   |    | results
 *     |   ^  ^                                          |    v       |
 *     |   |  |         call end               X_CARRYING <---+       |
 *     |   |  +------------------------------------+ |                |
 *     |   |                                 reply  v  v reply        |
 *     |   |                                   X_COLLECTING           |
 *     |   |                full, stopping, all in, window | (time,   |
 *     |   |                                               v  start)  |
 *     |   +---- deliver reply, no next turn ---------- X_CLOSING -----+
 *     |         (or call end, failure)                  deliver reply,
 *     |                                                 a next turn
 *
 * A call that was acted on and has only to exit goes onto the VM's list
 * of calls winding down (serve.c polls them, exchange_wound frees them);
 * the line starts a new call only while fewer than WINDING_MAX wind down,
 * so a VM has at most three calls open: the live one, one beside, and
 * those winding down.
 *
 * The transition table.  Events: start (exchange_start: the loop wants
 * work done), reply (exchange_input: the reply at the head of the live
 * call's output is whole), end (exchange_input: the call's transport
 * ended) and time (exchange_time).  Each reply is acted on in one place,
 * fetch_reply() or deliver_reply(), whichever event brought it.
 *
 *   state          event                        action                 next
 *   X_IDLE         start: fetch wanted, due     fetch_start (claims)   X_FETCHING
 *   X_IDLE         start: results, session, no  fetch_start (quiet),   X_CARRYING
 *                  fetch wanted                 carry
 *   X_FETCHING     start: results or live       carry                  X_CARRYING
 *                  output, session
 *   X_FETCHING     reply, not a session         fetch_reply, wind      X_IDLE
 *   X_FETCHING     reply, session               fetch_reply, collect   X_COLLECTING
 *                  (a deliver beside is out)    ... "end 0", wind      X_IDLE
 *   X_FETCHING     reply that does not parse    a session's input ends X_FETCHING
 *   X_FETCHING     end                          fetch_reply or fail    X_IDLE
 *   X_FETCHING     time: stopping (watch mode)  kill                   X_FETCHING
 *   X_CARRYING     reply                        fetch_reply, collect   X_COLLECTING
 *   X_CARRYING     reply that does not parse    deliver and input end  X_CARRYING
 *   X_CARRYING     end                          fetch_reply or fail;   X_IDLE
 *                                               results stay
 *   X_CARRYING     time: stopping (watch mode)  kill                   X_CARRYING
 *   X_COLLECTING   start, time                  add results, live      X_COLLECTING
 *                                               parts
 *   X_COLLECTING   start, time: full, stopping, session_close          X_CLOSING
 *                  all in, window, hold, a
 *                  live part out whole
 *   X_COLLECTING   more output than a reply     kill                   X_COLLECTING
 *   X_COLLECTING   end                          deliver_reply or fail  X_IDLE
 *   X_CLOSING      reply, a next turn           deliver_reply          X_FETCHING
 *   X_CLOSING      reply, no next turn          deliver_reply, wind    X_IDLE
 *   X_CLOSING      reply, not all delivered     deliver_reply, kill,   X_IDLE
 *                                               wind
 *   X_CLOSING      end                          deliver_reply or fail  X_IDLE
 *   XD_IDLE        start: results the line      deliver_start          XD_DELIVERING
 *                  cannot carry
 *   XD_DELIVERING  end                          deliver_reply or fail  XD_IDLE
 *   any            time: a call's deadline      kill (call_tick)       (then end)
 *   any            time: the stop deadline      kill all but delivers  (then end)
 */
#include "daemon.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agenthint.h"
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
/* the most of one stream a live part carries: one command that writes
 * fast leaves room in each turn for the others' output and results */
#define LIVE_PART_MAX (4u << 20)
/* how long a session's deliver waits for the results of its fetch's
 * commands: meanwhile no fetch waits in the VM, and a later result costs
 * no call either (carry), only a turn */
#define SESSION_COLLECT_MS 50
/* while commands wait for a slot no fetch is wanted, and a session closed
 * then would cost a call for each of their results: it stays open for
 * them, its deliver closed after this at the latest (and a quiet turn
 * goes on) */
#define SESSION_HOLD_MS 10000
#define WINDING_MAX 2               /* the line starts no call past this */
/* A VM unused for long costs less: each watch fetch that comes back empty
 * doubles the next one's wait, up to 2^WAIT_DOUBLINGS times the
 * configured wait (and WAIT_LONGEST_S); a request or a result brings it
 * back.  A longer wait delays nothing (the VM answers as soon as a
 * request is there) but noticing a wedged agent; with 200 idle sessions
 * their turns were the daemon's whole idle cost. */
#define WAIT_DOUBLINGS 3
#define WAIT_LONGEST_S 3600

/* What a fetch may claim: a quiet one (a session's turn that only opens a
 * deliver) has no wait and no byte budget, and the agent claims nothing
 * (agent/fetch.h: it stops claiming once MAX_BYTES were sent). */
enum fetch_kind { FETCH_CLAIM, FETCH_QUIET };

static void
vm_failed(struct daemon *d, struct vm *v, const char *what,
	  const struct call *c)
{
	struct exchange *x = &v->x;
	int64_t backoff = 1000;

	/* the next fetch is an sh program again, which finds out afresh
	 * whether the agent is there (it may have been removed) */
	x->agent = 0;
	if (x->agent_hinted) {
		/* the agent an earlier run saw may be gone: the sh program
		 * finds out at once, and only its failure counts */
		x->agent_hinted = 0;
		x->next_fetch_ms = x->next_deliver_ms = mono_ms();
		return;
	}

	/* counted even while stopping, so the stop does not wait for this
	 * VM; not logged then, as we may have ended the call ourselves */
	if (x->failures++ == 0 && !d->stopping) {
		struct buf *b = ev_begin(d, "ERROR", v->name, NULL);
		(void)logline_kvs(b, "reason", what);
		if (c->status >= 0)
			(void)logline_kvu(b, "status", (uint64_t)c->status);
		else
			(void)logline_kvs(b, "status", "killed");
		ev_end(d);
	}
	for (unsigned i = 1; i < x->failures && backoff < BACKOFF_MAX_MS; i++)
		backoff *= 2;
	if (backoff > BACKOFF_MAX_MS)
		backoff = BACKOFF_MAX_MS;
	x->next_fetch_ms = x->next_deliver_ms = mono_ms() + backoff;
}

static void
vm_recovered(struct daemon *d, struct vm *v)
{
	if (v->x.failures > 0)
		ev_simple(d, "INFO", v->name, NULL, "action", "reachable again");
	v->x.failures = 0;
}

/* Whether v should have a fetch out, now or when its time comes. */
static int
fetch_wanted(const struct daemon *d, const struct vm *v)
{
	/* a VM whose results do not go out gets no new work: the backlog of
	 * its outbox stays bounded; --once and --dry-run fetch once.  A VM
	 * whose key was dropped is still fetched from, so that its clients
	 * hear at once that dom0 refuses them (handle_request) */
	return !d->stopping && v->queue == NULL && v->nready < READY_MAX &&
	       !((d->opts->once || d->opts->dry_run) && v->x.fetched);
}

static int
session_wanted(const struct daemon *d, const struct vm *v)
{
	return v->x.agent >= AGENT_SESSION && d->cfg->poll == POLL_WATCH &&
	       !d->opts->once && !d->opts->dry_run;
}

/* A quiet turn, when no fetch is wanted: a session that still has
 * results to send, or commands whose results are to come. */
static int
quiet_wanted(const struct daemon *d, const struct vm *v)
{
	return session_wanted(d, v) && !d->stopping &&
	       (v->queue != NULL || v->running > 0 ||
		v->nready > v->x.nsending);
}

static void
wind(struct vm *v, struct call *c)
{
	c->next = v->x.winding;
	v->x.winding = c;
	v->x.nwinding++;
}

/* The live call, acted on, goes to wind down; the line is idle. */
static void
line_release(struct vm *v)
{
	wind(v, v->x.call);
	v->x.call = NULL;
	v->x.state = X_IDLE;
}

/* ---- the deliver in flight ------------------------------------------- */

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

/* Whether the deliver in flight has room for one more item. */
static int
sending_room(const struct exchange *x)
{
	return x->nsending < FETCH_REQ_MAX &&
	       (x->nsending == 0 || x->sending_bytes < DELIVER_BUDGET);
}

/* Whether v's line carries live output (issue 16): a session of an agent
 * that takes it.  A deliver call of its own never does: a part a call
 * would cost more than it saves. */
static int
live_line(const struct daemon *d, const struct vm *v)
{
	return v->x.agent >= AGENT_LIVE && session_wanted(d, v);
}

/* Whether j is one of v's running commands with output the VM has not
 * acknowledged, and no part of it in the deliver in flight. */
static int
live_due(const struct vm *v, const struct job *j)
{
	const struct run *r = j->run;

	return j->vm == v && r != NULL && !j->live_off &&
	       (r->w.written[0] > j->live_acked[0] ||
		r->w.written[1] > j->live_acked[1]) &&
	       !picked(v->x.sending, v->x.nsending, j->cid);
}

/* Whether some command of v's has live output to send on its line. */
static int
live_waiting(const struct daemon *d, const struct vm *v)
{
	if (!live_line(d, v) || v->running == 0)
		return 0;
	for (size_t i = 0; i < d->njobs; i++)
		if (live_due(v, d->jobs[i]))
			return 1;
	return 0;
}

/* Adds a live part of each command of v's that has output the VM has not
 * acknowledged: from there, at most LIVE_PART_MAX of each stream.  The
 * part reads the command's unfinished outbox entry, which only grows. */
static void
pick_live(struct daemon *d, struct vm *v)
{
	struct exchange *x = &v->x;

	for (size_t i = 0; i < d->njobs && sending_room(x); i++) {
		const struct job *j = d->jobs[i];
		struct deliver_item *e;

		if (!live_due(v, j))
			continue;
		e = &x->sending[x->nsending++];
		memset(e, 0, sizeof(*e));
		memcpy(e->cid, j->cid, sizeof(e->cid));
		memcpy(e->claim, j->claim, sizeof(e->claim));
		memcpy(e->dir, j->run->w.tmpdir, sizeof(e->dir));
		e->status = RESULT_OK;
		e->live = 1;
		for (size_t f = 0; f < 2; f++) {
			uint64_t left = j->run->w.written[f] -
					j->live_acked[f];
			e->from[f] = j->live_acked[f];
			e->len[f] = left < LIVE_PART_MAX ? left : LIVE_PART_MAX;
			x->sending_bytes += e->len[f];
		}
	}
}

/* Adds v's ready results that are not in the deliver yet, oldest first,
 * a cid at most once per call (the reply names cids), then, with live on
 * a line that carries them, live parts; past DELIVER_BUDGET or
 * FETCH_REQ_MAX the rest waits for the next call.  1 when some results
 * were left out. */
static int
pick_ready(struct daemon *d, struct vm *v, int live)
{
	struct exchange *x = &v->x;

	for (size_t i = 0; i < v->nready; i++) {
		if (picked(x->sending, x->nsending, v->ready[i].cid))
			continue;
		/* an agent before notes would take one for a result, one
		 * before AGENT_LATE a started note */
		if (v->ready[i].note && x->agent > 0 &&
		    (x->agent < AGENT_NOTES ||
		     (x->agent < AGENT_LATE &&
		      v->ready[i].status == RESULT_STARTED))) {
			struct deliver_item e = v->ready[i--];
			(void)outbox_remove(&e);
			ready_drop(v, &e);
			continue;
		}
		if (!sending_room(x))
			return 1;
		x->sending_bytes += item_bytes(&v->ready[i]);
		x->sending[x->nsending++] = v->ready[i];
		v->ready[i].sent++;
	}
	if (live && live_line(d, v))
		pick_live(d, v);
	return 0;
}

/* Sets up the sending list and source of a deliver; 0 or -1. */
static int
deliver_setup(struct vm *v, const char *nonce)
{
	struct exchange *x = &v->x;

	/* not calloc: zeroing would make every page of it resident */
	x->sending = malloc(FETCH_REQ_MAX * sizeof(*x->sending));
	x->source = malloc(sizeof(*x->source));
	x->nsending = 0;
	x->sending_bytes = 0;
	if (x->sending != NULL && x->source != NULL &&
	    program_deliver_init(x->source, nonce, NULL, 0, x->agent) == 0)
		return 0;
	free(x->sending);
	free(x->source);
	x->sending = NULL;
	x->source = NULL;
	return -1;
}

static void
deliver_cleanup(struct vm *v)
{
	struct exchange *x = &v->x;

	if (x->source != NULL)
		program_deliver_release(x->source);
	free(x->source);
	x->source = NULL;
	free(x->sending);
	x->sending = NULL;
	x->nsending = 0;
}

void
exchange_delivered(struct vm *v, const struct deliver_item *e)
{
	struct exchange *x = &v->x;

	/* a note leaves the claim held: no result was delivered */
	if (!e->note && (x->state == X_FETCHING || x->state == X_CARRYING)) {
		struct held_claim *g = &x->gone[x->ngone++ % FETCH_HELD_MAX];
		memcpy(g->cid, e->cid, sizeof(g->cid));
		memcpy(g->claim, e->claim, sizeof(g->claim));
	}
	ready_drop(v, e);
}

/*
 * The VM answered live part p, or failed result p: "ok" moves what it
 * holds on, for the command, or for its result when it has finished
 * meanwhile (which is sent from there); "fail" or "gone" ends live output
 * for the command, and its result is sent whole.  A live part's answer is
 * not a failure of the VM's.
 */
static void
live_answered(struct daemon *d, struct vm *v, const struct deliver_item *p,
	      int ok)
{
	uint64_t *held = NULL;
	int *off = NULL, none = 0;

	for (size_t i = 0; i < d->njobs && held == NULL; i++) {
		struct job *j = d->jobs[i];
		if (j->vm == v && strcmp(j->cid, p->cid) == 0 &&
		    strcmp(j->claim, p->claim) == 0) {
			held = j->live_acked;
			off = &j->live_off;
		}
	}
	/* the command's own result only (exchange_moved gave the part its
	 * directory), not one dom0 parked in its place */
	for (size_t i = 0; i < v->nready && held == NULL; i++) {
		struct deliver_item *e = &v->ready[i];
		if (!e->note && strcmp(e->cid, p->cid) == 0 &&
		    strcmp(e->claim, p->claim) == 0 &&
		    strcmp(e->dir, p->dir) == 0) {
			held = e->from;
			off = &none;
		}
	}
	if (held == NULL)
		return;
	for (size_t f = 0; f < 2; f++) {
		if (!ok)
			held[f] = 0;
		else if (p->from[f] + p->len[f] > held[f])
			held[f] = p->from[f] + p->len[f];
	}
	if (!ok)
		*off = 1;
}

/* The one place a deliver reply is acted on, its first len bytes: what
 * was delivered leaves the outbox, what a live part reached is kept.  0
 * when everything sent was. */
static int
deliver_reply(struct daemon *d, struct vm *v, const struct call *c,
	      size_t len)
{
	struct exchange *x = &v->x;
	struct deliver_reply reply;
	size_t delivered = 0;

	if (frame_parse_deliver((const uint8_t *)c->reply.data, len,
				&reply) != 0) {
		vm_failed(d, v, "malformed deliver reply", c);
		return -1;
	}
	for (size_t i = 0; i < reply.n; i++) {
		const struct deliver_entry *e = &reply.e[i];
		for (size_t k = 0; k < x->nsending; k++) {
			if (strcmp(x->sending[k].cid, e->cid) != 0)
				continue;
			if (x->sending[k].live) {
				live_answered(d, v, &x->sending[k],
					      e->status == DELIVER_OK);
				delivered++;
				break;
			}
			if (e->status == DELIVER_FAIL) {
				/* a result that continued the VM's live
				 * files goes whole next time */
				if (!x->sending[k].note)
					live_answered(d, v, &x->sending[k], 0);
				break;
			}
			/* below AGENT_LATE, "gone" also says the VM
			 * removed the claim and never got the result;
			 * to a result sent before, it is the answer an
			 * earlier call lost */
			if (e->status == DELIVER_GONE && !x->sending[k].note &&
			    x->sending[k].sent == 0 &&
			    x->agent > 0 && x->agent < AGENT_LATE)
				ev_simple(d, "ERROR", v->name, e->cid, "reason",
					  "the result was not delivered: the "
					  "VM's qvm-remote-agent, older than "
					  "this dom0, found its claim removed "
					  "in the VM; update the agent in its "
					  "template");
			(void)outbox_remove(&x->sending[k]);
			exchange_delivered(v, &x->sending[k]);
			delivered++;
			break;
		}
	}
	/* a VM that answers "fail" (a full disk) backs off like a failed call */
	if (delivered < x->nsending) {
		vm_failed(d, v, "results not delivered; they stay in the outbox",
			  c);
		return -1;
	}
	vm_recovered(d, v);
	return 0;
}

/* A call that delivered has ended: its reply, whole, is acted on. */
static void
deliver_end(struct daemon *d, struct vm *v, struct call **c)
{
	if (!call_ok(*c))
		vm_failed(d, v, "deliver failed in the transport", *c);
	else
		(void)deliver_reply(d, v, *c, (*c)->reply.len);
	call_free(c);
	deliver_cleanup(v);
}

/* ---- fetch ------------------------------------------------------------ */

/* A watch fetch's wait: the configured one, doubled for each fetch in a
 * row that came back empty (WAIT_DOUBLINGS). */
static unsigned
watch_wait(const struct daemon *d, const struct exchange *x)
{
	unsigned wait = d->cfg->watch_wait_s;

	for (unsigned i = 0; i < x->empty_waits && i < WAIT_DOUBLINGS; i++)
		wait = wait >= WAIT_LONGEST_S / 2 ? WAIT_LONGEST_S : wait * 2;
	return wait;
}

/* The next fetch into v: its claims' prefix, its wait, and v's stranded
 * claims to put back (the list is v's no longer: a failed fetch loses it,
 * and the next one's held lines rebuild it). */
static void
next_fetch(struct daemon *d, struct vm *v, struct fetch_params *p,
	   char prefix[CLAIM_MAX + 1], enum fetch_kind kind, int64_t now_ms)
{
	struct exchange *x = &v->x;

	*p = (struct fetch_params){
		/* the first fetch of a VM answers at once: its held lines
		 * drive crash recovery, which should not wait for traffic;
		 * so does the sh program that follows a failed call into a
		 * VM whose agent was known: it only finds out whether the
		 * agent is still there, and the session that follows it
		 * carries what waits (live output, issue 16) */
		.wait_s = kind == FETCH_CLAIM && d->cfg->poll == POLL_WATCH &&
				  !d->opts->once && !d->opts->dry_run &&
				  x->fetched && v->nrelease == 0 &&
				  !(x->agent == 0 &&
				    x->agent_stored >= AGENT_SESSION)
			  ? watch_wait(d, x) : 0,
		.claim_prefix = prefix,
		.max_requests = FETCH_REQ_MAX,
		.max_bytes = kind == FETCH_CLAIM ? FETCH_BUDGET : 0,
		.peek = d->opts->dry_run,
		.release = v->release, .nrelease = v->nrelease,
	};
	snprintf(prefix, CLAIM_MAX + 1, "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	memcpy(x->prefix, prefix, sizeof(x->prefix));
	x->quiet = kind == FETCH_QUIET;
	v->nrelease = 0;
	x->wait_s = p->wait_s;
	x->started_ms = now_ms;
}

static void
fetch_start(struct daemon *d, struct vm *v, enum fetch_kind kind, int64_t t)
{
	struct exchange *x = &v->x;
	struct buf prog = BUF_INIT(64u << 10),
		   cmd = BUF_INIT(AGENT_FETCH_CMD_MAX);
	char prefix[CLAIM_MAX + 1];
	struct fetch_params p;
	int session = session_wanted(d, v), r;
	struct call *c = NULL;

	next_fetch(d, v, &p, prefix, kind, t);
	r = !x->agent ? program_fetch(&prog, &p)
	    : session ? program_agent_session(&cmd, &p)
		      : program_agent_fetch(&cmd, &p);
	if (r != 0 || (c = calloc(1, sizeof(*c))) == NULL ||
	    call_start(c, &d->transport, v->name,
		       x->agent ? buf_str(&cmd) : NULL, &prog, NULL,
		       FETCH_REPLY_MAX, t,
		       t + ((int64_t)p.wait_s + FETCH_GRACE_S) * 1000) != 0) {
		free(c);
		ev_simple(d, "ERROR", v->name, NULL, "reason",
			  "cannot start the transport");
		x->next_fetch_ms = t + BACKOFF_MAX_MS;
		goto out;
	}
	c->keep_open = x->agent && session;
	x->call = c;
	x->state = X_FETCHING;
	x->early_bad = 0;
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
			 v->x.prefix, (unsigned)i);
		if (strcmp(want, r->req[i].claim) != 0)
			return 0;
	}
	return 1;
}

/* Acts on a valid fetch reply: the requests, the held claims, and when
 * to fetch next. */
static void
fetch_apply(struct daemon *d, struct vm *v, const struct fetch_reply *reply,
	    int64_t t)
{
	struct exchange *x = &v->x;

	vm_recovered(d, v);
	x->agent = reply->agent;
	x->agent_hinted = 0;
	if (x->agent != x->agent_stored &&
	    agenthint_save(d->cfg->state_dir, v->name, x->agent) == 0)
		x->agent_stored = x->agent;
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
		x->next_fetch_ms = t + (int64_t)d->cfg->interval_s * 1000;
	else if (reply->n == 0 && x->wait_s > 0 && x->state != X_CARRYING &&
		 t - x->started_ms < 1000 && v->nrelease == 0)
		x->next_fetch_ms = t + 1000;
	else
		x->next_fetch_ms = t;
	/* requests, or results sent into the wait: the VM is in use */
	if (reply->n > 0 || x->state == X_CARRYING)
		x->empty_waits = 0;
	else if (x->wait_s > 0 && x->empty_waits < WAIT_DOUBLINGS)
		x->empty_waits++;
	/* past its budget of rejected work, a VM is not fetched from until
	 * the budget's window ends (budget.h) */
	if (budget_spent(&v->rejects, t) &&
	    x->next_fetch_ms < budget_ends(&v->rejects))
		x->next_fetch_ms = budget_ends(&v->rejects);
}

/* The one place a fetch reply is acted on, the first len bytes of c's
 * output: parsed, checked to name this fetch's claims, applied.  0, or
 * why not (nothing was applied). */
static int
fetch_reply(struct daemon *d, struct vm *v, const struct call *c, size_t len,
	    int64_t t)
{
	struct fetch_reply *reply = malloc(sizeof(*reply));
	int r;

	if (reply == NULL)
		return QR_ERR_NOMEM;
	r = frame_parse_fetch((const uint8_t *)c->reply.data, len, reply);
	/* a quiet turn claims nothing: requests in its reply would let a
	 * VM queue more work than one fetch brings */
	if (r == 0 && (!claims_ours(v, reply) || (v->x.quiet && reply->n > 0)))
		r = QR_ERR_INVALID;
	if (r == 0) {
		v->x.fetched = 1;
		fetch_apply(d, v, reply, t);
	}
	free(reply);
	return r;
}

static void collect(struct daemon *d, struct vm *v, int64_t t);

/* A session whose fetch reply was acted on opens its deliver for the
 * results of what it brought (in X_CARRYING it is open already).  0, or
 * -1 when it cannot (a deliver beside is out). */
static int
collect_open(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call *c = x->call;

	if (x->state != X_CARRYING) {
		if (x->dstate != XD_IDLE || deliver_setup(v, x->prefix) != 0)
			return -1;
		program_deliver_open(x->source);
		program_deliver_anchor(x->source, &d->audit);   /* issue 12 */
		c->src = x->source;
	}
	c->deadline_ms = t + SESSION_HOLD_MS + DELIVER_TIMEOUT_S * 1000;
	x->state = X_COLLECTING;
	x->collect_until = t + SESSION_COLLECT_MS;
	x->hold_until = t + SESSION_HOLD_MS;
	return 0;
}

/*
 * X_FETCHING, X_CARRYING: acts on the fetch reply as soon as it is whole
 * (frame_fetch_span) and valid, while the transport is still running; 1
 * when it was.  A reply that cannot be acted on so is parsed whole when
 * the call ends, and a session, which would not end, has its input closed
 * so that it does.
 */
static int
fetch_early(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call *c = x->call;
	size_t span;
	int r;

	if (x->early_bad || c->failed)
		return 0;
	r = frame_fetch_span((const uint8_t *)c->reply.data, c->reply.len,
			     &span);
	if (r == QR_ERR_INCOMPLETE)
		return 0;
	/* a fetch says nothing after its reply: what it does is malformed,
	 * as its end will show; a session's next reply is its deliver's,
	 * looked at once dom0 has closed that */
	if (r == 0 && !c->keep_open && span != c->reply.len)
		r = QR_ERR_TRAILING;
	if (r == 0 && (r = fetch_reply(d, v, c, span, t)) == QR_ERR_NOMEM)
		return 0;
	if (r != 0) {
		x->early_bad = 1;
		if (x->state == X_CARRYING)
			(void)program_deliver_close(x->source, NULL);
		if (c->keep_open)
			call_end_input(c);
		return 0;
	}
	buf_consume(&c->reply, span);
	if (c->keep_open && collect_open(d, v, t) == 0) {
		/* a turn that brought nothing to wait for closes now, not a
		 * turn of the loop later: with 200 idle sessions each turn
		 * of the loop counts */
		collect(d, v, t);
		return 1;
	}
	/* a session that cannot collect ends after an empty deliver */
	if (c->keep_open && call_send(c, "end 0\n") == 0)
		call_end_input(c);
	/* the next fetch need not wait for this one's transport to wind
	 * down */
	line_release(v);
	return 1;
}

/* X_FETCHING, X_CARRYING: the call ended before its reply was acted on. */
static void
fetch_end(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call *c = x->call;
	int r;

	if (x->state == X_CARRYING)
		deliver_cleanup(v);     /* the results stay in the outbox */
	x->call = NULL;
	x->state = X_IDLE;
	x->fetched = 1;
	if (!call_ok(c) && d->stopping)
		goto out;       /* we ended it: not the VM's failure */
	if (!call_ok(c)) {
		vm_failed(d, v, c->failed ? "fetch failed (deadline or reply "
			  "too large)" : "fetch failed in the transport", c);
		goto out;
	}
	if ((r = fetch_reply(d, v, c, c->reply.len, t)) != 0) {
		struct buf *b = ev_begin(d, "ERROR", v->name, NULL);
		(void)logline_kvs(b, "reason", "malformed fetch reply");
		(void)logline_kvs(b, "error", qr_strerror(r));
		ev_end(d);
		x->next_fetch_ms = t + BACKOFF_MAX_MS;
	}
out:
	call_free(&c);
}

/* ---- sessions: carry, collect, close ---------------------------------- */

/* Whether the live call is a session fetching that results can go into. */
static int
can_carry(const struct vm *v)
{
	const struct exchange *x = &v->x;
	const struct call *c = x->call;

	return x->state == X_FETCHING && c->keep_open && !x->early_bad &&
	       !c->failed && c->in >= 0 && x->dstate == XD_IDLE;
}

/* X_FETCHING -> X_CARRYING: v's ready results go into the session: the
 * agent's wait ends, its fetch claims nothing, and the turn goes on. */
static void
carry(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;

	if (deliver_setup(v, x->prefix) != 0) {
		x->next_deliver_ms = t + BACKOFF_MAX_MS;
		return;
	}
	program_deliver_open(x->source);
	program_deliver_anchor(x->source, &d->audit);   /* issue 12 */
	(void)pick_ready(d, v, 1);
	program_deliver_add(x->source, x->sending, x->nsending);
	x->call->src = x->source;
	x->state = X_CARRYING;
}

/* X_COLLECTING -> X_CLOSING: "end N", then the next turn (a fetch, or a
 * quiet one while commands wait for a slot), else the end of the input. */
static void
session_close(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct buf line = BUF_INIT(AGENT_FETCH_CMD_MAX + 2);
	struct call *c = x->call;
	char prefix[CLAIM_MAX + 1];
	struct fetch_params p;
	int turn = t >= x->next_fetch_ms &&
		   (fetch_wanted(d, v) || quiet_wanted(d, v));

	x->turn_next = 0;
	if (turn) {
		next_fetch(d, v, &p, prefix, fetch_wanted(d, v) ? FETCH_CLAIM
				  : FETCH_QUIET, t);
		x->turn_next = program_agent_turn(&line, &p) == 0;
	}
	if (program_deliver_close(x->source, x->turn_next ? buf_str(&line)
							  : NULL) != 0)
		x->turn_next = 0;
	if (!x->turn_next)
		call_end_input(c);
	c->deadline_ms = t + (DELIVER_TIMEOUT_S +
			      (int64_t)(x->sending_bytes >> 20)) * 1000;
	x->state = X_CLOSING;
	call_flush(c);
	buf_release(&line);
}

/* X_COLLECTING: adds the new results, and closes the deliver when it is
 * full, the daemon stops, or nothing more is to come soon: every command
 * that fetch brought is done, or the window passed and none waits for a
 * slot (or it held so long). */
static void
collect(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	int full = pick_ready(d, v, 1), live = 0;

	program_deliver_add(x->source, x->sending, x->nsending);
	/* a live part out whole: its command's next output goes in the next
	 * turn, which comes at once rather than after the window */
	for (size_t i = 0; i < x->nsending && !live; i++)
		live = x->sending[i].live;
	if (full || d->stopping || t >= x->hold_until ||
	    (live && program_deliver_waiting(x->source)) ||
	    (v->queue == NULL && (v->running == 0 || t >= x->collect_until)))
		session_close(d, v, t);
}

/* X_CLOSING: acts on the deliver reply as soon as it is whole; the call
 * then fetches again for its next turn, or winds down.  1 when the state
 * changed. */
static int
closing_input(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call *c = x->call;
	size_t span;
	int ok;

	/* until it is acted on, a session has nothing to say beyond its
	 * deliver reply: more is cut off, not held */
	span = c->failed ? 0 : frame_deliver_span(
		(const uint8_t *)c->reply.data, c->reply.len);
	if (span == 0 && c->reply.len > DELIVER_REPLY_MAX)
		call_tick(c, INT64_MAX);
	/* a reply before dom0 has sent its deliver whole answers nothing
	 * it sent: the call is cut off (and stops reading the source) */
	if (span > 0 && c->src != NULL) {
		c->src = NULL;
		call_tick(c, INT64_MAX);
		span = 0;
	}
	if (span == 0 && !call_done(c))
		return 0;
	if (span == 0) {
		x->call = NULL;
		x->state = X_IDLE;
		deliver_end(d, v, &c);
		return 1;
	}
	ok = deliver_reply(d, v, c, span) == 0;
	buf_consume(&c->reply, span);
	deliver_cleanup(v);
	if (ok && x->turn_next) {
		/* the session's next turn: it fetches again */
		x->state = X_FETCHING;
		x->early_bad = 0;
		c->deadline_ms = t + ((int64_t)x->wait_s + FETCH_GRACE_S) * 1000;
		return 1;
	}
	if (!ok)
		call_tick(c, INT64_MAX);        /* reaped as it winds down */
	line_release(v);
	return 1;
}

/* ---- the entry points ------------------------------------------------- */

/* Whether v's ready results can go out now, their time aside: into the
 * session that fetches, or by a deliver call beside the line. */
static int
can_deliver(const struct vm *v)
{
	const struct exchange *x = &v->x;

	return v->nready > 0 && x->dstate == XD_IDLE &&
	       (x->state == X_IDLE || x->state == X_FETCHING);
}

static void
deliver_start(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct buf empty = BUF_INIT(1), cmd = BUF_INIT(256);
	char nonce[CLAIM_MAX + 1];
	struct call *c = calloc(1, sizeof(*c));

	snprintf(nonce, sizeof(nonce), "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	if (c == NULL || deliver_setup(v, nonce) != 0)
		goto fail;
	program_deliver_anchor(x->source, &d->audit);   /* issue 12 */
	(void)pick_ready(d, v, 0);
	program_deliver_add(x->source, x->sending, x->nsending);
	if ((x->agent && program_agent_deliver(&cmd, x->source) != 0) ||
	    call_start(c, &d->transport, v->name,
		       x->agent ? buf_str(&cmd) : NULL, &empty, x->source,
		       DELIVER_REPLY_MAX, t, t + (DELIVER_TIMEOUT_S +
		       (int64_t)(x->sending_bytes >> 20)) * 1000) != 0)
		goto fail;
	x->dcall = c;
	x->dstate = XD_DELIVERING;
	buf_release(&cmd);
	return;
fail:
	buf_release(&cmd);
	deliver_cleanup(v);
	free(c);
	x->next_deliver_ms = t + BACKOFF_MAX_MS;
}

/* Whether a new call may start now (pace.h); if not, *due moves to when
 * one may. */
static int
paced(struct daemon *d, int64_t *due, int64_t t)
{
	if (pace_take(&d->pace, t))
		return 1;
	*due = pace_due(&d->pace);
	return 0;
}

void
exchange_start(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;

	if (x->state == X_COLLECTING)
		collect(d, v, t);
	if (x->state == X_IDLE && x->nwinding < WINDING_MAX &&
	    t >= x->next_fetch_ms) {
		if (fetch_wanted(d, v)) {
			if (paced(d, &x->next_fetch_ms, t))
				fetch_start(d, v, FETCH_CLAIM, t);
		} else if (quiet_wanted(d, v) &&
			   (can_deliver(v) || live_waiting(d, v)) &&
			   t >= x->next_deliver_ms &&
			   paced(d, &x->next_deliver_ms, t)) {
			fetch_start(d, v, FETCH_QUIET, t);
		}
	}
	if (t < x->next_deliver_ms)
		return;
	if (can_carry(v) && (can_deliver(v) || live_waiting(d, v)))
		carry(d, v, t);
	else if (can_deliver(v) && paced(d, &x->next_deliver_ms, t))
		deliver_start(d, v, t);
}

/* The live call's I/O; 1 when the state changed. */
static int
line_input(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call *c = x->call;

	switch (x->state) {
	case X_FETCHING:
	case X_CARRYING:
		if (!call_done(c))
			return fetch_early(d, v, t);
		fetch_end(d, v, t);
		return 1;
	case X_COLLECTING:
		/* the reply comes once dom0 has closed the deliver: a
		 * session saying more before is cut off, not held */
		if (c->reply.len > DELIVER_REPLY_MAX)
			call_tick(c, INT64_MAX);
		if (!call_done(c))
			return 0;
		x->call = NULL;
		x->state = X_IDLE;
		deliver_end(d, v, &c);
		return 1;
	case X_CLOSING:
		return closing_input(d, v, t);
	case X_IDLE:
		break;
	}
	return 0;
}

void
exchange_input(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	int moved = 1;

	/* a turn's replies may come together: act on each in order */
	while (moved) {
		moved = x->call != NULL && line_input(d, v, t);
		if (x->dcall != NULL && call_done(x->dcall)) {
			x->dstate = XD_IDLE;
			deliver_end(d, v, &x->dcall);
			moved = 1;
		}
	}
}

void
exchange_time(struct daemon *d, struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	int hard = d->stopping && t >= d->stop_deadline_ms;

	/* stopping, a fetch (a session's too) is ended: it waits for
	 * requests that no longer start; past the stop's grace every call
	 * but a deliver is (its claims are recovered at the next start) */
	if ((x->state == X_FETCHING || x->state == X_CARRYING) &&
	    ((d->stopping && d->cfg->poll == POLL_WATCH) ||
	     (hard && !x->call->failed)))
		call_tick(x->call, INT64_MAX);
	for (struct call *c = x->winding; hard && c != NULL; c = c->next)
		if (!c->failed)
			call_tick(c, INT64_MAX);
	if (x->call != NULL)
		call_tick(x->call, t);
	if (x->dcall != NULL)
		call_tick(x->dcall, t);
	if (x->state == X_COLLECTING && v->up)
		collect(d, v, t);
}

static void
earliest(int64_t *w, int64_t t)
{
	if (t < *w)
		*w = t;
}

int64_t
exchange_wake(const struct daemon *d, const struct vm *v, int64_t w)
{
	const struct exchange *x = &v->x;

	if (x->call != NULL)
		earliest(&w, x->call->deadline_ms);
	if (x->dcall != NULL)
		earliest(&w, x->dcall->deadline_ms);
	for (const struct call *c = x->winding; c != NULL; c = c->next)
		earliest(&w, c->deadline_ms);
	/* a fetch that is not wanted (commands still queued, say) is no
	 * reason to wake: its time may be long past */
	if (x->state == X_IDLE && x->nwinding < WINDING_MAX &&
	    fetch_wanted(d, v))
		earliest(&w, x->next_fetch_ms);
	if (can_deliver(v) || (can_carry(v) && live_waiting(d, v)))
		earliest(&w, x->next_deliver_ms);
	if (x->state == X_COLLECTING)
		earliest(&w, v->queue != NULL || x->collect_until > x->hold_until
			     ? x->hold_until : x->collect_until);
	return w;
}

void
exchange_wound(struct vm *v, int64_t t)
{
	struct exchange *x = &v->x;
	struct call **pp = &x->winding, *c;

	while ((c = *pp) != NULL) {
		call_tick(c, t);
		if (!call_done(c)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		x->nwinding--;
		call_free(&c);
	}
}

void
exchange_hint(struct vm *v, unsigned agent)
{
	v->x.agent = v->x.agent_stored = agent;
	v->x.agent_hinted = agent > 0;
}

void
exchange_vm_up(struct vm *v)
{
	v->x.next_fetch_ms = v->x.next_deliver_ms = 0;
}

int
exchange_idle(const struct vm *v)
{
	return v->x.call == NULL && v->x.dcall == NULL && v->x.winding == NULL;
}

void
exchange_release(struct vm *v)
{
	struct exchange *x = &v->x;

	call_free(&x->call);
	call_free(&x->dcall);
	while (x->winding != NULL) {
		struct call *c = x->winding;
		x->winding = c->next;
		call_free(&c);
	}
	x->nwinding = 0;
	x->state = X_IDLE;
	x->dstate = XD_IDLE;
	deliver_cleanup(v);
}

int
exchange_sending(const struct vm *v, const struct deliver_item *e)
{
	for (size_t i = 0; i < v->x.nsending; i++)
		if (strcmp(v->x.sending[i].dir, e->dir) == 0)
			return 1;
	return 0;
}

void
exchange_moved(struct vm *v, const struct deliver_item *e)
{
	struct exchange *x = &v->x;

	for (size_t i = 0; i < x->nsending; i++)
		if (x->sending[i].live && strcmp(x->sending[i].cid, e->cid) == 0 &&
		    strcmp(x->sending[i].claim, e->claim) == 0)
			memcpy(x->sending[i].dir, e->dir, sizeof(e->dir));
}

int
exchange_holds(const struct vm *v, const struct held_claim *h)
{
	const struct exchange *x = &v->x;

	for (size_t i = 0; i < x->nsending; i++)
		if (strcmp(h->cid, x->sending[i].cid) == 0 &&
		    strcmp(h->claim, x->sending[i].claim) == 0)
			return 1;
	/* delivered while this fetch was out: done, not stranded */
	for (size_t i = 0; i < x->ngone && i < FETCH_HELD_MAX; i++)
		if (strcmp(h->cid, x->gone[i].cid) == 0 &&
		    strcmp(h->claim, x->gone[i].claim) == 0)
			return 1;
	return 0;
}

void
exchange_forget_gone(struct vm *v)
{
	v->x.ngone = 0;
}
