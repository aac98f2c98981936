/*
 * hub.h - one reader of the log, shared by every open page.
 *
 * A tail thread follows the log (tail.h) into a ring of its last lines
 * and keeps the summary (summary.h); a chain thread re-verifies the hash
 * chain (chain.h) when the file changes.  However many pages are open, the
 * log is read once, and memory is bounded by the ring: at most
 * HUB_LINES_MAX lines and HUB_BYTES_MAX bytes of them, which is also what
 * a page gets when it opens.
 *
 * Readers (the HTTP handlers) take the lock, read the ring by sequence
 * number and the rendered JSON blobs, and may wait on cond for changes.
 * Each line and mark has a sequence number, increasing from 1 for the
 * life of the process; a reader that falls behind the ring's start starts
 * over from the oldest entry.
 */
#ifndef QVMR_WEBUI_HUB_H
#define QVMR_WEBUI_HUB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "chain.h"
#include "logparse.h"
#include "summary.h"
#include "tail.h"

#define HUB_LINES_MAX 2000u
#define HUB_BYTES_MAX (4u << 20)
#define HUB_POLL_MS 200             /* how often the log is looked at */
#define HUB_SUMMARY_MS 5000         /* the hour slides even when idle */
#define HUB_CHAIN_POLL_MS 500
#define HUB_SUBSCRIBERS_MAX 16u     /* live pages at once */
#define HUB_JSON_MAX (256u << 10)

enum ring_kind { RING_LINE = 1, RING_MARK };

struct ring_entry {
	uint64_t seq;
	uint64_t lineno;        /* 0: unknown or a mark */
	enum ring_kind kind;
	size_t len;
	char *text;             /* owned, NUL-terminated */
};

struct hub {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* broadcast on every change (monotonic) */
	int stopping;
	uint64_t instance;      /* random per process: ids of a restarted
				 * viewer do not resume */
	char *path;

	/* the ring, oldest at head */
	struct ring_entry *ring;
	size_t head, n, bytes;
	uint64_t next_seq;

	/* rendered JSON, each with a counter bumped on change */
	struct buf summary_json;
	uint64_t summary_gen;
	struct buf chain_json;
	uint64_t chain_gen;
	struct buf status_json;
	uint64_t status_gen;

	unsigned subscribers;

	/* the tail thread's own */
	struct tail tail;
	struct summary *summary;
	struct log_entry *scratch;
	int horizon_next;       /* the next line's time is the horizon */
	int announce_open;      /* say so when the file appears */
	int last_state, last_err;
	int added;

	pthread_t tail_thread, chain_thread;
	int threads;            /* how many were started */
};

/* Starts reading path.  0, or QR_ERR_NOMEM / QR_ERR_SYSTEM. */
int hub_start(struct hub *h, const char *path, size_t window);
/* Tells readers and threads to stop (readers see h->stopping). */
void hub_quiesce(struct hub *h);
/* Joins the threads and frees everything; after the server stopped. */
void hub_stop(struct hub *h);

/* With the lock held: the entry of seq, or NULL when not in the ring. */
const struct ring_entry *hub_entry(const struct hub *h, uint64_t seq);
/* With the lock held: the oldest seq in the ring (next_seq if empty). */
uint64_t hub_oldest(const struct hub *h);
/* With the lock held: waits up to ms for a change.  0, or ETIMEDOUT. */
int hub_wait(struct hub *h, unsigned ms);

/*
 * Appends a line or mark to the ring, dropping the oldest entries past
 * the bounds.  With the lock held; for the tail thread and the tests.
 * 0, or QR_ERR_NOMEM (the entry is then lost).
 */
int hub_ring_add(struct hub *h, enum ring_kind kind, uint64_t lineno,
		 const char *text, size_t len);

/* The ring alone, for the tests: no threads, no file. */
int hub_init_ring(struct hub *h);
void hub_release_ring(struct hub *h);

#endif
