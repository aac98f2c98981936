/*
 * test_client_args.c - the command line: options before the command pass to
 * qvm-remote, everything from the command on passes to dom0.
 */
#include "args.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "err.h"

#include "banned.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a[0])))

static int parse(int argc, char **argv, struct args *a, char *err)
{
	return args_parse(argc, argv, a, err, ARGS_ERR_MAX);
}

static void test_command_words_pass_through(void **state)
{
	char *v[] = { "qvm-remote", "-t", "5", "qvm-ls", "--running", "-q" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.mode, MODE_RUN);
	assert_int_equal(a.timeout, 5);
	assert_int_equal(a.quiet, 0);          /* -q belonged to qvm-ls */
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "qvm-ls");
	assert_string_equal(a.argv[2], "-q");
	assert_int_equal(a.claim_wait, CLAIM_WAIT_DEFAULT);
}

static void test_option_forms(void **state)
{
	char *v[] = { "qvm-remote", "-vt7", "--input=f.bin", "--json",
		      "--wait", "9", "true" };
	char *w[] = { "qvm-remote", "-qi", "-", "--timeout", "86400", "x" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_true(a.verbose);
	assert_int_equal(a.timeout, 7);
	assert_string_equal(a.input, "f.bin");
	assert_true(a.json);
	assert_int_equal(a.claim_wait, 9);
	assert_int_equal(a.argc, 1);
	assert_int_equal(parse(ARGC(w), w, &a, err), 0);
	assert_true(a.quiet);
	assert_string_equal(a.input, "-");
	assert_int_equal(a.timeout, TIMEOUT_MAX);
}

static void test_no_command_is_stdin(void **state)
{
	char *v[] = { "qvm-remote", "-q" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.mode, MODE_RUN);
	assert_int_equal(a.argc, 0);
}

static void bad(int argc, char **argv, const char *needle)
{
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(argc, argv, &a, err), QR_ERR_INVALID);
	if (!strstr(err, needle))
		fail_msg("'%s' does not mention '%s'", err, needle);
}

static void test_bad_values(void **state)
{
	char *t0[] = { "qvm-remote", "-t", "0", "x" };
	char *tbig[] = { "qvm-remote", "-t", "86401", "x" };
	char *tneg[] = { "qvm-remote", "-t", "-5", "x" };
	char *tlead[] = { "qvm-remote", "-t", "05", "x" };
	char *tmiss[] = { "qvm-remote", "-t" };
	char *unk[] = { "qvm-remote", "-X", "x" };
	char *unkl[] = { "qvm-remote", "--frobnicate", "x" };
	char *noval[] = { "qvm-remote", "--json=1", "x" };
	char *both[] = { "qvm-remote", "-q", "-v", "x" };

	bad(ARGC(t0), t0, "-t needs whole seconds from 1 to 86400");
	bad(ARGC(tbig), tbig, "'86401'");
	bad(ARGC(tneg), tneg, "'-5'");
	bad(ARGC(tlead), tlead, "'05'");
	bad(ARGC(tmiss), tmiss, "-t needs a value");
	bad(ARGC(unk), unk, "unknown option '-X'");
	bad(ARGC(unkl), unkl, "unknown option '--frobnicate'");
	bad(ARGC(noval), noval, "--json takes no value");
	bad(ARGC(both), both, "contradict");
}

/* -x: the words are the vector as they are; -u: the dom0 user (issue 15) */
static void test_exact_and_user(void **state)
{
	char *x[] = { "qvm-remote", "-x", "printf", "%s|", "a b", "", "*" };
	char *xu[] = { "qvm-remote", "-xu", "alice", "--", "id", "-u" };
	char *lu[] = { "qvm-remote", "--user=_svc", "--exact", "status" };
	char *us[] = { "qvm-remote", "-u", "bob", "sleep 1" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(x), x, &a, err), 0);
	assert_int_equal(a.mode, MODE_RUN);
	assert_true(a.exact);
	assert_null(a.user);
	assert_int_equal(a.argc, 5);
	assert_string_equal(a.argv[0], "printf");
	assert_string_equal(a.argv[3], "");
	assert_int_equal(parse(ARGC(xu), xu, &a, err), 0);
	assert_true(a.exact);
	assert_string_equal(a.user, "alice");
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "-u");
	/* with -x a first word named like a subcommand is the program */
	assert_int_equal(parse(ARGC(lu), lu, &a, err), 0);
	assert_int_equal(a.mode, MODE_RUN);
	assert_string_equal(a.user, "_svc");
	assert_string_equal(a.argv[0], "status");
	assert_int_equal(parse(ARGC(us), us, &a, err), 0);
	assert_false(a.exact);
	assert_string_equal(a.user, "bob");
}

static void test_exact_and_user_refused(void **state)
{
	char *xnone[] = { "qvm-remote", "-x" };
	char *ubad[] = { "qvm-remote", "-u", "Root", "x" };
	char *ulong[] = { "qvm-remote", "-u",
			  "abcdefghijklmnopqrstuvwxyz0123456", "x" };
	char *unone[] = { "qvm-remote", "-u" };
	char *usub[] = { "qvm-remote", "-u", "bob", "status" };

	bad(ARGC(xnone), xnone, "-x needs the program and its arguments");
	bad(ARGC(ubad), ubad, "-u needs a dom0 user name");
	bad(ARGC(ulong), ulong, "at most 32 bytes");
	bad(ARGC(unone), unone, "-u needs a value");
	bad(ARGC(usub), usub, "apply to commands, not to 'status'");
}

static void test_subcommands(void **state)
{
	char *k[] = { "qvm-remote", "key", "gen", "--force" };
	char *h[] = { "qvm-remote", "history", "25" };
	char *l[] = { "qvm-remote", "-q", "log" };
	char *q[] = { "qvm-remote", "queue", "clean", "--pending" };
	char *qs[] = { "qvm-remote", "queue" };
	char *p[] = { "qvm-remote", "ping" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(k), k, &a, err), 0);
	assert_int_equal(a.mode, MODE_KEY);
	assert_int_equal(a.key, KEY_GEN);
	assert_true(a.force);
	assert_int_equal(parse(ARGC(h), h, &a, err), 0);
	assert_int_equal(a.mode, MODE_HISTORY);
	assert_int_equal(a.count, 25);
	assert_int_equal(parse(ARGC(l), l, &a, err), 0);
	assert_int_equal(a.mode, MODE_LOG);
	assert_int_equal(a.count, 20);
	assert_int_equal(parse(ARGC(q), q, &a, err), 0);
	assert_int_equal(a.queue, QUEUE_CLEAN);
	assert_true(a.pending);
	assert_int_equal(parse(ARGC(qs), qs, &a, err), 0);
	assert_int_equal(a.mode, MODE_QUEUE);
	assert_int_equal(a.queue, QUEUE_STATUS);
	assert_int_equal(parse(ARGC(p), p, &a, err), 0);
	assert_int_equal(a.mode, MODE_PING);
}

static void test_bad_subcommands(void **state)
{
	char *imp[] = { "qvm-remote", "key", "import", "0123abcd" };
	char *kx[] = { "qvm-remote", "key", "rotate" };
	char *kf[] = { "qvm-remote", "key", "show", "--force" };
	char *hc[] = { "qvm-remote", "history", "0" };
	char *pa[] = { "qvm-remote", "status", "now" };
	char *js[] = { "qvm-remote", "--json", "status" };

	/* The key never comes from argv. */
	bad(ARGC(imp), imp, "stdin only");
	bad(ARGC(kx), kx, "unknown key action 'rotate'");
	bad(ARGC(kf), kf, "unexpected '--force'");
	bad(ARGC(hc), hc, "count from 1");
	bad(ARGC(pa), pa, "qvm-remote -- status");
	bad(ARGC(js), js, "apply to commands");
}

/* A near-miss of a verb is refused, not run as root in dom0; -- and -x
 * run it, and commands of dom0 a letter from a short verb run. */
static void test_typo_of_a_verb(void **state)
{
	char *typos[][2] = {
		{ "qvm-remote", "stauts" }, { "qvm-remote", "histroy" },
		{ "qvm-remote", "queu" }, { "qvm-remote", "statsu" },
		{ "qvm-remote", "hisstory" }, { "qvm-remote", "pnig" },
		{ "qvm-remote", "satus" },
	};
	char *runs[][2] = {
		{ "qvm-remote", "cp" }, { "qvm-remote", "pin" },
		{ "qvm-remote", "keys" }, { "qvm-remote", "lo" },
		{ "qvm-remote", "qvm-ls" }, { "qvm-remote", "stat" },
		{ "qvm-remote", "dog" }, { "qvm-remote", "cmp" },
		{ "qvm-remote", "mpc" }, { "qvm-remote", "kye" },
	};
	char *dd[] = { "qvm-remote", "--", "stauts" };
	char *x[] = { "qvm-remote", "-x", "stauts" };
	char err[ARGS_ERR_MAX];
	struct args a;

	for (size_t i = 0; i < ARGC(typos); i++)
		bad(2, typos[i], "did you mean");
	bad(2, typos[0], "'stauts' is not a verb of qvm-remote; did you mean "
	    "'status'? To run 'stauts' in dom0: qvm-remote -- stauts");
	for (size_t i = 0; i < ARGC(runs); i++) {
		assert_int_equal(parse(2, runs[i], &a, err), 0);
		assert_int_equal(a.mode, MODE_RUN);
	}
	assert_int_equal(parse(ARGC(dd), dd, &a, err), 0);
	assert_string_equal(a.argv[0], "stauts");
	assert_int_equal(parse(ARGC(x), x, &a, err), 0);
	assert_string_equal(a.argv[0], "stauts");
}

static void test_dashdash_runs_subcommand_names(void **state)
{
	char *v[] = { "qvm-remote", "--", "status", "-x" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.mode, MODE_RUN);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "status");
}

static void test_help_version_wait(void **state)
{
	char *h[] = { "qvm-remote", "--help", "whatever" };
	char *v[] = { "qvm-remote", "-V" };
	char *w[] = { "qvm-remote", "--wait-for-request", "30" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(h), h, &a, err), 0);
	assert_int_equal(a.mode, MODE_HELP);
	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.mode, MODE_VERSION);
	/* the wait moved to qvm-remote-agent */
	bad(ARGC(w), w, "unknown option");
}

/* -n as ssh's: stdin never read; it leaves no way to give the script */
static void test_no_stdin(void **state)
{
	char *n[] = { "qvm-remote", "-n", "-x", "cat" };
	char *ln[] = { "qvm-remote", "--no-stdin", "cat" };
	char *cl[] = { "qvm-remote", "-nqt5", "cat" };
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(ARGC(n), n, &a, err), 0);
	assert_true(a.no_stdin);
	assert_true(a.exact);
	assert_int_equal(a.argc, 1);
	assert_int_equal(parse(ARGC(ln), ln, &a, err), 0);
	assert_true(a.no_stdin);
	assert_int_equal(parse(ARGC(cl), cl, &a, err), 0);
	assert_true(a.no_stdin);
	assert_true(a.quiet);
	assert_int_equal(a.timeout, 5);
}

static void test_no_stdin_refused(void **state)
{
	char *ni[] = { "qvm-remote", "-n", "-i", "f.bin", "cat" };
	char *in[] = { "qvm-remote", "-i", "-", "-n", "cat" };
	char *nothing[] = { "qvm-remote", "-n" };
	char *sub[] = { "qvm-remote", "-n", "status" };
	char *mcp[] = { "qvm-remote", "-n", "mcp" };

	bad(ARGC(ni), ni, "-n (send no stdin) and -i");
	bad(ARGC(in), in, "contradict");
	bad(ARGC(nothing), nothing, "give the command as arguments");
	bad(ARGC(sub), sub, "-n");
	bad(ARGC(mcp), mcp, "not to 'mcp'");
}

static enum stdin_use use_of(int argc, char **argv, int tty)
{
	char err[ARGS_ERR_MAX];
	struct args a;

	assert_int_equal(parse(argc, argv, &a, err), 0);
	return args_stdin_use(&a, tty);
}

/* What is read from stdin, and when: as ssh, never a terminal */
static void test_stdin_use(void **state)
{
	char *cmd[] = { "qvm-remote", "cat" };
	char *x[] = { "qvm-remote", "-x", "sha256sum" };
	char *script[] = { "qvm-remote", "-q" };
	char *n[] = { "qvm-remote", "-n", "cat" };
	char *file[] = { "qvm-remote", "-i", "f.bin", "cat" };
	char *dash[] = { "qvm-remote", "-i", "-", "cat" };
	char *check[] = { "qvm-remote", "--check", "cat" };
	char *mcp[] = { "qvm-remote", "mcp" };
	char *imp[] = { "qvm-remote", "key", "import" };
	char *ping[] = { "qvm-remote", "ping" };

	assert_int_equal(use_of(ARGC(cmd), cmd, 0), STDIN_INPUT);
	assert_int_equal(use_of(ARGC(cmd), cmd, 1), STDIN_UNUSED);
	assert_int_equal(use_of(ARGC(x), x, 0), STDIN_INPUT);
	assert_int_equal(use_of(ARGC(script), script, 0), STDIN_SCRIPT);
	assert_int_equal(use_of(ARGC(n), n, 0), STDIN_UNUSED);
	assert_int_equal(use_of(ARGC(file), file, 0), STDIN_UNUSED);
	assert_int_equal(use_of(ARGC(dash), dash, 0), STDIN_INPUT);
	assert_int_equal(use_of(ARGC(dash), dash, 1), STDIN_INPUT);
	assert_int_equal(use_of(ARGC(check), check, 0), STDIN_UNUSED);
	/* mcp's stdin is its JSON-RPC; key import reads its own */
	assert_int_equal(use_of(ARGC(mcp), mcp, 0), STDIN_UNUSED);
	assert_int_equal(use_of(ARGC(imp), imp, 0), STDIN_UNUSED);
	assert_int_equal(use_of(ARGC(ping), ping, 0), STDIN_UNUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_words_pass_through),
		cmocka_unit_test(test_option_forms),
		cmocka_unit_test(test_no_command_is_stdin),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_exact_and_user),
		cmocka_unit_test(test_exact_and_user_refused),
		cmocka_unit_test(test_subcommands),
		cmocka_unit_test(test_bad_subcommands),
		cmocka_unit_test(test_typo_of_a_verb),
		cmocka_unit_test(test_dashdash_runs_subcommand_names),
		cmocka_unit_test(test_help_version_wait),
		cmocka_unit_test(test_no_stdin),
		cmocka_unit_test(test_no_stdin_refused),
		cmocka_unit_test(test_stdin_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
