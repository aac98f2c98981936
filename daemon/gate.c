/*
 * gate.c - a policy decision turned into run or refuse (gate.h).
 */
#include "gate.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

/* "DIR/FILE:LINE" (dir NULL: "FILE:LINE") with the bytes a terminal or
 * the result's reason= (printable ASCII) cannot take shown as '?'. */
static void
rule_name(char out[GATE_RULE_MAX], const char *dir,
	  const struct policy_decision *d)
{
	int n = snprintf(out, GATE_RULE_MAX, "%s%s%s:%u", dir ? dir : "",
			 dir ? "/" : "", d->file, d->line);

	if (n < 0)
		out[0] = '\0';
	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
}

static unsigned
least(unsigned a, unsigned b)
{
	return b != 0 && b < a ? b : a;
}

void
gate_decide(const struct policy *p, const char *policy_dir,
	    const struct gate_request *q, struct gate_verdict *v)
{
	struct policy_request pr = {
		.vm = q->vm,
		.kind = q->form == BODY_ARGV ? POLICY_ARGV : POLICY_SCRIPT,
		.argv = q->argv, .argc = q->argc, .user = q->user,
	};
	char *told = v->told;
	int n = 0;

	memset(v, 0, sizeof(*v));
	snprintf(v->rule, sizeof(v->rule), "none");
	snprintf(v->told, sizeof(v->told), "no rule");
	v->timeout_s = q->timeout_s;
	if (policy_empty(p)) {
		v->no_policy = 1;
		v->outcome = GATE_RUN;
		snprintf(v->user, sizeof(v->user), "%s",
			 q->user != NULL ? q->user : "root");
		return;
	}
	/* a malformed request leaves d the no-rule deny */
	(void)policy_match(p, &pr, &v->d);
	if (v->d.line != 0) {
		rule_name(v->rule, policy_dir, &v->d);
		if (strlen(v->rule) <= GATE_TOLD_MAX)
			memcpy(told, v->rule, strlen(v->rule) + 1);
		else
			rule_name(told, NULL, &v->d);
	}
	if (v->d.action != POLICY_DENY) {
		memcpy(v->user, v->d.user, sizeof(v->user));
		v->timeout_s = least(q->timeout_s, v->d.timeout);
	}
	switch (v->d.action) {
	case POLICY_ALLOW:
		v->outcome = GATE_RUN;
		return;
	case POLICY_ASK:
		v->outcome = GATE_ASK;
		n = snprintf(v->reason, sizeof(v->reason), "waiting for approval "
			     "in dom0 (ask: %.*s)", (int)GATE_TOLD_MAX, told);
		break;
	case POLICY_DENY:
		v->outcome = GATE_REFUSE;
		n = snprintf(v->reason, sizeof(v->reason), "denied by policy: "
			     "%.*s", (int)GATE_TOLD_MAX, told);
		break;
	}
	(void)n;    /* told fits the reason: nothing is cut */
}
