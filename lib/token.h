/*
 * token.h - the per-request authentication token (design.md section 4).
 *
 * v2:  "v2 " + hex(HMAC-SHA256(K, "qvm-remote-v2" 0x00 cid 0x00
 *                               SHA256(body) SHA256(opt) SHA256(in))) + "\n"
 *      where absent files hash as the empty string and the three digests
 *      are the raw 32-byte values.
 * v1:  hex(HMAC-SHA256(K, cid)), the original client's token.  It does not
 *      cover the body; dom0 accepts it only for VMs in legacy mode.
 * K is the 64 ASCII hex characters of the key.
 */
#ifndef QVMR_TOKEN_H
#define QVMR_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define TOKEN_HEX_LEN 64
#define TOKEN_FILE_MAX 80     /* the largest .auth file worth reading */
#define TOKEN_V2_TEXT_LEN (3 + TOKEN_HEX_LEN + 1)

enum token_kind { TOKEN_V1 = 1, TOKEN_V2 = 2 };

/* What a token covers.  NULL/0 stands for an absent file. */
struct token_input {
	const char *cid;
	size_t cid_len;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *opt;
	size_t opt_len;
	const uint8_t *in;
	size_t in_len;
};

/* Writes the v2 token file text ("v2 <hex>\n", NUL-terminated) to out. */
int token_v2_text(const struct key *k, const struct token_input *ti,
		  char out[TOKEN_V2_TEXT_LEN + 1]);
/* Writes the v1 token (64 hex, NUL-terminated, no newline) to out. */
int token_v1_text(const struct key *k, const char *cid, size_t cid_len,
		  char out[TOKEN_HEX_LEN + 1]);

/*
 * Verifies the exact bytes of a received .auth file.  Accepts "v2 <hex>"
 * and, when allow_v1, a bare 64-hex v1 token; either may end in one "\n".
 * The comparison is constant-time (CRYPTO_memcmp).  Returns 0 and sets
 * *kind, QR_ERR_MISMATCH for a well-formed token that does not match, or
 * QR_ERR_INVALID for a malformed one or a v1 token when !allow_v1.
 * The hex must be lowercase, as token_*_text() writes it.  *kind (kind may
 * be NULL) is also set on QR_ERR_MISMATCH, so the failure can be logged
 * with its version; it is left alone on QR_ERR_INVALID.
 */
int token_verify(const struct key *k, const struct token_input *ti,
		 const uint8_t *untrusted_auth, size_t auth_len, int allow_v1,
		 enum token_kind *kind);

#endif
