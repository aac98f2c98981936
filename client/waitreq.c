/*
 * waitreq.c - wait in the VM until a request is complete.
 */
#include "waitreq.h"
#include "paths.h"
#include "wait.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cid.h"

#include "banned.h"

/* Only names dom0 would claim count: a junk "x.auth" must not end every
 * wait at once and turn watch mode into a busy poll. */
int waitreq_is_token(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".auth") == 0 &&
	       cid_valid(name, n - 5);
}

/* 1 when pending/ holds a token, 0 when not, -1 on error. */
static int scan(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d)
		return -1;
	while (!found && (de = readdir(d)) != NULL)
		found = waitreq_is_token(de->d_name);
	closedir(d);
	return found;
}

/* 1 when a batch of events names a token, 0 when not, -1 to rescan. */
static int events_name_token(int fd)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t n;
	size_t off;
	int found = 0;

	while ((n = read(fd, ev, sizeof(ev))) > 0) {
		for (off = 0; off + sizeof(*ie) <= (size_t)n;
		     off += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(ev + off);
			if (ie->mask & (IN_Q_OVERFLOW | IN_IGNORED))
				return -1;
			if (ie->len && waitreq_is_token(ie->name))
				found = 1;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	return found;
}

int wait_for_request(unsigned seconds)
{
	struct client_paths p;
	const char *home = getenv("HOME");
	uint64_t deadline, t;
	struct pollfd pfd;
	int fd, r, found;

	struct passwd *pw;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || paths_init(&p, home) != 0)
		return WAITREQ_ERROR;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return WAITREQ_ERROR;
	/* IN_MOVED_TO: tokens renamed into place (this client);
	 * IN_CLOSE_WRITE: written in place (the original client). */
	if (inotify_add_watch(fd, p.pending, IN_MOVED_TO | IN_CLOSE_WRITE |
			      IN_ONLYDIR) < 0) {
		close(fd);
		return WAITREQ_ERROR;
	}
	deadline = now_ms() + (uint64_t)seconds * 1000u;
	found = scan(p.pending);
	while (found == 0) {
		t = now_ms();
		if (t >= deadline) {
			close(fd);
			return WAITREQ_TIMEOUT;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)(deadline - t > INT_MAX ? INT_MAX :
					deadline - t));
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			found = events_name_token(fd);
			if (found < 0)
				found = scan(p.pending);
		}
	}
	close(fd);
	return found > 0 ? WAITREQ_FOUND : WAITREQ_ERROR;
}
