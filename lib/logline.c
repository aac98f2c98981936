/*
 * logline.c - audit log lines with VM-supplied values escaped.
 */
#include "logline.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "hex.h"

#include "banned.h"

/* Appends the escaped bytes, no truncation marker. */
static int escape_bytes(struct buf *out, const uint8_t *p, size_t n)
{
	char chunk[512];
	size_t used = 0, i;
	int r;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		/* the longest form, "\xHH", is four bytes */
		if (used + 4 > sizeof(chunk)) {
			if ((r = buf_append(out, chunk, used)) != 0)
				return r;
			used = 0;
		}
		switch (c) {
		case '\n':
			chunk[used++] = '\\';
			chunk[used++] = 'n';
			break;
		case '\r':
			chunk[used++] = '\\';
			chunk[used++] = 'r';
			break;
		case '\t':
			chunk[used++] = '\\';
			chunk[used++] = 't';
			break;
		case '"':
		case '\\':
			chunk[used++] = '\\';
			chunk[used++] = (char)c;
			break;
		default:
			if (c >= 0x20 && c <= 0x7e) {
				chunk[used++] = (char)c;
			} else {
				chunk[used++] = '\\';
				chunk[used++] = 'x';
				chunk[used++] = HEX_DIGITS[c >> 4];
				chunk[used++] = HEX_DIGITS[c & 0x0f];
			}
		}
	}
	return buf_append(out, chunk, used);
}

int log_escape(struct buf *out, const void *p, size_t n, size_t max)
{
	size_t orig = out->len, shown = n < max ? n : max;
	int r;

	if (p == NULL && n > 0)
		return QR_ERR_INVALID;
	if ((r = escape_bytes(out, p, shown)) != 0)
		goto out;
	if (n > max)
		r = buf_append(out, "...", 3);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}

void iso8601_utc(time_t t, char out[21])
{
	struct tm tm;
	int n = -1;

	if (gmtime_r(&t, &tm) != NULL && tm.tm_year >= -1900 &&
	    tm.tm_year <= 9999 - 1900)
		n = snprintf(out, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n != 20)
		memcpy(out, "0000-00-00T00:00:00Z", 21);
}

/* Categories and keys are chosen by our code, never by a VM; checking
 * them keeps a programming error from forging fields. */
static int word_ok(const char *s, int upper)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			continue;
		if (c == (upper ? '-' : '_'))
			continue;
		if (upper ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z'))
			continue;
		return 0;
	}
	return 1;
}

int logline_begin(struct buf *out, time_t when, const char *category)
{
	char ts[21];

	if (!word_ok(category, 1))
		return QR_ERR_INVALID;
	iso8601_utc(when, ts);
	return buf_printf(out, "[%s] %s", ts, category);
}

int logline_kv(struct buf *out, const char *key, const void *value, size_t n,
	       size_t max)
{
	size_t orig = out->len, shown = n < max ? n : max;
	int quote, r;

	if (!word_ok(key, 0) || (value == NULL && n > 0))
		return QR_ERR_INVALID;
	quote = n == 0 || memchr(value, ' ', shown) != NULL ||
		memchr(value, '=', shown) != NULL;
	if ((r = buf_printf(out, " %s=", key)) != 0)
		goto out;
	if (quote && (r = buf_append(out, "\"", 1)) != 0)
		goto out;
	if ((r = log_escape(out, value, n, max)) != 0)
		goto out;
	if (quote)
		r = buf_append(out, "\"", 1);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}

int logline_kvs(struct buf *out, const char *key, const char *value)
{
	size_t n;

	if (value == NULL)
		return QR_ERR_INVALID;
	n = strlen(value);
	return logline_kv(out, key, value, n, n);
}

int logline_kvu(struct buf *out, const char *key, uint64_t value)
{
	if (!word_ok(key, 0))
		return QR_ERR_INVALID;
	return buf_printf(out, " %s=%llu", key, (unsigned long long)value);
}

int logline_end(struct buf *out)
{
	return buf_append(out, "\n", 1);
}
