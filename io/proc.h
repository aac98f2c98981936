/*
 * proc.h - the one way anything in qvm-remote starts a process: the
 * daemon's commands and transport calls, the admin verbs' systemctl, the
 * client's qubesdb-read.
 *
 * Three things: proc_spawn() starts a child, proc_run() starts one and
 * collects it under a deadline, proc_find() finds a program in a search
 * list.  No shell anywhere: argv, an absolute path, the environment the
 * caller gives and nothing else.
 *
 * What every child gets (proc_spawn, and so proc_run):
 * - Signals: every signal is blocked in the parent from just before fork()
 *   until the parent's mask is restored just after it, so no handler of the
 *   parent (SIGCHLD, SIGTERM, ...) can run in the child, where it would
 *   write into the parent's self-pipe or act on its state.  The child sets
 *   every disposition to SIG_DFL (SIG_IGN included) while still blocked and
 *   only then, just before execve(), unblocks all signals: it starts with an
 *   empty mask whatever the parent's was.  A signal sent to it in that
 *   window takes its default action.
 * - Descriptors: 0, 1 and 2 as the caller chose (struct proc_opts), and 3
 *   when it asked for one (with_fd3); every descriptor above those is
 *   closed.  Every descriptor this module opens in the
 *   parent is close-on-exec, so a child started by another thread or a later
 *   call never inherits it.
 * - Process group: as o->group says.  With PROC_GROUP_NEW or
 *   PROC_SESSION_NEW the child leads a group whose id is its pid, in place
 *   before proc_spawn() returns, so kill(-pid, sig) reaches it and
 *   everything it starts that does not leave the group.
 * - Credentials: the caller's, or with o->user another user's, set after
 *   the cgroup join (which needs the caller's) and before the cwd and the
 *   exec: setgroups, setgid, setuid, so nothing of the caller's stays.
 * - Failure before the program runs (a missing program, a bad cwd, dup2)
 *   is reported to the parent through a close-on-exec pipe: proc_spawn()
 *   fails with QR_ERR_SYSTEM and errno from the child (ENOENT for a missing
 *   program, EACCES for one that is not executable), the child is reaped,
 *   and nothing is left open.  A child never exits 127 for them.
 *
 * The callers are single-threaded; the mask is the calling thread's.
 */
#ifndef QVMR_PROC_H
#define QVMR_PROC_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum proc_io {
	PROC_NULL,   /* /dev/null */
	PROC_PIPE,   /* a pipe whose other end the parent gets */
	PROC_FD,     /* the descriptor in the matching *_fd field */
};

enum proc_group {
	PROC_GROUP_SAME,   /* stays in the caller's group */
	PROC_GROUP_NEW,    /* setpgid(0, 0): its own group, same session */
	PROC_SESSION_NEW,  /* setsid(): its own session and group, no tty */
};

/* The user a child runs as: its ids and supplementary groups, looked up
 * by the caller (the child only makes system calls). */
struct proc_user {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};

struct proc_opts {
	const char *path;        /* absolute program path */
	char *const *argv;
	char *const *envp;
	enum proc_io in, out, err;
	int in_fd, out_fd, err_fd;   /* for PROC_FD; the child gets a dup,
				      * the caller keeps and closes its own */
	int with_fd3;            /* the child gets a dup of fd3 as its 3 */
	int fd3;                 /* (the caller keeps and closes its own) */
	const char *cwd;         /* NULL: inherit; as o->user, a cwd the user
				  * cannot enter gives "/" instead, as a
				  * login does */
	enum proc_group group;
	int join_cgroup;         /* write "0" to cgroup_procs_fd before exec, */
	int cgroup_procs_fd;     /* so the child is in its cgroup at once */
	const struct proc_user *user;   /* NULL: the caller's credentials */
};

/*
 * Starts the child.  For each PROC_PIPE stream the parent's end is
 * returned in *in / *out / *err: non-blocking, close-on-exec, owned and
 * closed by the caller; the others are set to -1.  A pointer may be NULL
 * for a stream that is not a pipe.  Returns 0 and sets *pid (the caller
 * reaps it), or QR_ERR_SYSTEM with errno from the failing step, in the
 * parent or in the child before its exec; then no child is left.
 */
int proc_spawn(const struct proc_opts *o, pid_t *pid, int *in, int *out,
	       int *err);

/* What proc_run() feeds, collects, and how long it waits. */
struct proc_collect {
	const void *in;          /* written to a PROC_PIPE stdin, then closed;
				  * NULL: stdin closed at once */
	size_t in_len;
	struct buf *out, *err;   /* appended to, at most up to each max;
				  * NULL: read and dropped */
	int kill_on_overflow;    /* output past a max: 1 kills the group and
				  * stops reading it; 0 drops the rest */
	unsigned timeout_ms;     /* the whole run, from the call */
};

struct proc_status {
	int exit_code;   /* 0..255, or -1 when a signal ended the child */
	int signal;      /* the signal that ended it, else 0 */
	int timed_out;   /* the deadline came first: the group was killed */
	int overflowed;  /* some output did not fit its buffer */
};

/*
 * Runs o (whose group must be PROC_GROUP_NEW or PROC_SESSION_NEW, and
 * whose stdin must be PROC_PIPE when c->in is set) to completion: feeds
 * c->in, reads stdout and stderr into c->out and c->err, and waits until
 * the child has exited and both pipes are at EOF, or until the deadline.
 *
 * When the child exits, what is left of its group is sent SIGKILL, so a
 * background grandchild neither outlives it nor holds the pipes open.  At
 * the deadline the whole group is sent SIGKILL, and st->timed_out says so
 * when the child had not exited; a descendant that left the group can hold
 * a pipe only until then.  The child is always reaped and every pipe
 * closed before proc_run() returns; SIGPIPE is ignored while it feeds
 * stdin and then restored.
 *
 * Returns 0 when the child ran, whatever its status (*st), or a negative
 * qr_err: QR_ERR_INVALID for bad options (errno EINVAL), what
 * proc_spawn() returns when it could not start (QR_ERR_SYSTEM, errno
 * ENOENT for a missing program), QR_ERR_NOMEM when a buffer could not
 * grow, QR_ERR_SYSTEM when poll() failed (the group was killed and the
 * child reaped in both) or when someone else reaped the child (ECHILD:
 * a SIGCHLD handler that waits for any pid must not run meanwhile).
 */
int proc_run(const struct proc_opts *o, const struct proc_collect *c,
	     struct proc_status *st);

/*
 * Finds the program `name` (no '/') in `dirs`, a colon-separated list
 * searched in order; NULL means $PATH, and "/usr/bin:/bin" when PATH is
 * not set.  Only absolute entries count: empty and relative ones (which
 * would depend on the working directory) are skipped, as are directories
 * and files that are not executable.  Writes the absolute path to out and
 * returns 0, or QR_ERR_NOT_FOUND (QR_ERR_INVALID for a bad name).
 */
int proc_find(const char *name, const char *dirs, char out[PATH_MAX]);

#endif
