/*
 * timefmt.h - human-readable times for the indicator and the listings.  Pure.
 */
#ifndef QVMR_TIMEFMT_H
#define QVMR_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Whole seconds of an elapsed time: "0 s", "59 s", "1 min 05 s",
 * "2 h 03 min". */
void fmt_elapsed(char *out, size_t n, uint64_t ms);

/* A measured duration: "212 ms", "3.4 s", then as fmt_elapsed. */
void fmt_duration(char *out, size_t n, uint64_t ms);

/* How long ago: "just now", "12 s ago", "3 min ago", "2 h ago",
 * "4 days ago". */
void fmt_ago(char *out, size_t n, uint64_t seconds);

#endif
