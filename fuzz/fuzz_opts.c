/*
 * fuzz_opts.c - opts_parse() on arbitrary <cid>.opt files from a VM.
 *
 * Beyond memory safety: a failure names its rule and leaves *out alone; a
 * success gives a timeout in range, a known form and a valid user or none,
 * and its canonical text (opts_format) parses back to the same options.
 */
#include "opts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

/* A value opts_parse never writes, to see that a failure writes nothing. */
#define UNTOUCHED 0xa5a5a5a5u
#define UNTOUCHED_USER "Untouched"

static bool same(const struct req_opts *a, const struct req_opts *b)
{
	return a->timeout == b->timeout && a->form == b->form &&
	       strcmp(a->user, b->user) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(OPT_MAX);
	struct req_opts o = { .timeout = UNTOUCHED, .user = UNTOUCHED_USER };
	struct req_opts again = o;
	const char *why = NULL;
	int r;

	r = opts_parse(data, size, &o, &why);
	/* the same verdict without a *why to fill in */
	FUZZ_CHECK(opts_parse(data, size, &again, NULL) == r);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE);
		FUZZ_CHECK(r != QR_ERR_TOO_LARGE || size > OPT_MAX);
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		FUZZ_CHECK(o.timeout == UNTOUCHED && again.timeout == UNTOUCHED);
		FUZZ_CHECK(strcmp(o.user, UNTOUCHED_USER) == 0 &&
			   strcmp(again.user, UNTOUCHED_USER) == 0);
		return 0;
	}
	FUZZ_CHECK(size <= OPT_MAX);
	FUZZ_CHECK(o.timeout <= TIMEOUT_MAX && same(&again, &o));
	FUZZ_CHECK(o.form == BODY_SCRIPT || o.form == BODY_ARGV);
	FUZZ_CHECK(o.user[0] == '\0' || policy_user_valid(o.user));

	FUZZ_CHECK(opts_format(&b, &o) == 0);
	again.timeout = UNTOUCHED;
	FUZZ_CHECK(opts_parse((const uint8_t *)b.data, b.len, &again,
			      NULL) == 0);
	FUZZ_CHECK(same(&again, &o));
	buf_release(&b);
	return 0;
}
