/*
 * request.h - deciding about one fetched request (docs/protocol.md s. 5).
 *
 * request_check() runs L2 validation, then L1 authentication, then the
 * freshness window and the replay store, in that order, over the exact
 * bytes received.  It is pure: it reads the replay store but does not
 * write it; the caller records an accepted cid before running it.
 */
#ifndef QVMR_REQUEST_H
#define QVMR_REQUEST_H

#include <stdint.h>
#include <time.h>

#include "frame.h"
#include "key.h"
#include "replay.h"
#include "token.h"

#define FUTURE_SLACK_S 300          /* clocks may disagree this much */

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
	unsigned timeout_s;
};

void request_check(const struct fetch_request *untrusted,
		   const struct request_policy *p, struct request_verdict *v);

#endif
