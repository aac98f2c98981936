/*
 * agenthint.h - the level of qvm-remote-agent each VM last said it runs,
 * kept across restarts (STATE_DIR/agents/NAME, one decimal line).
 *
 * Without it a started daemon's first call into every VM is the sh
 * program, which only finds out whether the agent is there; with it the
 * first call is already the session (docs/performance.md: bursts).  A
 * hint only: it chooses the command dom0 asks qrexec to run, never what
 * dom0 believes of a reply, and a call that fails on it falls back to the
 * sh program (exchange.c).  Unreadable or malformed files read as 0.
 */
#ifndef QVMR_AGENTHINT_H
#define QVMR_AGENTHINT_H

/* The level stored for vm, 1..AGENT_LEVEL_MAX, or 0 (none). */
unsigned agenthint_load(const char *state_dir, const char *vm);

/* Stores level for vm (0 removes it); 0 or a negative qr_err.  Not
 * fsynced: a hint lost in a crash costs one call. */
int agenthint_save(const char *state_dir, const char *vm, unsigned level);

#endif
