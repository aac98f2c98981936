/*
 * program.h - the sh programs dom0 sends into a VM (docs/protocol.md s. 4, 6).
 *
 * Both are POSIX sh that dash and bash run alike, using only coreutils.
 * They are built from constant text plus values dom0 has validated: cids
 * and claims (grammar-checked), numbers, and base64.  No VM-supplied byte
 * is ever placed in a program unvalidated.
 */
#ifndef QVMR_PROGRAM_H
#define QVMR_PROGRAM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"
#include "frame.h"
#include "bounds.h"
#include "result.h"

/*
 * Every program ends with this line.  The transport's prelude stores the
 * program in a file and runs it only when it ends so: a call cut short
 * never runs half a program (a half "fin" line could publish a wrong exit
 * code), and sh reads a file in blocks, where from a pipe bash reads byte
 * by byte.
 */
#define PROGRAM_END "# qvmr-end\n"

/*
 * The agent (agent/main.c): when a VM has it, dom0 calls it directly
 * instead of sending a program, and the VM runs no shell code of ours.
 * Its command line ends with AGENT_END, so a line cut short is refused.
 */
#define AGENT_NAME "qvm-remote-agent"
#define AGENT_END "qvmr-end"

struct fetch_params {
	unsigned wait_s;          /* watch mode: wait this long for a request */
	const char *claim_prefix; /* "[0-9a-f]{8}-N", claims are PREFIX-index */
	unsigned max_requests;    /* <= FETCH_REQ_MAX */
	uint64_t max_bytes;       /* stop claiming once this much was sent */
	int peek;                 /* list without claiming (--dry-run) */
	const struct held_claim *release;   /* stranded claims to put back */
	size_t nrelease;
};

/* Appends the fetch program.  QR_ERR_INVALID for a bad prefix. */
int program_fetch(struct buf *out, const struct fetch_params *p);
/* Appends the command line of the same fetch made by the agent; it is at
 * most AGENT_FETCH_CMD_MAX bytes, FETCH_HELD_MAX releases included. */
int program_agent_fetch(struct buf *out, const struct fetch_params *p);
#define AGENT_FETCH_CMD_MAX AGENT_LINE_MAX
/* The same for a session (agent/session.h), whose first turn it is. */
int program_agent_session(struct buf *out, const struct fetch_params *p);
/* Appends a session's next turn: "fetch ARGS qvmr-end\n". */
int program_agent_turn(struct buf *out, const struct fetch_params *p);

/*
 * One result to deliver; files are read while the program is streamed.
 * An item of status RESULT_ASKING, RESULT_APPROVED or RESULT_STARTED is
 * a note (protocol.md 5b): empty out and err, its meta the note's text,
 * which the VM writes to running/<cid>.note while the claim is held.  The
 * sh program takes notes always; send them to an agent only from level
 * AGENT_NOTES (lib/frame.h), started ones from AGENT_LATE, as an older one
 * would publish a note as a result.
 * A live part (issue 16) is no result either: bytes [from, from + len) of
 * a running command's out and err (dir is its unfinished outbox entry),
 * which the VM appends to running/<cid>.out and .err.  A result whose
 * command streamed has from set to what the VM acknowledged: only the
 * bytes after it are sent.  Both only to an agent of level AGENT_LIVE;
 * for others from is ignored and there are no live parts.
 */
struct deliver_item {
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	int exit_code;
	enum result_status status;
	char dir[PATH_MAX];       /* holds the files out, err, meta */
	int note;                 /* a note (asking, approved), no result */
	int live;                 /* a live part, no result */
	uint64_t from[2];         /* out, err: bytes the VM holds already */
	uint64_t len[2];          /* a live part: bytes to send */
	unsigned sent;            /* deliver calls it went out in before */
};

/*
 * What a deliver call sends, produced in pieces so a result of any size is
 * sent with a fixed amount of memory: program_deliver_init() then
 * program_deliver_fill() until it reports the end.  For the agent it is
 * the stream agent/deliver.h describes, the files' bytes as they are; else
 * an sh program with the files in base64.
 */
struct deliver_src {
	char nonce[CLAIM_MAX + 1];  /* names this call's temporaries */
	const struct deliver_item *items;
	size_t n, i;
	int agent;                /* the agent's stream, not a program */
	int stage;                /* position within items[i] */
	int fd;                   /* the file being sent, -1 between files */
	uint64_t left;            /* agent: bytes of fd still to send */
	uint64_t len[3];          /* agent: bytes of items[i]'s files sent */
	uint64_t off[2];          /* agent: where those of out and err start */
	int open;                 /* items may still be added */
	struct buf tail;          /* agent: sent after "end N" */
	int done;
	const struct audit *log;  /* dom0's log: each result carries where
				   * it stood (an anchor), when set */
};

struct audit;
/*
 * Each result s sends from now on carries the seq and seal of log's last
 * line ("dom0-log=SEQ:SEAL" in the VM's audit.log): the sh program always,
 * the agent from level AGENT_ANCHOR on (an older agent refuses an item
 * line with more fields).
 */
void program_deliver_anchor(struct deliver_src *s, const struct audit *log);

/* nonce: [0-9a-f-], unique per deliver call (a claim prefix will do). */
int program_deliver_init(struct deliver_src *s, const char *nonce,
			 const struct deliver_item *items, size_t n,
			 int agent);
/*
 * Gives s its items: the array (it may have moved) now holds n, at least
 * as many as before, the first ones unchanged.  Before the first fill, or
 * while s is open.
 */
void program_deliver_add(struct deliver_src *s, const struct deliver_item *items,
			 size_t n);
/*
 * A session's deliver (agent only) is open: the caller adds items as
 * results come and closes it with the text that follows "end N" (the next
 * turn, or NULL).  While it is open and has sent every item,
 * program_deliver_fill() produces nothing.
 */
void program_deliver_open(struct deliver_src *s);
int program_deliver_close(struct deliver_src *s, const char *tail);
/* Open, and everything added so far produced. */
int program_deliver_waiting(const struct deliver_src *s);
/* Appends the command line of an agent deliver with s's nonce. */
int program_agent_deliver(struct buf *out, const struct deliver_src *s);
/*
 * Appends about `want` bytes of program text to out.  Returns 1 when the
 * whole program has been produced, 0 when more follows, PROGRAM_WAITING
 * when an open source has nothing more for now, or a negative qr_err (a
 * file could not be read).
 */
#define PROGRAM_WAITING 2
int program_deliver_fill(struct deliver_src *s, struct buf *out, size_t want);
void program_deliver_release(struct deliver_src *s);

#endif
