/*
 * sse.c - the live stream of one page, fed from the hub.
 */
#include "sse.h"

#include <assert.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "err.h"
#include "escape.h"
#include "event.h"
#include "route.h"
#include "banned.h"

static_assert(SSE_OUT_MAX > SSE_CHUNK + 6 * LOGPARSE_LINE_MAX + 512,
	      "one line's event, escaped at worst, fits after a full chunk");

struct sub {
	struct hub *hub;
	int fd;
	uint64_t next;          /* the next seq to send */
	int resume;             /* next came from Last-Event-ID */
	int started;
	uint64_t summary_gen, chain_gen, status_gen;
	time_t last_send;
	struct buf out;
	size_t out_off;
	struct log_entry *scratch;
};

static int
peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return 0;
	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* With the hub locked: appends what the page has not seen yet. */
static int
gather(struct sub *s)
{
	struct hub *h = s->hub;
	uint64_t oldest = hub_oldest(h);
	int r;

	if (!s->started) {
		s->started = 1;
		if ((r = buf_printf(&s->out, "retry: 2000\n\n"
				    "event: hello\ndata: {\"instance\":\"%llx\","
				    "\"version\":", (unsigned long long)h->instance))
		    != 0 ||
		    (r = json_cstr(&s->out, QVMR_VERSION)) != 0 ||
		    (r = buf_printf(&s->out, ",\"lines_max\":%u,\"log\":",
				    HUB_LINES_MAX)) != 0 ||
		    (r = json_cstr(&s->out, h->path)) != 0 ||
		    (r = buf_append_str(&s->out, "}\n\n")) != 0)
			return r;
		if (!s->resume || s->next < oldest || s->next > h->next_seq) {
			s->resume = 0;
			s->next = oldest;
		}
		if (!s->resume &&
		    (r = buf_printf(&s->out, "event: reset\ndata: {\"oldest\":"
				    "%llu}\n\n", (unsigned long long)oldest)) != 0)
			return r;
	}
	if (s->next < oldest) {
		/* fell behind the ring: start over from what it holds */
		s->next = oldest;
		if ((r = buf_printf(&s->out, "event: reset\ndata: {\"oldest\":"
				    "%llu}\n\n", (unsigned long long)oldest)) != 0)
			return r;
	}
	if (s->status_gen != h->status_gen) {
		if ((r = event_named(&s->out, "status",
				     buf_str(&h->status_json))) != 0)
			return r;
		s->status_gen = h->status_gen;
	}
	if (s->chain_gen != h->chain_gen) {
		if ((r = event_named(&s->out, "chain",
				     buf_str(&h->chain_json))) != 0)
			return r;
		s->chain_gen = h->chain_gen;
	}
	while (s->next < h->next_seq && s->out.len < SSE_CHUNK) {
		const struct ring_entry *e = hub_entry(h, s->next);

		if (e == NULL)
			break;
		if (e->kind == RING_MARK)
			r = event_mark(&s->out, h->instance, e->seq, e->text);
		else
			r = event_line(&s->out, h->instance, e->seq, e->lineno,
				       e->text, e->len, s->scratch);
		if (r != 0)
			return r;
		s->next++;
	}
	/* the summary after the lines it counts, once they are all sent */
	if (s->next == h->next_seq && s->summary_gen != h->summary_gen) {
		if ((r = event_named(&s->out, "summary",
				     buf_str(&h->summary_json))) != 0)
			return r;
		s->summary_gen = h->summary_gen;
	}
	return 0;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub *s = cls;
	struct hub *h = s->hub;
	size_t n;

	(void)pos;
	while (s->out_off == s->out.len) {
		buf_reset(&s->out);
		s->out_off = 0;
		pthread_mutex_lock(&h->lock);
		for (;;) {
			if (h->stopping) {
				pthread_mutex_unlock(&h->lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			if (gather(s) != 0) {
				pthread_mutex_unlock(&h->lock);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			if (s->out.len > 0)
				break;
			if (time(NULL) - s->last_send >= SSE_KEEPALIVE_S) {
				(void)buf_append_str(&s->out, ": keepalive\n\n");
				break;
			}
			if (peer_gone(s->fd)) {
				/* a closed page: an ordinary end, not an error */
				pthread_mutex_unlock(&h->lock);
				return MHD_CONTENT_READER_END_OF_STREAM;
			}
			(void)hub_wait(h, SSE_WAIT_MS);
		}
		pthread_mutex_unlock(&h->lock);
		s->last_send = time(NULL);
	}
	n = s->out.len - s->out_off;
	if (n > max)
		n = max;
	memcpy(buf, s->out.data + s->out_off, n);
	s->out_off += n;
	return (ssize_t)n;
}

static void
sub_free(void *cls)
{
	struct sub *s = cls;

	pthread_mutex_lock(&s->hub->lock);
	s->hub->subscribers--;
	pthread_mutex_unlock(&s->hub->lock);
	buf_release(&s->out);
	free(s->scratch);
	free(s);
}

struct MHD_Response *
sse_response(struct hub *h, int fd, const char *last_id, unsigned *status)
{
	struct MHD_Response *resp;
	struct sub *s;
	uint64_t instance, seq;

	*status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->scratch = malloc(sizeof(*s->scratch))) == NULL) {
		free(s);
		return NULL;
	}
	s->hub = h;
	s->fd = fd;
	s->last_send = time(NULL);
	buf_init(&s->out, SSE_OUT_MAX);
	if (last_id != NULL && last_id_parse(last_id, &instance, &seq) == 0 &&
	    instance == h->instance && seq < UINT64_MAX) {
		s->next = seq + 1;
		s->resume = 1;
	}
	pthread_mutex_lock(&h->lock);
	if (h->subscribers >= HUB_SUBSCRIBERS_MAX) {
		pthread_mutex_unlock(&h->lock);
		*status = MHD_HTTP_SERVICE_UNAVAILABLE;
		free(s->scratch);
		free(s);
		return NULL;
	}
	h->subscribers++;
	pthread_mutex_unlock(&h->lock);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16u << 10,
						 sse_read, s, sub_free);
	if (resp == NULL)
		sub_free(s);
	return resp;
}
