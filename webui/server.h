/*
 * server.h - the HTTP side: loopback listeners, the checks every request
 * passes, and the handful of read-only routes.
 *
 * Every request is checked in this order, before its path is looked at:
 *   1. Host must be a loopback name with our port (route.h), else 421:
 *      a page on another site that rebinds its DNS name to 127.0.0.1
 *      gets nothing;
 *   2. the method must be GET, else 405 (nothing here changes anything);
 *   3. the path must be one of the routes, else 404.
 * Every response carries a strict Content-Security-Policy, nosniff,
 * no-referrer, DENY framing and no-store, and never a CORS header.  No
 * response repeats anything from the request.
 *
 * Each listener runs libmicrohttpd with a thread per connection, at most
 * SERVER_CONNECTIONS_MAX connections, and SERVER_TIMEOUT_S of silence
 * before a connection is closed.  Over both listeners, one client (the
 * uid that owns the peer's socket, peer.h) holds at most
 * SERVER_PER_CLIENT_MAX connections, and a connection that has not sent
 * its whole request SERVER_REQUEST_S after its accept (or after its
 * previous response) is closed (slots.h).  libmicrohttpd's own limit per
 * address is not used: every loopback address is the same machine, and
 * all local users share 127.0.0.1.
 */
#ifndef QVMR_WEBUI_SERVER_H
#define QVMR_WEBUI_SERVER_H

#include "hub.h"
#include "route.h"
#include "slots.h"

#define SERVER_CONNECTIONS_MAX 32u
#define SERVER_PER_CLIENT_MAX 8u
#define SERVER_TIMEOUT_S 30u             /* idle */
#define SERVER_REQUEST_S 10u             /* whole request, from accept */
#define SERVER_CONN_MEMORY (64u << 10)
#define SERVER_STACK (256u << 10)
#define PLAIN_LINES_DEFAULT 200u
#define PLAIN_MAX (8u << 20)            /* bytes of the /plain page */

#define SERVER_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

struct MHD_Daemon;

struct server {
	struct MHD_Daemon *daemon[2];
	struct hub *hub;
	struct slots slots;             /* both listeners' connections */
	int slots_ready;
	unsigned port;
	char bind_literal[HOST_LITERAL_MAX];    /* "" unless --bind */
};

/*
 * Listens on 127.0.0.1 and [::1] at port, or only on bind (an address
 * literal, see bind_parse) when it is not NULL.  Failing to listen on
 * [::1] alone is a warning.  0, or -1 after printing why.
 */
int server_start(struct server *s, struct hub *h, unsigned port,
		 const char *bind);
void server_stop(struct server *s);

#endif
