/*
 * auditfmt.h - the line format of dom0's audit log (audit.h writes it,
 * logcheck.h verifies it, the viewer reads it).  Pure.
 *
 * A line is the text lib/logline.h builds, then
 *
 *     " seq=N seal=SEAL chain=CHAIN"
 *
 * and the newline: N counts the lines of the log from 1, across rotated
 * files; SEAL is seal.h's forward-secure seal of the line up to " seal="
 * and of line N-1's seal; CHAIN is the first AUDIT_CHAIN_HEX hex digits of
 * SHA-256(the previous line's CHAIN || the line up to " chain="), from
 * SEAL_ZERO at a file's first line.  A line written before the seal was
 * set up has no " seq= seal=" part.  A file that continues a rotated one
 * begins with AUDIT_CONT_TEXT (audit.h).
 */
#ifndef QVMR_AUDITFMT_H
#define QVMR_AUDITFMT_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define AUDIT_CHAIN_HEX 32
#define AUDIT_SEAL_HEX SEAL_HEX
/* The longest line audit_write() accepts, seal, chain and newline
 * included; longer lines are refused, and verify reports them as broken. */
#define AUDIT_LINE_MAX (32u << 10)

#define AUDIT_SEQ_TAG " seq="
#define AUDIT_SEQ_TAG_LEN (sizeof(AUDIT_SEQ_TAG) - 1)
#define AUDIT_SEAL_TAG " seal="
#define AUDIT_SEAL_TAG_LEN (sizeof(AUDIT_SEAL_TAG) - 1)
#define AUDIT_CHAIN_TAG " chain="
#define AUDIT_CHAIN_SUFFIX_LEN (sizeof(AUDIT_CHAIN_TAG) - 1 + AUDIT_CHAIN_HEX)
/* after "[TS] ", a continuing file's first line */
#define AUDIT_CONT_TEXT "INFO action=log-continue prev_seq="

struct audit_line {
	size_t content_len;                 /* before " chain=" */
	char chain[AUDIT_CHAIN_HEX + 1];
	int sealed;                         /* has " seq=N seal=HEX" */
	uint64_t seq;
	size_t body_len;                    /* before " seal=" */
	char seal[AUDIT_SEAL_HEX + 1];
	int cont;                           /* an action=log-continue line */
	uint64_t prev_seq;
	char prev_seal[AUDIT_SEAL_HEX + 1];
	char prev_chain[AUDIT_CHAIN_HEX + 1];
};

/* Splits line[0..n) (no newline).  QR_ERR_INVALID without a chain value
 * (a line no writer of this log wrote).  Pure. */
int audit_parse(const char *line, size_t n, struct audit_line *l);
/* hex(SHA-256(prev || p[0..n)))[0..AUDIT_CHAIN_HEX) into out. */
int audit_chain_next(const char prev[AUDIT_CHAIN_HEX + 1], const char *p,
		     size_t n, char out[AUDIT_CHAIN_HEX + 1]);

#endif
