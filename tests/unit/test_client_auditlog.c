/*
 * test_client_auditlog.c - the VM's audit lines: written in the shared
 * format, read back by status and log.
 */
#include "auditlog.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define CID "20261128-101500-4242-3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d"

static void test_result_line_round_trip(void **state)
{
	struct buf b = BUF_INIT(512);
	struct audit_entry e;

	assert_int_equal(audit_result_line(&b, 1795860900, RESULT_TIMEOUT,
					   CID, 124, 1, 5012), 0);
	assert_string_equal(buf_str(&b), "[2026-11-28T10:15:00Z] TIMEOUT id="
			    CID " exit=124 ms=5012\n");
	assert_int_equal(audit_parse_line(b.data, b.len - 1, &e), 0);
	assert_int_equal(e.when, 1795860900);
	assert_string_equal(e.category, "TIMEOUT");
	assert_string_equal(e.id, CID);
	assert_true(e.have_ms);
	assert_int_equal(e.ms, 5012);
	assert_true(e.have_exit);
	assert_int_equal(e.exit_code, 124);
	buf_reset(&b);
	assert_int_equal(audit_result_line(&b, 0, RESULT_OK, CID, 0, 0, 0), 0);
	assert_null(strstr(buf_str(&b), "ms="));
	assert_non_null(strstr(buf_str(&b), "] DONE id="));
	buf_release(&b);
}

static void test_categories(void **state)
{
	assert_string_equal(audit_result_category(RESULT_OK), "DONE");
	assert_string_equal(audit_result_category(RESULT_REJECTED),
			    "REJECTED");
	assert_string_equal(audit_result_category(RESULT_INTERRUPTED),
			    "INTERRUPTED");
	assert_string_equal(audit_result_category(RESULT_ERROR), "ERROR");
}

static void parses(const char *line, int ok)
{
	struct audit_entry e;

	assert_int_equal(audit_parse_line(line, strlen(line), &e),
			 ok ? 0 : QR_ERR_INVALID);
}

static void test_parse_tolerates_other_fields(void **state)
{
	const char *l = "[2026-11-28T10:15:00Z] SUBMIT id=" CID
			" bytes=5 cmd=\"a ms=7 b\" ms=x exit=300";
	struct audit_entry e;

	assert_int_equal(audit_parse_line(l, strlen(l), &e), 0);
	assert_string_equal(e.category, "SUBMIT");
	assert_string_equal(e.id, CID);
	/* ms=7 sits inside a quoted value; ms=x and exit=300 are bad. */
	assert_false(e.have_ms);
	assert_false(e.have_exit);
	parses("[2026-11-28T10:15:00Z] DONE", 1);
	parses("[2026-11-28T10:15:00Z] ", 0);
	parses("[2026-13-28T10:15:00Z] DONE", 0);
	parses("2026-11-28T10:15:00Z DONE", 0);
	parses("", 0);
	parses("[2026-11-28T10:15:00Z] DONE id=../../etc", 1);
}

static void test_tail_offset(void **state)
{
	char path[] = "/tmp/test_client_auditlog.XXXXXX";
	const char *text = "one\ntwo\nthree\n";
	off_t off;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(audit_tail_offset(fd, 1, &off), 0);
	assert_int_equal(off, 8);
	assert_int_equal(audit_tail_offset(fd, 2, &off), 0);
	assert_int_equal(off, 4);
	assert_int_equal(audit_tail_offset(fd, 3, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(audit_tail_offset(fd, 50, &off), 0);
	assert_int_equal(off, 0);
	/* A last line without its newline still counts as a line. */
	assert_int_equal(write(fd, "four", 4), 4);
	assert_int_equal(audit_tail_offset(fd, 1, &off), 0);
	assert_int_equal(off, 14);
	close(fd);
}

static void test_tail_offset_across_chunks(void **state)
{
	char path[] = "/tmp/test_client_auditlog.XXXXXX";
	static char line[20000];
	off_t off;
	int fd = mkstemp(path), i;

	assert_true(fd >= 0);
	unlink(path);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 3; i++)
		assert_int_equal(write(fd, line, sizeof(line)),
				 (ssize_t)sizeof(line));
	assert_int_equal(audit_tail_offset(fd, 2, &off), 0);
	assert_int_equal(off, (off_t)sizeof(line));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_line_round_trip),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_parse_tolerates_other_fields),
		cmocka_unit_test(test_tail_offset),
		cmocka_unit_test(test_tail_offset_across_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
