/*
 * runner.h - running one accepted command in dom0 (L3, design.md s. 6).
 *
 * The body is written to <runtime_dir>/<vm>/<cid>.sh (0700) and run as
 * `bash FILE` in its own session, with a fixed environment plus
 * QVM_REMOTE_VM and QVM_REMOTE_ID, stdin from the request's .in (written
 * beside it, 0600) or /dev/null, and stdout/stderr captured through pipes
 * straight into an outbox entry, at most max_output bytes each; the rest is
 * counted and dropped, never held in memory.  The command runs in a cgroup
 * of its own when the daemon has one (cgroup.h), else in its own process
 * group.  At the deadline the group gets SIGTERM, and after
 * RUN_KILL_GRACE_MS SIGKILL and cgroup.kill; when the command's own process
 * exits, whatever it left behind is killed the same way, so no background
 * child outlives its command.
 *
 * The event loop owns the scheduling: it polls the descriptors that
 * run_fds() names, calls run_pump() when they are readable, run_reaped()
 * when waitpid() reports the pid, and run_tick() at run_next_deadline().
 */
#ifndef QVMR_RUNNER_H
#define QVMR_RUNNER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "outbox.h"
#include "result.h"

#define RUN_KILL_GRACE_MS 3000
#define RUN_DRAIN_MS 2000   /* output still open this long after exit: cut */

struct run_request {
	const char *vm, *cid, *claim;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *in;          /* NULL: /dev/null */
	size_t in_len;
	unsigned timeout_s;
	uint64_t max_output;
	const char *runtime_dir, *state_dir;
	char *const *envp;          /* the fixed environment, see run_env */
	const char *cwd;
	const struct cgroup_base *cgroup;   /* NULL or inactive: no cgroup */
	uint64_t max_pids, max_memory;
};

struct run {
	pid_t pid;
	int fd[2];                  /* stdout, stderr pipes; -1 once closed */
	uint64_t bytes[2];          /* produced */
	uint64_t max_output;
	unsigned timeout_s;
	struct outbox_writer w;
	int64_t started_ms, deadline_ms, kill_ms, drain_ms;
	int64_t cgroup_retry_ms;    /* next try to remove the cgroup */
	int timed_out, exited, status;
	int in_cgroup;              /* cgroup below still to be removed */
	char script[PATH_MAX], input[PATH_MAX], cgroup[PATH_MAX];
};

/*
 * The fixed environment for commands: PATH, HOME, USER, LOGNAME, SHELL,
 * LANG and the two QVM_REMOTE_ variables.  storage receives the strings.
 */
struct run_env {
	char *vec[9];
	char storage[8][PATH_MAX + 32];
};
void run_env_init(struct run_env *e, const char *vm, const char *cid);

/* Writes the files and starts the command.  On failure nothing is left. */
int run_start(struct run *r, const struct run_request *q, int64_t now_ms);
/* Moves what fd has into the entry; closes fd at EOF. */
void run_pump(struct run *r, int fd);
/* The leader exited with wait status `status`; kills its group. */
void run_reaped(struct run *r, int status, int64_t now_ms);
/* Applies the timeout and the drain limit. */
void run_tick(struct run *r, int64_t now_ms);
/* The earliest time run_tick has work, or INT64_MAX. */
int64_t run_next_deadline(const struct run *r);
/* Exited and all output read. */
int run_done(const struct run *r);
/* Commits the result to the outbox and removes the files; fills e. */
int run_finish(struct run *r, const char *cid, const char *claim,
	       int64_t now_ms, struct deliver_item *e);
/* Kills and discards a run (daemon shutting down hard). */
void run_abort(struct run *r);

#endif
