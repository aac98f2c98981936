/*
 * hub.c - the log read once, kept as a bounded ring for every page.
 */
#include "hub.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "err.h"
#include "escape.h"
#include "clock.h"

#include "banned.h"

static_assert(HUB_BYTES_MAX >= TAIL_WINDOW_DEFAULT,
	      "the ring holds what the tail window reads");
static_assert(HUB_BYTES_MAX > LOGPARSE_LINE_MAX, "a line fits the ring");

/* ---- the ring ----------------------------------------------------------- */

int
hub_init_ring(struct hub *h)
{
	pthread_condattr_t ca;

	memset(h, 0, sizeof(*h));
	h->tail.fd = -1;
	h->next_seq = 1;
	buf_init(&h->summary_json, HUB_JSON_MAX);
	buf_init(&h->chain_json, HUB_JSON_MAX);
	buf_init(&h->status_json, HUB_JSON_MAX);
	if ((h->ring = calloc(HUB_LINES_MAX, sizeof(*h->ring))) == NULL)
		return QR_ERR_NOMEM;
	if (pthread_mutex_init(&h->lock, NULL) != 0)
		goto fail_ring;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mutex;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&h->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_mutex;
	}
	pthread_condattr_destroy(&ca);
	return 0;
fail_mutex:
	pthread_mutex_destroy(&h->lock);
fail_ring:
	free(h->ring);
	h->ring = NULL;
	return QR_ERR_NOMEM;
}

static void
drop_oldest(struct hub *h)
{
	struct ring_entry *e = &h->ring[h->head];

	h->bytes -= e->len;
	free(e->text);
	e->text = NULL;
	h->head = (h->head + 1) % HUB_LINES_MAX;
	h->n--;
}

void
hub_release_ring(struct hub *h)
{
	if (h->ring == NULL)
		return;
	while (h->n > 0)
		drop_oldest(h);
	free(h->ring);
	h->ring = NULL;
	buf_release(&h->summary_json);
	buf_release(&h->chain_json);
	buf_release(&h->status_json);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
}

int
hub_ring_add(struct hub *h, enum ring_kind kind, uint64_t lineno,
	     const char *text, size_t len)
{
	struct ring_entry *e;
	char *copy;

	if (len > LOGPARSE_LINE_MAX)
		len = LOGPARSE_LINE_MAX;
	if ((copy = malloc(len + 1)) == NULL)
		return QR_ERR_NOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	while (h->n > 0 &&
	       (h->n == HUB_LINES_MAX || h->bytes + len > HUB_BYTES_MAX))
		drop_oldest(h);
	e = &h->ring[(h->head + h->n) % HUB_LINES_MAX];
	e->seq = h->next_seq++;
	e->lineno = lineno;
	e->kind = kind;
	e->len = len;
	e->text = copy;
	h->n++;
	h->bytes += len;
	return 0;
}

const struct ring_entry *
hub_entry(const struct hub *h, uint64_t seq)
{
	uint64_t oldest = hub_oldest(h);

	if (seq < oldest || seq >= h->next_seq)
		return NULL;
	return &h->ring[(h->head + (size_t)(seq - oldest)) % HUB_LINES_MAX];
}

uint64_t
hub_oldest(const struct hub *h)
{
	return h->n > 0 ? h->ring[h->head].seq : h->next_seq;
}

int
hub_wait(struct hub *h, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_cond_timedwait(&h->cond, &h->lock, &ts);
}

/* ---- the tail thread ---------------------------------------------------- */

static void
add_mark(struct hub *h, const char *text)
{
	pthread_mutex_lock(&h->lock);
	(void)hub_ring_add(h, RING_MARK, 0, text, strlen(text));
	pthread_mutex_unlock(&h->lock);
	h->added = 1;
}

static void
on_line(void *ctx, uint64_t lineno, const char *line, size_t n)
{
	struct hub *h = ctx;

	if (logparse_line(line, n, h->scratch) == 0) {
		if (h->horizon_next) {
			/* lines older than this one were not read */
			summary_set_horizon(h->summary, h->scratch->when - 1);
			h->horizon_next = 0;
		}
		summary_add(h->summary, h->scratch);
	}
	pthread_mutex_lock(&h->lock);
	(void)hub_ring_add(h, RING_LINE, lineno, line, n);
	pthread_mutex_unlock(&h->lock);
	h->added = 1;
}

static void
on_mark(void *ctx, enum tail_mark what, uint64_t arg)
{
	struct hub *h = ctx;
	char text[128];

	switch (what) {
	case TAIL_OPENED:
		if (h->announce_open) {
			h->announce_open = 0;
			add_mark(h, "the log file appeared; following it from "
				 "its start");
		}
		if (arg) {
			h->horizon_next = 1;
			add_mark(h, "older lines are not shown: the viewer reads "
				 "only the end of a large log");
		}
		break;
	case TAIL_ROTATED:
		add_mark(h, "the log was rotated; following the new file");
		break;
	case TAIL_TRUNCATED:
		add_mark(h, "the log was truncated; reading it from its start");
		break;
	case TAIL_GONE:
		add_mark(h, "the log file was removed; waiting for it to "
			 "come back");
		h->announce_open = 1;
		break;
	case TAIL_LONG_LINE:
		snprintf(text, sizeof(text), "line %llu is longer than %u bytes "
			 "and is not shown", (unsigned long long)arg,
			 LOGPARSE_LINE_MAX);
		add_mark(h, text);
		break;
	}
}

static void
render_status(struct hub *h)
{
	const char *state = h->tail.state == TAIL_READING ? "reading"
			    : h->tail.state == TAIL_WAITING ? "waiting"
			    : "failed";
	const char *err = h->tail.state == TAIL_READING ? ""
			  : h->tail.err == ENOENT ? "no such file"
			  : h->tail.err == EINVAL ? "not a regular file"
			  : strerror(h->tail.err);

	pthread_mutex_lock(&h->lock);
	buf_reset(&h->status_json);
	if (buf_printf(&h->status_json, "{\"state\":\"%s\",\"error\":",
		       state) == 0 &&
	    json_cstr(&h->status_json, err) == 0 &&
	    buf_append_str(&h->status_json, "}") == 0)
		h->status_gen++;
	pthread_mutex_unlock(&h->lock);
}

static void
render_summary(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	buf_reset(&h->summary_json);
	if (summary_json(h->summary, time(NULL), &h->summary_json) == 0)
		h->summary_gen++;
	pthread_mutex_unlock(&h->lock);
}

static void *
tail_main(void *arg)
{
	static const struct tail_ops ops = { on_line, on_mark };
	struct hub *h = arg;
	int64_t last_summary = 0;
	int more, changed;

	h->last_state = -1;
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		pthread_mutex_unlock(&h->lock);
		h->added = 0;
		more = tail_poll(&h->tail, &ops, h);
		if (h->tail.fd < 0 && h->tail.state == TAIL_WAITING &&
		    h->last_state == -1)
			h->announce_open = 1;   /* missing at start */
		changed = h->added;
		if ((int)h->tail.state != h->last_state ||
		    h->tail.err != h->last_err) {
			if (h->tail.state == TAIL_FAILED &&
			    h->tail.err != h->last_err)
				fprintf(stderr, "qvm-remote-webui: cannot read "
					"'%s': %s; the viewer needs read access "
					"(see qvm-remote-webui(8))\n", h->path,
					strerror(h->tail.err));
			h->last_state = (int)h->tail.state;
			h->last_err = h->tail.err;
			render_status(h);
			changed = 1;
		}
		if (h->added || mono_ms() - last_summary >= HUB_SUMMARY_MS) {
			render_summary(h);
			last_summary = mono_ms();
			changed = 1;
		}
		pthread_mutex_lock(&h->lock);
		if (changed)
			pthread_cond_broadcast(&h->cond);
		if (!more && !h->stopping)
			(void)hub_wait(h, HUB_POLL_MS);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ---- the chain thread --------------------------------------------------- */

struct fingerprint {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;  /* an edit whose mtime was put back */
};

static void
fingerprint_of(const char *path, struct fingerprint *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (stat(path, &st) != 0)
		return;
	f->exists = 1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->ctime = st.st_ctim;
}

static int
fingerprint_eq(const struct fingerprint *a, const struct fingerprint *b)
{
	return a->exists == b->exists && a->dev == b->dev &&
	       a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void *
chain_main(void *arg)
{
	struct hub *h = arg;
	struct fingerprint seen = { .exists = -1 }, now;
	struct chain_status st;
	struct chain_watch watch;   /* issue 12: incremental, keeps its place */
	struct buf json = BUF_INIT(HUB_JSON_MAX);
	int64_t next_allowed = 0, t0, spent;
	int retry = 0;

	chain_watch_init(&watch);
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		pthread_mutex_unlock(&h->lock);
		fingerprint_of(h->path, &now);
		if ((retry || !fingerprint_eq(&now, &seen) ||
		     chain_watch_due(&watch)) &&
		    mono_ms() >= next_allowed) {
			t0 = mono_ms();
			retry = chain_watch_check(&watch, h->path, &st) ==
				QR_ERR_INCOMPLETE;
			spent = mono_ms() - t0;
			/* a huge log is checked at most half the time */
			next_allowed = mono_ms() + (spent < 1000 ? 1000 : spent);
			seen = now;
			buf_reset(&json);
			if (!retry && chain_json(&st, &json) == 0) {
				pthread_mutex_lock(&h->lock);
				buf_reset(&h->chain_json);
				if (buf_append(&h->chain_json, json.data,
					       json.len) == 0)
					h->chain_gen++;
				pthread_cond_broadcast(&h->cond);
				pthread_mutex_unlock(&h->lock);
			}
		}
		pthread_mutex_lock(&h->lock);
		if (!h->stopping)
			(void)hub_wait(h, HUB_CHAIN_POLL_MS);
	}
	pthread_mutex_unlock(&h->lock);
	chain_watch_release(&watch);
	buf_release(&json);
	return NULL;
}

/* ---- life cycle ----------------------------------------------------------- */

int
hub_start(struct hub *h, const char *path, size_t window)
{
	struct chain_status checking = { .state = CHAIN_CHECKING };
	int r;

	if ((r = hub_init_ring(h)) != 0)
		return r;
	if (getrandom(&h->instance, sizeof(h->instance), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(h->instance))
		h->instance = (uint64_t)time(NULL) << 20 ^ (uint64_t)mono_ms();
	h->instance &= 0xffffffffffffull;   /* short ids */
	if ((h->path = strdup(path)) == NULL ||
	    (h->summary = malloc(sizeof(*h->summary))) == NULL ||
	    (h->scratch = malloc(sizeof(*h->scratch))) == NULL ||
	    tail_init(&h->tail, path, window) != 0) {
		r = QR_ERR_NOMEM;
		goto fail;
	}
	summary_init(h->summary);
	if ((r = chain_json(&checking, &h->chain_json)) != 0 ||
	    (r = buf_append_str(&h->status_json,
				"{\"state\":\"waiting\",\"error\":\"\"}")) != 0 ||
	    (r = summary_json(h->summary, time(NULL), &h->summary_json)) != 0)
		goto fail;
	h->chain_gen = h->status_gen = h->summary_gen = 1;
	if (pthread_create(&h->tail_thread, NULL, tail_main, h) != 0) {
		r = QR_ERR_SYSTEM;
		goto fail;
	}
	h->threads = 1;
	if (pthread_create(&h->chain_thread, NULL, chain_main, h) != 0) {
		r = QR_ERR_SYSTEM;
		hub_quiesce(h);
		hub_stop(h);
		return r;
	}
	h->threads = 2;
	return 0;
fail:
	hub_stop(h);
	return r;
}

void
hub_quiesce(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void
hub_stop(struct hub *h)
{
	hub_quiesce(h);
	if (h->threads >= 1)
		pthread_join(h->tail_thread, NULL);
	if (h->threads >= 2)
		pthread_join(h->chain_thread, NULL);
	h->threads = 0;
	tail_release(&h->tail);
	free(h->summary);
	free(h->scratch);
	free(h->path);
	h->summary = NULL;
	h->scratch = NULL;
	h->path = NULL;
	hub_release_ring(h);
}
