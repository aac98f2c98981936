/*
 * test_lib_argvbody.c - the argument vector of an exact-argv request:
 * encoding, the shape check, decoding and the quoted form people read.
 */
#include "argvbody.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "err.h"

#include "banned.h"

static void test_encode(void **state)
{
	const char *const argv[] = { "printf", "%s|", "a b", "", "*" };
	static const char want[] = "printf\0%s|\0a b\0\0*";
	struct buf b = BUF_INIT(BODY_MAX);

	assert_int_equal(argvbody_encode(&b, 5, argv), 0);
	assert_int_equal(b.len, sizeof(want));      /* the last NUL counts */
	assert_memory_equal(b.data, want, sizeof(want));
	buf_release(&b);
}

static void test_encode_refuses(void **state)
{
	const char *const empty[] = { "", "x" };
	const char *const hole[] = { "id", NULL };
	struct buf b = BUF_INIT(8);
	const char *const fits[] = { "abc", "de" };     /* 7 bytes */
	const char *const big[] = { "abc", "def" };     /* 8 bytes */
	const char **many;

	assert_int_equal(argvbody_encode(&b, 0, fits), QR_ERR_INVALID);
	assert_int_equal(argvbody_encode(&b, 2, empty), QR_ERR_INVALID);
	assert_int_equal(argvbody_encode(&b, 2, hole), QR_ERR_INVALID);
	assert_int_equal(argvbody_encode(&b, 2, fits), 0);
	assert_int_equal(b.len, 7);
	b.len = 0;
	b.max = 7;
	assert_int_equal(argvbody_encode(&b, 2, big), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	buf_release(&b);

	many = calloc(ARGV_MAX + 1, sizeof(*many));
	assert_non_null(many);
	for (size_t i = 0; i <= ARGV_MAX; i++)
		many[i] = "a";
	b.max = BODY_MAX;
	assert_int_equal(argvbody_encode(&b, ARGV_MAX + 1, many),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	assert_int_equal(argvbody_encode(&b, ARGV_MAX, many), 0);
	assert_int_equal(b.len, 2 * ARGV_MAX);
	buf_release(&b);
	free(many);
}

static void test_count(void **state)
{
	size_t argc = 99;

	assert_int_equal(argvbody_count((const uint8_t *)"id\0-u\0", 6, &argc),
			 0);
	assert_int_equal(argc, 2);
	assert_int_equal(argvbody_count((const uint8_t *)"id\0\0\0", 5, &argc),
			 0);
	assert_int_equal(argc, 3);                  /* empty ones count */
	argc = 99;
	assert_int_equal(argvbody_count((const uint8_t *)"", 0, &argc),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(argvbody_count(NULL, 0, &argc), QR_ERR_INCOMPLETE);
	assert_int_equal(argvbody_count((const uint8_t *)"id", 2, &argc),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(argvbody_count((const uint8_t *)"id\0x", 4, &argc),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(argvbody_count((const uint8_t *)"\0id\0", 4, &argc),
			 QR_ERR_INVALID);
	assert_int_equal(argc, 99);                 /* untouched */
}

static void test_count_limits(void **state)
{
	uint8_t *p = malloc(BODY_MAX + 1);
	size_t argc;

	assert_non_null(p);
	memset(p, 'a', BODY_MAX + 1);
	p[BODY_MAX - 1] = '\0';
	assert_int_equal(argvbody_count(p, BODY_MAX, &argc), 0);
	assert_int_equal(argc, 1);
	p[BODY_MAX] = '\0';
	assert_int_equal(argvbody_count(p, BODY_MAX + 1, &argc),
			 QR_ERR_TOO_LARGE);
	for (size_t i = 0; i < 2 * (ARGV_MAX + 1); i += 2)
		p[i + 1] = '\0';
	assert_int_equal(argvbody_count(p, 2 * ARGV_MAX, &argc), 0);
	assert_int_equal(argc, ARGV_MAX);
	assert_int_equal(argvbody_count(p, 2 * ARGV_MAX + 2, &argc),
			 QR_ERR_TOO_LARGE);
	free(p);
}

static void test_decode(void **state)
{
	static const uint8_t body[] = "printf\0%s|\0a b\0\0*";
	struct argvbody a;

	assert_int_equal(argvbody_decode(body, sizeof(body), &a), 0);
	assert_int_equal(a.argc, 5);
	assert_string_equal(a.argv[0], "printf");
	assert_string_equal(a.argv[1], "%s|");
	assert_string_equal(a.argv[2], "a b");
	assert_string_equal(a.argv[3], "");
	assert_string_equal(a.argv[4], "*");
	assert_null(a.argv[5]);
	/* a copy: nothing points into the input */
	assert_true((const uint8_t *)a.argv[0] < body ||
		    (const uint8_t *)a.argv[0] >= body + sizeof(body));
	argvbody_release(&a);
	assert_null(a.argv);
	argvbody_release(&a);

	a.argc = 7;
	assert_int_equal(argvbody_decode(body, sizeof(body) - 1, &a),
			 QR_ERR_INCOMPLETE);
	assert_null(a.argv);
	assert_int_equal(a.argc, 0);
}

static void expect_quote(const char *body, size_t n, size_t limit,
			 const char *want)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(argvbody_quote(&b, (const uint8_t *)body, n, limit),
			 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_quote(void **state)
{
	expect_quote("qvm-prefs\0work\0memory\0", 22, SIZE_MAX,
		     "qvm-prefs work memory");
	expect_quote("printf\0%s|\0a b\0\0*\0", 18, SIZE_MAX,
		     "printf '%s|' 'a b' '' '*'");
	expect_quote("echo\0it's\0", 10, SIZE_MAX, "echo 'it'\\''s'");
	expect_quote("echo\0a\\b\0", 9, SIZE_MAX, "echo 'a\\b'");
	expect_quote("echo\0a\nb\0", 9, SIZE_MAX, "echo $'a\\nb'");
	expect_quote("echo\0\t'\\\x1b\0", 9, SIZE_MAX,
		     "echo $'\\t\\'\\\\\\x1b'");
	expect_quote("echo\0h\xc3\xa9\0", 9, SIZE_MAX, "echo 'h\xc3\xa9'");
	expect_quote("/usr/bin/id\0-u\0", 15, SIZE_MAX, "/usr/bin/id -u");
	expect_quote("a\0b", 3, SIZE_MAX, "a b");      /* no last NUL */
	expect_quote("", 0, SIZE_MAX, "");
	/* a preview stops once it has its bytes */
	expect_quote("qvm-prefs\0work\0memory\0", 22, 4, "qvm-");
	expect_quote("qvm-prefs\0work\0memory\0", 22, 10, "qvm-prefs ");
	expect_quote("echo\0a b\0", 9, 7, "echo 'a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_count_limits),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
