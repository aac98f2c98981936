/*
 * exchange.c - the two transport calls per VM: fetch and deliver.
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

void
start_fetch(struct daemon *d, struct vm *v)
{
	struct buf prog = BUF_INIT(64u << 10),
		   cmd = BUF_INIT(AGENT_FETCH_CMD_MAX);
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
	int64_t t = mono_ms();
	struct call *c;

	snprintf(prefix, sizeof(prefix), "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	memcpy(v->fetch_prefix, prefix, sizeof(v->fetch_prefix));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	/* a failed fetch loses the list: the next one's held lines rebuild it */
	v->nrelease = 0;
	if ((v->agent ? program_agent_fetch(&cmd, &p)
		      : program_fetch(&prog, &p)) != 0 ||
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
fetch_apply(struct daemon *d, struct vm *v, const struct fetch_reply *reply,
	    int64_t started_ms)
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
	else if (reply->n == 0 && t - started_ms < 1000 && v->nrelease == 0)
		v->next_fetch_ms = t + 1000;
	else
		v->next_fetch_ms = t;
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

	/* a few tries a call: a VM that keeps sending "done" lines into a
	 * reply that never parses must not have it parsed again and again */
	if (c == NULL || v->fetch_applied || c->failed ||
	    v->fetch_early_tries >= FETCH_EARLY_TRIES ||
	    !ends_with_done(&c->reply) || (reply = malloc(sizeof(*reply))) == NULL)
		return;
	v->fetch_early_tries++;
	if (fetch_parse(v, c, reply) == 0) {
		v->fetch_applied = 1;
		v->fetched = 1;
		fetch_apply(d, v, reply, c->started_ms);
		/* the next fetch need not wait for this one's transport to
		 * wind down: it waits aside, at most one at a time */
		if (v->ending == NULL) {
			v->ending = c;
			v->fetch = NULL;
			v->fetch_applied = 0;
		}
	}
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
	fetch_apply(d, v, reply, c->started_ms);
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

void
start_deliver(struct daemon *d, struct vm *v)
{
	struct buf empty = BUF_INIT(1), cmd = BUF_INIT(256);
	struct deliver_src *src;
	struct call *c;
	char nonce[CLAIM_MAX + 1];
	uint64_t bytes = 0;
	size_t n = 0;
	int64_t t = mono_ms();

	v->sending = malloc(FETCH_REQ_MAX * sizeof(*v->sending));
	src = malloc(sizeof(*src));
	c = calloc(1, sizeof(*c));
	if (v->sending == NULL || src == NULL || c == NULL)
		goto fail;
	/* oldest first; a cid at most once per call (the reply names cids);
	 * past DELIVER_BUDGET the rest waits for the next call */
	for (size_t i = 0; i < v->nready && n < FETCH_REQ_MAX; i++) {
		if (picked(v->sending, n, v->ready[i].cid))
			continue;
		if (n > 0 && bytes >= DELIVER_BUDGET)
			break;
		bytes += item_bytes(&v->ready[i]);
		v->sending[n++] = v->ready[i];
	}
	v->nsending = n;
	snprintf(nonce, sizeof(nonce), "%s-%u", d->boot_tag,
		 d->fetch_counter++);
	if (program_deliver_init(src, nonce, v->sending, n, v->agent) != 0 ||
	    (v->agent && program_agent_deliver(&cmd, src) != 0))
		goto fail;
	v->source = src;
	if (call_start(c, &d->transport, v->name,
		       v->agent ? buf_str(&cmd) : NULL, &empty, src,
		       DELIVER_REPLY_MAX, t, t + (DELIVER_TIMEOUT_S +
		       (int64_t)(bytes >> 20)) * 1000) != 0)
		goto fail;
	v->deliver = c;
	buf_release(&cmd);
	return;
fail:
	buf_release(&cmd);
	free(v->sending);
	v->sending = NULL;
	v->nsending = 0;
	v->source = NULL;
	free(src);
	free(c);
	v->next_deliver_ms = t + BACKOFF_MAX_MS;
}

void
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
		vm_failed(d, v, "malformed deliver reply", c);
		goto out;
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
	if (delivered < v->nsending)
		vm_failed(d, v, "results not delivered; they stay in the outbox",
			  c);
	else
		vm_recovered(d, v);
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
