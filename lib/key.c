/*
 * key.c - per-VM keys: parse, generate, fingerprint (io/keyfile.c has
 * their files).
 */
#include "key.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"
#include "hex.h"
#include "banned.h"

int key_parse(const char *text, size_t n, struct key *out)
{
	size_t i;

	if (text == NULL)
		return QR_ERR_INVALID;
	if (n == KEY_HEX_LEN + 1 && text[KEY_HEX_LEN] == '\n')
		n = KEY_HEX_LEN;
	else if (n == KEY_HEX_LEN + 2 && text[KEY_HEX_LEN] == '\r' &&
		 text[KEY_HEX_LEN + 1] == '\n')
		n = KEY_HEX_LEN;
	if (n != KEY_HEX_LEN)
		return QR_ERR_INVALID;
	for (i = 0; i < KEY_HEX_LEN; i++)
		if (hex_value(text[i]) < 0)
			return QR_ERR_INVALID;
	/* the HMAC key is the text itself, so one case is one key */
	for (i = 0; i < KEY_HEX_LEN; i++) {
		char c = text[i];

		out->hex[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	out->hex[KEY_HEX_LEN] = '\0';
	return 0;
}

int key_valid(const struct key *k)
{
	size_t i;

	for (i = 0; i < KEY_HEX_LEN; i++) {
		char c = k->hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return k->hex[KEY_HEX_LEN] == '\0';
}

int key_generate(struct key *k)
{
	uint8_t raw[KEY_HEX_LEN / 2];
	size_t got = 0;
	ssize_t n;
	int r = 0;

	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = QR_ERR_SYSTEM;
			goto out;
		}
		got += (size_t)n;
	}
	hex_encode(raw, sizeof(raw), k->hex);
	k->hex[KEY_HEX_LEN] = '\0';
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

int key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((32 + 2) / 3) + 1];
	unsigned int mdlen = 0;
	int n;

	if (!key_valid(k))
		return QR_ERR_INVALID;
	if (EVP_Digest(k->hex, KEY_HEX_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return QR_ERR_CRYPTO;
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	if (n != (int)sizeof(b64) - 1)
		return QR_ERR_CRYPTO;
	while (n > 0 && b64[n - 1] == '=')
		n--;
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, (size_t)n);
	out[7 + n] = '\0';
	return 0;
}

int key_equal(const struct key *a, const struct key *b)
{
	return CRYPTO_memcmp(a->hex, b->hex, KEY_HEX_LEN) == 0;
}

void key_wipe(struct key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
