/*
 * test_lib_logline.c - log lines cannot be forged by VM-supplied values.
 */
#include "logline.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static const char *esc(struct buf *b, const char *s, size_t n, size_t max)
{
	buf_reset(b);
	assert_int_equal(log_escape(b, s, n, max), 0);
	return buf_str(b);
}

static void test_escape_table(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_string_equal(esc(&b, "plain text-1_2.3", 16, 100),
			    "plain text-1_2.3");
	assert_string_equal(esc(&b, "a\nb", 3, 100), "a\\nb");
	assert_string_equal(esc(&b, "a\rb", 3, 100), "a\\rb");
	assert_string_equal(esc(&b, "a\tb", 3, 100), "a\\tb");
	assert_string_equal(esc(&b, "say \"hi\"", 8, 100), "say \\\"hi\\\"");
	assert_string_equal(esc(&b, "c:\\x", 4, 100), "c:\\\\x");
	assert_string_equal(esc(&b, "\x1b[31m", 5, 100), "\\x1b[31m");
	assert_string_equal(esc(&b, "\0", 1, 100), "\\x00");
	assert_string_equal(esc(&b, "\x7f\x80\xff", 3, 100), "\\x7f\\x80\\xff");
	assert_string_equal(esc(&b, "\xc3\xa9", 2, 100), "\\xc3\\xa9");
	assert_string_equal(esc(&b, "~ !", 3, 100), "~ !");
	assert_string_equal(esc(&b, "", 0, 100), "");
	buf_release(&b);
}

static void test_escape_truncates(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_string_equal(esc(&b, "abcdef", 6, 3), "abc...");
	assert_string_equal(esc(&b, "abcdef", 6, 6), "abcdef");
	assert_string_equal(esc(&b, "abcdef", 6, 0), "...");
	/* max counts input bytes, not escaped output */
	assert_string_equal(esc(&b, "\n\n\n\n", 4, 2), "\\n\\n...");
	buf_release(&b);
}

static void test_escape_all_bytes(void **state)
{
	struct buf b = BUF_INIT(8192);
	uint8_t all[256];
	size_t i;

	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(log_escape(&b, all, 256, 256), 0);
	for (i = 0; i < b.len; i++) {
		uint8_t c = (uint8_t)b.data[i];

		assert_true(c >= 0x20 && c <= 0x7e);
	}
	buf_release(&b);
}

static void test_escape_limits(void **state)
{
	struct buf b = BUF_INIT(5);

	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(log_escape(&b, "\n\n", 2, 10), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "ab");
	assert_int_equal(log_escape(&b, "x", 1, 0), 0);     /* "..." */
	assert_string_equal(buf_str(&b), "ab...");
	assert_int_equal(log_escape(&b, NULL, 1, 1), QR_ERR_INVALID);
	buf_release(&b);
}

/* Exactly one '\n', at the end, and no byte outside printable ASCII. */
static void assert_one_clean_line(const struct buf *b)
{
	size_t i;

	assert_true(b->len > 0);
	assert_int_equal(b->data[b->len - 1], '\n');
	for (i = 0; i + 1 < b->len; i++) {
		uint8_t c = (uint8_t)b->data[i];

		if (c < 0x20 || c > 0x7e)
			fail_msg("byte 0x%02x at %zu in '%s'", c, i, b->data);
	}
}

static void test_line(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(logline_begin(&b, 1795860900, "AUTH-OK"), 0);
	assert_int_equal(logline_kvs(&b, "vm", "work"), 0);
	assert_int_equal(logline_kvs(&b, "id", "20261128-101500-4242-3f9a0c1d"),
			 0);
	assert_int_equal(logline_kvu(&b, "bytes", 18446744073709551615ull), 0);
	assert_int_equal(logline_kv(&b, "cmd", "qvm-ls --running", 16, 100), 0);
	assert_int_equal(logline_kv(&b, "empty", "", 0, 100), 0);
	assert_int_equal(logline_kv(&b, "eq", "a=b", 3, 100), 0);
	assert_int_equal(logline_kv(&b, "q", "say\"x\"", 6, 100), 0);
	assert_int_equal(logline_end(&b), 0);
	assert_string_equal(buf_str(&b),
		"[2026-11-28T10:15:00Z] AUTH-OK vm=work "
		"id=20261128-101500-4242-3f9a0c1d bytes=18446744073709551615 "
		"cmd=\"qvm-ls --running\" empty=\"\" eq=\"a=b\" q=say\\\"x\\\"\n");
	assert_one_clean_line(&b);
	buf_release(&b);
}

/*
 * A VM puts a newline and a fake line, or an ANSI escape, in a value: the
 * result is still one line with no raw control byte.
 */
static void test_forged_line(void **state)
{
	static const char forged[] =
		"x\n[2026-11-28T10:15:00Z] AUTH-OK vm=work id=fake";
	static const char ansi[] = "\x1b[31mred\x1b[0m\r";
	struct buf b = BUF_INIT(4096);

	assert_int_equal(logline_begin(&b, 0, "CMD"), 0);
	assert_int_equal(logline_kv(&b, "preview", forged, sizeof(forged) - 1,
				    200), 0);
	assert_int_equal(logline_kv(&b, "color", ansi, sizeof(ansi) - 1, 200),
			 0);
	assert_int_equal(logline_end(&b), 0);
	assert_one_clean_line(&b);
	assert_null(strchr(b.data, '\x1b'));
	assert_null(memchr(b.data, '\n', b.len - 1));
	assert_string_equal(buf_str(&b),
		"[1970-01-01T00:00:00Z] CMD preview=\"x\\n[2026-11-28T10:15:00Z] "
		"AUTH-OK vm=work id=fake\" color=\\x1b[31mred\\x1b[0m\\r\n");
	buf_release(&b);
}

static void test_truncated_quoting(void **state)
{
	struct buf b = BUF_INIT(4096);

	/* only the shown bytes decide the quotes */
	assert_int_equal(logline_kv(&b, "k", "abc def", 7, 3), 0);
	assert_string_equal(buf_str(&b), " k=abc...");
	buf_reset(&b);
	assert_int_equal(logline_kv(&b, "k", "ab cdef", 7, 3), 0);
	assert_string_equal(buf_str(&b), " k=\"ab ...\"");
	buf_release(&b);
}

static void test_rejects_bad_names(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(logline_begin(&b, 0, "auth-ok"), QR_ERR_INVALID);
	assert_int_equal(logline_begin(&b, 0, ""), QR_ERR_INVALID);
	assert_int_equal(logline_begin(&b, 0, "A B"), QR_ERR_INVALID);
	assert_int_equal(logline_begin(&b, 0, NULL), QR_ERR_INVALID);
	assert_int_equal(logline_kvs(&b, "a b", "x"), QR_ERR_INVALID);
	assert_int_equal(logline_kvs(&b, "a=b", "x"), QR_ERR_INVALID);
	assert_int_equal(logline_kvs(&b, "", "x"), QR_ERR_INVALID);
	assert_int_equal(logline_kvs(&b, "k", NULL), QR_ERR_INVALID);
	assert_int_equal(logline_kvu(&b, "K", 1), QR_ERR_INVALID);
	assert_int_equal(logline_kv(&b, "k", NULL, 1, 1), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	/* a value that does not fit leaves the line as it was */
	b.max = 10;
	assert_int_equal(logline_kvs(&b, "k", "abcdefghijkl"), QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_iso8601(void **state)
{
	char ts[21];

	iso8601_utc(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00Z");
	iso8601_utc(1835481599, ts);
	assert_string_equal(ts, "2028-02-29T23:59:59Z");
	iso8601_utc((time_t)253402300799LL, ts);
	assert_string_equal(ts, "9999-12-31T23:59:59Z");
	/* out of range: a fixed placeholder, never an overflow */
	iso8601_utc((time_t)253402300800LL, ts);
	assert_string_equal(ts, "0000-00-00T00:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_truncates),
		cmocka_unit_test(test_escape_all_bytes),
		cmocka_unit_test(test_escape_limits),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_forged_line),
		cmocka_unit_test(test_truncated_quoting),
		cmocka_unit_test(test_rejects_bad_names),
		cmocka_unit_test(test_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
