/*
 * test_lib_cid.c - command id grammar, generation and time.
 */
#include "cid.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define CID32 "20261128-101500-4242-3f9a0c1d2e3f40516273849506a7b8c9"

static bool valid(const char *s)
{
	return cid_valid(s, strlen(s));
}

static void test_valid_cids(void **state)
{
	assert_true(valid(CID32));
	assert_true(valid("20261128-101500-4242-3f9a0c1d"));        /* 8 hex */
	assert_true(valid("20261128-101500-1-0123456789abcdef0123456789abcdef"));
	assert_true(valid("20261128-101500-4294967295-3f9a0c1d")); /* 10 */
	assert_true(valid("99999999-999999-0-00000000"));  /* grammar only */
	assert_true(valid("ping-1-1"));
	assert_true(valid("ping-17643249001234567890-4242"));
	assert_true(valid("ping-1-4294967295"));
	assert_false(cid_is_ping(CID32, strlen(CID32)));
	assert_true(cid_is_ping("ping-1-2", 8));
}

static void test_invalid_cids(void **state)
{
	static const char *const bad[] = {
		"", "../x", "a b", "x", "ping", "ping-", "ping-1", "ping-1-",
		"ping--1", "ping-1-1-", "ping-a-1", "ping-1-1 ",
		"ping-123456789012345678901-1",           /* 21 digits */
		"ping-1-12345678901",                     /* 11 digits */
		"PING-1-1",
		"20261128-101500-4242-3f9a0c1",           /* 7 hex */
		"20261128-101500-4242-0123456789abcdef0123456789abcdef0",
		"20261128-101500-4242-3F9A0C1D",          /* uppercase */
		"20261128-101500-4242-3f9a0c1g",
		"20261128-101500--3f9a0c1d",              /* no pid */
		"20261128-101500-12345678901-3f9a0c1d",   /* 11 digit pid */
		"2026112-101500-4242-3f9a0c1d",
		"202611280-101500-4242-3f9a0c1d",
		"20261128-10150-4242-3f9a0c1d",
		"20261128_101500-4242-3f9a0c1d",
		"20261128-101500-4242-3f9a0c1d-",
		"20261128-101500-4242-3f9a0c1d/..",
		"20261128-101500-4242-",
		"20261128-101500-4242",
		"2026112a-101500-4242-3f9a0c1d",
		" 20261128-101500-4242-3f9a0c1d",
		"20261128-101500-4242-3f9a0c1d\n",
		"20261128-101500-42a2-3f9a0c1d",
		".20261128-101500-4242-3f9a0c1d",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	}
	/* NUL inside the counted bytes */
	assert_false(cid_valid("20261128-101500-4242-3f9a\0c1d", 29));
	assert_false(cid_valid(NULL, 0));
	/* the length counts: a valid prefix is not enough */
	assert_false(cid_valid(CID32, strlen(CID32) - 25));
}

static void test_length_limit(void **state)
{
	char s[80];

	/* the longest regular cid is 59 bytes, within CID_MAX */
	memcpy(s, "20261128-101500-4294967295-", 27);
	memset(s + 27, 'a', 32);
	assert_true(cid_valid(s, 59));
	assert_true(59 <= CID_MAX);
}

static void test_generate(void **state)
{
	char a[CID_MAX + 1], b[CID_MAX + 1];
	time_t t;

	assert_int_equal(cid_generate(a, 1795860900, 4242), 0);
	assert_true(valid(a));
	assert_int_equal(strlen(a), 16 + 4 + 1 + CID_HEX_NEW);
	assert_memory_equal(a, "20261128-101500-4242-", 21);
	assert_int_equal(cid_time(a, strlen(a), &t), 0);
	assert_int_equal(t, 1795860900);
	assert_int_equal(cid_generate(b, 1795860900, 4242), 0);
	assert_string_not_equal(a, b);     /* 128 random bits */
	assert_int_equal(cid_generate(a, 0, 2147483647), 0);
	assert_memory_equal(a, "19700101-000000-2147483647-", 27);
	assert_true(valid(a));
}

static void test_generate_rejects(void **state)
{
	char a[CID_MAX + 1];

	assert_int_equal(cid_generate(a, 1795860900, 0), QR_ERR_INVALID);
	assert_int_equal(cid_generate(a, 1795860900, -1), QR_ERR_INVALID);
	/* year 10000 does not fit DATE */
	assert_int_equal(cid_generate(a, (time_t)253402300800LL, 1),
			 QR_ERR_INVALID);
	assert_int_equal(cid_generate(a, (time_t)253402300799LL, 1), 0);
	assert_memory_equal(a, "99991231-235959-1-", 18);
}

static void test_time(void **state)
{
	time_t t = 0;

	assert_int_equal(cid_time(CID32, strlen(CID32), &t), 0);
	assert_int_equal(t, 1795860900);
	assert_int_equal(cid_time("20000101-000000-1-00000000", 26, &t), 0);
	assert_int_equal(t, 946684800);
	/* leap day of a leap year */
	assert_int_equal(cid_time("20280229-235959-1-00000000", 26, &t), 0);
	assert_int_equal(t, 1835481599);
	/* ping: nanoseconds divided down */
	assert_int_equal(cid_time("ping-1795860900123456789-4242", 29, &t), 0);
	assert_int_equal(t, 1795860900);
	assert_int_equal(cid_time("ping-5-1", 8, &t), 0);
	assert_int_equal(t, 0);
}

static void test_time_impossible(void **state)
{
	static const char *const bad[] = {
		"20261328-101500-1-00000000",   /* month 13 */
		"20260028-101500-1-00000000",   /* month 0 */
		"20261132-101500-1-00000000",   /* day 32 */
		"20261100-101500-1-00000000",   /* day 0 */
		"20261131-101500-1-00000000",   /* Nov 31 */
		"20260230-101500-1-00000000",   /* Feb 30 */
		"20250229-101500-1-00000000",   /* not a leap year */
		"21000229-101500-1-00000000",   /* not a leap year */
		"20261128-241500-1-00000000",   /* hour 24 */
		"20261128-106000-1-00000000",   /* minute 60 */
		"20261128-101560-1-00000000",   /* second 60 */
		"20261128-999999-1-00000000",
	};
	time_t t = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cid_time(bad[i], strlen(bad[i]), &t) != QR_ERR_INVALID)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(t, 42);
	assert_int_equal(cid_time("../x", 4, &t), QR_ERR_INVALID);
	/* 20 digits past 2^64 */
	assert_int_equal(cid_time("ping-99999999999999999999-1", 27, &t),
			 QR_ERR_INVALID);
	assert_int_equal(cid_time("20000229-000000-1-00000000", 26, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_cids),
		cmocka_unit_test(test_invalid_cids),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generate_rejects),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_time_impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
