/*
 * runner.h - running one accepted command in dom0 (L3, design.md s. 6).
 *
 * A script is written to <runtime_dir>/<vm>/<cid>.sh (0700) and run as
 * `bash FILE`; an argument vector (issue 15) is run with execve, no shell,
 * its program found in RUN_PATH unless it starts with '/' (one not found
 * is the command's own exit 127 with a line on its stderr, as a shell
 * says it).  Either runs in its own session, with a fixed environment
 * plus QVM_REMOTE_VM and QVM_REMOTE_ID, stdin from the request's .in
 * (written beside it, 0600) or /dev/null, as root (the service's own
 * credentials) or as a dom0 user (run_user: its ids and groups, HOME,
 * USER, LOGNAME and SHELL from its passwd entry, cwd its home or "/"; a
 * script then reaches bash as /dev/fd/3, its file being the user's but
 * in a directory only root enters), and stdout/stderr captured through pipes
 * straight into an outbox entry, at most max_output bytes each; the rest is
 * counted and dropped, never held in memory.  The command runs in a cgroup
 * of its own when the daemon has one (cgroup.h), else in its own process
 * group.  A signal goes to the process group and, with a cgroup, to
 * every process in it (SIGKILL through cgroup.kill).  At the deadline the
 * command gets SIGTERM, and after RUN_KILL_GRACE_MS SIGKILL; when the
 * command's own process exits, whatever it left behind is killed the same
 * way, so no background child outlives its command.
 *
 * Two more ways a command is stopped (issue 16).  run_cancel(), the VM's
 * cancel=CID: SIGINT, as Ctrl-C in a terminal, then SIGTERM after
 * RUN_CANCEL_TERM_MS and SIGKILL RUN_CANCEL_KILL_MS later, unless it ends
 * first; its result keeps the command's own status and exit code and says
 * cancelled=1.  run_interrupt(), the service stopping past its grace:
 * SIGTERM then SIGKILL at once; the result is status=interrupted (exit
 * 255), not a timeout.
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
#include "policy.h"
#include "proc.h"
#include "result.h"

#define RUN_KILL_GRACE_MS 3000
#define RUN_CANCEL_TERM_MS 2000 /* a cancel's SIGINT, then SIGTERM */
#define RUN_CANCEL_KILL_MS 5000 /* that SIGTERM, then SIGKILL */
#define RUN_STOPPED_REASON "the service stopped while the command ran; " \
			   "it was killed"
#define RUN_DRAIN_MS 2000   /* output still open this long after exit: cut */
#define RUN_NOT_FOUND 127   /* exit of a vector whose program is not found */
#define RUN_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A dom0 user to run as, not root: looked up before anything runs. */
struct run_user {
	char name[POLICY_USER_MAX + 1];
	char home[PATH_MAX], shell[PATH_MAX];
	struct proc_user ids;           /* ids.groups owned */
};

/*
 * Looks up name's passwd entry and its groups (as initgroups would set
 * them).  0; QR_ERR_NOT_FOUND (no such user), QR_ERR_TOO_LARGE (a home or
 * shell longer than PATH_MAX), QR_ERR_NOMEM or QR_ERR_SYSTEM (errno).  On
 * failure *u holds nothing to release.
 */
int run_user_lookup(const char *name, struct run_user *u);
void run_user_release(struct run_user *u);

struct run_request {
	const char *vm, *cid, *claim;
	const uint8_t *body;        /* a script (argv NULL) */
	size_t body_len;
	char *const *argv;          /* NULL: run body with bash; else the
				     * vector, NULL-terminated */
	const struct run_user *user;    /* NULL: as root (the service) */
	const uint8_t *in;          /* NULL: /dev/null */
	size_t in_len;
	unsigned timeout_s;
	uint64_t max_output;
	int cut_in_err;             /* a stream cut at max_output is told at
				     * the end of .err (an original client
				     * reads no .meta) */
	const char *runtime_dir, *state_dir;
	char *const *envp;          /* the fixed environment, see run_env */
	const char *cwd;
	const struct cgroup_base *cgroup;   /* NULL or inactive: no cgroup */
	uint64_t max_pids, max_memory;
};

struct run {
	pid_t pid;
	int fd[2];                  /* stdout, stderr pipes; -1 once closed */
	uint64_t serial;            /* its pipes' owner, to the loop (waitset.h) */
	uint64_t bytes[2];          /* produced */
	uint64_t max_output;
	int cut_in_err;
	uint64_t queued_ms;         /* its wait for a slot, as told */
	char started[REASON_MAX + 1];   /* its timeout lowered, as told */
	unsigned timeout_s;
	struct outbox_writer w;     /* w.written: what the entry's out and
				     * err hold, which can be sent while it
				     * runs (issue 16) */
	int64_t started_ms, deadline_ms, kill_ms, drain_ms;
	int64_t term_ms;            /* a cancel's SIGTERM is due */
	int64_t cgroup_retry_ms;    /* next try to remove the cgroup */
	int timed_out, exited, status;
	int cancelled;              /* 0, or the last signal a cancel sent */
	int stopped;                /* killed because the service stops */
	int in_cgroup;              /* cgroup below still to be removed */
	char script[PATH_MAX], input[PATH_MAX], cgroup[PATH_MAX];
};

/*
 * The fixed environment for commands: PATH, HOME, USER, LOGNAME, SHELL,
 * LANG and the two QVM_REMOTE_ variables, HOME to SHELL those of user
 * (NULL: the service's own, SHELL bash).  storage receives the strings.
 */
struct run_env {
	char *vec[9];
	char storage[8][PATH_MAX + 32];
};
void run_env_init(struct run_env *e, const char *vm, const char *cid,
		  const struct run_user *user);

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
/*
 * The VM asked to stop the command (cancel=CID): SIGINT now, SIGTERM and
 * SIGKILL later as above.  0 when the SIGINT was sent; QR_ERR_EXISTS when
 * it is being stopped already (an earlier cancel, its timeout, the
 * service stopping): nothing more is sent; QR_ERR_NOT_FOUND when it has
 * exited (its output may still drain): nothing to stop.
 */
int run_cancel(struct run *r, int64_t now_ms);
/* The service stops past its grace: SIGTERM, SIGKILL at the next tick;
 * the result is status=interrupted, unless its timeout came first. */
void run_interrupt(struct run *r, int64_t now_ms);
/* Kills and discards a run (daemon shutting down hard). */
void run_abort(struct run *r);

#endif
