/*
 * frame.h - the framing of what a VM sends back to dom0 (docs/protocol.md).
 *
 * Fetch reply:
 *   "qvmr-fetch 1\n"
 *   "agent " LEVEL "\n"       optional: qvm-remote-agent wrote this reply
 *                            (dom0 may call it directly from now on);
 *                            LEVEL 1-99, what it can do (AGENT_SESSION)
 *   per request:  "req " CID " " CLAIM "\n"
 *                 then any of, each at most once, in this order:
 *                 "part " KIND " " LEN "\n" LEN bytes "\n"
 *                 "big "  KIND " " LEN "\n"        (too large; not sent)
 *                 with KIND one of body opt in auth
 *                 "end\n"
 *   "held " CID " " CLAIM "\n" claim markers in running/ (at most
 *                            FETCH_HELD_MAX), for crash recovery
 *   "skip " N "\n"           optional: N names in pending/ were not requests
 *   "done " COUNT "\n"       COUNT = number of requests; nothing may follow
 * Deliver reply:
 *   "qvmr-deliver 1\n"
 *   per result:   ("ok" | "gone" | "fail") " " CID "\n"
 *   "done " COUNT "\n"
 *
 * The parsers are pure: bytes in, struct out, no I/O.  They check every
 * length against lib/bounds.h before using it, validate every cid and claim
 * against its grammar, and fail the whole reply on anything unexpected,
 * including trailing data: a malformed reply ends that VM's exchange.
 * A cid listed twice in one reply is malformed too.  Errors: a LEN over
 * its kind's limit, a count over FETCH_REQ_MAX, a reply over its byte limit
 * or an overlong line is QR_ERR_TOO_LARGE; input that ends early
 * QR_ERR_INCOMPLETE; bytes after "done" QR_ERR_TRAILING; anything else
 * QR_ERR_INVALID.
 * Parsed structs point into the input bytes, which must outlive them.
 */
#ifndef QVMR_FRAME_H
#define QVMR_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cid.h"
#include "bounds.h"

/* Agent levels: 1 answers fetch and deliver calls; 2 also runs sessions;
 * 3 also takes the anchor of dom0's log on each delivered item; 4 also
 * takes notes (items of status asking or approved, written to
 * running/<cid>.note: docs/protocol.md section 5b); 5 also takes live
 * parts of a running command's output and results that continue them
 * (section 6b); 6 publishes a result whose claim marker was removed in
 * the VM, answers "gone" only for one the VM has (section 6), so a "gone"
 * from below 6 may be a result lost, and takes DELIVER_DROPPED and notes
 * of status started.  dom0 sends a feature
 * only to an agent whose level is at least the feature's. */
/* The longest fetch an agent takes, as a command line ("exec
 * qvm-remote-agent fetch ...") or a session's "fetch ..." line:
 * FETCH_HELD_MAX releases of maximal ids included. */
#define AGENT_LINE_MAX \
	(256 + (size_t)FETCH_HELD_MAX * (CID_MAX + CLAIM_MAX + 2))
#define AGENT_LEVEL_MAX 99u
#define AGENT_SESSION   2u
#define AGENT_ANCHOR    3u
#define AGENT_NOTES     4u
#define AGENT_LIVE      5u
#define AGENT_LATE      6u
/*
 * A refused ping (a ping id, status rejected: the original client's ping,
 * which looks only for results/<cid>.exit) goes to the sh program and to
 * agents of AGENT_LATE as this status: its claim is removed and no result
 * is written, so that client reads "NOT responding".  Older agents get
 * the rejected result.
 */
#define DELIVER_DROPPED "dropped"
/* The level this tree's agent says. */
#define AGENT_LEVEL     AGENT_LATE

enum part_kind { PART_BODY, PART_OPT, PART_IN, PART_AUTH, PART_KINDS };

struct frame_part {
	bool present;       /* "part" or "big" was seen */
	bool too_big;       /* "big": only the length is known */
	const uint8_t *p;   /* into the input; NULL when absent or too big */
	uint64_t len;
};

struct fetch_request {
	char cid[CID_MAX + 1];       /* validated with cid_valid() */
	char claim[CLAIM_MAX + 1];   /* validated with claim_valid() */
	struct frame_part part[PART_KINDS];
};

struct held_claim {
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
};

struct fetch_reply {
	unsigned agent;         /* the agent's level; 0: no "agent" line */
	size_t n;
	struct fetch_request req[FETCH_REQ_MAX];
	size_t nheld;
	struct held_claim held[FETCH_HELD_MAX];
	uint64_t skipped;
};

enum deliver_status { DELIVER_OK, DELIVER_GONE, DELIVER_FAIL };

struct deliver_entry {
	char cid[CID_MAX + 1];
	enum deliver_status status;
};

struct deliver_reply {
	size_t n;
	struct deliver_entry e[FETCH_REQ_MAX];
};

/* Claim ids: [0-9a-f]{8} "-" 1*10DIGIT "-" 1*4DIGIT, dom0-chosen. */
bool claim_valid(const char *s, size_t n);

const char *part_kind_name(enum part_kind k);

/* Per-kind size limits (BODY_MAX, OPT_MAX, IN_MAX, AUTH_MAX). */
uint64_t part_kind_max(enum part_kind k);

int frame_parse_fetch(const uint8_t *untrusted, size_t n,
		      struct fetch_reply *out);
int frame_parse_deliver(const uint8_t *untrusted, size_t n,
			struct deliver_reply *out);
/*
 * A session (agent/session.h) sends deliver replies and fetch replies one
 * after the other: the length of the deliver reply at the start of its
 * output so far, up to and including the first "done" line after the
 * header; 0 while there is none within DELIVER_REPLY_MAX bytes.  Only
 * finds the end: frame_parse_deliver() on those bytes validates them.
 */
size_t frame_deliver_span(const uint8_t *untrusted, size_t n);
/*
 * The same for a fetch reply at the start of a call's output so far: 0 and
 * *span its length, up to and including its "done" line (the first line
 * after the header to start "done ", each part's LEN bytes skipped);
 * QR_ERR_INCOMPLETE while it is not whole yet; QR_ERR_TOO_LARGE or
 * QR_ERR_INVALID when it can never be (an overlong line, a part's length
 * that is no number or over its limit, no end within FETCH_REPLY_MAX).
 * Only finds the end: frame_parse_fetch() on those bytes validates them,
 * and a reply that parses whole is its own span.
 */
int frame_fetch_span(const uint8_t *untrusted, size_t n, size_t *span);

/* Writers: the agent's replies (agent/fetch.c, agent/deliver.c), tests and
 * fuzz seeds. */
int frame_put_fetch_header(struct buf *b);
/* "agent LEVEL", 1 <= LEVEL <= AGENT_LEVEL_MAX */
int frame_put_agent(struct buf *b, unsigned level);
int frame_put_request(struct buf *b, const char *cid, const char *claim);
int frame_put_part(struct buf *b, enum part_kind k, const void *p, size_t n);
/* Only the "part KIND LEN" line: the caller sends the LEN bytes and "\n". */
int frame_put_part_header(struct buf *b, enum part_kind k, uint64_t len);
int frame_put_big(struct buf *b, enum part_kind k, uint64_t len);
int frame_put_end(struct buf *b);
int frame_put_held(struct buf *b, const char *cid, const char *claim);
int frame_put_skip(struct buf *b, uint64_t skipped);
int frame_put_done(struct buf *b, size_t count);
int frame_put_deliver_header(struct buf *b);
int frame_put_status(struct buf *b, enum deliver_status st, const char *cid);

#endif
