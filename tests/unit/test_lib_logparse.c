/*
 * test_daemon_logparse.c - audit lines back into fields: everything
 * lib/logline.h writes parses back to the same bytes, and nothing else
 * is taken.
 */
#include "logparse.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "err.h"
#include "logline.h"
#include "banned.h"

#define T0 ((time_t)1795860900)    /* 2026-11-28T10:15:00Z */

static struct log_entry *
entry(void)
{
	static struct log_entry e;

	memset(&e, 0xa5, sizeof(e));
	return &e;
}

static int
parse_str(const char *s, struct log_entry *e)
{
	return logparse_line(s, strlen(s), e);
}

static void
expect_field(const struct log_entry *e, const char *key, const void *v,
	     size_t n)
{
	const struct log_field *f = logparse_get(e, key);

	assert_non_null(f);
	assert_int_equal(f->value_len, n);
	assert_memory_equal(f->value, v, n);
	assert_int_equal(f->value[n], '\0');
}

static void
test_simple_line(void **state)
{
	struct log_entry *e = entry();

	assert_int_equal(parse_str("[2026-11-28T10:15:00Z] EXEC vm=work "
				   "id=20261128-101500-4242-abcdef01 exit=0 "
				   "chain=0123456789abcdef0123456789abcdef\n",
				   e), 0);
	assert_int_equal(e->when, T0);
	assert_string_equal(e->ts, "2026-11-28T10:15:00Z");
	assert_string_equal(e->category, "EXEC");
	assert_int_equal(e->n, 4);
	assert_string_equal(e->field[0].key, "vm");
	expect_field(e, "vm", "work", 4);
	expect_field(e, "id", "20261128-101500-4242-abcdef01", 29);
	expect_field(e, "exit", "0", 1);
	expect_field(e, "chain", "0123456789abcdef0123456789abcdef", 32);
	assert_null(logparse_get(e, "missing"));
}

static void
test_no_fields_and_padding(void **state)
{
	struct log_entry *e = entry();

	assert_int_equal(parse_str("[2026-11-28T10:15:00Z] AUTH-FAIL", e), 0);
	assert_string_equal(e->category, "AUTH-FAIL");
	assert_int_equal(e->n, 0);
	/* aligned output (several spaces) parses too */
	assert_int_equal(parse_str("[2026-11-28T10:15:00Z] EXEC  vm=work", e),
			 0);
	expect_field(e, "vm", "work", 4);
}

/* Every value logline writes comes back byte for byte. */
static void
test_round_trip(void **state)
{
	static const struct {
		const char *v;
		size_t n;
	} vals[] = {
		{ "plain", 5 },
		{ "with space", 10 },
		{ "a=b", 3 },
		{ "", 0 },
		{ "say \"hi\"", 8 },
		{ "\"quoted\"", 8 },
		{ "back\\slash", 10 },
		{ "line\nbreak\r\ttab", 15 },
		{ "\x1b[31mred\x1b[0m", 12 },
		{ "nul\0byte", 8 },
		{ "\xff\xfe\x80 utf8 \xc3\xa9", 12 },
		{ "trailing ", 9 },
		{ "\\x41", 4 },
		{ "key=value chain=0000", 20 },
	};
	struct log_entry *e = entry();
	struct buf line = BUF_INIT(4096);
	char key[16];
	size_t i;

	assert_int_equal(logline_begin(&line, T0 + 61, "DONE-FAIL"), 0);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(logline_kv(&line, key, vals[i].v, vals[i].n,
					    vals[i].n), 0);
	}
	assert_int_equal(logline_kvu(&line, "big", UINT64_MAX), 0);
	assert_int_equal(logline_end(&line), 0);

	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	assert_int_equal(e->when, T0 + 61);
	assert_string_equal(e->category, "DONE-FAIL");
	assert_int_equal(e->n, sizeof(vals) / sizeof(vals[0]) + 1);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		expect_field(e, key, vals[i].v, vals[i].n);
	}
	expect_field(e, "big", "18446744073709551615", 20);
	buf_release(&line);
}

/* A value cut at its maximum keeps the marker. */
static void
test_truncated_value(void **state)
{
	struct log_entry *e = entry();
	struct buf line = BUF_INIT(4096);

	assert_int_equal(logline_begin(&line, T0, "EXEC"), 0);
	assert_int_equal(logline_kv(&line, "cmd", "echo one two three", 18, 8),
			 0);
	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	expect_field(e, "cmd", "echo one...", 11);
	buf_release(&line);
}

static void
test_times(void **state)
{
	static const char *const stamps[] = {
		"1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z",
		"2024-02-29T12:00:00Z", "2026-11-28T10:15:00Z",
		"2100-03-01T00:00:00Z", "2038-01-19T03:14:08Z",
		"9999-12-31T23:59:59Z",
	};
	size_t i;

	for (i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		struct tm tm;
		time_t got, want;

		memset(&tm, 0, sizeof(tm));
		assert_non_null(strptime(stamps[i], "%Y-%m-%dT%H:%M:%SZ", &tm));
		want = timegm(&tm);
		assert_int_equal(logparse_time(stamps[i], 20, &got), 0);
		assert_int_equal(got, want);
	}
}

static void
test_bad_times(void **state)
{
	static const char *const bad[] = {
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:60Z", "1969-12-31T23:59:59Z",
		"2026-01-01 00:00:00Z", "2026-01-01T00:00:00+",
		"2026-1-01T00:00:00Z ", "+026-01-01T00:00:00Z",
		"2026-01-01T0a:00:00Z",
	};
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(logparse_time(bad[i], 20, &t), QR_ERR_INVALID);
	assert_int_equal(logparse_time("2026-01-01T00:00:00Z", 19, &t),
			 QR_ERR_INVALID);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"2026-11-28T10:15:00Z EXEC",
		"[2026-11-28T10:15:00Z]EXEC",
		"[2026-11-28T10:15:00Z] ",
		"[2026-11-28T10:15:00Z]  EXEC",
		"[2026-13-28T10:15:00Z] EXEC",
		"[2026-11-28T10:15:00] EXEC",
		"[2026-11-28T10:15:00Z] exec",
		"[2026-11-28T10:15:00Z] 1EXEC",
		"[2026-11-28T10:15:00Z] -EXEC",
		"[2026-11-28T10:15:00Z] EX_EC",
		"[2026-11-28T10:15:00Z] EXEC ",
		"[2026-11-28T10:15:00Z] EXEC vm=work ",
		"[2026-11-28T10:15:00Z] EXEC vm",
		"[2026-11-28T10:15:00Z] EXEC vm work",
		"[2026-11-28T10:15:00Z] EXEC =work",
		"[2026-11-28T10:15:00Z] EXEC vm=",
		"[2026-11-28T10:15:00Z] EXEC vm= id=1",
		"[2026-11-28T10:15:00Z] EXEC v!m=work",
		"[2026-11-28T10:15:00Z] EXEC vm=wo\"rk",
		"[2026-11-28T10:15:00Z] EXEC vm=a=b",
		"[2026-11-28T10:15:00Z] EXEC vm=\"open",
		"[2026-11-28T10:15:00Z] EXEC vm=\"closed\"x",
		"[2026-11-28T10:15:00Z] EXEC vm=\"a\\\"",
		"[2026-11-28T10:15:00Z] EXEC vm=bad\\q",
		"[2026-11-28T10:15:00Z] EXEC vm=bad\\",
		"[2026-11-28T10:15:00Z] EXEC vm=bad\\x4",
		"[2026-11-28T10:15:00Z] EXEC vm=bad\\x4g",
		"[2026-11-28T10:15:00Z] EXEC vm=\x1b[31m",
		"[2026-11-28T10:15:00Z] EXEC vm=tab\there",
		"[2026-11-28T10:15:00Z] EXEC vm=caf\xc3\xa9",
		"[2026-11-28T10:15:00Z] EXEC vm=work\r",
		"[2026-11-28T10:15:00Z] EXEC vm=work\n\n",
		"[2026-11-28T10:15:00Z] EXEC vm=work\nDONE x=1",
	};
	struct log_entry *e = entry();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i], e);
		if (r != QR_ERR_INVALID)
			fail_msg("accepted or wrong code %d: \"%s\"", r, bad[i]);
	}
	/* a NUL inside the given length is a control byte too */
	assert_int_equal(logparse_line("[2026-11-28T10:15:00Z] EXEC vm=a\0b",
				       34, e), QR_ERR_INVALID);
}

static void
test_limits(void **state)
{
	struct log_entry *e = entry();
	struct buf line = BUF_INIT(2 * LOGPARSE_LINE_MAX);
	size_t i;

	/* exactly LOGPARSE_FIELDS_MAX fields, then one more */
	assert_int_equal(logline_begin(&line, T0, "INFO"), 0);
	for (i = 0; i < LOGPARSE_FIELDS_MAX; i++)
		assert_int_equal(logline_kvu(&line, "n", i), 0);
	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	assert_int_equal(e->n, LOGPARSE_FIELDS_MAX);
	assert_int_equal(logline_kvu(&line, "n", 99), 0);
	assert_int_equal(logparse_line(line.data, line.len, e),
			 QR_ERR_TOO_LARGE);

	/* a key of the maximum length, then one longer */
	buf_reset(&line);
	assert_int_equal(logline_begin(&line, T0, "INFO"), 0);
	assert_int_equal(buf_append_str(&line, " "), 0);
	for (i = 0; i < LOGPARSE_KEY_MAX; i++)
		assert_int_equal(buf_append(&line, "k", 1), 0);
	assert_int_equal(buf_append_str(&line, "=1"), 0);
	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	assert_int_equal(strlen(e->field[0].key), LOGPARSE_KEY_MAX);
	buf_reset(&line);
	assert_int_equal(logline_begin(&line, T0, "INFO"), 0);
	assert_int_equal(buf_append_str(&line, " "), 0);
	for (i = 0; i <= LOGPARSE_KEY_MAX; i++)
		assert_int_equal(buf_append(&line, "k", 1), 0);
	assert_int_equal(buf_append_str(&line, "=1"), 0);
	assert_int_equal(logparse_line(line.data, line.len, e),
			 QR_ERR_TOO_LARGE);

	/* a category over its maximum */
	assert_int_equal(parse_str("[2026-11-28T10:15:00Z] "
				   "ABCDEFGHIJKLMNOP x=1", e),
			 QR_ERR_TOO_LARGE);

	/* the longest line: one value filling it, all escapes (the worst
	 * case for the store), and one byte more */
	buf_reset(&line);
	assert_int_equal(logline_begin(&line, T0, "INFO"), 0);
	assert_int_equal(buf_append_str(&line, " v=\""), 0);
	while (line.len + 1 < LOGPARSE_LINE_MAX)
		assert_int_equal(buf_append(&line, "\\n", 2), 0);
	if (line.len + 1 > LOGPARSE_LINE_MAX)
		line.len -= 2;
	while (line.len + 1 < LOGPARSE_LINE_MAX)
		assert_int_equal(buf_append(&line, "a", 1), 0);
	assert_int_equal(buf_append(&line, "\"", 1), 0);
	assert_int_equal(line.len, LOGPARSE_LINE_MAX);
	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	assert_int_equal(buf_append(&line, "\n", 1), 0);
	assert_int_equal(logparse_line(line.data, line.len, e), 0);
	line.data[line.len - 1] = 'x';
	assert_int_equal(logparse_line(line.data, line.len, e),
			 QR_ERR_TOO_LARGE);
	buf_release(&line);
}

/* Pseudo-random bytes and mutations of a good line: never a crash, and
 * any accepted line has sane fields.  A smoke run of what a fuzzer does. */
static void
test_mutations(void **state)
{
	static const char good[] =
		"[2026-11-28T10:15:00Z] AUTH-FAIL vm=personal id=x "
		"reason=\"token mismatch\" cmd=\"a\\\\b\\x1b\\\"\" "
		"chain=0123456789abcdef0123456789abcdef";
	struct log_entry *e = entry();
	char line[sizeof(good)];
	uint32_t seed = 12345;
	size_t i, k;

	for (i = 0; i < 20000; i++) {
		memcpy(line, good, sizeof(good));
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			line[(seed >> 8) % (sizeof(good) - 1)] =
				(char)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		if (logparse_line(line, (seed >> 8) % sizeof(good), e) == 0) {
			size_t f;

			assert_true(e->n <= LOGPARSE_FIELDS_MAX);
			for (f = 0; f < e->n; f++) {
				assert_true(e->field[f].key >= e->store);
				assert_true(e->field[f].value + e->field[f].value_len
					    < e->store + sizeof(e->store));
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_line),
		cmocka_unit_test(test_no_fields_and_padding),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_value),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_bad_times),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
