/*
 * proc.c - fork/exec with a clean slate, run-and-collect, program lookup.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "clock.h"
#include "err.h"
#include "banned.h"

/* Without a pidfd, how often proc_run looks whether the child exited. */
#define PROC_POLL_NAP_MS 20
#define PROC_READ_CHUNK 16384

/* ------------------------------------------------------------------ spawn */

static int
fd_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return QR_ERR_SYSTEM;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return QR_ERR_SYSTEM;
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
close_pair(int p[2])
{
	close_fd(&p[0]);
	close_fd(&p[1]);
}

/* waitpid() through EINTR; 0, or QR_ERR_SYSTEM (ECHILD: reaped elsewhere). */
static int
reap(pid_t pid, int *wstatus)
{
	int ws = 0;
	pid_t w;

	while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR)
		;
	if (wstatus != NULL)
		*wstatus = ws;
	return w == pid ? 0 : QR_ERR_SYSTEM;
}

/* Moves fd to `target` in the child; fd may already be target. */
static int
child_place(int fd, int target)
{
	if (fd == target) {
		int fl = fcntl(fd, F_GETFD);
		return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(fd, target) < 0 ? -1 : 0;
}

/*
 * Every disposition back to SIG_DFL.  Runs with every signal blocked (the
 * mask the parent set around fork), so none of the parent's handlers can
 * run here before it is gone.  SIGKILL, SIGSTOP and the C library's own
 * signals refuse, which is harmless.
 */
static void
child_default_signals(void)
{
	struct sigaction dfl;
	int s;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
}

static int
child_group(enum proc_group g)
{
	switch (g) {
	case PROC_GROUP_SAME:
		return 0;
	case PROC_GROUP_NEW:
		return setpgid(0, 0);
	case PROC_SESSION_NEW:
		return setsid() < 0 ? -1 : 0;
	}
	errno = EINVAL;
	return -1;
}

/* The user's ids, all of them: nothing of the caller's is left. */
static int
child_become(const struct proc_user *u)
{
	if (setgroups(u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 ||
	    setuid(u->uid) < 0)
		return -1;
	return 0;
}

/* Runs in the child; never returns.  Reports errno over report_fd. */
static void __attribute__((noreturn))
child_exec(const struct proc_opts *o, int fds[3], int report_fd)
{
	int src[4] = { fds[0], fds[1], fds[2], o->fd3 };
	int keep = o->with_fd3 ? 4 : 3;    /* descriptors the child keeps */
	sigset_t none;
	int i, e;

	child_default_signals();
	if (child_group(o->group) < 0)
		goto fail;
	/* in its cgroup before it runs a single instruction of its own */
	if (o->join_cgroup && write(o->cgroup_procs_fd, "0", 1) != 1)
		goto fail;
	/* Lift the report pipe and every source below `keep` above it first,
	 * so no dup2 clobbers one. */
	if (report_fd < keep) {
		int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, keep);
		if (moved < 0)
			goto fail;
		report_fd = moved;
	}
	for (i = 0; i < keep; i++) {
		if (src[i] >= 0 && src[i] < keep) {
			int moved = fcntl(src[i], F_DUPFD_CLOEXEC, keep);
			if (moved < 0)
				goto fail;
			src[i] = moved;
		}
	}
	for (i = 0; i < keep; i++)
		if (child_place(src[i], i) < 0)
			goto fail;
	if (o->user != NULL && child_become(o->user) < 0)
		goto fail;
	if (o->cwd != NULL && chdir(o->cwd) < 0 &&
	    (o->user == NULL || chdir("/") < 0))
		goto fail;
	/* Everything above them goes, except the report pipe (close-on-exec). */
	if (report_fd > keep)
		(void)syscall(SYS_close_range, keep, report_fd - 1, 0);
	(void)syscall(SYS_close_range, report_fd + 1, ~0U, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(o->path, o->argv, o->envp);
fail:
	e = errno;
	(void)!write(report_fd, &e, sizeof(e));
	_exit(127);
}

/* Prepares the child's side of one stream. */
static int
stream_setup(enum proc_io mode, int given, int is_input, int pipefd[2],
	     int *child_fd)
{
	switch (mode) {
	case PROC_NULL:
		*child_fd = open("/dev/null",
				 (is_input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
		return *child_fd < 0 ? QR_ERR_SYSTEM : 0;
	case PROC_FD:
		*child_fd = given;
		return 0;
	case PROC_PIPE:
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return QR_ERR_SYSTEM;
		*child_fd = is_input ? pipefd[0] : pipefd[1];
		return 0;
	}
	errno = EINVAL;
	return QR_ERR_SYSTEM;
}

/* fork() with every signal blocked; the parent's mask is back on return. */
static pid_t
fork_blocked(const struct proc_opts *o, int child_fd[3], int report[2])
{
	sigset_t all, old;
	pid_t p;
	int e;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		return -1;
	p = fork();
	if (p == 0) {
		close(report[0]);
		child_exec(o, child_fd, report[1]);
	}
	e = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return p;
}

int
proc_spawn(const struct proc_opts *o, pid_t *pid, int *in, int *out,
	   int *err)
{
	enum proc_io modes[3] = { o->in, o->out, o->err };
	int given[3] = { o->in_fd, o->out_fd, o->err_fd };
	int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int child_fd[3] = { -1, -1, -1 };
	int *parent_end[3] = { in, out, err };
	int report[2] = { -1, -1 };
	int i, e = 0, r = QR_ERR_SYSTEM;
	ssize_t n;
	pid_t p;

	for (i = 0; i < 3; i++)
		if (parent_end[i] != NULL)
			*parent_end[i] = -1;
	for (i = 0; i < 3; i++) {
		if (modes[i] == PROC_PIPE && parent_end[i] == NULL) {
			errno = EINVAL;
			goto out;
		}
		if ((r = stream_setup(modes[i], given[i], i == 0, pipes[i],
				      &child_fd[i])) != 0)
			goto out;
	}
	r = QR_ERR_SYSTEM;
	if (pipe2(report, O_CLOEXEC) < 0)
		goto out;
	if ((p = fork_blocked(o, child_fd, report)) < 0)
		goto out;
	close_fd(&report[1]);
	do {
		n = read(report[0], &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		/* it never ran: reap the child and report its errno */
		(void)reap(p, NULL);
		errno = e;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		if (modes[i] != PROC_PIPE)
			continue;
		int *keep = i == 0 ? &pipes[i][1] : &pipes[i][0];
		if (fd_nonblock_cloexec(*keep) < 0)
			goto out_kill;
		*parent_end[i] = *keep;
		*keep = -1;
	}
	*pid = p;
	r = 0;
	goto out;
out_kill:
	e = errno;
	kill(p, SIGKILL);
	(void)reap(p, NULL);
	for (i = 0; i < 3; i++)
		if (parent_end[i] != NULL)
			close_fd(parent_end[i]);
	errno = e;
out:
	e = errno;
	for (i = 0; i < 3; i++) {
		close_pair(pipes[i]);
		if (modes[i] == PROC_NULL && child_fd[i] >= 0)
			close(child_fd[i]);
	}
	close_pair(report);
	errno = e;
	return r;
}

/* -------------------------------------------------------------------- run */

struct run {
	const struct proc_collect *c;
	pid_t pid;
	int fd[3];             /* stdin, stdout, stderr; -1 once closed */
	size_t sent;
	int exited;            /* the child is a zombie: only reaping is left */
	int r;                 /* the first error */
	int e;                 /* and its errno */
};

static void
kill_group(struct run *s)
{
	(void)kill(-s->pid, SIGKILL);
}

/* Whether the child has exited, leaving it unreaped so that its pid (the
 * group's id) cannot be reused while kill_group() may still use it. */
static int
child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return si.si_pid == pid;
}

static void
feed(struct run *s)
{
	ssize_t n = write(s->fd[0], (const char *)s->c->in + s->sent,
			  s->c->in_len - s->sent);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)   /* the reader went away; its status will say why */
		s->sent = s->c->in_len;
	else
		s->sent += (size_t)n;
	if (s->sent == s->c->in_len)
		close_fd(&s->fd[0]);
}

/* Reads what fd i has into its buffer, up to the buffer's max. */
static void
collect(struct run *s, int i, struct proc_status *st)
{
	struct buf *b = i == 1 ? s->c->out : s->c->err;
	char tmp[PROC_READ_CHUNK];
	ssize_t n = read(s->fd[i], tmp, sizeof(tmp));
	size_t keep, room;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(&s->fd[i]);
		return;
	}
	if (b == NULL)
		return;
	room = b->max > b->len ? b->max - b->len : 0;
	keep = (size_t)n < room ? (size_t)n : room;
	if (keep > 0 && buf_append(b, tmp, keep) != 0) {
		if (s->r == 0) {
			s->r = QR_ERR_NOMEM;
			s->e = ENOMEM;
		}
		kill_group(s);
		close_fd(&s->fd[i]);
		return;
	}
	if (keep < (size_t)n) {
		st->overflowed = 1;
		if (s->c->kill_on_overflow) {
			kill_group(s);
			close_fd(&s->fd[i]);
		}
	}
}

/* One poll() round: feeds, collects, notices the exit. */
static int
run_round(struct run *s, int pidfd, int64_t left, struct proc_status *st)
{
	struct pollfd p[4] = {
		{ .fd = s->fd[0], .events = POLLOUT },
		{ .fd = s->fd[1], .events = POLLIN },
		{ .fd = s->fd[2], .events = POLLIN },
		{ .fd = s->exited ? -1 : pidfd, .events = POLLIN },
	};
	int timeout = left > INT_MAX ? INT_MAX : (int)left;

	if (pidfd < 0 && !s->exited && timeout > PROC_POLL_NAP_MS)
		timeout = PROC_POLL_NAP_MS;
	if (poll(p, 4, timeout) < 0) {
		if (errno == EINTR)
			return 0;
		return QR_ERR_SYSTEM;
	}
	if (p[0].revents != 0 && s->fd[0] >= 0)
		feed(s);
	if (p[1].revents != 0 && s->fd[1] >= 0)
		collect(s, 1, st);
	if (p[2].revents != 0 && s->fd[2] >= 0)
		collect(s, 2, st);
	if (!s->exited && child_exited(s->pid)) {
		s->exited = 1;
		/* what it left behind in its group goes with it */
		kill_group(s);
		close_fd(&s->fd[0]);
	}
	return 0;
}

int
proc_run(const struct proc_opts *o, const struct proc_collect *c,
	 struct proc_status *st)
{
	struct run s = { .c = c, .fd = { -1, -1, -1 } };
	struct sigaction ign, old_pipe;
	int64_t deadline = mono_ms() + (int64_t)c->timeout_ms;
	int pidfd = -1, ws = 0, e, r;

	memset(st, 0, sizeof(*st));
	st->exit_code = -1;
	if (o->group == PROC_GROUP_SAME ||
	    (c->in != NULL && o->in != PROC_PIPE)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (c->in != NULL && sigaction(SIGPIPE, &ign, &old_pipe) < 0)
		return QR_ERR_SYSTEM;
	if ((r = proc_spawn(o, &s.pid, o->in == PROC_PIPE ? &s.fd[0] : NULL,
			    o->out == PROC_PIPE ? &s.fd[1] : NULL,
			    o->err == PROC_PIPE ? &s.fd[2] : NULL)) != 0)
		goto out;
	if (c->in == NULL || s.sent == c->in_len)
		close_fd(&s.fd[0]);
	/* a pidfd wakes poll() at the exit; without one, naps */
	pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
	while (s.r == 0 && (!s.exited || s.fd[1] >= 0 || s.fd[2] >= 0)) {
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			break;
		if ((r = run_round(&s, pidfd, left, st)) != 0) {
			s.r = r;
			s.e = errno;
			break;
		}
	}
	if (!s.exited && !child_exited(s.pid))
		st->timed_out = s.r == 0;
	kill_group(&s);
	/* and the child itself, should it have left its group: the reap
	 * below must not wait on it */
	if (!s.exited)
		(void)kill(s.pid, SIGKILL);
	if ((r = reap(s.pid, &ws)) != 0) {
		st->timed_out = 0;
		goto out;
	}
	if (WIFEXITED(ws))
		st->exit_code = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		st->signal = WTERMSIG(ws);
	if ((r = s.r) != 0)
		errno = s.e;
out:
	e = errno;
	close_fd(&pidfd);
	for (int i = 0; i < 3; i++)
		close_fd(&s.fd[i]);
	if (c->in != NULL)
		(void)sigaction(SIGPIPE, &old_pipe, NULL);
	errno = e;
	return r;
}

/* ------------------------------------------------------------------- find */

/* Whether dir/name is an executable regular file; its path in out. */
static int
find_in_dir(const char *dir, size_t dirlen, const char *name,
	    char out[PATH_MAX])
{
	struct stat st;
	int n;

	if (dirlen == 0 || dir[0] != '/')
		return QR_ERR_NOT_FOUND;
	n = snprintf(out, PATH_MAX, "%.*s/%s", (int)dirlen, dir, name);
	if (n < 0 || n >= PATH_MAX)
		return QR_ERR_NOT_FOUND;
	if (stat(out, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(out, X_OK) != 0)
		return QR_ERR_NOT_FOUND;
	return 0;
}

int
proc_find(const char *name, const char *dirs, char out[PATH_MAX])
{
	const char *p, *end;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL)
		return QR_ERR_INVALID;
	if (dirs == NULL && (dirs = getenv("PATH")) == NULL)
		dirs = "/usr/bin:/bin";
	for (p = dirs;; p = end + 1) {
		end = strchr(p, ':');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (find_in_dir(p, len, name, out) == 0)
			return 0;
		if (end == NULL)
			break;
	}
	out[0] = '\0';
	return QR_ERR_NOT_FOUND;
}
