/*
 * exchange.c - the two transport calls per VM: fetch and deliver.
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "logline.h"
#include "outbox.h"

#include "banned.h"

#define FETCH_GRACE_S 30            /* a fetch may take this beyond its wait */
#define DELIVER_TIMEOUT_S 120
#define BACKOFF_MAX_MS 30000
#define FETCH_BUDGET (4u << 20)     /* stop claiming past this many bytes */

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
	int64_t t = mono_ms();
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

void
fetch_done(struct daemon *d, struct vm *v)
{
	struct call *c = v->fetch;
	struct fetch_reply *reply = NULL;
	int64_t t = mono_ms();
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

void
start_deliver(struct daemon *d, struct vm *v)
{
	struct buf empty = BUF_INIT(1);
	struct deliver_src *src;
	struct call *c;
	size_t n = v->nready < FETCH_REQ_MAX ? v->nready : FETCH_REQ_MAX;
	int64_t t = mono_ms();

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
		ev_simple(d, "ERROR", v->name, NULL, "reason",
			  "malformed deliver reply");
		v->next_deliver_ms = mono_ms() + BACKOFF_MAX_MS;
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
		v->next_deliver_ms = mono_ms() + 1000;
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
