/*
 * events.c - audit lines of the daemon, built with lib/logline.h.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "logline.h"

#include "banned.h"

struct buf *
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

int
ev_end(struct daemon *d)
{
	int r = audit_write(&d->audit, &d->line);

	if (r != 0)
		fprintf(stderr, "qvm-remote-dom0: cannot write the audit log: %s\n",
			r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
	return r;
}

void
ev_simple(struct daemon *d, const char *category, const char *vm,
	  const char *cid, const char *key, const char *value)
{
	struct buf *b = ev_begin(d, category, vm, cid);

	if (key != NULL)
		(void)logline_kvs(b, key, value);
	ev_end(d);
}

void
ev_rejects_flush(struct daemon *d, struct vm *v, int64_t now_ms)
{
	unsigned over = budget_close(&v->rejects, now_ms);
	struct buf *b;

	if (over == 0)
		return;
	b = ev_begin(d, "REJECT", v->name, NULL);
	(void)logline_kvu(b, "count", over);
	(void)logline_kvs(b, "reason", "more rejected from this VM in the "
			  "last minute, not logged one by one");
	ev_end(d);
}

int
ev_rejected(struct daemon *d, struct vm *v)
{
	int64_t t = mono_ms();
	char why[160];

	ev_rejects_flush(d, v, t);
	if (budget_take(&v->rejects, t))
		return 1;
	if (v->rejects.spent == BUDGET_PER_WINDOW + 1) {
		snprintf(why, sizeof(why), "over %u rejected requests or "
			 "recovered claims in %d s: the rest are counted, and "
			 "nothing is fetched from this VM until the time is up",
			 BUDGET_PER_WINDOW, BUDGET_WINDOW_MS / 1000);
		ev_simple(d, "REJECT", v->name, NULL, "reason", why);
	}
	return 0;
}
