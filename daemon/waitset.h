/*
 * waitset.h - the descriptors the service loop waits on, in one epoll set
 * kept from turn to turn.
 *
 * Each turn the loop says again what it waits for (waitset_begin, then
 * waitset_add for each descriptor), and waitset_wait brings the kernel's
 * set up to date with what changed since the last turn and waits.  So a
 * turn costs the kernel what is ready and what changed, not every
 * descriptor: with 200 VMs a session open into each is some 400 pipes,
 * and poll(2) over all of them on every turn was most of the idle
 * daemon's CPU.
 *
 * Descriptors are closed by their owners (call.c, runner.c), not here,
 * and a closed number is soon another pipe's.  So each descriptor comes
 * with its owner's serial (waitset_serial: never the same twice in a
 * process): a number added with a serial other than the one registered
 * is registered anew, and an event that carries a serial other than the
 * one registered for its number (the old pipe's, its registration still
 * alive while a child shared it) is dropped.  A number not added in a
 * turn leaves the set at the next waitset_wait.
 *
 * Events are poll(2)'s (POLLIN, POLLOUT; POLLHUP and POLLERR reported);
 * a descriptor the kernel refuses to watch is reported POLLERR at once,
 * as poll reports POLLNVAL, so that its owner sees it fail.  One thread.
 */
#ifndef QVMR_WAITSET_H
#define QVMR_WAITSET_H

#include <stddef.h>
#include <stdint.h>

struct waitset_want {
	int fd;
	short events;
	uint64_t serial;
};

struct waitset_fd {             /* one descriptor number */
	short events;           /* registered in the kernel's set; 0: none */
	short revents;          /* what the last wait saw */
	uint64_t serial;        /* of the owner it is registered for */
	uint64_t turn;          /* the last turn that wanted it */
};

struct waitset {
	int epfd;
	uint64_t turn;
	struct waitset_want *want;      /* this turn's, want[0..nwant) */
	size_t nwant, capwant;
	struct waitset_fd *fds;         /* by number, fds[0..nfds) */
	size_t nfds;
	void *events;                   /* struct epoll_event[capevents] */
	size_t capevents;
};

/* A new serial for an owner of descriptors: 1, 2, 3 ... */
uint64_t waitset_serial(void);

/* 0, or QR_ERR_SYSTEM (errno set) when the kernel gives no epoll set. */
int waitset_init(struct waitset *w);
void waitset_release(struct waitset *w);

/* A new turn: nothing wanted yet; the last wait's events are forgotten. */
void waitset_begin(struct waitset *w);
/* Wants events on fd (ignored for fd < 0 or no events); 0, or
 * QR_ERR_NOMEM (that fd is then not waited on this turn). */
int waitset_add(struct waitset *w, int fd, short events, uint64_t serial);
/*
 * Updates the kernel's set and waits up to timeout_ms (0: not at all, -1:
 * no limit) for one of this turn's descriptors.  0, or QR_ERR_SYSTEM
 * (errno set; EINTR: a signal came).
 */
int waitset_wait(struct waitset *w, int timeout_ms);
/* The events the last wait saw on fd; 0 for none. */
short waitset_revents(const struct waitset *w, int fd);

#endif
