/*
 * test_webui_event.c - a log line as the page gets it: SSE JSON and HTML
 * rows, with every byte of log text escaped on the way.
 */
#include "event.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "logline.h"
#include "banned.h"

#define CHAIN " chain=0123456789abcdef0123456789abcdef"

static struct log_entry *
scratch(void)
{
	static struct log_entry e;

	memset(&e, 0xa5, sizeof(e));
	return &e;
}

static char *
line_event(const char *line, uint64_t seq, uint64_t n)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(event_line(&b, 0xabc, seq, n, line, strlen(line),
				    scratch()), 0);
	return b.data;
}

static char *
html_row(const char *line, size_t len, uint64_t n)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(event_html_row(&b, n, line, len, scratch()), 0);
	return b.data;
}

static void
test_daemon_line(void **state)
{
	char *j = line_event("[2026-11-28T10:15:00Z] DONE vm=work "
			     "id=20261128-101500-4242-abcdef01 exit=0 ms=120 "
			     "out=5 err=0" CHAIN, 7, 42);

	assert_string_equal(j, "id: abc-7\nevent: line\ndata: {\"seq\":7,"
		"\"n\":42,\"ok\":true,\"ts\":\"2026-11-28T10:15:00Z\","
		"\"t\":1795860900,\"cat\":\"DONE\",\"vm\":\"work\","
		"\"cid\":\"20261128-101500-4242-abcdef01\",\"ms\":120,"
		"\"msg\":\"vm=work id=20261128-101500-4242-abcdef01 exit=0 "
		"ms=120 out=5 err=0\"}\n\n");
	free(j);
}

/* test_script_command_is_text: the <script> a VM sends stays data */
static void
test_script_command_is_text(void **state)
{
	struct buf line = BUF_INIT(4096);
	const char *cmd = "<script>alert(1)</script>";
	char *j, *h;

	assert_int_equal(logline_begin(&line, 1795860900, "EXEC"), 0);
	assert_int_equal(logline_kvs(&line, "vm", "dev"), 0);
	assert_int_equal(logline_kv(&line, "cmd", cmd, strlen(cmd), 200), 0);
	assert_int_equal(buf_append_str(&line, CHAIN), 0);
	j = line_event(line.data, 1, 1);
	assert_null(strchr(j, '<'));
	assert_null(strchr(j, '>'));
	assert_non_null(strstr(j, "\"msg\":\"vm=dev cmd=\\u003cscript\\u003e"
			       "alert(1)\\u003c/script\\u003e\"}"));
	h = html_row(line.data, line.len, 1);
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "<td class=\"msg\">vm=dev cmd=&lt;script&gt;"
			       "alert(1)&lt;/script&gt;</td>"));
	free(j);
	free(h);
	buf_release(&line);
}

/* Quotes and escapes from log_escape() stay as written in msg. */
static void
test_escaped_values_shown_as_written(void **state)
{
	char *j = line_event("[2026-11-28T10:15:00Z] EXEC vm=work "
			     "cmd=\"echo \\\"hi\\\" \\x1b[31m\"" CHAIN, 1, 0);

	assert_non_null(strstr(j, "\"n\":0,"));
	assert_non_null(strstr(j, "\"msg\":\"vm=work cmd=\\\"echo \\\\\\\"hi"
			       "\\\\\\\" \\\\x1b[31m\\\"\"}"));
	free(j);
}

/* test_malformed_line_made_printable: an edited log's raw bytes */
static void
test_malformed_line_made_printable(void **state)
{
	static const char raw[] = "garbage \x1b[2J<b>\"\xff";
	struct buf b = BUF_INIT(4096);
	char *h;
	size_t i;

	assert_int_equal(event_line(&b, 1, 3, 9, raw, sizeof(raw) - 1,
				    scratch()), 0);
	assert_string_equal(b.data, "id: 1-3\nevent: line\ndata: {\"seq\":3,"
		"\"n\":9,\"ok\":false,\"cat\":\"\",\"msg\":\"garbage "
		"\\\\x1b[2J\\u003cb\\u003e\\\\\\\"\\\\xff\"}\n\n");
	for (i = 0; i < b.len; i++)
		assert_true(b.data[i] == '\n' ||
			    (b.data[i] >= 0x20 && b.data[i] < 0x7f));
	h = html_row(raw, sizeof(raw) - 1, 9);
	assert_string_equal(h, "<tr class=\"bad\"><td class=\"n\">9</td>"
		"<td class=\"ts\"></td><td class=\"cat\">?</td><td class=\"vm\">"
		"</td><td class=\"msg\">garbage \\x1b[2J&lt;b&gt;\\&quot;\\xff"
		"</td></tr>\n");
	free(h);
	buf_release(&b);
}

static void
test_msg_span(void **state)
{
	struct log_entry *e = scratch();
	const char *l;
	size_t s, n;

	l = "[2026-11-28T10:15:00Z] INFO   action=start" CHAIN "\n";
	assert_int_equal(logparse_line(l, strlen(l), e), 0);
	event_msg_span(l, strlen(l), e, &s, &n);
	assert_int_equal(n, strlen("action=start"));
	assert_memory_equal(l + s, "action=start", n);

	/* nothing but the chain value */
	l = "[2026-11-28T10:15:00Z] INFO" CHAIN;
	assert_int_equal(logparse_line(l, strlen(l), e), 0);
	event_msg_span(l, strlen(l), e, &s, &n);
	assert_int_equal(n, 0);

	/* no chain value (a hand-written line): all of it */
	l = "[2026-11-28T10:15:00Z] INFO action=start";
	assert_int_equal(logparse_line(l, strlen(l), e), 0);
	event_msg_span(l, strlen(l), e, &s, &n);
	assert_int_equal(n, strlen("action=start"));

	/* a chain= that is not the hash stays */
	l = "[2026-11-28T10:15:00Z] INFO chain=xyz";
	assert_int_equal(logparse_line(l, strlen(l), e), 0);
	event_msg_span(l, strlen(l), e, &s, &n);
	assert_int_equal(n, strlen("chain=xyz"));
}

static void
test_mark_and_named(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(event_mark(&b, 0x10, 5, "the log was <rotated>"), 0);
	assert_string_equal(b.data, "id: 10-5\nevent: mark\ndata: {\"seq\":5,"
			    "\"text\":\"the log was \\u003crotated\\u003e\"}\n\n");
	buf_reset(&b);
	assert_int_equal(event_named(&b, "chain", "{\"state\":\"ok\"}"), 0);
	assert_string_equal(b.data, "event: chain\ndata: {\"state\":\"ok\"}\n\n");
	buf_release(&b);
}

static void
test_html_row(void **state)
{
	const char *l = "[2026-11-28T10:15:00Z] AUTH-DENY vm=\"a b\" "
			"reason=\"this VM is not authorized\"" CHAIN;
	char *h = html_row(l, strlen(l), 12);

	assert_string_equal(h, "<tr class=\"cat-AUTH-DENY\"><td class=\"n\">12"
		"</td><td class=\"ts\">2026-11-28T10:15:00Z</td><td class=\"cat\">"
		"AUTH-DENY</td><td class=\"vm\">a b</td><td class=\"msg\">"
		"vm=&quot;a b&quot; reason=&quot;this VM is not authorized&quot;"
		"</td></tr>\n");
	free(h);
}

/* Bounded output: a full buffer fails and leaves it as it was. */
static void
test_too_large_leaves_buffer(void **state)
{
	struct buf b = BUF_INIT(64);
	const char *l = "[2026-11-28T10:15:00Z] INFO action=start" CHAIN;

	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_int_equal(event_line(&b, 1, 1, 1, l, strlen(l), scratch()),
			 QR_ERR_TOO_LARGE);
	assert_string_equal(b.data, "x");
	assert_int_equal(event_html_row(&b, 1, l, strlen(l), scratch()),
			 QR_ERR_TOO_LARGE);
	assert_string_equal(b.data, "x");
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daemon_line),
		cmocka_unit_test(test_script_command_is_text),
		cmocka_unit_test(test_escaped_values_shown_as_written),
		cmocka_unit_test(test_malformed_line_made_printable),
		cmocka_unit_test(test_msg_span),
		cmocka_unit_test(test_mark_and_named),
		cmocka_unit_test(test_html_row),
		cmocka_unit_test(test_too_large_leaves_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
