/*
 * cid.h - command ids, the names of requests in a VM's queue.
 *
 * Grammar (design.md section 3):
 *   cid  = DATE "-" TIME "-" PID "-" HEX     UTC; HEX is 8 to 32 of [0-9a-f]
 *   DATE = 8 digits YYYYMMDD, TIME = 6 digits HHMMSS, PID = 1 to 10 digits
 *   ping = "ping-" 1*20DIGIT "-" 1*10DIGIT  (the original client's ping ids)
 * and at most CID_MAX bytes.  A name is checked with cid_valid() before it is
 * used anywhere: in a path, a program sent to a VM, or a log line.
 */
#ifndef QVMR_CID_H
#define QVMR_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define CID_MAX 64
#define CID_HEX_NEW 32   /* hex digits in ids this code generates */
#define CID_SECOND_LEN 15   /* "YYYYMMDD-HHMMSS": the second a cid names */

/* True when s[0..n) is a cid or a ping id.  Pure. */
bool cid_valid(const char *s, size_t n);
bool cid_is_ping(const char *s, size_t n);

/*
 * Writes a new cid for time `now` and process `pid` into out (NUL-
 * terminated), with 128 bits from getrandom(2).  QR_ERR_SYSTEM on failure.
 */
int cid_generate(char out[CID_MAX + 1], time_t now, pid_t pid);

/*
 * The time a valid cid names, as seconds since the epoch (UTC).  For ping
 * ids, the nanosecond stamp divided down.  QR_ERR_INVALID for an impossible
 * date such as month 13.
 */
int cid_time(const char *s, size_t n, time_t *out);

#endif
