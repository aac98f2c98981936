/*
 * hex.h - bytes as lowercase hex digits, the one encoder of the tree.
 * Pure.
 */
#ifndef QVMR_HEX_H
#define QVMR_HEX_H

#include <stddef.h>
#include <stdint.h>

#define HEX_DIGITS "0123456789abcdef"

/* Writes the 2n lowercase hex digits of p[0..n) to out; no NUL. */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* The value of one hex digit of either case, 0 to 15; -1 for anything
 * else.  (The seal and /proc/net/tcp readers take one case only, and
 * say so where they read.) */
int hex_value(char c);

#endif
