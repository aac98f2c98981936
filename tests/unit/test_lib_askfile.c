/*
 * test_lib_askfile.c - the asks/ID and answers/ID lines: what the
 * formatters write parses back to the same record, and every field that
 * is off, unknown, repeated or missing is refused.
 */
#include "askfile.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "err.h"
#include "banned.h"

#define T0 ((time_t)1795860900)    /* 2026-11-28T10:15:00Z */
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CID "20261128-101500-4242-abcdef01"

static void sample(struct ask_record *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->id, "0a1b2c", 7);
	memcpy(a->vm, "work", 5);
	memcpy(a->cid, CID, sizeof(CID));
	memcpy(a->user, "root", 5);
	a->form = BODY_ARGV;
	memcpy(a->rule, "/etc/qubes/remote-policy.d/50-agent.policy:12",
	       sizeof("/etc/qubes/remote-policy.d/50-agent.policy:12"));
	a->timeout_s = 300;
	a->expires = T0 + 300;
	a->bytes = 21;
	memcpy(a->sha256, SHA, 65);
	memcpy(a->cmd, "qvm-prefs work memory", 22);
	a->cmd_len = 21;
}

static void sample_answer(struct ask_answer *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->id, "0a1b2c", 7);
	memcpy(a->cid, CID, sizeof(CID));
	a->approve = true;
	memcpy(a->by, "alice", 6);
	a->via = ASK_VIA_TERMINAL;
}

static void same_record(const struct ask_record *a, const struct ask_record *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->vm, b->vm);
	assert_string_equal(a->cid, b->cid);
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->form, b->form);
	assert_string_equal(a->rule, b->rule);
	assert_int_equal(a->timeout_s, b->timeout_s);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->bytes, b->bytes);
	assert_string_equal(a->sha256, b->sha256);
	assert_int_equal(a->cmd_len, b->cmd_len);
	assert_memory_equal(a->cmd, b->cmd, a->cmd_len);
	assert_int_equal(b->cmd[b->cmd_len], '\0');
	assert_int_equal(a->cut, b->cut);
}

/* format, parse, compare */
static void round_trip(const struct ask_record *a)
{
	struct buf b = BUF_INIT(1 << 16);
	struct ask_record back;

	assert_int_equal(askfile_format(&b, T0, a), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_null(memchr(b.data, '\n', b.len - 1));
	memset(&back, 0x5a, sizeof(back));
	assert_int_equal(askfile_parse(b.data, b.len, &back), 0);
	same_record(a, &back);
	buf_release(&b);
}

static int parse_str(const char *s, struct ask_record *a)
{
	return askfile_parse(s, strlen(s), a);
}

static void test_id_valid(void **state)
{
	assert_true(ask_id_valid("0a1b2c"));
	assert_true(ask_id_valid("ffffff"));
	assert_true(ask_id_valid("000000"));
	assert_false(ask_id_valid(NULL));
	assert_false(ask_id_valid(""));
	assert_false(ask_id_valid("0a1b2"));
	assert_false(ask_id_valid("0a1b2c3"));
	assert_false(ask_id_valid("0A1B2C"));
	assert_false(ask_id_valid("0a1b2g"));
	assert_false(ask_id_valid("../abc"));
	assert_false(ask_id_valid(".a1b2c"));
	assert_false(ask_id_valid("0a1b2 "));
}

static void test_round_trip(void **state)
{
	struct ask_record a;
	struct buf b = BUF_INIT(4096);

	sample(&a);
	round_trip(&a);
	assert_int_equal(askfile_format(&b, T0, &a), 0);
	assert_string_equal(buf_str(&b),
		"[2026-11-28T10:15:00Z] ASK id=0a1b2c vm=work cid=" CID
		" user=root form=argv"
		" rule=/etc/qubes/remote-policy.d/50-agent.policy:12"
		" timeout=300 expires=1795861200 bytes=21 sha256=" SHA
		" cmd=\"qvm-prefs work memory\"\n");
	buf_release(&b);

	a.form = BODY_SCRIPT;
	a.cut = true;
	a.timeout_s = TIMEOUT_MAX;
	a.bytes = BODY_MAX;
	a.expires = 0;
	memcpy(a.rule, "dir with space/f=x.policy:1", 28);
	round_trip(&a);
	a.cmd_len = 0;
	a.cmd[0] = '\0';
	round_trip(&a);
}

/* a script's lines, quotes, every control byte but NUL, and 0x80..0xff */
static void test_cmd_bytes(void **state)
{
	struct ask_record a;
	size_t i, n = 0;

	sample(&a);
	a.form = BODY_SCRIPT;
	for (i = 1; i < 256; i++)
		a.cmd[n++] = (char)i;
	memcpy(a.cmd + n, "\necho \"a b\" 'c'\\\n<b>x</b>&amp;\x1b[31m\xff", 31);
	n += 31;
	a.cmd_len = n;
	a.cmd[n] = '\0';
	round_trip(&a);

	/* the longest, every byte escaped to four */
	memset(a.cmd, 0xff, ASK_CMD_MAX);
	a.cmd[ASK_CMD_MAX] = '\0';
	a.cmd_len = ASK_CMD_MAX;
	a.cut = true;
	round_trip(&a);
}

static void test_format_refuses(void **state)
{
	struct buf b = BUF_INIT(1 << 16);
	struct ask_record a;

	sample(&a);
	memcpy(a.id, "0A1B2C", 7);
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	memcpy(a.vm, "dom0", 5);
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	memcpy(a.cid, "x", 2);
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	memcpy(a.user, "Root", 5);
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.form = (enum body_form)7;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.rule[0] = '\0';
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.rule[3] = '\n';
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.timeout_s = 0;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	a.timeout_s = TIMEOUT_MAX + 1;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.expires = -1;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.bytes = 0;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	a.bytes = BODY_MAX + 1;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.sha256[3] = 'A';
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.cmd[3] = '\0';        /* a NUL inside */
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	sample(&a);
	a.cmd_len = ASK_CMD_MAX + 1;
	assert_int_equal(askfile_format(&b, T0, &a), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);

	/* a buffer too small is left as it was */
	{
		struct buf small = BUF_INIT(40);

		sample(&a);
		assert_int_equal(buf_append_str(&small, "kept"), 0);
		assert_int_equal(askfile_format(&small, T0, &a),
				 QR_ERR_TOO_LARGE);
		assert_string_equal(buf_str(&small), "kept");
		buf_release(&small);
	}
}

/* The sample's line with one field's text replaced (or dropped when
 * value is NULL), or a field added when key is new. */
static char *line_with(const char *key, const char *value)
{
	static char out[1 << 14];
	struct ask_record a;
	struct buf b = BUF_INIT(1 << 14);
	char *p, *end, *field;
	size_t klen = strlen(key);
	int n;

	sample(&a);
	assert_int_equal(askfile_format(&b, T0, &a), 0);
	b.data[--b.len] = '\0';      /* the newline */
	field = NULL;
	for (p = strchr(b.data, ' '); p != NULL; p = strchr(p + 1, ' '))
		if (strncmp(p + 1, key, klen) == 0 && p[1 + klen] == '=') {
			field = p;
			break;
		}
	if (field == NULL) {
		n = snprintf(out, sizeof(out), "%s %s=%s\n", b.data, key,
			     value);
	} else {
		/* the sample's cmd is the only quoted value; it is last */
		end = field[1 + klen + 1] == '"' ?
		      strchr(field + klen + 3, '"') + 1 :
		      strchr(field + 1, ' ');
		if (end == NULL)
			end = b.data + b.len;
		*field = '\0';
		if (value == NULL)
			n = snprintf(out, sizeof(out), "%s%s\n", b.data, end);
		else
			n = snprintf(out, sizeof(out), "%s %s=%s%s\n", b.data,
				     key, value, end);
	}
	assert_true(n > 0 && (size_t)n < sizeof(out));
	buf_release(&b);
	return out;
}

static void test_parse_fields(void **state)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "id", "0A1B2C" }, { "id", "0a1b2" }, { "id", "0a1b2c3" },
		{ "id", "\"\"" }, { "id", "0a1b\\x00c" },
		{ "vm", "dom0" }, { "vm", "1work" }, { "vm", "a\\nb" },
		{ "vm", "\"\"" }, { "vm", "abcdefghijabcdefghijabcdefghijab" },
		{ "cid", "x" }, { "cid", "20261128-101500-4242-abc" },
		{ "cid", "\"\"" },
		{ "user", "Root" }, { "user", "a\\x00" }, { "user", "\"\"" },
		{ "user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "form", "ARGV" }, { "form", "shell" }, { "form", "\"\"" },
		{ "form", "argv\\x00" },
		{ "rule", "\"\"" }, { "rule", "a\\nb" }, { "rule", "a\\x7f" },
		{ "rule", "a\\x00b" },
		{ "timeout", "0" }, { "timeout", "86401" }, { "timeout", "-1" },
		{ "timeout", "010" }, { "timeout", "1x" }, { "timeout", "\"\"" },
		{ "expires", "-1" }, { "expires", "253402300800" },
		{ "expires", "1e9" }, { "expires", "01" },
		{ "bytes", "0" }, { "bytes", "1048577" }, { "bytes", "x" },
		{ "sha256", "0123" }, { "sha256", SHA "0" },
		{ "sha256", "0123456789ABCDEF0123456789abcdef"
			    "0123456789abcdef0123456789abcdef" },
		{ "cmd", "a\\x00b" }, { "cmd", "\"a\\x00\"" },
		{ "cut", "0" }, { "cut", "2" }, { "cut", "yes" },
		{ "cut", "\"\"" },
		{ "extra", "1" }, { "ID", "0a1b2c" },
		{ "id", "0a1b2c id=0a1b2c" }, { "cut", "1 cut=1" },
	};
	static const char *const required[] = {
		"id", "vm", "cid", "user", "form", "rule", "timeout",
		"expires", "bytes", "sha256", "cmd",
	};
	struct ask_record a;
	char big[ASK_CMD_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_str(line_with(bad[i].key, bad[i].value), &a) !=
		    QR_ERR_INVALID)
			fail_msg("accepted %s=%s", bad[i].key, bad[i].value);
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (parse_str(line_with(required[i], NULL), &a) !=
		    QR_ERR_INVALID)
			fail_msg("accepted a line without %s", required[i]);

	/* the near misses that parse */
	assert_int_equal(parse_str(line_with("cut", "1"), &a), 0);
	assert_true(a.cut);
	assert_int_equal(parse_str(line_with("cmd", "\"\""), &a), 0);
	assert_int_equal(a.cmd_len, 0);
	assert_int_equal(parse_str(line_with("expires", "253402300799"), &a),
			 0);
	/* a cmd at its maximum, and one byte past */
	memset(big, 'x', ASK_CMD_MAX);
	big[ASK_CMD_MAX] = '\0';
	assert_int_equal(parse_str(line_with("cmd", big), &a), 0);
	assert_int_equal(a.cmd_len, ASK_CMD_MAX);
	big[ASK_CMD_MAX] = 'x';
	big[ASK_CMD_MAX + 1] = '\0';
	assert_int_equal(parse_str(line_with("cmd", big), &a), QR_ERR_INVALID);
}

static void test_parse_line(void **state)
{
	struct ask_record a;
	struct buf b = BUF_INIT(1 << 14);
	char *moved;

	sample(&a);
	assert_int_equal(askfile_format(&b, T0, &a), 0);
	/* without its newline, still a line */
	assert_int_equal(askfile_parse(b.data, b.len - 1, &a), 0);
	/* two newlines, a NUL, a second line, a bad category, NULL */
	assert_int_equal(buf_append_str(&b, "\n"), 0);
	assert_int_equal(askfile_parse(b.data, b.len, &a), QR_ERR_INVALID);
	assert_int_equal(askfile_parse(b.data, b.len - 3, &a),
			 QR_ERR_INVALID);   /* the cmd's closing quote gone */
	b.data[b.len - 2] = '\0';
	assert_int_equal(askfile_parse(b.data, b.len, &a), QR_ERR_INVALID);
	assert_int_equal(askfile_parse(NULL, 0, &a), QR_ERR_INVALID);
	assert_int_equal(askfile_parse("", 0, &a), QR_ERR_INVALID);
	assert_int_equal(parse_str("[2026-11-28T10:15:00Z] ASK\n", &a),
			 QR_ERR_INVALID);
	buf_release(&b);

	/* the same fields as an ANSWER line, or in another order */
	moved = line_with("id", NULL);
	assert_int_equal(parse_str(moved, &a), QR_ERR_INVALID);
	moved[strlen(moved) - 1] = '\0';
	{
		char reordered[1 << 14];
		const char *cat = strstr(moved, "ASK ");

		assert_non_null(cat);
		snprintf(reordered, sizeof(reordered),
			 "[2026-11-28T10:15:00Z] ASK id=0a1b2c %s\n", cat + 4);
		assert_int_equal(parse_str(reordered, &a), 0);
		assert_string_equal(a.id, "0a1b2c");
		snprintf(reordered, sizeof(reordered),
			 "[2026-11-28T10:15:00Z] ANSWER %s id=0a1b2c\n",
			 cat + 4);
		assert_int_equal(parse_str(reordered, &a), QR_ERR_INVALID);
	}
}

static void test_answer(void **state)
{
	static const char *const bad[] = {
		"",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=alice",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=alice via=desktop via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=alice via=desktop x=1",
		"[2026-11-28T10:15:00Z] ASK id=0a1b2c cid=" CID
		" action=approve by=alice via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0A1B2C cid=" CID
		" action=approve by=alice via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID "x"
		" action=approve by=alice via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=allow by=alice via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=Alice via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=\"\" via=desktop",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=alice via=web",
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve\\x00 by=alice via=desktop",
	};
	struct buf b = BUF_INIT(4096);
	struct ask_answer a, back;
	size_t i;

	sample_answer(&a);
	assert_int_equal(askfile_answer_format(&b, T0, &a), 0);
	assert_string_equal(buf_str(&b),
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=approve by=alice via=terminal\n");
	memset(&back, 0x5a, sizeof(back));
	assert_int_equal(askfile_answer_parse(b.data, b.len, &back), 0);
	assert_string_equal(back.id, a.id);
	assert_string_equal(back.cid, a.cid);
	assert_true(back.approve);
	assert_string_equal(back.by, "alice");
	assert_int_equal(back.via, ASK_VIA_TERMINAL);

	buf_reset(&b);
	a.approve = false;
	a.via = ASK_VIA_DESKTOP;
	assert_int_equal(askfile_answer_format(&b, T0, &a), 0);
	assert_string_equal(buf_str(&b),
		"[2026-11-28T10:15:00Z] ANSWER id=0a1b2c cid=" CID
		" action=deny by=alice via=desktop\n");
	assert_int_equal(askfile_answer_parse(b.data, b.len, &back), 0);
	assert_false(back.approve);
	assert_int_equal(back.via, ASK_VIA_DESKTOP);

	/* fields in another order */
	{
		const char *s = "[2026-11-28T10:15:00Z] ANSWER via=desktop "
				"by=bob action=approve cid=" CID " id=ffffff";

		assert_int_equal(askfile_answer_parse(s, strlen(s), &back), 0);
		assert_string_equal(back.by, "bob");
		assert_string_equal(back.id, "ffffff");
	}

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (askfile_answer_parse(bad[i], strlen(bad[i]), &back) !=
		    QR_ERR_INVALID)
			fail_msg("accepted answer %zu", i);
	assert_int_equal(askfile_answer_parse(NULL, 3, &back), QR_ERR_INVALID);

	/* the formatter refuses what the parser would */
	buf_reset(&b);
	sample_answer(&a);
	a.via = (enum ask_via)9;
	assert_int_equal(askfile_answer_format(&b, T0, &a), QR_ERR_INVALID);
	sample_answer(&a);
	memcpy(a.by, "x y", 4);
	assert_int_equal(askfile_answer_format(&b, T0, &a), QR_ERR_INVALID);
	sample_answer(&a);
	a.id[0] = 'g';
	assert_int_equal(askfile_answer_format(&b, T0, &a), QR_ERR_INVALID);
	sample_answer(&a);
	a.cid[0] = '\0';
	assert_int_equal(askfile_answer_format(&b, T0, &a), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cmd_bytes),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
