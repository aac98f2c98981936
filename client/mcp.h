/*
 * mcp.h - `qvm-remote mcp`, a Model Context Protocol server, the pure
 * half: one JSON-RPC 2.0 message in, its reply out, the tools' arguments
 * checked.  No I/O: the tools' work is done by the backend the caller
 * passes (mcptool.h in the program, stubs in the unit test and fuzzer),
 * which goes through the same queue, token and policy as the command line.
 *
 * Messages are parsed by libjansson, strictly: duplicate keys, trailing
 * data, NUL in strings and broken UTF-8 are parse errors (-32700, id
 * null).  A batch (a JSON array) is an invalid request (-32600): MCP
 * 2025-06-18 has no batches.  Notifications (no "id") and responses get no
 * reply.  Methods: initialize, ping, tools/list, tools/call; others are
 * -32601.  Tool arguments that do not follow their inputSchema (unknown
 * keys, wrong types, values out of range, an unknown tool) are -32602.
 * A tool that ran but failed (dom0 refused, the command could not run or
 * did not finish, an unknown id) is a result with isError true.
 *
 * Tools:
 *   run {argv, user?, timeout_s?, wait_s?}   an exact-argv request (-x)
 *   result {id}                              an earlier request's state
 *   policy_check {argv, user?}               a check=1 request (opts.h):
 *                                            decision, rule, user,
 *                                            timeout_s, reason
 * Each result has a text item (the structured content serialized, or a
 * sentence for an error) and structuredContent, an object:
 *   {id, state: done|pending|refused|failed|unknown|error, ...}
 * pending: stage queued, running, or approval (dom0 waits for a person;
 * reason then says so: "waiting for approval in dom0 (ask: RULE)").
 * done: status (ok|timeout|interrupted), exit_code, stdout, stderr (the
 * first MCP_STREAM_MAX bytes of each; *_encoding utf-8 or base64,
 * *_truncated, *_bytes produced), duration_ms, round_trip_ms (run only).
 */
#ifndef QVMR_CLIENT_MCP_H
#define QVMR_CLIENT_MCP_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "cid.h"
#include "policy.h"
#include "result.h"

#define MCP_LINE_MAX (1u << 20)       /* bytes of one message */
#define MCP_STREAM_MAX (64u << 10)    /* bytes of stdout, of stderr, shown */
#define MCP_REPLY_MAX (4u << 20)      /* bytes of one reply */
#define MCP_WHY_MAX 2048u             /* bytes of a failure's text */
#define MCP_WAIT_DEFAULT 60u          /* run's wait_s when not given */
#define MCP_WAIT_MAX 3600u
#define MCP_PROTOCOL_LATEST "2025-06-18"

/* Two streams escaped at worst 6 bytes a byte, twice (text and
 * structuredContent), and room for the rest. */
static_assert(4 * 6 * (size_t)MCP_STREAM_MAX + 16 * MCP_WHY_MAX +
	      (64u << 10) < MCP_REPLY_MAX, "a tool result fits a reply");

/* JSON-RPC 2.0 error codes. */
enum mcp_rpc_code {
	MCP_PARSE_ERROR = -32700,
	MCP_INVALID_REQUEST = -32600,
	MCP_METHOD_NOT_FOUND = -32601,
	MCP_INVALID_PARAMS = -32602,
	MCP_INTERNAL_ERROR = -32603,
};

enum mcp_state {
	MCP_DONE,       /* a result: ok, timeout or interrupted */
	MCP_PENDING,    /* queued or running, no result yet */
	MCP_REFUSED,    /* dom0 rejected it (authentication, policy) */
	MCP_FAILED,     /* dom0 could not run it (status error) */
	MCP_UNKNOWN,    /* result: no such request here */
	MCP_LOCAL,      /* a local problem: key, queue; why says it */
};

struct mcp_stream {
	struct buf data;     /* the first bytes, at most MCP_STREAM_MAX */
	uint64_t bytes;      /* what the command produced */
	int truncated;       /* data is not all of it (dom0 or we cut) */
};

/* What a tool's backend call found; filled by the backend. */
struct mcp_outcome {
	enum mcp_state state;
	char id[CID_MAX + 1];      /* "" when nothing was published */
	int running;               /* MCP_PENDING: dom0 has taken it */
	char note[REASON_MAX + 1]; /* MCP_PENDING: dom0 holds it for a
				    * person's approval and says this
				    * (an asking note, protocol.md 5b);
				    * "" otherwise */
	struct result_meta meta;   /* MCP_DONE, MCP_REFUSED, MCP_FAILED */
	int exit_code;             /* from .exit */
	struct mcp_stream out, err;
	int have_round_trip;
	uint64_t round_trip_ms;
	struct buf why;            /* text for the agent, at most MCP_WHY_MAX */
};

void mcp_outcome_init(struct mcp_outcome *o);
void mcp_outcome_release(struct mcp_outcome *o);

/* A checked request for the backend: run, or policy_check (check set). */
struct mcp_call {
	struct buf body;                 /* the vector (argvbody.h), checked */
	char user[POLICY_USER_MAX + 1];  /* "": none */
	unsigned timeout;                /* 0: none */
	unsigned wait_s;                 /* 0..MCP_WAIT_MAX */
	int check;                       /* policy_check: decide, never run */
};

struct mcp_backend {
	void *ctx;
	/* Publish c and wait up to c->wait_s for its result.  Each fills *o
	 * (initialized by the caller) and returns 0; anything else is an
	 * internal error (-32603). */
	int (*submit)(void *ctx, const struct mcp_call *c,
		      struct mcp_outcome *o);
	/* The state of request cid (cid_valid). */
	int (*lookup)(void *ctx, const char *cid, struct mcp_outcome *o);
	int has_check;   /* dom0 understands check=1: offer policy_check */
};

struct mcp_server {
	const struct mcp_backend *be;
	const char *version;          /* serverInfo.version */
	int initialized;              /* notifications/initialized came */
	char protocol[16];            /* "" until initialize */
};

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     const char *version);

/*
 * Handles one message, line[0..n) without its newline.  Appends its
 * reply (one line of JSON, no newline) to out, or nothing for a
 * notification, a response or a blank line.  out->max must be at least
 * MCP_REPLY_MAX.  0, or QR_ERR_NOMEM when not even an error reply could
 * be made.
 */
int mcp_handle(struct mcp_server *s, const char *line, size_t n,
	       struct buf *out);

/* Appends the reply to a message longer than MCP_LINE_MAX: -32600, id
 * null. */
int mcp_reply_too_long(struct buf *out);

/* What policy_check reports: the stdout of a check=1 result,
 * "key=value" lines decision=, rule=, user=, timeout=, reason=
 * (docs/protocol.md section 5a). */
struct mcp_decision {
	char decision[8];      /* allow, deny, ask */
	char rule[512];        /* DIR/FILE:LINE, none or "no policy" */
	char reason[512];      /* deny and ask: what the VM would be told */
	char user[POLICY_USER_MAX + 1];
	unsigned timeout;
	int have_timeout;
};

/* Parses that stdout.  Pure.  QR_ERR_INVALID when a line is not
 * key=value of printable ASCII (spaces too), a value does not fit, decision
 * is missing or not one of the three, user is not a user name or timeout
 * not a number; unknown keys are skipped. */
int mcp_decision_parse(const char *untrusted, size_t n,
		       struct mcp_decision *d);

#endif
