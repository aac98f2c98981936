/*
 * server.c - loopback-only, GET-only HTTP on libmicrohttpd.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "assets.h"
#include "clock.h"
#include "err.h"
#include "escape.h"
#include "event.h"
#include "peer.h"
#include "slots.h"
#include "sse.h"
#include "banned.h"

#ifndef MHD_HTTP_MISDIRECTED_REQUEST
#define MHD_HTTP_MISDIRECTED_REQUEST 421
#endif

static void
security_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Content-Security-Policy", SERVER_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy",
				"same-origin");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static enum MHD_Result
send_response(struct MHD_Connection *c, unsigned status,
	      struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A short fixed text; never anything taken from the request. */
static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	security_headers(r, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	return send_response(c, status, r);
}

static enum MHD_Result
send_buf(struct MHD_Connection *c, const struct buf *b, const char *type)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(b->len, (void *)buf_str(b),
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	security_headers(r, type);
	return send_response(c, MHD_HTTP_OK, r);
}

static enum MHD_Result
send_asset(struct MHD_Connection *c, const char *url)
{
	const struct asset *a = asset_find(url);
	struct MHD_Response *r;

	if (a == NULL)
		return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	r = MHD_create_response_from_buffer(a->len, (void *)a->data,
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	security_headers(r, a->type);
	return send_response(c, MHD_HTTP_OK, r);
}

/* /api/summary and /api/chain: a copy of the hub's JSON. */
static enum MHD_Result
send_json(struct MHD_Connection *c, struct hub *h, const struct buf *src)
{
	struct buf copy = BUF_INIT(HUB_JSON_MAX + 1);
	enum MHD_Result ret;
	int r;

	pthread_mutex_lock(&h->lock);
	r = buf_append(&copy, buf_str(src), src->len);
	pthread_mutex_unlock(&h->lock);
	if (r != 0 || buf_append_str(&copy, "\n") != 0) {
		buf_release(&copy);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "out of memory\n");
	}
	ret = send_buf(c, &copy, "application/json");
	buf_release(&copy);
	return ret;
}

/* /plain?n=N: the last N lines as an HTML table, for reading without
 * JavaScript; every log text escaped by event_html_row(). */
static enum MHD_Result
send_plain(struct MHD_Connection *c, struct hub *h)
{
	const char *nq = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						     "n");
	struct buf page = BUF_INIT(PLAIN_MAX);
	struct log_entry *scratch = NULL;
	unsigned want = PLAIN_LINES_DEFAULT;
	uint64_t seq, first;
	enum MHD_Result ret;
	int r = 0, cut = 0;

	if (nq != NULL && count_parse(nq, 1, HUB_LINES_MAX, &want) != 0)
		return send_text(c, MHD_HTTP_BAD_REQUEST, "n must be a number "
				 "of lines from 1 to 2000\n");
	if ((scratch = malloc(sizeof(*scratch))) == NULL)
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "out of memory\n");
	r = buf_append_str(&page, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
			   "<meta charset=\"utf-8\"><title>qvm-remote audit "
			   "log</title><link rel=\"icon\" href=\"data:,\">"
			   "<link rel=\"stylesheet\" href=\"/app.css\"></head>"
			   "<body class=\"plain\"><h1>qvm-remote audit log</h1>"
			   "<p>The last lines of ");
	pthread_mutex_lock(&h->lock);
	if (r == 0 && (r = html_ctext(&page, h->path)) == 0)
		r = buf_append_str(&page, ", oldest first. <a href=\"/\">Live "
				   "view</a></p>\n<table class=\"log\"><tbody>\n");
	first = h->next_seq - hub_oldest(h) > want ? h->next_seq - want
						    : hub_oldest(h);
	for (seq = first; r == 0 && seq < h->next_seq; seq++) {
		const struct ring_entry *e = hub_entry(h, seq);
		size_t before = page.len;

		if (e == NULL)
			continue;
		if (e->kind == RING_MARK) {
			r = buf_append_str(&page, "<tr class=\"mark\"><td "
					   "colspan=\"5\">");
			if (r == 0)
				r = html_ctext(&page, e->text);
			if (r == 0)
				r = buf_append_str(&page, "</td></tr>\n");
		} else {
			r = event_html_row(&page, e->lineno, e->text, e->len,
					   scratch);
		}
		if (r == QR_ERR_TOO_LARGE) {
			/* keep the page bounded; say so below */
			page.len = before;
			page.data[before] = '\0';
			cut = 1;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	free(scratch);
	if (r == 0)
		r = buf_append_str(&page, cut ? "</tbody></table><p>(cut: the "
				   "page reached its size limit)</p></body>"
				   "</html>\n"
				   : "</tbody></table></body></html>\n");
	if (r != 0) {
		buf_release(&page);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				 "out of memory\n");
	}
	ret = send_buf(c, &page, "text/html; charset=utf-8");
	buf_release(&page);
	return ret;
}

static enum MHD_Result
send_events(struct MHD_Connection *c, struct hub *h)
{
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;
	unsigned status;
	int fd = -1;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		fd = ci->connect_fd;
	r = sse_response(h, fd, MHD_lookup_connection_value(c,
			 MHD_HEADER_KIND, "Last-Event-ID"), &status);
	if (r == NULL)
		return send_text(c, status, status == MHD_HTTP_SERVICE_UNAVAILABLE
				 ? "too many live views are open; close one "
				   "and reload\n" : "out of memory\n");
	security_headers(r, "text/event-stream");
	return send_response(c, MHD_HTTP_OK, r);
}

/* The connection's slot (slots.h), set when it was accepted. */
static struct slot *
conn_slot(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * A connection is accepted, or gone.  A new one is seen here in the
 * listening thread, after libmicrohttpd counted it and before its own
 * thread starts.  The accept policy callback would come earlier, but it
 * gets only the peer's address: without the socket there is no local
 * address and port to find the peer's socket by (a wildcard --bind), and
 * a count taken there is never given back when libmicrohttpd then drops
 * the connection itself.  libmicrohttpd 0.9.75 has no call that closes a
 * connection, so one refused here is shut down: its thread reads the end
 * of the stream at once and closes it, giving back its place in the
 * listener's limit too; handle() answers nothing that might still have
 * been read.  It gets no 429: that would cost its slot until the client
 * reads it.
 */
static void
notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
		  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct slot *sl;
	uint32_t uid = 0;
	int fd, known, refused, warn;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* before libmicrohttpd closes the fd: the sweeper holds none */
		if (*socket_context != NULL)
			slots_close(&s->slots, *socket_context);
		*socket_context = NULL;
		return;
	}
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;         /* no slot: handle() refuses it */
	fd = ci->connect_fd;
	/* not found, or /proc unreadable: the one shared client */
	known = peer_uid(fd, PEER_NETDIR, &uid) == 0;
	sl = slots_open(&s->slots, fd, known, uid, mono_ms(), &refused,
			&warn);
	if (warn) {
		if (known)
			fprintf(stderr, "qvm-remote-webui: refusing connections "
				"from uid %lu: it has %u open\n",
				(unsigned long)uid, SERVER_PER_CLIENT_MAX);
		else
			fprintf(stderr, "qvm-remote-webui: refusing connections "
				"whose owner is unknown: %u are open\n",
				SERVER_PER_CLIENT_MAX);
	}
	if (sl == NULL || refused)
		(void)shutdown(fd, SHUT_RDWR);
	*socket_context = sl;
}

/* A request is over, its response sent: the next one is due in time. */
static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct slot *sl = conn_slot(c);

	(void)con_cls;
	(void)toe;
	if (sl != NULL)
		slots_rearm(&s->slots, sl, mono_ms());
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
       const char *method, const char *version, const char *upload_data,
       size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct slot *sl = conn_slot(c);
	const char *host;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	/* the request is in: its deadline stops, unless it was refused or
	 * cut and this is what was still in the socket */
	if (sl == NULL || slots_received(&s->slots, sl) != 0)
		return MHD_NO;
	/* decided on the first call, before any request body is read */
	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_HOST);
	if (host == NULL)
		return send_text(c, MHD_HTTP_BAD_REQUEST, "a Host header is "
				 "required\n");
	if (!host_allowed(host, s->port, s->bind_literal))
		return send_text(c, MHD_HTTP_MISDIRECTED_REQUEST,
				 "this viewer answers only to localhost, "
				 "127.0.0.1 or [::1] with its port\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "the viewer is "
				 "read-only: only GET is allowed\n");
	switch (route_find(url)) {
	case ROUTE_ASSET:
		return send_asset(c, url);
	case ROUTE_EVENTS:
		return send_events(c, s->hub);
	case ROUTE_SUMMARY:
		return send_json(c, s->hub, &s->hub->summary_json);
	case ROUTE_CHAIN:
		return send_json(c, s->hub, &s->hub->chain_json);
	case ROUTE_PLAIN:
		return send_plain(c, s->hub);
	case ROUTE_NONE:
		break;
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("qvm-remote-webui: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static struct MHD_Daemon *
listen_on(struct server *s, const struct sockaddr *sa, int v6)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;

	if (v6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL,
		&handle, s,
		/* first, so MHD's own start-up messages use it too */
		MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONNECTIONS_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_TIMEOUT_S,
		MHD_OPTION_NOTIFY_CONNECTION, &notify_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, &request_done, s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)SERVER_STACK,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
		MHD_OPTION_END);
}

int
server_start(struct server *s, struct hub *h, unsigned port,
	     const char *bind)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int loopback;

	memset(s, 0, sizeof(*s));
	s->hub = h;
	s->port = port;
	if (slots_init(&s->slots, SERVER_PER_CLIENT_MAX,
		       (int64_t)SERVER_REQUEST_S * 1000) != 0) {
		fprintf(stderr, "qvm-remote-webui: cannot start: %s\n",
			strerror(errno));
		return -1;
	}
	s->slots_ready = 1;
	if (slots_start(&s->slots) != 0) {
		fprintf(stderr, "qvm-remote-webui: cannot start a thread: %s\n",
			strerror(errno));
		goto fail;
	}
	if (bind != NULL) {
		if (bind_parse(bind, port, &sa, &len, &loopback,
			       s->bind_literal) != 0) {
			fprintf(stderr, "qvm-remote-webui: '%s' is not an IPv4 "
				"or IPv6 address; --bind takes an address such "
				"as 127.0.0.1 or ::1\n", bind);
			goto fail;
		}
		if (!loopback)
			fprintf(stderr, "qvm-remote-webui: warning: listening on "
				"%s, which is not a loopback address: anyone "
				"who can reach it can read the audit log\n",
				s->bind_literal);
		s->daemon[0] = listen_on(s, (struct sockaddr *)&sa,
					 sa.ss_family == AF_INET6);
		if (s->daemon[0] == NULL) {
			fprintf(stderr, "qvm-remote-webui: cannot listen on %s "
				"port %u; is another viewer running there?\n",
				s->bind_literal, port);
			goto fail;
		}
		return 0;
	}
	(void)bind_parse("127.0.0.1", port, &sa, &len, &loopback,
			 s->bind_literal);
	s->bind_literal[0] = '\0';
	if ((s->daemon[0] = listen_on(s, (struct sockaddr *)&sa, 0)) == NULL) {
		fprintf(stderr, "qvm-remote-webui: cannot listen on 127.0.0.1 "
			"port %u; is another viewer running there? (--port "
			"picks another)\n", port);
		goto fail;
	}
	(void)bind_parse("::1", port, &sa, &len, &loopback, s->bind_literal);
	s->bind_literal[0] = '\0';
	if ((s->daemon[1] = listen_on(s, (struct sockaddr *)&sa, 1)) == NULL)
		fprintf(stderr, "qvm-remote-webui: warning: cannot listen on "
			"[::1] port %u; serving 127.0.0.1 only\n", port);
	return 0;
fail:
	server_stop(s);
	return -1;
}

void
server_stop(struct server *s)
{
	for (int i = 0; i < 2; i++)
		if (s->daemon[i] != NULL)
			MHD_stop_daemon(s->daemon[i]);
	s->daemon[0] = s->daemon[1] = NULL;
	/* every connection is closed now, so no slot is left open */
	if (s->slots_ready) {
		slots_stop(&s->slots);
		slots_release(&s->slots);
		s->slots_ready = 0;
	}
}
