/*
 * reader.c - the bounded reader for untrusted bytes.
 *
 * Each getter checks before it moves: r->off changes only on success.
 */
#include "reader.h"

#include <string.h>

#include "err.h"

#include "banned.h"

void reader_init(struct reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t reader_remaining(const struct reader *r)
{
	return r->len - r->off;
}

int reader_get_line(struct reader *r, size_t max, const uint8_t **line,
		    size_t *n)
{
	size_t avail = reader_remaining(r), scan = avail;
	const uint8_t *start, *nl;

	if (avail == 0)
		return QR_ERR_INCOMPLETE;
	/* look at most one byte past max: that is where the '\n' may be */
	if (avail > max)
		scan = max + 1;
	start = r->p + r->off;
	nl = memchr(start, '\n', scan);
	if (nl == NULL)
		return avail > max ? QR_ERR_TOO_LARGE : QR_ERR_INCOMPLETE;
	*line = start;
	*n = (size_t)(nl - start);
	r->off += *n + 1;
	return 0;
}

int reader_get_bytes(struct reader *r, size_t n, const uint8_t **p)
{
	if (n > reader_remaining(r))
		return QR_ERR_INCOMPLETE;
	*p = r->p != NULL ? r->p + r->off : NULL;
	r->off += n;
	return 0;
}

int reader_expect_byte(struct reader *r, uint8_t c)
{
	if (reader_remaining(r) == 0)
		return QR_ERR_INCOMPLETE;
	if (r->p[r->off] != c)
		return QR_ERR_INVALID;
	r->off++;
	return 0;
}

int reader_expect_end(const struct reader *r)
{
	return reader_remaining(r) == 0 ? 0 : QR_ERR_TRAILING;
}

int parse_u64(const uint8_t *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || n == 0 || n > 20)
		return QR_ERR_INVALID;
	if (s[0] == '0' && n > 1)
		return QR_ERR_INVALID;
	/* grammar first, so "1x" is invalid whatever its magnitude */
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return QR_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (__builtin_mul_overflow(v, (uint64_t)10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return QR_ERR_TOO_LARGE;
	}
	if (v > max)
		return QR_ERR_TOO_LARGE;
	*out = v;
	return 0;
}
