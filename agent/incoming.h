/*
 * incoming.h - the bytes of a deliver's stream that belong to one file.
 *
 * Reads exactly n bytes of `in`, the span of a file that starts at
 * offset `at`: the first `skip` (at most n) are dropped, the rest are
 * written to fd at their own offsets (at + their place in the span), when
 * fd >= 0 and *bad is false; so writing a span again writes the same
 * bytes to the same place.  A write
 * that fails sets *bad and the bytes are still read, so the stream stays
 * in step with its next line.  0, or QR_ERR_INCOMPLETE when the input
 * ends early.
 */
#ifndef QVMR_AGENT_INCOMING_H
#define QVMR_AGENT_INCOMING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int incoming_copy(FILE *in, int fd, uint64_t at, uint64_t skip, uint64_t n,
		  bool *bad);

#endif
