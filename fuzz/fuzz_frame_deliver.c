/*
 * fuzz_frame_deliver.c - frame_parse_deliver() and frame_deliver_span()
 * on arbitrary VM replies.
 *
 * Beyond memory safety: a reply that parses lists valid, distinct cids
 * with a known status, and is the one canonical text of what was parsed,
 * so a VM cannot make dom0 read a result line it did not write plainly.
 * The span a session's output is cut at ends with a "done" line within
 * DELIVER_REPLY_MAX, and a reply that parses is exactly its own span.
 */
#include "frame.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cid.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static struct deliver_reply reply;

static const char *status_word(enum deliver_status s)
{
	switch (s) {
	case DELIVER_OK:
		return "ok";
	case DELIVER_GONE:
		return "gone";
	case DELIVER_FAIL:
		return "fail";
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(DELIVER_REPLY_MAX);
	const struct deliver_entry *d;
	const char *word;
	size_t i, j, len, span;
	int r;

	span = frame_deliver_span(data, size);
	FUZZ_CHECK(span <= size && span <= DELIVER_REPLY_MAX);
	if (span > 0) {
		const uint8_t *nl;
		FUZZ_CHECK(data[span - 1] == '\n');
		nl = memchr(data, '\n', span);
		FUZZ_CHECK(nl != NULL && (size_t)(nl - data) + 1 < span);
		for (j = span - 1; j > 0 && data[j - 1] != '\n'; j--)
			;
		FUZZ_CHECK(j > 0 && span - j > 5 &&
			   memcmp(data + j, "done ", 5) == 0);
	}
	r = frame_parse_deliver(data, size, &reply);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE ||
		   r == QR_ERR_INCOMPLETE || r == QR_ERR_TRAILING);
	if (r != 0)
		return 0;
	FUZZ_CHECK(span == size);

	FUZZ_CHECK(reply.n <= FETCH_REQ_MAX);
	FUZZ_CHECK(buf_append_str(&b, "qvmr-deliver 1\n") == 0);
	for (i = 0; i < reply.n; i++) {
		d = &reply.e[i];
		len = strnlen(d->cid, sizeof(d->cid));
		FUZZ_CHECK(len < sizeof(d->cid) && cid_valid(d->cid, len));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(reply.e[j].cid, d->cid) != 0);
		word = status_word(d->status);
		FUZZ_CHECK(word != NULL);
		FUZZ_CHECK(buf_printf(&b, "%s %s\n", word, d->cid) == 0);
	}
	FUZZ_CHECK(buf_printf(&b, "done %zu\n", reply.n) == 0);
	FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
	buf_release(&b);
	return 0;
}
