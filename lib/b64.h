/*
 * b64.h - base64 (RFC 4648, with padding), as coreutils' base64 reads it.
 */
#ifndef QVMR_B64_H
#define QVMR_B64_H

#include <stddef.h>

#include "buf.h"

/* Encoded length of n bytes without line breaks. */
size_t b64_encoded_len(size_t n);
/* Appends the encoding of p[0..n), a '\n' after every `wrap` output
 * characters (0: no breaks). */
int b64_encode(struct buf *out, const void *p, size_t n, size_t wrap);
/* Decodes; whitespace is not allowed.  QR_ERR_INVALID on bad input. */
int b64_decode(struct buf *out, const char *s, size_t n);

#endif
