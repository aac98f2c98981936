/*
 * events.c - audit lines of the daemon, built with lib/logline.h.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

void
ev_end(struct daemon *d)
{
	if (audit_write(&d->audit, &d->line) != 0)
		fprintf(stderr, "qvm-remote-dom0: cannot write the audit log: %s\n",
			strerror(errno));
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
