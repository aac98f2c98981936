/*
 * fuzz_logcheck.c - the audit log's checks (lib/logcheck.h) on
 * arbitrary files: the keyless check, the keyed one and anchors.
 *
 * The input is split at its first NUL: before it, a log file; after it,
 * a VM's audit.log to take anchors from.  The log is checked line by line
 * with a fixed key from seq 1, as `audit verify --key --anchors` does.
 * Beyond memory safety: audit_parse() keeps its offsets inside the line
 * (body before content, content before the end); a break is reported with
 * a line number no greater than the lines read, and its reason; the count
 * of seals proven and not covered never exceeds the lines read.
 */
#include "logcheck.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auditfmt.h"
#include "err.h"
#include "fuzz.h"
#include "seal.h"

#include "banned.h"

/* Some 80 KiB: off the stack. */
static struct logcheck c;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nul = memchr(p, '\0', size);
	size_t n = nul != NULL ? (size_t)(nul - p) : size, off = 0;
	struct seal_key k = { .seq = 1 };
	int r = 0;

	memset(k.k, 0x5a, sizeof(k.k));
	logcheck_init(&c);
	logcheck_set_key(&c, &k);
	if (nul != NULL)
		FUZZ_CHECK(logcheck_add_anchors(&c, nul + 1, size - n - 1,
						"vm") == 0);
	logcheck_begin_file(&c, "log");
	while (off < n && r == 0) {
		const char *line = p + off, *nl = memchr(line, '\n', n - off);
		size_t len = nl != NULL ? (size_t)(nl - line) : n - off;
		struct audit_line l;

		if (audit_parse(line, len, &l) == 0) {
			FUZZ_CHECK(l.content_len + 7 + AUDIT_CHAIN_HEX == len);
			FUZZ_CHECK(!l.sealed || (l.body_len < l.content_len &&
						 l.seq >= 1));
			FUZZ_CHECK(!l.cont || l.sealed);
		}
		r = logcheck_line(&c, line, len);
		FUZZ_CHECK(r == 0 || r == QR_ERR_MISMATCH);
		off += len + 1;
	}
	if (r == 0)
		r = logcheck_finish(&c);
	FUZZ_CHECK(r == 0 || r == QR_ERR_MISMATCH);
	if (r == QR_ERR_MISMATCH)
		FUZZ_CHECK(c.bad_line >= 1 && c.bad_line <= c.lines_file + 1 &&
			   c.why[0] != '\0');
	FUZZ_CHECK(c.proven + c.uncovered + c.unsealed <= c.lines);
	logcheck_release(&c);
	return 0;
}
