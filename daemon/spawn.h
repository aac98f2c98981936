/*
 * spawn.h - the one way the daemon starts a process.
 *
 * argv only, never a shell; an absolute program path; the environment the
 * caller gives and nothing else; signal mask and dispositions reset; every
 * descriptor above 2 closed; a failed exec reported to the parent through a
 * close-on-exec pipe, so spawn() fails instead of a child exiting 127.
 */
#ifndef QVMR_SPAWN_H
#define QVMR_SPAWN_H

#include <sys/types.h>

enum spawn_io {
	SPAWN_NULL,   /* /dev/null */
	SPAWN_PIPE,   /* a pipe whose other end the parent gets */
	SPAWN_FD,     /* the descriptor given in the matching *_fd field */
};

struct spawn_opts {
	const char *path;        /* absolute program path */
	char *const *argv;
	char *const *envp;
	enum spawn_io in, out, err;
	int in_fd, out_fd, err_fd;   /* for SPAWN_FD; the child gets a dup */
	const char *cwd;         /* NULL: inherit */
	int new_session;         /* setsid(): the child leads its own group */
	int join_cgroup;         /* write "0" to cgroup_procs_fd before exec */
	int cgroup_procs_fd;
};

/*
 * Starts the child.  For each SPAWN_PIPE stream the parent end is returned
 * in *in / *out / *err (non-blocking, close-on-exec, owned by the caller);
 * the others are set to -1.  Pointers may be NULL for streams that are not
 * pipes.  Returns 0 and sets *pid, or QR_ERR_SYSTEM with errno from the
 * failing step (in the parent or the child's exec).
 */
int spawn(const struct spawn_opts *o, pid_t *pid, int *in, int *out,
	  int *err);

/* Sets O_NONBLOCK and FD_CLOEXEC on fd. */
int fd_nonblock_cloexec(int fd);

#endif
