/*
 * proctcp.c - the owner of a TCP socket from /proc/net/tcp{,6} text.
 */
#include "proctcp.h"

#include <netinet/in.h>
#include <string.h>

#include "err.h"
#include "banned.h"

/* A cursor over one line: every getter consumes nothing on failure. */
struct cur {
	const char *p;
	size_t n;
};

static int
hexval(char c)
{
	/* the kernel prints %X: upper case only, nothing else is repaired */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One or more spaces. */
static int
spaces(struct cur *c)
{
	size_t i = 0;

	while (i < c->n && c->p[i] == ' ')
		i++;
	if (i == 0)
		return QR_ERR_INVALID;
	c->p += i;
	c->n -= i;
	return 0;
}

static int
lit(struct cur *c, char ch)
{
	if (c->n == 0 || c->p[0] != ch)
		return QR_ERR_INVALID;
	c->p++;
	c->n--;
	return 0;
}

/* Exactly width (1..8) hex digits. */
static int
hex_fixed(struct cur *c, size_t width, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;
	int d;

	if (c->n < width)
		return QR_ERR_INVALID;
	for (i = 0; i < width; i++) {
		if ((d = hexval(c->p[i])) < 0)
			return QR_ERR_INVALID;
		v = v << 4 | (uint32_t)d;
	}
	/* and not a longer number */
	if (c->n > width && hexval(c->p[width]) >= 0)
		return QR_ERR_INVALID;
	c->p += width;
	c->n -= width;
	*out = v;
	return 0;
}

/* 1..max hex digits whose value is not needed. */
static int
hex_run(struct cur *c, size_t max)
{
	size_t i = 0;

	while (i < c->n && hexval(c->p[i]) >= 0)
		i++;
	if (i == 0 || i > max)
		return QR_ERR_INVALID;
	c->p += i;
	c->n -= i;
	return 0;
}

/* 1..20 decimal digits, at most max, no sign. */
static int
dec(struct cur *c, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9') {
		if (i == 20 || __builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c->p[i] - '0'), &v))
			return QR_ERR_INVALID;
		i++;
	}
	if (i == 0 || v > max)
		return QR_ERR_INVALID;
	c->p += i;
	c->n -= i;
	*out = v;
	return 0;
}

/* "%d" of a value not needed: an optional '-' and 1..10 digits. */
static int
dec_signed_skip(struct cur *c)
{
	struct cur t = *c;
	uint64_t v;
	int r;

	if (t.n > 0 && t.p[0] == '-') {
		t.p++;
		t.n--;
	}
	if ((r = dec(&t, UINT32_MAX, &v)) != 0)
		return r;
	*c = t;
	return 0;
}

/* ADDR:PORT, ADDR being 8 or 32 hex digits. */
static int
endpoint(struct cur *c, int v6, struct tcp_endpoint *ep)
{
	struct cur t = *c;
	struct tcp_endpoint e;
	uint32_t w, port;
	int i, r;

	memset(&e, 0, sizeof(e));
	if (v6) {
		for (i = 0; i < 4; i++) {
			/* four words back to back: each exactly 8 digits */
			struct cur one = { t.p, t.n < 8 ? t.n : 8 };

			if ((r = hex_fixed(&one, 8, &w)) != 0)
				return r;
			memcpy(e.addr + 4 * i, &w, sizeof(w));
			t.p += 8;
			t.n -= 8;
		}
	} else {
		if ((r = hex_fixed(&t, 8, &w)) != 0)
			return r;
		e.addr[10] = 0xff;
		e.addr[11] = 0xff;
		memcpy(e.addr + 12, &w, sizeof(w));
	}
	if ((r = lit(&t, ':')) != 0 || (r = hex_fixed(&t, 4, &port)) != 0)
		return r;
	e.port = (uint16_t)port;
	*ep = e;
	*c = t;
	return 0;
}

int
proctcp_parse_line(const char *untrusted_line, size_t len, int v6,
		   struct proctcp_entry *e)
{
	struct cur c = { untrusted_line, len };
	struct proctcp_entry out;
	uint64_t sl, uid, inode;
	uint32_t st;
	size_t i;

	if (len > PROCTCP_LINE_MAX)
		return QR_ERR_INVALID;
	memset(&out, 0, sizeof(out));
	/* "%4d: " */
	while (c.n > 0 && c.p[0] == ' ') {
		c.p++;
		c.n--;
	}
	if (dec(&c, UINT32_MAX, &sl) != 0 || lit(&c, ':') != 0 ||
	    spaces(&c) != 0 ||
	    endpoint(&c, v6, &out.local) != 0 || spaces(&c) != 0 ||
	    endpoint(&c, v6, &out.remote) != 0 || spaces(&c) != 0 ||
	    hex_fixed(&c, 2, &st) != 0 || spaces(&c) != 0 ||
	    /* tx_queue:rx_queue tr:tm->when retrnsmt */
	    hex_run(&c, 8) != 0 || lit(&c, ':') != 0 || hex_run(&c, 8) != 0 ||
	    spaces(&c) != 0 ||
	    hex_run(&c, 2) != 0 || lit(&c, ':') != 0 || hex_run(&c, 16) != 0 ||
	    spaces(&c) != 0 || hex_run(&c, 8) != 0 || spaces(&c) != 0 ||
	    dec(&c, UINT32_MAX, &uid) != 0 || spaces(&c) != 0 ||
	    dec_signed_skip(&c) != 0 || spaces(&c) != 0 ||
	    dec(&c, UINT64_MAX, &inode) != 0)
		return QR_ERR_INVALID;
	/* what the kernel adds after the inode: printable, after a space */
	if (c.n > 0 && c.p[0] != ' ')
		return QR_ERR_INVALID;
	for (i = 0; i < c.n; i++)
		if (c.p[i] < 0x20 || c.p[i] > 0x7e)
			return QR_ERR_INVALID;
	out.state = st;
	out.uid = (uint32_t)uid;
	out.inode = inode;
	*e = out;
	return 0;
}

static int
same_endpoint(const struct tcp_endpoint *a, const struct tcp_endpoint *b)
{
	return a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

int
proctcp_owner(const char *untrusted_text, size_t len, int v6,
	      const struct tcp_endpoint *peer,
	      const struct tcp_endpoint *self, uint32_t *uid, size_t *used)
{
	struct proctcp_entry e;
	size_t off = 0;

	*used = 0;
	while (off < len) {
		const char *nl = memchr(untrusted_text + off, '\n', len - off);
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (untrusted_text + off));
		if (proctcp_parse_line(untrusted_text + off, n, v6, &e) == 0 &&
		    e.state != PROCTCP_TIME_WAIT &&
		    e.state != PROCTCP_NEW_SYN_RECV && e.inode != 0 &&
		    same_endpoint(&e.local, peer) &&
		    same_endpoint(&e.remote, self)) {
			*uid = e.uid;
			*used = off + n + 1;
			return 0;
		}
		off += n + 1;
		*used = off;
	}
	return QR_ERR_NOT_FOUND;
}

int
tcp_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			   struct tcp_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET &&
	    (size_t)len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		ep->addr[10] = 0xff;
		ep->addr[11] = 0xff;
		memcpy(ep->addr + 12, &s4->sin_addr, 4);
		ep->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 &&
	    (size_t)len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		memcpy(ep->addr, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
		return 0;
	}
	return QR_ERR_INVALID;
}

int
tcp_endpoint_is_v4(const struct tcp_endpoint *ep)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(ep->addr, mapped, sizeof(mapped)) == 0;
}
