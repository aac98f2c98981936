/*
 * test_lib_frame.c - fetch and deliver reply framing.
 */
#include "frame.h"

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
#define TOKEN "v2 78d10723471a64e3dd419fa7587e785f43681ef52742683bf48eb6966267b926\n"

#define U(s) ((const uint8_t *)(s))

/* The reply structs are large; keep them off the stack. */
static struct fetch_reply *fr;
static struct deliver_reply *dr;

static int setup(void **state)
{
	fr = calloc(1, sizeof(*fr));
	dr = calloc(1, sizeof(*dr));
	return fr != NULL && dr != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	free(fr);
	free(dr);
	return 0;
}

static int fetch(const char *s)
{
	return frame_parse_fetch(U(s), strlen(s), fr);
}

static int deliver(const char *s)
{
	return frame_parse_deliver(U(s), strlen(s), dr);
}

static void test_claim_valid(void **state)
{
	static const char *const good[] = {
		"0badc0de-0-0", "01234567-1234567890-1234", "ffffffff-1-99",
	};
	static const char *const bad[] = {
		"", "0badc0de", "0badc0de-", "0badc0de-1", "0badc0de-1-",
		"0BADC0DE-1-1", "0badc0d-1-1", "0badc0de0-1-1",
		"0badc0de-12345678901-1", "0badc0de-1-12345", "0badc0de--1",
		"0badc0de-1-1-", "0badc0de-a-1", "0badc0de-1-1 ", "../x",
		"0badc0de_1_1",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(claim_valid(good[i], strlen(good[i])));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (claim_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted claim '%s'", bad[i]);
	assert_false(claim_valid(NULL, 0));
}

static void test_kinds(void **state)
{
	assert_string_equal(part_kind_name(PART_BODY), "body");
	assert_string_equal(part_kind_name(PART_OPT), "opt");
	assert_string_equal(part_kind_name(PART_IN), "in");
	assert_string_equal(part_kind_name(PART_AUTH), "auth");
	assert_string_equal(part_kind_name(PART_KINDS), "?");
	assert_int_equal(part_kind_max(PART_BODY), BODY_MAX);
	assert_int_equal(part_kind_max(PART_OPT), OPT_MAX);
	assert_int_equal(part_kind_max(PART_IN), IN_MAX);
	assert_int_equal(part_kind_max(PART_AUTH), AUTH_MAX);
	assert_int_equal(part_kind_max(PART_KINDS), 0);
}

static void test_round_trip(void **state)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);
	const struct fetch_request *q;

	assert_int_equal(frame_put_fetch_header(&b), 0);
	assert_int_equal(frame_put_request(&b, CID_A, CLAIM_A), 0);
	assert_int_equal(frame_put_part(&b, PART_BODY, "echo hi\n", 8), 0);
	assert_int_equal(frame_put_part(&b, PART_OPT, "timeout=5\n", 10), 0);
	assert_int_equal(frame_put_part(&b, PART_IN, "a\nend\nb\0", 8), 0);
	assert_int_equal(frame_put_part(&b, PART_AUTH, TOKEN, 68), 0);
	assert_int_equal(frame_put_end(&b), 0);
	assert_int_equal(frame_put_request(&b, CID_B, CLAIM_B), 0);
	assert_int_equal(frame_put_part(&b, PART_BODY, "", 0), 0);
	assert_int_equal(frame_put_big(&b, PART_IN, IN_MAX + 1ull), 0);
	assert_int_equal(frame_put_end(&b), 0);
	assert_int_equal(buf_printf(&b, "skip 3\n"), 0);
	assert_int_equal(frame_put_done(&b, 2), 0);

	assert_int_equal(frame_parse_fetch(U(b.data), b.len, fr), 0);
	assert_int_equal(fr->n, 2);
	assert_true(fr->skipped == 3);
	q = &fr->req[0];
	assert_string_equal(q->cid, CID_A);
	assert_string_equal(q->claim, CLAIM_A);
	assert_true(q->part[PART_BODY].present);
	assert_false(q->part[PART_BODY].too_big);
	assert_int_equal(q->part[PART_BODY].len, 8);
	assert_memory_equal(q->part[PART_BODY].p, "echo hi\n", 8);
	/* parts point into the input */
	assert_true((const char *)q->part[PART_BODY].p > b.data &&
		    (const char *)q->part[PART_BODY].p < b.data + b.len);
	assert_memory_equal(q->part[PART_OPT].p, "timeout=5\n", 10);
	assert_int_equal(q->part[PART_IN].len, 8);
	assert_memory_equal(q->part[PART_IN].p, "a\nend\nb\0", 8);
	assert_int_equal(q->part[PART_AUTH].len, 68);
	assert_memory_equal(q->part[PART_AUTH].p, TOKEN, 68);
	q = &fr->req[1];
	assert_string_equal(q->cid, CID_B);
	assert_true(q->part[PART_BODY].present);
	assert_int_equal(q->part[PART_BODY].len, 0);
	assert_false(q->part[PART_OPT].present);
	assert_true(q->part[PART_IN].present);
	assert_true(q->part[PART_IN].too_big);
	assert_null(q->part[PART_IN].p);
	assert_true(q->part[PART_IN].len == IN_MAX + 1ull);
	assert_false(q->part[PART_AUTH].present);
	buf_release(&b);
}

static void test_minimal_and_max_parts(void **state)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);
	char *body = malloc(BODY_MAX);

	assert_int_equal(fetch("qvmr-fetch 1\ndone 0\n"), 0);
	assert_int_equal(fr->n, 0);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 1\n"), 0);
	assert_false(fr->req[0].part[PART_BODY].present);
	assert_int_equal(fetch("qvmr-fetch 1\nskip 0\ndone 0\n"), 0);

	/* exactly the limit is fine */
	assert_non_null(body);
	memset(body, 'x', BODY_MAX);
	assert_int_equal(frame_put_fetch_header(&b), 0);
	assert_int_equal(frame_put_request(&b, CID_A, CLAIM_A), 0);
	assert_int_equal(frame_put_part(&b, PART_BODY, body, BODY_MAX), 0);
	assert_int_equal(frame_put_end(&b), 0);
	assert_int_equal(frame_put_done(&b, 1), 0);
	assert_int_equal(frame_parse_fetch(U(b.data), b.len, fr), 0);
	assert_int_equal(fr->req[0].part[PART_BODY].len, BODY_MAX);
	free(body);
	buf_release(&b);
}

static void test_bad_magic(void **state)
{
	assert_int_equal(fetch(""), QR_ERR_INCOMPLETE);
	assert_int_equal(fetch("qvmr-fetch 1"), QR_ERR_INCOMPLETE);
	assert_int_equal(fetch("qvmr-fetch 2\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1 \ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("QVMR-FETCH 1\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("\nqvmr-fetch 1\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-deliver 1\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("done 0\n"), QR_ERR_INVALID);
}

static void test_bad_cid_and_claim(void **state)
{
	assert_int_equal(fetch("qvmr-fetch 1\nreq ../x " CLAIM_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq a b " CLAIM_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A "/.. " CLAIM_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " ../claim"
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq  " CID_A " " CLAIM_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       " x\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\r\nend\ndone 1\n"), QR_ERR_INVALID);
	/* the same cid twice */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\nreq " CID_A " " CLAIM_B
			       "\nend\ndone 2\n"), QR_ERR_INVALID);
}

static void test_oversize_len(void **state)
{
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 1048577\n"), QR_ERR_TOO_LARGE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart auth 81\n"), QR_ERR_TOO_LARGE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart opt 4097\n"), QR_ERR_TOO_LARGE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart in 8388609\n"), QR_ERR_TOO_LARGE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart in 99999999999999999999\n"),
			 QR_ERR_TOO_LARGE);
	/* not canonical decimal */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 01\nx\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body +1\nx\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body -1\nx\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 0x1\nx\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body \n\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* the whole reply over its limit is refused before parsing */
	assert_int_equal(frame_parse_fetch(U("qvmr-fetch 1\n"),
					   FETCH_REPLY_MAX + 1ul, fr),
			 QR_ERR_TOO_LARGE);
}

static void test_big(void **state)
{
	/* "big" for a size that would have fitted is inconsistent */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig body 1048576\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig auth 5\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig auth 81\nend\ndone 1\n"), 0);
	assert_true(fr->req[0].part[PART_AUTH].too_big);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig in 18446744073709551615\nend\ndone 1\n"),
			 0);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig in 18446744073709551616\nend\ndone 1\n"),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig in 099999999\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* no bytes follow a big line */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig auth 81\nxyz\nend\ndone 1\n"),
			 QR_ERR_INVALID);
}

static void test_truncated_and_missing_newline(void **state)
{
	/* fewer bytes than LEN */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 10\nabc"), QR_ERR_INCOMPLETE);
	/* LEN bytes then no newline at all */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 3\nabc"), QR_ERR_INCOMPLETE);
	/* LEN bytes then something else than "\n" */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 3\nabcX\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* LEN one short of the real body */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 2\nabc\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* no end, no done */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A "\n"),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\n"), QR_ERR_INCOMPLETE);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 1"), QR_ERR_INCOMPLETE);
}

static void test_done_count(void **state)
{
	assert_int_equal(fetch("qvmr-fetch 1\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 2\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\ndone 00\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\ndone\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\ndone 0 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\ndone 33\n"), QR_ERR_TOO_LARGE);
}

/* "agent LEVEL": only right after the header, once, LEVEL 1-99. */
static void test_agent_line(void **state)
{
	static const char *const bad[] = {
		"agent 0", "agent 100", "agent 01", "agent x", "agent",
		"agent 1 1", "agent -1",
	};
	char text[64];

	(void)state;

	assert_int_equal(fetch("qvmr-fetch 1\ndone 0\n"), 0);
	assert_int_equal(fr->agent, 0);
	assert_int_equal(fetch("qvmr-fetch 1\nagent 1\ndone 0\n"), 0);
	assert_int_equal(fr->agent, 1);
	assert_int_equal(fetch("qvmr-fetch 1\nagent 2\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 1\n"), 0);
	assert_int_equal(fr->agent, 2);
	assert_int_equal(fr->n, 1);
	assert_int_equal(fetch("qvmr-fetch 1\nagent 99\ndone 0\n"), 0);
	assert_int_equal(fr->agent, 99);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\nagent 1\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nagent 1\nagent 1\ndone 0\n"),
			 QR_ERR_INVALID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "qvmr-fetch 1\n%s\ndone 0\n",
			 bad[i]);
		assert_int_not_equal(fetch(text), 0);
	}
	assert_int_equal(fetch("qvmr-fetch 1\nagent 1\n"), QR_ERR_INCOMPLETE);
}

/* A session's deliver reply ends at its first "done" line; what follows
 * (the next fetch reply) is not part of it. */
static void test_deliver_span(void **state)
{
	static const char one[] = "qvmr-deliver 1\nok " CID_A "\ndone 1\n";
	char big[DELIVER_REPLY_MAX + 64];
	size_t n;

	(void)state;
	assert_int_equal(frame_deliver_span(U(one), strlen(one)), strlen(one));
	assert_int_equal(frame_deliver_span(U("qvmr-deliver 1\ndone 0\n"
					      "qvmr-fetch 1\ndone 0\n"), 40),
			 strlen("qvmr-deliver 1\ndone 0\n"));
	/* not yet whole: no done line, or one without its newline */
	assert_int_equal(frame_deliver_span(U(one), strlen(one) - 1), 0);
	assert_int_equal(frame_deliver_span(U("qvmr-deliver 1\nok "), 18), 0);
	assert_int_equal(frame_deliver_span(U(""), 0), 0);
	/* the header line never ends it, whatever it says */
	assert_int_equal(frame_deliver_span(U("done 0\n"), 7), 0);
	/* "done" must be a word of its own at the start of a line */
	assert_int_equal(frame_deliver_span(U("x\nok done 1\ndone\n"), 17), 0);
	/* the span found is what the parser then validates */
	n = frame_deliver_span(U(one), strlen(one));
	assert_int_equal(frame_parse_deliver(U(one), n, dr), 0);
	assert_int_equal(dr->n, 1);
	/* a done line past DELIVER_REPLY_MAX is not looked for */
	memset(big, 'x', sizeof(big));
	big[0] = '\n';
	memcpy(big + sizeof(big) - 8, "\ndone 0\n", 8);
	assert_int_equal(frame_deliver_span(U(big), sizeof(big)), 0);
	memcpy(big + 100, "\ndone 0\n", 8);
	assert_int_equal(frame_deliver_span(U(big), sizeof(big)), 108);
}

/* frame_fetch_span() of a text. */
static int fetch_span(const char *s, size_t *span)
{
	return frame_fetch_span(U(s), strlen(s), span);
}

/* A fetch reply's end is found as it comes, past part bytes that look
 * like a "done" line, and before whatever a session says after it. */
static void test_fetch_span(void **state)
{
	static const char one[] = "qvmr-fetch 1\nagent 3\nreq " CID_A
		" 0a0b0c0d-1-0\npart body 9\nx\ndone 0\n\nend\n"
		"held " CID_A " 0a0b0c0d-1-0\ndone 1\n";
	static const char bogus[] = "qvmr-fetch 1\nbogus\ndone 0\n";
	static const char words[] = "qvmr-fetch 1\ndone\nx done 0\ndone 0\n";
	const size_t bigsize = FETCH_REPLY_MAX + 64;
	char *big = malloc(bigsize);
	size_t n = strlen(one), span = 7;

	(void)state;
	assert_non_null(big);
	assert_int_equal(fetch_span(one, &span), 0);
	assert_int_equal(span, n);
	/* the span found is what the parser then validates */
	assert_int_equal(frame_parse_fetch(U(one), span, fr), 0);
	assert_int_equal(fr->n, 1);
	/* not yet whole: cut anywhere before its last byte, the body's
	 * "done 0" line included */
	for (size_t cut = 0; cut < n; cut++) {
		assert_int_equal(frame_fetch_span(U(one), cut, &span),
				 QR_ERR_INCOMPLETE);
		assert_int_equal(span, 0);
	}
	/* what follows (a session's flood, its next reply) is not part of
	 * it */
	memcpy(big, one, n);
	memset(big + n, 'x', 100000);
	assert_int_equal(frame_fetch_span(U(big), n + 100000, &span), 0);
	assert_int_equal(span, n);
	/* the header line never ends it; "done" must be a word of its own */
	assert_int_equal(fetch_span("done 0\n", &span), QR_ERR_INCOMPLETE);
	assert_int_equal(fetch_span(words, &span), 0);
	assert_int_equal(span, strlen(words));
	/* a reply that does not parse still has its end found: the parser
	 * says what is wrong with it */
	assert_int_equal(fetch_span(bogus, &span), 0);
	assert_int_equal(span, strlen(bogus));
	assert_int_equal(frame_parse_fetch(U(bogus), span, fr), QR_ERR_INVALID);
	/* never whole: an overlong line, a part length that is no number or
	 * over its limit, a part's bytes not ended by a newline */
	memset(big, 'x', FRAME_LINE_MAX + 1);
	assert_int_equal(frame_fetch_span(U(big), FRAME_LINE_MAX + 1, &span),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(fetch_span("qvmr-fetch 1\npart body x\n", &span),
			 QR_ERR_INVALID);
	assert_int_equal(fetch_span("qvmr-fetch 1\npart opt 4097\n", &span),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(fetch_span("qvmr-fetch 1\npart in 1\nxy", &span),
			 QR_ERR_INVALID);
	/* no end within FETCH_REPLY_MAX: more bytes cannot make it whole */
	memset(big, 'x', bigsize);
	for (size_t i = 0; i < bigsize; i += 64)
		big[i] = '\n';
	assert_int_equal(frame_fetch_span(U(big), bigsize, &span),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(frame_fetch_span(U(big), FETCH_REPLY_MAX - 100, &span),
			 QR_ERR_INCOMPLETE);
	free(big);
}

/* Claim markers in running/, listed for crash recovery. */
static void test_held(void **state)
{
	struct buf b = BUF_INIT(16384);

	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\nheld " CID_A " " CLAIM_A "\nheld " CID_B
			       " " CLAIM_B "\nskip 2\ndone 1\n"), 0);
	assert_int_equal(fr->nheld, 2);
	assert_string_equal(fr->held[1].cid, CID_B);
	assert_string_equal(fr->held[1].claim, CLAIM_B);
	/* held before a request, after skip, or with a bad name: malformed */
	assert_int_equal(fetch("qvmr-fetch 1\nheld " CID_A " " CLAIM_A
			       "\nreq " CID_B " " CLAIM_B "\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nskip 1\nheld " CID_A " "
			       CLAIM_A "\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nheld ../x " CLAIM_A
			       "\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nheld " CID_A " x\ndone 0\n"),
			 QR_ERR_INVALID);
	for (unsigned i = 0; i <= FETCH_HELD_MAX; i++)
		assert_int_equal(frame_put_held(&b, CID_A, CLAIM_A), 0);
	assert_int_equal(frame_put_held(&b, "a/b", CLAIM_A), QR_ERR_INVALID);
	{
		struct buf all = BUF_INIT(1 << 16);
		assert_int_equal(buf_append_str(&all, "qvmr-fetch 1\n"), 0);
		assert_int_equal(buf_append(&all, b.data, b.len), 0);
		assert_int_equal(buf_append_str(&all, "done 0\n"), 0);
		assert_int_equal(frame_parse_fetch(U(all.data), all.len, fr),
				 QR_ERR_TOO_LARGE);
		buf_release(&all);
	}
	buf_release(&b);
}

static void test_trailing(void **state)
{
	assert_int_equal(fetch("qvmr-fetch 1\ndone 0\nx"), QR_ERR_TRAILING);
	assert_int_equal(fetch("qvmr-fetch 1\ndone 0\n\n"), QR_ERR_TRAILING);
	assert_int_equal(frame_parse_fetch(U("qvmr-fetch 1\ndone 0\n\0"), 21,
					   fr), QR_ERR_TRAILING);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 1\nreq " CID_B " " CLAIM_B
			       "\nend\n"), QR_ERR_TRAILING);
}

static void test_order_and_duplicates(void **state)
{
	/* opt before body */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart opt 1\nx\npart body 1\ny\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* auth before in */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart auth 1\nx\npart in 1\ny\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* body twice */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 1\nx\npart body 1\ny\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* part and big of the same kind */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nbig in 8388609\npart in 1\ny\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	/* skipping kinds is fine */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 1\nx\npart auth 1\ny\nend\ndone 1\n"),
			 0);
	/* unknown kinds and lines */
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart foo 1\nx\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart Body 1\nx\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\npart body 1 2\nx\nend\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nhello\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nreq " CID_A " " CLAIM_A
			       "\nend \ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nend\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\npart body 1\nx\ndone 0\n"),
			 QR_ERR_INVALID);
	/* skip: at most once, after the requests */
	assert_int_equal(fetch("qvmr-fetch 1\nskip 1\nskip 1\ndone 0\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nskip 1\nreq " CID_A " " CLAIM_A
			       "\nend\ndone 1\n"), QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nskip 01\ndone 0\n"),
			 QR_ERR_INVALID);
	assert_int_equal(fetch("qvmr-fetch 1\nskip\ndone 0\n"), QR_ERR_INVALID);
}

static void test_too_many_requests(void **state)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);
	char cid[CID_MAX + 1], claim[CLAIM_MAX + 1];
	size_t i;

	assert_int_equal(frame_put_fetch_header(&b), 0);
	for (i = 0; i <= FETCH_REQ_MAX; i++) {
		snprintf(cid, sizeof(cid), "20261128-101500-1-%08zx", i);
		snprintf(claim, sizeof(claim), "0badc0de-1-%zu", i);
		assert_int_equal(frame_put_request(&b, cid, claim), 0);
		assert_int_equal(frame_put_end(&b), 0);
		if (i + 1 == FETCH_REQ_MAX) {
			struct buf ok = BUF_INIT(FETCH_REPLY_MAX);

			assert_int_equal(buf_append(&ok, b.data, b.len), 0);
			assert_int_equal(frame_put_done(&ok, FETCH_REQ_MAX), 0);
			assert_int_equal(frame_parse_fetch(U(ok.data), ok.len,
							   fr), 0);
			assert_int_equal(fr->n, FETCH_REQ_MAX);
			buf_release(&ok);
		}
	}
	assert_int_equal(buf_printf(&b, "done %u\n", FETCH_REQ_MAX + 1), 0);
	assert_int_equal(frame_parse_fetch(U(b.data), b.len, fr),
			 QR_ERR_TOO_LARGE);
	buf_release(&b);
}

static void test_long_line(void **state)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(buf_printf(&b, "qvmr-fetch 1\nskip %0300d\ndone 0\n",
				    1), 0);
	assert_int_equal(frame_parse_fetch(U(b.data), b.len, fr),
			 QR_ERR_TOO_LARGE);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%0300d", 1), 0);
	assert_int_equal(frame_parse_fetch(U(b.data), b.len, fr),
			 QR_ERR_TOO_LARGE);
	buf_release(&b);
}

static void test_writers_refuse(void **state)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);
	static char body[BODY_MAX + 1];

	assert_int_equal(frame_put_request(&b, "../x", CLAIM_A),
			 QR_ERR_INVALID);
	assert_int_equal(frame_put_request(&b, CID_A, "a b"), QR_ERR_INVALID);
	assert_int_equal(frame_put_request(&b, NULL, CLAIM_A), QR_ERR_INVALID);
	assert_int_equal(frame_put_part(&b, PART_BODY, body, sizeof(body)),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(frame_put_part(&b, PART_KINDS, "x", 1),
			 QR_ERR_INVALID);
	assert_int_equal(frame_put_part(&b, PART_BODY, NULL, 1),
			 QR_ERR_INVALID);
	assert_int_equal(frame_put_big(&b, PART_AUTH, AUTH_MAX),
			 QR_ERR_INVALID);
	assert_int_equal(frame_put_big(&b, PART_KINDS, 1u << 30),
			 QR_ERR_INVALID);
	assert_int_equal(frame_put_done(&b, FETCH_REQ_MAX + 1), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	/* a part that does not fit leaves nothing half-written */
	b.max = 20;
	assert_int_equal(frame_put_part(&b, PART_BODY, "0123456789", 10),
			 QR_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_deliver(void **state)
{
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\ngone " CID_B
				 "\nfail ping-1-2\ndone 3\n"), 0);
	assert_int_equal(dr->n, 3);
	assert_string_equal(dr->e[0].cid, CID_A);
	assert_int_equal(dr->e[0].status, DELIVER_OK);
	assert_string_equal(dr->e[1].cid, CID_B);
	assert_int_equal(dr->e[1].status, DELIVER_GONE);
	assert_string_equal(dr->e[2].cid, "ping-1-2");
	assert_int_equal(dr->e[2].status, DELIVER_FAIL);
	assert_int_equal(deliver("qvmr-deliver 1\ndone 0\n"), 0);
	assert_int_equal(dr->n, 0);
}

static void test_deliver_malformed(void **state)
{
	assert_int_equal(deliver(""), QR_ERR_INCOMPLETE);
	assert_int_equal(deliver("qvmr-deliver 2\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-fetch 1\ndone 0\n"), QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok ../x\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok a b\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nOK " CID_A "\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nmaybe " CID_A "\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\ndone 2\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\ndone 0\n"),
			 QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\ndone 1\nx"),
			 QR_ERR_TRAILING);
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\n"),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(deliver("qvmr-deliver 1\nok " CID_A "\nok " CID_A
				 "\ndone 2\n"), QR_ERR_INVALID);
	assert_int_equal(deliver("qvmr-deliver 1\nok  " CID_A "\ndone 1\n"),
			 QR_ERR_INVALID);
	assert_int_equal(frame_parse_deliver(U("qvmr-deliver 1\n"),
					     DELIVER_REPLY_MAX + 1ul, dr),
			 QR_ERR_TOO_LARGE);
}

static void test_deliver_too_many(void **state)
{
	struct buf b = BUF_INIT(DELIVER_REPLY_MAX);
	size_t i;

	assert_int_equal(buf_append_str(&b, "qvmr-deliver 1\n"), 0);
	for (i = 0; i <= FETCH_REQ_MAX; i++)
		assert_int_equal(buf_printf(&b, "ok 20261128-101500-1-%08zx\n",
					    i), 0);
	assert_int_equal(buf_printf(&b, "done %u\n", FETCH_REQ_MAX + 1), 0);
	assert_int_equal(frame_parse_deliver(U(b.data), b.len, dr),
			 QR_ERR_TOO_LARGE);
	buf_release(&b);
}

/* The agent's writers: what they write is what dom0 parses. */
static void test_agent_writers(void **state)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);

	assert_int_equal(frame_put_fetch_header(&b), 0);
	assert_int_equal(frame_put_agent(&b, AGENT_ANCHOR), 0);
	assert_int_equal(frame_put_request(&b, CID_A, CLAIM_A), 0);
	assert_int_equal(frame_put_part_header(&b, PART_BODY, 2), 0);
	assert_int_equal(buf_append_str(&b, "a\n\n"), 0);
	assert_int_equal(frame_put_end(&b), 0);
	assert_int_equal(frame_put_held(&b, CID_B, CLAIM_B), 0);
	assert_int_equal(frame_put_skip(&b, 3), 0);
	assert_int_equal(frame_put_done(&b, 1), 0);
	assert_int_equal(frame_parse_fetch((const uint8_t *)b.data, b.len, fr), 0);
	assert_int_equal(fr->agent, AGENT_ANCHOR);
	assert_int_equal(fr->req[0].part[PART_BODY].len, 2);
	assert_int_equal(fr->skipped, 3);
	assert_int_equal(frame_put_agent(&b, 0), QR_ERR_INVALID);
	assert_int_equal(frame_put_part_header(&b, PART_AUTH, AUTH_MAX + 1),
			 QR_ERR_TOO_LARGE);
	buf_reset(&b);
	assert_int_equal(frame_put_deliver_header(&b), 0);
	assert_int_equal(frame_put_status(&b, DELIVER_OK, CID_A), 0);
	assert_int_equal(frame_put_status(&b, DELIVER_GONE, CID_B), 0);
	assert_int_equal(frame_put_done(&b, 2), 0);
	assert_string_equal(buf_str(&b), "qvmr-deliver 1\nok " CID_A "\ngone "
			    CID_B "\ndone 2\n");
	assert_int_equal(frame_parse_deliver((const uint8_t *)b.data, b.len, dr), 0);
	assert_int_equal(frame_put_status(&b, DELIVER_FAIL, "../x"),
			 QR_ERR_INVALID);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_valid),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_minimal_and_max_parts),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_cid_and_claim),
		cmocka_unit_test(test_oversize_len),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_truncated_and_missing_newline),
		cmocka_unit_test(test_done_count),
		cmocka_unit_test(test_agent_line),
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_order_and_duplicates),
		cmocka_unit_test(test_too_many_requests),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_writers_refuse),
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_deliver_span),
		cmocka_unit_test(test_fetch_span),
		cmocka_unit_test(test_deliver_malformed),
		cmocka_unit_test(test_deliver_too_many),
		cmocka_unit_test(test_agent_writers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
