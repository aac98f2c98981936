/*
 * sse.h - one open page's live stream (Server-Sent Events).
 *
 * The stream starts with "hello", then "reset" (forget what you show)
 * and the ring's lines, unless the page reconnected with a Last-Event-ID
 * the ring still holds, in which case it resumes after it.  Then it sends
 * lines and marks as they come, "summary", "chain" and "status" when they
 * change, and a comment every SSE_KEEPALIVE_S so a closed page is noticed
 * and the connection timeout never hits a healthy one.
 *
 * The server runs a thread per connection; the stream's reader blocks in
 * that thread (at most SSE_WAIT_MS at a time) waiting for the hub, never
 * in the hub's or another page's.  A page that stops reading fills its
 * socket, and MHD's connection timeout ends it.
 */
#ifndef QVMR_WEBUI_SSE_H
#define QVMR_WEBUI_SSE_H

#include "hub.h"

#define SSE_KEEPALIVE_S 10
#define SSE_WAIT_MS 1000
#define SSE_CHUNK (64u << 10)          /* bytes gathered before sending */
#define SSE_OUT_MAX (SSE_CHUNK + 8 * LOGPARSE_LINE_MAX)

struct MHD_Response;

/*
 * The response for GET /events.  fd is the connection's socket (to notice
 * a closed page while idle), last_id the Last-Event-ID header or NULL.
 * NULL when HUB_SUBSCRIBERS_MAX pages are open (*status 503) or memory is
 * short (*status 500).
 */
struct MHD_Response *sse_response(struct hub *h, int fd, const char *last_id,
				  unsigned *status);

#endif
