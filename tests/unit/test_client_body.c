/*
 * test_client_body.c - building the command body from argv and the rules it
 * must pass before anything is written.
 */
#include "body.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "argvbody.h"
#include "bounds.h"
#include "err.h"

#include "banned.h"

static void test_join_like_ssh(void **state)
{
	struct buf b = BUF_INIT(BODY_MAX);
	char *argv[] = { "qvm-ls", "--running", "a b", "" };

	assert_int_equal(body_join(&b, 2, argv), 0);
	assert_string_equal(buf_str(&b), "qvm-ls --running\n");
	buf_reset(&b);
	/* Words are not quoted: "a b" stays two words for bash, as in ssh. */
	assert_int_equal(body_join(&b, 4, argv), 0);
	assert_string_equal(buf_str(&b), "qvm-ls --running a b \n");
	buf_reset(&b);
	assert_int_equal(body_join(&b, 1, argv + 3), 0);
	assert_string_equal(buf_str(&b), "\n");
	buf_release(&b);
}

static void test_join_limit(void **state)
{
	struct buf b = BUF_INIT(8);
	char *argv[] = { "echo", "abc" };   /* "echo abc\n" is 9 bytes */

	assert_int_equal(body_join(&b, 2, argv), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	b.max = 9;
	assert_int_equal(body_join(&b, 2, argv), 0);
	assert_int_equal(b.len, 9);
	buf_release(&b);
}

static void expect_form(enum body_form form, const char *s, size_t n,
			enum body_problem p, size_t off)
{
	struct body_verdict v;

	assert_int_equal(body_check((const uint8_t *)s, n, form, &v),
			 p == BODY_OK ? 0 : QR_ERR_INVALID);
	assert_int_equal(v.problem, p);
	if (p == BODY_NUL || p == BODY_CONTROL)
		assert_int_equal(v.offset, off);
}

static void expect(const char *s, size_t n, enum body_problem p,
		   size_t off)
{
	expect_form(BODY_SCRIPT, s, n, p, off);
}

static void test_check_rules(void **state)
{
	expect("true\n", 5, BODY_OK, 0);
	expect("a\tb\r\n", 5, BODY_OK, 0);
	expect("echo h\xc3\xa9\n", 9, BODY_OK, 0);   /* UTF-8 is text */
	expect("", 0, BODY_EMPTY, 0);
	expect(" \n\t\r\n", 5, BODY_EMPTY, 0);
	expect("a\0b", 3, BODY_NUL, 1);
	expect("echo \033[31m", 10, BODY_CONTROL, 5);
	expect("x\x7f", 2, BODY_CONTROL, 1);
	expect("\x01", 1, BODY_CONTROL, 0);
	expect("\f", 1, BODY_CONTROL, 0);
}

/* NUL separates the arguments of a vector and nothing else; the bytes of
 * an argument follow the script's rule, blanks included. */
static void test_check_argv(void **state)
{
	expect_form(BODY_ARGV, "id\0-u\0", 6, BODY_OK, 0);
	expect_form(BODY_ARGV, "printf\0%s|\0a b\0\0*\0", 18, BODY_OK, 0);
	expect_form(BODY_ARGV, " \0", 2, BODY_OK, 0);    /* execve decides */
	expect_form(BODY_ARGV, "a\tb\0c\nd\0", 8, BODY_OK, 0);
	expect_form(BODY_ARGV, "", 0, BODY_EMPTY, 0);
	expect_form(BODY_ARGV, "id", 2, BODY_ARGV_END, 0);
	expect_form(BODY_ARGV, "id\0-u", 5, BODY_ARGV_END, 0);
	expect_form(BODY_ARGV, "\0", 1, BODY_ARGV_PROGRAM, 0);
	expect_form(BODY_ARGV, "\0id\0", 4, BODY_ARGV_PROGRAM, 0);
	expect_form(BODY_ARGV, "id\0\033[31m\0", 9, BODY_CONTROL, 3);
	expect_form(BODY_ARGV, "id\0\x7f\0", 5, BODY_CONTROL, 3);
	/* and the script's rule is unchanged by it */
	expect("id\0-u\0", 6, BODY_NUL, 2);
}

static void test_check_argv_count(void **state)
{
	static char many[2 * (ARGV_MAX + 1)];
	struct body_verdict v;

	for (size_t i = 0; i < ARGV_MAX + 1; i++) {
		many[2 * i] = 'a';
		many[2 * i + 1] = '\0';
	}
	assert_int_equal(body_check((uint8_t *)many, 2 * ARGV_MAX, BODY_ARGV,
				    &v), 0);
	assert_int_equal(body_check((uint8_t *)many, sizeof(many), BODY_ARGV,
				    &v), QR_ERR_INVALID);
	assert_int_equal(v.problem, BODY_ARGV_COUNT);
}

static void test_check_size(void **state)
{
	static char big[BODY_MAX + 1];
	struct body_verdict v;

	memset(big, 'a', sizeof(big));
	assert_int_equal(body_check((uint8_t *)big, BODY_MAX, BODY_SCRIPT, &v), 0);
	assert_int_equal(body_check((uint8_t *)big, BODY_MAX + 1, BODY_SCRIPT,
				    &v),
			 QR_ERR_INVALID);
	assert_int_equal(v.problem, BODY_TOO_LARGE);
}

static void test_describe_names_rule(void **state)
{
	struct body_verdict v = { BODY_CONTROL, 10, 5, 0x1b };
	char m[256];

	body_describe(&v, " on stdin", m, sizeof(m));
	assert_string_equal(m, "the command on stdin has control byte 0x1b "
			    "at offset 5; only tab, newline and carriage "
			    "return are allowed");
	v.problem = BODY_EMPTY;
	body_describe(&v, "", m, sizeof(m));
	assert_non_null(strstr(m, "the command is empty"));
	v.problem = BODY_NUL;
	body_describe(&v, "", m, sizeof(m));
	assert_non_null(strstr(m, "NUL byte at offset 5"));
	assert_non_null(strstr(m, "-i FILE"));
	v.problem = BODY_TOO_LARGE;
	body_describe(&v, "", m, sizeof(m));
	assert_non_null(strstr(m, "1048576"));
}

static void preview(const char *body, size_t max, const char *want)
{
	struct buf b = BUF_INIT(1024);

	assert_int_equal(body_preview(&b, (const uint8_t *)body, strlen(body),
				      max), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_preview(void **state)
{
	preview("qvm-ls --running\n", 48, "qvm-ls --running");
	preview("\n\n  set -e\nqvm-ls\n", 48, "set -e ...");
	preview("one\n\n  \n", 48, "one");
	preview("abcdefgh\n", 4, "abcd...");
	preview("a\tb\r\n", 48, "a b");
	preview("printf \"\\x1b\"\n", 48, "printf \"\\x1b\"");
	preview("echo \xc3\xa9 \xf0\x9f\x98\x80\n", 48,
		"echo \xc3\xa9 \xf0\x9f\x98\x80");
	/* Escape sequences, C1 controls and broken UTF-8 never pass. */
	preview("a\033[2Jb", 48, "a\\x1b[2Jb");
	preview("a\xc2\x9b" "1m", 48, "a\\xc2\\x9b1m");
	preview("a\xff\xc3", 48, "a\\xff\\xc3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_like_ssh),
		cmocka_unit_test(test_join_limit),
		cmocka_unit_test(test_check_rules),
		cmocka_unit_test(test_check_argv),
		cmocka_unit_test(test_check_argv_count),
		cmocka_unit_test(test_check_size),
		cmocka_unit_test(test_describe_names_rule),
		cmocka_unit_test(test_preview),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
