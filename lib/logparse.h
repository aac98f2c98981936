/*
 * logparse.h - reading one line of dom0's audit log back into fields.
 *
 *   "[2026-11-28T10:15:00Z] CATEGORY key=value key="quoted value" ...\n"
 *
 * The inverse of lib/logline.h: a timestamp in brackets, a category of
 * [A-Z0-9-] starting with a letter, then fields separated by one or more
 * spaces.  Keys are [A-Za-z0-9_.-].  A value is bare (printable ASCII
 * without space, '"' or '=') or double-quoted (printable ASCII, spaces and
 * '=' allowed); in both, backslash escapes \n \r \t \" \\ \xHH are
 * undone.  The chain value audit_write() adds is an ordinary field,
 * "chain".  Any byte outside printable ASCII, a bad escape, an unclosed
 * quote or trailing spaces make the line malformed.
 *
 * Pure: bytes in, struct out, no I/O and no allocation, so status, the
 * web viewer, the tests and a fuzzer call it directly.  A log may hold
 * lines another program wrote or someone edited; nothing here trusts it.
 */
#ifndef QVMR_LOGPARSE_H
#define QVMR_LOGPARSE_H

#include <assert.h>
#include <stddef.h>
#include <time.h>

#define LOGPARSE_LINE_MAX (32u << 10)   /* as AUDIT_LINE_MAX */
#define LOGPARSE_FIELDS_MAX 32u
#define LOGPARSE_CATEGORY_MAX 15u
#define LOGPARSE_KEY_MAX 31u
#define LOGPARSE_TS_LEN 20u             /* "YYYY-MM-DDTHH:MM:SSZ" */

struct log_field {
	const char *key;        /* NUL-terminated, into the entry's store */
	const char *value;      /* unescaped, NUL-terminated; may hold NULs */
	size_t value_len;
};

struct log_entry {
	time_t when;                            /* the timestamp, UTC */
	char ts[LOGPARSE_TS_LEN + 1];           /* as written */
	char category[LOGPARSE_CATEGORY_MAX + 1];
	size_t n;                               /* fields used */
	struct log_field field[LOGPARSE_FIELDS_MAX];
	/* keys and unescaped values; an unescaped value is never longer than
	 * its text, so the line plus two NULs a field always fits */
	char store[LOGPARSE_LINE_MAX + 2 * LOGPARSE_FIELDS_MAX];
};

static_assert(LOGPARSE_CATEGORY_MAX + 1 <= LOGPARSE_LINE_MAX,
	      "a category fits a line");

/*
 * Parses line[0..n), which may end in one '\n'.  0 on success; otherwise
 * QR_ERR_INVALID for a malformed line or QR_ERR_TOO_LARGE for one over
 * LOGPARSE_LINE_MAX bytes, more than LOGPARSE_FIELDS_MAX fields, or a
 * category or key over its maximum; *out is then unspecified.  The entry
 * does not point into line, which may be freed.
 */
int logparse_line(const char *line, size_t n, struct log_entry *out);

/* The first field named key, or NULL. */
const struct log_field *logparse_get(const struct log_entry *e,
				     const char *key);

/*
 * Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (exactly that form,
 * years 1970 to 9999, real calendar dates).  Pure.
 */
int logparse_time(const char *s, size_t n, time_t *out);

#endif
