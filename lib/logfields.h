/*
 * logfields.h - a line in the audit log's grammar (logparse.h) that holds
 * a fixed set of fields: the files dom0 writes for its admin verbs
 * (askfile.h, jobsfile.h) are read through it, so each accepts only its
 * own keys, each at most once, the required ones all there.
 *
 * Pure, no allocation.
 */
#ifndef QVMR_LOGFIELDS_H
#define QVMR_LOGFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "logparse.h"

/*
 * Parses text[0..n) into *e as a line of category cat whose every field
 * is one of keys[0..count) (count at most 32), none twice, and all of
 * the first `required` there.  *seen (may be NULL) gets bit i for keys[i]
 * present.  0, or QR_ERR_INVALID.
 */
int logfields_parse(const char *text, size_t n, const char *cat,
		    const char *const *keys, size_t count, size_t required,
		    struct log_entry *e, unsigned *seen);

/* The index of key k in keys[0..count), or -1. */
int logfields_index(const char *const *keys, size_t count, const char *k);

/* Copies f's value, which must hold no NUL and fewer than size bytes,
 * NUL-terminated into dst.  0, or QR_ERR_INVALID. */
int logfields_copy(char *dst, size_t size, const struct log_field *f);

/* f's value as canonical decimal from min to max.  0, or QR_ERR_INVALID. */
int logfields_u64(const struct log_field *f, uint64_t min, uint64_t max,
		  uint64_t *out);

#endif
