/*
 * watch.c - wait until pending/ holds a request dom0 would claim.
 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "clock.h"

#include "banned.h"

/* events that can make a token appear: renamed into place (this client)
 * or written in place (the original client) */
#define PENDING_EVENTS (IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)
/* events that can make a missing directory below appear */
#define PARENT_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define POLL_STEP_MS 200   /* without inotify: five looks a second */

bool
wait_token_ready(int dirfd, const char *name)
{
	struct stat st;

	return queue_token_name(name) &&
	       fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && st.st_size >= TOKEN_MIN;
}

/* 1 when pending/ holds a complete token, 0 when not, -1 when it is gone. */
static int
scan(const char *pending)
{
	struct dirent *de;
	DIR *d = opendir(pending);
	int found = 0;

	if (d == NULL)
		return -1;
	while (!found && (de = readdir(d)) != NULL)
		found = wait_token_ready(dirfd(d), de->d_name);
	closedir(d);
	return found;
}

/*
 * Watches pending/ or, while it is missing, the nearest existing directory
 * above it (up to home).  1 when pending/ itself is watched, 0 when one
 * above it is, -1 when none can be.
 */
static int
arm(int fd, const struct vm_layout *q)
{
	const char *dirs[] = { q->pending, q->queue, q->base, q->home };

	if (inotify_add_watch(fd, dirs[0], PENDING_EVENTS) >= 0)
		return 1;
	for (size_t i = 1; i < sizeof(dirs) / sizeof(*dirs); i++)
		if (inotify_add_watch(fd, dirs[i], PARENT_EVENTS) >= 0)
			return 0;
	return -1;
}

/*
 * Drains the events; 1 when one may have changed what we wait for: in
 * pending/, a token name (junk must not turn the wait into a busy loop) or
 * a lost watch; above it, anything.
 */
static int
drain(int fd, int watching_pending)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	int relevant = 0;
	ssize_t n;

	while ((n = read(fd, ev, sizeof(ev))) > 0) {
		for (size_t off = 0; off + sizeof(*ie) <= (size_t)n;
		     off += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(ev + off);
			if (!watching_pending ||
			    (ie->mask & (IN_Q_OVERFLOW | IN_IGNORED)) ||
			    (ie->len > 0 && queue_token_name(ie->name)))
				relevant = 1;
		}
	}
	return relevant;
}

/* Sleeps up to timeout_ms; true when wake_fd (if any) had something to
 * read or hung up first. */
static bool
nap_unless_woken(int wake_fd, int timeout_ms)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };

	if (wake_fd < 0) {
		struct timespec ts = { .tv_sec = timeout_ms / 1000,
				       .tv_nsec = (long)(timeout_ms % 1000) *
						  1000000 };
		(void)nanosleep(&ts, NULL);
		return false;
	}
	return poll(&p, 1, timeout_ms) > 0 && p.revents != 0;
}

/* Without inotify (no instance left, say): a look five times a second. */
static int
wait_polling(const char *pending, int64_t deadline, int wake_fd)
{
	for (;;) {
		int64_t left = deadline - mono_ms();

		if (scan(pending) == 1)
			return WAIT_REQUEST;
		if (left <= 0)
			return WAIT_TIMEOUT;
		if (left > POLL_STEP_MS)
			left = POLL_STEP_MS;
		if (nap_unless_woken(wake_fd, (int)left))
			return WAIT_WOKEN;
	}
}

int
wait_for_request(const struct vm_layout *q, unsigned seconds, int wake_fd)
{
	int64_t deadline = mono_ms() + (int64_t)seconds * 1000;
	int r = WAIT_TIMEOUT;

	while (r == WAIT_TIMEOUT) {
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		int watching_pending = fd >= 0 ? arm(fd, q) : -1;

		if (watching_pending < 0) {
			if (fd >= 0)
				close(fd);
			return wait_polling(q->pending, deadline, wake_fd);
		}
		/* armed before the scan, so nothing slips between them */
		if (watching_pending && scan(q->pending) == 1)
			r = WAIT_REQUEST;
		/* wait for one batch of events; then look again from the top
		 * (pending/ may have appeared, or been replaced) */
		while (r == WAIT_TIMEOUT) {
			struct pollfd p[2] = {
				{ .fd = fd, .events = POLLIN },
				{ .fd = wake_fd, .events = POLLIN },
			};
			int64_t left = deadline - mono_ms();

			if (left <= 0)
				break;
			if (poll(p, wake_fd >= 0 ? 2 : 1,
				 left > INT_MAX ? INT_MAX : (int)left) < 0 &&
			    errno != EINTR) {
				close(fd);
				return wait_polling(q->pending, deadline,
						    wake_fd);
			}
			if (p[1].revents != 0)
				r = WAIT_WOKEN;
			else if (p[0].revents != 0 &&
				 drain(fd, watching_pending))
				break;
		}
		close(fd);
		if (r == WAIT_TIMEOUT && deadline - mono_ms() <= 0)
			break;
	}
	return r;
}
