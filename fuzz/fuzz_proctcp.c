/*
 * fuzz_proctcp.c - proctcp_parse_line() and proctcp_owner() (webui/
 * proctcp.h) on arbitrary /proc/net/tcp and tcp6 text.
 *
 * Input: one byte of flags (bit 0: the text is tcp6), one byte that says
 * where to cut the text in two, then the text.  Beyond memory safety: a
 * line that parses, written again the way the kernel writes it, parses to
 * the same entry (so no two texts mean one socket and nothing is
 * repaired); an IPv4 line's addresses are v4-mapped; the owner found is
 * that of a whole line that matches, at the place *used says; and the
 * text given in two pieces, the second starting where the first call's
 * *used says, finds what the whole text finds, as the viewer's reader
 * gets it (webui/peer.c).
 */
#include "../webui/proctcp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"

#include "banned.h"

static void
put_addr(char *out, size_t n, const struct tcp_endpoint *ep, int v6)
{
	uint32_t w[4];
	int i;

	memcpy(w, ep->addr, sizeof(w));
	if (!v6) {
		snprintf(out, n, "%08X:%04X", w[3], (unsigned)ep->port);
		return;
	}
	for (i = 0; i < 4; i++)
		snprintf(out + 8 * i, n - 8 * (size_t)i, "%08X", w[i]);
	snprintf(out + 32, n - 32, ":%04X", (unsigned)ep->port);
}

/* The entry as the kernel prints it (the fields not kept as zeros). */
static size_t
kernel_line(char *out, size_t n, const struct proctcp_entry *e, int v6)
{
	char l[48], r[48];
	int k;

	put_addr(l, sizeof(l), &e->local, v6);
	put_addr(r, sizeof(r), &e->remote, v6);
	k = snprintf(out, n, "%4d: %s %s %02X 00000000:00000000 00:00000000 "
		     "00000000 %5u        0 %llu 1 0000000000000000", 0, l, r,
		     e->state, (unsigned)e->uid, (unsigned long long)e->inode);
	FUZZ_CHECK(k > 0 && (size_t)k < n);
	return (size_t)k;
}

static void
check_line(const char *p, size_t n, int v6, struct proctcp_entry *first,
	   bool *have_first)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct proctcp_entry e, again;
	char line[PROCTCP_LINE_MAX];
	size_t k;

	if (proctcp_parse_line(p, n, v6, &e) != 0)
		return;
	FUZZ_CHECK(n <= PROCTCP_LINE_MAX);
	FUZZ_CHECK(e.state <= 0xff);
	if (!v6) {
		FUZZ_CHECK(memcmp(e.local.addr, mapped, 12) == 0);
		FUZZ_CHECK(memcmp(e.remote.addr, mapped, 12) == 0);
	}
	k = kernel_line(line, sizeof(line), &e, v6);
	FUZZ_CHECK(proctcp_parse_line(line, k, v6, &again) == 0);
	/* field by field: the struct has padding */
	FUZZ_CHECK(memcmp(&e.local, &again.local, sizeof(e.local)) == 0);
	FUZZ_CHECK(memcmp(&e.remote, &again.remote, sizeof(e.remote)) == 0);
	FUZZ_CHECK(e.state == again.state && e.uid == again.uid &&
		   e.inode == again.inode);
	if (!*have_first) {
		*first = e;
		*have_first = true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proctcp_entry first, e;
	bool have_first = false;
	const char *text;
	size_t len, off, cut, used, used2;
	uint32_t uid, uid2;
	int v6, r, r2;

	if (size < 2)
		return 0;
	v6 = data[0] & 1;
	text = (const char *)data + 2;
	len = size - 2;
	cut = len == 0 ? 0 : data[1] % (len + 1);

	for (off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - text - off) : len - off;

		check_line(text + off, n, v6, &first, &have_first);
		off += n + 1;
	}
	if (!have_first)
		return 0;

	/* the other end of the first socket line's connection */
	r = proctcp_owner(text, len, v6, &first.local, &first.remote, &uid,
			  &used);
	FUZZ_CHECK(r == 0 || r == QR_ERR_NOT_FOUND);
	FUZZ_CHECK(used <= len);
	FUZZ_CHECK(used == 0 || text[used - 1] == '\n');
	if (r == 0) {
		/* the line that ends at used is the one */
		size_t start = used - 1;

		while (start > 0 && text[start - 1] != '\n')
			start--;
		FUZZ_CHECK(proctcp_parse_line(text + start, used - 1 - start,
					      v6, &e) == 0);
		FUZZ_CHECK(e.uid == uid && e.inode != 0);
		FUZZ_CHECK(e.state != PROCTCP_TIME_WAIT &&
			   e.state != PROCTCP_NEW_SYN_RECV);
		FUZZ_CHECK(memcmp(&e.local, &first.local, sizeof(e.local)) == 0);
		FUZZ_CHECK(memcmp(&e.remote, &first.remote,
				  sizeof(e.remote)) == 0);
	} else {
		/* every whole line was looked at */
		const char *last = NULL;

		for (off = 0; off < len; off++)
			if (text[off] == '\n')
				last = text + off;
		FUZZ_CHECK(used == (last != NULL ? (size_t)(last - text) + 1 : 0));
	}

	/* in two pieces, as a reader gets the file */
	r2 = proctcp_owner(text, cut, v6, &first.local, &first.remote, &uid2,
			   &used2);
	if (r2 != 0)
		r2 = proctcp_owner(text + used2, len - used2, v6, &first.local,
				   &first.remote, &uid2, &used);
	FUZZ_CHECK(r2 == r);
	if (r == 0)
		FUZZ_CHECK(uid2 == uid);
	return 0;
}
