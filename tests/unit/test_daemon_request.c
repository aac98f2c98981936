/*
 * test_daemon_request.c - the verdict on one fetched request: each defence
 * of L1 and L2 attacked on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cid.h"
#include "key.h"
#include "replay.h"
#include "request.h"
#include "token.h"
#include "banned.h"

static const char key_hex[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char other_hex[] =
	"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

struct fixture {
	struct key key, other;
	struct replay replay;
	char dir[64];
	time_t now;
	char cid[CID_MAX + 1];
	struct fetch_request q;
	char token[TOKEN_V2_TEXT_LEN + 1];
	const char *body, *opt, *in;
	size_t body_n;              /* body's bytes when it holds NULs; 0: strlen */
};

static size_t
body_len(const struct fixture *f)
{
	return f->body_n != 0 ? f->body_n : f->body ? strlen(f->body) : 0;
}

static void
set_part(struct fetch_request *q, enum part_kind k, const char *s)
{
	q->part[k].present = s != NULL;
	q->part[k].p = (const uint8_t *)s;
	q->part[k].len = s != NULL ? strlen(s) : 0;
}

/* Signs what the client would have sent with key k. */
static void
sign(struct fixture *f, const struct key *k)
{
	struct token_input ti = {
		.cid = f->cid, .cid_len = strlen(f->cid),
		.body = (const uint8_t *)f->body, .body_len = body_len(f),
		.opt = (const uint8_t *)f->opt,
		.opt_len = f->opt ? strlen(f->opt) : 0,
		.in = (const uint8_t *)f->in, .in_len = f->in ? strlen(f->in) : 0,
	};
	assert_int_equal(token_v2_text(k, &ti, f->token), 0);
	set_part(&f->q, PART_AUTH, f->token);
}

static void
build(struct fixture *f)
{
	memset(&f->q, 0, sizeof(f->q));
	memcpy(f->q.cid, f->cid, strlen(f->cid) + 1);
	snprintf(f->q.claim, sizeof(f->q.claim), "0a0b0c0d-1-0");
	set_part(&f->q, PART_BODY, f->body);
	f->q.part[PART_BODY].len = body_len(f);
	set_part(&f->q, PART_OPT, f->opt);
	set_part(&f->q, PART_IN, f->in);
}

/* The request built again from the fixture's parts, signed as the client
 * would sign it. */
static void
resign(struct fixture *f)
{
	build(f);
	sign(f, &f->key);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(key_parse(key_hex, 64, &f->key), 0);
	assert_int_equal(key_parse(other_hex, 64, &f->other), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-req-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->now = time(NULL);
	assert_int_equal(replay_open(&f->replay, f->dir, "work", f->now,
				     request_window_s(86400)), 0);
	assert_int_equal(cid_generate(f->cid, f->now, 4242), 0);
	f->body = "qvm-ls --running\n";
	f->opt = "timeout=60\n";
	f->in = "some stdin";
	build(f);
	sign(f, &f->key);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	replay_close(&f->replay);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
check(struct fixture *f, int legacy, struct request_verdict *v)
{
	struct request_policy p = {
		.key = &f->key, .legacy_ok = legacy, .now = f->now,
		.max_age_s = 86400, .timeout_default_s = 300,
		.timeout_cap_s = 300, .replay = &f->replay,
	};
	request_check(&f->q, &p, v);
}

static void
expect_reject(struct fixture *f, const char *category, const char *reason)
{
	struct request_verdict v;

	check(f, 0, &v);
	assert_false(v.accept);
	assert_string_equal(v.category, category);
	assert_non_null(strstr(v.reason, reason));
}

static void
test_valid_v2_is_accepted(void **state)
{
	struct fixture *f = *state;
	struct request_verdict v;

	check(f, 0, &v);
	assert_true(v.accept);
	assert_int_equal(v.token, TOKEN_V2);
	assert_int_equal(v.timeout_s, 60);
}

static void
test_timeout_is_capped(void **state)
{
	struct fixture *f = *state;
	struct request_verdict v;

	f->opt = "timeout=86400\n";
	build(f);
	sign(f, &f->key);
	check(f, 0, &v);
	assert_true(v.accept);
	assert_int_equal(v.timeout_s, 300);
}

static void
test_forged_token_rejected(void **state)
{
	struct fixture *f = *state;

	f->token[5] = f->token[5] == 'a' ? 'b' : 'a';
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_other_vms_key_rejected(void **state)
{
	struct fixture *f = *state;

	sign(f, &f->other);
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_body_substitution_rejected(void **state)
{
	struct fixture *f = *state;

	set_part(&f->q, PART_BODY, "rm -rf /\n");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_opt_substitution_rejected(void **state)
{
	struct fixture *f = *state;

	set_part(&f->q, PART_OPT, "timeout=1\n");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_stdin_substitution_rejected(void **state)
{
	struct fixture *f = *state;

	set_part(&f->q, PART_IN, "other stdin");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_removed_stdin_rejected(void **state)
{
	struct fixture *f = *state;

	set_part(&f->q, PART_IN, NULL);
	expect_reject(f, "AUTH-FAIL", "token mismatch");
}

static void
test_no_key_denied(void **state)
{
	struct fixture *f = *state;
	struct request_policy p = {
		.key = NULL, .now = f->now, .max_age_s = 86400,
		.timeout_default_s = 300, .timeout_cap_s = 300,
		.replay = &f->replay,
	};
	struct request_verdict v;

	request_check(&f->q, &p, &v);
	assert_false(v.accept);
	assert_string_equal(v.category, "AUTH-DENY");
}

static void
test_v1_token_needs_legacy_mode(void **state)
{
	struct fixture *f = *state;
	char v1[TOKEN_HEX_LEN + 1];
	struct request_verdict v;

	assert_int_equal(token_v1_text(&f->key, f->cid, strlen(f->cid), v1), 0);
	set_part(&f->q, PART_AUTH, v1);
	expect_reject(f, "AUTH-FAIL", "not a v2 token");
	check(f, 1, &v);
	assert_true(v.accept);
	assert_int_equal(v.token, TOKEN_V1);
}

static void
test_stale_request_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cid_generate(f->cid, f->now - 2 * 86400, 1), 0);
	build(f);
	sign(f, &f->key);
	expect_reject(f, "AUTH-FAIL", "stale");
}

static void
test_future_request_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cid_generate(f->cid, f->now + 3600, 1), 0);
	build(f);
	sign(f, &f->key);
	expect_reject(f, "AUTH-FAIL", "stale");
}

static void
test_replay_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(replay_record(&f->replay, f->cid, f->now), 0);
	expect_reject(f, "AUTH-FAIL", "replayed");
}

/* Signs the current cid with a v1 token (HMAC over the cid only). */
static void
sign_v1(struct fixture *f)
{
	assert_int_equal(token_v1_text(&f->key, f->cid, strlen(f->cid),
				       f->token), 0);
	set_part(&f->q, PART_AUTH, f->token);
}

/* A v1 request made at `made` (UTC) by a VM whose local time is UTC plus
 * zone_s: the original client writes its local time into the cid. */
static void
legacy_at(struct fixture *f, time_t made, long zone_s)
{
	assert_int_equal(cid_generate(f->cid, made + zone_s, 77), 0);
	build(f);
	sign_v1(f);
}

static void
expect_legacy(struct fixture *f, int accept, const char *reason)
{
	struct request_verdict v;

	check(f, 1, &v);
	assert_int_equal(v.accept, accept);
	if (!accept) {
		assert_string_equal(v.category, "AUTH-FAIL");
		assert_non_null(strstr(v.reason, reason));
	}
}

/* Today a used v1 token re-planted after the store forgot it ran again:
 * v1 tokens have a freshness window too. */
static void
test_stale_v1_rejected(void **state)
{
	struct fixture *f = *state;

	legacy_at(f, f->now - 2 * 86400, 0);
	expect_legacy(f, 0, "stale");
	legacy_at(f, f->now + 3600 * 24, 0);
	expect_legacy(f, 0, "stale");
	legacy_at(f, f->now - 3600, 0);
	expect_legacy(f, 1, NULL);
}

/* The window is the original client's local time, read as UTC: as wide
 * as the zones are (UTC-12 .. UTC+14), not wider. */
static void
test_v1_window_allows_local_time_only(void **state)
{
	struct fixture *f = *state;

	legacy_at(f, f->now, -12 * 3600);
	expect_legacy(f, 1, NULL);
	legacy_at(f, f->now, 14 * 3600);
	expect_legacy(f, 1, NULL);
	legacy_at(f, f->now - 86400 + 60, -12 * 3600);
	expect_legacy(f, 1, NULL);
	legacy_at(f, f->now - 86400 - 60, -12 * 3600);
	expect_legacy(f, 0, "stale");
	legacy_at(f, f->now, 14 * 3600 + 301);
	expect_legacy(f, 0, "stale");
	/* v2 cids are UTC: no such allowance */
	assert_int_equal(cid_generate(f->cid, f->now + 3600, 1), 0);
	build(f);
	sign(f, &f->key);
	expect_reject(f, "AUTH-FAIL", "stale");
}

/* The original client's ping: "ping-NS-PID", NS its UTC clock in
 * nanoseconds, body "true\n", waited for 10 seconds. */
static void
ping_at(struct fixture *f, time_t t)
{
	snprintf(f->cid, sizeof(f->cid), "ping-%lld123456789-4242",
		 (long long)t);
	f->body = "true\n";
	f->opt = f->in = NULL;
	build(f);
	sign_v1(f);
}

static void
test_ping_runs_only_while_fresh(void **state)
{
	struct fixture *f = *state;

	ping_at(f, f->now - 2);
	expect_legacy(f, 1, NULL);
	ping_at(f, f->now - 300);
	expect_legacy(f, 1, NULL);
	ping_at(f, f->now - 301);
	expect_legacy(f, 0, "stale");
	ping_at(f, f->now + 301);
	expect_legacy(f, 0, "stale");
}

/* A v1 token does not cover the body: under a ping id, only the ping. */
static void
test_ping_id_runs_nothing_else(void **state)
{
	struct fixture *f = *state;
	struct request_verdict v;

	ping_at(f, f->now);
	set_part(&f->q, PART_BODY, "rm -rf /\n");
	check(f, 1, &v);
	assert_false(v.accept);
	assert_string_equal(v.category, "REJECT");
	assert_non_null(strstr(v.reason, "ping"));
	ping_at(f, f->now);
	set_part(&f->q, PART_IN, "x");
	check(f, 1, &v);
	assert_false(v.accept);
	ping_at(f, f->now);
	set_part(&f->q, PART_OPT, "timeout=60\n");
	check(f, 1, &v);
	assert_false(v.accept);
}

static void
test_replayed_v1_rejected(void **state)
{
	struct fixture *f = *state;

	legacy_at(f, f->now, 0);
	assert_int_equal(replay_record(&f->replay, f->cid, f->now), 0);
	expect_legacy(f, 0, "replayed");
}

/* Reopens the fixture's store at now. */
static void
reopen(struct fixture *f, time_t now)
{
	replay_close(&f->replay);
	assert_int_equal(replay_open(&f->replay, f->dir, "work", now,
				     request_window_s(86400)), 0);
}

/*
 * dom0's clock ran two days ahead at one start, then was put right: the
 * id that ran before is still refused, v2 and v1 alike.
 */
static void
test_clock_ahead_then_correct_replay_rejected(void **state)
{
	struct fixture *f = *state;
	char v1cid[CID_MAX + 1];

	legacy_at(f, f->now, 0);
	memcpy(v1cid, f->cid, sizeof(v1cid));
	assert_int_equal(replay_record(&f->replay, v1cid, f->now), 0);
	assert_int_equal(cid_generate(f->cid, f->now, 4242), 0);
	assert_int_equal(replay_record(&f->replay, f->cid, f->now), 0);
	reopen(f, f->now + 2 * 86400);
	reopen(f, f->now);
	build(f);
	sign(f, &f->key);
	expect_reject(f, "AUTH-FAIL", "replayed");
	memcpy(f->cid, v1cid, sizeof(v1cid));
	build(f);
	sign_v1(f);
	expect_legacy(f, 0, "replayed");
}

/* An id below the store's floor may have run and been forgotten: stale,
 * whatever dom0's clock says now; ids made after the floor run. */
static void
test_forgotten_id_rejected(void **state)
{
	struct fixture *f = *state;
	struct request_verdict v;
	char path[128];
	FILE *fp;

	replay_close(&f->replay);
	snprintf(path, sizeof(path), "%s/replay/work", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "floor %lld\n", (long long)f->now - 60);
	fclose(fp);
	reopen(f, f->now);
	assert_int_equal(cid_generate(f->cid, f->now - 61, 4242), 0);
	build(f);
	sign(f, &f->key);
	expect_reject(f, "AUTH-FAIL", "older than the ids dom0 still remembers");
	legacy_at(f, f->now - 61, 0);
	expect_legacy(f, 0, "still remembers");
	assert_int_equal(cid_generate(f->cid, f->now - 60, 4242), 0);
	build(f);
	sign(f, &f->key);
	check(f, 0, &v);
	assert_true(v.accept);
}

static void
test_empty_body_rejected(void **state)
{
	struct fixture *f = *state;

	f->body = "";
	build(f);
	sign(f, &f->key);
	expect_reject(f, "REJECT", "empty");
}

static void
test_binary_body_rejected(void **state)
{
	struct fixture *f = *state;
	static const char bin[] = "echo \x1b[31mred\n";

	f->body = bin;
	build(f);
	sign(f, &f->key);
	expect_reject(f, "REJECT", "control bytes");
}

static void
test_oversized_body_rejected(void **state)
{
	struct fixture *f = *state;

	f->q.part[PART_BODY].too_big = 1;
	f->q.part[PART_BODY].p = NULL;
	f->q.part[PART_BODY].len = 2u << 20;
	expect_reject(f, "REJECT", "larger than 1 MiB");
}

static void
test_malformed_options_rejected(void **state)
{
	struct fixture *f = *state;

	f->opt = "timeout=forever\n";
	resign(f);
	expect_reject(f, "REJECT", "");
	f->opt = "shell=/bin/zsh\n";
	resign(f);
	expect_reject(f, "REJECT", "");
	/* issue 15's keys: one form= value, and a user name */
	f->opt = "form=script\n";
	resign(f);
	expect_reject(f, "REJECT", "form must be argv");
	f->opt = "user=Root\n";
	resign(f);
	expect_reject(f, "REJECT", "user must be");
}

/* form=argv: the body is a vector, checked as one (issue 15) */
static void
test_argv_request_accepted(void **state)
{
	static const char argv[] = "qvm-prefs\0work\0memory\0";
	struct fixture *f = *state;
	struct request_verdict v;

	f->body = argv;
	f->body_n = sizeof(argv) - 1;
	f->opt = "form=argv\nuser=alice\n";
	resign(f);
	check(f, 0, &v);
	assert_true(v.accept);
	assert_int_equal(v.form, BODY_ARGV);
	assert_string_equal(v.user, "alice");
	assert_int_equal(v.timeout_s, 300);
}

static void
test_argv_needs_its_form(void **state)
{
	static const char argv[] = "id\0-u\0";
	struct fixture *f = *state;

	/* NULs are the vector's separators, and a script has none */
	f->body = argv;
	f->body_n = sizeof(argv) - 1;
	f->opt = NULL;
	resign(f);
	expect_reject(f, "REJECT", "NUL or control bytes");
	/* and a vector must end each argument */
	f->body = "id";
	f->body_n = 0;
	f->opt = "form=argv\n";
	resign(f);
	expect_reject(f, "REJECT", "does not end in a NUL");
	f->body = "\0id\0";
	f->body_n = 4;
	resign(f);
	expect_reject(f, "REJECT", "names no program");
}

static void
test_script_request_has_no_form(void **state)
{
	struct fixture *f = *state;
	struct request_verdict v;

	check(f, 0, &v);
	assert_true(v.accept);
	assert_int_equal(v.form, BODY_SCRIPT);
	assert_string_equal(v.user, "");
}

/* what a v1 token does not cover cannot choose what runs or as whom */
static void
test_v1_refuses_form_and_user(void **state)
{
	static const char *const opts[] = { "form=argv\n", "user=root\n",
					    "check=1\n" };
	static const char argv[] = "id\0";
	struct fixture *f = *state;
	char v1[TOKEN_HEX_LEN + 1];
	struct request_verdict v;

	assert_int_equal(token_v1_text(&f->key, f->cid, strlen(f->cid), v1), 0);
	for (size_t i = 0; i < 3; i++) {
		f->opt = opts[i];
		f->body = i == 0 ? argv : "id\n";
		f->body_n = i == 0 ? sizeof(argv) - 1 : 0;
		build(f);
		set_part(&f->q, PART_AUTH, v1);
		check(f, 1, &v);
		assert_false(v.accept);
		assert_string_equal(v.category, "REJECT");
		assert_non_null(strstr(v.reason, "need a v2 token"));
	}
	/* timeout= alone still works as before */
	f->opt = "timeout=5\n";
	f->body = "id\n";
	build(f);
	set_part(&f->q, PART_AUTH, v1);
	check(f, 1, &v);
	assert_true(v.accept);
}

/* cancel=CID (protocol.md 5b): an empty body and that one option, signed
 * by the VM's own key with a v2 token; anything else is refused */
static void
test_cancel_shape(void **state)
{
	static const char target[] =
		"20261203-171500-4242-0123456789abcdef0123456789abcdef";
	struct fixture *f = *state;
	char opt[128], self[160], v1[TOKEN_HEX_LEN + 1];
	struct request_verdict v;

	snprintf(opt, sizeof(opt), "cancel=%s\n", target);
	f->body = "";
	f->opt = opt;
	f->in = NULL;
	resign(f);
	check(f, 0, &v);
	assert_true(v.accept);
	assert_string_equal(v.cancel, target);
	/* a body, stdin or another option beside it */
	f->body = "id\n";
	resign(f);
	expect_reject(f, "REJECT", "a cancel has an empty command");
	f->body = "";
	f->in = "x";
	resign(f);
	expect_reject(f, "REJECT", "a cancel has an empty command");
	f->in = NULL;
	snprintf(opt, sizeof(opt), "timeout=5\ncancel=%s\n", target);
	resign(f);
	expect_reject(f, "REJECT", "a cancel has an empty command");
	snprintf(opt, sizeof(opt), "check=1\ncancel=%s\n", target);
	resign(f);
	expect_reject(f, "REJECT", "a cancel has an empty command");
	/* itself */
	snprintf(self, sizeof(self), "cancel=%s\n", f->cid);
	f->opt = self;
	resign(f);
	expect_reject(f, "REJECT", "cannot name itself");
	/* forged: another key, or a v1 token that covers no options */
	snprintf(opt, sizeof(opt), "cancel=%s\n", target);
	f->opt = opt;
	build(f);
	sign(f, &f->other);
	expect_reject(f, "AUTH-FAIL", "token mismatch");
	build(f);
	assert_int_equal(token_v1_text(&f->key, f->cid, strlen(f->cid), v1), 0);
	set_part(&f->q, PART_AUTH, v1);
	check(f, 1, &v);
	assert_false(v.accept);
	assert_non_null(strstr(v.reason, "need a v2 token"));
}

/* the token covers the options: adding user=root or form=argv to a signed
 * request breaks it */
static void
test_opt_form_and_user_are_signed(void **state)
{
	static const char argv[] = "id\0";
	struct fixture *f = *state;

	set_part(&f->q, PART_OPT, "timeout=60\nuser=root\n");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
	f->body = argv;
	f->body_n = sizeof(argv) - 1;
	f->opt = NULL;
	resign(f);
	set_part(&f->q, PART_OPT, "form=argv\n");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
	f->opt = "form=argv\n";
	resign(f);
	set_part(&f->q, PART_OPT, "form=argv\nuser=root\n");
	expect_reject(f, "AUTH-FAIL", "token mismatch");
	set_part(&f->q, PART_OPT, NULL);
	expect_reject(f, "REJECT", "NUL or control bytes");
}

static void
test_missing_token_rejected(void **state)
{
	struct fixture *f = *state;

	set_part(&f->q, PART_AUTH, NULL);
	expect_reject(f, "AUTH-FAIL", "missing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_valid_v2_is_accepted),
		T(test_timeout_is_capped),
		T(test_forged_token_rejected),
		T(test_other_vms_key_rejected),
		T(test_body_substitution_rejected),
		T(test_opt_substitution_rejected),
		T(test_stdin_substitution_rejected),
		T(test_removed_stdin_rejected),
		T(test_no_key_denied),
		T(test_v1_token_needs_legacy_mode),
		T(test_stale_request_rejected),
		T(test_future_request_rejected),
		T(test_replay_rejected),
		T(test_stale_v1_rejected),
		T(test_v1_window_allows_local_time_only),
		T(test_ping_runs_only_while_fresh),
		T(test_ping_id_runs_nothing_else),
		T(test_replayed_v1_rejected),
		T(test_clock_ahead_then_correct_replay_rejected),
		T(test_forgotten_id_rejected),
		T(test_empty_body_rejected),
		T(test_binary_body_rejected),
		T(test_oversized_body_rejected),
		T(test_malformed_options_rejected),
		T(test_missing_token_rejected),
		T(test_argv_request_accepted),
		T(test_argv_needs_its_form),
		T(test_script_request_has_no_form),
		T(test_v1_refuses_form_and_user),
		T(test_cancel_shape),
		T(test_opt_form_and_user_are_signed),
#undef T
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
