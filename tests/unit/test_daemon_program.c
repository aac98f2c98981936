/*
 * test_daemon_program.c - the agent's command lines dom0 builds: every
 * value validated, the end mark last, and the longest (FETCH_HELD_MAX
 * releases of maximal ids) within AGENT_FETCH_CMD_MAX.
 */
#include "program.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"

#include "banned.h"

/* The longest valid cid: date, time, a 10-digit pid, 32 hex digits. */
static void
long_cid(char out[CID_MAX + 1], unsigned i)
{
	snprintf(out, CID_MAX + 1, "20261128-101500-%010u-%032x", i, i);
	assert_int_equal(strlen(out), 59);
}

static void
test_fetch_line(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX);
	struct held_claim rel[1];
	struct fetch_params p = {
		.wait_s = 30, .claim_prefix = "0a1b2c3d-7", .max_requests = 32,
		.max_bytes = 4096, .release = rel, .nrelease = 0,
	};

	(void)state;
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent fetch "
			    "0a1b2c3d-7 30 32 4096 1 qvmr-end");
	buf_reset(&b);
	long_cid(rel[0].cid, 1);
	snprintf(rel[0].claim, sizeof(rel[0].claim), "deadbeef-3-0");
	p.nrelease = 1;
	p.peek = 1;
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_non_null(strstr(buf_str(&b), " 0 20261128-101500-0000000001-"));
	assert_non_null(strstr(buf_str(&b), " deadbeef-3-0 qvmr-end"));
	/* a release that is not a cid and a claim is refused */
	buf_reset(&b);
	snprintf(rel[0].cid, sizeof(rel[0].cid), "x;reboot");
	assert_int_equal(program_agent_fetch(&b, &p), QR_ERR_INVALID);
	p.nrelease = 0;
	p.claim_prefix = "0a1b2c3d";
	assert_int_equal(program_agent_fetch(&b, &p), QR_ERR_INVALID);
	buf_release(&b);
}

/* A session's first turn is its command line, the next ones are lines
 * on its input: the same arguments, validated the same way. */
static void
test_session_lines(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX + 2);
	struct fetch_params p = {
		.wait_s = 30, .claim_prefix = "0a1b2c3d-7", .max_requests = 32,
		.max_bytes = 4096,
	};

	(void)state;
	assert_int_equal(program_agent_session(&b, &p), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent session "
			    "0a1b2c3d-7 30 32 4096 1 qvmr-end");
	buf_reset(&b);
	assert_int_equal(program_agent_turn(&b, &p), 0);
	assert_string_equal(buf_str(&b), "fetch 0a1b2c3d-7 30 32 4096 1 "
			    "qvmr-end\n");
	buf_reset(&b);
	p.claim_prefix = "0a1b2c3d-7\nfetch";
	assert_int_equal(program_agent_turn(&b, &p), QR_ERR_INVALID);
	assert_int_equal(program_agent_session(&b, &p), QR_ERR_INVALID);
	buf_release(&b);
}

/* The longest line fits the buffer dom0 gives it (the kill storm found a
 * buffer that did not: the releases were lost, the claims stranded). */
static void
test_fetch_line_longest(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX);
	struct held_claim rel[FETCH_HELD_MAX];
	struct fetch_params p = {
		.wait_s = 86400, .claim_prefix = "0a1b2c3d-4294967295",
		.max_requests = FETCH_REQ_MAX, .max_bytes = UINT64_MAX,
		.release = rel, .nrelease = FETCH_HELD_MAX,
	};

	(void)state;
	for (unsigned i = 0; i < FETCH_HELD_MAX; i++) {
		snprintf(rel[i].cid, sizeof(rel[i].cid),
			 "20261128-101500-%010u-%032x", 4000000000u + i, i);
		assert_int_equal(strlen(rel[i].cid), 59);
		snprintf(rel[i].claim, sizeof(rel[i].claim),
			 "deadbeef-%010u-%04u", 4000000000u + i, 9000 + i);
	}
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_true(b.len <= AGENT_FETCH_CMD_MAX);
	assert_non_null(strstr(buf_str(&b), " qvmr-end"));
	buf_release(&b);
}

static void
test_deliver_line(void **state)
{
	struct buf b = BUF_INIT(256);
	struct deliver_src s;

	(void)state;
	assert_int_equal(program_deliver_init(&s, "0a1b2c3d-9", NULL, 0, 1), 0);
	assert_int_equal(program_agent_deliver(&b, &s), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent deliver "
			    "0a1b2c3d-9 qvmr-end");
	buf_reset(&b);
	/* no results: just the trailer */
	assert_int_equal(program_deliver_fill(&s, &b, 4096), 1);
	assert_string_equal(buf_str(&b), "end 0\n");
	assert_int_equal(program_deliver_init(&s, "0a1b;rm", NULL, 0, 1),
			 QR_ERR_INVALID);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_line),
		cmocka_unit_test(test_session_lines),
		cmocka_unit_test(test_fetch_line_longest),
		cmocka_unit_test(test_deliver_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
