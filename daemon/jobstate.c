/*
 * jobstate.c - what the daemon holds, as it tells `qvm-remote-dom0 ps`
 * (runtime_dir/jobs), and the stops that `qvm-remote-dom0 stop` writes
 * (runtime_dir/stops/CID): docs/protocol.md section 9a, lib/jobsfile.h.
 *
 * The file is written once per turn of the loop in which the set changed
 * (jobs_dirty), through a temporary name and a rename, no fsync: it is on
 * the runtime tmpfs and a crash loses nothing a restart would not rebuild.
 */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "jobsfile.h"

#include "banned.h"

#define STOP_FILE_MAX 1024

void
jobs_preview(struct job *j)
{
	struct buf words = BUF_INIT(8 * JOBS_CMD_MAX);
	struct jobs_entry e;

	memset(&e, 0, sizeof(e));
	e.form = j->form;
	/* one byte more than shown, so that a cut shows */
	if (j->form == BODY_ARGV &&
	    argvbody_quote(&words, j->body, j->body_len, JOBS_CMD_MAX + 1) == 0)
		jobs_entry_cmd(&e, words.data, words.len, false);
	else
		jobs_entry_cmd(&e, j->body, j->body_len, false);
	memcpy(j->shown, e.cmd, e.cmd_len + 1);
	j->shown_len = e.cmd_len;
	j->shown_cut = e.cut;
	buf_release(&words);
}

/* Appends j's JOB line in state st; a line that does not format (a user
 * name the file cannot carry, say) is left out. */
static void
add_job(struct buf *b, time_t now, const struct job *j, enum jobs_state st)
{
	struct jobs_entry e;

	memset(&e, 0, sizeof(e));
	memcpy(e.vm, j->vm->name, sizeof(e.vm));
	memcpy(e.cid, j->cid, sizeof(e.cid));
	e.state = st;
	memcpy(e.user, j->run_as, sizeof(e.user));
	e.since = j->since;
	e.form = j->form;
	memcpy(e.cmd, j->shown, j->shown_len + 1);
	e.cmd_len = j->shown_len;
	e.cut = j->shown_cut;
	if (st == JOBS_ASKING)
		memcpy(e.ask, j->ask_id, sizeof(e.ask));
	(void)jobsfile_format_entry(b, now, &e);
}

void
jobs_publish(struct daemon *d)
{
	struct buf b = BUF_INIT(JOBS_TEXT_MAX);
	time_t now = time(NULL);

	if (!d->jobs_dirty)
		return;
	d->jobs_dirty = 0;
	if (jobsfile_format_head(&b, (long)getpid()) != 0)
		goto out;
	for (size_t i = 0; i < d->njobs; i++)
		add_job(&b, now, d->jobs[i], d->jobs[i]->run->cancelled
					     ? JOBS_STOPPING : JOBS_RUNNING);
	for (const struct vm *v = d->vms; v != NULL; v = v->next) {
		for (const struct job *j = v->queue; j != NULL; j = j->next)
			add_job(&b, now, j, JOBS_QUEUED);
		for (const struct job *j = v->asking; j != NULL; j = j->next)
			add_job(&b, now, j, JOBS_ASKING);
	}
	/* a failed write leaves the last one; the next change tries again */
	(void)write_file_atomic(d->cfg->runtime_dir, JOBS_FILE, b.data, b.len,
				0600, 0);
out:
	buf_release(&b);
}

void
jobs_unpublish(struct daemon *d)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/" JOBS_FILE,
			 d->cfg->runtime_dir);

	if (n > 0 && (size_t)n < sizeof(path))
		(void)unlink(path);
}

int
stops_open(struct daemon *d)
{
	int n = snprintf(d->stops_dir, sizeof(d->stops_dir), "%s/" JOBS_STOP_DIR,
			 d->cfg->runtime_dir);
	struct dirent *e;
	DIR *dp;

	if (n < 0 || (size_t)n >= sizeof(d->stops_dir) ||
	    mkdir_p(d->stops_dir, 0700) != 0 || chmod(d->stops_dir, 0700) != 0)
		return QR_ERR_SYSTEM;
	/* a stop of an earlier run names what runs no more */
	if ((dp = opendir(d->stops_dir)) != NULL) {
		while ((e = readdir(dp)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0)
				(void)unlinkat(dirfd(dp), e->d_name, 0);
		closedir(dp);
	}
	dirwatch_init(&d->stops_watch, d->stops_dir);
	d->jobs_dirty = 1;      /* the file of this run, empty */
	return 0;
}

void
stops_take(struct daemon *d)
{
	struct buf text = BUF_INIT(STOP_FILE_MAX);
	struct jobs_stop s;
	char path[PATH_MAX];
	struct dirent *e;
	struct vm *v;
	DIR *dp;
	int n;

	dirwatch_loading(&d->stops_watch);
	if ((dp = opendir(d->stops_dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;   /* ".", "..", a writer's temporary */
		n = snprintf(path, sizeof(path), "%s/%s", d->stops_dir,
			     e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		buf_reset(&text);
		if (read_file(path, &text) != 0 ||
		    jobsfile_parse_stop(text.data, text.len, &s) != 0 ||
		    strcmp(s.cid, e->d_name) != 0) {
			(void)unlink(path);
			ev_simple(d, "ERROR", NULL, NULL, "reason", "a stop file "
				  "that does not parse was removed");
			continue;
		}
		/* what is no longer held stays: its writer sees it stay,
		 * says so and removes it (a start empties stops/) */
		if ((v = vm_find(d, s.vm)) == NULL || !job_held(d, v, s.cid))
			continue;
		/* before it leaves jobs: the verb reads both to know */
		(void)unlink(path);
		(void)job_stop(d, v, s.cid, s.by);
	}
	closedir(dp);
	buf_release(&text);
}
