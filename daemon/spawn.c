/*
 * spawn.c - fork/exec with a clean slate for the child.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "err.h"
#include "banned.h"

int
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
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
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

static void
child_reset_signals(void)
{
	sigset_t none;
	struct sigaction dfl;
	int s;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Runs in the child; never returns.  Reports errno over report_fd. */
static void __attribute__((noreturn))
child_exec(const struct spawn_opts *o, int fds[3], int report_fd)
{
	int i, e;

	child_reset_signals();
	if (o->new_session && setsid() < 0)
		goto fail;
	/* in its cgroup before it runs a single instruction of its own */
	if (o->join_cgroup && write(o->cgroup_procs_fd, "0", 1) != 1)
		goto fail;
	/* Lift every source above 2 first so dup2 cannot clobber one. */
	for (i = 0; i < 3; i++) {
		if (fds[i] >= 0 && fds[i] <= 2) {
			int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (moved < 0)
				goto fail;
			fds[i] = moved;
		}
	}
	for (i = 0; i < 3; i++)
		if (child_place(fds[i], i) < 0)
			goto fail;
	if (o->cwd != NULL && chdir(o->cwd) < 0)
		goto fail;
	/* Everything above 2 goes, except the report pipe (close-on-exec). */
	if (report_fd > 3)
		(void)syscall(SYS_close_range, 3, report_fd - 1, 0);
	(void)syscall(SYS_close_range, report_fd + 1, ~0U, 0);
	execve(o->path, o->argv, o->envp);
fail:
	e = errno;
	(void)!write(report_fd, &e, sizeof(e));
	_exit(127);
}

static int
open_devnull(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* Prepares the child's side of one stream. */
static int
stream_setup(enum spawn_io mode, int given, int is_input, int pipefd[2],
	     int *child_fd)
{
	switch (mode) {
	case SPAWN_NULL:
		*child_fd = open_devnull(is_input ? O_RDONLY : O_WRONLY);
		return *child_fd < 0 ? QR_ERR_SYSTEM : 0;
	case SPAWN_FD:
		*child_fd = given;
		return 0;
	case SPAWN_PIPE:
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return QR_ERR_SYSTEM;
		*child_fd = is_input ? pipefd[0] : pipefd[1];
		return 0;
	}
	errno = EINVAL;
	return QR_ERR_SYSTEM;
}

int
spawn(const struct spawn_opts *o, pid_t *pid, int *in, int *out, int *err)
{
	enum spawn_io modes[3] = { o->in, o->out, o->err };
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
	for (i = 0; i < 3; i++)
		if ((r = stream_setup(modes[i], given[i], i == 0, pipes[i],
				      &child_fd[i])) != 0)
			goto out;
	r = QR_ERR_SYSTEM;
	if (pipe2(report, O_CLOEXEC) < 0)
		goto out;
	p = fork();
	if (p < 0)
		goto out;
	if (p == 0) {
		close(report[0]);
		child_exec(o, child_fd, report[1]);
	}
	close(report[1]);
	report[1] = -1;
	do {
		n = read(report[0], &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		/* exec failed: reap the child and report its errno */
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		errno = e;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		if (modes[i] != SPAWN_PIPE)
			continue;
		int keep = i == 0 ? pipes[i][1] : pipes[i][0];
		if (fd_nonblock_cloexec(keep) < 0)
			goto out_kill;
		*parent_end[i] = keep;
		if (i == 0)
			pipes[i][1] = -1;
		else
			pipes[i][0] = -1;
	}
	*pid = p;
	r = 0;
	goto out;
out_kill:
	e = errno;
	kill(p, SIGKILL);
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
	for (i = 0; i < 3; i++)
		if (parent_end[i] != NULL && *parent_end[i] >= 0) {
			close(*parent_end[i]);
			*parent_end[i] = -1;
		}
	errno = e;
out:
	e = errno;
	for (i = 0; i < 3; i++) {
		close_pair(pipes[i]);
		if (modes[i] == SPAWN_NULL && child_fd[i] >= 0)
			close(child_fd[i]);
	}
	close_pair(report);
	errno = e;
	return r;
}
