/*
 * frame.c - fetch and deliver replies: bounded parsers and writers.
 *
 * A reply is either entirely well formed or rejected: the parsers never
 * repair, skip or guess.  Header lines are split on single spaces into an
 * exact number of fields; every number is canonical decimal and checked
 * against its limit before it is used as a length.
 */
#include "frame.h"

#include <string.h>

#include "err.h"
#include "reader.h"

#include "banned.h"

#define FIELDS_MAX 4

struct field {
	const uint8_t *p;
	size_t n;
};

static const char *const kind_names[PART_KINDS] = {
	[PART_BODY] = "body",
	[PART_OPT] = "opt",
	[PART_IN] = "in",
	[PART_AUTH] = "auth",
};

const char *part_kind_name(enum part_kind k)
{
	if ((unsigned)k >= PART_KINDS)
		return "?";
	return kind_names[k];
}

uint64_t part_kind_max(enum part_kind k)
{
	switch (k) {
	case PART_BODY:
		return BODY_MAX;
	case PART_OPT:
		return OPT_MAX;
	case PART_IN:
		return IN_MAX;
	case PART_AUTH:
		return AUTH_MAX;
	case PART_KINDS:
		break;
	}
	return 0;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

bool claim_valid(const char *s, size_t n)
{
	size_t i = 0, start;

	if (s == NULL || n > CLAIM_MAX || n < 8)
		return false;
	for (; i < 8; i++)
		if (!is_digit((uint8_t)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	if (i == n || s[i++] != '-')
		return false;
	start = i;
	while (i < n && is_digit((uint8_t)s[i]))
		i++;
	if (i - start < 1 || i - start > 10 || i == n || s[i++] != '-')
		return false;
	start = i;
	while (i < n && is_digit((uint8_t)s[i]))
		i++;
	return i == n && i - start >= 1 && i - start <= 4;
}

/*
 * Splits line[0..n) at single spaces into exactly `want` non-empty fields.
 */
static int split(const uint8_t *line, size_t n, struct field *f, size_t want)
{
	size_t k = 0, i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || k == want)
			return QR_ERR_INVALID;
		f[k].p = line + start;
		f[k].n = i - start;
		k++;
		start = i + 1;
	}
	return k == want ? 0 : QR_ERR_INVALID;
}

static bool field_is(const struct field *f, const char *s)
{
	size_t n = strlen(s);

	return f->n == n && memcmp(f->p, s, n) == 0;
}

static bool line_is(const uint8_t *line, size_t n, const char *s)
{
	struct field f = { line, n };

	return field_is(&f, s);
}

static int field_kind(const struct field *f, enum part_kind *k)
{
	unsigned i;

	for (i = 0; i < PART_KINDS; i++) {
		if (field_is(f, kind_names[i])) {
			*k = (enum part_kind)i;
			return 0;
		}
	}
	return QR_ERR_INVALID;
}

/* The first word of a line, for dispatch. */
static bool starts_with(const uint8_t *line, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n > w && memcmp(line, word, w) == 0 && line[w] == ' ';
}

/* Parses one request's part lines up to and including "end". */
static int parse_parts(struct reader *r, struct fetch_request *req)
{
	struct field f[FIELDS_MAX];
	const uint8_t *line, *bytes;
	unsigned next = 0;       /* lowest kind still allowed: keeps order */
	enum part_kind k;
	uint64_t len;
	size_t n;
	int big, e;

	for (;;) {
		if ((e = reader_get_line(r, FRAME_LINE_MAX, &line, &n)) != 0)
			return e;
		if (line_is(line, n, "end"))
			return 0;
		if (starts_with(line, n, "part"))
			big = 0;
		else if (starts_with(line, n, "big"))
			big = 1;
		else
			return QR_ERR_INVALID;
		if ((e = split(line, n, f, 3)) != 0 ||
		    (e = field_kind(&f[1], &k)) != 0)
			return e;
		/* order body, opt, in, auth, each at most once */
		if ((unsigned)k < next)
			return QR_ERR_INVALID;
		next = (unsigned)k + 1;
		if (big) {
			if ((e = parse_u64(f[2].p, f[2].n, UINT64_MAX,
					   &len)) != 0)
				return e;
			/* "big" for something that fits is inconsistent */
			if (len <= part_kind_max(k))
				return QR_ERR_INVALID;
			req->part[k].present = true;
			req->part[k].too_big = true;
			req->part[k].p = NULL;
			req->part[k].len = len;
			continue;
		}
		if ((e = parse_u64(f[2].p, f[2].n, part_kind_max(k),
				   &len)) != 0)
			return e;
		if ((e = reader_get_bytes(r, (size_t)len, &bytes)) != 0 ||
		    (e = reader_expect_byte(r, '\n')) != 0)
			return e;
		req->part[k].present = true;
		req->part[k].too_big = false;
		req->part[k].p = bytes;
		req->part[k].len = len;
	}
}

static int parse_request(const uint8_t *line, size_t n,
			 struct fetch_reply *out)
{
	struct field f[FIELDS_MAX];
	struct fetch_request *req;
	const char *untrusted_cid, *untrusted_claim;
	size_t i;
	int e;

	if ((e = split(line, n, f, 3)) != 0)
		return e;
	untrusted_cid = (const char *)f[1].p;
	untrusted_claim = (const char *)f[2].p;
	if (!cid_valid(untrusted_cid, f[1].n) ||
	    !claim_valid(untrusted_claim, f[2].n))
		return QR_ERR_INVALID;
	/* one file name cannot be listed twice by an honest VM */
	for (i = 0; i < out->n; i++)
		if (strlen(out->req[i].cid) == f[1].n &&
		    memcmp(out->req[i].cid, untrusted_cid, f[1].n) == 0)
			return QR_ERR_INVALID;
	if (out->n == FETCH_REQ_MAX)
		return QR_ERR_TOO_LARGE;
	req = &out->req[out->n];
	memset(req, 0, sizeof(*req));
	memcpy(req->cid, untrusted_cid, f[1].n);
	req->cid[f[1].n] = '\0';
	memcpy(req->claim, untrusted_claim, f[2].n);
	req->claim[f[2].n] = '\0';
	return 0;
}

/* "held CID CLAIM": a claim marker in running/, validated like a request. */
static int parse_held(const uint8_t *line, size_t n, struct fetch_reply *out)
{
	struct field f[FIELDS_MAX];
	struct held_claim *h;
	int e;

	if ((e = split(line, n, f, 3)) != 0)
		return e;
	if (!cid_valid((const char *)f[1].p, f[1].n) ||
	    !claim_valid((const char *)f[2].p, f[2].n))
		return QR_ERR_INVALID;
	if (out->nheld == FETCH_HELD_MAX)
		return QR_ERR_TOO_LARGE;
	h = &out->held[out->nheld++];
	memcpy(h->cid, f[1].p, f[1].n);
	h->cid[f[1].n] = '\0';
	memcpy(h->claim, f[2].p, f[2].n);
	h->claim[f[2].n] = '\0';
	return 0;
}

/* "done COUNT" with COUNT equal to what was seen. */
static int parse_done(const uint8_t *line, size_t n, size_t count)
{
	struct field f[FIELDS_MAX];
	uint64_t v;
	int e;

	if ((e = split(line, n, f, 2)) != 0 ||
	    (e = parse_u64(f[1].p, f[1].n, FETCH_REQ_MAX, &v)) != 0)
		return e;
	return v == count ? 0 : QR_ERR_INVALID;
}

/* "agent LEVEL", 1 <= LEVEL <= AGENT_LEVEL_MAX. */
static int parse_agent(const uint8_t *line, size_t n, unsigned *level)
{
	struct field f[FIELDS_MAX];
	uint64_t v;
	int e;

	if ((e = split(line, n, f, 2)) != 0 ||
	    (e = parse_u64(f[1].p, f[1].n, AGENT_LEVEL_MAX, &v)) != 0)
		return e == QR_ERR_TOO_LARGE ? QR_ERR_INVALID : e;
	if (v == 0)
		return QR_ERR_INVALID;
	*level = (unsigned)v;
	return 0;
}

int frame_parse_fetch(const uint8_t *untrusted, size_t n,
		      struct fetch_reply *out)
{
	struct field f[FIELDS_MAX];
	const uint8_t *line;
	struct reader r;
	int e, phase = 0;   /* 0 requests, 1 held, 2 after skip */
	size_t len;

	memset(out, 0, sizeof(*out));
	if (n > FETCH_REPLY_MAX)
		return QR_ERR_TOO_LARGE;
	reader_init(&r, untrusted, n);
	if ((e = reader_get_line(&r, FRAME_LINE_MAX, &line, &len)) != 0)
		return e;
	if (!line_is(line, len, "qvmr-fetch 1"))
		return QR_ERR_INVALID;
	for (;;) {
		if ((e = reader_get_line(&r, FRAME_LINE_MAX, &line, &len)) != 0)
			return e;
		if (phase == 0 && out->n == 0 && out->agent == 0 &&
		    starts_with(line, len, "agent")) {
			if ((e = parse_agent(line, len, &out->agent)) != 0)
				return e;
		} else if (phase == 0 && starts_with(line, len, "req")) {
			if ((e = parse_request(line, len, out)) != 0)
				return e;
			if ((e = parse_parts(&r, &out->req[out->n])) != 0)
				return e;
			out->n++;
		} else if (phase <= 1 && starts_with(line, len, "held")) {
			if ((e = parse_held(line, len, out)) != 0)
				return e;
			phase = 1;
		} else if (phase <= 1 && starts_with(line, len, "skip")) {
			if ((e = split(line, len, f, 2)) != 0 ||
			    (e = parse_u64(f[1].p, f[1].n, UINT64_MAX,
					   &out->skipped)) != 0)
				return e;
			phase = 2;
		} else if (starts_with(line, len, "done")) {
			if ((e = parse_done(line, len, out->n)) != 0)
				return e;
			return reader_expect_end(&r);
		} else {
			return QR_ERR_INVALID;
		}
	}
}

int frame_parse_deliver(const uint8_t *untrusted, size_t n,
			struct deliver_reply *out)
{
	struct field f[FIELDS_MAX];
	struct deliver_entry *d;
	enum deliver_status st;
	const uint8_t *line;
	struct reader r;
	size_t len, i;
	int e;

	memset(out, 0, sizeof(*out));
	if (n > DELIVER_REPLY_MAX)
		return QR_ERR_TOO_LARGE;
	reader_init(&r, untrusted, n);
	if ((e = reader_get_line(&r, FRAME_LINE_MAX, &line, &len)) != 0)
		return e;
	if (!line_is(line, len, "qvmr-deliver 1"))
		return QR_ERR_INVALID;
	for (;;) {
		if ((e = reader_get_line(&r, FRAME_LINE_MAX, &line, &len)) != 0)
			return e;
		if ((e = split(line, len, f, 2)) != 0)
			return e;
		if (field_is(&f[0], "done")) {
			if ((e = parse_done(line, len, out->n)) != 0)
				return e;
			return reader_expect_end(&r);
		}
		if (field_is(&f[0], "ok"))
			st = DELIVER_OK;
		else if (field_is(&f[0], "gone"))
			st = DELIVER_GONE;
		else if (field_is(&f[0], "fail"))
			st = DELIVER_FAIL;
		else
			return QR_ERR_INVALID;
		if (!cid_valid((const char *)f[1].p, f[1].n))
			return QR_ERR_INVALID;
		for (i = 0; i < out->n; i++)
			if (strlen(out->e[i].cid) == f[1].n &&
			    memcmp(out->e[i].cid, f[1].p, f[1].n) == 0)
				return QR_ERR_INVALID;
		if (out->n == FETCH_REQ_MAX)
			return QR_ERR_TOO_LARGE;
		d = &out->e[out->n++];
		memcpy(d->cid, f[1].p, f[1].n);
		d->cid[f[1].n] = '\0';
		d->status = st;
	}
}

int frame_put_fetch_header(struct buf *b)
{
	return buf_append_str(b, "qvmr-fetch 1\n");
}

int frame_put_agent(struct buf *b, unsigned level)
{
	if (level == 0 || level > AGENT_LEVEL_MAX)
		return QR_ERR_INVALID;
	return buf_printf(b, "agent %u\n", level);
}

int frame_put_request(struct buf *b, const char *cid, const char *claim)
{
	if (cid == NULL || claim == NULL || !cid_valid(cid, strlen(cid)) ||
	    !claim_valid(claim, strlen(claim)))
		return QR_ERR_INVALID;
	return buf_printf(b, "req %s %s\n", cid, claim);
}

int frame_put_part(struct buf *b, enum part_kind k, const void *p, size_t n)
{
	size_t orig = b->len;
	int r;

	if ((unsigned)k >= PART_KINDS || (p == NULL && n > 0))
		return QR_ERR_INVALID;
	if (n > part_kind_max(k))
		return QR_ERR_TOO_LARGE;
	if ((r = frame_put_part_header(b, k, n)) != 0 ||
	    (r = buf_append(b, p, n)) != 0 ||
	    (r = buf_append(b, "\n", 1)) != 0) {
		b->len = orig;
		if (b->data != NULL)
			b->data[orig] = '\0';
	}
	return r;
}

int frame_put_part_header(struct buf *b, enum part_kind k, uint64_t len)
{
	if ((unsigned)k >= PART_KINDS)
		return QR_ERR_INVALID;
	if (len > part_kind_max(k))
		return QR_ERR_TOO_LARGE;
	return buf_printf(b, "part %s %llu\n", kind_names[k],
			  (unsigned long long)len);
}

int frame_put_big(struct buf *b, enum part_kind k, uint64_t len)
{
	if ((unsigned)k >= PART_KINDS || len <= part_kind_max(k))
		return QR_ERR_INVALID;
	return buf_printf(b, "big %s %llu\n", kind_names[k],
			  (unsigned long long)len);
}

int frame_put_end(struct buf *b)
{
	return buf_append_str(b, "end\n");
}

int frame_put_held(struct buf *b, const char *cid, const char *claim)
{
	if (!cid_valid(cid, strlen(cid)) || !claim_valid(claim, strlen(claim)))
		return QR_ERR_INVALID;
	return buf_printf(b, "held %s %s\n", cid, claim);
}

int frame_put_skip(struct buf *b, uint64_t skipped)
{
	return buf_printf(b, "skip %llu\n", (unsigned long long)skipped);
}

int frame_put_deliver_header(struct buf *b)
{
	return buf_append_str(b, "qvmr-deliver 1\n");
}

int frame_put_status(struct buf *b, enum deliver_status st, const char *cid)
{
	static const char *const words[] = {
		[DELIVER_OK] = "ok", [DELIVER_GONE] = "gone",
		[DELIVER_FAIL] = "fail",
	};

	if ((unsigned)st > DELIVER_FAIL || cid == NULL ||
	    !cid_valid(cid, strlen(cid)))
		return QR_ERR_INVALID;
	return buf_printf(b, "%s %s\n", words[st], cid);
}

int frame_put_done(struct buf *b, size_t count)
{
	if (count > FETCH_REQ_MAX)
		return QR_ERR_INVALID;
	return buf_printf(b, "done %zu\n", count);
}

size_t frame_deliver_span(const uint8_t *untrusted, size_t n)
{
	static const char done[] = "done ";
	size_t at = 0;

	if (n > DELIVER_REPLY_MAX)
		n = DELIVER_REPLY_MAX;
	while (at < n) {
		const uint8_t *nl = memchr(untrusted + at, '\n', n - at);
		size_t end;

		if (nl == NULL)
			return 0;
		end = (size_t)(nl - untrusted) + 1;
		if (at > 0 && end - at > sizeof(done) - 1 &&
		    memcmp(untrusted + at, done, sizeof(done) - 1) == 0)
			return end;
		at = end;
	}
	return 0;
}

int frame_fetch_span(const uint8_t *untrusted, size_t n, size_t *span)
{
	struct field f[FIELDS_MAX];
	const uint8_t *line, *bytes;
	struct reader r;
	enum part_kind k;
	uint64_t len;
	size_t ln;
	int e, first = 1;

	*span = 0;
	reader_init(&r, untrusted, n > FETCH_REPLY_MAX ? FETCH_REPLY_MAX : n);
	for (;;) {
		if ((e = reader_get_line(&r, FRAME_LINE_MAX, &line, &ln)) != 0)
			break;
		if (!first && starts_with(line, ln, "done")) {
			*span = r.off;
			return 0;
		}
		first = 0;
		if (!starts_with(line, ln, "part"))
			continue;
		if ((e = split(line, ln, f, 3)) != 0 ||
		    (e = field_kind(&f[1], &k)) != 0 ||
		    (e = parse_u64(f[2].p, f[2].n, part_kind_max(k),
				   &len)) != 0)
			return e;
		if ((e = reader_get_bytes(&r, (size_t)len, &bytes)) != 0 ||
		    (e = reader_expect_byte(&r, '\n')) != 0)
			break;
	}
	/* more input cannot help a reply that needs more than the bound */
	return e == QR_ERR_INCOMPLETE && n >= FETCH_REPLY_MAX
	       ? QR_ERR_TOO_LARGE : e;
}
