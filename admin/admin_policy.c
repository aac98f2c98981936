/*
 * admin_policy.c - `policy check` and `policy list`: what the policy of
 * QVM_REMOTE_POLICY_DIR does with a request and what it holds, read from
 * the directory as the service reads it (issue 15); and the note
 * authorize prints about it.
 */
#include "admin.h"
#include "admin_util.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "policy.h"
#include "policydir.h"
#include "vmname.h"
#include "banned.h"

#define CHECK_USAGE "policy check VM [-u USER] (-x PROGRAM [ARG...] | --script)"
#define POLICY_USAGE "policy check VM [-u USER] (-x PROGRAM [ARG...] | " \
		     "--script) | policy list"
#define ERROR_TEXT_MAX (CONFIG_PATH_MAX + POLICY_NAME_MAX + \
			POLICY_REASON_MAX + 32)

/* Loads c's policy into p; on an error says it and returns ADMIN_FAIL. */
static int
load(const struct config *c, struct policy *p)
{
	char text[ERROR_TEXT_MAX];
	struct policy_error err;

	if (policydir_load(c->policy_dir, p, &err) == 0)
		return ADMIN_OK;
	policydir_error_text(c->policy_dir, &err, text, sizeof(text));
	complain("%s", text);
	complain("a running service keeps the policy it had until this is "
		 "fixed (see qvm-remote-policy(5))");
	return ADMIN_FAIL;
}

/* A user the policy gives that dom0 lacks: the service would refuse. */
static void
warn_missing_user(const char *user)
{
	if (strcmp(user, "root") != 0 && getpwnam(user) == NULL)
		complain("note: no user '%s' in dom0; the service refuses the "
			 "request (exit 126) until there is one", user);
}

static int
check(const struct config *c, int argc, char **argv)
{
	struct gate_request q = { .timeout_s = c->timeout_s };
	struct gate_verdict v;
	struct policy p;
	int i = 3, script = 0, r;

	if (argc < 3 || !vmname_valid(argv[2]))
		return admin_usage(CHECK_USAGE);
	q.vm = argv[2];
	for (; i < argc; i++) {
		if ((strcmp(argv[i], "-u") == 0 ||
		     strcmp(argv[i], "--user") == 0) && i + 1 < argc &&
		    q.user == NULL) {
			if (!policy_user_valid(argv[++i])) {
				complain("'%s' is not a dom0 user name "
					 "([a-z_][a-z0-9_-]*, at most %u "
					 "bytes)", argv[i], POLICY_USER_MAX);
				return ADMIN_USAGE;
			}
			q.user = argv[i];
		} else if (strcmp(argv[i], "--script") == 0 && i + 1 == argc) {
			script = 1;
		} else if (strcmp(argv[i], "-x") == 0 && i + 1 < argc &&
			   argv[i + 1][0] != '\0') {
			q.form = BODY_ARGV;
			q.argv = (const char *const *)argv + i + 1;
			q.argc = (size_t)(argc - i - 1);
			break;
		} else {
			return admin_usage(CHECK_USAGE);
		}
	}
	if (!script && q.form != BODY_ARGV)
		return admin_usage(CHECK_USAGE);
	policy_init(&p);
	if ((r = load(c, &p)) != ADMIN_OK)
		return r;
	gate_decide(&p, c->policy_dir, &q, &v);
	policy_release(&p);
	if (v.no_policy) {
		printf("no policy: allowed as %s (every request)\n", v.user);
		r = ADMIN_OK;
	} else if (v.outcome == GATE_RUN) {
		printf("allow: %s (as %s, timeout %u s)\n", v.rule, v.user,
		       v.timeout_s);
		r = ADMIN_OK;
	} else if (v.d.action == POLICY_ASK) {
		printf("ask: %s (as %s, timeout %u s)\n", v.rule, v.user,
		       v.timeout_s);
		complain("it waits for a person: qvm-remote-dom0 pending, "
			 "approve ID, deny ID");
		r = ADMIN_POLICY_ASK;
	} else {
		printf("deny: %s\n", v.d.line != 0 ? v.rule : "no rule");
		r = ADMIN_POLICY_DENY;
	}
	if (fflush(stdout) != 0)
		return ADMIN_FAIL;
	if (r != ADMIN_POLICY_DENY)
		warn_missing_user(v.user);
	return r;
}

static int
list(const struct config *c)
{
	struct policy p;
	int r;

	policy_init(&p);
	if ((r = load(c, &p)) != ADMIN_OK)
		return r;
	if (policy_empty(&p)) {
		printf("no policy: %s holds no .policy file; every authorized "
		       "VM may run any command as root (see "
		       "qvm-remote-policy(5))\n", c->policy_dir);
	} else {
		printf("%s: %zu file%s, %zu rule%s\n", c->policy_dir,
		       p.n_files, p.n_files == 1 ? "" : "s", p.n_rules,
		       p.n_rules == 1 ? "" : "s");
		for (size_t i = 0; i < p.n_files; i++)
			printf("  %s\n", p.files[i]);
	}
	policy_release(&p);
	return fflush(stdout) == 0 ? ADMIN_OK : ADMIN_FAIL;
}

int
admin_policy(const struct config *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check(c, argc, argv);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list(c);
	return admin_usage(POLICY_USAGE);
}

void
admin_policy_note(const struct config *c, const char *vm)
{
	char text[ERROR_TEXT_MAX];
	struct policy_error err;
	struct policy p;

	policy_init(&p);
	if (policydir_load(c->policy_dir, &p, &err) != 0) {
		policydir_error_text(c->policy_dir, &err, text, sizeof(text));
		complain("the policy cannot be read: %s; a running service "
			 "keeps the policy it had", text);
	} else if (policy_empty(&p)) {
		say("no policy in %s: '%s' may run any command in dom0 as "
		    "root; to limit what it may run, see qvm-remote-policy(5)",
		    c->policy_dir, vm);
	} else {
		say("the policy in %s decides what '%s' may run; try: " PROG
		    " policy check %s -x COMMAND...", c->policy_dir, vm, vm);
	}
	policy_release(&p);
}
