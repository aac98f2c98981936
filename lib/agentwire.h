/*
 * agentwire.h - what dom0 sends the agent (docs/protocol.md sections 4, 6):
 * one encoder and one decoder for each piece, so the daemon writes and the
 * agent reads the same grammar.
 *
 * Fetch arguments, on the agent's command line and on a session's turn line:
 *   PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM [CID CLAIM]... qvmr-end
 * with PREFIX "[0-9a-f]{8}-N" (claims are PREFIX-index), WAIT 0..86400,
 * MAX_REQUESTS 1..FETCH_REQ_MAX, CLAIM 0 (list only) or 1, and at most
 * FETCH_HELD_MAX stranded claims to put back.  A turn line is
 *   "fetch " ARGS "\n"
 * A deliver's stream, per result:
 *   "item CID CLAIM EXIT STATUS OUTLEN ERRLEN METALEN[ SEQ:SEAL[ OUTFROM ERRFROM]]\n"
 *   then the OUTLEN + ERRLEN + METALEN bytes of .out, .err, .meta (with
 *   OUTFROM and ERRFROM, the bytes of .out and .err after those offsets:
 *   the VM holds the rest in its live files); per live part (level 5):
 *   "live CID CLAIM OUTFROM OUTLEN ERRFROM ERRLEN\n"
 *   then OUTLEN bytes of stdout from OUTFROM, ERRLEN of stderr from ERRFROM;
 * and at last "end COUNT\n".
 *
 * The decoders are pure, take one line without its '\n' (or argv's words),
 * and accept only what the encoders write: words split at single spaces,
 * canonical decimal, cids and claims checked against lib/cid.h and
 * claim_valid().  QR_ERR_TOO_LARGE for an overlong line, QR_ERR_INVALID
 * for anything else that is off.  The encoders validate what they are
 * given the same way and refuse (QR_ERR_INVALID) what the decoder would.
 */
#ifndef QVMR_AGENTWIRE_H
#define QVMR_AGENTWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "cid.h"
#include "frame.h"

#define AGENTWIRE_END     "qvmr-end"
#define AGENTWIRE_WAIT_MAX 86400u
/* "fetch", the five arguments, the releases and the end mark */
#define AGENTWIRE_TURN_WORDS (7 + 2 * FETCH_HELD_MAX)

struct agentwire_fetch {
	const char *prefix;        /* claims are PREFIX-index */
	unsigned wait_s;           /* 0: answer at once */
	unsigned max_requests;     /* 1..FETCH_REQ_MAX */
	uint64_t max_bytes;        /* stop claiming past this many bytes */
	bool claim;                /* false: list without claiming */
	const char *const *release;   /* 2 * nrelease words: CID CLAIM ... */
	size_t nrelease;
};

/* Valid: what the decoder accepts. */
bool agentwire_fetch_valid(const struct agentwire_fetch *f);
/* Appends "CID CLAIM CID CLAIM ..." (also used by dom0's sh program). */
int agentwire_put_releases(struct buf *b, const struct agentwire_fetch *f);
/* Appends "PREFIX WAIT N BYTES CLAIM[ CID CLAIM]... qvmr-end". */
int agentwire_put_args(struct buf *b, const struct agentwire_fetch *f);
/* Appends "fetch " ARGS "\n". */
int agentwire_put_turn(struct buf *b, const struct agentwire_fetch *f);
/*
 * Decodes argc words (the arguments, without the end mark, which the
 * agent's main checks for every command); out points into argv.
 */
int agentwire_decode_args(struct agentwire_fetch *out, size_t argc,
			  const char *const *argv);
/*
 * Decodes a turn line line[0..n) without its '\n': splits it in place
 * (the spaces and line[n], which must be writable, become NULs) into
 * words, which out points into.
 */
int agentwire_decode_turn(char *line, size_t n,
			  char *words[AGENTWIRE_TURN_WORDS],
			  struct agentwire_fetch *out);

#define AGENTWIRE_FILES      3u                   /* out, err, meta */
#define AGENTWIRE_FILE_MAX   ((uint64_t)1 << 40)  /* bytes of one file */
#define AGENTWIRE_EXIT_MAX   11u     /* "-?[0-9]{1,10}" */
#define AGENTWIRE_STATUS_MAX 16u     /* "[a-z]{1,16}" */
#define AGENTWIRE_ANCHOR_MAX (18u + 1 + 32)   /* "[0-9]{1,18}:[0-9a-f]{32}" */

struct agentwire_item {
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	char exit_text[AGENTWIRE_EXIT_MAX + 1];
	char status[AGENTWIRE_STATUS_MAX + 1];
	uint64_t len[AGENTWIRE_FILES];
	char anchor[AGENTWIRE_ANCHOR_MAX + 1];   /* "" when none */
	/* {0, 0}: the whole of .out and .err follow; else len[0] and len[1]
	 * continue the VM's live files from these offsets (needs an anchor) */
	uint64_t from[2];
};

/* A part of a running command's output: [0] stdout, [1] stderr. */
struct agentwire_live {
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	uint64_t from[2], len[2];   /* from + len <= AGENTWIRE_FILE_MAX */
};

/* Appends the item line, its '\n' included. */
int agentwire_put_item(struct buf *b, const struct agentwire_item *it);
/* Appends the live part's line, its '\n' included. */
int agentwire_put_live(struct buf *b, const struct agentwire_live *l);
/* Appends "end COUNT\n", COUNT <= FETCH_REQ_MAX. */
int agentwire_put_end(struct buf *b, uint64_t count);
/*
 * Decodes one line of a deliver's stream (without its '\n', at most
 * FRAME_LINE_MAX bytes): AGENTWIRE_ITEM and *it, AGENTWIRE_LIVE and *live,
 * or AGENTWIRE_ENDS and *count, or a negative qr_err.
 */
#define AGENTWIRE_ITEM 0
#define AGENTWIRE_ENDS 1
#define AGENTWIRE_LIVE 2
int agentwire_decode_deliver(const char *line, size_t n,
			     struct agentwire_item *it,
			     struct agentwire_live *live, uint64_t *count);

#endif
