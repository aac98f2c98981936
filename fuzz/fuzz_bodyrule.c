/*
 * fuzz_bodyrule.c - body_check() on arbitrary command bodies from a VM,
 * in the form the first input byte picks (even: a script, odd: an
 * argument vector); the rest is the body.
 *
 * Checked against a plain reading of bodyrule.h: a script passes exactly
 * when it has no NUL, no control byte but tab, newline and carriage
 * return, no DEL, and something other than blanks; a vector when it has
 * no such control byte (NUL allowed), ends in a NUL, starts with a byte
 * that is not one and has at most ARGV_MAX NULs; a failure names the
 * first offending byte and where it is.
 */
#include "bodyrule.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "argvbody.h"
#include "bounds.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static bool blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool bad(uint8_t c, enum body_form form)
{
	if (c == 0)
		return form == BODY_SCRIPT;
	return (c < 0x20 && !blank(c)) || c == 0x7f;
}

/* What the shape of a vector whose bytes are fine must give. */
static enum body_problem argv_shape(const uint8_t *p, size_t n)
{
	size_t nuls = 0, i;

	if (n == 0)
		return BODY_EMPTY;
	if (p[n - 1] != 0)
		return BODY_ARGV_END;
	if (p[0] == 0)
		return BODY_ARGV_PROGRAM;
	for (i = 0; i < n; i++)
		nuls += p[i] == 0;
	return nuls > ARGV_MAX ? BODY_ARGV_COUNT : BODY_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum body_form form;
	struct body_verdict v;
	size_t i, first_bad;
	bool all_blank = true;
	enum body_problem want;
	int r;

	if (size == 0)
		return 0;
	form = (data[0] & 1) ? BODY_ARGV : BODY_SCRIPT;
	data++;
	size--;
	first_bad = size;
	for (i = 0; i < size; i++) {
		if (bad(data[i], form)) {
			first_bad = i;
			break;
		}
		if (!blank(data[i]))
			all_blank = false;
	}

	r = body_check(data, size, form, &v);
	FUZZ_CHECK(v.size == size);
	if (size > BODY_MAX) {
		FUZZ_CHECK(r == QR_ERR_INVALID && v.problem == BODY_TOO_LARGE);
	} else if (first_bad < size) {
		FUZZ_CHECK(r == QR_ERR_INVALID);
		FUZZ_CHECK(v.problem == (data[first_bad] == 0 ? BODY_NUL :
					 BODY_CONTROL));
		FUZZ_CHECK(v.offset == first_bad && v.byte == data[first_bad]);
	} else if (form == BODY_ARGV) {
		want = argv_shape(data, size);
		FUZZ_CHECK(v.problem == want);
		FUZZ_CHECK((r == 0) == (want == BODY_OK));
		FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID);
	} else if (all_blank) {
		FUZZ_CHECK(r == QR_ERR_INVALID && v.problem == BODY_EMPTY);
	} else {
		FUZZ_CHECK(r == 0 && v.problem == BODY_OK);
	}
	return 0;
}
