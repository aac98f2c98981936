/*
 * b64.h - base64 (RFC 4648, with padding), as coreutils' base64 reads it.
 */
#ifndef QVMR_B64_H
#define QVMR_B64_H

#include <stddef.h>

#include "buf.h"

/* Encoded length of n bytes without line breaks; SIZE_MAX if that does
 * not fit a size_t. */
size_t b64_encoded_len(size_t n);
/* Appends the encoding of p[0..n), a '\n' after every `wrap` output
 * characters (0: no breaks); a last, shorter line gets no '\n'.  All or
 * nothing: on failure out is as it was. */
int b64_encode(struct buf *out, const void *p, size_t n, size_t wrap);
/* Decodes; whitespace is not allowed, nor nonzero bits under the padding
 * (only the canonical encoding is accepted).  QR_ERR_INVALID on bad input;
 * all or nothing like b64_encode. */
int b64_decode(struct buf *out, const char *s, size_t n);

#endif
