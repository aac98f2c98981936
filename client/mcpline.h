/*
 * mcpline.h - the messages of the mcp server's stdio transport: one JSON
 * text a line, cut out of stdin's bytes.  Pure: bytes in, lines out.
 *
 * A line longer than its maximum is never held whole: the first `max`
 * bytes are kept, the overflow is reported once as it happens, and the
 * rest of that line, up to its newline, is dropped as it arrives.  So the
 * memory of the reader is bounded by max, whatever stdin holds.
 */
#ifndef QVMR_CLIENT_MCPLINE_H
#define QVMR_CLIENT_MCPLINE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum mcp_line_ev {
	MCP_LINE_MORE,      /* all bytes taken, no line complete yet */
	MCP_LINE_READY,     /* l->line holds one line, without its newline */
	MCP_LINE_TOO_LONG,  /* the current line just passed max; dropped */
};

struct mcp_lines {
	struct buf line;    /* the line so far; max is the line's maximum */
	int skipping;       /* inside a line that passed the maximum */
	int ready;          /* line was handed out; emptied on the next call */
};

/* A reader for lines of at most max bytes (the newline not counted). */
void mcp_lines_init(struct mcp_lines *l, size_t max);
void mcp_lines_release(struct mcp_lines *l);

/*
 * Takes bytes of p[0..n) until an event: *used says how many (at most up
 * to and including one newline).  After MCP_LINE_READY the caller uses
 * l->line and then calls again with the rest; the line is emptied on that
 * next call.  0, or QR_ERR_NOMEM (then nothing was taken).
 */
int mcp_lines_feed(struct mcp_lines *l, const uint8_t *p, size_t n,
		   size_t *used, enum mcp_line_ev *ev);

/* At the end of input: MCP_LINE_READY when a last line without its
 * newline is held, else MCP_LINE_MORE (nothing left). */
enum mcp_line_ev mcp_lines_end(struct mcp_lines *l);

#endif
