/*
 * serve.c - the event loop: per VM, fetch -> verify -> run -> deliver.
 *
 * Everything waits in one epoll set (waitset.h): the self-pipe that
 * signal handlers write to, an inotify watch on the qrexec socket
 * directory (so a VM that starts is noticed at once without a transport
 * call), one on the keys directory and one on the policy's (a changed
 * key or policy takes effect at once, dirwatch.h), the pipes of transport
 * calls and of running commands.  Every wait has a monotonic deadline.
 * A VM's bad reply or failing transport ends that VM's exchange only.
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <sys/inotify.h>
#include <sys/wait.h>

#include "clock.h"
#include "configfile.h"
#include "daemon.h"
#include "err.h"
#include "fileio.h"
#include "liveness.h"
#include "logline.h"
#include "waitset.h"
#include "banned.h"

#define TICK_MS 1000                /* stat VMs at least this often */
#define STOP_DELIVER_MS 15000       /* delivers after the stop grace */

static int signal_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(signal_pipe[1], &b, 1);
	errno = saved;
}

/* ---- the loop ----------------------------------------------------------- */

static unsigned
jobs_running(const struct daemon *d)
{
	return (unsigned)d->njobs;
}

/*
 * Stopping, a job that has not started never will: it is not in the replay
 * store, so the next start finds its claim in running/ and puts it back in
 * pending/ (design.md section 6), and it runs then, once.  Starting it now
 * could only end it at the grace period as "timed out", part run.
 */
static void
leave_queue(struct daemon *d, struct vm *v)
{
	while (v->queue != NULL) {
		struct job *j = v->queue;
		v->queue = j->next;
		ev_simple(d, "INFO", v->name, j->cid, "action",
			  "stopping before it started; the next start runs it");
		job_free(j);
		d->jobs_dirty = 1;
	}
	v->queue_tail = NULL;
}

static void
schedule(struct daemon *d, struct vm *v, int64_t t)
{
	if (d->stopping) {
		leave_queue(d, v);
		asks_leave(d, v);
	}
	ev_rejects_flush(d, v, t);
	while (v->queue != NULL && v->running < d->cfg->max_per_vm &&
	       jobs_running(d) < d->cfg->max_jobs) {
		struct job *j = v->queue;
		v->queue = j->next;
		if (v->queue == NULL)
			v->queue_tail = NULL;
		j->next = NULL;
		job_start(d, j);
	}
	if (v->up)
		exchange_start(d, v, t);
}

/* The loop's own descriptors' owner (waitset.h): the signal pipe and
 * the inotify descriptor live as long as the loop. */
static uint64_t loop_serial;

static void
wait_call(struct waitset *w, const struct call *c)
{
	if (c == NULL)
		return;
	(void)waitset_add(w, c->in, call_events(c, c->in), c->serial);
	(void)waitset_add(w, c->out, POLLIN, c->serial);
	(void)waitset_add(w, c->err, POLLIN, c->serial);
}

static void
call_dispatch(const struct waitset *w, struct call *c)
{
	int fds[3];
	short ev;

	if (c == NULL)
		return;
	fds[0] = c->in;
	fds[1] = c->out;
	fds[2] = c->err;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && (ev = waitset_revents(w, fds[i])) != 0)
			call_io(c, fds[i], ev);
}

static void
reap(struct daemon *d)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (asks_reaped(d, pid, status))
			continue;
		for (size_t i = 0; i < d->njobs; i++)
			if (d->jobs[i]->run->pid == pid)
				run_reaped(d->jobs[i]->run, status, mono_ms());
		for (struct vm *v = d->vms; v != NULL; v = v->next) {
			if (v->x.call != NULL && v->x.call->pid == pid)
				call_reaped(v->x.call, status);
			if (v->x.dcall != NULL && v->x.dcall->pid == pid)
				call_reaped(v->x.dcall, status);
			for (struct call *c = v->x.winding; c != NULL;
			     c = c->next)
				if (c->pid == pid)
					call_reaped(c, status);
		}
	}
}

static int reload(struct daemon *d);

/* keys and policy: events of their directories' watches go to their
 * dirwatch; the qrexec directory's (and an overflow, which may have lost
 * some) make refresh_up stat the VMs. */
static void
read_inotify(struct daemon *d)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(d->inotify_fd, ev, sizeof(ev))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event)
		     <= n;) {
			const struct inotify_event *e =
				(const struct inotify_event *)(ev + off);
			if (e->wd == d->qrexec_wd || e->wd == -1)
				d->up_dirty = 1;
			dirwatch_event(&d->keys_watch, d->inotify_fd, e->wd,
				       e->mask);
			dirwatch_event(&d->policy_watch, d->inotify_fd, e->wd,
				       e->mask);
			dirwatch_event(&d->answers_watch, d->inotify_fd, e->wd,
				       e->mask);
			dirwatch_event(&d->stops_watch, d->inotify_fd, e->wd,
				       e->mask);
			off += (ssize_t)sizeof(*e) + e->len;
		}
	}
}

static void
read_signals(struct daemon *d, int *children)
{
	unsigned char sig[64];
	ssize_t n = read(signal_pipe[0], sig, sizeof(sig));

	for (ssize_t i = 0; i < n; i++) {
		if (sig[i] == SIGCHLD) {
			*children = 1;
		} else if (sig[i] == SIGHUP) {
			(void)reload(d);
		} else if (!d->stopping) {
			d->stopping = 1;
			d->stop_deadline_ms = mono_ms() +
				(int64_t)d->cfg->stop_grace_s * 1000;
			ev_simple(d, "INFO", NULL, NULL, "action", "stopping");
		}
	}
}

static int
reload(struct daemon *d)
{
	struct config fresh;
	char err[CONFIG_ERR_MAX];

	config_defaults(&fresh);
	if ((d->opts->config_path != NULL &&
	     config_load_file(d->opts->config_path, &fresh, err) < 0 &&
	     errno != ENOENT) ||
	    config_apply_env(&fresh, err) != 0) {
		ev_simple(d, "ERROR", NULL, NULL, "reason",
			  "reload failed; keeping the old configuration");
		return -1;
	}
	/* paths and the transport stay: work in flight depends on them */
	d->cfg->vms = fresh.vms;
	d->cfg->vms_set = fresh.vms_set;
	d->cfg->legacy = fresh.legacy;
	d->cfg->timeout_s = fresh.timeout_s;
	d->cfg->max_jobs = fresh.max_jobs;
	d->cfg->max_per_vm = fresh.max_per_vm;
	d->cfg->max_output = fresh.max_output;
	d->cfg->max_age_s = fresh.max_age_s;
	/* issue 12: SIGHUP also reopens the log (after a rotation) */
	if (audit_reopen(&d->audit) != 0)
		ev_simple(d, "ERROR", NULL, NULL, "reason", d->audit.why);
	ev_simple(d, "INFO", NULL, NULL, "action", "reloaded");
	(void)policy_load(d);
	return vms_load(d);
}



/* True when the loop has nothing left to do and may return. */
static int
finished(struct daemon *d)
{
	int once = d->opts->once || d->opts->dry_run;

	if (!d->stopping && !once)
		return 0;
	/* past the grace and a last round of delivers, what is undelivered
	 * stays in the outbox for the next start */
	if (d->stopping && d->njobs == 0 &&
	    mono_ms() >= d->stop_deadline_ms + STOP_DELIVER_MS)
		return 1;
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		if (!vm_idle(v))
			return 0;
		if (once && v->up && !d->stopping && !v->x.fetched)
			return 0;
		if (v->up && v->nready > 0 && v->x.failures == 0 &&
		    !d->opts->dry_run)
			return 0;
	}
	return 1;
}

static int64_t
next_wakeup(struct daemon *d, int64_t t)
{
	/* keys: the tick also stamps the keys directory when unwatched */
	int64_t w = t + (d->qrexec_wd >= 0 && d->keys_watch.wd >= 0 &&
			 d->policy_watch.wd >= 0 && d->answers_watch.wd >= 0 &&
			 d->stops_watch.wd >= 0 ? 60000 : TICK_MS);

	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		if (!v->up)
			continue;
		w = exchange_wake(d, v, w);
		if (budget_due(&v->rejects) < w)
			w = budget_due(&v->rejects);
	}
	w = asks_wake(d, w);
	for (size_t i = 0; i < d->njobs; i++) {
		int64_t r = run_next_deadline(d->jobs[i]->run);
		if (r < w)
			w = r;
	}
	/* only deadlines still ahead: one that passed must not spin the loop */
	if (d->stopping && d->stop_deadline_ms > t && d->stop_deadline_ms < w)
		w = d->stop_deadline_ms;
	if (d->stopping && d->stop_deadline_ms + STOP_DELIVER_MS > t &&
	    d->stop_deadline_ms + STOP_DELIVER_MS < w)
		w = d->stop_deadline_ms + STOP_DELIVER_MS;
	return w;
}

static void
stop_hard(struct daemon *d, int64_t t)
{
	/* past the grace period: running commands are killed and end as
	 * interrupted, not as timed out (issue 16; and exchange_time
	 * abandons the fetches: their claims are recovered at the next
	 * start) */
	for (size_t i = 0; i < d->njobs; i++)
		run_interrupt(d->jobs[i]->run, t);
}

static void
loop_once(struct daemon *d, struct waitset *ws)
{
	int64_t t = mono_ms(), wake;
	int timeout, children = 0;

	refresh_up(d, t);
	if (d->stopping && t >= d->stop_deadline_ms)
		stop_hard(d, t);
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		schedule(d, v, t);
	waitset_begin(ws);
	(void)waitset_add(ws, signal_pipe[0], POLLIN, loop_serial);
	(void)waitset_add(ws, d->inotify_fd, POLLIN, loop_serial);
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		wait_call(ws, v->x.call);
		wait_call(ws, v->x.dcall);
		for (struct call *c = v->x.winding; c != NULL; c = c->next)
			wait_call(ws, c);
	}
	for (size_t i = 0; i < d->njobs; i++) {
		const struct run *r = d->jobs[i]->run;
		(void)waitset_add(ws, r->fd[0], POLLIN, r->serial);
		(void)waitset_add(ws, r->fd[1], POLLIN, r->serial);
	}
	wake = next_wakeup(d, t);
	timeout = wake <= t ? 0 : wake - t > 60000 ? 60000 : (int)(wake - t);
	if (waitset_wait(ws, timeout) != 0 && errno != EINTR)
		return;
	if (waitset_revents(ws, signal_pipe[0]) != 0)
		read_signals(d, &children);
	if (d->inotify_fd >= 0 && waitset_revents(ws, d->inotify_fd) != 0)
		read_inotify(d);
	/* keys and policy: reload on a change, before any request is read */
	if (dirwatch_due(&d->keys_watch, d->inotify_fd, mono_ms()))
		(void)vms_load(d);
	if (dirwatch_due(&d->policy_watch, d->inotify_fd, mono_ms()))
		(void)policy_load(d);
	if (dirwatch_due(&d->answers_watch, d->inotify_fd, mono_ms()))
		asks_answers(d);
	if (dirwatch_due(&d->stops_watch, d->inotify_fd, mono_ms()))
		stops_take(d);
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		call_dispatch(ws, v->x.call);
		call_dispatch(ws, v->x.dcall);
		for (struct call *c = v->x.winding; c != NULL; c = c->next)
			call_dispatch(ws, c);
	}
	for (size_t i = 0; i < d->njobs; i++)
		for (int k = 0; k < 2; k++) {
			int fd = d->jobs[i]->run->fd[k];
			if (fd >= 0 && waitset_revents(ws, fd) != 0)
				run_pump(d->jobs[i]->run, fd);
		}
	/* every SIGCHLD writes a byte, and reap() takes every child that
	 * exited; waitpid is not cheap with 200 calls open (the kernel walks
	 * every child), so not on other turns */
	if (children)
		reap(d);
	t = mono_ms();
	asks_time(d, t);
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		exchange_time(d, v, t);
		exchange_input(d, v, t);
		exchange_wound(v, t);
	}
	for (size_t i = 0; i < d->njobs;) {
		run_tick(d->jobs[i]->run, t);
		if (run_done(d->jobs[i]->run))
			job_finish(d, i);   /* moves the last job into slot i */
		else
			i++;
	}
	/* ps: one write for all this turn changed */
	jobs_publish(d);
}

static int
setup_signals(void)
{
	struct sigaction sa;
	int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return QR_ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return QR_ERR_SYSTEM;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
teardown(struct daemon *d)
{
	while (d->vms != NULL) {
		struct vm *v = d->vms;
		d->vms = v->next;
		exchange_release(v);
		asks_leave(d, v);
		while (v->queue != NULL) {
			struct job *j = v->queue;
			v->queue = j->next;
			job_free(j);
		}
		replay_close(&v->replay);
		key_wipe(&v->key);
		free(v->ready);
		free(v);
	}
	for (size_t i = 0; i < d->njobs; i++) {
		run_abort(d->jobs[i]->run);
		job_free(d->jobs[i]);
	}
	free(d->jobs);
	policy_release(&d->policy);
	if (d->inotify_fd >= 0)
		close(d->inotify_fd);
	audit_close(&d->audit);
	if (d->lock_fd >= 0) {
		jobs_unpublish(d);  /* only ours: we hold the lock */
		close(d->lock_fd);
	}  /* keys: the last thing the daemon lets go */
	buf_release(&d->line);
}

int
serve(struct config *c, const struct serve_opts *o)
{
	struct daemon d;
	struct waitset ws = { .epfd = -1 };
	unsigned char tag[4];
	char msg[512];
	int rc = 1;

	memset(&d, 0, sizeof(d));
	d.cfg = c;
	d.opts = o;
	d.inotify_fd = -1;
	d.qrexec_wd = d.lock_fd = -1;
	dirwatch_init(&d.keys_watch, c->keys_dir);
	dirwatch_init(&d.policy_watch, c->policy_dir);
	dirwatch_init(&d.answers_watch, d.answers_dir);
	dirwatch_init(&d.stops_watch, d.stops_dir);
	d.audit.fd = -1;
	buf_init(&d.line, 8192);
	if (transport_init(&d.transport, c, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "qvm-remote-dom0: %s\n", msg);
		goto out;
	}
	if (audit_open(&d.audit, c->log_path, c->state_dir) != 0) {
		/* issue 12: the reason names the file and the fix */
		fprintf(stderr, "qvm-remote-dom0: cannot open the log '%s': %s\n",
			c->log_path, d.audit.why[0] != '\0' ? d.audit.why
							     : strerror(errno));
		goto out;
	}
	/* a dry run is for reading: its lines go to the terminal too */
	d.audit.echo = o->verbose || o->dry_run;
	if (mkdir_p(c->runtime_dir, 0700) != 0 ||
	    mkdir_p(c->state_dir, 0700) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot create '%s' or '%s': %s\n",
			c->runtime_dir, c->state_dir, strerror(errno));
		goto out;
	}
	/* keys: one daemon per runtime directory, and the admin verbs learn
	 * from this lock that one runs */
	{
		long other;
		int r = liveness_lock(c->runtime_dir, &d.lock_fd, &other);

		if (r == QR_ERR_EXISTS && other > 0)
			fprintf(stderr, "qvm-remote-dom0: another qvm-remote-dom0 "
				"(pid %ld) is running on '%s'; stop it first\n",
				other, c->runtime_dir);
		else if (r == QR_ERR_EXISTS)
			fprintf(stderr, "qvm-remote-dom0: another qvm-remote-dom0 "
				"is running on '%s'; stop it first\n",
				c->runtime_dir);
		else if (r != 0)
			fprintf(stderr, "qvm-remote-dom0: cannot lock '%s/"
				LIVENESS_FILE "': %s\n", c->runtime_dir,
				r == QR_ERR_SYSTEM ? strerror(errno)
						   : qr_strerror(r));
		if (r != 0)
			goto out;
	}
	if (RAND_bytes(tag, sizeof(tag)) != 1)
		goto out;
	if (cgroup_init(&d.cgroup, msg, sizeof(msg)) != 0)
		snprintf(msg, sizeof(msg), "cgroup set-up failed");
	snprintf(d.boot_tag, sizeof(d.boot_tag), "%02x%02x%02x%02x", tag[0],
		 tag[1], tag[2], tag[3]);
	if (setup_signals() != 0)
		goto out;
	if (waitset_init(&ws) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot create an epoll set: "
			"%s\n", strerror(errno));
		goto out;
	}
	loop_serial = waitset_serial();
	d.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d.inotify_fd >= 0) {
		d.qrexec_wd = inotify_add_watch(d.inotify_fd, c->qrexec_dir,
						IN_CREATE | IN_DELETE |
						IN_MOVED_TO | IN_MOVED_FROM);
		/* keys and policy: more watches on the same fd */
		int keys = dirwatch_add(&d.keys_watch, d.inotify_fd);
		int policy = dirwatch_add(&d.policy_watch, d.inotify_fd);

		if (d.qrexec_wd < 0 && !keys && !policy) {
			close(d.inotify_fd);
			d.inotify_fd = -1;
		}
	}
	{
		struct buf *b = ev_begin(&d, "INFO", NULL, NULL);
		(void)logline_kvs(b, "action", o->dry_run ? "start dry-run"
					       : o->once ? "start once" : "start");
		(void)logline_kvs(b, "transport", d.transport.path);
		(void)logline_kvs(b, "poll", c->poll == POLL_WATCH ? "watch"
								  : "interval");
		(void)logline_kvs(b, "containment", d.cgroup.active
				  ? "cgroup" : "process group");
		if (!d.cgroup.active)
			(void)logline_kvs(b, "why", msg);
		ev_end(&d);
	}
	/* issue 15: a policy with an error never runs in part, nor does the
	 * service without it */
	if (policy_load(&d) != 0 || vms_load(&d) != 0)
		goto out;
	if (asks_open(&d) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot create the asks and "
			"answers directories in '%s': %s\n", c->runtime_dir,
			strerror(errno));
		goto out;
	}
	(void)dirwatch_add(&d.answers_watch, d.inotify_fd);
	if (stops_open(&d) != 0) {
		fprintf(stderr, "qvm-remote-dom0: cannot create the stops "
			"directory in '%s': %s\n", c->runtime_dir,
			strerror(errno));
		goto out;
	}
	(void)dirwatch_add(&d.stops_watch, d.inotify_fd);
	jobs_publish(&d);
	d.up_dirty = 1;
	refresh_up(&d, mono_ms());  /* --once must know which VMs it will reach */
	if (d.vms == NULL)
		ev_simple(&d, "INFO", NULL, NULL, "reason",
			  "no authorized VMs; authorize one with "
			  "qvm-remote-dom0 authorize --from-vm VM");
	while (!finished(&d))
		loop_once(&d, &ws);
	ev_simple(&d, "INFO", NULL, NULL, "action", "stopped");
	rc = 0;
out:
	waitset_release(&ws);
	teardown(&d);
	return rc;
}
