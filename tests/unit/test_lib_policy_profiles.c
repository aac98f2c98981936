/*
 * test_lib_policy_profiles.c - the example profiles of etc/remote-policy/
 * allow what they say and nothing that writes or runs code.
 *
 * The files are read from the tree, relative to its top (where `make unit`
 * runs the tests).  Each command below is an argv request, its words split
 * at single spaces: "qvm-ls > x" is the three arguments qvm-ls, > and x,
 * which a shell would have read as a redirection.
 */
#include "policy.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"

#include "banned.h"

#define VM "agent"
#define ARGS_MAX 16

/* Reads: both profiles allow each of them. */
static const char *const reads[] = {
	"qvm-ls",
	"qvm-ls --running",
	"qvm-ls --raw-list",
	"qvm-ls --raw-data --fields NAME,STATE,CLASS",
	"qvm-ls -O name,state work",
	"qvm-ls --all --exclude work",
	"qvm-ls work",
	"qvm-check work",
	"qvm-check --running work",
	"qvm-check --quiet --paused work",
	"qvm-prefs work",
	"qvm-prefs work netvm",
	"qvm-prefs dom0 default_netvm",
	"qvm-features work",
	"qvm-features work gui",
	"qvm-features work service.crond",
	"qvm-service work",
	"qvm-service work crond",
	"qvm-tags work",
	"qvm-tags work list",
	"qvm-tags work ls",
	"qvm-tags work list audiovm",
	"qvm-volume",
	"qvm-volume list",
	"qvm-volume ls",
	"qvm-volume list work",
	"qvm-volume info work:private",
	"qvm-volume info work:root size",
	"qvm-device pci list",
	"qvm-device usb ls work",
	"qvm-device block list sys-usb",
	"qvm-block",
	"qvm-block list",
	"qvm-pci list work",
	"qvm-usb",
	"qvm-usb ls",
	"qvm-pool",
	"qvm-pool list",
	"qvm-pool info lvm",
	"qvm-pool drivers",
	"qvm-firewall work",
	"qvm-firewall work list",
};

/* Writes: readonly.policy denies each; agent.policy asks for each. */
static const char *const asked_writes[] = {
	"qvm-prefs work netvm none",
	"qvm-prefs work kernel 6.1",
	"qvm-prefs work qrexec_timeout 3600",
	"qvm-prefs -D work netvm",
	"qvm-features work gui 1",
	"qvm-features --unset work gui",
	"qvm-service work crond on",
	"qvm-tags work add trusted",
	"qvm-tags work del trusted",
	"qvm-start work",
	"qvm-shutdown work",
	"qvm-shutdown --wait work",
	"qvm-pause work",
	/* a value that is an option, or a shell's redirection: still a
	 * write, and the person asked sees it */
	"qvm-features work gui --unset",
	"qvm-prefs work netvm >x",
};

/* Denied by both profiles. */
static const char *const denied[] = {
	/* writes no profile asks for */
	"qvm-prefs --default work netvm",
	"qvm-prefs --set work label red",
	"qvm-prefs -s work netvm sys-net",
	"qvm-prefs --hide-default work",
	"qvm-features -D work gui",
	"qvm-service -e work crond",
	"qvm-service --disable work crond",
	"qvm-service -D work crond",
	"qvm-tags work a trusted",
	"qvm-tags work set trusted",
	"qvm-tags work d trusted",
	"qvm-tags work unset trusted",
	"qvm-tags work u trusted",
	"qvm-tags work add",
	"qvm-volume config work:private rw 0",
	"qvm-volume c work:private rw 0",
	"qvm-volume set work:private revisions_to_keep 0",
	"qvm-volume s work:private revisions_to_keep 0",
	"qvm-volume resize work:private 100G",
	"qvm-volume extend work:private 100G",
	"qvm-volume revert work:private",
	"qvm-volume import work:private /dev/stdin",
	"qvm-volume clear work:private",
	"qvm-volume info work:private revisions_to_keep 0",
	"qvm-volume info -D work:private",
	"qvm-device pci attach work dom0:00_1",
	"qvm-device pci a work dom0:00_1",
	"qvm-device pci at work dom0:00_1",
	"qvm-device usb detach work sys-usb:2-1",
	"qvm-device usb d work sys-usb:2-1",
	"qvm-device block assign work sys-usb:sda",
	"qvm-device pci list --all work",
	"qvm-block attach work sys-usb:sda",
	"qvm-block a work sys-usb:sda",
	"qvm-pci attach --persistent work dom0:00_1",
	"qvm-usb attach work sys-usb:2-1",
	"qvm-pool add p file",
	"qvm-pool remove lvm",
	"qvm-pool rm lvm",
	"qvm-pool set lvm -o revisions_to_keep=0",
	"qvm-pool -a p lvm",
	"qvm-pool -r lvm",
	"qvm-pool d",
	"qvm-firewall work add accept",
	"qvm-firewall work del --rule-no 1",
	"qvm-firewall work reset",
	"qvm-firewall --reload work",
	"qvm-firewall -r work list",
	"qvm-firewall work list --raw",
	/* code: a shell, an interpreter, anything that runs its arguments */
	"bash",
	"bash -c id",
	"sh",
	"sh -c qvm-ls",
	"dash",
	"sudo id",
	"sudo -u root qvm-ls",
	"qvm-run work id",
	"qvm-run -p --user root work id",
	"qvm-run --dispvm id",
	"python3",
	"python3 -c import",
	"env bash",
	"env qvm-ls",
	"nice qvm-ls",
	"xargs qvm-prefs",
	"find / -exec sh ;",
	"vi /etc/passwd",
	"qvm-start --cdrom work:/x work",
	"qvm-kill work",
	"qvm-remove work",
	"qvm-create -l red x",
	"qvm-clone work x",
	"qvm-copy-to-vm work /etc/shadow",
	"/usr/bin/qvm-ls",
	"./qvm-ls",
	/* what a shell would read as redirections and lists is not a read */
	"qvm-ls > /etc/x",
	"qvm-ls >> x",
	"qvm-ls 2>x",
	"qvm-ls --raw-list 2>/dev/null",
	"qvm-ls | sh",
	"qvm-ls ; bash",
	"qvm-ls && bash",
	"qvm-ls & bash",
	"qvm-ls $(id)",
	"qvm-ls `id`",
	"qvm-ls < x",
	"qvm-prefs work > x",
	"qvm-prefs > x",
	"qvm-check work > x",
	"qvm-tags work list > x",
	"qvm-volume info work:private > x",
	"qvm-pool info > x",
	/* options where a name goes */
	"qvm-prefs -- work",
	"qvm-features --help work",
	"qvm-tags -v work",
	"qvm-prefs @fromfile",
	"qvm-ls 1 2 3 4 5",
	"qvm-ls a b c d e",
};

static struct policy readonly_p, agent_p;

static void load(struct policy *p, const char *path)
{
	struct buf b = BUF_INIT(POLICY_FILE_MAX);
	struct policy_error err;
	int r;

	if ((r = read_file(path, &b)) != 0)
		fail_msg("cannot read %s (%d); run the tests from the tree's "
			 "top", path, r);
	policy_init(p);
	if ((r = policy_add_file(p, strrchr(path, '/') + 1, buf_str(&b),
				 b.len, &err)) != 0)
		fail_msg("%s:%u: %s", err.file, err.line, err.reason);
	buf_release(&b);
}

static int setup(void **state)
{
	load(&readonly_p, "etc/remote-policy/readonly.policy");
	load(&agent_p, "etc/remote-policy/agent.policy");
	return 0;
}

static int teardown(void **state)
{
	policy_release(&readonly_p);
	policy_release(&agent_p);
	return 0;
}

/* The decision for cmd split at spaces, as the VM's default user. */
static struct policy_decision decide(const struct policy *p, const char *cmd,
				     const char *user)
{
	char copy[256], *argv[ARGS_MAX], *s;
	struct policy_request req = { VM, POLICY_ARGV, NULL, 0, user };
	struct policy_decision d;

	assert_true(strlen(cmd) < sizeof(copy));
	memcpy(copy, cmd, strlen(cmd) + 1);
	for (s = copy; s != NULL;) {
		assert_true(req.argc < ARGS_MAX);
		argv[req.argc++] = s;
		if ((s = strchr(s, ' ')) != NULL)
			*s++ = '\0';
	}
	req.argv = (const char *const *)argv;
	assert_int_equal(policy_match(p, &req, &d), 0);
	return d;
}

static void expect(const struct policy *p, const char *name,
		   const char *const *cmds, size_t n, enum policy_action want)
{
	struct policy_decision d;
	size_t i;

	for (i = 0; i < n; i++) {
		d = decide(p, cmds[i], NULL);
		if (d.action != want)
			fail_msg("%s: '%s' is %s (line %u), expected %s", name,
				 cmds[i], policy_action_name(d.action), d.line,
				 policy_action_name(want));
		if (want != POLICY_DENY)
			assert_string_equal(d.user, "root");
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_readonly(void **state)
{
	expect(&readonly_p, "readonly", reads, N(reads), POLICY_ALLOW);
	expect(&readonly_p, "readonly", asked_writes, N(asked_writes),
	       POLICY_DENY);
	expect(&readonly_p, "readonly", denied, N(denied), POLICY_DENY);
}

static void test_agent(void **state)
{
	struct policy_decision d;

	expect(&agent_p, "agent", reads, N(reads), POLICY_ALLOW);
	expect(&agent_p, "agent", asked_writes, N(asked_writes), POLICY_ASK);
	expect(&agent_p, "agent", denied, N(denied), POLICY_DENY);
	d = decide(&agent_p, "qvm-prefs work netvm none", NULL);
	assert_true(d.timeout > 0);
}

static void test_scripts_and_users(void **state)
{
	struct policy_request req = { VM, POLICY_SCRIPT, NULL, 0, NULL };
	struct policy_decision d;

	assert_int_equal(policy_match(&readonly_p, &req, &d), 0);
	assert_int_equal(d.action, POLICY_DENY);
	assert_true(d.line > 0);
	assert_int_equal(policy_match(&agent_p, &req, &d), 0);
	assert_int_equal(d.action, POLICY_DENY);
	assert_true(d.line > 0);
	/* the rules run as root: asking for root fits, another user not */
	d = decide(&readonly_p, "qvm-ls", "root");
	assert_int_equal(d.action, POLICY_ALLOW);
	d = decide(&readonly_p, "qvm-ls", "alice");
	assert_int_equal(d.action, POLICY_DENY);
	assert_int_equal(d.line, 0);
	d = decide(&agent_p, "qvm-start work", "alice");
	assert_int_equal(d.action, POLICY_DENY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_agent),
		cmocka_unit_test(test_scripts_and_users),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
