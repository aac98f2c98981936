/*
 * seal.h - the forward-secure seal of dom0's audit log (design.md 7a).
 *
 * Line i of the log (i = 1, 2, ... across all files, its "seq") is sealed
 * with key k_i:
 *
 *   k_{i+1} = HMAC-SHA256(k_i, "qvm-remote log evolve 1")
 *   seal_i  = HMAC-SHA256(k_i, "qvm-remote log seal 1" 0x00 || u64be(i) ||
 *                              seal_{i-1} as hex || the line up to " seal=")
 *             cut to its first 16 bytes, in hex
 *
 * with seal_0 32 zero digits.  HMAC keyed by k_i is a one-way function of
 * k_i, so whoever holds k_n (dom0's state, once an attacker has root) can
 * compute every later key and no earlier one: lines sealed before n cannot
 * be changed without the seal check failing for the holder of an earlier
 * key (the verification key the administrator keeps outside dom0).
 *
 * Everything here is pure (no I/O) but for seal_key_new's random bytes.
 * Keys are wiped with OPENSSL_cleanse as soon as they are replaced.
 */
#ifndef QVMR_SEAL_H
#define QVMR_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN 32
#define SEAL_HEX 32                 /* hex digits of a line's seal */
#define SEAL_CHAIN_HEX 32           /* as AUDIT_CHAIN_HEX */
#define SEAL_SEQ_MAX UINT64_C(999999999999999999)
/* "qvmr-seal1-SEQ-HEX64": the verification key as the admin keeps it. */
#define SEAL_KEY_TEXT_MAX 96
/*
 * The state file, one fixed-length line overwritten in place:
 *   "qvmr-seal-state 1 seq=%018llu seal=HEX32 chain=HEX32 key=HEX64\n"
 * seq, seal, chain: the last line sealed (seq 0: none yet, zeros);
 * key: k_{seq+1}, the key of the next line.
 */
#define SEAL_STATE_LEN (sizeof("qvmr-seal-state 1 seq=") - 1 + 18 + \
			sizeof(" seal=") - 1 + SEAL_HEX + \
			sizeof(" chain=") - 1 + SEAL_CHAIN_HEX + \
			sizeof(" key=") - 1 + 2 * SEAL_KEY_LEN + 1)
#define SEAL_ZERO "00000000000000000000000000000000"

/* The key that seals line seq. */
struct seal_key {
	uint64_t seq;
	unsigned char k[SEAL_KEY_LEN];
};

struct seal_state {
	uint64_t seq;                       /* last line sealed, 0: none */
	char seal[SEAL_HEX + 1];            /* its seal */
	char chain[SEAL_CHAIN_HEX + 1];     /* its chain value */
	struct seal_key next;               /* next.seq == seq + 1 */
};

/* A fresh random key for line seq; QR_ERR_CRYPTO without randomness. */
int seal_key_new(struct seal_key *k, uint64_t seq);
/* k becomes the key of line k->seq + 1; the old key is wiped. */
int seal_evolve(struct seal_key *k);
/* Evolves k until it seals line seq; QR_ERR_INVALID when seq < k->seq
 * (a key cannot go back) or past SEAL_SEQ_MAX. */
int seal_advance(struct seal_key *k, uint64_t seq);
void seal_key_wipe(struct seal_key *k);

/*
 * The seal of the line whose text up to " seal=" is body[0..n), sealed
 * with k (k->seq is the line's seq) after a line sealed prev.
 */
int seal_line(const struct seal_key *k, const char prev[SEAL_HEX + 1],
	      const char *body, size_t n, char out[SEAL_HEX + 1]);

/* "qvmr-seal1-SEQ-HEX64" into out (NUL-terminated). */
int seal_key_format(const struct seal_key *k, char out[SEAL_KEY_TEXT_MAX]);
/* The inverse; surrounding white space is allowed.  QR_ERR_INVALID. */
int seal_key_parse(const char *s, size_t n, struct seal_key *k);

/* The state line (exactly SEAL_STATE_LEN bytes, no NUL) into out. */
int seal_state_format(const struct seal_state *st,
		      char out[SEAL_STATE_LEN + 1]);
/* The inverse, of exactly SEAL_STATE_LEN bytes; QR_ERR_INVALID. */
int seal_state_parse(const char *s, size_t n, struct seal_state *st);

/* Whether p[0..n) is n lowercase hex digits. */
int seal_is_hex(const char *p, size_t n);

#endif
