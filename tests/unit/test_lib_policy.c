/*
 * test_lib_policy.c - policy files parsed and matched (lib/policy.h).
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

#include "err.h"

#include "banned.h"

static struct policy P;
static struct policy_error E;
static struct policy_decision D;

static int setup(void **state)
{
	policy_init(&P);
	memset(&E, 0, sizeof(E));
	return 0;
}

static int teardown(void **state)
{
	policy_release(&P);
	return 0;
}

static int add(const char *name, const char *text)
{
	return policy_add_file(&P, name, text, strlen(text), &E);
}

static void add_ok(const char *name, const char *text)
{
	int r = add(name, text);

	if (r != 0)
		fail_msg("refused (%d) %s:%u: %s\n%s", r, E.file, E.line,
			 E.reason, text);
}

static enum policy_action match_argv(const char *vm, const char *user,
				     const char *const *argv, size_t argc)
{
	struct policy_request req = { vm, POLICY_ARGV, argv, argc, user };

	assert_int_equal(policy_match(&P, &req, &D), 0);
	return D.action;
}

static enum policy_action match_script(const char *vm, const char *user)
{
	struct policy_request req = { vm, POLICY_SCRIPT, NULL, 0, user };

	assert_int_equal(policy_match(&P, &req, &D), 0);
	return D.action;
}

/* M("work", NULL, "qvm-ls", "-a"): the decision for that argv. */
#define M(vm, user, ...)                                                  \
	match_argv(vm, user, (const char *const[]){ __VA_ARGS__ },        \
		   sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *))

/* The last decision came from rule `line` with `action`. */
static void by_line(enum policy_action action, unsigned line)
{
	if (D.action != action || D.line != line)
		fail_msg("decision %s by line %u, expected %s by line %u",
			 policy_action_name(D.action), D.line,
			 policy_action_name(action), line);
}

static void no_rule(void)
{
	assert_int_equal(D.action, POLICY_DENY);
	assert_int_equal(D.line, 0);
	assert_string_equal(D.file, "");
	assert_string_equal(D.user, "");
	assert_int_equal(D.timeout, 0);
}

/* ---- actions ------------------------------------------------------------ */

static void test_actions(void **state)
{
	add_ok("a.policy",
	       "work allow qvm-ls\n"
	       "work deny  qvm-start *\n"
	       "work ask   qvm-prefs * * *\n"
	       "work allow @script\n"
	       "ci   deny  @script\n"
	       "test ask   @script\n");
	M("work", NULL, "qvm-ls");
	by_line(POLICY_ALLOW, 1);
	assert_string_equal(D.file, "a.policy");
	assert_string_equal(D.user, "root");
	assert_int_equal(D.timeout, 0);
	M("work", NULL, "qvm-start", "vm");
	by_line(POLICY_DENY, 2);
	M("work", NULL, "qvm-prefs", "vm", "netvm", "none");
	by_line(POLICY_ASK, 3);
	match_script("work", NULL);
	by_line(POLICY_ALLOW, 4);
	match_script("ci", NULL);
	by_line(POLICY_DENY, 5);
	match_script("test", NULL);
	by_line(POLICY_ASK, 6);
	/* argv patterns never match a script, @script never an argv */
	match_script("other", NULL);
	no_rule();
	M("work", NULL, "@script");
	no_rule();
	M("ci", NULL, "qvm-ls");
	no_rule();
}

static void test_any_vm_and_names(void **state)
{
	add_ok("a.policy", "*  allow qvm-ls\nwork allow qvm-prefs\n");
	M("anything", NULL, "qvm-ls");
	by_line(POLICY_ALLOW, 1);
	M("work", NULL, "qvm-prefs");
	by_line(POLICY_ALLOW, 2);
	/* names are compared exactly */
	M("Work", NULL, "qvm-prefs");
	no_rule();
	M("work2", NULL, "qvm-prefs");
	no_rule();
	assert_string_equal(policy_action_name(POLICY_ALLOW), "allow");
	assert_string_equal(policy_action_name(POLICY_DENY), "deny");
	assert_string_equal(policy_action_name(POLICY_ASK), "ask");
	assert_string_equal(policy_action_name((enum policy_action)7),
			    "unknown");
}

static void test_empty(void **state)
{
	assert_true(policy_empty(&P));
	M("work", NULL, "qvm-ls");
	no_rule();
	/* a file of comments is a policy: it denies everything */
	add_ok("a.policy", "# nothing yet\n\n   \t\n");
	assert_false(policy_empty(&P));
	assert_int_equal(P.n_rules, 0);
	assert_int_equal(P.n_files, 1);
	M("work", NULL, "qvm-ls");
	no_rule();
	add_ok("b.policy", "");
	assert_int_equal(P.n_files, 2);
	policy_release(&P);
	assert_true(policy_empty(&P));
}

/* ---- patterns ----------------------------------------------------------- */

static void test_empty_arguments(void **state)
{
	add_ok("a.policy", "work allow echo ''\nwork allow printf \"\" x\n");
	M("work", NULL, "echo", "");
	by_line(POLICY_ALLOW, 1);
	M("work", NULL, "echo", "a");
	no_rule();
	M("work", NULL, "echo");
	no_rule();
	M("work", NULL, "echo", "", "");
	no_rule();
	M("work", NULL, "printf", "", "x");
	by_line(POLICY_ALLOW, 2);
	M("work", NULL, "printf", "x");
	no_rule();
}

static void test_quotes_and_spaces(void **state)
{
	add_ok("a.policy",
	       "w allow echo 'a b'\n"
	       "w allow say \"x \\\"q\\\" \\\\ y\"\n"
	       "w allow cat a\\ b\n"
	       "w allow one a'b c'\"d e\"f\n"
	       "w allow raw \"\\n\\$\"\n"
	       "w allow sq 'it''s' '\\'\n"
	       "w allow tab 'a\tb'\n");
	M("w", NULL, "echo", "a b");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "echo", "a", "b");
	no_rule();
	M("w", NULL, "say", "x \"q\" \\ y");
	by_line(POLICY_ALLOW, 2);
	M("w", NULL, "cat", "a b");
	by_line(POLICY_ALLOW, 3);
	M("w", NULL, "one", "ab cd ef");
	by_line(POLICY_ALLOW, 4);
	/* inside double quotes only \" and \\ escape */
	M("w", NULL, "raw", "\\n\\$");
	by_line(POLICY_ALLOW, 5);
	/* single quotes take a backslash literally */
	M("w", NULL, "sq", "its", "\\");
	by_line(POLICY_ALLOW, 6);
	M("w", NULL, "tab", "a\tb");
	by_line(POLICY_ALLOW, 7);
}

static void test_quoted_globs_are_literal(void **state)
{
	add_ok("a.policy",
	       "w allow star '*'\n"
	       "w allow qm \"?\"\n"
	       "w allow br \\[a]\n"
	       "w allow br2 '[a]'\n"
	       "w allow mid a'*'b\n"
	       "w allow bs '\\*'\n"
	       "w allow cls [a'-'z]\n"
	       "w allow neg [\\!a]\n"
	       "w allow hash '#' \\#\n");
	M("w", NULL, "star", "*");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "star", "x");
	no_rule();
	M("w", NULL, "qm", "?");
	by_line(POLICY_ALLOW, 2);
	M("w", NULL, "qm", "x");
	no_rule();
	M("w", NULL, "br", "[a]");
	by_line(POLICY_ALLOW, 3);
	M("w", NULL, "br", "a");
	no_rule();
	M("w", NULL, "br2", "[a]");
	by_line(POLICY_ALLOW, 4);
	M("w", NULL, "br2", "a");
	no_rule();
	M("w", NULL, "mid", "a*b");
	by_line(POLICY_ALLOW, 5);
	M("w", NULL, "mid", "axb");
	no_rule();
	M("w", NULL, "bs", "\\*");
	by_line(POLICY_ALLOW, 6);
	M("w", NULL, "bs", "\\x");
	no_rule();
	/* a quoted '-' in a class is a member, not a range */
	M("w", NULL, "cls", "-");
	by_line(POLICY_ALLOW, 7);
	M("w", NULL, "cls", "z");
	by_line(POLICY_ALLOW, 7);
	M("w", NULL, "cls", "b");
	no_rule();
	/* an escaped '!' does not negate */
	M("w", NULL, "neg", "!");
	by_line(POLICY_ALLOW, 8);
	M("w", NULL, "neg", "b");
	no_rule();
	M("w", NULL, "hash", "#", "#");
	by_line(POLICY_ALLOW, 9);
}

static void test_globs(void **state)
{
	add_ok("a.policy",
	       "w allow qvm-prefs *\n"
	       "w allow echo a*\n"
	       "w allow qvm-* x\n"
	       "w allow one ?\n"
	       "w allow cls [!-]* [a-c]\n"
	       "w allow path /srv/*\n");
	/* one pattern word is one argument, never two */
	M("w", NULL, "qvm-prefs", "a", "b");
	no_rule();
	M("w", NULL, "qvm-prefs", "a b");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "qvm-prefs", "");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "qvm-prefs");
	no_rule();
	M("w", NULL, "echo", "a b");
	by_line(POLICY_ALLOW, 2);
	M("w", NULL, "echo", "a", "b");
	no_rule();
	M("w", NULL, "echo", "ba");
	no_rule();
	/* the program may be a glob too */
	M("w", NULL, "qvm-run", "x");
	by_line(POLICY_ALLOW, 3);
	M("w", NULL, "one", "x");
	by_line(POLICY_ALLOW, 4);
	M("w", NULL, "one", "xy");
	no_rule();
	M("w", NULL, "one", "");
	no_rule();
	M("w", NULL, "cls", "name", "b");
	by_line(POLICY_ALLOW, 5);
	M("w", NULL, "cls", "-D", "b");
	no_rule();
	M("w", NULL, "cls", "x", "d");
	no_rule();
	/* fnmatch flags 0: '*' matches '/' and a leading '.' */
	M("w", NULL, "path", "/srv/a/../../etc/shadow");
	by_line(POLICY_ALLOW, 6);
}

static void test_rest_marker(void **state)
{
	add_ok("a.policy",
	       "w allow qvm-ls ...\n"
	       "w allow make -C /srv ...\n"
	       "w allow dots '...'\n"
	       "w allow dots2 \\... x\n");
	M("w", NULL, "qvm-ls");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "qvm-ls", "--running");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "qvm-ls", "a", "b", "c", "", "> x");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "make", "-C", "/srv");
	by_line(POLICY_ALLOW, 2);
	M("w", NULL, "make", "-C", "/srv", "all", "install");
	by_line(POLICY_ALLOW, 2);
	M("w", NULL, "make", "-C");
	no_rule();
	M("w", NULL, "make", "-C", "/etc", "all");
	no_rule();
	/* quoted, the three dots are one literal argument */
	M("w", NULL, "dots", "...");
	by_line(POLICY_ALLOW, 3);
	M("w", NULL, "dots");
	no_rule();
	M("w", NULL, "dots", "a");
	no_rule();
	M("w", NULL, "dots2", "...", "x");
	by_line(POLICY_ALLOW, 4);
}

static void test_long_vectors(void **state)
{
	enum { N = 10000 };
	static const char *argv[N];
	static char big[1 << 20];
	char line[8192];
	size_t i, k;

	add_ok("a.policy", "w allow echo *\nw deny echo ...\n");
	argv[0] = "echo";
	for (i = 1; i < N; i++)
		argv[i] = "x";
	match_argv("w", NULL, argv, N);
	by_line(POLICY_DENY, 2);
	match_argv("w", NULL, argv, 2);
	by_line(POLICY_ALLOW, 1);
	/* a megabyte argument */
	memset(big, 'a', sizeof(big) - 1);
	argv[1] = big;
	match_argv("w", NULL, argv, 2);
	by_line(POLICY_ALLOW, 1);
	policy_release(&P);

	/* 256 pattern words, the most a rule may have */
	k = (size_t)snprintf(line, sizeof(line), "w allow p");
	for (i = 1; i < POLICY_WORDS_MAX; i++)
		k += (size_t)snprintf(line + k, sizeof(line) - k, " *");
	snprintf(line + k, sizeof(line) - k, "\n");
	add_ok("a.policy", line);
	argv[0] = "p";
	for (i = 1; i < N; i++)
		argv[i] = "";
	match_argv("w", NULL, argv, POLICY_WORDS_MAX);
	by_line(POLICY_ALLOW, 1);
	match_argv("w", NULL, argv, POLICY_WORDS_MAX - 1);
	no_rule();
	match_argv("w", NULL, argv, N);
	no_rule();
}

static void test_long_words(void **state)
{
	static char text[POLICY_WORD_MAX + 64], word[POLICY_WORD_MAX + 2];

	memset(word, 'a', POLICY_WORD_MAX);
	word[POLICY_WORD_MAX] = '\0';
	snprintf(text, sizeof(text), "w allow '%s'\n", word);
	add_ok("a.policy", text);
	M("w", NULL, word);
	by_line(POLICY_ALLOW, 1);
	word[POLICY_WORD_MAX - 1] = '\0';
	M("w", NULL, word);
	no_rule();
	/* one byte more is refused */
	memset(word, 'a', POLICY_WORD_MAX + 1);
	word[POLICY_WORD_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "w allow x %s\n", word);
	assert_int_equal(add("b.policy", text), QR_ERR_TOO_LARGE);
	assert_int_equal(E.line, 1);
	assert_string_equal(E.reason, "a word is longer than 1024 bytes");
}

/* ---- order, users, options ---------------------------------------------- */

static void test_first_match_across_files(void **state)
{
	add_ok("10-a.policy", "# first\nwork deny qvm-ls\n");
	add_ok("20-b.policy",
	       "work allow qvm-ls\nwork allow qvm-prefs ...\n* deny ...x\n");
	M("work", NULL, "qvm-ls");
	by_line(POLICY_DENY, 2);
	assert_string_equal(D.file, "10-a.policy");
	M("work", NULL, "qvm-prefs", "a");
	by_line(POLICY_ALLOW, 2);
	assert_string_equal(D.file, "20-b.policy");
	assert_int_equal(P.n_files, 2);
	assert_int_equal(P.n_rules, 4);
}

static void test_user_fit(void **state)
{
	add_ok("a.policy",
	       "ci allow user=builder make ...\n"
	       "ci allow make ...\n"
	       "ci ask user=alice @script\n");
	/* no user asked: the first rule fits and names the user */
	M("ci", NULL, "make");
	by_line(POLICY_ALLOW, 1);
	assert_string_equal(D.user, "builder");
	/* the rule's own user fits */
	M("ci", "builder", "make", "all");
	by_line(POLICY_ALLOW, 1);
	assert_string_equal(D.user, "builder");
	/* root fits a rule without user= only */
	M("ci", "root", "make");
	by_line(POLICY_ALLOW, 2);
	assert_string_equal(D.user, "root");
	/* a user no rule names fits nothing */
	M("ci", "alice", "make");
	no_rule();
	match_script("ci", "alice");
	by_line(POLICY_ASK, 3);
	assert_string_equal(D.user, "alice");
	match_script("ci", "root");
	no_rule();
	match_script("ci", NULL);
	by_line(POLICY_ASK, 3);
	assert_string_equal(D.user, "alice");
	/* user=root is the same as no user= */
	policy_release(&P);
	add_ok("b.policy", "w allow user=root id\n");
	M("w", "root", "id");
	by_line(POLICY_ALLOW, 1);
	M("w", NULL, "id");
	assert_string_equal(D.user, "root");
}

static void test_options(void **state)
{
	add_ok("a.policy",
	       "agent ask timeout=60 qvm-prefs * * *\n"
	       "agent allow timeout=86400 user=_svc-1 a\n"
	       "agent allow user=b timeout=1 b\n"
	       "agent allow 'x=y' c\n"
	       "agent allow \\user=z\n");
	M("agent", NULL, "qvm-prefs", "a", "b", "c");
	by_line(POLICY_ASK, 1);
	assert_int_equal(D.timeout, 60);
	assert_string_equal(D.user, "root");
	M("agent", NULL, "a");
	by_line(POLICY_ALLOW, 2);
	assert_int_equal(D.timeout, 86400);
	assert_string_equal(D.user, "_svc-1");
	M("agent", NULL, "b");
	by_line(POLICY_ALLOW, 3);
	assert_int_equal(D.timeout, 1);
	assert_string_equal(D.user, "b");
	/* quoted, a word with '=' is a program */
	M("agent", NULL, "x=y", "c");
	by_line(POLICY_ALLOW, 4);
	M("agent", NULL, "user=z");
	by_line(POLICY_ALLOW, 5);
	assert_string_equal(D.user, "root");
}

static void test_comments_and_layout(void **state)
{
	add_ok("a.policy",
	       "# a comment\n"
	       "   # indented comment\n"
	       "\n"
	       "w\tallow\tqvm-ls # the list\n"
	       "w allow echo a#b\n"
	       "w allow last");
	M("w", NULL, "qvm-ls");
	by_line(POLICY_ALLOW, 4);
	/* an unquoted '#' starts a comment, in a word too */
	M("w", NULL, "echo", "a");
	by_line(POLICY_ALLOW, 5);
	M("w", NULL, "echo", "a#b");
	no_rule();
	/* the last line needs no '\n' */
	M("w", NULL, "last");
	by_line(POLICY_ALLOW, 6);
}

static void test_bad_requests(void **state)
{
	const char *argv[] = { "qvm-ls", NULL };
	struct policy_request req = { "work", POLICY_ARGV, argv, 1, NULL };

	add_ok("a.policy", "* allow * ...\n* allow @script\n");
	assert_int_equal(policy_match(&P, &req, &D), 0);
	by_line(POLICY_ALLOW, 1);
	req.vm = "dom0";
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	no_rule();
	req.vm = NULL;
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	no_rule();
	req.vm = "work";
	req.argc = 0;
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	req.argc = 2;
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	req.argc = 1;
	req.user = "Root";
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	no_rule();
	req.user = NULL;
	req.kind = (enum policy_kind)9;
	assert_int_equal(policy_match(&P, &req, &D), QR_ERR_INVALID);
	assert_int_equal(policy_match(&P, NULL, &D), QR_ERR_INVALID);
	no_rule();
}

static void test_user_names(void **state)
{
	assert_true(policy_user_valid("root"));
	assert_true(policy_user_valid("_a-1"));
	assert_true(policy_user_valid("abcdefghijklmnopqrstuvwxyz012345"));
	assert_false(policy_user_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	assert_false(policy_user_valid(""));
	assert_false(policy_user_valid(NULL));
	assert_false(policy_user_valid("Alice"));
	assert_false(policy_user_valid("1a"));
	assert_false(policy_user_valid("-a"));
	assert_false(policy_user_valid("a b"));
	assert_false(policy_user_valid("a.b"));
	assert_false(policy_user_valid("a$"));
}

/* ---- malformed files ---------------------------------------------------- */

/*
 * Adds a good file, then text[0..n), which must fail with code at line,
 * its reason containing `reason`; the policy must be as before.
 */
static void refused_n(const char *text, size_t n, int code, unsigned line,
		      const char *reason)
{
	int r;

	policy_release(&P);
	add_ok("00-base.policy", "work allow qvm-ls\n");
	memset(&E, 0, sizeof(E));
	r = policy_add_file(&P, "50-bad.policy", text, n, &E);
	if (r != code || E.line != line || strstr(E.reason, reason) == NULL)
		fail_msg("got %d line %u '%s', expected %d line %u '%s' for:\n%s",
			 r, E.line, E.reason, code, line, reason, text);
	assert_string_equal(E.file, "50-bad.policy");
	assert_int_equal(P.n_files, 1);
	assert_int_equal(P.n_rules, 1);
	M("work", NULL, "qvm-ls");
	by_line(POLICY_ALLOW, 1);
	assert_string_equal(D.file, "00-base.policy");
	M("work", NULL, "anything");
	no_rule();
}

static void refused(const char *text, unsigned line, const char *reason)
{
	refused_n(text, strlen(text), QR_ERR_INVALID, line, reason);
}

static void test_malformed(void **state)
{
	const char *ok = "# fine\nwork allow x\n";
	char text[256];

	refused("work permit qvm-ls\n", 1, "unknown action 'permit'");
	refused("work 'allow' qvm-ls\n", 1, "unknown action");
	refused("work\n", 1, "missing action");
	refused("work allow\n", 1, "missing command pattern");
	refused("work allow user=a\n", 1, "missing command pattern");
	refused("work allow usr=alice qvm-ls\n", 1, "unknown option 'usr=alice'");
	refused("work allow =x qvm-ls\n", 1, "unknown option");
	refused("work allow user=a user=b x\n", 1, "option 'user' given twice");
	refused("work allow user=a user=a x\n", 1, "option 'user' given twice");
	refused("work ask timeout=1 timeout=2 x\n", 1,
		"option 'timeout' given twice");
	refused("work deny timeout=5 x\n", 1, "timeout= has no effect");
	refused("@anyvm allow x\n", 1, "'@anyvm' is not a VM name or '*'");
	refused("dom0 allow x\n", 1, "not a VM name");
	refused("wo*k allow x\n", 1, "not a VM name");
	refused("'work' allow x\n", 1, "not a VM name");
	refused("work-dm allow x\n", 1, "not a VM name");
	refused("1work allow x\n", 1, "not a VM name");
	refused("** allow x\n", 1, "not a VM name");
	refused("work allow a ... b\n", 1, "'...' must be the last word");
	refused("work allow ...\n", 1, "needs a program pattern");
	refused("work allow ... ...\n", 1, "'...' must be the last word");
	refused("work allow @script x\n", 1, "'@script' must be the whole");
	refused("work allow x @script\n", 1, "'@script' must be the whole");
	refused("work allow @anything\n", 1, "unknown keyword '@anything'");
	refused("work allow x 'y\n", 1, "unterminated single quote");
	refused("work allow x \"y\n", 1, "unterminated double quote");
	refused("work allow x \"y\\\"\n", 1, "unterminated double quote");
	refused("work allow x\\\n", 1, "backslash at the end of the line");
	refused("work allow x [ab\n", 1, "'[' without a closing ']'");
	refused("work allow x []\n", 1, "'[' without a closing ']'");
	refused("work allow x [!]\n", 1, "'[' without a closing ']'");
	refused_n("work allow x\0y\n", 15, QR_ERR_INVALID, 1, "NUL byte");
	refused_n("# ok\n#\0\n", 8, QR_ERR_INVALID, 2, "NUL byte");
	refused("work allow x\r\n", 1, "carriage return (CRLF");
	refused("# comment\r\n", 1, "carriage return");
	refused("work allow \x1b[1mx\n", 1, "control byte 0x1b");
	refused("work allow x\x7f\n", 1, "control byte 0x7f");
	refused("# \x0c\n", 1, "control byte 0x0c");
	refused("work ask timeout=0 x\n", 1, "bad timeout '0'");
	refused("work ask timeout=00 x\n", 1, "bad timeout");
	refused("work ask timeout=060 x\n", 1, "bad timeout '060'");
	refused("work ask timeout=+5 x\n", 1, "bad timeout");
	refused("work ask timeout=-1 x\n", 1, "bad timeout");
	refused("work ask timeout=86401 x\n", 1, "bad timeout '86401'");
	refused("work ask timeout=99999999999999999999999 x\n", 1,
		"bad timeout");
	refused("work ask timeout=1s x\n", 1, "bad timeout");
	refused("work ask timeout= x\n", 1, "bad timeout ''");
	refused("work allow user=Alice x\n", 1, "bad user name 'Alice'");
	refused("work allow user=1a x\n", 1, "bad user name");
	refused("work allow user= x\n", 1, "bad user name ''");
	refused("work allow user=a=b x\n", 1, "bad user name 'a=b'");
	refused("work allow user=abcdefghijklmnopqrstuvwxyz0123456 x\n", 1,
		"bad user name");
	/* the line number counts every line, comments and blanks too */
	snprintf(text, sizeof(text), "%s\n\n# c\nwork allow 'x\n", ok);
	refused(text, 6, "unterminated single quote");
	snprintf(text, sizeof(text), "%swork\tbogus x\n%s", ok, ok);
	refused(text, 3, "unknown action 'bogus'");
}

static void test_limits(void **state)
{
	static char text[POLICY_FILE_MAX + 2];
	size_t i, k;

	/* a line of POLICY_LINE_MAX bytes is fine, one more is not */
	memset(text, 'a', POLICY_LINE_MAX);
	memcpy(text, "w allow x ", 10);
	for (i = 20; i < POLICY_LINE_MAX; i += 20)
		text[i] = ' ';
	text[POLICY_LINE_MAX] = '\n';
	assert_int_equal(policy_add_file(&P, "a", text, POLICY_LINE_MAX + 1,
					 &E), 0);
	text[POLICY_LINE_MAX] = 'a';
	text[POLICY_LINE_MAX + 1] = '\n';
	memcpy(text + POLICY_LINE_MAX + 2, "", 1);
	refused_n(text, POLICY_LINE_MAX + 2, QR_ERR_TOO_LARGE, 1,
		  "line is longer than 4096 bytes");

	/* more than 256 words in a pattern */
	k = (size_t)snprintf(text, sizeof(text), "w allow");
	for (i = 0; i <= POLICY_WORDS_MAX; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, " x");
	refused_n(text, k, QR_ERR_TOO_LARGE, 1, "more than 256 words");
	/* and far more words than that (the splitter's own bound) */
	k = (size_t)snprintf(text, sizeof(text), "w allow");
	for (i = 0; i < 1000; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, " x");
	refused_n(text, k, QR_ERR_TOO_LARGE, 1, "more than 256 words");

	/* a file over POLICY_FILE_MAX, even of comments */
	memset(text, '#', POLICY_FILE_MAX + 1);
	refused_n(text, POLICY_FILE_MAX + 1, QR_ERR_TOO_LARGE, 0,
		  "file is larger than 1048576 bytes");
}

static void test_too_many_rules(void **state)
{
	static char text[POLICY_RULES_MAX * 16];
	size_t i, k = 0;

	for (i = 0; i < POLICY_RULES_MAX; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k,
				      "w allow r%zu\n", i);
	/* with the base file's rule, one too many in this file */
	refused_n(text, k, QR_ERR_TOO_LARGE, POLICY_RULES_MAX,
		  "more than 4096 rules in all files");
	/* alone it fits; then not one more, in another file */
	policy_release(&P);
	assert_int_equal(policy_add_file(&P, "a", text, k, &E), 0);
	assert_int_equal(P.n_rules, POLICY_RULES_MAX);
	M("w", NULL, "r4095");
	by_line(POLICY_ALLOW, POLICY_RULES_MAX);
	assert_int_equal(add("b", "# only comments still fit\n"), 0);
	assert_int_equal(add("c", "\n\nw allow more\n"), QR_ERR_TOO_LARGE);
	assert_int_equal(E.line, 3);
	assert_string_equal(E.file, "c");
	assert_int_equal(P.n_rules, POLICY_RULES_MAX);
	assert_int_equal(P.n_files, 2);
}

static void test_file_names(void **state)
{
	char name[300];
	unsigned i;

	assert_int_equal(add("", "w allow x\n"), QR_ERR_INVALID);
	assert_int_equal(add("a\nb", "w allow x\n"), QR_ERR_INVALID);
	assert_string_equal(E.file, "a?b");
	assert_int_equal(E.line, 0);
	memset(name, 'n', 256);
	name[256] = '\0';
	assert_int_equal(add(name, "w allow x\n"), QR_ERR_INVALID);
	name[255] = '\0';
	assert_int_equal(add(name, "w allow x\n"), 0);
	assert_int_equal(policy_add_file(&P, "x", NULL, 1, &E), QR_ERR_INVALID);
	assert_int_equal(policy_add_file(&P, "x", NULL, 0, &E), 0);
	assert_int_equal(policy_add_file(&P, "x", "", 0, NULL), 0);
	/* POLICY_FILES_MAX files, then no more */
	for (i = P.n_files; i < POLICY_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "%03u.policy", i);
		assert_int_equal(add(name, "w allow x\n"), 0);
	}
	assert_int_equal(add("last.policy", ""), QR_ERR_TOO_LARGE);
	assert_string_equal(E.reason, "more than 256 policy files");
	assert_int_equal(P.n_files, POLICY_FILES_MAX);
}

/* The example of qvm-remote-policy(5) does what the page says. */
static void test_manual_example(void **state)
{
	add_ok("50-example.policy",
	       "# vm     action  [options]            command pattern\n"
	       "work     allow                        qvm-ls ...\n"
	       "*        allow                        qvm-prefs [A-Za-z]* [a-z]*\n"
	       "agent    ask     timeout=60           qvm-prefs [A-Za-z]* [a-z]* *\n"
	       "ci       allow   user=builder         make -C /srv/build '...'\n"
	       "*        deny                         @script\n");
	M("work", NULL, "qvm-ls", "--running", "-O", "name");
	by_line(POLICY_ALLOW, 2);
	M("ci", NULL, "qvm-prefs", "work", "netvm");
	by_line(POLICY_ALLOW, 3);
	M("ci", NULL, "qvm-prefs", "work", "netvm", "none");
	no_rule();
	M("ci", NULL, "qvm-prefs", "-D", "work");
	no_rule();
	M("agent", NULL, "qvm-prefs", "work", "netvm", "none");
	by_line(POLICY_ASK, 4);
	assert_int_equal(D.timeout, 60);
	M("ci", NULL, "make", "-C", "/srv/build", "...");
	by_line(POLICY_ALLOW, 5);
	assert_string_equal(D.user, "builder");
	M("ci", NULL, "make", "-C", "/srv/build", "all");
	no_rule();
	match_script("work", NULL);
	by_line(POLICY_DENY, 6);
}

/* The USERS section's example, case by case. */
static void test_manual_users(void **state)
{
	add_ok("a.policy", "ci  allow  user=builder  make -C /srv/build ...\n"
			   "ci  allow                make -C /srv/build\n");
	M("ci", NULL, "make", "-C", "/srv/build", "all");
	by_line(POLICY_ALLOW, 1);
	assert_string_equal(D.user, "builder");
	M("ci", "builder", "make", "-C", "/srv/build", "all");
	by_line(POLICY_ALLOW, 1);
	M("ci", "root", "make", "-C", "/srv/build");
	by_line(POLICY_ALLOW, 2);
	assert_string_equal(D.user, "root");
	M("ci", "root", "make", "-C", "/srv/build", "all");
	no_rule();
	M("ci", "alice", "make", "-C", "/srv/build");
	no_rule();
}

/* A decision outlives the policy it came from. */
static void test_decision_is_a_value(void **state)
{
	add_ok("a.policy", "w ask user=bob timeout=9 x\n");
	M("w", NULL, "x");
	policy_release(&P);
	by_line(POLICY_ASK, 1);
	assert_string_equal(D.file, "a.policy");
	assert_string_equal(D.user, "bob");
	assert_int_equal(D.timeout, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_vm_and_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quotes_and_spaces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quoted_globs_are_literal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_globs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rest_marker, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_vectors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_match_across_files,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_layout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup,
						teardown),
		cmocka_unit_test(test_user_names),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_example, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_manual_users, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decision_is_a_value, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
