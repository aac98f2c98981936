/*
 * test_io_proc.c - the process module: spawn, run-and-collect under a
 * deadline, PATH search, signals blocked around fork.
 */
#include "proc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "tmptree.h"

#include "banned.h"

static char *const no_env[] = { "PATH=/usr/bin:/bin", NULL };

/* sh -c SCRIPT in its own group, stdout and stderr piped */
static struct proc_opts
sh_opts(char *argv[4], const char *script)
{
	struct proc_opts o = {
		.path = "/bin/sh", .argv = argv, .envp = no_env,
		.in = PROC_NULL, .out = PROC_PIPE, .err = PROC_PIPE,
		.group = PROC_GROUP_NEW,
	};

	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	return o;
}

/* path in its own group, stdin and stdout as given, stderr /dev/null */
static struct proc_opts
bin_opts(char *const argv[], const char *path, enum proc_io in,
	 enum proc_io out)
{
	struct proc_opts o = {
		.path = path, .argv = argv, .envp = no_env,
		.in = in, .out = out, .err = PROC_NULL,
		.group = PROC_GROUP_NEW,
	};

	return o;
}

/* Waits up to 3 s for pid (a child of ours) to end; its wait status, or
 * -1 when it still runs (then it is killed and reaped). */
static int
wait_gone(pid_t pid)
{
	int64_t until = mono_ms() + 3000;
	int ws;

	while (mono_ms() < until) {
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid)
			return ws;
		if (w < 0)
			return -2;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, &ws, 0);
	return -1;
}

static void
test_collects_output(void **state)
{
	char *argv[4];
	struct proc_opts o = sh_opts(argv, "printf out; printf err >&2; "
				     "exit 3");
	struct buf out = BUF_INIT(64), err = BUF_INIT(64);
	struct proc_collect c = { .out = &out, .err = &err,
				  .timeout_ms = 10000 };
	struct proc_status st;

	assert_int_equal(proc_run(&o, &c, &st), 0);
	assert_string_equal(buf_str(&out), "out");
	assert_string_equal(buf_str(&err), "err");
	assert_int_equal(st.exit_code, 3);
	assert_int_equal(st.signal, 0);
	assert_int_equal(st.timed_out, 0);
	assert_int_equal(st.overflowed, 0);
	buf_release(&out);
	buf_release(&err);
}

/* More than a pipe holds in both directions at once: no deadlock. */
static void
test_feeds_stdin(void **state)
{
	char *argv[] = { "cat", NULL };
	struct proc_opts o = bin_opts(argv, "/bin/cat", PROC_PIPE, PROC_PIPE);
	size_t n = (size_t)1 << 20;
	char *in = malloc(n);
	struct buf out = BUF_INIT(n);
	struct proc_collect c = { .in = in, .in_len = n, .out = &out,
				  .timeout_ms = 10000 };
	struct proc_status st;

	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	assert_int_equal(proc_run(&o, &c, &st), 0);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, in, n);
	buf_release(&out);
	free(in);
}

/* A reader that is gone gets EPIPE, never SIGPIPE for the caller. */
static void
test_reader_gone_is_no_sigpipe(void **state)
{
	char *argv[] = { "true", NULL };
	struct proc_opts o = bin_opts(argv, "/bin/true", PROC_PIPE, PROC_NULL);
	size_t n = (size_t)4 << 20;
	char *in = calloc(1, n);
	struct proc_collect c = { .in = in, .in_len = n, .timeout_ms = 10000 };
	struct proc_status st;
	struct sigaction now;

	assert_non_null(in);
	assert_int_equal(proc_run(&o, &c, &st), 0);
	assert_int_equal(st.exit_code, 0);
	/* and the caller's disposition is back */
	assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
	assert_true(now.sa_handler == SIG_DFL);
	free(in);
}

/*
 * Runs SCRIPT, which starts a grandchild in its group and prints its pid,
 * with a deadline of timeout_ms; fills *st and *took_ms and returns the
 * grandchild's wait status: it is ours, as its subreaper, so the status
 * says who ended it.  A survivor is killed here (status -1), so no later
 * test inherits it.
 */
static int
run_with_grandchild(const char *script, unsigned timeout_ms,
		    struct proc_status *st, int64_t *took_ms)
{
	char *argv[4];
	struct proc_opts o = sh_opts(argv, script);
	struct buf out = BUF_INIT(64);
	struct proc_collect c = { .out = &out, .timeout_ms = timeout_ms };
	int64_t t0 = mono_ms();
	pid_t grandchild;
	int r = proc_run(&o, &c, st);

	*took_ms = mono_ms() - t0;
	grandchild = (pid_t)strtol(buf_str(&out), NULL, 10);
	buf_release(&out);
	assert_int_equal(r, 0);
	assert_true(grandchild > 0);
	return wait_gone(grandchild);
}

/* The child and a grandchild in its group, both sleeping: the deadline
 * kills the whole group. */
static void
test_deadline_kills_group(void **state)
{
	struct proc_status st;
	int64_t took;
	int ws = run_with_grandchild("sleep 30 & echo $!; exec sleep 30", 300,
				     &st, &took);

	assert_true(took < 3000);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.exit_code, -1);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_not_equal(ws, -1);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
}

/* The child exits and leaves a grandchild holding its stdout: proc_run
 * neither waits for it nor lets it live on. */
static void
test_exit_kills_leftovers(void **state)
{
	struct proc_status st;
	int64_t took;
	int ws = run_with_grandchild("sleep 30 & echo $!; exit 7", 20000, &st,
				     &took);

	assert_true(took < 5000);
	assert_int_equal(st.timed_out, 0);
	assert_int_equal(st.exit_code, 7);
	assert_int_not_equal(ws, -1);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
}

static void
test_overflow(void **state)
{
	char *argv[4];
	struct proc_opts endless = sh_opts(argv, "while :; do echo xxxxxxx; "
					   "done");
	char *argv2[4];
	struct proc_opts finite = sh_opts(argv2, "head -c 100000 /dev/zero; "
					  "exit 4");
	struct buf out = BUF_INIT(100);
	struct proc_collect stop = { .out = &out, .kill_on_overflow = 1,
				     .timeout_ms = 20000 };
	struct proc_collect drop = { .out = &out, .timeout_ms = 20000 };
	struct proc_status st;
	int64_t t0 = mono_ms();

	/* past the limit with kill_on_overflow: killed at once, no wait */
	assert_int_equal(proc_run(&endless, &stop, &st), 0);
	assert_true(mono_ms() - t0 < 5000);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.timed_out, 0);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(out.len, 100);
	assert_memory_equal(out.data, "xxxxxxx\n", 8);
	/* without: the rest is read and dropped, the child ends as it will */
	buf_reset(&out);
	assert_int_equal(proc_run(&finite, &drop, &st), 0);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.exit_code, 4);
	assert_int_equal(out.len, 100);
	buf_release(&out);
}

static void
test_missing_program(void **state)
{
	char *argv[] = { "nothing", NULL };
	struct proc_opts o = bin_opts(argv, "/nonexistent/qvmr-nothing",
				      PROC_NULL, PROC_PIPE);
	struct proc_collect c = { .timeout_ms = 1000 };
	struct proc_status st;
	pid_t pid = 0;
	int fd = 12345;
	char dir[64], path[128];

	errno = 0;
	assert_int_equal(proc_spawn(&o, &pid, NULL, &fd, NULL),
			 QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fd, -1);
	/* the child that could not exec is reaped already */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	errno = 0;
	assert_int_equal(proc_run(&o, &c, &st), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(st.exit_code, -1);
	/* a file that is not executable: EACCES, likewise */
	assert_int_equal(tmptree_make(dir, sizeof(dir), "qvmr-proc"), 0);
	snprintf(path, sizeof(path), "%s/plain", dir);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0644)), 0);
	o.path = path;
	assert_int_equal(proc_spawn(&o, &pid, NULL, &fd, NULL),
			 QR_ERR_SYSTEM);
	assert_int_equal(errno, EACCES);
	tmptree_remove(dir);
}

static void
test_bad_options(void **state)
{
	char *argv[4];
	struct proc_opts o = sh_opts(argv, "exit 0");
	struct proc_collect c = { .in = "x", .in_len = 1, .timeout_ms = 1000 };
	struct proc_status st;

	/* stdin to feed but not a pipe */
	assert_int_equal(proc_run(&o, &c, &st), QR_ERR_INVALID);
	/* a deadline that could not kill the group */
	c.in = NULL;
	o.group = PROC_GROUP_SAME;
	assert_int_equal(proc_run(&o, &c, &st), QR_ERR_INVALID);
	assert_int_equal(errno, EINVAL);
}

/* The group each mode asks for is in place when proc_spawn returns. */
static void
test_groups(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct proc_opts o = bin_opts(argv, "/bin/sleep", PROC_NULL, PROC_NULL);
	static const enum proc_group modes[] = {
		PROC_GROUP_SAME, PROC_GROUP_NEW, PROC_SESSION_NEW,
	};
	pid_t pid, pgid[3], sid[3];

	for (size_t i = 0; i < 3; i++) {
		o.group = modes[i];
		assert_int_equal(proc_spawn(&o, &pid, NULL, NULL, NULL), 0);
		pgid[i] = getpgid(pid) == pid ? 1 : getpgid(pid) == getpgrp()
			  ? 0 : -1;
		sid[i] = getsid(pid) == pid ? 1 : getsid(pid) == getsid(0)
			 ? 0 : -1;
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	}
	/* same: ours; new: its own group in our session; session: both */
	assert_int_equal(pgid[0], 0);
	assert_int_equal(sid[0], 0);
	assert_int_equal(pgid[1], 1);
	assert_int_equal(sid[1], 0);
	assert_int_equal(pgid[2], 1);
	assert_int_equal(sid[2], 1);
}

/* Descriptors of ours without close-on-exec, below and above the ones
 * proc_spawn opens itself, still do not reach the child; the ends we get
 * back are close-on-exec and non-blocking. */
static void
test_descriptors(void **state)
{
	char script[256], *argv[4];
	int low = open("/dev/null", O_RDONLY), high, out = -1, fl;
	struct proc_opts o;
	struct buf b = BUF_INIT(64);
	pid_t pid;
	ssize_t n;
	char tmp[64];

	assert_true(low > 2);
	high = fcntl(low, F_DUPFD, 200);
	assert_true(high >= 200);
	snprintf(script, sizeof(script),
		 "for f in %d %d; do [ -e /proc/self/fd/$f ] && echo open "
		 "|| echo closed; done; read x && echo stdin || echo eof",
		 low, high);
	o = sh_opts(argv, script);
	o.err = PROC_NULL;
	assert_int_equal(proc_spawn(&o, &pid, NULL, &out, NULL), 0);
	fl = fcntl(out, F_GETFD);
	assert_true(fl >= 0 && (fl & FD_CLOEXEC));
	fl = fcntl(out, F_GETFL);
	assert_true(fl >= 0 && (fl & O_NONBLOCK));
	assert_int_equal(fcntl(out, F_SETFL, fl & ~O_NONBLOCK), 0);
	while ((n = read(out, tmp, sizeof(tmp))) > 0)
		assert_int_equal(buf_append(&b, tmp, (size_t)n), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_string_equal(buf_str(&b), "closed\nclosed\neof\n");
	close(out);
	close(low);
	close(high);
	buf_release(&b);
}

/* with_fd3: the child reads fd3 as its descriptor 3, and nothing above */
static void
test_fd3(void **state)
{
	char *argv[4];
	struct proc_opts o = sh_opts(argv, "cat <&3; [ -e /proc/self/fd/4 ] "
				     "&& echo four || echo none");
	struct buf out = BUF_INIT(256);
	struct proc_collect c = { .out = &out, .timeout_ms = 10000 };
	struct proc_status st;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "three\n", 6), 6);
	close(p[1]);
	o.with_fd3 = 1;
	o.fd3 = p[0];
	assert_int_equal(proc_run(&o, &c, &st), 0);
	assert_int_equal(st.exit_code, 0);
	assert_string_equal(buf_str(&out), "three\nnone\n");
	close(p[0]);
	buf_release(&out);
}

/* As another user: its ids and groups, nothing of ours; a cwd it cannot
 * enter gives "/".  Root only (nobody is 65534 on Debian). */
static void
test_user(void **state)
{
	static const gid_t groups[] = { 65534 };
	const struct proc_user nobody = { 65534, 65534, groups, 1 };
	char *argv[4], dir[] = "/tmp/qvmr-proc-user-XXXXXX";
	struct proc_opts o = sh_opts(argv, "id -u; id -g; id -G; pwd");
	struct buf out = BUF_INIT(256);
	struct proc_collect c = { .out = &out, .timeout_ms = 10000 };
	struct proc_status st;

	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));      /* 0700, root's */
	o.user = &nobody;
	o.cwd = dir;
	assert_int_equal(proc_run(&o, &c, &st), 0);
	assert_int_equal(st.exit_code, 0);
	assert_string_equal(buf_str(&out), "65534\n65534\n65534\n/\n");
	buf_reset(&out);
	/* without a user, a bad cwd is still a failure */
	o.user = NULL;
	o.cwd = "/nonexistent/qvmr";
	assert_int_equal(proc_run(&o, &c, &st), QR_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(dir), 0);
	buf_release(&out);
}

/* ------------------------------------------------- signals around fork */

static int handler_log[2] = { -1, -1 };
static volatile sig_atomic_t raise_in_child;

/* Records which process it ran in. */
static void
on_signal(int sig)
{
	pid_t me = getpid();
	int e = errno;

	(void)sig;
	(void)!write(handler_log[1], &me, sizeof(me));
	errno = e;
}

/* Runs in every child of fork() right after it: a SIGTERM and a SIGCHLD
 * that arrive between fork and exec, made certain instead of lucky. */
static void
child_after_fork(void)
{
	if (raise_in_child) {
		raise(SIGCHLD);
		raise(SIGTERM);
	}
}

static void
test_parent_handlers_never_run_in_child(void **state)
{
	char *argv[] = { "true", NULL };
	struct proc_opts o = bin_opts(argv, "/bin/true", PROC_NULL, PROC_NULL);
	struct sigaction sa, old_term, old_chld;
	pid_t pid, logged, parent = getpid();
	ssize_t n;
	int ws, others = 0;
	sigset_t mask, before;

	assert_int_equal(pipe2(handler_log, O_CLOEXEC | O_NONBLOCK), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTERM, &sa, &old_term), 0);
	assert_int_equal(sigaction(SIGCHLD, &sa, &old_chld), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &before), 0);

	raise_in_child = 1;
	assert_int_equal(proc_spawn(&o, &pid, NULL, NULL, NULL), 0);
	raise_in_child = 0;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	/* the handlers ran in the parent only (its SIGCHLD), never in the child */
	while ((n = read(handler_log[0], &logged, sizeof(logged))) ==
	       (ssize_t)sizeof(logged))
		if (logged != parent) {
			fprintf(stderr, "a handler ran in the child %ld\n",
				(long)logged);
			others++;
		}
	assert_int_equal(others, 0);
	/* the SIGTERM did reach the child, and took its default action (a
	 * handler that ran after the descriptors were closed shows here) */
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGTERM);
	/* the parent's mask is its own again */
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
	assert_int_equal(sigismember(&mask, SIGTERM),
			 sigismember(&before, SIGTERM));
	assert_int_equal(sigismember(&mask, SIGCHLD),
			 sigismember(&before, SIGCHLD));

	assert_int_equal(sigaction(SIGTERM, &old_term, NULL), 0);
	assert_int_equal(sigaction(SIGCHLD, &old_chld, NULL), 0);
	close(handler_log[0]);
	close(handler_log[1]);
}

/* ---------------------------------------------------------------- find */

static void
make_file(const char *dir, const char *name, mode_t mode)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static void
make_dir(const char *dir, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* empty/  plain/prog (0644)  isdir/prog/  exec/prog (0755), and
 * rel/prog and ./prog (0755), reachable only relatively */
static char tree[64];

static int
tree_setup(void **state)
{
	if (tmptree_make(tree, sizeof(tree), "qvmr-find") != 0)
		return -1;
	make_dir(tree, "empty");
	make_dir(tree, "plain");
	make_file(tree, "plain/prog", 0644);
	make_dir(tree, "isdir");
	make_dir(tree, "isdir/prog");
	make_dir(tree, "exec");
	make_file(tree, "exec/prog", 0755);
	make_dir(tree, "rel");
	make_file(tree, "rel/prog", 0755);
	make_file(tree, "prog", 0755);
	return 0;
}

static int
tree_teardown(void **state)
{
	tmptree_remove(tree);
	return 0;
}

static void
test_find_skips(void **state)
{
	char dirs[1024], want[256], out[PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tree), 0);
	/* empty entries, a relative one, an empty directory, a file without
	 * x, a directory of that name: all passed over */
	snprintf(dirs, sizeof(dirs), "::rel:%s/empty::%s/plain:%s/isdir:"
		 "%s/exec:", tree, tree, tree, tree);
	snprintf(want, sizeof(want), "%s/exec/prog", tree);
	assert_int_equal(proc_find("prog", dirs, out), 0);
	assert_string_equal(out, want);
	/* an empty entry is not the working directory, nor is "." */
	assert_int_equal(proc_find("prog", ":", out), QR_ERR_NOT_FOUND);
	assert_int_equal(proc_find("prog", "", out), QR_ERR_NOT_FOUND);
	assert_int_equal(proc_find("prog", ".:rel", out), QR_ERR_NOT_FOUND);
	snprintf(dirs, sizeof(dirs), "%s/plain:%s/isdir", tree, tree);
	assert_int_equal(proc_find("prog", dirs, out), QR_ERR_NOT_FOUND);
	assert_int_equal(chdir(cwd), 0);
}

static void
test_find_path(void **state)
{
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char dirs[512], out[PATH_MAX];

	/* NULL: $PATH */
	snprintf(dirs, sizeof(dirs), "%s/plain:%s/exec", tree, tree);
	setenv("PATH", dirs, 1);
	assert_int_equal(proc_find("prog", NULL, out), 0);
	assert_non_null(strstr(out, "/exec/prog"));
	assert_int_equal(proc_find("sh", NULL, out), QR_ERR_NOT_FOUND);
	/* no PATH at all: the system's directories */
	unsetenv("PATH");
	assert_int_equal(proc_find("sh", NULL, out), 0);
	assert_true(out[0] == '/' && strstr(out, "/sh") != NULL);
	if (saved != NULL)
		setenv("PATH", saved, 1);
	free(saved);
	/* a name is a name, never a path */
	assert_int_equal(proc_find("bin/sh", "/usr", out), QR_ERR_INVALID);
	assert_int_equal(proc_find("", "/bin", out), QR_ERR_INVALID);
	assert_int_equal(proc_find("qvmr-no-such-program", "/usr/bin:/bin",
				   out), QR_ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collects_output),
		cmocka_unit_test(test_feeds_stdin),
		cmocka_unit_test(test_reader_gone_is_no_sigpipe),
		cmocka_unit_test(test_deadline_kills_group),
		cmocka_unit_test(test_exit_kills_leftovers),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_fd3),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_parent_handlers_never_run_in_child),
		cmocka_unit_test_setup_teardown(test_find_skips, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_find_path, tree_setup,
						tree_teardown),
	};

	/* orphaned grandchildren come to us, so a test can see how they
	 * ended */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		return 1;
	if (pthread_atfork(NULL, NULL, child_after_fork) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
