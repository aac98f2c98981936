/*
 * call.h - one transport call in flight, driven by the event loop.
 *
 * A call owns its child and the three pipe ends.  It writes the prelude and
 * the program (from a fixed text or a deliver_src generator) as the pipe
 * accepts them, collects stdout into a reply bounded by reply_max (past it
 * the call is killed and counts as failed), discards stderr, and is killed
 * with its whole process group at its deadline.  It is done when the child
 * was reaped and stdout reached EOF.  A session (keep_open) keeps its input
 * open when it has nothing to send; its owner gives it more (a src, text)
 * and may empty its reply between turns.
 */
#ifndef QVMR_CALL_H
#define QVMR_CALL_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "program.h"
#include "transport.h"

struct call {
	struct call *next;         /* on a list of its owner's (exchange.h) */
	pid_t pid;
	int in, out, err;          /* -1 once closed */
	uint64_t serial;           /* their owner, to the loop (waitset.h) */
	struct buf pending;        /* program bytes not yet written */
	struct deliver_src *src;   /* more program to come, or NULL */
	struct buf reply;
	int64_t started_ms, deadline_ms;
	int reaped, status;        /* status: exit code, -1 if signalled */
	int failed;                /* overflow, deadline or write error */
	int keep_open;             /* a session: stdin stays open while there
				    * is nothing to send, until
				    * call_end_input() */
};

/*
 * Starts a call running `command` in the VM (transport.h; NULL for the
 * runner of sh programs), sending `program` after the transport's prelude,
 * then whatever src produces.  The call does not own src.
 */
int call_start(struct call *c, const struct transport *t, const char *vm,
	       const char *command, const struct buf *program,
	       struct deliver_src *src,
	       size_t reply_max, int64_t now_ms, int64_t deadline_ms);
/* Poll events wanted for fd, one of c's descriptors; 0 for none. */
short call_events(const struct call *c, int fd);
void call_io(struct call *c, int fd, short revents);
/* Writes what the input takes now, without waiting for the loop's next
 * wait to say it may: what a turn queued goes out in that turn. */
void call_flush(struct call *c);
/* Queues text to send after what is pending; QR_ERR_SYSTEM once the
 * input is closed. */
int call_send(struct call *c, const char *text);
/* Closes the input once everything queued (and src) has been sent. */
void call_end_input(struct call *c);
void call_reaped(struct call *c, int wait_status);
void call_tick(struct call *c, int64_t now_ms);
int call_done(const struct call *c);
/* Done, exit status 0, nothing failed. */
int call_ok(const struct call *c);
void call_release(struct call *c);
/* call_release() and free() a heap call, and clear the pointer. */
void call_free(struct call **c);

#endif
