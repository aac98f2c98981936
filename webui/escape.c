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

static void
rollback(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
}

int
json_str(struct buf *out, const char *p, size_t n)
{
	char chunk[512];
	size_t used = 0, orig = out->len, i;
	int r;

	chunk[used++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		/* the longest form, "\u00XX", is six bytes */
		if ((r = room(out, chunk, sizeof(chunk), &used, 6)) != 0)
			goto fail;
		if (c == '"' || c == '\\') {
			chunk[used++] = '\\';
			chunk[used++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' ||
			   c == '&' || c == '\'') {
			memcpy(chunk + used, "\\u00", 4);
			chunk[used + 4] = HEX_DIGITS[c >> 4];
			chunk[used + 5] = HEX_DIGITS[c & 0xf];
			used += 6;
		} else {
			chunk[used++] = (char)c;
		}
	}
	if ((r = room(out, chunk, sizeof(chunk), &used, 1)) != 0)
		goto fail;
	chunk[used++] = '"';
	if ((r = buf_append(out, chunk, used)) != 0)
		goto fail;
	return 0;
fail:
	rollback(out, orig);
	return r;
}

int
json_cstr(struct buf *out, const char *s)
{
	return json_str(out, s, strlen(s));
}

int
html_text(struct buf *out, const char *p, size_t n)
{
	char chunk[512];
	size_t used = 0, orig = out->len, i;
	int r;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		const char *ent = NULL;

		/* the longest form, "&quot;", is six bytes */
		if ((r = room(out, chunk, sizeof(chunk), &used, 6)) != 0)
			goto fail;
		switch (c) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: break;
		}
		if (ent != NULL) {
			memcpy(chunk + used, ent, strlen(ent));
			used += strlen(ent);
		} else if (c < 0x20 || c >= 0x7f) {
			chunk[used++] = '\\';
			chunk[used++] = 'x';
			chunk[used++] = HEX_DIGITS[c >> 4];
			chunk[used++] = HEX_DIGITS[c & 0xf];
		} else {
			chunk[used++] = (char)c;
		}
	}
	if ((r = buf_append(out, chunk, used)) != 0)
		goto fail;
	return 0;
fail:
	rollback(out, orig);
	return r;
}

int
html_ctext(struct buf *out, const char *s)
{
	return html_text(out, s, strlen(s));
}
