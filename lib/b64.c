/*
 * b64.c - base64 (RFC 4648) with padding.
 *
 * The decoder is strict: no whitespace, padding only at the end, and the
 * unused bits of the last group must be zero, so every text has one
 * decoding and one encoding.
 */
#include "b64.h"

#include <stdint.h>
#include <string.h>

#include "err.h"

#include "banned.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);

	if (groups > SIZE_MAX / 4)
		return SIZE_MAX;
	return groups * 4;
}

int b64_encode(struct buf *out, const void *p, size_t n, size_t wrap)
{
	const uint8_t *s = p;
	char chunk[1024];
	size_t orig = out->len, used = 0, col = 0, i, k;
	char quad[4];
	uint32_t v;
	int r = 0;

	if (s == NULL && n > 0)
		return QR_ERR_INVALID;
	if (b64_encoded_len(n) == SIZE_MAX)
		return QR_ERR_TOO_LARGE;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		quad[0] = b64_alphabet[(v >> 18) & 0x3f];
		quad[1] = b64_alphabet[(v >> 12) & 0x3f];
		quad[2] = i + 1 < n ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		quad[3] = i + 2 < n ? b64_alphabet[v & 0x3f] : '=';
		for (k = 0; k < 4; k++) {
			/* room for a char and a newline */
			if (used + 2 > sizeof(chunk)) {
				if ((r = buf_append(out, chunk, used)) != 0)
					goto out;
				used = 0;
			}
			chunk[used++] = quad[k];
			if (wrap > 0 && ++col == wrap) {
				chunk[used++] = '\n';
				col = 0;
			}
		}
	}
	r = buf_append(out, chunk, used);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}

static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int b64_decode(struct buf *out, const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	uint8_t chunk[768];
	size_t orig = out->len, used = 0, i, k, pad;
	int d[4], r = 0;
	uint32_t v;

	if (u == NULL && n > 0)
		return QR_ERR_INVALID;
	if (n % 4 != 0)
		return QR_ERR_INVALID;
	for (i = 0; i < n; i += 4) {
		pad = 0;
		if (i + 4 == n) {
			if (u[i + 3] == '=')
				pad = u[i + 2] == '=' ? 2 : 1;
		}
		for (k = 0; k < 4; k++) {
			if (k >= 4 - pad) {
				d[k] = 0;
				continue;
			}
			if ((d[k] = b64_value(u[i + k])) < 0) {
				r = QR_ERR_INVALID;
				goto out;
			}
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		/* bits the padding hides must be zero (canonical form) */
		if ((pad == 1 && (v & 0xff) != 0) ||
		    (pad == 2 && (v & 0xffff) != 0)) {
			r = QR_ERR_INVALID;
			goto out;
		}
		if (used + 3 > sizeof(chunk)) {
			if ((r = buf_append(out, chunk, used)) != 0)
				goto out;
			used = 0;
		}
		chunk[used++] = (uint8_t)(v >> 16);
		if (pad < 2)
			chunk[used++] = (uint8_t)(v >> 8);
		if (pad < 1)
			chunk[used++] = (uint8_t)v;
	}
	r = buf_append(out, chunk, used);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}
