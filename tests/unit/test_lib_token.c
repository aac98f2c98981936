/*
 * test_lib_token.c - v1 and v2 tokens against vectors computed
 * independently with the openssl command line (OpenSSL 3.0).
 *
 * Shared shell variables for every command below:
 *   key=574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c
 *   cid=20261128-101500-4242-3f9a0c1d2e3f40516273849506a7b8c9
 *   body='qvm-ls --running'
 */
#include "token.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cid.h"
#include "err.h"

#include "banned.h"

#define KEYHEX "574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c"
#define KEYHEX_UPPER \
	"574B3FE52C6E8362DFC70319FE7EC6C73CFFA1C9759CF9DFFC3D2163879D253C"
#define CID "20261128-101500-4242-3f9a0c1d2e3f40516273849506a7b8c9"
#define PING "ping-1764324900123456789-4242"
#define BODY "qvm-ls --running"
#define OPT "timeout=60\n"
#define IN "hello\0world"
#define IN_LEN 11

/*
 * printf %s "$cid" | openssl dgst -sha256 -hmac "$key"
 */
#define V1_HEX "a1c959816f0c75475e18b57baec0045fb39da0a404169ebed0b30bd7706be943"

/*
 * printf %s ping-1764324900123456789-4242 | openssl dgst -sha256 -hmac "$key"
 */
#define V1_PING_HEX \
	"633106f5997e0115aa931ab771d4947fbfb0cda2cd13b6a0989b70319ca5f262"

/*
 * Body only (opt and in absent, so they hash as the empty string):
 * { printf 'qvm-remote-v2\000%s\000' "$cid";
 *   printf %s "$body" | openssl dgst -sha256 -binary;
 *   printf '' | openssl dgst -sha256 -binary;
 *   printf '' | openssl dgst -sha256 -binary; } | openssl dgst -sha256 -hmac "$key"
 */
#define V2_BODY_HEX \
	"0768b0b6fa57767091bda190b7653ce6adf60aeb1107829ec0f12bf02e7e8b23"

/*
 * Body, opt and in:
 * { printf 'qvm-remote-v2\000%s\000' "$cid";
 *   printf %s "$body" | openssl dgst -sha256 -binary;
 *   printf 'timeout=60\n' | openssl dgst -sha256 -binary;
 *   printf 'hello\000world' | openssl dgst -sha256 -binary; } \
 *   | openssl dgst -sha256 -hmac "$key"
 */
#define V2_ALL_HEX \
	"78d10723471a64e3dd419fa7587e785f43681ef52742683bf48eb6966267b926"

/*
 * Everything absent:
 * { printf 'qvm-remote-v2\000%s\000' "$cid";
 *   printf '' | openssl dgst -sha256 -binary;
 *   printf '' | openssl dgst -sha256 -binary;
 *   printf '' | openssl dgst -sha256 -binary; } | openssl dgst -sha256 -hmac "$key"
 */
#define V2_NONE_HEX \
	"770389d4f39acad19abd6c25f7482f5de284651e8658428f6e00dce8b23e48d7"

#define U(s) ((const uint8_t *)(s))

static struct key the_key(void)
{
	struct key k;

	assert_int_equal(key_parse(KEYHEX, 64, &k), 0);
	return k;
}

static struct token_input body_only(void)
{
	struct token_input ti = {
		CID, sizeof(CID) - 1, U(BODY), sizeof(BODY) - 1,
		NULL, 0, NULL, 0,
	};

	return ti;
}

static struct token_input body_opt_in(void)
{
	struct token_input ti = {
		CID, sizeof(CID) - 1, U(BODY), sizeof(BODY) - 1,
		U(OPT), sizeof(OPT) - 1, U(IN), IN_LEN,
	};

	return ti;
}

static void test_v1_vector(void **state)
{
	char out[TOKEN_HEX_LEN + 1];
	struct key k = the_key();

	assert_int_equal(token_v1_text(&k, CID, sizeof(CID) - 1, out), 0);
	assert_string_equal(out, V1_HEX);
	assert_int_equal(token_v1_text(&k, PING, sizeof(PING) - 1, out), 0);
	assert_string_equal(out, V1_PING_HEX);
	/* a key file in uppercase is the same key */
	assert_int_equal(key_parse(KEYHEX_UPPER, 64, &k), 0);
	assert_int_equal(token_v1_text(&k, CID, sizeof(CID) - 1, out), 0);
	assert_string_equal(out, V1_HEX);
}

static void test_v2_body_only(void **state)
{
	char out[TOKEN_V2_TEXT_LEN + 1];
	struct token_input ti = body_only();
	struct key k = the_key();

	assert_int_equal(token_v2_text(&k, &ti, out), 0);
	assert_string_equal(out, "v2 " V2_BODY_HEX "\n");
	assert_int_equal(strlen(out), TOKEN_V2_TEXT_LEN);
	/* an empty file and an absent one hash alike */
	ti.opt = U("");
	ti.in = U("");
	assert_int_equal(token_v2_text(&k, &ti, out), 0);
	assert_string_equal(out, "v2 " V2_BODY_HEX "\n");
}

static void test_v2_body_opt_in(void **state)
{
	char out[TOKEN_V2_TEXT_LEN + 1];
	struct token_input ti = body_opt_in();
	struct key k = the_key();

	assert_int_equal(token_v2_text(&k, &ti, out), 0);
	assert_string_equal(out, "v2 " V2_ALL_HEX "\n");
}

static void test_v2_nothing(void **state)
{
	char out[TOKEN_V2_TEXT_LEN + 1];
	struct token_input ti = { CID, sizeof(CID) - 1, NULL, 0, NULL, 0,
				  NULL, 0 };
	struct key k = the_key();

	assert_int_equal(token_v2_text(&k, &ti, out), 0);
	assert_string_equal(out, "v2 " V2_NONE_HEX "\n");
}

static void test_verify_ok(void **state)
{
	struct token_input ti = body_opt_in(), tb = body_only();
	struct key k = the_key();
	enum token_kind kind = 0;

	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX "\n"),
				      68, 0, &kind), 0);
	assert_int_equal(kind, TOKEN_V2);
	/* the newline is optional */
	kind = 0;
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX), 67, 1,
				      &kind), 0);
	assert_int_equal(kind, TOKEN_V2);
	assert_int_equal(token_verify(&k, &tb, U("v2 " V2_BODY_HEX "\n"),
				      68, 0, NULL), 0);
	/* v1 in legacy mode, with or without a newline */
	kind = 0;
	assert_int_equal(token_verify(&k, &tb, U(V1_HEX), 64, 1, &kind), 0);
	assert_int_equal(kind, TOKEN_V1);
	assert_int_equal(token_verify(&k, &tb, U(V1_HEX "\n"), 65, 1, &kind),
			 0);
	/* v1 does not cover the body: any body verifies */
	assert_int_equal(token_verify(&k, &ti, U(V1_HEX), 64, 1, &kind), 0);
}

static void test_verify_mismatch(void **state)
{
	struct token_input ti = body_opt_in();
	struct key k = the_key(), other;
	char tok[TOKEN_V2_TEXT_LEN + 1];
	enum token_kind kind = 0;

	/* another request's token */
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_BODY_HEX "\n"),
				      68, 0, &kind), QR_ERR_MISMATCH);
	/* one changed digit */
	memcpy(tok, "v2 " V2_ALL_HEX "\n", sizeof(tok));
	tok[40] = tok[40] == '0' ? '1' : '0';
	assert_int_equal(token_verify(&k, &ti, U(tok), 68, 0, &kind),
			 QR_ERR_MISMATCH);
	/* a changed body, option or stdin */
	ti.body_len--;
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX "\n"), 68,
				      0, &kind), QR_ERR_MISMATCH);
	ti = body_opt_in();
	ti.opt = NULL;
	ti.opt_len = 0;
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX "\n"), 68,
				      0, &kind), QR_ERR_MISMATCH);
	ti = body_opt_in();
	ti.in_len = 5;     /* "hello": the bytes after the NUL count too */
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX "\n"), 68,
				      0, &kind), QR_ERR_MISMATCH);
	/* another cid */
	ti = body_opt_in();
	ti.cid = PING;
	ti.cid_len = sizeof(PING) - 1;
	assert_int_equal(token_verify(&k, &ti, U("v2 " V2_ALL_HEX "\n"), 68,
				      0, &kind), QR_ERR_MISMATCH);
	/* another key */
	ti = body_opt_in();
	assert_int_equal(key_generate(&other), 0);
	assert_int_equal(token_verify(&other, &ti, U("v2 " V2_ALL_HEX "\n"),
				      68, 0, &kind), QR_ERR_MISMATCH);
	/* wrong v1 */
	assert_int_equal(token_verify(&k, &ti, U(V1_PING_HEX), 64, 1, &kind),
			 QR_ERR_MISMATCH);
	assert_int_equal(kind, TOKEN_V1);
	key_wipe(&other);
}

static void test_verify_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"v2 " V2_ALL_HEX "\n\n",           /* two newlines */
		"v2 " V2_ALL_HEX "\r\n",
		"v2 " V2_ALL_HEX " ",
		"v2  " V2_ALL_HEX,
		"v2" V2_ALL_HEX,
		"V2 " V2_ALL_HEX,
		"v3 " V2_ALL_HEX,
		"v1 " V2_ALL_HEX,
		"\nv2 " V2_ALL_HEX,
		" v2 " V2_ALL_HEX,
		"v2 " V2_ALL_HEX "0",
		"v2 " "78D10723471A64E3DD419FA7587E785F43681EF52742683BF48EB6966267B926",
		"v2 " "78d10723471a64e3dd419fa7587e785f43681ef52742683bf48eb6966267b92",
		"v2 " "78d10723471a64e3dd419fa7587e785f43681ef52742683bf48eb6966267b92g",
		"v2 \n",
	};
	struct token_input ti = body_opt_in();
	struct key k = the_key();
	enum token_kind kind = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (token_verify(&k, &ti, U(bad[i]), strlen(bad[i]), 1,
				 &kind) != QR_ERR_INVALID)
			fail_msg("accepted malformed token %zu", i);
	}
	/* a NUL inside the token */
	assert_int_equal(token_verify(&k, &ti, U("v2 \0" V2_ALL_HEX), 68, 1,
				      &kind), QR_ERR_INVALID);
	assert_int_equal(token_verify(&k, &ti, NULL, 0, 1, &kind),
			 QR_ERR_INVALID);
	assert_int_equal(kind, 0);
}

static void test_v1_not_allowed(void **state)
{
	struct token_input ti = body_only();
	struct key k = the_key();
	enum token_kind kind = 0;

	/* a correct v1 token is still refused outside legacy mode */
	assert_int_equal(token_verify(&k, &ti, U(V1_HEX), 64, 0, &kind),
			 QR_ERR_INVALID);
	assert_int_equal(token_verify(&k, &ti, U(V1_HEX "\n"), 65, 0, &kind),
			 QR_ERR_INVALID);
	assert_int_equal(kind, 0);
	/* v1 in uppercase is malformed even in legacy mode */
	assert_int_equal(token_verify(&k, &ti,
		U("A1C959816F0C75475E18B57BAEC0045FB39DA0A404169EBED0B30BD7706BE943"),
		64, 1, &kind), QR_ERR_INVALID);
}

static void test_bad_inputs(void **state)
{
	char out[TOKEN_V2_TEXT_LEN + 1];
	struct token_input ti = body_only();
	struct key k = the_key(), bad;
	char longcid[CID_MAX + 2];

	memset(&bad, 0, sizeof(bad));
	assert_int_equal(token_v2_text(&bad, &ti, out), QR_ERR_INVALID);
	/* uppercase or unterminated: not what key_parse produces */
	memcpy(bad.hex, KEYHEX_UPPER, sizeof(bad.hex));
	assert_int_equal(token_v2_text(&bad, &ti, out), QR_ERR_INVALID);
	memcpy(bad.hex, KEYHEX, sizeof(bad.hex));
	assert_int_equal(token_v2_text(&bad, &ti, out), 0);
	bad.hex[KEY_HEX_LEN] = 'a';
	assert_int_equal(token_v2_text(&bad, &ti, out), QR_ERR_INVALID);
	assert_int_equal(token_verify(&bad, &ti, U("v2 " V2_BODY_HEX), 67, 0,
				      NULL), QR_ERR_INVALID);
	assert_int_equal(token_v1_text(&bad, CID, 10, out), QR_ERR_INVALID);
	assert_int_equal(token_v1_text(&k, NULL, 0, out), QR_ERR_INVALID);
	assert_int_equal(token_v1_text(&k, CID, 0, out), QR_ERR_INVALID);
	memset(longcid, 'a', sizeof(longcid));
	assert_int_equal(token_v1_text(&k, longcid, CID_MAX + 1, out),
			 QR_ERR_INVALID);
	ti.cid = longcid;
	ti.cid_len = CID_MAX + 1;
	assert_int_equal(token_v2_text(&k, &ti, out), QR_ERR_INVALID);
	ti = body_only();
	ti.body = NULL;     /* NULL with a length */
	assert_int_equal(token_v2_text(&k, &ti, out), QR_ERR_INVALID);
	assert_int_equal(token_v2_text(&k, NULL, out), QR_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_vector),
		cmocka_unit_test(test_v2_body_only),
		cmocka_unit_test(test_v2_body_opt_in),
		cmocka_unit_test(test_v2_nothing),
		cmocka_unit_test(test_verify_ok),
		cmocka_unit_test(test_verify_mismatch),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_v1_not_allowed),
		cmocka_unit_test(test_bad_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
