/*
 * fuzz_result_meta.c - result_meta_parse() on arbitrary .meta files.
 *
 * The client reads .meta from its own home, where anything in the VM may
 * have written it.  Beyond memory safety: a success needs status and exit,
 * gives values in range and a reason of printable ASCII (it reaches the
 * terminal), and result_meta_format() of the result parses back to the
 * same values.
 */
#include "result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static bool same_meta(const struct result_meta *a, const struct result_meta *b)
{
	return a->status == b->status && a->exit_code == b->exit_code &&
	       strcmp(a->reason, b->reason) == 0 &&
	       a->duration_ms == b->duration_ms &&
	       a->timeout_s == b->timeout_s &&
	       a->out_bytes == b->out_bytes && a->err_bytes == b->err_bytes &&
	       a->out_truncated == b->out_truncated &&
	       a->err_truncated == b->err_truncated &&
	       a->cancelled == b->cancelled;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(4096);
	struct result_meta m, back;
	size_t n, i;
	int r;

	r = result_meta_parse((const char *)data, size, &m);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID);
		return 0;
	}
	FUZZ_CHECK((unsigned)m.status <= RESULT_STARTED);
	FUZZ_CHECK(m.exit_code >= 0 && m.exit_code <= 255);
	FUZZ_CHECK(m.timeout_s <= TIMEOUT_MAX);
	FUZZ_CHECK(m.out_truncated == 0 || m.out_truncated == 1);
	FUZZ_CHECK(m.err_truncated == 0 || m.err_truncated == 1);
	FUZZ_CHECK(m.cancelled == 0 || m.cancelled == 1);
	n = strnlen(m.reason, sizeof(m.reason));
	FUZZ_CHECK(n <= REASON_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(m.reason[i] >= 0x20 && m.reason[i] <= 0x7e);

	FUZZ_CHECK(result_meta_format(&b, &m) == 0);
	r = result_meta_parse(b.data, b.len, &back);
	FUZZ_CHECK(r == 0 && same_meta(&m, &back));
	buf_release(&b);
	return 0;
}
