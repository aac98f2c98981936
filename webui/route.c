/*
 * route.c - request paths, Host headers, event ids, bind addresses.
 */
#include "route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "banned.h"

enum route
route_find(const char *path)
{
	static const struct {
		const char *path;
		enum route route;
	} table[] = {
		{ "/", ROUTE_ASSET },
		{ "/app.js", ROUTE_ASSET },
		{ "/app.css", ROUTE_ASSET },
		{ "/events", ROUTE_EVENTS },
		{ "/api/summary", ROUTE_SUMMARY },
		{ "/api/chain", ROUTE_CHAIN },
		{ "/plain", ROUTE_PLAIN },
	};
	size_t i;

	if (path == NULL)
		return ROUTE_NONE;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(path, table[i].path) == 0)
			return table[i].route;
	return ROUTE_NONE;
}

/* Reads a port of 1..65535 written without sign or leading zero. */
static int
port_parse(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || s[0] == '0')
		return QR_ERR_INVALID;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return QR_ERR_INVALID;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return QR_ERR_INVALID;
	*out = v;
	return 0;
}

int
host_allowed(const char *host, unsigned port, const char *bind_literal)
{
	static const char *const names[] = {
		"localhost", "127.0.0.1", "[::1]",
	};
	const char *colon;
	size_t name_len, i;
	unsigned got;

	if (host == NULL)
		return 0;
	/* the port follows the last ':' unless that is inside [v6] */
	colon = strrchr(host, ':');
	if (colon != NULL && host[0] == '[' && strchr(colon, ']') != NULL)
		colon = NULL;
	if (colon != NULL) {
		if (port_parse(colon + 1, &got) != 0 || got != port)
			return 0;
		name_len = (size_t)(colon - host);
	} else {
		if (port != 80)
			return 0;
		name_len = strlen(host);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == name_len &&
		    strncasecmp(host, names[i], name_len) == 0)
			return 1;
	if (bind_literal != NULL && bind_literal[0] != '\0' &&
	    strlen(bind_literal) == name_len &&
	    strncasecmp(host, bind_literal, name_len) == 0)
		return 1;
	return 0;
}

/* Digits of base 10 or 16 (lowercase), 1..max_digits of them, to *out. */
static int
number(const char *s, size_t n, unsigned base, size_t max_digits,
       uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > max_digits)
		return QR_ERR_INVALID;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else
			return QR_ERR_INVALID;
		if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return QR_ERR_INVALID;
	}
	*out = v;
	return 0;
}

int
last_id_parse(const char *s, uint64_t *instance, uint64_t *seq)
{
	const char *dash;
	uint64_t a, b;

	if (s == NULL || (dash = strchr(s, '-')) == NULL)
		return QR_ERR_INVALID;
	if (number(s, (size_t)(dash - s), 16, 16, &a) != 0 ||
	    number(dash + 1, strlen(dash + 1), 10, 20, &b) != 0)
		return QR_ERR_INVALID;
	*instance = a;
	*seq = b;
	return 0;
}

int
count_parse(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (s == NULL || (s[0] == '0' && s[1] != '\0'))
		return QR_ERR_INVALID;
	if (number(s, strlen(s), 10, 10, &v) != 0 || v < min || v > max)
		return QR_ERR_INVALID;
	*out = (unsigned)v;
	return 0;
}

int
bind_parse(const char *s, unsigned port, struct sockaddr_storage *sa,
	   socklen_t *len, int *loopback, char *host_out)
{
	char tmp[HOST_LITERAL_MAX];
	size_t n;

	if (s == NULL || port == 0 || port > 65535)
		return QR_ERR_INVALID;
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return QR_ERR_INVALID;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (strchr(tmp, ':') == NULL) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, tmp, &in4->sin_addr) != 1)
			return QR_ERR_INVALID;
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		/* the canonical form, which is what a browser sends */
		if (inet_ntop(AF_INET, &in4->sin_addr, host_out,
			      HOST_LITERAL_MAX) == NULL)
			return QR_ERR_INVALID;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		char canon[INET6_ADDRSTRLEN];

		if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) != 1)
			return QR_ERR_INVALID;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		if (inet_ntop(AF_INET6, &in6->sin6_addr, canon,
			      sizeof(canon)) == NULL)
			return QR_ERR_INVALID;
		if ((size_t)snprintf(host_out, HOST_LITERAL_MAX, "[%s]", canon)
		    >= HOST_LITERAL_MAX)
			return QR_ERR_INVALID;
	}
	return 0;
}
