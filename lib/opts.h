/*
 * opts.h - a request's options file (<cid>.opt).
 *
 * Text of "key=value\n" lines, at most OPT_MAX bytes.  Known keys:
 *   timeout=N   seconds, 1..TIMEOUT_MAX; dom0 caps it at its own limit
 * An unknown key, a repeated key, a bad value, a missing '=' or a byte
 * outside printable ASCII is QR_ERR_INVALID; *why then names the rule.
 * The last line may lack its '\n'; empty lines are not allowed.  More than
 * OPT_MAX bytes is QR_ERR_TOO_LARGE.  *out is only written on success.
 */
#ifndef QVMR_OPTS_H
#define QVMR_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct req_opts {
	unsigned timeout;   /* 0: not given */
};

/* Pure.  *why is a static string, set on failure. */
int opts_parse(const uint8_t *untrusted, size_t n, struct req_opts *out,
	       const char **why);
/* Appends the canonical text of o ("" when nothing is set). */
int opts_format(struct buf *out, const struct req_opts *o);

#endif
