/*
 * buf.c - growable byte buffer with a hard maximum.
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#include "banned.h"

#define BUF_FIRST_CAP 64

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void buf_truncate(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/*
 * Makes room for n more bytes plus the NUL.  The check against max comes
 * first, so a peer-chosen n can never reach realloc; on failure nothing
 * changes.
 */
static int buf_grow(struct buf *b, size_t n)
{
	size_t want, need, cap;
	char *p;

	if (__builtin_add_overflow(b->len, n, &want) || want > b->max)
		return QR_ERR_TOO_LARGE;
	if (__builtin_add_overflow(want, (size_t)1, &need))
		return QR_ERR_TOO_LARGE;
	if (b->data != NULL && need <= b->cap)
		return 0;

	cap = b->cap > 0 ? b->cap : BUF_FIRST_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	/* never hold more than max + 1; need <= max + 1 keeps this >= need */
	if (b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;

	p = realloc(b->data, cap);
	if (p == NULL)
		return QR_ERR_NOMEM;
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int r;

	if (p == NULL && n > 0)
		return QR_ERR_INVALID;
	if ((r = buf_grow(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	if (s == NULL)
		return QR_ERR_INVALID;
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return QR_ERR_INVALID;
	if ((r = buf_grow(b, (size_t)n)) != 0)
		return r;
	if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap) != n) {
		b->data[b->len] = '\0';
		return QR_ERR_INVALID;
	}
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	if (n == 0)
		return;
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}
