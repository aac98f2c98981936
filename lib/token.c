/*
 * token.c - v1 and v2 request tokens (HMAC-SHA256 keyed by the hex key).
 */
#include "token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cid.h"
#include "err.h"
#include "hex.h"

#include "banned.h"

#define MAC_LEN 32
#define V2_LABEL "qvm-remote-v2"
#define V2_LABEL_LEN (sizeof(V2_LABEL) - 1)
/* label 0x00 cid 0x00 and three digests */
#define V2_MSG_MAX (V2_LABEL_LEN + 1 + CID_MAX + 1 + 3 * MAC_LEN)

static int is_lhex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int key_ok(const struct key *k)
{
	size_t i;

	if (k == NULL)
		return 0;
	for (i = 0; i < KEY_HEX_LEN; i++)
		if (!is_lhex((uint8_t)k->hex[i]))
			return 0;
	return k->hex[KEY_HEX_LEN] == '\0';
}

static int cid_ok(const char *cid, size_t n)
{
	return cid != NULL && n > 0 && n <= CID_MAX;
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[MAC_LEN])
{
	unsigned int len = 0;

	if (p == NULL) {
		if (n > 0)
			return QR_ERR_INVALID;
		p = (const uint8_t *)"";
	}
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != MAC_LEN)
		return QR_ERR_CRYPTO;
	return 0;
}

static int hmac(const struct key *k, const void *msg, size_t n,
		uint8_t out[MAC_LEN])
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), k->hex, KEY_HEX_LEN, msg, n, out, &len) == NULL ||
	    len != MAC_LEN)
		return QR_ERR_CRYPTO;
	return 0;
}

/* Lowercase hex of the v2 MAC. */
static int v2_hex(const struct key *k, const struct token_input *ti,
		  char out[TOKEN_HEX_LEN])
{
	uint8_t msg[V2_MSG_MAX], mac[MAC_LEN];
	size_t n = 0;
	int r;

	if (!key_ok(k) || ti == NULL || !cid_ok(ti->cid, ti->cid_len))
		return QR_ERR_INVALID;
	memcpy(msg, V2_LABEL, V2_LABEL_LEN + 1);   /* with its NUL */
	n = V2_LABEL_LEN + 1;
	memcpy(msg + n, ti->cid, ti->cid_len);
	n += ti->cid_len;
	msg[n++] = 0;
	if ((r = sha256(ti->body, ti->body_len, msg + n)) != 0 ||
	    (r = sha256(ti->opt, ti->opt_len, msg + n + MAC_LEN)) != 0 ||
	    (r = sha256(ti->in, ti->in_len, msg + n + 2 * MAC_LEN)) != 0)
		goto out;
	n += 3 * MAC_LEN;
	if ((r = hmac(k, msg, n, mac)) != 0)
		goto out;
	hex_encode(mac, MAC_LEN, out);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

static int v1_hex(const struct key *k, const char *cid, size_t cid_len,
		  char out[TOKEN_HEX_LEN])
{
	uint8_t mac[MAC_LEN];
	int r;

	if (!key_ok(k) || !cid_ok(cid, cid_len))
		return QR_ERR_INVALID;
	if ((r = hmac(k, cid, cid_len, mac)) == 0)
		hex_encode(mac, MAC_LEN, out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

int token_v2_text(const struct key *k, const struct token_input *ti,
		  char out[TOKEN_V2_TEXT_LEN + 1])
{
	int r;

	if ((r = v2_hex(k, ti, out + 3)) != 0)
		return r;
	memcpy(out, "v2 ", 3);
	out[3 + TOKEN_HEX_LEN] = '\n';
	out[TOKEN_V2_TEXT_LEN] = '\0';
	return 0;
}

int token_v1_text(const struct key *k, const char *cid, size_t cid_len,
		  char out[TOKEN_HEX_LEN + 1])
{
	int r;

	if ((r = v1_hex(k, cid, cid_len, out)) != 0)
		return r;
	out[TOKEN_HEX_LEN] = '\0';
	return 0;
}

static int all_lhex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_lhex(p[i]))
			return 0;
	return 1;
}

int token_verify(const struct key *k, const struct token_input *ti,
		 const uint8_t *untrusted_auth, size_t auth_len, int allow_v1,
		 enum token_kind *kind)
{
	char want[TOKEN_HEX_LEN];
	const uint8_t *got;
	enum token_kind kd;
	size_t n = auth_len;
	int r;

	if (untrusted_auth == NULL || ti == NULL)
		return QR_ERR_INVALID;
	if (n > 0 && untrusted_auth[n - 1] == '\n')
		n--;
	if (n == 3 + TOKEN_HEX_LEN && memcmp(untrusted_auth, "v2 ", 3) == 0 &&
	    all_lhex(untrusted_auth + 3, TOKEN_HEX_LEN)) {
		kd = TOKEN_V2;
		got = untrusted_auth + 3;
		r = v2_hex(k, ti, want);
	} else if (n == TOKEN_HEX_LEN && all_lhex(untrusted_auth, n)) {
		if (!allow_v1)
			return QR_ERR_INVALID;
		kd = TOKEN_V1;
		got = untrusted_auth;
		r = v1_hex(k, ti->cid, ti->cid_len, want);
	} else {
		return QR_ERR_INVALID;
	}
	if (r != 0)
		goto out;
	if (kind != NULL)
		*kind = kd;
	r = CRYPTO_memcmp(want, got, TOKEN_HEX_LEN) == 0 ? 0 : QR_ERR_MISMATCH;
out:
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}
