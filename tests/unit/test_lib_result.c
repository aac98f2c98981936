/*
 * test_lib_result.c - the .meta file of a result.
 */
#include "result.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static void test_names(void **state)
{
	assert_string_equal(result_status_name(RESULT_OK), "ok");
	assert_string_equal(result_status_name(RESULT_TIMEOUT), "timeout");
	assert_string_equal(result_status_name(RESULT_REJECTED), "rejected");
	assert_string_equal(result_status_name(RESULT_INTERRUPTED),
			    "interrupted");
	assert_string_equal(result_status_name(RESULT_ERROR), "error");
	assert_string_equal(result_status_name((enum result_status)99),
			    "unknown");
}

static void test_format_parse(void **state)
{
	struct buf b = BUF_INIT(4096);
	struct result_meta m, back;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_REJECTED;
	m.exit_code = EXIT_REJECTED;
	memcpy(m.reason, "authentication failed", 22);
	m.duration_ms = 12;
	m.out_bytes = 18446744073709551615ull;
	m.err_bytes = 21;
	m.out_truncated = 1;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_string_equal(buf_str(&b),
		"status=rejected\nexit=126\nreason=authentication failed\n"
		"duration_ms=12\nout_bytes=18446744073709551615\nerr_bytes=21\n"
		"out_truncated=1\nerr_truncated=0\n");
	memset(&back, 0x55, sizeof(back));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_int_equal(back.status, RESULT_REJECTED);
	assert_int_equal(back.exit_code, 126);
	assert_string_equal(back.reason, "authentication failed");
	assert_true(back.duration_ms == 12);
	assert_true(back.out_bytes == UINT64_MAX);
	assert_true(back.err_bytes == 21);
	assert_int_equal(back.out_truncated, 1);
	assert_int_equal(back.err_truncated, 0);
	assert_true(back.queued_ms == 0);
	assert_string_equal(back.started, "");

	/* what dom0 said of the start, only when it said something */
	buf_reset(&b);
	m.queued_ms = 1500;
	memcpy(m.started, "lowered", 8);
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_non_null(strstr(buf_str(&b), "\nqueued_ms=1500\nstarted=lowered\n"));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_true(back.queued_ms == 1500);
	assert_string_equal(back.started, "lowered");
	m.started[0] = '\x01';
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	m.queued_ms = 0;
	m.started[0] = '\0';

	/* no reason: no reason line */
	buf_reset(&b);
	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_null(strstr(buf_str(&b), "reason="));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_string_equal(back.reason, "");
	buf_release(&b);
}

/* The timeout dom0 applied travels to the client, so it can say "timed out
 * after N s" with dom0's cap rather than the -t it asked for. */
static void test_timeout_round_trip(void **state)
{
	struct buf b = BUF_INIT(4096);
	struct result_meta m, back;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_TIMEOUT;
	m.exit_code = EXIT_TIMEOUT;
	m.timeout_s = 300;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_non_null(strstr(b.data, "timeout_s=300\n"));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_int_equal(back.timeout_s, 300);
	buf_reset(&b);
	m.timeout_s = 0;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_null(strstr(b.data, "timeout_s="));
	assert_int_equal(result_meta_parse("status=ok\nexit=0\ntimeout_s=99999\n",
					   34, &back), QR_ERR_INVALID);
	buf_release(&b);
}

/* A command the VM stopped (cancel=CID while it ran) keeps its own
 * status and exit code; cancelled=1 says why it ended, and a result
 * without the line reads as one that was not stopped. */
static void test_cancelled_round_trip(void **state)
{
	struct buf b = BUF_INIT(4096);
	struct result_meta m, back;

	memset(&m, 0, sizeof(m));
	m.status = RESULT_OK;
	m.exit_code = 130;
	m.cancelled = 1;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_non_null(strstr(b.data, "\ncancelled=1\n"));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_int_equal(back.cancelled, 1);
	assert_int_equal(back.status, RESULT_OK);
	assert_int_equal(back.exit_code, 130);
	buf_reset(&b);
	m.cancelled = 0;
	assert_int_equal(result_meta_format(&b, &m), 0);
	assert_null(strstr(b.data, "cancelled="));
	assert_int_equal(result_meta_parse(b.data, b.len, &back), 0);
	assert_int_equal(back.cancelled, 0);
	m.cancelled = 2;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	assert_int_equal(result_meta_parse("status=ok\nexit=0\ncancelled=0\n",
					   29, &back), 0);
	assert_int_equal(back.cancelled, 0);
	buf_release(&b);
}

static void test_format_rejects(void **state)
{
	struct buf b = BUF_INIT(4096);
	struct result_meta m;

	memset(&m, 0, sizeof(m));
	m.exit_code = 256;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	m.exit_code = -1;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	m.exit_code = 0;
	m.status = (enum result_status)9;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	m.status = RESULT_ERROR;
	m.err_truncated = 2;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	m.err_truncated = 0;
	/* a reason cannot add a line */
	memcpy(m.reason, "x\nstatus=ok", 12);
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	memcpy(m.reason, "\x1b[31m", 6);
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	/* not NUL-terminated within REASON_MAX + 1 */
	memset(m.reason, 'a', sizeof(m.reason));
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	/* too small a buffer leaves nothing behind, whichever part fails */
	memset(&m, 0, sizeof(m));
	b.max = 5;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	b.max = 20;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	memcpy(m.reason, "a reason", 9);
	b.max = 25;
	assert_int_equal(result_meta_format(&b, &m), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static int parse(const char *s, struct result_meta *m)
{
	return result_meta_parse(s, strlen(s), m);
}

static void test_parse_lenient(void **state)
{
	struct result_meta m;

	/* unknown keys are skipped, the last '\n' is optional */
	assert_int_equal(parse("status=timeout\nfuture_key=any thing\nexit=124",
			       &m), 0);
	assert_int_equal(m.status, RESULT_TIMEOUT);
	assert_int_equal(m.exit_code, 124);
	assert_true(m.duration_ms == 0);
	assert_int_equal(parse("exit=255\nstatus=interrupted\n", &m), 0);
	assert_int_equal(m.status, RESULT_INTERRUPTED);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"status=ok\n",                        /* no exit */
		"exit=0\n",                           /* no status */
		"status=ok\nexit=0\nstatus=ok\n",     /* repeated */
		"status=fine\nexit=0\n",
		"status=ok\nexit=256\n",
		"status=ok\nexit=-1\n",
		"status=ok\nexit=01\n",
		"status=ok\nexit=\n",
		"status=ok\nexit=0\n\n",              /* empty line */
		"status=ok\nexit=0\nnoequals\n",
		"status=ok\nexit=0\n=x\n",
		"status=ok\nexit=0\nBad=1\n",
		"status=ok\nexit=0\nout_truncated=2\n",
		"status=ok\nexit=0\ncancelled=2\n",
		"status=ok\nexit=0\ncancelled=1\ncancelled=1\n",
		"status=ok\nexit=0\ncancelled=\n",
		"status=ok\nexit=0\nduration_ms=x\n",
		"status=ok\nexit=0\nout_bytes=18446744073709551616\n",
		"status=ok\nexit=0\nreason=\x1b[31mred\n",
		"status=ok\nexit=0\nreason=a\tb\n",
		"status=ok \nexit=0\n",
	};
	struct result_meta m;
	char longr[REASON_MAX + 40];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &m) != QR_ERR_INVALID)
			fail_msg("accepted .meta %zu", i);
	assert_int_equal(result_meta_parse("status=ok\0\nexit=0\n", 18, &m),
			 QR_ERR_INVALID);
	assert_int_equal(result_meta_parse(NULL, 1, &m), QR_ERR_INVALID);
	/* a reason at the limit and one past it */
	memcpy(longr, "status=ok\nexit=0\nreason=", 24);
	memset(longr + 24, 'r', REASON_MAX);
	assert_int_equal(result_meta_parse(longr, 24 + REASON_MAX, &m), 0);
	assert_int_equal(strlen(m.reason), REASON_MAX);
	memset(longr + 24, 'r', REASON_MAX + 1);
	assert_int_equal(result_meta_parse(longr, 24 + REASON_MAX + 1, &m),
			 QR_ERR_INVALID);
}

static void test_cut_notice(void **state)
{
	char text[256];

	result_cut_notice(text, sizeof(text), "stdout", 1024, 5000);
	assert_string_equal(text, "dom0 kept only the first 1024 bytes of "
			    "stdout (QVM_REMOTE_MAX_OUTPUT); 5000 were "
			    "written");
	result_cut_notice(text, sizeof(text), "stderr", 0, UINT64_MAX);
	assert_non_null(strstr(text, "18446744073709551615 were written"));
	result_cut_notice(text, 20, "stdout", 1, 2);
	assert_int_equal(strlen(text), 19);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cut_notice),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_timeout_round_trip),
		cmocka_unit_test(test_cancelled_round_trip),
		cmocka_unit_test(test_format_rejects),
		cmocka_unit_test(test_parse_lenient),
		cmocka_unit_test(test_parse_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
