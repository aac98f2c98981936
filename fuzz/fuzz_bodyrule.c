/*
 * fuzz_bodyrule.c - body_check() on arbitrary command bodies from a VM.
 *
 * Checked against a plain reading of bodyrule.h: a body passes exactly
 * when it has no NUL, no control byte but tab, newline and carriage
 * return, no DEL, and something other than blanks; a failure names the
 * first offending byte and where it is.
 */
#include "bodyrule.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static bool blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool bad(uint8_t c)
{
	return (c < 0x20 && !blank(c)) || c == 0x7f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_verdict v;
	size_t i, first_bad = size;
	bool all_blank = true;
	int r;

	for (i = 0; i < size; i++) {
		if (bad(data[i])) {
			first_bad = i;
			break;
		}
		if (!blank(data[i]))
			all_blank = false;
	}

	r = body_check(data, size, &v);
	FUZZ_CHECK(v.size == size);
	if (size > BODY_MAX) {
		FUZZ_CHECK(r == QR_ERR_INVALID && v.problem == BODY_TOO_LARGE);
	} else if (first_bad < size) {
		FUZZ_CHECK(r == QR_ERR_INVALID);
		FUZZ_CHECK(v.problem == (data[first_bad] == 0 ? BODY_NUL :
					 BODY_CONTROL));
		FUZZ_CHECK(v.offset == first_bad && v.byte == data[first_bad]);
	} else if (all_blank) {
		FUZZ_CHECK(r == QR_ERR_INVALID && v.problem == BODY_EMPTY);
	} else {
		FUZZ_CHECK(r == 0 && v.problem == BODY_OK);
	}
	return 0;
}
