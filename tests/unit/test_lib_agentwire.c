/*
 * test_lib_agentwire.c - the dom0 -> agent codec: round trips and refusals.
 */
#include "agentwire.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define CID_A "20261128-101500-4242-3f9a0c1d2e3f40516273849506a7b8c9"
#define CID_B "20261128-101501-4243-00000000"
#define CLAIM_A "0badc0de-7-0"
#define CLAIM_B "0badc0de-7-1"
#define SEAL "0123456789abcdef0123456789abcdef"

static const char *const rel[] = { CID_A, CLAIM_A, CID_B, CLAIM_B };
static const struct agentwire_fetch two = {
	.prefix = "0badc0de-8", .wait_s = 30, .max_requests = FETCH_REQ_MAX,
	.max_bytes = 1u << 20, .claim = true, .release = rel, .nrelease = 2,
};

/* Decodes a turn line given without its '\n'. */
static int
turn(const char *s, struct agentwire_fetch *out, char line[AGENT_LINE_MAX + 64])
{
	static char *words[AGENTWIRE_TURN_WORDS];
	size_t n = strlen(s);

	memcpy(line, s, n + 1);
	return agentwire_decode_turn(line, n, words, out);
}

static void
test_turn_round_trip(void **state)
{
	struct buf b = BUF_INIT(AGENT_LINE_MAX + 1);
	char line[AGENT_LINE_MAX + 64];
	struct agentwire_fetch f;

	assert_int_equal(agentwire_put_turn(&b, &two), 0);
	assert_string_equal(buf_str(&b), "fetch 0badc0de-8 30 32 1048576 1 "
			    CID_A " " CLAIM_A " " CID_B " " CLAIM_B
			    " qvmr-end\n");
	b.data[--b.len] = '\0';
	assert_int_equal(turn(buf_str(&b), &f, line), 0);
	assert_string_equal(f.prefix, "0badc0de-8");
	assert_int_equal(f.wait_s, 30);
	assert_int_equal(f.max_requests, FETCH_REQ_MAX);
	assert_int_equal(f.max_bytes, 1u << 20);
	assert_true(f.claim);
	assert_int_equal(f.nrelease, 2);
	assert_string_equal(f.release[0], CID_A);
	assert_string_equal(f.release[3], CLAIM_B);
	buf_release(&b);
}

static void
test_args_round_trip(void **state)
{
	struct agentwire_fetch one = two, f;
	struct buf b = BUF_INIT(AGENT_LINE_MAX + 1);
	const char *argv[] = { "0badc0de-8", "0", "1", "0", "0" };

	one.nrelease = 0;
	one.claim = false;
	assert_int_equal(agentwire_put_args(&b, &one), 0);
	assert_string_equal(buf_str(&b), "0badc0de-8 30 32 1048576 0 qvmr-end");
	assert_int_equal(agentwire_decode_args(&f, 5, argv), 0);
	assert_false(f.claim);
	assert_int_equal(f.max_requests, 1);
	assert_int_equal(f.nrelease, 0);
	buf_release(&b);
}

static void
test_turn_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"fetch",
		"fetch qvmr-end",
		"fetch 0badc0de-8 30 32 1048576 1",                 /* no end */
		"fetch 0badc0de-8 30 32 1048576 1 qvmr-end x",
		"fetch  0badc0de-8 30 32 1048576 1 qvmr-end",       /* two spaces */
		"fetch 0badc0de-8 30 32 1048576 1 qvmr-end ",
		"fetch 0badc0de 30 32 1048576 1 qvmr-end",          /* prefix */
		"fetch 0BADC0DE-8 30 32 1048576 1 qvmr-end",
		"fetch 0badc0de-8 86401 32 1048576 1 qvmr-end",     /* wait */
		"fetch 0badc0de-8 30 0 1048576 1 qvmr-end",         /* requests */
		"fetch 0badc0de-8 30 33 1048576 1 qvmr-end",
		"fetch 0badc0de-8 30 032 1048576 1 qvmr-end",       /* not canonical */
		"fetch 0badc0de-8 30 32 -1 1 qvmr-end",
		"fetch 0badc0de-8 30 32 18446744073709551616 1 qvmr-end",
		"fetch 0badc0de-8 30 32 1048576 2 qvmr-end",        /* claim */
		"fetch 0badc0de-8 30 32 1048576 1 " CID_A " qvmr-end",  /* half */
		"fetch 0badc0de-8 30 32 1048576 1 " CID_A " x-1-0 qvmr-end",
		"fetch 0badc0de-8 30 32 1048576 1 ../etc " CLAIM_A " qvmr-end",
		"session 0badc0de-8 30 32 1048576 1 qvmr-end",
	};
	char line[AGENT_LINE_MAX + 64];
	struct agentwire_fetch f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (turn(bad[i], &f, line) != QR_ERR_INVALID)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void
test_turn_too_long(void **state)
{
	static char line[AGENT_LINE_MAX + 64];
	static char *words[AGENTWIRE_TURN_WORDS];
	struct agentwire_fetch f;

	memset(line, 'a', sizeof(line));
	assert_int_equal(agentwire_decode_turn(line, AGENT_LINE_MAX + 1, words,
					       &f), QR_ERR_TOO_LARGE);
}

static void
test_too_many_releases(void **state)
{
	const char *many[2 * FETCH_HELD_MAX + 2];
	struct agentwire_fetch f = two;
	struct buf b = BUF_INIT(2 * AGENT_LINE_MAX);

	for (size_t i = 0; i < FETCH_HELD_MAX + 1; i++) {
		many[2 * i] = CID_A;
		many[2 * i + 1] = CLAIM_A;
	}
	f.release = many;
	f.nrelease = FETCH_HELD_MAX;
	assert_int_equal(agentwire_put_turn(&b, &f), 0);
	assert_true(b.len <= AGENT_LINE_MAX + 1);
	buf_reset(&b);
	f.nrelease = FETCH_HELD_MAX + 1;
	assert_int_equal(agentwire_put_turn(&b, &f), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);          /* nothing half written */
	buf_release(&b);
}

static int
line(const char *s, struct agentwire_item *it, uint64_t *count)
{
	struct agentwire_live live;

	return agentwire_decode_deliver(s, strlen(s), it, &live, count);
}

static int
live_line(const char *s, struct agentwire_live *live)
{
	struct agentwire_item it;
	uint64_t count;

	return agentwire_decode_deliver(s, strlen(s), &it, live, &count);
}

static void
test_item_round_trip(void **state)
{
	/* static: padding too compares equal */
	static struct agentwire_item it = {
		.cid = CID_A, .claim = CLAIM_A, .exit_text = "-2147483648",
		.status = "done", .len = { 0, 7, AGENTWIRE_FILE_MAX },
		.anchor = "123456789012345678:" SEAL,
	}, back;
	static struct agentwire_live live;
	struct buf b = BUF_INIT(FRAME_LINE_MAX + 2);

	memset(&back, 0xa5, sizeof(back));
	uint64_t count;

	assert_int_equal(agentwire_put_item(&b, &it), 0);
	assert_string_equal(buf_str(&b), "item " CID_A " " CLAIM_A
			    " -2147483648 done 0 7 1099511627776 "
			    "123456789012345678:" SEAL "\n");
	assert_int_equal(agentwire_decode_deliver(buf_str(&b), b.len - 1,
						  &back, &live, &count),
			 AGENTWIRE_ITEM);
	assert_memory_equal(&it, &back, sizeof(it));
	/* without an anchor: a level 2 agent's line */
	it.anchor[0] = '\0';
	buf_reset(&b);
	assert_int_equal(agentwire_put_item(&b, &it), 0);
	assert_int_equal(agentwire_decode_deliver(buf_str(&b), b.len - 1,
						  &back, &live, &count),
			 AGENTWIRE_ITEM);
	assert_string_equal(back.anchor, "");
	buf_reset(&b);
	assert_int_equal(agentwire_put_end(&b, 3), 0);
	assert_string_equal(buf_str(&b), "end 3\n");
	assert_int_equal(line("end 3", &back, &count), AGENTWIRE_ENDS);
	assert_int_equal(count, 3);
	buf_reset(&b);
	assert_int_equal(agentwire_put_end(&b, FETCH_REQ_MAX + 1),
			 QR_ERR_INVALID);
	buf_release(&b);
}

static void
test_item_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"end",
		"end 33",
		"end 01",
		"end 1 2",
		"item " CID_A " " CLAIM_A " 0 done 0 0",            /* missing */
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 1:" SEAL " x",
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 ",
		"item  " CID_A " " CLAIM_A " 0 done 0 0 0",
		"item ../x " CLAIM_A " 0 done 0 0 0",                /* cid */
		"item " CID_A " 0badc0de-7 0 done 0 0 0",            /* claim */
		"item " CID_A " " CLAIM_A " 123456789012 done 0 0 0", /* exit */
		"item " CID_A " " CLAIM_A " - done 0 0 0",
		"item " CID_A " " CLAIM_A " 1x done 0 0 0",
		"item " CID_A " " CLAIM_A " 0 Done 0 0 0",           /* status */
		"item " CID_A " " CLAIM_A " 0 abcdefghijklmnopq 0 0 0",
		"item " CID_A " " CLAIM_A " 0 done 0 0 1099511627777", /* size */
		"item " CID_A " " CLAIM_A " 0 done 0 00 0",
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 1234567890123456789:" SEAL,
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 1:" "0123456789ABCDEF0123456789abcdef",
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 1:" SEAL "0",
		"item " CID_A " " CLAIM_A " 0 done 0 0 0 :" SEAL,
		"items " CID_A " " CLAIM_A " 0 done 0 0 0",
	};
	struct agentwire_item it;
	uint64_t count;

	assert_int_equal(line("item " CID_A " " CLAIM_A " 0 done 0 0 0", &it,
			      &count), AGENTWIRE_ITEM);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (line(bad[i], &it, &count) != QR_ERR_INVALID)
			fail_msg("accepted: \"%s\"", bad[i]);
}

/* A result that continues the VM's live files: two fields after the
 * anchor, never without one, never both 0. */
static void
test_item_from(void **state)
{
	static struct agentwire_item it = {
		.cid = CID_A, .claim = CLAIM_A, .exit_text = "0",
		.status = "done", .len = { 5, 0, 40 },
		.anchor = "7:" SEAL, .from = { 12, 3 },
	}, back;
	struct buf b = BUF_INIT(FRAME_LINE_MAX + 2);
	uint64_t count;

	assert_int_equal(agentwire_put_item(&b, &it), 0);
	assert_string_equal(buf_str(&b), "item " CID_A " " CLAIM_A
			    " 0 done 5 0 40 7:" SEAL " 12 3\n");
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(line("item " CID_A " " CLAIM_A " 0 done 5 0 40 7:"
			      SEAL " 12 3", &back, &count), AGENTWIRE_ITEM);
	assert_memory_equal(&it, &back, sizeof(it));
	it.from[0] = 0;                      /* only stderr continues */
	buf_reset(&b);
	assert_int_equal(agentwire_put_item(&b, &it), 0);
	assert_int_equal(line("item " CID_A " " CLAIM_A " 0 done 5 0 40 7:"
			      SEAL " 0 3", &back, &count), AGENTWIRE_ITEM);
	assert_int_equal(back.from[1], 3);
	it.anchor[0] = '\0';                 /* from needs the anchor */
	buf_reset(&b);
	assert_int_equal(agentwire_put_item(&b, &it), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	it.anchor[0] = '7';
	it.from[1] = AGENTWIRE_FILE_MAX;     /* past the cap with its len */
	it.len[1] = 1;
	assert_int_equal(agentwire_put_item(&b, &it), QR_ERR_INVALID);
	static const char *const bad[] = {
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 7:" SEAL " 0 0",
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 7:" SEAL " 12",
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 7:" SEAL " 012 3",
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 7:" SEAL " 12 3 4",
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 7:" SEAL
		" 1099511627776 0",
		"item " CID_A " " CLAIM_A " 0 done 5 0 40 12 3",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (line(bad[i], &back, &count) != QR_ERR_INVALID)
			fail_msg("accepted: \"%s\"", bad[i]);
	buf_release(&b);
}

static void
test_live_round_trip(void **state)
{
	static struct agentwire_live l = {
		.cid = CID_A, .claim = CLAIM_A,
		.from = { 4096, 0 }, .len = { 17, AGENTWIRE_FILE_MAX },
	}, back;
	struct buf b = BUF_INIT(FRAME_LINE_MAX + 2);

	assert_int_equal(agentwire_put_live(&b, &l), 0);
	assert_string_equal(buf_str(&b), "live " CID_A " " CLAIM_A
			    " 4096 17 0 1099511627776\n");
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(live_line("live " CID_A " " CLAIM_A
				   " 4096 17 0 1099511627776", &back),
			 AGENTWIRE_LIVE);
	assert_memory_equal(&l, &back, sizeof(l));
	l.from[1] = 1;                       /* from + len past the cap */
	buf_reset(&b);
	assert_int_equal(agentwire_put_live(&b, &l), QR_ERR_INVALID);
	static const char *const bad[] = {
		"live " CID_A " " CLAIM_A " 0 0 0",
		"live " CID_A " " CLAIM_A " 0 0 0 0 0",
		"live " CID_A " " CLAIM_A " 00 0 0 0",
		"live " CID_A " " CLAIM_A " 1 1099511627776 0 0",
		"live ../x " CLAIM_A " 0 0 0 0",
		"live " CID_A " 0badc0de-7 0 0 0 0",
		"live " CID_A " " CLAIM_A " -1 0 0 0",
		"Live " CID_A " " CLAIM_A " 0 0 0 0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (live_line(bad[i], &back) != QR_ERR_INVALID)
			fail_msg("accepted: \"%s\"", bad[i]);
	buf_release(&b);
}

static void
test_item_too_long(void **state)
{
	char big[FRAME_LINE_MAX + 2];
	struct agentwire_item it;
	uint64_t count;

	memset(big, '1', sizeof(big));
	struct agentwire_live live;

	assert_int_equal(agentwire_decode_deliver(big, FRAME_LINE_MAX + 1, &it,
						  &live, &count),
			 QR_ERR_TOO_LARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_turn_round_trip),
		cmocka_unit_test(test_args_round_trip),
		cmocka_unit_test(test_turn_refused),
		cmocka_unit_test(test_turn_too_long),
		cmocka_unit_test(test_too_many_releases),
		cmocka_unit_test(test_item_round_trip),
		cmocka_unit_test(test_item_refused),
		cmocka_unit_test(test_item_from),
		cmocka_unit_test(test_live_round_trip),
		cmocka_unit_test(test_item_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
