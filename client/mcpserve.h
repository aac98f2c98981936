/*
 * mcpserve.h - `qvm-remote mcp`: the MCP server on stdin and stdout.
 *
 * One JSON-RPC message a line on stdin (at most MCP_LINE_MAX bytes; a
 * longer one gets an error reply and is skipped to its newline without
 * being held), one reply a line on stdout, messages only on stderr.
 * Requests are handled one after another, in order.
 */
#ifndef QVMR_CLIENT_MCPSERVE_H
#define QVMR_CLIENT_MCPSERVE_H

#include "paths.h"

/* Serves until the end of stdin (0), a signal (130) or a failed read or
 * write (125); returns the exit code. */
int mcp_serve(const struct vm_layout *p);

#endif
