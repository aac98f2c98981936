/*
 * fuzz_key.c - key_parse() on arbitrary key file contents.
 *
 * Beyond memory safety: a key parses exactly when the text is 64 hex
 * digits with at most one "\n" or "\r\n" after them, and the key is those
 * digits in lowercase (one case, one HMAC key), NUL-terminated.
 */
#include "key.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"

#include "banned.h"

static bool hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool well_formed(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == KEY_HEX_LEN + 1 && p[KEY_HEX_LEN] == '\n')
		n = KEY_HEX_LEN;
	else if (n == KEY_HEX_LEN + 2 && p[KEY_HEX_LEN] == '\r' &&
		 p[KEY_HEX_LEN + 1] == '\n')
		n = KEY_HEX_LEN;
	if (n != KEY_HEX_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!hex(p[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct key k;
	size_t i;
	char c;
	int r;

	r = key_parse((const char *)data, size, &k);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID);
	FUZZ_CHECK((r == 0) == well_formed(data, size));
	if (r == 0) {
		FUZZ_CHECK(k.hex[KEY_HEX_LEN] == '\0');
		for (i = 0; i < KEY_HEX_LEN; i++) {
			c = (char)data[i];
			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			FUZZ_CHECK(k.hex[i] == c);
		}
		key_wipe(&k);
	}
	return 0;
}
