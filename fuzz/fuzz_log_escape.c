/*
 * fuzz_log_escape.c - log_escape() and logline_kv() on arbitrary bytes
 * from a VM.
 *
 * Input: two bytes giving max (little-endian), one byte giving the room
 * left in the output buffer (255: plenty), then the value.  Beyond memory
 * safety: the escaped text holds only printable ASCII (no byte below 0x20,
 * no 0x7f, nothing above, so no newline and no terminal escape), no '"'
 * without its backslash, and it decodes back to exactly the first max
 * value bytes, followed by "..." only when the value was longer.  A
 * failure (no room) leaves the buffer as it was.  logline_kv() keeps the
 * same promises and quotes a value that is empty or holds ' ' or '='.
 */
#include "logline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

#define PREFIX "[2026-11-28T10:15:00Z] EXEC vm=work"
#define PLENTY (1u << 20)

static bool printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes escaped text s[0..n) and compares it with p[0..shown), then
 * expects "..." exactly when cut.  A decoder of its own, so the check
 * does not lean on lib/ or daemon/ code.
 */
static bool decodes_to(const char *s, size_t n, const uint8_t *p,
		       size_t shown, bool cut)
{
	size_t i = 0, k = 0;
	int hi, lo;
	uint8_t c;

	while (k < shown) {
		if (i == n)
			return false;
		if (s[i] == '"')
			return false;           /* would end a quoted value */
		if (s[i] != '\\') {
			c = (uint8_t)s[i++];
		} else if (i + 1 == n) {
			return false;
		} else {
			switch (s[i + 1]) {
			case 'n': c = '\n'; i += 2; break;
			case 'r': c = '\r'; i += 2; break;
			case 't': c = '\t'; i += 2; break;
			case '"': c = '"'; i += 2; break;
			case '\\': c = '\\'; i += 2; break;
			case 'x':
				if (i + 3 >= n || (hi = hex_val(s[i + 2])) < 0 ||
				    (lo = hex_val(s[i + 3])) < 0)
					return false;
				c = (uint8_t)(hi << 4 | lo);
				i += 4;
				break;
			default:
				return false;
			}
		}
		if (c != p[k++])
			return false;
	}
	if (cut)
		return n - i == 3 && memcmp(s + i, "...", 3) == 0;
	return i == n;
}

static void check_escape(const uint8_t *p, size_t n, size_t max,
			 size_t room)
{
	struct buf out = BUF_INIT(sizeof(PREFIX) - 1 + room);
	size_t shown = n < max ? n : max;
	int r;

	FUZZ_CHECK(buf_append_str(&out, PREFIX) == 0);
	r = log_escape(&out, p, n, max);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_TOO_LARGE);
		FUZZ_CHECK(out.len == sizeof(PREFIX) - 1 &&
			   strcmp(out.data, PREFIX) == 0);
		buf_release(&out);
		return;
	}
	FUZZ_CHECK(out.len >= sizeof(PREFIX) - 1 &&
		   memcmp(out.data, PREFIX, sizeof(PREFIX) - 1) == 0);
	FUZZ_CHECK(out.data[out.len] == '\0');
	FUZZ_CHECK(printable(out.data, out.len));
	FUZZ_CHECK(memchr(out.data, '\n', out.len) == NULL);
	FUZZ_CHECK(decodes_to(out.data + sizeof(PREFIX) - 1,
			      out.len - (sizeof(PREFIX) - 1), p, shown,
			      n > max));
	buf_release(&out);
}

static void check_kv(const uint8_t *p, size_t n, size_t max, size_t room)
{
	static const char head[] = " cmd=";
	struct buf out = BUF_INIT(sizeof(PREFIX) - 1 + room);
	size_t shown = n < max ? n : max, off = sizeof(PREFIX) - 1, len;
	bool quote;
	int r;

	FUZZ_CHECK(buf_append_str(&out, PREFIX) == 0);
	r = logline_kv(&out, "cmd", p, n, max);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_TOO_LARGE);
		FUZZ_CHECK(out.len == off && strcmp(out.data, PREFIX) == 0);
		buf_release(&out);
		return;
	}
	FUZZ_CHECK(printable(out.data, out.len));
	FUZZ_CHECK(out.len - off >= sizeof(head) - 1 &&
		   memcmp(out.data + off, head, sizeof(head) - 1) == 0);
	off += sizeof(head) - 1;
	len = out.len - off;
	quote = n == 0 || memchr(p, ' ', shown) != NULL ||
		memchr(p, '=', shown) != NULL;
	if (quote) {
		FUZZ_CHECK(len >= 2 && out.data[off] == '"' &&
			   out.data[out.len - 1] == '"');
		off++;
		len -= 2;
	}
	FUZZ_CHECK(decodes_to(out.data + off, len, p, shown, n > max));
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, room;

	if (size < 3)
		return 0;
	max = (size_t)data[0] | (size_t)data[1] << 8;
	room = data[2] == 0xff ? PLENTY : (size_t)data[2] * 4;
	data += 3;
	size -= 3;
	check_escape(data, size, max, room);
	check_kv(data, size, max, room);
	return 0;
}
