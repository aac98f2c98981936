/*
 * request.c - L2 then L1 then freshness and replay, for one request.
 */
#include "request.h"

#include <string.h>

#include "argvbody.h"
#include "bodyrule.h"
#include "err.h"
#include "opts.h"
#include "banned.h"

static void
reject(struct request_verdict *v, const char *category, const char *reason)
{
	v->accept = 0;
	v->category = category;
	v->reason = reason;
}

static_assert(ARGV_MAX == 4096u, "the reason below names the limit");

static const char *
body_problem_reason(enum body_problem p)
{
	switch (p) {
	case BODY_EMPTY:
		return "the command is empty";
	case BODY_ARGV_END:
		return "the argument vector does not end in a NUL byte";
	case BODY_ARGV_PROGRAM:
		return "the argument vector names no program (its first "
		       "argument is empty)";
	case BODY_ARGV_COUNT:
		return "the argument vector has more than 4096 arguments";
	default:
		return "the command contains NUL or control bytes";
	}
}

/* L2: everything about the shape of the request, before any secret. */
static int
validate(const struct fetch_request *q, const struct request_policy *p,
	 struct request_verdict *v)
{
	const struct frame_part *body = &q->part[PART_BODY];
	const struct frame_part *opt = &q->part[PART_OPT];
	struct body_verdict bv;
	struct req_opts o;
	const char *why = NULL;
	time_t t;

	if (cid_time(q->cid, strlen(q->cid), &t) != 0) {
		reject(v, "REJECT", "the id names an impossible date");
		return -1;
	}
	if (body->too_big) {
		reject(v, "REJECT", "the command is larger than 1 MiB");
		return -1;
	}
	/* the original client's ping runs `true`; a ping id, usually under a
	 * v1 token that does not cover the body, runs nothing else */
	if (cid_is_ping(q->cid, strlen(q->cid)) &&
	    (body->len != strlen(PING_BODY) ||
	     memcmp(body->p, PING_BODY, body->len) != 0 ||
	     opt->present || q->part[PART_IN].present)) {
		reject(v, "REJECT", "a ping id runs only the ping command "
		       "(true)");
		return -1;
	}
	if (q->part[PART_IN].too_big) {
		reject(v, "REJECT", "the stdin file is larger than 8 MiB");
		return -1;
	}
	if (opt->too_big) {
		reject(v, "REJECT", "the options file is larger than 4 KiB");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	if (opt->present && opts_parse(opt->p, opt->len, &o, &why) != 0) {
		reject(v, "REJECT", why != NULL ? why : "malformed options");
		return -1;
	}
	/* a cancel is an empty body and its one option (protocol.md 5b) */
	if (o.cancel[0] != '\0') {
		if (!body->present || body->len != 0 ||
		    q->part[PART_IN].present || o.timeout != 0 ||
		    o.form != BODY_SCRIPT || o.user[0] != '\0' || o.check) {
			reject(v, "REJECT", "a cancel has an empty command and "
			       "no option but cancel=");
			return -1;
		}
		if (strcmp(o.cancel, q->cid) == 0) {
			reject(v, "REJECT", "a cancel cannot name itself");
			return -1;
		}
	} else if (!body->present ||
		   body_check(body->p, body->len, o.form, &bv) != 0) {
		reject(v, "REJECT", body_problem_reason(body->present ? bv.problem
							: BODY_EMPTY));
		return -1;
	}
	v->form = o.form;
	memcpy(v->user, o.user, sizeof(v->user));
	v->check = o.check;
	memcpy(v->cancel, o.cancel, sizeof(v->cancel));
	v->requested_s = o.timeout;
	v->timeout_s = o.timeout != 0 ? o.timeout : p->timeout_default_s;
	if (v->timeout_s > p->timeout_cap_s)
		v->timeout_s = p->timeout_cap_s;
	if (!q->part[PART_AUTH].present || q->part[PART_AUTH].too_big) {
		reject(v, "AUTH-FAIL", "the token is missing or malformed");
		return -1;
	}
	return 0;
}

/*
 * Every cid names when it was made (docs/protocol.md s. 2): a v2 cid in
 * UTC, the original client's in the VM's local time, its ping ids in UTC
 * nanoseconds.  So every token kind has a window, each as narrow as its
 * clients allow.
 */
static int
fresh(const struct fetch_request *q, const struct request_policy *p,
      enum token_kind kind)
{
	uint64_t past = p->max_age_s, ahead = FUTURE_SLACK_S;
	size_t n = strlen(q->cid);
	time_t t;

	if (cid_time(q->cid, n, &t) != 0)
		return 0;
	if (cid_is_ping(q->cid, n)) {
		if (past > PING_AGE_S)
			past = PING_AGE_S;
	} else if (kind == TOKEN_V1) {
		past += LEGACY_ZONE_WEST_S;
		ahead += LEGACY_ZONE_EAST_S;
	}
	if (t > p->now)
		return (uint64_t)(t - p->now) <= ahead;
	return (uint64_t)(p->now - t) <= past;
}

void
request_check(const struct fetch_request *untrusted,
	      const struct request_policy *p, struct request_verdict *v)
{
	const struct fetch_request *q = untrusted;
	const struct frame_part *a = &q->part[PART_AUTH];
	struct token_input ti = {
		.cid = q->cid, .cid_len = strlen(q->cid),
		.body = q->part[PART_BODY].p,
		.body_len = q->part[PART_BODY].len,
		.opt = q->part[PART_OPT].p, .opt_len = q->part[PART_OPT].len,
		.in = q->part[PART_IN].p, .in_len = q->part[PART_IN].len,
	};
	int r;

	memset(v, 0, sizeof(*v));
	if (validate(q, p, v) != 0)
		return;
	if (p->key == NULL) {
		reject(v, "AUTH-DENY", "this VM is not authorized");
		return;
	}
	r = token_verify(p->key, &ti, a->p, a->len, p->legacy_ok, &v->token);
	if (r == QR_ERR_MISMATCH) {
		reject(v, "AUTH-FAIL", "authentication failed: token mismatch");
		return;
	}
	if (r != 0) {
		reject(v, "AUTH-FAIL", p->legacy_ok
			? "authentication failed: malformed token"
			: "authentication failed: not a v2 token (legacy "
			  "clients need QVM_REMOTE_LEGACY_AUTH in dom0)");
		return;
	}
	/* a v1 token does not cover the options: what runs and as whom
	 * must not be one an attacker without the key can choose */
	if (v->token == TOKEN_V1 &&
	    (v->form != BODY_SCRIPT || v->user[0] != '\0' || v->check ||
	     v->cancel[0] != '\0')) {
		reject(v, "REJECT", "form=, user=, check= and cancel= need a v2 "
		       "token "
		       "(a legacy v1 token does not cover the options); update "
		       "the client in the VM");
		return;
	}
	if (!fresh(q, p, v->token)) {
		reject(v, "AUTH-FAIL", "stale request: outside the freshness window");
		return;
	}
	switch (replay_lookup(p->replay, q->cid)) {
	case REPLAY_NEW:
		break;
	case REPLAY_SEEN:
		reject(v, "AUTH-FAIL", "replayed request: this id already ran");
		return;
	case REPLAY_FORGOTTEN:
		/* dropped from the store while dom0's clock was ahead: it
		 * may have run, and the store can no longer tell */
		reject(v, "AUTH-FAIL", "stale request: older than the ids dom0 "
		       "still remembers (its clock ran ahead); send it again");
		return;
	}
	v->accept = 1;
	v->category = "AUTH-OK";
	v->reason = v->token == TOKEN_V1 ? "legacy v1 token" : "v2 token";
}
