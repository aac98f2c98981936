/*
 * request.h - deciding about one fetched request (docs/protocol.md s. 5).
 *
 * request_check() runs L2 validation, then L1 authentication, then the
 * freshness window and the replay store, in that order, over the exact
 * bytes received.  The body is checked in the form its options name
 * (form=argv: an argument vector, else a script), and form= and user=
 * count only under a v2 token, which covers the options: a v1 request
 * that names either is refused.  Every token kind has a freshness window (the time is in
 * the cid), and an id the replay store may have forgotten
 * (REPLAY_FORGOTTEN) is stale whatever the clock says now.  It is pure: it
 * reads the replay store but does not write it; the caller records an
 * accepted cid before running it.
 */
#ifndef QVMR_REQUEST_H
#define QVMR_REQUEST_H

#include <stdint.h>
#include <time.h>

#include "bodyrule.h"
#include "frame.h"
#include "key.h"
#include "policy.h"
#include "replay.h"
#include "token.h"

#define FUTURE_SLACK_S 300          /* clocks may disagree this much */
/*
 * The original client writes its cids in the VM's local time, which dom0
 * reads as UTC: a v1 cid may seem up to 12 hours older (UTC-12) or 14
 * hours newer (UTC+14) than it is.  Its ping ids carry the true time in
 * nanoseconds, and a ping is waited for 10 seconds: they get 5 minutes
 * either way, and run nothing but the ping's own body.
 */
#define LEGACY_ZONE_WEST_S (12 * 3600)
#define LEGACY_ZONE_EAST_S (14 * 3600)
#define PING_AGE_S FUTURE_SLACK_S
#define PING_BODY "true\n"

/* The replay store's window for max_age_s: the oldest cid time any rule
 * below accepts, plus a margin. */
static inline uint64_t
request_window_s(uint64_t max_age_s)
{
	return max_age_s + LEGACY_ZONE_WEST_S + FUTURE_SLACK_S;
}

struct request_policy {
	const struct key *key;      /* NULL: the VM has no key */
	int legacy_ok;              /* VM is in QVM_REMOTE_LEGACY_AUTH */
	time_t now;
	uint64_t max_age_s;
	unsigned timeout_default_s, timeout_cap_s;
	const struct replay *replay;
};

struct request_verdict {
	int accept;
	const char *category;       /* REJECT, AUTH-DENY or AUTH-FAIL */
	const char *reason;         /* static text, for the log and the VM */
	enum token_kind token;
	unsigned timeout_s;             /* the request's, capped by dom0's */
	unsigned requested_s;           /* the request's own, 0: none */
	enum body_form form;            /* form= of an accepted request */
	char user[POLICY_USER_MAX + 1]; /* its user=, "" when none */
	int check;                      /* check=1: decide, run nothing */
	char cancel[CID_MAX + 1];       /* cancel=: withdraw it, run nothing */
};

void request_check(const struct fetch_request *untrusted,
		   const struct request_policy *p, struct request_verdict *v);

#endif
