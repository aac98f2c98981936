/*
 * wait.c - wait for dom0 to take a request and to deliver its result.
 */
#include "wait.h"
#include "auditlog.h"
#include "msg.h"
#include "output.h"
#include "progress.h"
#include "signals.h"
#include "submit.h"
#include "vmid.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"

#include "banned.h"

int waiter_open(struct waiter *w, const struct vm_layout *p)
{
	char show[PATH_MAX];
	const char *dir = p->results;

	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		msg("cannot watch the queue: inotify: %s", strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (inotify_add_watch(w->ifd, p->results,
			      IN_MOVED_TO | IN_CLOSE_WRITE) < 0 ||
	    (dir = p->pending,
	     inotify_add_watch(w->ifd, p->pending,
			       IN_MOVED_FROM | IN_DELETE) < 0) ||
	    /* notes are renamed in: running/<cid>.note; live output is
	     * appended: running/<cid>.out and .err */
	    (dir = p->running,
	     inotify_add_watch(w->ifd, p->running,
			       IN_MOVED_TO | IN_MODIFY) < 0)) {
		msg("cannot watch %s: %s", path_show(p, dir, show,
						      sizeof(show)),
		    strerror(errno));
		close(w->ifd);
		w->ifd = -1;
		return QR_ERR_SYSTEM;
	}
	return 0;
}

void waiter_close(struct waiter *w)
{
	if (w->ifd >= 0)
		close(w->ifd);
	w->ifd = -1;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int request_withdraw(const struct vm_layout *p, const char *cid)
{
	char from[PATH_MAX], to[PATH_MAX], name[CID_MAX + 16],
	     show[PATH_MAX];

	snprintf(name, sizeof(name), ".%s.withdrawn", cid);
	if (path_cid(from, sizeof(from), p->pending, cid, VM_TOKEN) != 0 ||
	    path_join(to, sizeof(to), p->pending, name) != 0)
		return QR_ERR_TOO_LARGE;
	/* The decision: dom0 claims by renaming the same file. */
	if (rename(from, to) != 0) {
		if (errno == ENOENT)
			return QR_ERR_NOT_FOUND;
		msg("cannot withdraw the request: rename %s: %s",
		    path_show(p, from, show, sizeof(show)), strerror(errno));
		return QR_ERR_SYSTEM;
	}
	(void)unlink(to);
	request_remove_parts(p, cid);
	(void)audit_id_line(p, "WITHDRAWN", cid);
	return 0;
}

int note_load(const struct vm_layout *p, const char *cid, struct note *nt)
{
	struct buf b = BUF_INIT(NOTE_FILE_MAX);
	char path[PATH_MAX];
	int r;

	if (path_cid(path, sizeof(path), p->running, cid, VM_NOTE) != 0)
		return QR_ERR_TOO_LARGE;
	if ((r = read_file(path, &b)) == 0)
		r = note_parse(b.data, b.len, nt);
	else if (r != QR_ERR_NOT_FOUND)
		r = QR_ERR_INVALID;
	buf_release(&b);
	return r;
}

/* A note's news, once. */
static void say_note(const struct note *nt)
{
	if (nt->status == RESULT_STARTED)
		start_notices(nt->text, nt->waited_ms);
	else
		msg("%s", nt->text);
}

/* What a held request's note says now; tells each change of status once
 * and keeps the claim deadline (*ask_ms) and the start of the run
 * deadline (*run_from) in step. */
static void follow_note(const struct vm_layout *p, const char *cid,
			const struct wait_params *wp, uint64_t t,
			struct wait_report *rep, uint64_t *ask_ms,
			uint64_t *run_from)
{
	struct note nt;
	int changed;

	if (note_load(p, cid, &nt) != 0)
		return;
	changed = !rep->have_note || nt.status != rep->note.status;
	if (!changed && nt.timeout_s == rep->note.timeout_s &&
	    strcmp(nt.text, rep->note.text) == 0)
		return;
	/* asked again (a policy reload, a new rule): a new deadline */
	if (nt.status == RESULT_ASKING)
		*ask_ms = note_deadline_ms(&nt, wp->claim_given ? wp->claim_ms
						: 0, t);
	else if (changed)
		*run_from = t;
	rep->note = nt;
	rep->have_note = 1;
	if (changed)
		say_note(&nt);
}

static void drain(int fd)
{
	/* Aligned as inotify_event requires. */
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, ev, sizeof(ev)) > 0)
		;
}

static void notice(void)
{
	char vm[VMNAME_MAX + 1];

	msg("no answer from dom0 yet: is qvm-remote-dom0 running (it is not "
	    "enabled at boot), and is this VM authorized?");
	msg("in dom0: systemctl start qvm-remote-dom0, or qvm-remote-dom0 "
	    "authorize --from-vm %s   (still waiting, Ctrl-C withdraws)",
	    vm_name_for_hint(vm));
}

/* What running/ holds of cid: HELD_CLAIM, a claim marker
 * "<cid>.auth.<claim>"; else HELD_BODY, the body alone (an original dom0
 * moves it there to run it) or a release's ".rel.<cid>.<claim>" (one
 * putting it back); else HELD_NONE. */
enum held_as { HELD_NONE, HELD_BODY, HELD_CLAIM };

static enum held_as held_in_running(const struct vm_layout *p,
				    const char *cid)
{
	char prefix[CID_MAX + sizeof(VM_TOKEN) + 1], rel[CID_MAX + 8];
	struct dirent *de;
	size_t n, m;
	DIR *d;
	enum held_as h = HELD_NONE;

	n = (size_t)snprintf(prefix, sizeof(prefix), "%s" VM_TOKEN ".", cid);
	m = (size_t)snprintf(rel, sizeof(rel), ".rel.%s.", cid);
	if ((d = opendir(p->running)) == NULL)
		return HELD_NONE;
	while (h != HELD_CLAIM && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, n) == 0)
			h = HELD_CLAIM;
		else if (strcmp(de->d_name, cid) == 0 ||
			 strncmp(de->d_name, rel, m) == 0)
			h = HELD_BODY;
	closedir(d);
	return h;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int waiter_wait(struct waiter *w, const struct vm_layout *p,
		const char *cid, const struct wait_params *wp, uint64_t t0,
		struct wait_report *rep)
{
	char auth[PATH_MAX], body[PATH_MAX], exitf[PATH_MAX];
	uint64_t t, next, tick = INDICATOR_AFTER_MS, ask_ms = 0, run_from = 0;
	uint64_t gone_at = 0;
	struct pollfd pfd[2];
	int noticed = 0, r, sig, held, gone = 0, ours = !wp->vanish_check;

	memset(rep, 0, sizeof(*rep));
	if (path_cid(auth, sizeof(auth), p->pending, cid, VM_TOKEN) != 0 ||
	    path_cid(body, sizeof(body), p->pending, cid, "") != 0 ||
	    path_cid(exitf, sizeof(exitf), p->results, cid, ".exit") != 0)
		return QR_ERR_TOO_LARGE;
	for (;;) {
		t = (uint64_t)mono_ms() - t0;
		rep->total_ms = t;
		if (exists(exitf)) {
			if (!rep->claimed)
				rep->claim_ms = t;
			rep->claimed = 1;
			rep->outcome = WAIT_RESULT;
			break;
		}
		if (!rep->claimed && !exists(auth)) {
			rep->claimed = 1;
			rep->claim_ms = run_from = t;
			msg_verbose("dom0 took the command after %llu ms",
				    (unsigned long long)t);
		}
		/* a claim of ours holds its marker until the result is out */
		if (rep->claimed && !ours) {
			enum held_as h = held_in_running(p, cid);
			/* or put back: its token, or its body first */
			if (h != HELD_NONE || exists(auth) || exists(body)) {
				ours = h == HELD_CLAIM;
				gone = 0;
			} else if (!gone) {
				gone = 1;
				gone_at = t;
			} else if (t - gone_at >= VANISH_GRACE_MS) {
				rep->outcome = WAIT_VANISHED;
				break;
			}
		}
		if (rep->claimed)
			follow_note(p, cid, wp, t, rep, &ask_ms, &run_from);
		held = wp->withdraw_held && rep->have_note &&
		       rep->note.status == RESULT_ASKING;
		if (wp->live != NULL && rep->claimed && !held)
			(void)live_copy(p, cid, wp->live);
		if ((sig = signals_caught()) != 0) {
			rep->signal = sig;
			if (held) {
				rep->outcome = WAIT_HELD;
				break;
			}
			/* taken (the rename fails): dom0 is asked to stop it */
			r = request_withdraw(p, cid);
			if (r == 0)
				rep->outcome = WAIT_WITHDRAWN;
			else if (r == QR_ERR_NOT_FOUND)
				rep->outcome = wp->stop_running ? WAIT_STOP
								: WAIT_DETACHED;
			else
				goto fail;
			break;
		}
		if (wp->until_ms && t >= wp->until_ms) {
			rep->outcome = WAIT_PENDING;
			break;
		}
		if (!rep->claimed && wp->notice_ms && !noticed &&
		    t >= wp->notice_ms) {
			noticed = 1;
			notice();
		}
		if (!rep->claimed && t >= wp->claim_ms) {
			r = request_withdraw(p, cid);
			if (r == 0) {
				rep->outcome = WAIT_NOT_TAKEN;
				break;
			}
			if (r != QR_ERR_NOT_FOUND)
				goto fail;
			/* dom0 took it at the last moment: wait for it. */
			rep->claimed = 1;
			rep->claim_ms = run_from = t;
			continue;
		}
		if (held && t >= ask_ms) {
			rep->outcome = WAIT_HELD;
			break;
		}
		if (rep->claimed && !held && t - run_from >= wp->run_ms) {
			rep->outcome = WAIT_NO_RESULT;
			break;
		}
		if (wp->indicator && t >= tick &&
		    !(wp->live != NULL && live_copy_shown(wp->live))) {
			progress_show(rep->claimed && !held, t);
			tick = (t / 1000 + 1) * 1000;
		}
		/* Sleep until the next thing to do, or an event. */
		next = held ? ask_ms : rep->claimed ? run_from + wp->run_ms
		       : wp->claim_ms;
		if (!rep->claimed && wp->notice_ms && !noticed)
			next = min_u64(next, wp->notice_ms);
		if (wp->indicator)
			next = min_u64(next, tick);
		if (wp->until_ms)
			next = min_u64(next, wp->until_ms);
		if (gone)
			next = min_u64(next, gone_at + VANISH_GRACE_MS);
		pfd[0].fd = w->ifd;
		pfd[0].events = POLLIN;
		pfd[1].fd = signals_fd();
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		next = next > t ? next - t : 0;
		if (poll(pfd, 2, (int)min_u64(next, INT_MAX)) < 0 &&
		    errno != EINTR) {
			msg("cannot wait for dom0: poll: %s", strerror(errno));
			r = QR_ERR_SYSTEM;
			goto fail;
		}
		if (pfd[0].revents & POLLIN)
			drain(w->ifd);
	}
	progress_erase();
	return 0;
fail:
	progress_erase();
	return r;
}
