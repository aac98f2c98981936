/*
 * auditfmt.c - the audit log's line format: its parser and chain value.
 */
#include "auditfmt.h"

#include <assert.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "hex.h"
#include "banned.h"

static_assert(sizeof(SEAL_ZERO) == AUDIT_CHAIN_HEX + 1,
	      "the zero chain has AUDIT_CHAIN_HEX digits");
static_assert(AUDIT_CHAIN_HEX == SEAL_CHAIN_HEX, "one chain width");
static_assert(AUDIT_CHAIN_HEX / 2 <= 32, "a chain value is cut from SHA-256");

int
audit_chain_next(const char prev[AUDIT_CHAIN_HEX + 1], const char *p,
		 size_t n, char out[AUDIT_CHAIN_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return QR_ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, prev, AUDIT_CHAIN_HEX) == 1 &&
	     EVP_DigestUpdate(ctx, p, n) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return QR_ERR_CRYPTO;
	hex_encode(md, AUDIT_CHAIN_HEX / 2, out);
	out[AUDIT_CHAIN_HEX] = '\0';
	return 0;
}

/* Parses the decimal p[0..n) (1..18 digits, no leading zero). */
static int
dec(const char *p, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > 18 || (p[0] == '0' && n > 1))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	}
	return 1;
}

/* Whether s[0..n) ends in tag then w hex digits; copies them to out. */
static int
ends_hex(const char *s, size_t n, const char *tag, size_t w, char *out)
{
	size_t t = strlen(tag);

	if (n < t + w || memcmp(s + n - w - t, tag, t) != 0 ||
	    !seal_is_hex(s + n - w, w))
		return 0;
	memcpy(out, s + n - w, w);
	out[w] = '\0';
	return 1;
}

/* "[TS] INFO action=log-continue prev_seq=N prev_seal=H prev_chain=H" */
static void
parse_cont(const char *body, size_t n, struct audit_line *l)
{
	const char *p = memchr(body, ']', n), *end = body + n, *q;
	size_t clen = sizeof(AUDIT_CONT_TEXT) - 1;

	if (p == NULL || (size_t)(end - p) < 2 + clen || p[1] != ' ' ||
	    memcmp(p + 2, AUDIT_CONT_TEXT, clen) != 0)
		return;
	p += 2 + clen;
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (!dec(p, (size_t)(q - p), &l->prev_seq))
		return;
	p = q;
	if ((size_t)(end - p) != sizeof(" prev_seal=") - 1 + AUDIT_SEAL_HEX +
	    sizeof(" prev_chain=") - 1 + AUDIT_CHAIN_HEX)
		return;
	if (memcmp(p, " prev_seal=", 11) != 0 || !seal_is_hex(p + 11, 32))
		return;
	memcpy(l->prev_seal, p + 11, AUDIT_SEAL_HEX);
	p += 11 + AUDIT_SEAL_HEX;
	if (memcmp(p, " prev_chain=", 12) != 0 || !seal_is_hex(p + 12, 32))
		return;
	memcpy(l->prev_chain, p + 12, AUDIT_CHAIN_HEX);
	l->cont = 1;
}

int
audit_parse(const char *line, size_t n, struct audit_line *l)
{
	size_t m;
	const char *p;

	memset(l, 0, sizeof(*l));
	if (!ends_hex(line, n, AUDIT_CHAIN_TAG, AUDIT_CHAIN_HEX, l->chain))
		return QR_ERR_INVALID;
	l->content_len = m = n - AUDIT_CHAIN_SUFFIX_LEN;
	if (!ends_hex(line, m, AUDIT_SEAL_TAG, AUDIT_SEAL_HEX, l->seal)) {
		l->seal[0] = '\0';
		return 0;
	}
	l->body_len = m = m - AUDIT_SEAL_TAG_LEN - AUDIT_SEAL_HEX;
	/* " seq=N" ends the body */
	for (p = line + m; p > line && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if ((size_t)(p - line) < AUDIT_SEQ_TAG_LEN ||
	    memcmp(p - AUDIT_SEQ_TAG_LEN, AUDIT_SEQ_TAG, AUDIT_SEQ_TAG_LEN) != 0 ||
	    !dec(p, (size_t)(line + m - p), &l->seq) || l->seq == 0) {
		l->seal[0] = '\0';
		l->body_len = 0;
		return 0;
	}
	l->sealed = 1;
	parse_cont(line, (size_t)(p - AUDIT_SEQ_TAG_LEN - line), l);
	return 0;
}
