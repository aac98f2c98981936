/*
 * json.h - the pieces of JSON that --json needs.  Pure.
 *
 * Output streams are checked for UTF-8 in a first pass (utf8_*, fed in
 * chunks of any size) and then written either as a JSON string or as base64.
 */
#ifndef QVMR_CLIENT_JSON_H
#define QVMR_CLIENT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Strict UTF-8 (RFC 3629): no overlong forms, surrogates or values above
 * U+10FFFF. */
struct utf8_state {
	unsigned need;     /* continuation bytes still expected */
	uint8_t lo, hi;    /* bounds of the next continuation byte */
	int bad;
};

void utf8_init(struct utf8_state *u);
/* The length (1 to 4) of the well-formed UTF-8 character at p[0..n), or
 * 0 when p does not start with one. */
size_t utf8_char_len(const uint8_t *p, size_t n);
void utf8_feed(struct utf8_state *u, const uint8_t *p, size_t n);
/* True when everything fed so far is valid and no sequence is cut. */
int utf8_valid(const struct utf8_state *u);

/*
 * Appends p[0..n) escaped for the inside of a JSON string: '"', '\', and
 * control bytes (including DEL) escaped; other bytes as they are, so the
 * input must be valid UTF-8 for the result to be valid JSON.  Chunks may be
 * escaped one after another.
 */
int json_escape(struct buf *out, const void *p, size_t n);

/* Appends "s" as a quoted, escaped JSON string (not jansson's
 * json_string, which the mcp server uses beside it). */
int json_quote(struct buf *out, const char *s);

#endif
