/*
 * runner.c - one command: files, process group, capture, timeout.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bounds.h"
#include "cid.h"
#include "err.h"
#include "fileio.h"
#include "proc.h"
#include "result.h"
#include "waitset.h"
#include "banned.h"

#define BASH "/bin/bash"
/* The script, read from fd 3, which is then closed for good (a
 * redirection on eval would put it back for the script's EXIT trap), and
 * evaluated as `bash -c` would run it: its errors name bash and the line,
 * as ssh's do ("bash: line 2: stauts: command not found"), not the file;
 * $0 is bash.  A script that cannot be read exits 126, as one bash cannot
 * execute.  The script sees its own text in __qvmr_script (not exported). */
#define RUN_SCRIPT "{ __qvmr_script=$(</dev/fd/3) && exec 3<&-; } || " \
	"exit 126; eval \"$__qvmr_script\""

/* A passwd field copied whole, or QR_ERR_TOO_LARGE. */
static int
copy_field(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		return QR_ERR_TOO_LARGE;
	memcpy(dst, src, len + 1);
	return 0;
}

int
run_user_lookup(const char *name, struct run_user *u)
{
	const struct passwd *pw;
	gid_t *groups = NULL, *grown;
	int n = 32, r;

	memset(u, 0, sizeof(*u));
	if (!policy_user_valid(name))
		return QR_ERR_NOT_FOUND;
	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return errno == 0 || errno == ENOENT || errno == ESRCH ||
		       errno == EBADF || errno == EPERM ? QR_ERR_NOT_FOUND
							: QR_ERR_SYSTEM;
	memcpy(u->name, name, strlen(name) + 1);
	u->ids.uid = pw->pw_uid;
	u->ids.gid = pw->pw_gid;
	if ((r = copy_field(u->home, sizeof(u->home), pw->pw_dir)) != 0 ||
	    (r = copy_field(u->shell, sizeof(u->shell),
			    pw->pw_shell[0] != '\0' ? pw->pw_shell
						    : "/bin/sh")) != 0)
		return r;
	/* the groups initgroups(3) would give, here where NSS may run; the
	 * child only calls setgroups */
	for (;;) {
		int want = n;

		if ((grown = reallocarray(groups, (size_t)n,
					  sizeof(*groups))) == NULL) {
			free(groups);
			return QR_ERR_NOMEM;
		}
		groups = grown;
		if (getgrouplist(name, u->ids.gid, groups, &n) >= 0)
			break;
		if (n <= want)
			n = want * 2;   /* said nothing of the size: grow anyway */
		if (n > 65536) {
			free(groups);
			return QR_ERR_TOO_LARGE;
		}
	}
	u->ids.groups = groups;
	u->ids.ngroups = (size_t)n;
	return 0;
}

void
run_user_release(struct run_user *u)
{
	free((void *)u->ids.groups);
	memset(u, 0, sizeof(*u));
}

void
run_env_init(struct run_env *e, const char *vm, const char *cid,
	     const struct run_user *u)
{
	const struct passwd *pw = u == NULL ? getpwuid(geteuid()) : NULL;
	const char *home = u != NULL ? u->home : pw != NULL ? pw->pw_dir : "/";
	const char *user = u != NULL ? u->name
				     : pw != NULL ? pw->pw_name : "root";
	const char *shell = u != NULL ? u->shell : BASH;
	size_t n = sizeof(e->storage[0]);
	int i = 0;

	snprintf(e->storage[i++], n, "PATH=" RUN_PATH);
	snprintf(e->storage[i++], n, "HOME=%s", home);
	snprintf(e->storage[i++], n, "USER=%s", user);
	snprintf(e->storage[i++], n, "LOGNAME=%s", user);
	snprintf(e->storage[i++], n, "SHELL=%s", shell);
	snprintf(e->storage[i++], n, "LANG=C.UTF-8");
	snprintf(e->storage[i++], n, "QVM_REMOTE_VM=%s", vm);
	snprintf(e->storage[i++], n, "QVM_REMOTE_ID=%s", cid);
	for (i = 0; i < 8; i++)
		e->vec[i] = e->storage[i];
	e->vec[8] = NULL;
}

static int
fmt_path(char *dst, size_t len, const char *dir, const char *vm,
	 const char *cid, const char *ext)
{
	int n = snprintf(dst, len, "%s/%s/%s%s", dir, vm, cid, ext);

	return n < 0 || (size_t)n >= len ? QR_ERR_TOO_LARGE : 0;
}

static void
remove_files(struct run *r)
{
	if (r->script[0] != '\0')
		(void)unlink(r->script);
	if (r->input[0] != '\0')
		(void)unlink(r->input);
	r->script[0] = r->input[0] = '\0';
}

/* A cgroup for the command; on failure the process group still holds it. */
static int
join_cgroup(struct run *r, const struct run_request *q, int *procs_fd)
{
	char name[CID_MAX + VMNAME_MAX + 8];

	snprintf(name, sizeof(name), "cmd-%s-%s", q->vm, q->cid);
	if (cgroup_create(q->cgroup, name, q->max_pids, q->max_memory,
			  r->cgroup, procs_fd) != 0)
		return QR_ERR_SYSTEM;
	r->in_cgroup = 1;
	return 0;
}

/* Signals what is left of the command: its group, and every process of
 * its cgroup, which also holds those that left the group (setsid).  A
 * run that never had a process (its program not found) has no group. */
static void
kill_all(struct run *r, int sig)
{
	if (r->pid > 0)
		(void)kill(-r->pid, sig);
	if (!r->in_cgroup)
		return;
	if (sig == SIGKILL)
		(void)cgroup_kill(r->cgroup);
	else
		(void)cgroup_signal(r->cgroup, sig);
}

static void
drop_cgroup(struct run *r)
{
	if (r->in_cgroup && cgroup_remove(r->cgroup) == 0)
		r->in_cgroup = 0;
}

/*
 * Writes the script and opens it, for bash to read as /dev/fd/3 (as a
 * user, the file becomes the user's first: the user cannot enter the
 * runtime directory, which is root's alone).
 */
static int
put_script(struct run *r, const struct run_request *q, const char *vmdir,
	   int *fd)
{
	int rc;

	if ((rc = fmt_path(r->script, sizeof(r->script), q->runtime_dir,
			   q->vm, q->cid, ".sh")) != 0) {
		r->script[0] = '\0';
		return rc;
	}
	if ((rc = write_file_atomic(vmdir, strrchr(r->script, '/') + 1,
				    q->body, q->body_len, 0700, 0)) != 0)
		return rc;
	if ((q->user != NULL &&
	     chown(r->script, q->user->ids.uid, q->user->ids.gid) != 0) ||
	    (*fd = open(r->script, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return QR_ERR_SYSTEM;
	return 0;
}

/* The program of a vector, as a shell finds it: a path from '/' as it
 * is, a name in RUN_PATH.  QR_ERR_NOT_FOUND for anything else. */
static int
find_program(const char *name, char out[PATH_MAX])
{
	struct stat st;
	size_t n = strlen(name);

	if (name[0] != '/')
		return proc_find(name, RUN_PATH, out);
	if (n >= PATH_MAX || stat(name, &st) != 0)
		return QR_ERR_NOT_FOUND;
	memcpy(out, name, n + 1);
	return 0;
}

/* A program not found: the command ran and failed, as under a shell. */
static void
not_found(struct run *r, const char *name)
{
	char line[PATH_MAX + 64];
	int n = snprintf(line, sizeof(line), "qvm-remote-dom0: %s: command "
			 "not found\n", name);

	if (n > 0 && (size_t)n < sizeof(line)) {
		(void)outbox_append(&r->w, 1, line, (size_t)n);
		r->bytes[1] = (uint64_t)n;
	}
	r->pid = -1;
	r->exited = 1;
	r->status = W_EXITCODE(RUN_NOT_FOUND, 0);
}

int
run_start(struct run *r, const struct run_request *q, int64_t now_ms)
{
	char vmdir[PATH_MAX], program[PATH_MAX];
	char *script_argv[] = { "bash", "-c", RUN_SCRIPT, "bash", NULL };
	struct proc_opts o = {
		.path = BASH, .argv = script_argv, .envp = q->envp,
		.in = PROC_NULL, .out = PROC_PIPE, .err = PROC_PIPE,
		.cwd = q->cwd, .group = PROC_SESSION_NEW,
		.user = q->user != NULL ? &q->user->ids : NULL,
	};
	int in_fd = -1, procs_fd = -1, script_fd = -1, found = 1, rc, e;

	memset(r, 0, sizeof(*r));
	r->serial = waitset_serial();
	r->fd[0] = r->fd[1] = -1;
	r->w.out_fd = r->w.err_fd = r->w.meta_fd = -1;
	r->max_output = q->max_output;
	r->cut_in_err = q->cut_in_err;
	r->timeout_s = q->timeout_s;
	if ((rc = fmt_path(vmdir, sizeof(vmdir), q->runtime_dir, q->vm, "",
			   "")) != 0)
		goto fail_names;
	if ((rc = mkdir_p(vmdir, 0700)) != 0)
		goto fail;
	if (q->argv == NULL) {
		if ((rc = put_script(r, q, vmdir, &script_fd)) != 0)
			goto fail;
		o.with_fd3 = 1;
		o.fd3 = script_fd;
	} else {
		found = find_program(q->argv[0], program) == 0;
		o.path = program;
		o.argv = q->argv;
	}
	if (q->in != NULL) {
		if ((rc = fmt_path(r->input, sizeof(r->input), q->runtime_dir,
				   q->vm, q->cid, ".in")) != 0 ||
		    (rc = write_file_atomic(vmdir, strrchr(r->input, '/') + 1,
					    q->in, q->in_len, 0600, 0)) != 0)
			goto fail;
		in_fd = open(r->input, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (in_fd < 0) {
			rc = QR_ERR_SYSTEM;
			goto fail;
		}
		o.in = PROC_FD;
		o.in_fd = in_fd;
	}
	if ((rc = outbox_begin(q->state_dir, q->vm, q->cid, q->claim,
			       &r->w)) != 0)
		goto fail;
	if (!found) {
		not_found(r, q->argv[0]);
		goto started;
	}
	if (q->cgroup != NULL && q->cgroup->active &&
	    join_cgroup(r, q, &procs_fd) == 0) {
		o.join_cgroup = 1;
		o.cgroup_procs_fd = procs_fd;
	}
	if ((rc = proc_spawn(&o, &r->pid, NULL, &r->fd[0], &r->fd[1])) != 0) {
		e = errno;
		outbox_abort(&r->w);
		errno = e;
		goto fail;
	}
	if (procs_fd >= 0)
		close(procs_fd);
started:
	if (in_fd >= 0)
		close(in_fd);
	if (script_fd >= 0)
		close(script_fd);
	r->started_ms = now_ms;
	r->deadline_ms = r->exited ? INT64_MAX
				   : now_ms + (int64_t)q->timeout_s * 1000;
	r->kill_ms = r->drain_ms = r->cgroup_retry_ms = INT64_MAX;
	r->term_ms = INT64_MAX;
	return 0;
fail:
	e = errno;
	if (in_fd >= 0)
		close(in_fd);
	if (script_fd >= 0)
		close(script_fd);
	if (procs_fd >= 0)
		close(procs_fd);
	drop_cgroup(r);
	remove_files(r);
	errno = e;
	return rc;
fail_names:
	r->script[0] = r->input[0] = '\0';
	return rc;
}

void
run_pump(struct run *r, int fd)
{
	static char chunk[65536];
	int i = fd == r->fd[0] ? 0 : 1;
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(fd);
		r->fd[i] = -1;
		return;
	}
	if (r->bytes[i] < r->max_output) {
		uint64_t room = r->max_output - r->bytes[i];
		size_t keep = (uint64_t)n < room ? (size_t)n : (size_t)room;
		/* a full disk loses output, not the command: meta says so
		 * (and what was stored stays what the VM is sent) */
		if (keep > 0 && r->w.written[i] == r->bytes[i])
			(void)outbox_append(&r->w, i, chunk, keep);
	}
	r->bytes[i] += (uint64_t)n;
}

void
run_reaped(struct run *r, int status, int64_t now_ms)
{
	r->exited = 1;
	r->status = status;
	/* the command is over: nothing it started may stay behind */
	kill_all(r, SIGKILL);
	r->kill_ms = r->term_ms = INT64_MAX;
	r->deadline_ms = INT64_MAX;
	r->drain_ms = now_ms + RUN_DRAIN_MS;
	drop_cgroup(r);
	r->cgroup_retry_ms = r->in_cgroup ? now_ms + 5 : INT64_MAX;
}

void
run_tick(struct run *r, int64_t now_ms)
{
	if (!r->exited && now_ms >= r->deadline_ms) {
		r->timed_out = 1;
		kill_all(r, SIGTERM);
		r->deadline_ms = INT64_MAX;
		r->kill_ms = now_ms + RUN_KILL_GRACE_MS;
	}
	if (!r->exited && now_ms >= r->term_ms) {
		/* a cancel's SIGINT did not end it */
		kill_all(r, SIGTERM);
		r->cancelled = SIGTERM;
		r->term_ms = INT64_MAX;
		r->kill_ms = now_ms + RUN_CANCEL_KILL_MS;
	}
	if (!r->exited && now_ms >= r->kill_ms) {
		kill_all(r, SIGKILL);
		if (r->cancelled)
			r->cancelled = SIGKILL;
		r->kill_ms = INT64_MAX;
	}
	if (r->exited && r->in_cgroup && now_ms >= r->cgroup_retry_ms) {
		drop_cgroup(r);     /* empty once the kill has landed */
		r->cgroup_retry_ms = r->in_cgroup ? now_ms + 10 : INT64_MAX;
	}
	if (r->exited && now_ms >= r->drain_ms) {
		/* an escaped process (new session) still holds our pipes */
		for (int i = 0; i < 2; i++)
			if (r->fd[i] >= 0) {
				close(r->fd[i]);
				r->fd[i] = -1;
			}
		r->in_cgroup = 0;   /* still busy: leave it to systemd */
		r->drain_ms = INT64_MAX;
	}
}

int64_t
run_next_deadline(const struct run *r)
{
	int64_t t = r->deadline_ms;

	if (r->kill_ms < t)
		t = r->kill_ms;
	if (r->term_ms < t)
		t = r->term_ms;
	if (r->drain_ms < t)
		t = r->drain_ms;
	if (r->in_cgroup && r->cgroup_retry_ms < t)
		t = r->cgroup_retry_ms;
	return t;
}

int
run_done(const struct run *r)
{
	return r->exited && r->fd[0] < 0 && r->fd[1] < 0 && !r->in_cgroup;
}

/* Ends .err with a line for each stream cut (result_cut_notice), for a
 * client that reads no .meta.  A line lost to a full disk costs only
 * itself. */
static void
tell_cut_in_err(struct run *r)
{
	static const char *const name[2] = { "stdout", "stderr" };
	uint64_t kept[2] = { r->w.written[0], r->w.written[1] };
	char text[256], line[300];
	int n;

	for (int i = 0; i < 2; i++) {
		if (r->bytes[i] <= r->max_output)
			continue;
		result_cut_notice(text, sizeof(text), name[i], kept[i],
				  r->bytes[i]);
		/* on a line of its own */
		n = snprintf(line, sizeof(line), "%sqvm-remote-dom0: %s\n",
			     r->w.written[1] > 0 && r->w.last[1] != '\n'
			     ? "\n" : "", text);
		if (n > 0 && (size_t)n < sizeof(line))
			(void)outbox_append(&r->w, 1, line, (size_t)n);
	}
}

int
run_finish(struct run *r, const char *cid, const char *claim, int64_t now_ms,
	   struct deliver_item *e)
{
	struct result_meta m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (r->stopped) {
		m.status = RESULT_INTERRUPTED;
		m.exit_code = EXIT_INTERRUPTED;
		snprintf(m.reason, sizeof(m.reason), "%s", RUN_STOPPED_REASON);
	} else if (r->timed_out) {
		m.status = RESULT_TIMEOUT;
		m.exit_code = EXIT_TIMEOUT;
	} else if (WIFEXITED(r->status)) {
		m.status = RESULT_OK;
		m.exit_code = WEXITSTATUS(r->status);
	} else {
		/* killed by a signal, as a shell reports it */
		m.status = RESULT_OK;
		m.exit_code = 128 + WTERMSIG(r->status);
	}
	m.cancelled = r->cancelled != 0;
	m.duration_ms = (uint64_t)(now_ms - r->started_ms);
	m.timeout_s = r->timeout_s;
	m.out_bytes = r->bytes[0];
	m.err_bytes = r->bytes[1];
	m.out_truncated = r->bytes[0] > r->max_output;
	m.err_truncated = r->bytes[1] > r->max_output;
	m.queued_ms = r->queued_ms;
	memcpy(m.started, r->started, sizeof(m.started));
	if (r->cut_in_err)
		tell_cut_in_err(r);
	rc = outbox_commit(&r->w, cid, claim, &m, e);
	remove_files(r);
	return rc;
}

int
run_cancel(struct run *r, int64_t now_ms)
{
	if (r->exited)
		return QR_ERR_NOT_FOUND;
	if (r->cancelled || r->timed_out || r->stopped)
		return QR_ERR_EXISTS;
	kill_all(r, SIGINT);
	r->cancelled = SIGINT;
	/* the escalation ends it well before any timeout would */
	r->deadline_ms = INT64_MAX;
	r->term_ms = now_ms + RUN_CANCEL_TERM_MS;
	return 0;
}

void
run_interrupt(struct run *r, int64_t now_ms)
{
	if (r->exited || r->stopped)
		return;
	/* a timeout that came first stays the reason it ended */
	r->stopped = !r->timed_out;
	kill_all(r, SIGTERM);
	r->deadline_ms = r->term_ms = INT64_MAX;
	r->kill_ms = now_ms;
}

void
run_abort(struct run *r)
{
	if (!r->exited) {
		kill_all(r, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else if (r->in_cgroup) {
		(void)cgroup_kill(r->cgroup);
	}
	drop_cgroup(r);
	for (int i = 0; i < 2; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	outbox_abort(&r->w);
	remove_files(r);
}
