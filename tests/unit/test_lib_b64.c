/*
 * test_lib_b64.c - base64 against RFC 4648 section 10 and round trips.
 */
#include "b64.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static const char *const rfc[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_rfc_vectors(void **state)
{
	struct buf b = BUF_INIT(64);
	size_t i;

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		buf_reset(&b);
		assert_int_equal(b64_encode(&b, rfc[i][0], strlen(rfc[i][0]), 0),
				 0);
		assert_string_equal(buf_str(&b), rfc[i][1]);
		assert_int_equal(b64_encoded_len(strlen(rfc[i][0])),
				 strlen(rfc[i][1]));
		buf_reset(&b);
		assert_int_equal(b64_decode(&b, rfc[i][1], strlen(rfc[i][1])),
				 0);
		assert_int_equal(b.len, strlen(rfc[i][0]));
		assert_memory_equal(buf_str(&b), rfc[i][0], b.len);
	}
	buf_release(&b);
}

static void test_wrap(void **state)
{
	struct buf b = BUF_INIT(64);

	assert_int_equal(b64_encode(&b, "foobar", 6, 4), 0);
	assert_string_equal(buf_str(&b), "Zm9v\nYmFy\n");
	buf_reset(&b);
	assert_int_equal(b64_encode(&b, "fooba", 5, 3), 0);
	assert_string_equal(buf_str(&b), "Zm9\nvYm\nE=");
	buf_reset(&b);
	assert_int_equal(b64_encode(&b, "foobar", 6, 76), 0);
	assert_string_equal(buf_str(&b), "Zm9vYmFy");
	buf_release(&b);
}

static void test_round_trip_binary(void **state)
{
	struct buf enc = BUF_INIT(1u << 20), dec = BUF_INIT(1u << 20);
	uint8_t all[3000];
	size_t i, n;

	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(i * 7 + (i >> 8));
	for (n = 0; n < 20; n++) {
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(b64_encode(&enc, all, n, 0), 0);
		assert_int_equal(b64_decode(&dec, enc.data, enc.len), 0);
		assert_int_equal(dec.len, n);
		assert_memory_equal(dec.data, all, n);
	}
	/* larger than the internal chunks */
	buf_reset(&enc);
	buf_reset(&dec);
	assert_int_equal(b64_encode(&enc, all, sizeof(all), 0), 0);
	assert_int_equal(enc.len, b64_encoded_len(sizeof(all)));
	assert_int_equal(b64_decode(&dec, enc.data, enc.len), 0);
	assert_int_equal(dec.len, sizeof(all));
	assert_memory_equal(dec.data, all, sizeof(all));
	buf_release(&enc);
	buf_release(&dec);
}

static void test_decode_invalid(void **state)
{
	static const char *const bad[] = {
		"Z", "Zg", "Zg=", "Zg===", "Zm9vY", "====", "Z===", "=Zm9",
		"Zg==Zg==",                 /* padding in the middle */
		"Zm9v\nYmFy",               /* whitespace */
		"Zm9 ", " Zm9", "Zm9v\n",
		"Zm9-", "Zm9_",             /* base64url */
		"Zh==", "Zm9=",             /* nonzero padding bits */
		"Zg=a",
	};
	struct buf b = BUF_INIT(64);
	size_t i;

	assert_int_equal(buf_append_str(&b, "keep"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (b64_decode(&b, bad[i], strlen(bad[i])) != QR_ERR_INVALID)
			fail_msg("accepted '%s'", bad[i]);
		/* all or nothing */
		assert_string_equal(buf_str(&b), "keep");
	}
	assert_int_equal(b64_decode(&b, "Zm9v\0mFy", 8), QR_ERR_INVALID);
	assert_int_equal(b64_decode(&b, NULL, 4), QR_ERR_INVALID);
	assert_int_equal(b64_decode(&b, NULL, 0), 0);
	assert_string_equal(buf_str(&b), "keep");
	buf_release(&b);
}

static void test_limits(void **state)
{
	struct buf b = BUF_INIT(7);
	uint8_t big[2000];

	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(b64_encode(&b, "foo", 3, 0), 0);
	assert_string_equal(buf_str(&b), "abZm9v");
	assert_int_equal(b64_encode(&b, "f", 1, 0), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "abZm9v");
	assert_int_equal(b64_decode(&b, "Zm9v", 4), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "abZm9v");
	/* failing after an internal chunk was appended still rolls back */
	b.max = 1500;
	memset(big, 0, sizeof(big));
	assert_int_equal(b64_encode(&b, big, sizeof(big), 0), QR_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "abZm9v");
	assert_int_equal(b64_encode(&b, NULL, 1, 0), QR_ERR_INVALID);
	/* the length check comes before any byte is read */
	assert_int_equal(b64_encode(&b, big, SIZE_MAX, 0), QR_ERR_TOO_LARGE);
	/* a decode that fails after an internal chunk rolls back too */
	{
		struct buf enc = BUF_INIT(4096);

		assert_int_equal(b64_encode(&enc, big, sizeof(big), 0), 0);
		b.max = 1000;
		assert_int_equal(b64_decode(&b, enc.data, enc.len),
				 QR_ERR_TOO_LARGE);
		assert_string_equal(buf_str(&b), "abZm9v");
		buf_release(&enc);
	}
	assert_int_equal(b64_encoded_len(0), 0);
	assert_int_equal(b64_encoded_len(1), 4);
	assert_int_equal(b64_encoded_len(3), 4);
	assert_int_equal(b64_encoded_len(4), 8);
	assert_true(b64_encoded_len(SIZE_MAX) == SIZE_MAX);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_round_trip_binary),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
