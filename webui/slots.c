/*
 * slots.c - connections per client, and the request deadline.
 */
#include "slots.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "banned.h"

#define SLOTS_WARN_MS 60000
#define SLOTS_IDLE_WAIT_MS 60000        /* asleep with nothing due */

int
slots_init(struct slots *s, unsigned per_client, int64_t request_ms)
{
	pthread_condattr_t ca;
	int e;

	s->head = NULL;
	s->per_client = per_client;
	s->request_ms = request_ms;
	s->last_warn_ms = INT64_MIN / 2;
	s->running = s->stopping = 0;
	if ((e = pthread_mutex_init(&s->lock, NULL)) != 0) {
		errno = e;
		return -1;
	}
	if ((e = pthread_condattr_init(&ca)) != 0 ||
	    (e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (e = pthread_cond_init(&s->wake, &ca)) != 0) {
		pthread_mutex_destroy(&s->lock);
		errno = e;
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

static int
same_client(const struct slot *a, int known, uint32_t uid)
{
	return a->known == known && (!known || a->uid == uid);
}

static unsigned
count_locked(const struct slots *s, int known, uint32_t uid)
{
	const struct slot *p;
	unsigned n = 0;

	for (p = s->head; p != NULL; p = p->next)
		if (p->counted && same_client(p, known, uid))
			n++;
	return n;
}

struct slot *
slots_open(struct slots *s, int fd, int known, uint32_t uid, int64_t now_ms,
	   int *refused, int *warn)
{
	struct slot *sl;

	*refused = 0;
	*warn = 0;
	if ((sl = calloc(1, sizeof(*sl))) == NULL)
		return NULL;
	sl->fd = fd;
	sl->known = known != 0;
	sl->uid = known ? uid : 0;
	sl->receiving = 1;
	sl->deadline_ms = now_ms + s->request_ms;
	pthread_mutex_lock(&s->lock);
	if (count_locked(s, sl->known, sl->uid) >= s->per_client) {
		*refused = 1;
		sl->receiving = 0;      /* cut by the caller, not the sweeper */
		if (now_ms - s->last_warn_ms >= SLOTS_WARN_MS) {
			s->last_warn_ms = now_ms;
			*warn = 1;
		}
	} else {
		sl->counted = 1;
	}
	sl->next = s->head;
	if (s->head != NULL)
		s->head->prev = sl;
	s->head = sl;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return sl;
}

int
slots_received(struct slots *s, struct slot *sl)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = sl->counted && !sl->cut ? 0 : -1;
	if (r == 0)
		sl->receiving = 0;
	pthread_mutex_unlock(&s->lock);
	return r;
}

void
slots_rearm(struct slots *s, struct slot *sl, int64_t now_ms)
{
	pthread_mutex_lock(&s->lock);
	if (sl->counted) {
		sl->receiving = 1;
		sl->deadline_ms = now_ms + s->request_ms;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
}

void
slots_close(struct slots *s, struct slot *sl)
{
	pthread_mutex_lock(&s->lock);
	if (sl->prev != NULL)
		sl->prev->next = sl->next;
	else
		s->head = sl->next;
	if (sl->next != NULL)
		sl->next->prev = sl->prev;
	pthread_mutex_unlock(&s->lock);
	free(sl);
}

unsigned
slots_count(struct slots *s, int known, uint32_t uid)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = count_locked(s, known != 0, known ? uid : 0);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* With the lock held; *next_ms is the earliest deadline still to come. */
static unsigned
sweep_locked(struct slots *s, int64_t now_ms, int64_t *next_ms)
{
	struct slot *p;
	unsigned n = 0;

	*next_ms = INT64_MAX;
	for (p = s->head; p != NULL; p = p->next) {
		if (!p->receiving || p->cut)
			continue;
		if (p->deadline_ms <= now_ms) {
			/* the fd is open: slots_close() has not run */
			(void)shutdown(p->fd, SHUT_RDWR);
			p->cut = 1;
			n++;
		} else if (p->deadline_ms < *next_ms) {
			*next_ms = p->deadline_ms;
		}
	}
	return n;
}

unsigned
slots_sweep(struct slots *s, int64_t now_ms)
{
	int64_t next;
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = sweep_locked(s, now_ms, &next);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void *
sweeper(void *arg)
{
	struct slots *s = arg;
	struct timespec ts;
	int64_t now, next;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		now = mono_ms();
		(void)sweep_locked(s, now, &next);
		if (next == INT64_MAX || next - now > SLOTS_IDLE_WAIT_MS)
			next = now + SLOTS_IDLE_WAIT_MS;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		(void)pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
slots_start(struct slots *s)
{
	int e;

	if ((e = pthread_create(&s->sweeper, NULL, sweeper, s)) != 0) {
		errno = e;
		return -1;
	}
	s->running = 1;
	return 0;
}

void
slots_stop(struct slots *s)
{
	if (!s->running)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->sweeper, NULL);
	s->running = 0;
}

void
slots_release(struct slots *s)
{
	struct slot *p, *n;

	for (p = s->head; p != NULL; p = n) {
		n = p->next;
		free(p);
	}
	s->head = NULL;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
}
