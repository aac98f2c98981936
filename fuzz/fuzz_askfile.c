/*
 * fuzz_askfile.c - askfile_parse() and askfile_answer_parse() on
 * arbitrary asks/ID and answers/ID files.
 *
 * The runtime directory is root's, but the cmd of an ASK line holds the
 * VM's bytes, and a person may edit either file.  The whole input goes to
 * both parsers.  Beyond memory safety: what parses has fields the
 * formatter accepts (valid ID, VM, cid and user, no NUL in cmd), and
 * formatting it again gives a line that parses to the same record, whose
 * own formatting is the same bytes (parse(format(x)) == x).
 */
#include "askfile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fuzz.h"

#include "banned.h"

#define WHEN ((time_t)1795860900)

static bool same_record(const struct ask_record *a, const struct ask_record *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->vm, b->vm) == 0 &&
	       strcmp(a->cid, b->cid) == 0 && strcmp(a->user, b->user) == 0 &&
	       a->form == b->form && strcmp(a->rule, b->rule) == 0 &&
	       a->timeout_s == b->timeout_s && a->expires == b->expires &&
	       a->bytes == b->bytes && strcmp(a->sha256, b->sha256) == 0 &&
	       a->cmd_len == b->cmd_len &&
	       memcmp(a->cmd, b->cmd, a->cmd_len) == 0 && a->cut == b->cut;
}

static void check_ask(const uint8_t *data, size_t size)
{
	static struct ask_record a, back;
	struct buf one = BUF_INIT(1 << 16), two = BUF_INIT(1 << 16);
	int r;

	r = askfile_parse((const char *)data, size, &a);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID);
		return;
	}
	FUZZ_CHECK(ask_id_valid(a.id));
	FUZZ_CHECK(a.cmd_len <= ASK_CMD_MAX && a.cmd[a.cmd_len] == '\0');
	FUZZ_CHECK(memchr(a.cmd, '\0', a.cmd_len) == NULL);
	FUZZ_CHECK(askfile_format(&one, WHEN, &a) == 0);
	FUZZ_CHECK(askfile_parse(one.data, one.len, &back) == 0);
	FUZZ_CHECK(same_record(&a, &back));
	FUZZ_CHECK(askfile_format(&two, WHEN, &back) == 0);
	FUZZ_CHECK(one.len == two.len && memcmp(one.data, two.data,
						one.len) == 0);
	buf_release(&one);
	buf_release(&two);
}

static void check_answer(const uint8_t *data, size_t size)
{
	struct ask_answer a, back;
	struct buf one = BUF_INIT(4096);
	int r;

	r = askfile_answer_parse((const char *)data, size, &a);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID);
		return;
	}
	FUZZ_CHECK(ask_id_valid(a.id));
	FUZZ_CHECK(askfile_answer_format(&one, WHEN, &a) == 0);
	FUZZ_CHECK(askfile_answer_parse(one.data, one.len, &back) == 0);
	FUZZ_CHECK(strcmp(a.id, back.id) == 0 && strcmp(a.cid, back.cid) == 0 &&
		   a.approve == back.approve && strcmp(a.by, back.by) == 0 &&
		   a.via == back.via);
	buf_release(&one);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_ask(data, size);
	check_answer(data, size);
	return 0;
}
