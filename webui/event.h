/*
 * event.h - one log line as the page receives it.
 *
 * Lines go to the page as Server-Sent Events whose data is one JSON
 * object, and to browsers without JavaScript as HTML table rows.  Both
 * come from the line parsed with lib/logparse.h, and every byte of log
 * text passes through escape.h on the way.  Pure.
 */
#ifndef QVMR_WEBUI_EVENT_H
#define QVMR_WEBUI_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "logparse.h"

/*
 * Appends the event for line[0..n) (no newline), line number lineno of the
 * file (0: unknown), ring position seq of viewer instance:
 *
 *   id: INSTANCE-SEQ
 *   event: line
 *   data: {"seq":S,"n":N,"ok":true,"ts":"...","t":EPOCH,"cat":"EXEC",
 *          "vm":"work","cid":"...","ms":12,"msg":"vm=work id=... cmd=..."}
 *
 * "msg" is the line as written after its category, without the chain
 * value; "vm", "cid" and "ms" appear when the line has them.  A line
 * logparse refuses is sent with "ok":false, "cat":"" and msg holding the
 * whole line passed through log_escape().  scratch is work space.  On
 * failure out is as it was.
 */
int event_line(struct buf *out, uint64_t instance, uint64_t seq,
	       uint64_t lineno, const char *line, size_t n,
	       struct log_entry *scratch);

/* "id: INSTANCE-SEQ\nevent: mark\ndata: {"seq":S,"text":"..."}\n\n": a
 * notice in the log's flow, such as "the log was rotated". */
int event_mark(struct buf *out, uint64_t instance, uint64_t seq,
	       const char *text);

/* "event: NAME\ndata: JSON\n\n"; json must be one line of JSON. */
int event_named(struct buf *out, const char *name, const char *json);

/*
 * Appends line[0..n) as one HTML table row:
 *   <tr class="cat-EXEC"><td class="n">N</td><td class="ts">...</td>
 *   <td class="cat">EXEC</td><td class="vm">...</td><td class="msg">...</td></tr>
 * every text escaped with html_text().
 */
int event_html_row(struct buf *out, uint64_t lineno, const char *line,
		   size_t n, struct log_entry *scratch);

/* The part of a parsed line the page shows as its message: after the
 * category and its spaces, up to " chain=HEX" when the line ends in one. */
void event_msg_span(const char *line, size_t n, const struct log_entry *e,
		    size_t *start, size_t *len);

#endif
