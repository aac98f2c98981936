/*
 * test_lib_opts.c - the request options file.
 */
#include "opts.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "bounds.h"

#include "banned.h"

static int parse(const char *s, struct req_opts *o, const char **why)
{
	return opts_parse((const uint8_t *)s, strlen(s), o, why);
}

static void test_ok(void **state)
{
	struct req_opts o = { .timeout = 99 };
	const char *why = NULL;

	assert_int_equal(parse("", &o, &why), 0);
	assert_int_equal(o.timeout, 0);
	assert_int_equal(parse("timeout=60\n", &o, &why), 0);
	assert_int_equal(o.timeout, 60);
	assert_int_equal(parse("timeout=1", &o, &why), 0);   /* no '\n' */
	assert_int_equal(o.timeout, 1);
	assert_int_equal(parse("timeout=86400\n", &o, &why), 0);
	assert_int_equal(o.timeout, TIMEOUT_MAX);
	assert_int_equal(opts_parse(NULL, 0, &o, NULL), 0);
	assert_null(why);
	assert_int_equal(o.form, BODY_SCRIPT);
	assert_string_equal(o.user, "");
}

static void expect_invalid(const char *s, const char *why_part)
{
	struct req_opts o = { .timeout = 77, .form = BODY_ARGV,
			       .user = "untouched" };
	const char *why = NULL;

	assert_int_equal(parse(s, &o, &why), QR_ERR_INVALID);
	assert_non_null(why);
	if (strstr(why, why_part) == NULL)
		fail_msg("'%s': reason '%s' lacks '%s'", s, why, why_part);
	assert_int_equal(o.timeout, 77);     /* untouched on failure */
	assert_int_equal(o.form, BODY_ARGV);
	assert_string_equal(o.user, "untouched");
}

static void test_invalid(void **state)
{
	expect_invalid("timeout=0\n", "timeout");
	expect_invalid("timeout=86401\n", "timeout");
	expect_invalid("timeout=060\n", "timeout");
	expect_invalid("timeout=\n", "timeout");
	expect_invalid("timeout=-5\n", "timeout");
	expect_invalid("timeout=5 \n", "timeout");
	expect_invalid("timeout=99999999999999999999999\n", "timeout");
	expect_invalid("timeout=5\ntimeout=6\n", "repeated");
	expect_invalid("foo=1\n", "unknown");
	expect_invalid("=1\n", "unknown");
	expect_invalid("Timeout=1\n", "unknown");
	expect_invalid(" timeout=1\n", "unknown");
	expect_invalid("timeout=1\nfoo=2", "unknown");
	expect_invalid("timeout\n", "'='");
	expect_invalid("\n", "empty");
	expect_invalid("timeout=5\n\n", "empty");
	expect_invalid("\ntimeout=5\n", "empty");
	expect_invalid("timeout=5\r\n", "printable");
	expect_invalid("timeout=5\t\n", "printable");
	expect_invalid("timeout=\x1b[31m\n", "printable");
	expect_invalid("timeout=5\xc3\xa9\n", "printable");
}

/* form= and user= (issue 15): what runs, and as whom */
static void test_form_and_user(void **state)
{
	struct req_opts o;
	const char *why = NULL;

	assert_int_equal(parse("form=argv\n", &o, &why), 0);
	assert_int_equal(o.form, BODY_ARGV);
	assert_int_equal(o.timeout, 0);
	assert_string_equal(o.user, "");
	assert_int_equal(parse("user=alice\n", &o, &why), 0);
	assert_int_equal(o.form, BODY_SCRIPT);
	assert_string_equal(o.user, "alice");
	assert_int_equal(parse("user=_svc-2\nform=argv\ntimeout=5", &o,
			       &why), 0);
	assert_int_equal(o.form, BODY_ARGV);
	assert_string_equal(o.user, "_svc-2");
	assert_int_equal(o.timeout, 5);
	assert_int_equal(parse("user=abcdefghijklmnopqrstuvwxyz012345\n", &o,
			       &why), 0);     /* 32 bytes */
}

static void test_form_and_user_invalid(void **state)
{
	expect_invalid("form=script\n", "form must be argv");
	expect_invalid("form=\n", "form must be argv");
	expect_invalid("form=ARGV\n", "form must be argv");
	expect_invalid("form=argv \n", "form must be argv");
	expect_invalid("form=argv\nform=argv\n", "repeated option 'form'");
	expect_invalid("user=\n", "user must be");
	expect_invalid("user=Alice\n", "user must be");
	expect_invalid("user=1bob\n", "user must be");
	expect_invalid("user=a b\n", "user must be");
	expect_invalid("user=../root\n", "user must be");
	expect_invalid("user=abcdefghijklmnopqrstuvwxyz0123456\n",
		       "user must be");    /* 33 bytes */
	expect_invalid("user=root\nuser=alice\n", "repeated option 'user'");
	expect_invalid("users=root\n", "unknown");
}

/* check=1: a request that only asks what the policy would do */
static void test_check(void **state)
{
	struct buf b = BUF_INIT(64);
	struct req_opts o, back;
	const char *why = NULL;

	assert_int_equal(parse("form=argv\ncheck=1\n", &o, &why), 0);
	assert_int_equal(o.check, 1);
	assert_int_equal(parse("timeout=5\n", &o, &why), 0);
	assert_int_equal(o.check, 0);
	expect_invalid("check=0\n", "check must be 1");
	expect_invalid("check=yes\n", "check must be 1");
	expect_invalid("check=\n", "check must be 1");
	expect_invalid("check=1\ncheck=1\n", "repeated option 'check'");
	memset(&o, 0, sizeof(o));
	o.form = BODY_ARGV;
	o.check = 1;
	assert_int_equal(opts_format(&b, &o), 0);
	assert_string_equal(buf_str(&b), "form=argv\ncheck=1\n");
	assert_int_equal(opts_parse((const uint8_t *)b.data, b.len, &back,
				    &why), 0);
	assert_int_equal(back.check, 1);
	buf_release(&b);
}

static void test_nul_and_size(void **state)
{
	static const uint8_t nul[] = "timeout=5\0\n";
	uint8_t big[OPT_MAX + 1];
	struct req_opts o;
	const char *why = NULL;

	assert_int_equal(opts_parse(nul, sizeof(nul) - 1, &o, &why),
			 QR_ERR_INVALID);
	memset(big, 'a', sizeof(big));
	assert_int_equal(opts_parse(big, sizeof(big), &o, &why),
			 QR_ERR_TOO_LARGE);
	assert_non_null(why);
	assert_int_equal(opts_parse(NULL, 3, &o, &why), QR_ERR_INVALID);
}

static void test_format(void **state)
{
	struct buf b = BUF_INIT(64);
	struct req_opts o = { .timeout = 0 }, back;
	const char *why;

	assert_int_equal(opts_format(&b, &o), 0);
	assert_string_equal(buf_str(&b), "");
	o.timeout = 300;
	assert_int_equal(opts_format(&b, &o), 0);
	assert_string_equal(buf_str(&b), "timeout=300\n");
	assert_int_equal(opts_parse((const uint8_t *)b.data, b.len, &back,
				    &why), 0);
	assert_int_equal(back.timeout, 300);
	buf_reset(&b);
	o.form = BODY_ARGV;
	snprintf(o.user, sizeof(o.user), "alice");
	assert_int_equal(opts_format(&b, &o), 0);
	assert_string_equal(buf_str(&b), "timeout=300\nform=argv\nuser=alice\n");
	assert_int_equal(opts_parse((const uint8_t *)b.data, b.len, &back,
				    &why), 0);
	assert_int_equal(back.form, BODY_ARGV);
	assert_string_equal(back.user, "alice");
	buf_reset(&b);
	snprintf(o.user, sizeof(o.user), "Alice");
	assert_int_equal(opts_format(&b, &o), QR_ERR_INVALID);
	o.user[0] = '\0';
	o.timeout = TIMEOUT_MAX + 1;
	assert_int_equal(opts_format(&b, &o), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* cancel=CID names a request id; the original client's ping ids and
 * anything else are refused, and the format writes it back the same. */
static void test_cancel(void **state)
{
	static const char cid[] = "20261203-171500-4242-0123456789abcdef0123456789abcdef";
	struct req_opts o, back;
	struct buf b = BUF_INIT(256);
	const char *why = NULL;
	char line[128];

	(void)state;
	snprintf(line, sizeof(line), "cancel=%s\n", cid);
	assert_int_equal(opts_parse((const uint8_t *)line, strlen(line), &o,
				    &why), 0);
	assert_string_equal(o.cancel, cid);
	assert_int_equal(opts_format(&b, &o), 0);
	assert_string_equal(buf_str(&b), line);
	assert_int_equal(opts_parse((const uint8_t *)"cancel=ping-1-2", 15, &o,
				    &why), QR_ERR_INVALID);
	assert_non_null(strstr(why, "request id"));
	assert_int_equal(opts_parse((const uint8_t *)"cancel=../x", 11, &o,
				    &why), QR_ERR_INVALID);
	assert_int_equal(opts_parse((const uint8_t *)"cancel=", 7, &o, &why),
			 QR_ERR_INVALID);
	snprintf(line, sizeof(line), "cancel=%s\ncancel=%s\n", cid, cid);
	assert_int_equal(opts_parse((const uint8_t *)line, strlen(line), &o,
				    &why), QR_ERR_INVALID);
	assert_string_equal(why, "repeated option 'cancel'");
	memset(&back, 0, sizeof(back));
	snprintf(back.cancel, sizeof(back.cancel), "not-a-cid");
	buf_reset(&b);
	assert_int_equal(opts_format(&b, &back), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_form_and_user),
		cmocka_unit_test(test_form_and_user_invalid),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
