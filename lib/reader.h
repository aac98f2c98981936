/*
 * reader.h - the one bounded reader for untrusted bytes.
 *
 * A reader walks a byte range it does not own.  Every getter either returns
 * 0 and advances, or returns a negative qr_err and consumes nothing, so a
 * failed parse leaves the position where the bad item starts.  Parsers end
 * with reader_expect_end(), which turns leftover bytes into QR_ERR_TRAILING.
 */
#ifndef QVMR_READER_H
#define QVMR_READER_H

#include <stddef.h>
#include <stdint.h>

struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void reader_init(struct reader *r, const void *p, size_t len);
size_t reader_remaining(const struct reader *r);

/*
 * A line of at most `max` bytes before its '\n'.  On success *line points
 * into the input (not NUL-terminated) and *n is its length without the '\n'.
 * QR_ERR_TOO_LARGE when no '\n' comes within max bytes, QR_ERR_INCOMPLETE
 * when the input ends first.
 */
int reader_get_line(struct reader *r, size_t max, const uint8_t **line,
		    size_t *n);
/* Exactly n bytes; *p points into the input. */
int reader_get_bytes(struct reader *r, size_t n, const uint8_t **p);
/* One byte that must equal c: QR_ERR_INCOMPLETE at the end of input,
 * QR_ERR_INVALID for any other byte. */
int reader_expect_byte(struct reader *r, uint8_t c);
/* 0 when nothing is left, else QR_ERR_TRAILING. */
int reader_expect_end(const struct reader *r);

/*
 * Parses a decimal number of 1 to 20 digits, no sign, no leading zeros
 * (except "0" itself), not above max.  Pure; for fields already cut out.
 * QR_ERR_INVALID when s[0..n) is not such a number, QR_ERR_TOO_LARGE when
 * it is one but exceeds max (or 2^64 - 1).
 */
int parse_u64(const uint8_t *s, size_t n, uint64_t max, uint64_t *out);

#endif
