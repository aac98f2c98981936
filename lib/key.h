/*
 * key.h - per-VM authentication keys.
 *
 * A key is 256 bits written as 64 lowercase or uppercase hex characters, in
 * a file of mode 0600 (a trailing newline is allowed).  The HMAC key is the
 * 64 ASCII characters themselves, as the original tool uses them; they are
 * normalised to lowercase on reading.  struct key holds a secret: release it
 * with key_wipe().
 */
#ifndef QVMR_KEY_H
#define QVMR_KEY_H

#include <stddef.h>

#define KEY_HEX_LEN 64
#define KEY_FILE_MAX 128        /* a key file larger than this is invalid */
#define KEY_FINGERPRINT_MAX 64  /* "SHA256:" + 43 base64 chars + NUL */

struct key {
	char hex[KEY_HEX_LEN + 1];
};

/* Parses text (64 hex, optional one trailing "\n" or "\r\n").  Pure. */
int key_parse(const char *text, size_t n, struct key *out);

/* 64 lowercase hex digits and a NUL: what key_parse() produces. */
int key_valid(const struct key *k);

/* Fills k with 256 bits from getrandom(2). */
int key_generate(struct key *k);

/* "SHA256:" then the unpadded base64 of SHA-256(hex), as ssh-keygen -l. */
int key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_MAX]);

/* Constant-time equality of two keys: 1 when equal, else 0. */
int key_equal(const struct key *a, const struct key *b);

void key_wipe(struct key *k);

#endif
