/*
 * test_client_json.c - UTF-8 checking and JSON string escaping for --json.
 */
#include "json.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static int valid(const char *s, size_t n)
{
	struct utf8_state u;

	utf8_init(&u);
	utf8_feed(&u, (const uint8_t *)s, n);
	return utf8_valid(&u);
}

static void test_utf8_accepts(void **state)
{
	assert_true(valid("", 0));
	assert_true(valid("plain ascii\n", 12));
	assert_true(valid("\xc3\xa9", 2));              /* U+00E9 */
	assert_true(valid("\xe2\x82\xac", 3));          /* U+20AC */
	assert_true(valid("\xf0\x9f\x98\x80", 4));      /* U+1F600 */
	assert_true(valid("\xf4\x8f\xbf\xbf", 4));      /* U+10FFFF */
	assert_true(valid("\xed\x9f\xbf", 3));          /* U+D7FF */
	assert_true(valid("a\0b", 3));                  /* NUL is UTF-8 */
}

static void test_utf8_rejects(void **state)
{
	assert_false(valid("\xff", 1));
	assert_false(valid("\xc0\xaf", 2));             /* overlong '/' */
	assert_false(valid("\xc1\xbf", 2));
	assert_false(valid("\xe0\x80\xaf", 3));         /* overlong */
	assert_false(valid("\xed\xa0\x80", 3));         /* surrogate */
	assert_false(valid("\xf0\x80\x80\xaf", 4));     /* overlong */
	assert_false(valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
	assert_false(valid("\xf5\x80\x80\x80", 4));
	assert_false(valid("\x80", 1));                 /* lone continuation */
	assert_false(valid("\xc3", 1));                 /* cut at the end */
	assert_false(valid("\xe2\x82", 2));
	assert_false(valid("\xc3" "a", 2));
}

static void test_utf8_across_chunks(void **state)
{
	const char *s = "x\xf0\x9f\x98\x80y";
	struct utf8_state u;
	size_t i;

	/* Fed one byte at a time, as chunk borders may fall anywhere. */
	utf8_init(&u);
	for (i = 0; i < 6; i++)
		utf8_feed(&u, (const uint8_t *)s + i, 1);
	assert_true(utf8_valid(&u));
	utf8_init(&u);
	utf8_feed(&u, (const uint8_t *)s, 3);
	assert_false(utf8_valid(&u));      /* incomplete for now */
	utf8_feed(&u, (const uint8_t *)s + 3, 3);
	assert_true(utf8_valid(&u));
}

static void test_char_len(void **state)
{
	assert_int_equal(utf8_char_len((const uint8_t *)"a", 1), 1);
	assert_int_equal(utf8_char_len((const uint8_t *)"\xc3\xa9", 2), 2);
	assert_int_equal(utf8_char_len((const uint8_t *)"\xc3\xa9", 1), 0);
	assert_int_equal(utf8_char_len((const uint8_t *)"\xf0\x9f\x98\x80z",
				       5), 4);
	assert_int_equal(utf8_char_len((const uint8_t *)"\xff", 1), 0);
	assert_int_equal(utf8_char_len((const uint8_t *)"", 0), 0);
}

static void escaped(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(1024);

	assert_int_equal(json_escape(&b, in, n), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_escape(void **state)
{
	escaped("", 0, "");
	escaped("plain", 5, "plain");
	escaped("\"q\" \\", 5, "\\\"q\\\" \\\\");
	escaped("\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t");
	escaped("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
	escaped("a\0b", 3, "a\\u0000b");
	escaped("h\xc3\xa9/</script>", 13, "h\xc3\xa9/</script>");
}

static void test_string(void **state)
{
	struct buf b = BUF_INIT(64);

	assert_int_equal(json_quote(&b, "id \"x\"\n"), 0);
	assert_string_equal(buf_str(&b), "\"id \\\"x\\\"\\n\"");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_accepts),
		cmocka_unit_test(test_utf8_rejects),
		cmocka_unit_test(test_utf8_across_chunks),
		cmocka_unit_test(test_char_len),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
