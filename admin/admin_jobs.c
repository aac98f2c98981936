/*
 * admin_jobs.c - ps and stop: what the running service holds, from the
 * file it keeps (runtime_dir/jobs), and a stop written for it to take
 * (runtime_dir/stops/CID): docs/protocol.md section 9a, lib/jobsfile.h.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "jobsfile.h"
#include "liveness.h"
#include "logline.h"
#include "timefmt.h"
#include "banned.h"

#define STOP_WAIT_S 10          /* for the service to show the stop */

/*
 * Reads runtime_dir/jobs into *l, written by the daemon that holds the
 * lock now: 0, or QR_ERR_NOT_FOUND (absent), QR_ERR_EXISTS (another
 * pid wrote it: the one that holds the lock has not written it yet),
 * read_file's and jobsfile_parse's errors.  Says nothing.
 */
static int
jobs_load(const struct config *c, struct jobs_list *l)
{
	struct buf text = BUF_INIT(JOBS_TEXT_MAX);
	char path[PATH_MAX];
	long pid = 0;
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = admin_ask_path(c, JOBS_FILE, NULL, path)) != 0 ||
	    (r = read_file(path, &text)) != 0)
		goto out;
	if ((r = jobsfile_parse(text.data, text.len, l)) != 0)
		goto out;
	if (liveness_probe(c->runtime_dir, &pid) == 1 && pid > 0 &&
	    pid != l->pid)
		r = QR_ERR_EXISTS;
out:
	buf_release(&text);
	return r;
}

/* jobs_load with the messages: ADMIN_OK or ADMIN_FAIL. */
static int
jobs_load_said(const struct config *c, struct jobs_list *l)
{
	int r = jobs_load(c, l), e = errno;

	if (r == 0)
		return ADMIN_OK;
	if (r == QR_ERR_NOT_FOUND || r == QR_ERR_EXISTS)
		complain("the service has not written %s/" JOBS_FILE " yet; "
			 "try again in a moment", c->runtime_dir);
	else if (r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE)
		complain("%s/" JOBS_FILE " is not a file the service wrote",
			 c->runtime_dir);
	else
		complain("cannot read %s/" JOBS_FILE ": %s", c->runtime_dir,
			 admin_why(r, e));
	jobs_list_release(l);
	return ADMIN_FAIL;
}

/* ---------------------------------------------------------------- ps */

static int
cmp_entry(const void *x, const void *y)
{
	const struct jobs_entry *a = x, *b = y;

	if (a->state != b->state)
		return a->state < b->state ? -1 : 1;
	if (a->since != b->since)
		return a->since < b->since ? -1 : 1;
	return strcmp(a->cid, b->cid);
}

/* The COMMAND column: the VM's bytes escaped, at most width bytes. */
static int
command_cell(struct buf *out, const struct jobs_entry *e, size_t width)
{
	size_t start = out->len;
	int r = admin_ask_escape(out, e->cmd, e->cmd_len);

	if (r == 0 && e->cut)
		r = buf_append_str(out, " ...");
	if (r == 0 && out->len - start > width && width > 3) {
		buf_truncate(out, start + width - 3);
		r = buf_append_str(out, "...");
	}
	return r;
}

int
admin_ps(const struct config *c, int argc, char **argv)
{
	struct buf row = BUF_INIT(1 << 16);
	struct jobs_list l;
	size_t wvm = 2, wuser = 4, wid, used, width;
	time_t now = time(NULL);
	int r = ADMIN_OK;

	if (argc != 1)
		return admin_usage("ps");
	if (!admin_service_running(c) || jobs_load_said(c, &l) != ADMIN_OK)
		return ADMIN_FAIL;
	if (l.n == 0) {
		say("nothing runs or waits");
		jobs_list_release(&l);
		return ADMIN_OK;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	wid = jobs_short_len(&l);
	for (size_t i = 0; i < l.n; i++) {
		if (strlen(l.v[i].vm) > wvm)
			wvm = strlen(l.v[i].vm);
		if (strlen(l.v[i].user) > wuser)
			wuser = strlen(l.v[i].user);
	}
	printf("%-*s  %-*s  %-8s  %-*s  %-10s  %s\n", (int)wvm, "VM", (int)wid,
	       "ID", "STATE", (int)wuser, "USER", "TIME", "COMMAND");
	used = wvm + 2 + wid + 2 + 8 + 2 + wuser + 2 + 10 + 2;
	width = (size_t)admin_line_width();
	for (size_t i = 0; i < l.n; i++) {
		const struct jobs_entry *e = &l.v[i];
		char t[32];

		fmt_elapsed(t, sizeof(t), now > e->since
			    ? (uint64_t)(now - e->since) * 1000u : 0);
		buf_reset(&row);
		if (command_cell(&row, e, width > used + 20 ? width - used
							    : 20) != 0) {
			complain("cannot show request %s", e->cid);
			r = ADMIN_FAIL;
			continue;
		}
		printf("%-*s  %-*.*s  %-8s  %-*s  %-10s  %s\n", (int)wvm, e->vm,
		       (int)wid, (int)wid, jobs_random_part(e->cid),
		       jobs_state_name(e->state), (int)wuser, e->user, t,
		       buf_str(&row));
	}
	fflush(stdout);
	buf_release(&row);
	jobs_list_release(&l);
	return r;
}

/* -------------------------------------------------------------- stop */

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* What the service shows of vm's cid now: its state, or -1 when it is
 * not in jobs (ended, refused), or -2 when jobs cannot be read. */
static int
state_now(const struct config *c, const char *vm, const char *cid)
{
	struct jobs_list l;
	int st = -1;

	if (jobs_load(c, &l) != 0) {
		jobs_list_release(&l);
		return -2;
	}
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].vm, vm) == 0 && strcmp(l.v[i].cid, cid) == 0)
			st = (int)l.v[i].state;
	jobs_list_release(&l);
	return st;
}

/* What await_leave watches, and the state it saw last (-1: it left). */
struct leave {
	const struct config *c;
	const char *vm, *cid;
	int state;
};

static int
left_jobs(void *arg)
{
	struct leave *l = arg;

	return (l->state = state_now(l->c, l->vm, l->cid)) == -1;
}

/* Waits up to STOP_WAIT_S for vm's cid to leave jobs (renamed into the
 * runtime directory).  Its last state (-1: it left). */
static int
await_leave(const struct config *c, const char *vm, const char *cid)
{
	struct leave l = { .c = c, .vm = vm, .cid = cid, .state = -1 };

	(void)admin_await(c->runtime_dir, IN_MOVED_TO | IN_CLOSE_WRITE,
			  STOP_WAIT_S, left_jobs, &l);
	return l.state;
}

/* The entry ID names, with the messages for what is wrong. */
static int
find_named(const struct config *c, const char *id, struct jobs_entry *out)
{
	struct jobs_list l;
	size_t i = 0;
	int r;

	if (jobs_load_said(c, &l) != ADMIN_OK)
		return ADMIN_FAIL;
	r = jobs_match(&l, id, &i);
	if (r == 0)
		*out = l.v[i];
	else if (r == QR_ERR_INVALID)
		complain("'%s' is not a request ID (a cid, or at least %u of "
			 "the hex digits " PROG " ps shows)", id, JOBS_ID_MIN);
	else if (r == QR_ERR_EXISTS)
		complain("'%s' names more than one request; give more of its "
			 "digits, or the whole cid (see: " PROG " ps)", id);
	else
		complain("no request '%s' runs or waits in dom0; see: " PROG
			 " ps", id);
	jobs_list_release(&l);
	return r == 0 ? ADMIN_OK : ADMIN_FAIL;
}

static int
write_stop(const struct config *c, const struct jobs_stop *s)
{
	struct buf line = BUF_INIT(1024);
	char dir[PATH_MAX];
	int r, e;

	if ((r = admin_ask_path(c, JOBS_STOP_DIR, NULL, dir)) != 0 ||
	    (r = jobsfile_format_stop(&line, time(NULL), s)) != 0 ||
	    (r = mkdir_p(dir, 0700)) != 0 ||
	    (r = write_file_atomic(dir, s->cid, line.data, line.len, 0600,
				   0)) != 0) {
		e = errno;
		complain("cannot write the stop %s/%s: %s", dir, s->cid,
			 admin_why(r, e));
	}
	buf_release(&line);
	return r;
}

int
admin_stop(const struct config *c, int argc, char **argv)
{
	struct jobs_entry e;
	struct jobs_stop s;
	char path[PATH_MAX];
	int st, taken;

	if (argc != 2)
		return admin_usage("stop ID");
	if (!admin_service_running(c) || find_named(c, argv[1], &e) != ADMIN_OK)
		return ADMIN_FAIL;
	memset(&s, 0, sizeof(s));
	memcpy(s.vm, e.vm, sizeof(s.vm));
	memcpy(s.cid, e.cid, sizeof(s.cid));
	admin_person(s.by);
	if (admin_ask_path(c, JOBS_STOP_DIR, s.cid, path) != 0 ||
	    write_stop(c, &s) != 0)
		return ADMIN_FAIL;
	st = await_leave(c, s.vm, s.cid);
	/* the service removes a stop it takes before it acts on it: one
	 * left means it did not take it */
	taken = !exists(path);
	if (!taken)
		(void)unlink(path);
	if (st == -1 && taken && (e.state == JOBS_RUNNING ||
				  e.state == JOBS_STOPPING)) {
		say("stopped: %s's command %s ended", s.vm, s.cid);
		return ADMIN_OK;
	}
	if (st == -1 && taken) {
		say("refused: %s's request %s will not run; the VM is told it "
		    "was stopped in dom0 by %s", s.vm, s.cid, s.by);
		return ADMIN_OK;
	}
	if (st == -1) {
		complain("%s's request %s ended before the service took the "
			 "stop; see: " PROG " log", s.vm, s.cid);
		return ADMIN_FAIL;
	}
	if (taken) {
		say("stopping: %s's command %s got SIGINT, then TERM and KILL; "
		    "it still runs after %d s; see: " PROG " ps", s.vm, s.cid,
		    STOP_WAIT_S);
		return ADMIN_OK;
	}
	complain("the service did not take the stop within %d s; nothing was "
		 "stopped; check its log with: " PROG " log", STOP_WAIT_S);
	return ADMIN_FAIL;
}
