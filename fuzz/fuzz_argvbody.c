/*
 * fuzz_argvbody.c - argvbody_decode() on arbitrary bodies of form=argv
 * requests from a VM, then a round trip through argvbody_encode.
 *
 * Beyond memory safety: decode and count agree (verdict and count); a
 * vector that decodes encodes back to exactly the input, its program not
 * empty and no argument holding a NUL; what fails leaves the result
 * empty; body_check in argv form passes only what decodes; and the quoted
 * form (argvbody_quote) never holds a control byte, whatever the input,
 * and a preview of it is a prefix of the whole.
 */
#include "argvbody.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bodyrule.h"
#include "bounds.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static void check_quote(const uint8_t *data, size_t size)
{
	struct buf all = BUF_INIT(SIZE_MAX), some = BUF_INIT(SIZE_MAX);
	size_t limit = size > 0 ? data[0] : 0;

	FUZZ_CHECK(argvbody_quote(&all, data, size, SIZE_MAX) == 0);
	for (size_t i = 0; i < all.len; i++)
		FUZZ_CHECK((uint8_t)all.data[i] >= 0x20 &&
			   (uint8_t)all.data[i] != 0x7f);
	FUZZ_CHECK(argvbody_quote(&some, data, size, limit) == 0);
	FUZZ_CHECK(some.len <= all.len);
	FUZZ_CHECK(some.len == 0 || memcmp(some.data, all.data, some.len) == 0);
	buf_release(&all);
	buf_release(&some);
}

/* What decode must overwrite on failure too. */
static char *sentinel[1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(BODY_MAX);
	struct body_verdict v;
	struct argvbody a = { sentinel, 99 };
	size_t argc = 0;
	int r, rc;

	r = argvbody_decode(data, size, &a);
	rc = argvbody_count(data, size, &argc);
	FUZZ_CHECK(r == rc || r == QR_ERR_NOMEM);
	if (body_check(data, size, BODY_ARGV, &v) == 0)
		FUZZ_CHECK(r == 0);
	check_quote(data, size);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INCOMPLETE || r == QR_ERR_INVALID ||
			   r == QR_ERR_TOO_LARGE || r == QR_ERR_NOMEM);
		FUZZ_CHECK(a.argv == NULL && a.argc == 0);
		return 0;
	}
	FUZZ_CHECK(a.argc == argc && a.argc >= 1 && a.argc <= ARGV_MAX);
	FUZZ_CHECK(a.argv[a.argc] == NULL && a.argv[0][0] != '\0');
	FUZZ_CHECK(argvbody_encode(&b, a.argc,
				   (const char *const *)a.argv) == 0);
	FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
	argvbody_release(&a);
	buf_release(&b);
	return 0;
}
