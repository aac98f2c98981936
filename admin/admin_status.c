/*
 * admin_status.c - the verbs that report: status (the service and each
 * VM's state and recent activity) and log (the audit log's last lines).
 */
#include "admin.h"
#include "admin_util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "liveness.h"
#include "logparse.h"
#include "reader.h"
#include "timefmt.h"
#include "transport.h"
#include "banned.h"

#define FP_SHORT 8             /* base64 characters status shows */

static_assert(LOGPARSE_LINE_MAX >= AUDIT_LINE_MAX,
	      "every line audit_write accepts can be parsed back");

/* ----------------------------------------------------------------- status */

struct vm_stats {
	time_t last;
	unsigned long run, failed, rejected;
};

/* A POLICY line that refused the request (deny, or ask until approvals
 * are built): it counts as rejected. */
static int
policy_refused(const struct log_entry *e)
{
	const struct log_field *a;

	if (strcmp(e->category, "POLICY") != 0 ||
	    (a = logparse_get(e, "action")) == NULL)
		return 0;
	return strcmp(a->value, "allow") != 0;
}

/* Lines about a request from the VM: the daemon talked to it.  INFO and
 * ERROR lines (an admin's authorize, an unreachable VM) are not contact. */
static int
is_contact(const struct log_entry *e)
{
	return strcmp(e->category, "INFO") != 0 &&
	       strcmp(e->category, "ERROR") != 0;
}

/* Counts what the log's tail says about the VMs of t. */
static void
scan_log(const struct config *c, const struct vm_table *t,
	 struct vm_stats *st, time_t now)
{
	struct buf tail = BUF_INIT(ADMIN_LOG_TAIL_MAX);
	struct log_entry *e = malloc(sizeof(*e));
	size_t off = 0;

	if (e == NULL ||
	    admin_read_tail(c->log_path, ADMIN_LOG_TAIL_MAX, &tail, NULL) != 0)
		goto out;
	while (off < tail.len) {
		const char *line = tail.data + off;
		const char *nl = memchr(line, '\n', tail.len - off);
		size_t n = nl != NULL ? (size_t)(nl - line) : tail.len - off;
		const struct log_field *vm;
		size_t i;

		off += n + 1;
		if (logparse_line(line, n, e) != 0 ||
		    (vm = logparse_get(e, "vm")) == NULL)
			continue;
		/* by length too: an unescaped value may hold a NUL */
		for (i = 0; i < t->n; i++)
			if (strlen(t->row[i].name) == vm->value_len &&
			    memcmp(t->row[i].name, vm->value, vm->value_len) == 0)
				break;
		if (i == t->n)
			continue;
		if (is_contact(e) && e->when > st[i].last)
			st[i].last = e->when;
		if (e->when < now - 3600)
			continue;
		if (strcmp(e->category, "EXEC") == 0)
			st[i].run++;
		else if (strcmp(e->category, "DONE-FAIL") == 0 ||
			 strcmp(e->category, "TIMEOUT") == 0 ||
			 strcmp(e->category, "INTERRUPTED") == 0)
			st[i].failed++;
		else if (strcmp(e->category, "AUTH-FAIL") == 0 ||
			 strcmp(e->category, "AUTH-DENY") == 0 ||
			 strcmp(e->category, "REJECT") == 0 ||
			 policy_refused(e))
			st[i].rejected++;
	}
out:
	free(e);
	buf_release(&tail);
}

static void
ago(time_t now, time_t t, char *out, size_t n)
{
	if (t == 0)
		snprintf(out, n, "-");
	else
		fmt_ago(out, n, now > t ? (uint64_t)(now - t) : 0);
}

/* Whether the daemon runs comes from its lock (liveness.h), with or
 * without systemd; whether it starts at boot, from systemctl. */
static void
print_service(const struct config *c)
{
	char path[PATH_MAX], enabled[32], state[64];
	const char *boot = NULL;
	long pid;
	int up = liveness_probe(c->runtime_dir, &pid);

	if (up == 1 && pid > 0)
		snprintf(state, sizeof(state), "running (pid %ld)", pid);
	else
		snprintf(state, sizeof(state), "%s", up == 1 ? "running"
			 : up == 0 ? "not running" : "unknown");
	if (admin_find_systemctl(path) != 0) {
		boot = "no systemd";
	} else {
		admin_systemctl_word("is-enabled", enabled, sizeof(enabled));
		if (strcmp(enabled, "enabled") == 0 ||
		    strcmp(enabled, "enabled-runtime") == 0)
			boot = "enabled at boot";
		else if (strcmp(enabled, "masked") == 0)
			boot = "masked";
		else if (enabled[0] == '\0')
			boot = "unit not installed or systemd not running";
		else
			boot = "not enabled at boot";
	}
	printf("%-10s %s, %s\n", "service", state, boot);
}

int
admin_status(const struct config *c, int argc, char **argv)
{
	struct vm_table *t;
	struct vm_stats *st = NULL;
	struct transport tr;
	char msg[256], mode[64];
	time_t now = time(NULL);
	size_t i;
	int w, ret = ADMIN_OK;

	if (argc != 1)
		return admin_usage("status");
	if ((t = malloc(sizeof(*t))) == NULL ||
	    (st = calloc(sizeof(t->row) / sizeof(t->row[0]), sizeof(*st)))
	    == NULL) {
		complain("out of memory");
		ret = ADMIN_FAIL;
		goto out;
	}
	print_service(c);
	if (c->poll == POLL_WATCH)
		snprintf(mode, sizeof(mode), "watch mode");
	else
		snprintf(mode, sizeof(mode), "interval mode, every %u s",
			 c->interval_s);
	printf("%-10s %s, %s%s\n", "transport",
	       c->transport == TRANSPORT_QVM_RUN ? "qvm-run" : "qrexec-client",
	       mode, transport_init(&tr, c, msg, sizeof(msg)) == 0 ? ""
	       : " (program not found)");
	fflush(stdout);
	/* issue 12: the log's verification key must not stay in dom0 */
	if (audit_key_pending(c->state_dir))
		complain("the audit log's verification key is still in dom0 "
			 "(%s/" AUDIT_PENDING_FILE "): show it with " PROG
			 " audit setup-key and keep it outside dom0",
			 c->state_dir);
	if ((ret = admin_load_listing(c, t)) != ADMIN_OK || t->n == 0)
		goto out;
	scan_log(c, t, st, now);
	w = admin_name_width(t);
	printf("%-*s  %-8s %-18s  %-13s %-8s %-7s %s\n", w, "VM", "STATE", "KEY",
	       "LAST CONTACT", "RUN(1h)", "FAILED", "REJECTED");
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];
		char path[PATH_MAX], key[32], when[32];
		struct stat sb;
		int n = snprintf(path, sizeof(path), "%s/qrexec.%s",
				 c->qrexec_dir, row->name);
		int up = n > 0 && (size_t)n < sizeof(path) &&
			 lstat(path, &sb) == 0;

		if (row->key_r == 0)
			snprintf(key, sizeof(key), "%.*s...",
				 (int)(sizeof("SHA256:") - 1 + FP_SHORT),
				 row->fp);
		else
			snprintf(key, sizeof(key), "%s",
				 row->has_file ? "unusable" : "no key");
		ago(now, st[i].last, when, sizeof(when));
		printf("%-*s  %-8s %-18s  %-13s %-8lu %-7lu %lu\n", w, row->name,
		       up ? "running" : "halted", key, when, st[i].run,
		       st[i].failed, st[i].rejected);
	}
	fflush(stdout);
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];

		if (row->has_file && row->key_r != 0)
			admin_key_problem(c, row);
		else if (row->key_r == 0 && !admin_polled(c, row))
			complain("'%s' has a key but is not in QVM_REMOTE_VMS; "
				 "it is not polled", row->name);
		else if (row->key_r != 0)
			complain("'%s' is in QVM_REMOTE_VMS but has no key; "
				 "authorize it with: " PROG " authorize "
				 "--from-vm %s", row->name, row->name);
	}
out:
	free(st);
	free(t);
	return ret;
}
