/*
 * waitset.c - the loop's descriptors in one epoll set (waitset.h).
 */
#include "waitset.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "err.h"
#include "grow.h"

#include "banned.h"

/* poll's bits are epoll's on Linux, so events pass through unchanged */
_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT &&
	       POLLERR == EPOLLERR && POLLHUP == EPOLLHUP,
	       "poll and epoll events differ");

/* An event's data: the descriptor, and the low half of the serial it was
 * registered with (a stale registration differs there). */
static uint64_t
tag(int fd, uint64_t serial)
{
	return (serial << 32) | (uint32_t)fd;
}

uint64_t
waitset_serial(void)
{
	static uint64_t last;

	return ++last;
}

int
waitset_init(struct waitset *w)
{
	memset(w, 0, sizeof(*w));
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return QR_ERR_SYSTEM;
	return 0;
}

void
waitset_release(struct waitset *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->want);
	free(w->fds);
	free(w->events);
	memset(w, 0, sizeof(*w));
	w->epfd = -1;
}

void
waitset_begin(struct waitset *w)
{
	w->turn++;
	w->nwant = 0;
	for (size_t fd = 0; fd < w->nfds; fd++)
		w->fds[fd].revents = 0;
}

int
waitset_add(struct waitset *w, int fd, short events, uint64_t serial)
{
	struct waitset_want *g;

	if (fd < 0 || events == 0)
		return 0;
	g = grow_array(w->want, &w->capwant, w->nwant, sizeof(*g), 32);
	if (g == NULL)
		return QR_ERR_NOMEM;
	w->want = g;
	w->want[w->nwant++] = (struct waitset_want){ fd, events, serial };
	return 0;
}

/* fds covers the numbers 0..fd. */
static int
cover(struct waitset *w, int fd)
{
	size_t cap = w->nfds > 0 ? w->nfds : 64;
	struct waitset_fd *g;

	if ((size_t)fd < w->nfds)
		return 0;
	while (cap <= (size_t)fd)
		cap *= 2;
	if ((g = realloc(w->fds, cap * sizeof(*g))) == NULL)
		return QR_ERR_NOMEM;
	memset(g + w->nfds, 0, (cap - w->nfds) * sizeof(*g));
	w->fds = g;
	w->nfds = cap;
	return 0;
}

static void
unregister(struct waitset *w, int fd)
{
	/* the number may be closed already, or another file's: nothing of
	 * ours is then registered under it, and the error says so */
	(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fds[fd].events = 0;
}

/* Brings the kernel's registration of one wanted descriptor up to date;
 * one it will not take is reported POLLERR.  1 when it was. */
static int
sync_one(struct waitset *w, const struct waitset_want *x)
{
	struct waitset_fd *r = &w->fds[x->fd];
	struct epoll_event ev = { 0 };
	short events = x->events;
	int op = EPOLL_CTL_ADD;

	if (r->events != 0 && r->serial != x->serial)
		unregister(w, x->fd);       /* another owner's pipe */
	if (r->events != 0) {
		if (r->turn == w->turn)
			events |= r->events;    /* wanted twice this turn */
		if (events == r->events) {
			r->turn = w->turn;
			return 0;
		}
		op = EPOLL_CTL_MOD;
	}
	ev.events = (uint32_t)events;
	ev.data.u64 = tag(x->fd, x->serial);
	if (epoll_ctl(w->epfd, op, x->fd, &ev) != 0) {
		r->events = 0;
		r->revents |= POLLERR;
		return 1;
	}
	r->events = events;
	r->serial = x->serial;
	r->turn = w->turn;
	return 0;
}

int
waitset_wait(struct waitset *w, int timeout_ms)
{
	struct epoll_event *ev;
	size_t cap = w->capevents;
	int n, refused = 0;

	for (size_t i = 0; i < w->nwant; i++) {
		if (cover(w, w->want[i].fd) != 0)
			continue;   /* not waited on; its owner's deadline holds */
		refused |= sync_one(w, &w->want[i]);
	}
	for (size_t fd = 0; fd < w->nfds; fd++)
		if (w->fds[fd].events != 0 && w->fds[fd].turn != w->turn)
			unregister(w, (int)fd);
	if (w->nwant > cap || w->events == NULL) {
		cap = cap > 0 ? cap : 32;
		while (cap < w->nwant)
			cap *= 2;
		if ((ev = realloc(w->events, cap * sizeof(*ev))) == NULL)
			return QR_ERR_NOMEM;
		w->events = ev;
		w->capevents = cap;
	}
	ev = w->events;
	n = epoll_wait(w->epfd, ev, (int)w->capevents,
		       refused ? 0 : timeout_ms);
	if (n < 0)
		return QR_ERR_SYSTEM;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;
		struct waitset_fd *r;

		if (fd < 0 || (size_t)fd >= w->nfds)
			continue;
		r = &w->fds[fd];
		if (r->events == 0 || ev[i].data.u64 != tag(fd, r->serial))
			continue;   /* a pipe closed since, or not ours */
		r->revents |= (short)ev[i].events;
	}
	return 0;
}

short
waitset_revents(const struct waitset *w, int fd)
{
	if (fd < 0 || (size_t)fd >= w->nfds)
		return 0;
	return w->fds[fd].revents;
}
