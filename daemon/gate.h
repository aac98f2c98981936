/*
 * gate.h - what the policy's decision means for one verified request: run
 * it (as whom, for how long at most) or refuse it, and what the log and
 * the VM are told (issue 15, docs/protocol.md section 5a).
 *
 * The one place a decision becomes an outcome, for the service (jobs.c)
 * and for `policy check` (admin_policy.c) alike:
 *   no policy (policy_empty)  run, as the user asked for or root, every
 *                             request, as before policies existed;
 *   allow                     run as the rule's user, the timeout the
 *                             least of the request's and the rule's;
 *   deny, no rule             refuse: "denied by policy: PATH:LINE" or
 *                             "denied by policy: no rule";
 *   ask                       wait for a person (docs/protocol.md 5b):
 *                             as whom and how long as allow would, and
 *                             what the VM is told meanwhile ("waiting
 *                             for approval in dom0 (ask: PATH:LINE)").
 * Nothing else turns a decision into an outcome.  Pure: no I/O; the
 * policy is the caller's.
 */
#ifndef QVMR_GATE_H
#define QVMR_GATE_H

#include <stddef.h>

#include "bodyrule.h"
#include "bounds.h"
#include "config.h"
#include "policy.h"

/* The exit status of a decision, for `policy check` in dom0 and a check
 * request from a VM alike: 0 for allow (and no policy). */
#define GATE_EXIT_DENY 3
#define GATE_EXIT_ASK 4

enum gate_outcome {
	GATE_RUN,
	GATE_REFUSE,
	GATE_ASK,
};

/* A verified request as the gate sees it; nothing is kept. */
struct gate_request {
	const char *vm;                 /* dom0's name for the VM */
	enum body_form form;
	const char *const *argv;        /* BODY_ARGV: the vector */
	size_t argc;
	const char *user;               /* asked for (user=), NULL: none */
	unsigned timeout_s;             /* the request's, capped by dom0's */
};

/* The rule as the log and the VM name it: the policy file's full path and
 * the line, or "none". */
#define GATE_RULE_MAX (CONFIG_PATH_MAX + POLICY_NAME_MAX + 16)

/* What a reason keeps of a rule: a path too long for it (a policy
 * directory of hundreds of bytes) is named by the file alone. */
#define GATE_TOLD_MAX (REASON_MAX - 64)

struct gate_verdict {
	enum gate_outcome outcome;
	int no_policy;                  /* the policy is empty */
	struct policy_decision d;       /* policy_match's (no_policy: none) */
	char rule[GATE_RULE_MAX];       /* "DIR/FILE:LINE" or "none" */
	char told[GATE_RULE_MAX];       /* the rule as reasons name it, at
					 * most GATE_TOLD_MAX: "no rule" */
	char user[POLICY_USER_MAX + 1]; /* GATE_RUN, GATE_ASK: run as ("root":
					 * the service's own credentials) */
	unsigned timeout_s;             /* GATE_RUN, GATE_ASK: its timeout */
	char reason[REASON_MAX + 1];    /* GATE_REFUSE: for the VM and log;
					 * GATE_ASK: the VM's note */
};

/*
 * Decides q under p, whose files were read from policy_dir.  Always fills
 * *v: a malformed request (policy_match refuses it) is denied as by no
 * rule.  Bytes of a file name that are not printable ASCII show as '?'
 * in rule and reason.
 */
void gate_decide(const struct policy *p, const char *policy_dir,
		 const struct gate_request *q, struct gate_verdict *v);

#endif
