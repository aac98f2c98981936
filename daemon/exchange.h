/*
 * exchange.h - each VM's exchange with dom0 as one state machine
 * (exchange.c has the diagram and the transition table; docs/protocol.md
 * section 3b says it in prose).
 *
 * The exchange owns every transport call into its VM: the live call of
 * its line (a fetch, or a session that fetches and delivers in turns), a
 * deliver call beside it when the line cannot carry the results, and the
 * calls that were acted on and are only winding down.  The loop (serve.c)
 * polls those calls, reaps them, and drives the machine through three
 * entry points: exchange_start (it wants work done), exchange_input (a
 * call's reply grew, or its transport ended) and exchange_time (time
 * passed).  One thread; nothing is locked.
 */
#ifndef QVMR_EXCHANGE_H
#define QVMR_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "frame.h"
#include "program.h"

struct daemon;
struct vm;

/* The line: what the live call is doing. */
enum x_state {
	X_IDLE,         /* no live call */
	X_FETCHING,     /* a fetch, or a session's turn, waits for its reply */
	X_CARRYING,     /* a session's fetch, woken: results go into it */
	X_COLLECTING,   /* a session's deliver is open for results */
	X_CLOSING,      /* a session's deliver was closed: its reply is due */
};

/* The deliver beside the line. */
enum x_deliver {
	XD_IDLE,        /* none */
	XD_DELIVERING,  /* a deliver call of its own waits for its end */
};

struct exchange {
	enum x_state state;
	struct call *call;              /* the live call: not X_IDLE */
	enum x_deliver dstate;
	struct call *dcall;             /* the deliver beside: XD_DELIVERING */
	struct call *winding;           /* acted on, their transports exiting
					 * (linked by call->next) */
	unsigned nwinding;
	/* the deliver in flight: the session's (X_CARRYING, X_COLLECTING,
	 * X_CLOSING) or the one beside, never both */
	struct deliver_item *sending;
	size_t nsending;
	uint64_t sending_bytes;         /* their output, bytes */
	struct deliver_src *source;     /* and the program it is streaming */
	/* the fetch of the live call: its claims' prefix, its wait, when it
	 * started, and whether its reply so far cannot be acted on before
	 * the call ends (it does not parse) */
	char prefix[CLAIM_MAX + 1];
	unsigned wait_s;
	int64_t started_ms;
	int early_bad;
	int quiet;                      /* a quiet turn: it may claim nothing */
	int turn_next;                  /* X_CLOSING: a next turn follows */
	int64_t collect_until;          /* X_COLLECTING: its window, */
	int64_t hold_until;             /* and how long commands that wait
					 * for a slot may hold it open */
	int64_t next_fetch_ms, next_deliver_ms;   /* not before */
	unsigned failures;              /* calls failed in a row: backoff */
	unsigned empty_waits;           /* watch fetches in a row that came
					 * back empty: the next waits longer */
	unsigned agent;                 /* its last fetch reply came from
					 * qvm-remote-agent of this level (frame.h):
					 * call it directly */
	int agent_hinted;               /* agent is agenthint.h's, from an
					 * earlier run: no reply said it yet */
	unsigned agent_stored;          /* the level agenthint.h holds */
	int fetched;                    /* a fetch ended or was acted on
					 * (--once: the one fetch is done) */
	/* claims delivered while a fetch was in flight: its held lines may
	 * still name them (it read running/ before the deliver removed the
	 * marker), and they are not to be recovered; a ring, so an overflow
	 * only costs a harmless second answer ("gone") */
	struct held_claim gone[FETCH_HELD_MAX];
	size_t ngone;
};

/*
 * The loop wants work done for v, which is up: adds results to an open
 * session deliver (and closes it when its time came), starts the fetch or
 * a session when one is wanted and due, sends ready results into a
 * session or starts a deliver call for them.
 */
void exchange_start(struct daemon *d, struct vm *v, int64_t now_ms);
/* v's calls did I/O or were reaped: acts on every reply that is whole
 * and on every live call that ended, until nothing changes. */
void exchange_input(struct daemon *d, struct vm *v, int64_t now_ms);
/* Time passed: the calls' deadlines, stopping (fetches end, at the stop
 * deadline every call but a deliver), a session's collect window. */
void exchange_time(struct daemon *d, struct vm *v, int64_t now_ms);
/* The earliest of w and the times exchange_start or exchange_time has
 * work for v (none for a VM that is not up). */
int64_t exchange_wake(const struct daemon *d, const struct vm *v, int64_t w);
/* Frees v's winding-down calls that have ended. */
void exchange_wound(struct vm *v, int64_t now_ms);
/* v was added: its first call is the agent's when an earlier run
 * stored the level its agent said (agenthint.h). */
void exchange_hint(struct vm *v, unsigned agent);
/* v's qrexec came up: whatever waited for time may start now. */
void exchange_vm_up(struct vm *v);
/* No call of v's is open, winding ones included. */
int exchange_idle(const struct vm *v);
/* Ends every call of v's and frees what the exchange holds. */
void exchange_release(struct vm *v);

/* Whether e (an outbox entry of v's) is in the deliver in flight. */
int exchange_sending(const struct vm *v, const struct deliver_item *e);
/* The command of result e finished while a live part of it is in the
 * deliver in flight: the part reads its output from e's entry now. */
void exchange_moved(struct vm *v, const struct deliver_item *e);
/* Crash recovery (jobs.c): whether the exchange still works on h, in the
 * deliver in flight or delivered while the fetch in flight was out; and,
 * once a fetch reply's held lines were resolved, the end of that memory. */
int exchange_holds(const struct vm *v, const struct held_claim *h);
void exchange_forget_gone(struct vm *v);
/* e reached the VM: it leaves v's ready results (ready_drop), remembered
 * as delivered while a fetch is in flight.  The outbox is the caller's. */
void exchange_delivered(struct vm *v, const struct deliver_item *e);

#endif
