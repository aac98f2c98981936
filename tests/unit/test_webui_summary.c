/*
 * test_webui_summary.c - the strip's last-hour counts and latency points,
 * from lines as the daemon writes them.
 */
#include "summary.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "logline.h"
#include "logparse.h"
#include "banned.h"

#define NOW ((time_t)1795860900)    /* 2026-11-28T10:15:00Z */

static struct summary *
new_summary(void)
{
	struct summary *s = malloc(sizeof(*s));

	assert_non_null(s);
	summary_init(s);
	return s;
}

/* Adds "[when] CAT vm=VM key=value..." written by lib/logline.h. */
static void
add(struct summary *s, time_t when, const char *cat, const char *vm,
    const char *k1, const char *v1)
{
	static struct log_entry e;
	struct buf line = BUF_INIT(4096);

	assert_int_equal(logline_begin(&line, when, cat), 0);
	if (vm != NULL)
		assert_int_equal(logline_kvs(&line, "vm", vm), 0);
	assert_int_equal(logline_kvs(&line, "id", "20261128-101500-1-abcdef01"),
			 0);
	if (k1 != NULL)
		assert_int_equal(logline_kvs(&line, k1, v1), 0);
	assert_int_equal(logparse_line(line.data, line.len, &e), 0);
	summary_add(s, &e);
	buf_release(&line);
}

static char *
render(const struct summary *s, time_t now)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(summary_json(s, now, &b), 0);
	return b.data;     /* the test frees it */
}

static void
test_empty(void **state)
{
	struct summary *s = new_summary();
	char *j = render(s, NOW);

	assert_string_equal(j, "{\"now\":1795860900,\"window\":3600,"
			    "\"horizon\":0,\"totals\":{\"commands\":0,"
			    "\"failures\":0,\"rejects\":0,\"timeouts\":0,"
			    "\"errors\":0,\"done\":0},\"vms\":[],\"latency\":[]}");
	free(j);
	free(s);
}

static void
test_counts_by_category(void **state)
{
	struct summary *s = new_summary();
	char *j;

	add(s, NOW - 100, "AUTH-OK", "work", "reason", "v2 token");
	add(s, NOW - 100, "EXEC", "work", "cmd", "qvm-ls");
	add(s, NOW - 99, "DONE", "work", "ms", "120");
	add(s, NOW - 90, "EXEC", "dev", "cmd", "false");
	add(s, NOW - 89, "DONE-FAIL", "dev", "ms", "7");
	add(s, NOW - 80, "EXEC", "work", "cmd", "sleep 999");
	add(s, NOW - 70, "TIMEOUT", "work", "ms", "300000");
	add(s, NOW - 60, "REJECT", "dev", "reason", "empty");
	add(s, NOW - 50, "AUTH-FAIL", "dev", "reason", "mismatch");
	add(s, NOW - 40, "AUTH-DENY", "other", "reason", "no key");
	add(s, NOW - 30, "ERROR", "work", "reason", "transport");
	add(s, NOW - 20, "INFO", "work", "action", "polling");
	add(s, NOW - 10, "TRUNC", "work", "stream", "out");
	j = render(s, NOW);
	assert_string_equal(j, "{\"now\":1795860900,\"window\":3600,"
		"\"horizon\":0,\"totals\":{\"commands\":3,\"failures\":1,"
		"\"rejects\":3,\"timeouts\":1,\"errors\":1,\"done\":1},"
		"\"vms\":[{\"vm\":\"work\",\"commands\":2,\"failures\":0,"
		"\"rejects\":0,\"timeouts\":1},{\"vm\":\"dev\",\"commands\":1,"
		"\"failures\":1,\"rejects\":2,\"timeouts\":0},{\"vm\":\"other\","
		"\"commands\":0,\"failures\":0,\"rejects\":1,\"timeouts\":0}],"
		"\"latency\":[[1795860801,120,\"DONE\"],[1795860811,7,"
		"\"DONE-FAIL\"],[1795860830,300000,\"TIMEOUT\"]]}");
	free(j);
	free(s);
}

/* The policy's refusals are rejects, and so are a person's deny and no
 * answer in time; what it allowed, an ask still waiting, an approval, a
 * withdrawal and the answers to checks (check=1) are not. */
static void
test_policy_refusals_are_rejects(void **state)
{
	static struct log_entry e;
	struct summary *s = new_summary();
	struct buf line = BUF_INIT(4096);
	static const char *const lines[][2] = {
		{ "deny", NULL }, { "ask", NULL }, { "allow", NULL },
		{ "deny", "1" }, { "ask", "1" }, { "denied", NULL },
		{ "expired", NULL }, { "approved", NULL }, { "withdrawn", NULL },
	};
	char *j;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		buf_reset(&line);
		assert_int_equal(logline_begin(&line, NOW - 10, "POLICY"), 0);
		assert_int_equal(logline_kvs(&line, "vm", "work"), 0);
		assert_int_equal(logline_kvs(&line, "action", lines[i][0]), 0);
		assert_int_equal(logline_kvs(&line, "rule", "none"), 0);
		if (lines[i][1] != NULL)
			assert_int_equal(logline_kvs(&line, "check",
						     lines[i][1]), 0);
		assert_int_equal(logparse_line(line.data, line.len, &e), 0);
		summary_add(s, &e);
	}
	j = render(s, NOW);
	assert_non_null(strstr(j, "\"totals\":{\"commands\":0,\"failures\":0,"
			       "\"rejects\":3,"));
	free(j);
	free(s);
	buf_release(&line);
}

/* Only (now - 3600, now] counts; the future counts as now. */
static void
test_window(void **state)
{
	struct summary *s = new_summary();
	char *j;

	add(s, NOW - 3600, "EXEC", "work", NULL, NULL);
	add(s, NOW - 3600, "DONE", "work", "ms", "5");
	add(s, NOW - 3599, "EXEC", "work", NULL, NULL);
	add(s, NOW + 500, "DONE", "work", "ms", "6");
	j = render(s, NOW);
	assert_non_null(strstr(j, "\"totals\":{\"commands\":1,"));
	assert_non_null(strstr(j, "\"latency\":[[1795860900,6,\"DONE\"]]"));
	free(j);
	/* an hour later nothing is left */
	j = render(s, NOW + 3600 + 500);
	assert_non_null(strstr(j, "\"commands\":0,"));
	free(j);
	free(s);
}

/* A hand-edited log may hold anything in vm=: it reaches JSON escaped. */
static void
test_vm_name_escaped(void **state)
{
	struct summary *s = new_summary();
	char *j;

	add(s, NOW, "EXEC", "<b>\"x\"", NULL, NULL);
	j = render(s, NOW);
	assert_non_null(strstr(j, "{\"vm\":\"\\u003cb\\u003e\\\"x\\\"\","));
	free(j);
	free(s);
}

static void
test_vms_sorted_and_capped(void **state)
{
	struct summary *s = new_summary();
	char name[32], *j, *p;
	unsigned i, k;

	for (i = 0; i < SUMMARY_VMS_MAX + 5; i++) {
		snprintf(name, sizeof(name), "vm%03u", i);
		for (k = 0; k <= (i == 10 ? 100 : i % 3); k++)
			add(s, NOW - 5, "EXEC", name, NULL, NULL);
	}
	j = render(s, NOW);
	/* the busiest first, and the 5 past the cap under "other" */
	assert_non_null(strstr(j, "\"vms\":[{\"vm\":\"vm010\",\"commands\":101"));
	p = strstr(j, "\"other\":true");
	assert_non_null(p);
	assert_null(strstr(p + 1, "\"other\":true"));
	free(j);
	free(s);
}

static void
test_latency_newest_kept(void **state)
{
	struct summary *s = new_summary();
	char ms[16], *j;
	unsigned i;

	for (i = 0; i < SUMMARY_POINTS_MAX + 50; i++) {
		snprintf(ms, sizeof(ms), "%u", i);
		add(s, NOW - 1000 + (time_t)i, "DONE", "work", "ms", ms);
	}
	j = render(s, NOW);
	assert_null(strstr(j, ",49,\"DONE\"]"));
	assert_non_null(strstr(j, "\"latency\":[[1795859950,50,\"DONE\"]"));
	assert_non_null(strstr(j, ",449,\"DONE\"]]}"));
	free(j);
	free(s);
}

/* A full ring drops the oldest and says counts before it may be short. */
static void
test_ring_and_horizon(void **state)
{
	struct summary *s = new_summary();
	char *j;
	unsigned i;

	for (i = 0; i < SUMMARY_EVENTS_MAX + 10; i++)
		add(s, NOW - 3000 + (time_t)(i / 4), "EXEC", "work", NULL, NULL);
	assert_int_equal(s->n, SUMMARY_EVENTS_MAX);
	assert_int_equal(s->horizon, NOW - 3000 + 9 / 4);
	j = render(s, NOW);
	assert_non_null(strstr(j, "\"horizon\":1795857902,"));
	free(j);
	summary_set_horizon(s, NOW - 100);
	summary_set_horizon(s, NOW - 5000);     /* never goes back */
	assert_int_equal(s->horizon, NOW - 100);
	free(s);
}

static void
test_bad_ms_ignored(void **state)
{
	struct summary *s = new_summary();
	char *j;

	add(s, NOW, "DONE", "work", "ms", "12x");
	add(s, NOW, "DONE", "work", "ms", "99999999999");
	add(s, NOW, "DONE", "work", NULL, NULL);
	add(s, NOW, "DONE", "work", "ms", "9999999999");    /* capped */
	j = render(s, NOW);
	assert_non_null(strstr(j, "\"done\":4}"));
	assert_non_null(strstr(j, "\"latency\":[[1795860900,4294967294,"
			       "\"DONE\"]]"));
	free(j);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_policy_refusals_are_rejects),
		cmocka_unit_test(test_counts_by_category),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_vm_name_escaped),
		cmocka_unit_test(test_vms_sorted_and_capped),
		cmocka_unit_test(test_latency_newest_kept),
		cmocka_unit_test(test_ring_and_horizon),
		cmocka_unit_test(test_bad_ms_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
