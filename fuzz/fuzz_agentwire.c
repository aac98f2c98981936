/*
 * fuzz_agentwire.c - the agent's decoders of what dom0 sends
 * (lib/agentwire.h) on arbitrary lines.
 *
 * The first byte picks the decoder (a turn line or a deliver line), the
 * rest is the line.  Beyond memory safety: whatever decodes is valid by
 * the encoder's rules, encodes back to exactly the bytes decoded, and
 * decodes again to the same values, so what dom0 writes is what the agent
 * reads.
 */
#include "agentwire.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

static char line[AGENT_LINE_MAX + 2], again[AGENT_LINE_MAX + 2];
static char *words[AGENTWIRE_TURN_WORDS], *words2[AGENTWIRE_TURN_WORDS];

static void
turn(const uint8_t *data, size_t n)
{
	struct buf b = BUF_INIT(AGENT_LINE_MAX + 2);
	struct agentwire_fetch f, g;
	int r;

	if (n > AGENT_LINE_MAX + 1)
		n = AGENT_LINE_MAX + 1;
	memcpy(line, data, n);
	r = agentwire_decode_turn(line, n, words, &f);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE);
	if (r != 0)
		return;
	FUZZ_CHECK(agentwire_fetch_valid(&f));
	FUZZ_CHECK(agentwire_put_turn(&b, &f) == 0);
	FUZZ_CHECK(b.len == n + 1 && b.data[n] == '\n' &&
		   memcmp(b.data, data, n) == 0);
	memcpy(again, b.data, n);
	FUZZ_CHECK(agentwire_decode_turn(again, n, words2, &g) == 0);
	FUZZ_CHECK(strcmp(f.prefix, g.prefix) == 0 && f.wait_s == g.wait_s &&
		   f.max_requests == g.max_requests &&
		   f.max_bytes == g.max_bytes && f.claim == g.claim &&
		   f.nrelease == g.nrelease);
	for (size_t i = 0; i < 2 * f.nrelease; i++)
		FUZZ_CHECK(strcmp(f.release[i], g.release[i]) == 0);
	buf_release(&b);
}

static void
deliver(const uint8_t *data, size_t n)
{
	static struct agentwire_item it, back;
	static struct agentwire_live live, live2;
	struct buf b = BUF_INIT(FRAME_LINE_MAX + 2);
	uint64_t count, count2;
	int r;

	r = agentwire_decode_deliver((const char *)data, n, &it, &live, &count);
	FUZZ_CHECK(r == AGENTWIRE_ITEM || r == AGENTWIRE_ENDS ||
		   r == AGENTWIRE_LIVE || r == QR_ERR_INVALID ||
		   r == QR_ERR_TOO_LARGE);
	if (r < 0)
		return;
	FUZZ_CHECK((r == AGENTWIRE_ITEM   ? agentwire_put_item(&b, &it)
		    : r == AGENTWIRE_LIVE ? agentwire_put_live(&b, &live)
					  : agentwire_put_end(&b, count)) == 0);
	FUZZ_CHECK(b.len == n + 1 && b.data[n] == '\n' &&
		   memcmp(b.data, data, n) == 0);
	FUZZ_CHECK(agentwire_decode_deliver(b.data, n, &back, &live2,
					    &count2) == r);
	FUZZ_CHECK(count == count2 && memcmp(&it, &back, sizeof(it)) == 0 &&
		   memcmp(&live, &live2, sizeof(live)) == 0);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		turn(data + 1, size - 1);
	else
		deliver(data + 1, size - 1);
	return 0;
}
