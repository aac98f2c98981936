/*
 * body.h - the command body: built from argv or read from stdin, and
 * checked before anything is written.  All pure.
 *
 * Rules (the same dom0 applies, docs/protocol.md section 5): at most
 * BODY_MAX bytes, no NUL, no control byte other than tab, newline and
 * carriage return (DEL counts as a control byte), and not empty or blank.
 */
#ifndef QVMR_CLIENT_BODY_H
#define QVMR_CLIENT_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum body_problem {
	BODY_OK,
	BODY_EMPTY,      /* no bytes, or only spaces, tabs and line ends */
	BODY_TOO_LARGE,  /* more than BODY_MAX bytes */
	BODY_NUL,        /* a NUL byte at `offset` */
	BODY_CONTROL,    /* control byte `byte` at `offset` */
};

struct body_verdict {
	enum body_problem problem;
	size_t size;
	size_t offset;
	unsigned char byte;
};

/*
 * Appends argv[0..argc) joined with single spaces, then "\n", as ssh does.
 * QR_ERR_TOO_LARGE when that passes out->max (the buffer is then left as it
 * was).
 */
int body_join(struct buf *out, int argc, char *const argv[]);

/* 0 for a good body, else QR_ERR_INVALID with *v saying why. */
int body_check(const uint8_t *p, size_t n, struct body_verdict *v);

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
