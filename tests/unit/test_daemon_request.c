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
};

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
		.body = (const uint8_t *)f->body,
		.body_len = f->body ? strlen(f->body) : 0,
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
	set_part(&f->q, PART_OPT, f->opt);
	set_part(&f->q, PART_IN, f->in);
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
				     86400 + 300), 0);
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
	build(f);
	sign(f, &f->key);
	expect_reject(f, "REJECT", "");
	f->opt = "shell=/bin/zsh\n";
	build(f);
	sign(f, &f->key);
	expect_reject(f, "REJECT", "");
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
		T(test_empty_body_rejected),
		T(test_binary_body_rejected),
		T(test_oversized_body_rejected),
		T(test_malformed_options_rejected),
		T(test_missing_token_rejected),
#undef T
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
