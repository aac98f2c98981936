/*
 * auditlog.h - the VM's own audit trail, ~/.qvm-remote/audit.log.
 *
 * Lines follow lib/logline.h: "[ISO-8601 UTC] CATEGORY key=value ...".  The
 * client writes SUBMIT when it publishes a request, WITHDRAWN when it takes
 * one back, VANISHED when something else removed it unanswered, and DONE,
 * TIMEOUT, REJECTED, INTERRUPTED or ERROR (with id, exit and ms, the round
 * trip) when it collects a result.  dom0's deliver program
 * appends its own line for each result it delivers.
 */
#ifndef QVMR_CLIENT_AUDITLOG_H
#define QVMR_CLIENT_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "cid.h"
#include "paths.h"
#include "result.h"

#define AUDIT_CATEGORY_MAX 24

/* Appends one finished line (created 0600, O_APPEND, one write); on failure
 * prints a warning naming the file and returns the code. */
int audit_append(const struct vm_layout *p, const struct buf *line);

/* Appends "[now] CATEGORY id=CID" (audit_append). */
int audit_id_line(const struct vm_layout *p, const char *category,
		  const char *cid);

/* The category of a collected result: DONE, TIMEOUT, REJECTED, ... */
const char *audit_result_category(enum result_status s);

/* " CATEGORY id=CID exit=N [ms=N]" line for a collected result. */
int audit_result_line(struct buf *out, time_t now, enum result_status s,
		      const char *cid, int exit_code, int have_ms,
		      uint64_t ms);

struct audit_entry {
	time_t when;
	char category[AUDIT_CATEGORY_MAX + 1];
	char id[CID_MAX + 1];        /* "" when absent or not a cid */
	int have_ms, have_exit;
	uint64_t ms;
	int exit_code;
};

/* Parses one line (without its "\n").  Pure.  QR_ERR_INVALID when it does
 * not start with "[time] CATEGORY"; unknown or malformed fields are
 * skipped, since the line may come from another version. */
int audit_parse_line(const char *line, size_t n, struct audit_entry *e);

/* The file offset where the last `lines` lines of fd (a regular file)
 * start, reading backwards in fixed chunks. */
int audit_tail_offset(int fd, size_t lines, off_t *off);

#endif
