/*
 * hex.c - bytes as lowercase hex digits.
 */
#include "hex.h"

#include "banned.h"

void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = HEX_DIGITS[p[i] >> 4];
		out[2 * i + 1] = HEX_DIGITS[p[i] & 0x0f];
	}
}

int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
