/*
 * body.h - the command body: built from argv or read from stdin, and
 * checked before anything is written.  All pure.
 *
 * The rule itself is lib/bodyrule.h, shared with dom0.
 */
#ifndef QVMR_CLIENT_BODY_H
#define QVMR_CLIENT_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "bodyrule.h"
#include "buf.h"

/*
 * Appends argv[0..argc) joined with single spaces, then "\n", as ssh does.
 * QR_ERR_TOO_LARGE when that passes out->max (the buffer is then left as it
 * was).
 */
int body_join(struct buf *out, int argc, char *const argv[]);

/* The message for a failed check, without the "qvm-remote: " prefix;
 * source is "" or a phrase with a leading space, e.g. " on stdin". */
void body_describe(const struct body_verdict *v, const char *source,
		   char *out, size_t n);

/*
 * Appends a one-line preview of the body for listings on a terminal:
 * leading blank lines skipped, the first line, at most max input bytes
 * ("..." when cut), with " ..." when more lines follow.  Printable ASCII and
 * UTF-8 text stay; tab becomes a space; control bytes, C1 controls and
 * broken UTF-8 become \xHH.
 */
int body_preview(struct buf *out, const uint8_t *p, size_t n, size_t max);

#endif
