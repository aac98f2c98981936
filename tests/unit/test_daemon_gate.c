/*
 * test_daemon_gate.c - a policy decision turned into run or refuse: no
 * policy, allow with the rule's user and the least timeout, deny with and
 * without a rule, ask refused until approvals exist, and what the VM and
 * the log are told.
 */
#include "gate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "err.h"

#include "banned.h"

#define DIR "/etc/qubes/remote-policy.d"

static const char text[] =
	"work  allow                 id ...\n"
	"work  allow  user=alice     id ...\n"
	"work  allow  timeout=5      sleep *\n"
	"work  deny                  qvm-run ...\n"
	"work  ask    timeout=600    qvm-prefs * * *\n"
	"other allow  user=bob       @script\n";

static struct policy P;

static int
setup(void **state)
{
	policy_init(&P);
	assert_int_equal(policy_add_file(&P, "30-test.policy", text,
					 sizeof(text) - 1, NULL), 0);
	return 0;
}

static int
teardown(void **state)
{
	policy_release(&P);
	return 0;
}

static void
decide(const struct policy *p, const char *vm, const char *user,
       struct gate_verdict *v, size_t argc, ...)
{
	const char *argv[8];
	struct gate_request q = { .vm = vm, .user = user, .timeout_s = 300 };
	va_list ap;

	va_start(ap, argc);
	for (size_t i = 0; i < argc && i < 8; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	q.form = argc > 0 ? BODY_ARGV : BODY_SCRIPT;
	q.argv = argv;
	q.argc = argc;
	gate_decide(p, DIR, &q, v);
}

static void
test_no_policy(void **state)
{
	struct policy empty;
	struct gate_verdict v;

	policy_init(&empty);
	decide(&empty, "work", NULL, &v, 2, "rm", "-rf");
	assert_int_equal(v.outcome, GATE_RUN);
	assert_true(v.no_policy);
	assert_string_equal(v.user, "root");
	assert_int_equal(v.timeout_s, 300);
	assert_string_equal(v.rule, "none");
	decide(&empty, "work", "alice", &v, 0);
	assert_int_equal(v.outcome, GATE_RUN);
	assert_string_equal(v.user, "alice");
}

static void
test_allow(void **state)
{
	struct gate_verdict v;

	decide(&P, "work", NULL, &v, 2, "id", "-u");
	assert_int_equal(v.outcome, GATE_RUN);
	assert_false(v.no_policy);
	assert_string_equal(v.user, "root");
	assert_string_equal(v.rule, DIR "/30-test.policy:1");
	assert_int_equal(v.timeout_s, 300);
	decide(&P, "work", "alice", &v, 1, "id");
	assert_int_equal(v.outcome, GATE_RUN);
	assert_string_equal(v.user, "alice");
	assert_string_equal(v.rule, DIR "/30-test.policy:2");
	/* the least of the request's and the rule's */
	decide(&P, "work", NULL, &v, 2, "sleep", "60");
	assert_int_equal(v.timeout_s, 5);
	decide(&P, "other", "bob", &v, 0);
	assert_int_equal(v.outcome, GATE_RUN);
	assert_string_equal(v.user, "bob");
}

static void
test_deny(void **state)
{
	struct gate_verdict v;

	decide(&P, "work", NULL, &v, 3, "qvm-run", "dom0", "sh");
	assert_int_equal(v.outcome, GATE_REFUSE);
	assert_int_equal(v.d.action, POLICY_DENY);
	assert_string_equal(v.reason, "denied by policy: " DIR
			    "/30-test.policy:4");
	decide(&P, "work", NULL, &v, 1, "cat");
	assert_int_equal(v.outcome, GATE_REFUSE);
	assert_string_equal(v.reason, "denied by policy: no rule");
	assert_string_equal(v.rule, "none");
	/* a user no rule names, a script where only vectors are allowed */
	decide(&P, "work", "mallory", &v, 1, "id");
	assert_string_equal(v.reason, "denied by policy: no rule");
	decide(&P, "work", NULL, &v, 0);
	assert_int_equal(v.outcome, GATE_REFUSE);
	/* a malformed request is denied as by no rule */
	decide(&P, "not a vm", NULL, &v, 1, "id");
	assert_int_equal(v.outcome, GATE_REFUSE);
	assert_string_equal(v.reason, "denied by policy: no rule");
}

static void
test_ask_waits(void **state)
{
	struct gate_verdict v;

	decide(&P, "work", NULL, &v, 4, "qvm-prefs", "work", "memory", "400");
	assert_int_equal(v.outcome, GATE_ASK);
	assert_int_equal(v.d.action, POLICY_ASK);
	assert_string_equal(v.reason, "waiting for approval in dom0 (ask: " DIR
			    "/30-test.policy:5)");
	/* what a person would approve: the rule's user and timeout */
	assert_string_equal(v.user, "root");
	assert_int_equal(v.timeout_s, 300);
}

/* A reason is printable ASCII and fits REASON_MAX: a long directory is
 * named by the file alone there, the log's rule keeps the whole path. */
static void
test_reason_fits(void **state)
{
	char dir[600];
	struct gate_request q = { .vm = "work", .form = BODY_ARGV,
				  .timeout_s = 300 };
	const char *argv[] = { "qvm-run" };
	struct gate_verdict v;

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[10] = '\x1b';
	dir[sizeof(dir) - 1] = '\0';
	q.argv = argv;
	q.argc = 1;
	gate_decide(&P, dir, &q, &v);
	assert_true(strlen(v.reason) <= REASON_MAX);
	assert_string_equal(v.reason, "denied by policy: 30-test.policy:4");
	assert_int_equal(strlen(v.rule), strlen(dir) + strlen("/30-test.policy:4"));
	assert_null(strchr(v.rule, '\x1b'));
	assert_int_equal(v.rule[10], '?');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_deny),
		cmocka_unit_test(test_ask_waits),
		cmocka_unit_test(test_reason_fits),
	};

	return cmocka_run_group_tests_name("gate", tests, setup, teardown);
}
