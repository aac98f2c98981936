/*
 * escape.c - JSON and HTML escaping of log text.
 */
#include "escape.h"

#include <string.h>

#include "err.h"
#include "hex.h"
#include "banned.h"

/* Flushes chunk[0..*used) to out when fewer than need bytes are left. */
static int
room(struct buf *out, char *chunk, size_t size, size_t *used, size_t need)
{
	int r;

	if (*used + need <= size)
		return 0;
	if ((r = buf_append(out, chunk, *used)) != 0)
		return r;
	*used = 0;
	return 0;
}

#define ESCAPED_MAX 6    /* the longest form of a byte: "\u00XX", "&quot;" */

/* Writes c's escaped form to dst, at most ESCAPED_MAX bytes; its length. */
typedef size_t (*byte_escape)(unsigned char c, char *dst);

/* p[0..n) escaped byte by byte, between two quote strings. */
static int
escape_into(struct buf *out, const char *p, size_t n, const char *quote,
	    byte_escape esc)
{
	char chunk[512];
	size_t q = strlen(quote), used = q, orig = out->len;
	int r;

	memcpy(chunk, quote, q);
	for (size_t i = 0; i < n; i++) {
		if ((r = room(out, chunk, sizeof(chunk), &used,
			      ESCAPED_MAX)) != 0)
			goto fail;
		used += esc((unsigned char)p[i], chunk + used);
	}
	if ((r = room(out, chunk, sizeof(chunk), &used, q)) != 0)
		goto fail;
	memcpy(chunk + used, quote, q);
	if ((r = buf_append(out, chunk, used + q)) != 0)
		goto fail;
	return 0;
fail:
	buf_truncate(out, orig);
	return r;
}

static size_t
json_byte(unsigned char c, char *dst)
{
	if (c == '"' || c == '\\') {
		dst[0] = '\\';
		dst[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' ||
	    c == '\'') {
		memcpy(dst, "\\u00", 4);
		dst[4] = HEX_DIGITS[c >> 4];
		dst[5] = HEX_DIGITS[c & 0xf];
		return 6;
	}
	dst[0] = (char)c;
	return 1;
}

int
json_str(struct buf *out, const char *p, size_t n)
{
	return escape_into(out, p, n, "\"", json_byte);
}

int
json_cstr(struct buf *out, const char *s)
{
	return json_str(out, s, strlen(s));
}

static size_t
html_byte(unsigned char c, char *dst)
{
	const char *ent = NULL;

	switch (c) {
	case '&': ent = "&amp;"; break;
	case '<': ent = "&lt;"; break;
	case '>': ent = "&gt;"; break;
	case '"': ent = "&quot;"; break;
	case '\'': ent = "&#39;"; break;
	default: break;
	}
	if (ent != NULL) {
		memcpy(dst, ent, strlen(ent));
		return strlen(ent);
	}
	if (c < 0x20 || c >= 0x7f) {
		dst[0] = '\\';
		dst[1] = 'x';
		dst[2] = HEX_DIGITS[c >> 4];
		dst[3] = HEX_DIGITS[c & 0xf];
		return 4;
	}
	dst[0] = (char)c;
	return 1;
}

int
html_text(struct buf *out, const char *p, size_t n)
{
	return escape_into(out, p, n, "", html_byte);
}

int
html_ctext(struct buf *out, const char *s)
{
	return html_text(out, s, strlen(s));
}
