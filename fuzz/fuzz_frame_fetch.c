/*
 * fuzz_frame_fetch.c - frame_parse_fetch() on arbitrary VM replies.
 *
 * Beyond memory safety: a reply that parses has valid cids and claims,
 * no cid twice, parts within their limits and inside the input, and is
 * the one canonical text of what was parsed (writing the struct back with
 * the frame_put_* writers gives the same bytes), so no two texts mean the
 * same reply and nothing was skipped or repaired.  frame_fetch_span()
 * finds an end that is a "done" line within the input and the bound, says
 * "incomplete" only for an input that a longer one could complete, and a
 * reply that parses is exactly its own span.
 */
#include "frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cid.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

/* Over 10 KiB: off the stack. */
static struct fetch_reply reply;

static void check_part(const struct frame_part *pt, enum part_kind k,
		       const uint8_t *data, size_t size)
{
	if (!pt->present) {
		FUZZ_CHECK(!pt->too_big && pt->p == NULL && pt->len == 0);
		return;
	}
	if (pt->too_big) {
		FUZZ_CHECK(pt->p == NULL && pt->len > part_kind_max(k));
		return;
	}
	FUZZ_CHECK(pt->len <= part_kind_max(k));
	FUZZ_CHECK(pt->p >= data && pt->p <= data + size);
	FUZZ_CHECK(pt->len <= (uint64_t)(data + size - pt->p));
}

/* The requests as the frame_put_* writers put them. */
static int put_requests(struct buf *b, const struct fetch_reply *rep)
{
	const struct fetch_request *req;
	const struct frame_part *pt;
	size_t i;
	int k, r;

	if ((r = frame_put_fetch_header(b)) != 0)
		return r;
	for (i = 0; i < rep->n; i++) {
		req = &rep->req[i];
		if ((r = frame_put_request(b, req->cid, req->claim)) != 0)
			return r;
		for (k = 0; k < PART_KINDS; k++) {
			pt = &req->part[k];
			if (!pt->present)
				continue;
			r = pt->too_big ?
			    frame_put_big(b, (enum part_kind)k, pt->len) :
			    frame_put_part(b, (enum part_kind)k, pt->p,
					   (size_t)pt->len);
			if (r != 0)
				return r;
		}
		if ((r = frame_put_end(b)) != 0)
			return r;
	}
	for (i = 0; i < rep->nheld; i++)
		if ((r = frame_put_held(b, rep->held[i].cid,
					rep->held[i].claim)) != 0)
			return r;
	return 0;
}

static bool same(const struct buf *b, const uint8_t *data, size_t size)
{
	return b->len == size && (size == 0 || memcmp(b->data, data, size) == 0);
}

/*
 * The reply does not record whether a "skip 0" line was there, so with
 * nothing skipped both texts are tried.
 */
static bool canonical(const struct fetch_reply *rep, const uint8_t *data,
		      size_t size)
{
	struct buf b = BUF_INIT(FETCH_REPLY_MAX);
	size_t prefix;
	bool ok = false;

	FUZZ_CHECK(put_requests(&b, rep) == 0);
	prefix = b.len;
	if (rep->skipped > 0)
		FUZZ_CHECK(buf_printf(&b, "skip %llu\n",
				      (unsigned long long)rep->skipped) == 0);
	FUZZ_CHECK(frame_put_done(&b, rep->n) == 0);
	ok = same(&b, data, size);
	if (!ok && rep->skipped == 0) {
		b.len = prefix;
		FUZZ_CHECK(buf_append_str(&b, "skip 0\n") == 0);
		FUZZ_CHECK(frame_put_done(&b, rep->n) == 0);
		ok = same(&b, data, size);
	}
	buf_release(&b);
	return ok;
}

/* The span's promises, for any input. */
static size_t check_span(const uint8_t *data, size_t size)
{
	size_t span = 1, j;
	int r = frame_fetch_span(data, size, &span);

	FUZZ_CHECK(r == 0 || r == QR_ERR_INCOMPLETE || r == QR_ERR_INVALID ||
		   r == QR_ERR_TOO_LARGE);
	if (r != 0) {
		FUZZ_CHECK(span == 0);
		FUZZ_CHECK(r != QR_ERR_INCOMPLETE || size < FETCH_REPLY_MAX);
		return 0;
	}
	FUZZ_CHECK(span > 0 && span <= size && span <= FETCH_REPLY_MAX);
	FUZZ_CHECK(data[span - 1] == '\n');
	for (j = span - 1; j > 0 && data[j - 1] != '\n'; j--)
		;
	FUZZ_CHECK(j > 0 && span - j > 5 && memcmp(data + j, "done ", 5) == 0);
	return span;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fetch_request *req;
	size_t i, j, len, span;
	int k, r;

	span = check_span(data, size);
	r = frame_parse_fetch(data, size, &reply);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE ||
		   r == QR_ERR_INCOMPLETE || r == QR_ERR_TRAILING);
	if (r != 0)
		return 0;
	FUZZ_CHECK(span == size);

	FUZZ_CHECK(reply.n <= FETCH_REQ_MAX);
	FUZZ_CHECK(reply.nheld <= FETCH_HELD_MAX);
	for (i = 0; i < reply.n; i++) {
		req = &reply.req[i];
		len = strnlen(req->cid, sizeof(req->cid));
		FUZZ_CHECK(len < sizeof(req->cid) && cid_valid(req->cid, len));
		len = strnlen(req->claim, sizeof(req->claim));
		FUZZ_CHECK(len < sizeof(req->claim) &&
			   claim_valid(req->claim, len));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(reply.req[j].cid, req->cid) != 0);
		for (k = 0; k < PART_KINDS; k++)
			check_part(&req->part[k], (enum part_kind)k, data, size);
	}
	FUZZ_CHECK(canonical(&reply, data, size));
	return 0;
}
