/*
 * route.h - what a request may ask for, decided before anything is read.
 *
 * Pure: strings in, verdicts out, no I/O, so the unit tests hold every
 * rule the server applies to a request.
 */
#ifndef QVMR_WEBUI_ROUTE_H
#define QVMR_WEBUI_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum route {
	ROUTE_NONE = 0,         /* 404 */
	ROUTE_ASSET,            /* an embedded file: /, /app.js, /app.css */
	ROUTE_EVENTS,           /* the Server-Sent Events stream */
	ROUTE_SUMMARY,          /* /api/summary, JSON */
	ROUTE_CHAIN,            /* /api/chain, JSON */
	ROUTE_PLAIN,            /* /plain, the last lines as HTML, no script */
};

/* The route of a request path (no query string; MHD splits it off). */
enum route route_find(const char *path);

/*
 * 1 when the Host header names this server through a loopback name:
 * "localhost", "127.0.0.1" or "[::1]", or bind_literal when the server was
 * bound to another address on purpose ("10.0.0.5" or "[fd00::5]"; NULL for
 * none), followed by ":port".  Without a port the name is taken only when
 * port is 80, as a browser would send it.  Names compare without regard to
 * case; anything else (another name, a DNS name that resolves to us, a
 * wrong port, a trailing dot, userinfo) is 0: that is what stops DNS
 * rebinding.
 */
int host_allowed(const char *host, unsigned port, const char *bind_literal);

/*
 * Parses the Last-Event-ID the page's EventSource sends back after a
 * reconnect, "INSTANCE-SEQ" in lowercase hex and decimal, as
 * event_line() writes it.  0, or QR_ERR_INVALID.
 */
int last_id_parse(const char *s, uint64_t *instance, uint64_t *seq);

/* A decimal count min..max with nothing else (a query value).  0, or
 * QR_ERR_INVALID. */
int count_parse(const char *s, unsigned min, unsigned max, unsigned *out);

/*
 * --bind ADDR: an IPv4 or IPv6 literal ("::1" or "[::1]") with port.
 * Fills sa and *len, sets *loopback when the address is 127.0.0.0/8 or
 * ::1, and writes the form browsers put in Host ("127.0.0.1", "[::1]")
 * to host_out (room for HOST_LITERAL_MAX bytes).  0, or QR_ERR_INVALID.
 */
#define HOST_LITERAL_MAX 48u
int bind_parse(const char *s, unsigned port, struct sockaddr_storage *sa,
	       socklen_t *len, int *loopback, char *host_out);

#endif
