/*
 * logline.h - audit log lines, on both sides.
 *
 *   "[2026-11-28T10:15:00Z] CATEGORY vm=NAME id=CID key=value ...\n"
 *
 * Values that came from a VM go through log_escape(): printable ASCII other
 * than '"' and '\' stays, everything else becomes \n \r \t \" \\ or \xHH, so
 * a value can never end a line, forge a field or carry an ANSI escape.
 * A value with a space, '=' or nothing in it is written in double quotes.
 */
#ifndef QVMR_LOGLINE_H
#define QVMR_LOGLINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/*
 * Appends the escaped form of p[0..n), at most max input bytes; when more
 * were given it appends "..." after them.
 */
int log_escape(struct buf *out, const void *p, size_t n, size_t max);

/* "[ISO-8601 UTC] CATEGORY" (vm= and id= follow via logline_kv). */
int logline_begin(struct buf *out, time_t when, const char *category);
/* " key=value", value escaped and quoted as described above. */
int logline_kv(struct buf *out, const char *key, const void *value, size_t n,
	       size_t max);
int logline_kvs(struct buf *out, const char *key, const char *value);
int logline_kvu(struct buf *out, const char *key, uint64_t value);
/* Ends the line with "\n". */
int logline_end(struct buf *out);

/* ISO-8601 UTC "YYYY-MM-DDTHH:MM:SSZ" of t; out has room for 21 bytes. */
void iso8601_utc(time_t t, char out[21]);

#endif
