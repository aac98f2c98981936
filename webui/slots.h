/*
 * slots.h - the viewer's live connections: how many each client holds,
 * and the deadline by which each must have sent its request.
 *
 * A client is the uid that owns the peer's socket (peer.h); connections
 * whose owner cannot be found (/proc unreadable, a peer on another
 * machine) are one more client, shared: failing to tell clients apart
 * never gives anyone more slots.  A client holds at most per_client
 * connections at once; one more is refused at once, before it costs a
 * thread for long, so one local user cannot take the slots of all the
 * others whatever loopback addresses it connects from.
 *
 * A connection must have sent a whole request within request_ms of its
 * accept, and then each next request within request_ms of the end of
 * the previous response: a total deadline, not an idle one, so trickling
 * a byte at a time does not keep a slot.  A response in progress (the
 * live stream is one long response) is not under the deadline; the
 * server's idle timeout is what ends a reader that stops reading.  A
 * connection past its deadline is cut with shutdown(2): its connection
 * thread then sees the end of the stream and closes it.
 *
 * One table serves both listeners.  All functions lock it; the sweeper
 * thread cuts expired connections.  The fd of an open slot must stay
 * open until slots_close() returns (libmicrohttpd closes a connection's
 * socket after its NOTIFY_CLOSED callback), so the sweeper never shuts
 * down a descriptor that was reused.
 */
#ifndef QVMR_WEBUI_SLOTS_H
#define QVMR_WEBUI_SLOTS_H

#include <pthread.h>
#include <stdint.h>

struct slot {
	struct slot *prev, *next;
	int fd;
	int known;              /* uid found; else the shared client */
	uint32_t uid;
	int counted;            /* 0: refused, waiting to be closed */
	int receiving;          /* the deadline runs */
	int cut;                /* shut down by the sweeper */
	int64_t deadline_ms;    /* mono_ms() (clock.h) */
};

struct slots {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct slot *head;
	unsigned per_client;
	int64_t request_ms;
	int64_t last_warn_ms;
	pthread_t sweeper;
	int running, stopping;
};


/* 0, or -1 (errno) when the lock or the condition cannot be made. */
int slots_init(struct slots *s, unsigned per_client, int64_t request_ms);

/*
 * A new connection on fd, owned by uid when known, accepted at now_ms.
 * Returns its slot (caller passes it to slots_close() when the
 * connection ends), NULL when memory is short.  *refused is 1 when the
 * client already holds per_client connections: the caller refuses it
 * (shutdown) and still calls slots_close() on the slot later; a refused
 * slot does not count.  *warn is 1 at most once a minute, for the caller
 * to say so in its log.
 */
struct slot *slots_open(struct slots *s, int fd, int known, uint32_t uid,
			int64_t now_ms, int *refused, int *warn);

/*
 * The connection's request is in: its deadline stops.  0, or -1 when the
 * connection was refused or cut (what it sent is not to be answered).
 */
int slots_received(struct slots *s, struct slot *sl);

/* Its response is over: the next request is due within request_ms. */
void slots_rearm(struct slots *s, struct slot *sl, int64_t now_ms);

/* The connection is gone (its fd is still open): forgets sl, frees it. */
void slots_close(struct slots *s, struct slot *sl);

/* The connections the client of (known, uid) holds. */
unsigned slots_count(struct slots *s, int known, uint32_t uid);

/*
 * Cuts (shutdown(SHUT_RDWR)) every connection still receiving past its
 * deadline at now_ms, once each.  Returns how many it cut.  The sweeper
 * calls it; the tests call it with their own clock.
 */
unsigned slots_sweep(struct slots *s, int64_t now_ms);

/* The sweeper thread: 0, or -1 (errno).  slots_stop() ends and joins
 * it; call it after every connection is closed, then slots_release(). */
int slots_start(struct slots *s);
void slots_stop(struct slots *s);
void slots_release(struct slots *s);

#endif
