/*
 * mcpline.c - cutting stdin's bytes into bounded lines.
 */
#include "mcpline.h"

#include <string.h>

#include "err.h"

#include "banned.h"

void mcp_lines_init(struct mcp_lines *l, size_t max)
{
	buf_init(&l->line, max);
	l->skipping = 0;
	l->ready = 0;
}

void mcp_lines_release(struct mcp_lines *l)
{
	buf_release(&l->line);
	l->skipping = 0;
	l->ready = 0;
}

int mcp_lines_feed(struct mcp_lines *l, const uint8_t *p, size_t n,
		   size_t *used, enum mcp_line_ev *ev)
{
	const uint8_t *nl = n ? memchr(p, '\n', n) : NULL;
	size_t take = nl ? (size_t)(nl - p) : n, room;
	int r;

	*used = 0;
	*ev = MCP_LINE_MORE;
	if (l->ready) {
		buf_reset(&l->line);
		l->ready = 0;
	}
	if (l->skipping) {
		*used = nl ? take + 1 : n;
		l->skipping = nl == NULL;
		return 0;
	}
	room = l->line.max - l->line.len;
	if (take > room) {
		/* Reported now, before the rest of the line arrives. */
		buf_reset(&l->line);
		l->skipping = 1;
		*used = room;
		*ev = MCP_LINE_TOO_LONG;
		return 0;
	}
	if ((r = buf_append(&l->line, p, take)) != 0)
		return r;
	*used = take;
	if (nl) {
		*used = take + 1;
		l->ready = 1;
		*ev = MCP_LINE_READY;
	}
	return 0;
}

enum mcp_line_ev mcp_lines_end(struct mcp_lines *l)
{
	if (l->ready) {
		buf_reset(&l->line);
		l->ready = 0;
	}
	if (l->skipping || l->line.len == 0)
		return MCP_LINE_MORE;
	l->ready = 1;
	return MCP_LINE_READY;
}
