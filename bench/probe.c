/*
 * probe.c - the benchmark's stopwatch, run in dom0 and inside simulated VMs.
 *
 *   qvmr-bench-probe time N [-p MS] [-i TEXT] -- CMD [ARGS...]
 *       runs CMD N times, one after the other, TEXT (if given) on its
 *       stdin, with a pause before each run drawn uniformly from [0, MS)
 *       when -p is given (not timed: it puts each start at a random point
 *       of a poll interval instead of at the same point after the last
 *       result); per run prints "START_US END_US DUR_US EXIT" (wall-clock
 *       microseconds since the epoch, so lines can be matched with the
 *       simulator's call log; the duration comes from the monotonic clock),
 *       then "maxrss_kb K": the largest peak RSS of one run (getrusage of
 *       the child, as wait4 reports it).
 *
 *   qvmr-bench-probe burst N TIMEOUT_S
 *       in a VM: plants N requests for `true` in ~/.qvm-remote/queue the
 *       way qvm-remote does (body first, then the v2 token, each through a
 *       temporary name and rename), prints "planted N", then waits with
 *       inotify until all N results are in and prints
 *       "done OK FAIL FIRST_US LAST_US" (when the first and the last result
 *       was seen, epoch microseconds).  Exit 1 when TIMEOUT_S passed first.
 *
 * Why a program and not a shell loop: on a small machine every fork costs
 * milliseconds, and a shell loop would add its own forks to every sample.
 * The burst plants requests instead of starting N clients because each
 * waiting client holds an inotify instance and a user gets only 128 by
 * default.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bounds.h"
#include "cid.h"
#include "err.h"
#include "fileio.h"
#include "key.h"
#include "keyfile.h"
#include "reader.h"
#include "token.h"
#include "banned.h"

#define BURST_MAX 100000u
#define RUNS_MAX 100000u

static const char burst_body[] = "true\n";

static int64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
parse_count(const char *s, uint64_t max, uint64_t *out)
{
	if (parse_u64((const uint8_t *)s, strlen(s), max, out) != 0 ||
	    *out == 0) {
		fprintf(stderr, "qvmr-bench-probe: '%s' is not a count from 1 "
			"to %llu\n", s, (unsigned long long)max);
		return QR_ERR_INVALID;
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: qvmr-bench-probe time N [-p MS] [-i TEXT] -- CMD "
		"[ARGS...]\n       qvmr-bench-probe burst N TIMEOUT_S\n");
	return 2;
}

/* One run of argv with text on its stdin; fills the exit code and rusage. */
static int
run_once(char **argv, const char *text, int *code, struct rusage *ru)
{
	int p[2] = { -1, -1 }, st = 0, r = 0;
	pid_t pid;

	if (text != NULL && pipe(p) < 0)
		return QR_ERR_SYSTEM;
	pid = fork();
	if (pid < 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (pid == 0) {
		if (text != NULL) {
			(void)dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "qvmr-bench-probe: cannot run '%s': %s\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	if (text != NULL) {
		close(p[0]);
		p[0] = -1;
		/* small enough for the pipe buffer: no deadlock */
		(void)write_all(p[1], text, strlen(text));
		close(p[1]);
		p[1] = -1;
	}
	while (wait4(pid, &st, 0, ru) < 0)
		if (errno != EINTR) {
			r = QR_ERR_SYSTEM;
			goto out;
		}
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return r;
}

static int
cmd_time(int argc, char **argv)
{
	const char *text = NULL;
	long maxrss = 0;
	uint64_t n, pause_ms = 0;
	int i = 3;

	if (argc < 5 || parse_count(argv[2], RUNS_MAX, &n) != 0)
		return usage();
	if (strcmp(argv[i], "-p") == 0) {
		if (i + 1 >= argc ||
		    parse_count(argv[i + 1], 3600000, &pause_ms) != 0)
			return usage();
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "-i") == 0) {
		if (i + 1 >= argc)
			return usage();
		text = argv[i + 1];
		i += 2;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
		return usage();
	srandom((unsigned)clock_us(CLOCK_MONOTONIC) ^ (unsigned)getpid());
	for (uint64_t k = 0; k < n; k++) {
		struct rusage ru;
		int64_t w0, m0, m1, w1;
		int code = -1;

		if (pause_ms > 0) {
			uint64_t us = (uint64_t)random() % (pause_ms * 1000);
			struct timespec ts = { (time_t)(us / 1000000),
					       (long)(us % 1000000) * 1000 };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		w0 = clock_us(CLOCK_REALTIME);
		m0 = clock_us(CLOCK_MONOTONIC);

		memset(&ru, 0, sizeof(ru));
		if (run_once(argv + i + 1, text, &code, &ru) != 0) {
			fprintf(stderr, "qvmr-bench-probe: cannot run '%s': "
				"%s\n", argv[i + 1], strerror(errno));
			return 1;
		}
		m1 = clock_us(CLOCK_MONOTONIC);
		w1 = clock_us(CLOCK_REALTIME);
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		printf("%lld %lld %lld %d\n", (long long)w0, (long long)w1,
		       (long long)(m1 - m0), code);
	}
	printf("maxrss_kb %ld\n", maxrss);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- burst ---------------------------------------------------------- */

struct queue_dirs {
	char base[PATH_MAX];
	char pending[PATH_MAX];
	char results[PATH_MAX];
};

static int
dirs_init(struct queue_dirs *q)
{
	const char *home = getenv("HOME");
	int a, b, c;

	if (home == NULL || home[0] != '/') {
		fprintf(stderr, "qvmr-bench-probe: HOME is not an absolute "
			"path; run it as a VM's user\n");
		return QR_ERR_INVALID;
	}
	a = snprintf(q->base, sizeof(q->base), "%s/.qvm-remote", home);
	b = snprintf(q->pending, sizeof(q->pending), "%s/queue/pending",
		     q->base);
	c = snprintf(q->results, sizeof(q->results), "%s/queue/results",
		     q->base);
	if (a < 0 || b < 0 || c < 0 || (size_t)a >= sizeof(q->base) ||
	    (size_t)b >= sizeof(q->pending) || (size_t)c >= sizeof(q->results))
		return QR_ERR_TOO_LARGE;
	if (mkdir_p(q->pending, 0700) != 0 || mkdir_p(q->results, 0700) != 0) {
		fprintf(stderr, "qvmr-bench-probe: cannot create the queue in "
			"'%s': %s\n", q->base, strerror(errno));
		return QR_ERR_SYSTEM;
	}
	return 0;
}

static int
plant(const struct queue_dirs *q, const struct key *k, char *cid)
{
	char token[TOKEN_V2_TEXT_LEN + 1], name[CID_MAX + 8];
	struct token_input ti;
	int r;

	if ((r = cid_generate(cid, time(NULL), getpid())) != 0)
		return r;
	memset(&ti, 0, sizeof(ti));
	ti.cid = cid;
	ti.cid_len = strlen(cid);
	ti.body = (const uint8_t *)burst_body;
	ti.body_len = sizeof(burst_body) - 1;
	if ((r = token_v2_text(k, &ti, token)) != 0)
		return r;
	if ((r = write_file_atomic(q->pending, cid, burst_body,
				   sizeof(burst_body) - 1, 0600, 0)) != 0)
		return r;
	snprintf(name, sizeof(name), "%s.auth", cid);
	r = write_file_atomic(q->pending, name, token, strlen(token), 0600, 0);
	explicit_bzero(token, sizeof(token));
	return r;
}

/* 1 when results/<cid>.exit is in, and whether it says 0. */
static int
result_in(const struct queue_dirs *q, const char *cid, int *ok)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT(32);
	int n = snprintf(path, sizeof(path), "%s/%s.exit", q->results, cid);

	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if (read_file(path, &b) != 0)
		return 0;
	*ok = b.len >= 1 && buf_str(&b)[0] == '0' &&
	      (b.len == 1 || buf_str(&b)[1] == '\n');
	buf_release(&b);
	return 1;
}

static int
cmd_burst(int argc, char **argv)
{
	struct queue_dirs q;
	struct key k;
	char (*cids)[CID_MAX + 1] = NULL;
	unsigned char *seen = NULL;
	uint64_t n, timeout_s, left, good = 0;
	int64_t first = 0, last = 0, deadline;
	char keypath[PATH_MAX + 16];
	int fd = -1, rc = 1, r;

	if (argc != 4 || parse_count(argv[2], BURST_MAX, &n) != 0 ||
	    parse_count(argv[3], 86400, &timeout_s) != 0)
		return usage();
	if (dirs_init(&q) != 0)
		return 1;
	snprintf(keypath, sizeof(keypath), "%s/auth.key", q.base);
	if ((r = key_read_file(keypath, &k)) != 0) {
		fprintf(stderr, "qvmr-bench-probe: cannot read the key: %s; "
			"make one with: qvm-remote key gen\n", qr_strerror(r));
		return 1;
	}
	cids = calloc(n, sizeof(*cids));
	seen = calloc(n, 1);
	if (cids == NULL || seen == NULL)
		goto out;
	/* watch first, so no result can slip past unseen */
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || inotify_add_watch(fd, q.results, IN_MOVED_TO |
					IN_CLOSE_WRITE) < 0) {
		fprintf(stderr, "qvmr-bench-probe: cannot watch '%s': %s\n",
			q.results, strerror(errno));
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if ((r = plant(&q, &k, cids[i])) != 0) {
			fprintf(stderr, "qvmr-bench-probe: cannot plant a "
				"request: %s\n", r == QR_ERR_SYSTEM ?
				strerror(errno) : qr_strerror(r));
			goto out;
		}
	printf("planted %llu\n", (unsigned long long)n);
	fflush(stdout);
	deadline = clock_us(CLOCK_MONOTONIC) + (int64_t)timeout_s * 1000000;
	left = n;
	while (left > 0) {
		char ev[4096] __attribute__((aligned(
			__alignof__(struct inotify_event))));
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t now = clock_us(CLOCK_MONOTONIC), t;

		if (now >= deadline)
			break;
		(void)poll(&pfd, 1, (int)((deadline - now) / 1000 + 1));
		while (read(fd, ev, sizeof(ev)) > 0)
			;
		/* a rescan per wake-up: simple, and cheap next to a fork */
		t = clock_us(CLOCK_REALTIME);
		for (uint64_t i = 0; i < n; i++) {
			int ok = 0;
			if (seen[i] || !result_in(&q, cids[i], &ok))
				continue;
			seen[i] = 1;
			good += ok != 0;
			left--;
			if (first == 0)
				first = t;
			last = t;
		}
	}
	printf("done %llu %llu %lld %lld\n", (unsigned long long)good,
	       (unsigned long long)(n - left - good), (long long)first,
	       (long long)last);
	rc = left == 0 ? 0 : 1;
out:
	if (fd >= 0)
		close(fd);
	key_wipe(&k);
	free(cids);
	free(seen);
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "time") == 0)
		return cmd_time(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "burst") == 0)
		return cmd_burst(argc, argv);
	return usage();
}
