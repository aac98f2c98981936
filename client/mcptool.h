/*
 * mcptool.h - the mcp server's tools against this VM's queue: the I/O
 * half of mcp.h.
 *
 * A call is published by submit_and_wait (run.h), so it is signed,
 * queued and judged by dom0's policy as `qvm-remote -x` is, and waits
 * with wait.h's until_ms: when the time is up the request stays queued
 * (nothing is withdrawn) and its history folder is left for the result
 * (archive_leave), which `result` then finds.  A result that arrives is
 * read (the first MCP_STREAM_MAX bytes of each stream) and archived into
 * history/ as the command line does.  Messages the client modules print
 * go to stderr and into the outcome's `why` (msg_capture).
 */
#ifndef QVMR_CLIENT_MCPTOOL_H
#define QVMR_CLIENT_MCPTOOL_H

#include "mcp.h"
#include "paths.h"

/* Fills be with the tools for the VM layout p, which must outlive it. */
void mcptool_backend(struct mcp_backend *be, const struct vm_layout *p);

#endif
