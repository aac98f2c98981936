/*
 * buf.h - a growable byte buffer with a hard maximum.
 *
 * Every buffer has a `max`: appends that would pass it fail with
 * QR_ERR_TOO_LARGE and leave the buffer unchanged, so a peer can never make
 * us allocate more than the limit the caller chose.  `data` is always
 * NUL-terminated (one spare byte beyond `len`) once anything was appended,
 * so text can be used as a C string; binary data may contain NULs.
 */
#ifndef QVMR_BUF_H
#define QVMR_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;   /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;   /* bytes of content allowed, not counting the NUL */
};

#define BUF_INIT(maximum) { NULL, 0, 0, (maximum) }

void buf_init(struct buf *b, size_t max);
/* Frees the storage and leaves an empty buffer with the same max. */
void buf_release(struct buf *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Drops everything past the first len bytes (len <= b->len): undoes the
 * appends made since the length was len. */
void buf_truncate(struct buf *b, size_t len);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Returns the contents as a C string ("" for an empty buffer). */
const char *buf_str(const struct buf *b);

#endif
