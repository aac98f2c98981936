/*
 * test_client_note.c - the pure half of a held request (protocol.md 5b):
 * what a note says and the deadline it gives, a cancel's answer, and a
 * withdraw's shape (an empty body only with cancel=, and nothing else).
 */
#include "note.h"
#include "submit.h"
#include "withdraw.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define RULE "/etc/qubes/remote-policy.d/30-agent.policy:7"
#define CID "20260101-000000-42-0123456789abcdef0123456789abcdef"

static void test_note_says(void **state)
{
	static const char asking[] = "status=asking\nexit=0\nreason=waiting "
		"for approval in dom0 (ask: " RULE ")\ntimeout_s=290\n";
	static const char approved[] = "status=approved\nexit=0\n";
	struct note nt;

	(void)state;
	assert_int_equal(note_parse(asking, strlen(asking), &nt), 0);
	assert_int_equal(nt.status, RESULT_ASKING);
	assert_string_equal(nt.text, "waiting for approval in dom0 (ask: "
			    RULE ")");
	assert_int_equal(nt.timeout_s, 290);
	/* no reason: dom0's words */
	assert_int_equal(note_parse(approved, strlen(approved), &nt), 0);
	assert_int_equal(nt.status, RESULT_APPROVED);
	assert_string_equal(nt.text, "approved in dom0");
	assert_int_equal(note_parse("status=asking\nexit=0\n", 21, &nt), 0);
	assert_string_equal(nt.text, "waiting for approval in dom0");
}

static void test_note_started(void **state)
{
	static const char lowered[] = "status=started\nexit=0\nstarted=dom0 "
		"runs it with a timeout of 5 s, not the 60 s asked\n"
		"timeout_s=5\n";
	static const char waited[] = "status=started\nexit=0\ntimeout_s=300\n"
		"queued_ms=1234\n";
	struct note nt;

	(void)state;
	assert_int_equal(note_parse(lowered, strlen(lowered), &nt), 0);
	assert_int_equal(nt.status, RESULT_STARTED);
	assert_string_equal(nt.text, "dom0 runs it with a timeout of 5 s, not "
			    "the 60 s asked");
	assert_int_equal(nt.timeout_s, 5);
	assert_int_equal(nt.waited_ms, 0);
	/* a wait alone: no text (the client says it with -v) */
	assert_int_equal(note_parse(waited, strlen(waited), &nt), 0);
	assert_string_equal(nt.text, "");
	assert_int_equal(nt.waited_ms, 1234);
}

/* A result, or bytes a process of the VM put there, is no note. */
static void test_note_refuses(void **state)
{
	static const char *const bad[] = {
		"status=ok\nexit=0\n",
		"status=rejected\nexit=126\nreason=x\n",
		"status=asking\n",                           /* no exit */
		"status=asking\nexit=0\nreason=\033[2J\n",   /* a control byte */
		"status=asking\nexit=0\nstatus=approved\n",
		"",
	};
	struct note nt;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(note_parse(bad[i], strlen(bad[i]), &nt),
				 QR_ERR_INVALID);
}

static void test_note_deadline(void **state)
{
	struct note nt = { .status = RESULT_ASKING, .timeout_s = 290 };

	(void)state;
	/* the seconds dom0 still waits, and 10 s for its answer */
	assert_int_equal(note_deadline_ms(&nt, 0, 5000), 5000 + 300000);
	/* --wait given: the user's deadline, from the publish */
	assert_int_equal(note_deadline_ms(&nt, 7000, 5000), 7000);
	/* no timeout_s: dom0's default ask timeout */
	nt.timeout_s = 0;
	assert_int_equal(note_deadline_ms(&nt, 0, 0),
			 (NOTE_ASK_DEFAULT_S + NOTE_GRACE_S) * 1000u);
}

static void test_cancel_answer(void **state)
{
	(void)state;
	assert_int_equal(cancel_answer_of("withdrawn\n", 10, 1, 0),
			 CANCEL_WITHDRAWN);
	assert_int_equal(cancel_answer_of("not-held\n", 9, 1, 1),
			 CANCEL_NOT_HELD);
	assert_int_equal(cancel_answer_of("not-held", 8, 1, 1),
			 CANCEL_NOT_HELD);
	/* the words and the code go together; a refusal is neither */
	assert_int_equal(cancel_answer_of("withdrawn\n", 10, 1, 1),
			 CANCEL_UNKNOWN);
	assert_int_equal(cancel_answer_of("withdrawn\n", 10, 0, 0),
			 CANCEL_UNKNOWN);
	assert_int_equal(cancel_answer_of("withdrawnx\n", 11, 1, 0),
			 CANCEL_UNKNOWN);
	assert_int_equal(cancel_answer_of("", 0, 1, 0), CANCEL_UNKNOWN);
	/* issue 16: a running command being stopped */
	assert_int_equal(cancel_answer_of("stopping\n", 9, 1, 0),
			 CANCEL_STOPPING);
	assert_int_equal(cancel_answer_of("stopping\n", 9, 1, 1),
			 CANCEL_UNKNOWN);
	assert_int_equal(cancel_answer_of("stopping\n", 9, 0, 0),
			 CANCEL_UNKNOWN);
	assert_int_equal(cancel_answer_of("stoppin", 7, 1, 0), CANCEL_UNKNOWN);
}

/* An empty body is a withdraw's only: with cancel=, and nothing else. */
static void test_withdraw_shape(void **state)
{
	struct request r;

	(void)state;
	request_init(&r);
	assert_int_equal(request_shape_check(&r), QR_ERR_INVALID);
	snprintf(r.opts.cancel, sizeof(r.opts.cancel), "%s", CID);
	assert_int_equal(request_shape_check(&r), 0);
	r.opts.timeout = 5;
	assert_int_equal(request_shape_check(&r), QR_ERR_INVALID);
	r.opts.timeout = 0;
	r.opts.check = 1;
	assert_int_equal(request_shape_check(&r), QR_ERR_INVALID);
	r.opts.check = 0;
	r.has_in = 1;
	assert_int_equal(request_shape_check(&r), QR_ERR_INVALID);
	r.has_in = 0;
	assert_int_equal(buf_append_str(&r.body, "true\n"), 0);
	assert_int_equal(request_shape_check(&r), QR_ERR_INVALID);
	r.opts.cancel[0] = '\0';
	assert_int_equal(request_shape_check(&r), 0);
	request_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_says),
		cmocka_unit_test(test_note_started),
		cmocka_unit_test(test_note_refuses),
		cmocka_unit_test(test_note_deadline),
		cmocka_unit_test(test_cancel_answer),
		cmocka_unit_test(test_withdraw_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
