/*
 * fuzz_token.c - token_verify() with a fixed key over fuzzed .auth bytes
 * and a fuzzed command body.
 *
 * Input: one flags byte (bit 0: accept v1; bit 1: an .opt file; bit 2: an
 * .in file), one byte giving the length of the .auth bytes, those bytes,
 * then the body.  Beyond memory safety: only the exact token text the key
 * gives (with or without its newline) verifies; a malformed token leaves
 * *kind alone; and the tokens token_*_text() write for this body verify,
 * as v1 only when v1 is accepted, while one changed digit does not.
 */
#include "token.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "key.h"

#include "banned.h"

#define FUZZ_KEY "00112233445566778899aabbccddeeff" \
		 "0123456789abcdef0123456789abcdef"
#define FUZZ_CID "20261128-101500-4242-0123456789abcdef0123456789abcdef"
#define FUZZ_OPT "timeout=5\n"
#define FUZZ_IN "input\0with\xffnon-text\n"

/* Not set by token_verify: a sign that *kind was left alone. */
#define KIND_UNSET ((enum token_kind)0)

static struct key key;
static bool have_key;

static bool equals(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int verify(const struct token_input *ti, const void *auth, size_t n,
		  int allow_v1, enum token_kind *kind)
{
	*kind = KIND_UNSET;
	return token_verify(&key, ti, auth, n, allow_v1, kind);
}

/* What token_*_text() writes for this input must verify as written. */
static void check_good_tokens(const struct token_input *ti, int allow_v1,
			      const char *v2, const char *v1)
{
	char bad[TOKEN_V2_TEXT_LEN + 1];
	enum token_kind kind;

	FUZZ_CHECK(verify(ti, v2, strlen(v2), allow_v1, &kind) == 0 &&
		   kind == TOKEN_V2);
	FUZZ_CHECK(verify(ti, v2, strlen(v2) - 1, allow_v1, &kind) == 0 &&
		   kind == TOKEN_V2);
	if (allow_v1)
		FUZZ_CHECK(verify(ti, v1, strlen(v1), 1, &kind) == 0 &&
			   kind == TOKEN_V1);
	else
		FUZZ_CHECK(verify(ti, v1, strlen(v1), 0, &kind) ==
			   QR_ERR_INVALID && kind == KIND_UNSET);

	memcpy(bad, v2, sizeof(bad));
	bad[TOKEN_V2_TEXT_LEN - 2] = bad[TOKEN_V2_TEXT_LEN - 2] == '0' ?
				     '1' : '0';
	FUZZ_CHECK(verify(ti, bad, strlen(bad), allow_v1, &kind) ==
		   QR_ERR_MISMATCH && kind == TOKEN_V2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_input ti;
	char v2[TOKEN_V2_TEXT_LEN + 1], v1[TOKEN_HEX_LEN + 1];
	const uint8_t *auth;
	enum token_kind kind;
	size_t auth_len;
	int allow_v1, r;
	uint8_t flags;

	if (!have_key) {
		FUZZ_CHECK(key_parse(FUZZ_KEY, strlen(FUZZ_KEY), &key) == 0);
		have_key = true;
	}
	if (size < 2)
		return 0;
	flags = data[0];
	allow_v1 = flags & 1;
	auth_len = data[1];
	data += 2;
	size -= 2;
	if (auth_len > size)
		auth_len = size;
	auth = data;

	memset(&ti, 0, sizeof(ti));
	ti.cid = FUZZ_CID;
	ti.cid_len = strlen(FUZZ_CID);
	ti.body = data + auth_len;
	ti.body_len = size - auth_len;
	if (flags & 2) {
		ti.opt = (const uint8_t *)FUZZ_OPT;
		ti.opt_len = sizeof(FUZZ_OPT) - 1;
	}
	if (flags & 4) {
		ti.in = (const uint8_t *)FUZZ_IN;
		ti.in_len = sizeof(FUZZ_IN) - 1;
	}

	FUZZ_CHECK(token_v2_text(&key, &ti, v2) == 0);
	FUZZ_CHECK(token_v1_text(&key, ti.cid, ti.cid_len, v1) == 0);

	r = verify(&ti, auth, auth_len, allow_v1, &kind);
	FUZZ_CHECK(r == 0 || r == QR_ERR_MISMATCH || r == QR_ERR_INVALID);
	if (r == QR_ERR_INVALID)
		FUZZ_CHECK(kind == KIND_UNSET);
	else
		FUZZ_CHECK(kind == TOKEN_V2 || (allow_v1 && kind == TOKEN_V1));
	if (r == 0) {
		bool v2_ok = equals(auth, auth_len, v2) ||
			     (auth_len == TOKEN_V2_TEXT_LEN - 1 &&
			      memcmp(auth, v2, auth_len) == 0);
		bool v1_ok = equals(auth, auth_len, v1) ||
			     (auth_len == TOKEN_HEX_LEN + 1 &&
			      memcmp(auth, v1, TOKEN_HEX_LEN) == 0 &&
			      auth[TOKEN_HEX_LEN] == '\n');

		FUZZ_CHECK(kind == TOKEN_V2 ? v2_ok : v1_ok);
	}
	check_good_tokens(&ti, allow_v1, v2, v1);
	return 0;
}
