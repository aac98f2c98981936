/*
 * note.c - what the client makes of dom0's note on a request it holds.
 */
#include "note.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

#include "banned.h"

int note_parse(const char *untrusted, size_t n, struct note *out)
{
	struct result_meta m;
	const char *text;

	if (result_meta_parse(untrusted, n, &m) != 0 ||
	    (m.status != RESULT_ASKING && m.status != RESULT_APPROVED &&
	     m.status != RESULT_STARTED))
		return QR_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	out->status = m.status;
	out->timeout_s = m.timeout_s;
	out->waited_ms = m.queued_ms;
	/* the texts were checked by the parser: printable ASCII, bounded */
	text = m.status == RESULT_STARTED ? m.started
	       : m.reason[0] ? m.reason
	       : m.status == RESULT_ASKING ? "waiting for approval in dom0"
	       : "approved in dom0";
	snprintf(out->text, sizeof(out->text), "%s", text);
	return 0;
}

uint64_t note_deadline_ms(const struct note *nt, uint64_t explicit_ms,
			  uint64_t now_ms)
{
	uint64_t s = nt->timeout_s ? nt->timeout_s : NOTE_ASK_DEFAULT_S;

	if (explicit_ms)
		return explicit_ms;
	return now_ms + (s + NOTE_GRACE_S) * 1000u;
}
