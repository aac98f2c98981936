/*
 * json.c - the pieces of JSON that --json needs.
 */
#include "json.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

#include "banned.h"

void utf8_init(struct utf8_state *u)
{
	memset(u, 0, sizeof(*u));
}

/* Table 3-7 of the Unicode standard: well-formed byte sequences. */
static void lead(struct utf8_state *u, uint8_t c)
{
	u->lo = 0x80;
	u->hi = 0xbf;
	if (c < 0x80) {
		u->need = 0;
	} else if (c >= 0xc2 && c <= 0xdf) {
		u->need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		u->need = 2;
		if (c == 0xe0)
			u->lo = 0xa0;        /* no overlong forms */
		else if (c == 0xed)
			u->hi = 0x9f;        /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		u->need = 3;
		if (c == 0xf0)
			u->lo = 0x90;
		else if (c == 0xf4)
			u->hi = 0x8f;        /* nothing above U+10FFFF */
	} else {
		u->bad = 1;
	}
}

void utf8_feed(struct utf8_state *u, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !u->bad; i++) {
		uint8_t c = p[i];

		if (u->need == 0) {
			lead(u, c);
			continue;
		}
		if (c < u->lo || c > u->hi) {
			u->bad = 1;
			break;
		}
		u->lo = 0x80;
		u->hi = 0xbf;
		u->need--;
	}
}

size_t utf8_char_len(const uint8_t *p, size_t n)
{
	struct utf8_state u;
	size_t i;

	if (n == 0)
		return 0;
	utf8_init(&u);
	for (i = 0; i < n && i < 4; i++) {
		utf8_feed(&u, p + i, 1);
		if (u.bad)
			return 0;
		if (u.need == 0)
			return i + 1;
	}
	return 0;
}

int utf8_valid(const struct utf8_state *u)
{
	return !u->bad && u->need == 0;
}

int json_escape(struct buf *out, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i, run = 0;
	char esc[8];
	int r;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		/* Plain bytes go out in runs, not one append each. */
		if ((r = buf_append(out, s + run, i - run)) != 0 ||
		    (r = buf_append_str(out, e)) != 0)
			return r;
		run = i + 1;
	}
	return buf_append(out, s + run, n - run);
}

int json_quote(struct buf *out, const char *s)
{
	int r;

	if ((r = buf_append(out, "\"", 1)) != 0 ||
	    (r = json_escape(out, s, strlen(s))) != 0)
		return r;
	return buf_append(out, "\"", 1);
}
