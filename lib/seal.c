/*
 * seal.c - key evolution and line seals of the audit log.
 */
#include "seal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "err.h"
#include "hex.h"
#include "banned.h"

#define EVOLVE_TAG "qvm-remote log evolve 1"
#define SEAL_TAG "qvm-remote log seal 1"      /* then a 0x00 */
#define KEY_TEXT_TAG "qvmr-seal1-"
#define STATE_TAG "qvmr-seal-state 1 seq="

static_assert(sizeof(SEAL_ZERO) == SEAL_HEX + 1,
	      "SEAL_ZERO has SEAL_HEX digits");
static_assert(SEAL_HEX / 2 <= 32 && SEAL_KEY_LEN == 32,
	      "seals and keys are cut from HMAC-SHA256");
static_assert(SEAL_SEQ_MAX < UINT64_MAX / 2, "seq + 1 never overflows");

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
seal_is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hexval(p[i]) < 0)
			return 0;
	return 1;
}

static int
from_hex(const char *p, size_t n, unsigned char *out)
{
	if (n % 2 != 0 || !seal_is_hex(p, n))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < n / 2; i++)
		out[i] = (unsigned char)(hexval(p[2 * i]) << 4 |
					 hexval(p[2 * i + 1]));
	return 0;
}

void
seal_key_wipe(struct seal_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int
seal_key_new(struct seal_key *k, uint64_t seq)
{
	if (seq == 0 || seq > SEAL_SEQ_MAX)
		return QR_ERR_INVALID;
	k->seq = seq;
	if (RAND_priv_bytes(k->k, sizeof(k->k)) != 1) {
		seal_key_wipe(k);
		return QR_ERR_CRYPTO;
	}
	return 0;
}

int
seal_evolve(struct seal_key *k)
{
	unsigned char next[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (k->seq >= SEAL_SEQ_MAX)
		return QR_ERR_INVALID;
	if (HMAC(EVP_sha256(), k->k, sizeof(k->k),
		 (const unsigned char *)EVOLVE_TAG, sizeof(EVOLVE_TAG) - 1,
		 next, &len) == NULL || len != SEAL_KEY_LEN) {
		OPENSSL_cleanse(next, sizeof(next));
		return QR_ERR_CRYPTO;
	}
	memcpy(k->k, next, SEAL_KEY_LEN);
	OPENSSL_cleanse(next, sizeof(next));
	k->seq++;
	return 0;
}

int
seal_advance(struct seal_key *k, uint64_t seq)
{
	int r;

	if (seq < k->seq || seq > SEAL_SEQ_MAX)
		return QR_ERR_INVALID;
	while (k->seq < seq)
		if ((r = seal_evolve(k)) != 0)
			return r;
	return 0;
}

int
seal_line(const struct seal_key *k, const char prev[SEAL_HEX + 1],
	  const char *body, size_t n, char out[SEAL_HEX + 1])
{
	/* tag 0x00 || u64be(seq) || prev || SHA-256(body) */
	unsigned char msg[sizeof(SEAL_TAG) + 8 + SEAL_HEX + 32];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t at = sizeof(SEAL_TAG);

	memcpy(msg, SEAL_TAG, sizeof(SEAL_TAG));    /* with its NUL */
	for (int i = 7; i >= 0; i--)
		msg[at++] = (unsigned char)(k->seq >> (8 * i));
	memcpy(msg + at, prev, SEAL_HEX);
	at += SEAL_HEX;
	if (EVP_Digest(body, n, msg + at, &len, EVP_sha256(), NULL) != 1 ||
	    len != 32)
		return QR_ERR_CRYPTO;
	at += 32;
	if (HMAC(EVP_sha256(), k->k, sizeof(k->k), msg, at, md, &len) == NULL ||
	    len < SEAL_HEX / 2) {
		OPENSSL_cleanse(md, sizeof(md));
		return QR_ERR_CRYPTO;
	}
	hex_encode(md, SEAL_HEX / 2, out);
	out[SEAL_HEX] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
seal_key_format(const struct seal_key *k, char out[SEAL_KEY_TEXT_MAX])
{
	char hex[2 * SEAL_KEY_LEN + 1];
	int n;

	hex_encode(k->k, SEAL_KEY_LEN, hex);
	hex[2 * SEAL_KEY_LEN] = '\0';
	n = snprintf(out, SEAL_KEY_TEXT_MAX, KEY_TEXT_TAG "%" PRIu64 "-%s",
		     k->seq, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n < 0 || n >= SEAL_KEY_TEXT_MAX ? QR_ERR_TOO_LARGE : 0;
}

/* A decimal of 1..18 digits without leading zero. */
static int
parse_seq(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 18 || (p[0] == '0' && n > 1))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return QR_ERR_INVALID;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

int
seal_key_parse(const char *s, size_t n, struct seal_key *k)
{
	const char *dash;
	size_t taglen = sizeof(KEY_TEXT_TAG) - 1;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' ||
			 s[0] == '\r')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n < taglen || memcmp(s, KEY_TEXT_TAG, taglen) != 0)
		return QR_ERR_INVALID;
	s += taglen;
	n -= taglen;
	if ((dash = memchr(s, '-', n)) == NULL ||
	    parse_seq(s, (size_t)(dash - s), &k->seq) != 0 || k->seq == 0 ||
	    n - (size_t)(dash - s) - 1 != 2 * SEAL_KEY_LEN ||
	    from_hex(dash + 1, 2 * SEAL_KEY_LEN, k->k) != 0) {
		seal_key_wipe(k);
		return QR_ERR_INVALID;
	}
	return 0;
}

int
seal_state_format(const struct seal_state *st, char out[SEAL_STATE_LEN + 1])
{
	char hex[2 * SEAL_KEY_LEN + 1];
	int n;

	if (st->seq > SEAL_SEQ_MAX || st->next.seq != st->seq + 1)
		return QR_ERR_INVALID;
	hex_encode(st->next.k, SEAL_KEY_LEN, hex);
	hex[2 * SEAL_KEY_LEN] = '\0';
	n = snprintf(out, SEAL_STATE_LEN + 1,
		     STATE_TAG "%018" PRIu64 " seal=%.32s chain=%.32s key=%s\n",
		     st->seq, st->seal, st->chain, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n == (int)SEAL_STATE_LEN ? 0 : QR_ERR_INVALID;
}

/* Expects the text lit at *p and moves past it. */
static int
expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

int
seal_state_parse(const char *s, size_t n, struct seal_state *st)
{
	const char *p = s;
	uint64_t v = 0;

	memset(st, 0, sizeof(*st));
	if (n != SEAL_STATE_LEN || s[n - 1] != '\n' || !expect(&p, STATE_TAG))
		return QR_ERR_INVALID;
	for (int i = 0; i < 18; i++, p++) {
		if (*p < '0' || *p > '9')
			return QR_ERR_INVALID;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!expect(&p, " seal=") || !seal_is_hex(p, SEAL_HEX))
		return QR_ERR_INVALID;
	memcpy(st->seal, p, SEAL_HEX);
	p += SEAL_HEX;
	if (!expect(&p, " chain=") || !seal_is_hex(p, SEAL_CHAIN_HEX))
		return QR_ERR_INVALID;
	memcpy(st->chain, p, SEAL_CHAIN_HEX);
	p += SEAL_CHAIN_HEX;
	if (!expect(&p, " key=") ||
	    from_hex(p, 2 * SEAL_KEY_LEN, st->next.k) != 0 || v > SEAL_SEQ_MAX) {
		seal_key_wipe(&st->next);
		return QR_ERR_INVALID;
	}
	st->seq = v;
	st->next.seq = v + 1;
	return 0;
}
