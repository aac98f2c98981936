/*
 * agentwire.c - the dom0 -> agent stream: encoders and pure decoders.
 */
#include "agentwire.h"

#include <inttypes.h>
#include <string.h>

#include "err.h"
#include "reader.h"

#include "banned.h"

/* "[0-9a-f]{8}-N": the claim prefix, validated by building its last claim. */
static bool
prefix_valid(const char *prefix)
{
	char probe[CLAIM_MAX + 8];
	size_t n;

	if (prefix == NULL || (n = strnlen(prefix, CLAIM_MAX + 1)) > CLAIM_MAX)
		return false;
	memcpy(probe, prefix, n);
	probe[n] = '-';
	probe[n + 1] = '3';   /* FETCH_REQ_MAX - 1, its longest index */
	probe[n + 2] = '1';
	static_assert(FETCH_REQ_MAX == 32, "the probe's index is 31");
	return claim_valid(probe, n + 3);
}

static bool
word_valid(const char *s, bool (*valid)(const char *, size_t))
{
	return s != NULL && valid(s, strlen(s));
}

bool
agentwire_fetch_valid(const struct agentwire_fetch *f)
{
	if (!prefix_valid(f->prefix) || f->wait_s > AGENTWIRE_WAIT_MAX ||
	    f->max_requests == 0 || f->max_requests > FETCH_REQ_MAX ||
	    f->nrelease > FETCH_HELD_MAX ||
	    (f->nrelease > 0 && f->release == NULL))
		return false;
	for (size_t i = 0; i < f->nrelease; i++)
		if (!word_valid(f->release[2 * i], cid_valid) ||
		    !word_valid(f->release[2 * i + 1], claim_valid))
			return false;
	return true;
}

int
agentwire_put_releases(struct buf *b, const struct agentwire_fetch *f)
{
	int r;

	if (!agentwire_fetch_valid(f))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < f->nrelease; i++)
		if ((r = buf_printf(b, "%s%s %s", i > 0 ? " " : "",
				    f->release[2 * i],
				    f->release[2 * i + 1])) != 0)
			return r;
	return 0;
}

int
agentwire_put_args(struct buf *b, const struct agentwire_fetch *f)
{
	int r;

	if (!agentwire_fetch_valid(f))
		return QR_ERR_INVALID;
	if ((r = buf_printf(b, "%s %u %u %" PRIu64 " %d ", f->prefix,
			    f->wait_s, f->max_requests, f->max_bytes,
			    f->claim ? 1 : 0)) != 0 ||
	    (r = agentwire_put_releases(b, f)) != 0)
		return r;
	return buf_append_str(b, f->nrelease > 0 ? " " AGENTWIRE_END
						 : AGENTWIRE_END);
}

int
agentwire_put_turn(struct buf *b, const struct agentwire_fetch *f)
{
	int r;

	if (!agentwire_fetch_valid(f))
		return QR_ERR_INVALID;
	if ((r = buf_append_str(b, "fetch ")) != 0 ||
	    (r = agentwire_put_args(b, f)) != 0)
		return r;
	return buf_append_str(b, "\n");
}

static int
number(const char *s, uint64_t max, uint64_t *out)
{
	return parse_u64((const uint8_t *)s, strlen(s), max, out) == 0
		       ? 0 : QR_ERR_INVALID;
}

int
agentwire_decode_args(struct agentwire_fetch *out, size_t argc,
		      const char *const *argv)
{
	uint64_t wait_s, n, bytes, claim;

	memset(out, 0, sizeof(*out));
	if (argc < 5 || (argc - 5) % 2 != 0 ||
	    number(argv[1], AGENTWIRE_WAIT_MAX, &wait_s) != 0 ||
	    number(argv[2], FETCH_REQ_MAX, &n) != 0 ||
	    number(argv[3], UINT64_MAX, &bytes) != 0 ||
	    number(argv[4], 1, &claim) != 0)
		return QR_ERR_INVALID;
	out->prefix = argv[0];
	out->wait_s = (unsigned)wait_s;
	out->max_requests = (unsigned)n;
	out->max_bytes = bytes;
	out->claim = claim == 1;
	out->release = argv + 5;
	out->nrelease = (argc - 5) / 2;
	return agentwire_fetch_valid(out) ? 0 : QR_ERR_INVALID;
}

int
agentwire_decode_turn(char *line, size_t n, char *words[AGENTWIRE_TURN_WORDS],
		      struct agentwire_fetch *out)
{
	size_t count = 0, start = 0;

	memset(out, 0, sizeof(*out));
	if (n > AGENT_LINE_MAX)
		return QR_ERR_TOO_LARGE;
	if (memchr(line, '\0', n) != NULL)
		return QR_ERR_INVALID;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || count == AGENTWIRE_TURN_WORDS)
			return QR_ERR_INVALID;
		words[count++] = line + start;
		if (i < n)
			line[i] = '\0';
		start = i + 1;
	}
	line[n] = '\0';
	if (count < 2 || strcmp(words[0], "fetch") != 0 ||
	    strcmp(words[count - 1], AGENTWIRE_END) != 0)
		return QR_ERR_INVALID;
	return agentwire_decode_args(out, count - 2,
				     (const char *const *)(words + 1));
}

/* "-?[0-9]{1,10}" */
static bool
exit_text_valid(const char *s, size_t n)
{
	size_t d = n > 0 && s[0] == '-' ? 1 : 0;

	if (n <= d || n > AGENTWIRE_EXIT_MAX)
		return false;
	for (size_t i = d; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool
status_valid(const char *s, size_t n)
{
	if (n == 0 || n > AGENTWIRE_STATUS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return true;
}

/* "SEQ:SEAL": 1-18 digits, ':', 32 lowercase hex (lib/frame.h level 3). */
static bool
anchor_valid(const char *s, size_t n)
{
	size_t d = 0;

	while (d < n && s[d] >= '0' && s[d] <= '9')
		d++;
	if (d < 1 || d > 18 || d == n || s[d] != ':' || n - d - 1 != 32)
		return false;
	for (size_t i = d + 1; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A span [from, from + len) of one stream, within AGENTWIRE_FILE_MAX. */
static bool
span_valid(uint64_t from, uint64_t len)
{
	return from <= AGENTWIRE_FILE_MAX && len <= AGENTWIRE_FILE_MAX - from;
}

static bool
item_valid(const struct agentwire_item *it)
{
	size_t na = strnlen(it->anchor, sizeof(it->anchor));
	bool from = it->from[0] != 0 || it->from[1] != 0;

	return word_valid(it->cid, cid_valid) &&
	       word_valid(it->claim, claim_valid) &&
	       exit_text_valid(it->exit_text,
			       strnlen(it->exit_text, sizeof(it->exit_text))) &&
	       status_valid(it->status, strnlen(it->status, sizeof(it->status))) &&
	       na < sizeof(it->anchor) && (na == 0 || anchor_valid(it->anchor, na)) &&
	       it->len[0] <= AGENTWIRE_FILE_MAX && it->len[1] <= AGENTWIRE_FILE_MAX &&
	       it->len[2] <= AGENTWIRE_FILE_MAX &&
	       (!from || (na > 0 && span_valid(it->from[0], it->len[0]) &&
			  span_valid(it->from[1], it->len[1])));
}

int
agentwire_put_item(struct buf *b, const struct agentwire_item *it)
{
	size_t orig = b->len;
	int r;

	if (!item_valid(it))
		return QR_ERR_INVALID;
	r = buf_printf(b, "item %s %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64
		       "%s%s", it->cid, it->claim, it->exit_text, it->status,
		       it->len[0], it->len[1], it->len[2],
		       it->anchor[0] != '\0' ? " " : "", it->anchor);
	if (r == 0 && (it->from[0] != 0 || it->from[1] != 0))
		r = buf_printf(b, " %" PRIu64 " %" PRIu64, it->from[0],
			       it->from[1]);
	if (r == 0)
		r = buf_append_str(b, "\n");
	if (r != 0)
		buf_truncate(b, orig);
	return r;
}

int
agentwire_put_live(struct buf *b, const struct agentwire_live *l)
{
	if (!word_valid(l->cid, cid_valid) || !word_valid(l->claim, claim_valid) ||
	    !span_valid(l->from[0], l->len[0]) ||
	    !span_valid(l->from[1], l->len[1]))
		return QR_ERR_INVALID;
	return buf_printf(b, "live %s %s %" PRIu64 " %" PRIu64 " %" PRIu64
			  " %" PRIu64 "\n", l->cid, l->claim, l->from[0],
			  l->len[0], l->from[1], l->len[1]);
}

int
agentwire_put_end(struct buf *b, uint64_t count)
{
	if (count > FETCH_REQ_MAX)
		return QR_ERR_INVALID;
	return buf_printf(b, "end %" PRIu64 "\n", count);
}

/* Copies field p[0..n) into out (room for max + 1) when valid. */
static bool
take(char *out, size_t max, const char *p, size_t n,
     bool (*valid)(const char *, size_t))
{
	if (n == 0 || n > max || !valid(p, n))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Decodes a span's two words: FROM and LEN, canonical, within the cap. */
static bool
take_span(const char *const f[2], const size_t len[2], uint64_t *from,
	  uint64_t *n)
{
	return parse_u64((const uint8_t *)f[0], len[0], AGENTWIRE_FILE_MAX,
			 from) == 0 &&
	       parse_u64((const uint8_t *)f[1], len[1], AGENTWIRE_FILE_MAX,
			 n) == 0 &&
	       span_valid(*from, *n);
}

/* "live CID CLAIM OUTFROM OUTLEN ERRFROM ERRLEN": the fields after "live". */
static int
decode_live(const char *const f[6], const size_t len[6],
	    struct agentwire_live *live)
{
	if (!take(live->cid, CID_MAX, f[0], len[0], cid_valid) ||
	    !take(live->claim, CLAIM_MAX, f[1], len[1], claim_valid) ||
	    !take_span(f + 2, len + 2, &live->from[0], &live->len[0]) ||
	    !take_span(f + 4, len + 4, &live->from[1], &live->len[1]))
		return QR_ERR_INVALID;
	return AGENTWIRE_LIVE;
}

int
agentwire_decode_deliver(const char *line, size_t n, struct agentwire_item *it,
			 struct agentwire_live *live, uint64_t *count)
{
	const char *f[11];
	size_t len[11], k = 0, start = 0;

	memset(it, 0, sizeof(*it));
	memset(live, 0, sizeof(*live));
	*count = 0;
	if (n > FRAME_LINE_MAX)
		return QR_ERR_TOO_LARGE;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || k == 11)
			return QR_ERR_INVALID;
		f[k] = line + start;
		len[k++] = i - start;
		start = i + 1;
	}
	if (k == 2 && len[0] == 3 && memcmp(f[0], "end", 3) == 0)
		return parse_u64((const uint8_t *)f[1], len[1], FETCH_REQ_MAX,
				 count) == 0 ? AGENTWIRE_ENDS : QR_ERR_INVALID;
	if (k == 7 && len[0] == 4 && memcmp(f[0], "live", 4) == 0)
		return decode_live(f + 1, len + 1, live);
	if ((k != 8 && k != 9 && k != 11) || len[0] != 4 ||
	    memcmp(f[0], "item", 4) != 0 ||
	    !take(it->cid, CID_MAX, f[1], len[1], cid_valid) ||
	    !take(it->claim, CLAIM_MAX, f[2], len[2], claim_valid) ||
	    !take(it->exit_text, AGENTWIRE_EXIT_MAX, f[3], len[3],
		  exit_text_valid) ||
	    !take(it->status, AGENTWIRE_STATUS_MAX, f[4], len[4], status_valid) ||
	    (k >= 9 && !take(it->anchor, AGENTWIRE_ANCHOR_MAX, f[8], len[8],
			     anchor_valid)))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < AGENTWIRE_FILES; i++)
		if (parse_u64((const uint8_t *)f[5 + i], len[5 + i],
			      AGENTWIRE_FILE_MAX, &it->len[i]) != 0)
			return QR_ERR_INVALID;
	if (k == 11 &&
	    (parse_u64((const uint8_t *)f[9], len[9], AGENTWIRE_FILE_MAX,
		       &it->from[0]) != 0 ||
	     parse_u64((const uint8_t *)f[10], len[10], AGENTWIRE_FILE_MAX,
		       &it->from[1]) != 0 ||
	     (it->from[0] == 0 && it->from[1] == 0) || !item_valid(it)))
		return QR_ERR_INVALID;
	return AGENTWIRE_ITEM;
}
