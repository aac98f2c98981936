/*
 * test_webui_escape.c - log text into JSON and HTML: nothing in it can
 * become markup, end a string or carry a raw control byte.
 */
#include "escape.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "banned.h"

static void
expect_json(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(json_str(&b, in, n), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void
expect_html(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(html_text(&b, in, n), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void
test_json_plain(void **state)
{
	expect_json("", 0, "\"\"");
	expect_json("qvm-ls --running", 16, "\"qvm-ls --running\"");
}

static void
test_json_quotes_and_backslash(void **state)
{
	expect_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
}

/* test_json_script_is_inert: JSON that lands in a page stays data */
static void
test_json_script_is_inert(void **state)
{
	const char *s = "<script>alert('x')</script>&";

	expect_json(s, strlen(s), "\"\\u003cscript\\u003ealert(\\u0027x\\u0027)"
		    "\\u003c/script\\u003e\\u0026\"");
}

static void
test_json_control_and_high_bytes(void **state)
{
	static const char in[] = { '\n', '\r', '\t', 0x1b, 0x7f, 0, (char)0x80,
				   (char)0xe2, (char)0xff };

	expect_json(in, sizeof(in), "\"\\u000a\\u000d\\u0009\\u001b\\u007f"
		    "\\u0000\\u0080\\u00e2\\u00ff\"");
}

/* The output is printable ASCII whatever the input. */
static void
test_json_every_byte(void **state)
{
	struct buf b = BUF_INIT(4096);
	char in[256];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)i;
	assert_int_equal(json_str(&b, in, sizeof(in)), 0);
	for (i = 0; i < b.len; i++)
		assert_true(b.data[i] >= 0x20 && b.data[i] < 0x7f);
	/* every inner quote is escaped */
	for (i = 1; i + 1 < b.len; i++)
		if (b.data[i] == '"')
			assert_int_equal(b.data[i - 1], '\\');
	buf_release(&b);
}

static void
test_json_too_large_leaves_buffer(void **state)
{
	struct buf b = BUF_INIT(16);

	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(json_str(&b, "<<<<<<", 6), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "ab");
	assert_int_equal(b.len, 2);
	buf_release(&b);
}

static void
test_json_long_input(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char in[3000];

	memset(in, '<', sizeof(in));
	assert_int_equal(json_str(&b, in, sizeof(in)), 0);
	assert_int_equal(b.len, 2 + 6 * sizeof(in));
	buf_release(&b);
}

static void
test_html_entities(void **state)
{
	const char *s = "<script>alert(\"x\" & 'y')</script>";

	expect_html(s, strlen(s), "&lt;script&gt;alert(&quot;x&quot; &amp; "
		    "&#39;y&#39;)&lt;/script&gt;");
}

static void
test_html_control_bytes_visible(void **state)
{
	static const char in[] = { 'a', 0x1b, '[', '3', '1', 'm', 0, '\n',
				   (char)0xc3, (char)0xa9 };

	expect_html(in, sizeof(in), "a\\x1b[31m\\x00\\x0a\\xc3\\xa9");
}

static void
test_html_too_large_leaves_buffer(void **state)
{
	struct buf b = BUF_INIT(10);

	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_int_equal(html_ctext(&b, "<<<"), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "x");
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_plain),
		cmocka_unit_test(test_json_quotes_and_backslash),
		cmocka_unit_test(test_json_script_is_inert),
		cmocka_unit_test(test_json_control_and_high_bytes),
		cmocka_unit_test(test_json_every_byte),
		cmocka_unit_test(test_json_too_large_leaves_buffer),
		cmocka_unit_test(test_json_long_input),
		cmocka_unit_test(test_html_entities),
		cmocka_unit_test(test_html_control_bytes_visible),
		cmocka_unit_test(test_html_too_large_leaves_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
