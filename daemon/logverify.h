/*
 * logverify.h - the audit log's files checked from disk: logcheck.h's
 * line-by-line check fed from a file, and the check without a key.
 */
#ifndef QVMR_LOGVERIFY_H
#define QVMR_LOGVERIFY_H

#include "logcheck.h"

/* Every line of the file at path: 0, QR_ERR_MISMATCH, QR_ERR_NOT_FOUND,
 * QR_ERR_INVALID (not a regular file), QR_ERR_SYSTEM. */
int logcheck_file(struct logcheck *c, const char *path);

/*
 * The check without a key of one file: every chain value and the seal
 * sequence.  Returns 0 when all verify; otherwise writes the 1-based
 * number of the first broken line to *bad_line and returns
 * QR_ERR_MISMATCH.  *lines receives the number of lines read.
 */
int audit_verify(const char *path, unsigned long *lines,
		 unsigned long *bad_line);

#endif
