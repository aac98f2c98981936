/*
 * test_lib_jobsfile.c - the jobs file and the stops/CID line: what the
 * formatters write parses back, a VM's bytes in cmd stay escaped in the
 * file and come back whole, anything off is refused, and the IDs ps
 * shows and stop takes name one request or none.
 */
#include "jobsfile.h"

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
#define CID1 "20261128-101500-4242-abcdef0123456789"
#define CID2 "20261128-101501-4243-abcdef9876543210"
#define CID3 "20261128-101502-4244-0123456789abcdef"

static void
sample(struct jobs_entry *e, const char *cid, enum jobs_state st)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->vm, "work", 5);
	snprintf(e->cid, sizeof(e->cid), "%s", cid);
	e->state = st;
	memcpy(e->user, "root", 5);
	e->since = T0 - 5;
	e->form = BODY_ARGV;
	jobs_entry_cmd(e, "sleep 60", 8, false);
	if (st == JOBS_ASKING)
		memcpy(e->ask, "0a1b2c", 7);
}

/* head + the entries, parsed back */
static int
round_trip(const struct jobs_entry *e, size_t n, struct jobs_list *l,
	   struct buf *b)
{
	assert_int_equal(jobsfile_format_head(b, 4242), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(jobsfile_format_entry(b, T0, &e[i]), 0);
	return jobsfile_parse(b->data, b->len, l);
}

static void
test_round_trip(void **state)
{
	struct jobs_entry e[4];
	struct jobs_list l;
	struct buf b = BUF_INIT(1 << 16);

	sample(&e[0], CID1, JOBS_RUNNING);
	sample(&e[1], CID2, JOBS_QUEUED);
	sample(&e[2], CID3, JOBS_ASKING);
	sample(&e[3], "ping-1795860900000000000-7", JOBS_STOPPING);
	e[1].form = BODY_SCRIPT;
	jobs_entry_cmd(&e[1], "echo one\necho two\n", 18, false);
	assert_int_equal(round_trip(e, 4, &l, &b), 0);
	assert_int_equal(l.pid, 4242);
	assert_int_equal(l.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(l.v[i].cid, e[i].cid);
		assert_int_equal(l.v[i].state, e[i].state);
		assert_int_equal(l.v[i].since, T0 - 5);
		assert_string_equal(l.v[i].ask, e[i].ask);
	}
	/* a script shows its first line, and says it was cut */
	assert_string_equal(l.v[1].cmd, "echo one");
	assert_true(l.v[1].cut);
	assert_false(l.v[0].cut);
	jobs_list_release(&l);
	/* an empty set: the header alone */
	buf_reset(&b);
	assert_int_equal(round_trip(e, 0, &l, &b), 0);
	assert_int_equal(l.n, 0);
	jobs_list_release(&l);
	buf_release(&b);
}

static void
test_cmd_escaped(void **state)
{
	static const char evil[] = "echo \x1b[31mred\x1b[0m \"q\" a=b\\ \x7f\xff";
	struct jobs_entry e;
	struct jobs_list l;
	struct buf b = BUF_INIT(4096);
	char big[JOBS_CMD_MAX + 50];

	sample(&e, CID1, JOBS_RUNNING);
	jobs_entry_cmd(&e, evil, sizeof(evil) - 1, false);
	assert_int_equal(round_trip(&e, 1, &l, &b), 0);
	/* nothing but printable ASCII and the newlines in the file */
	for (size_t i = 0; i < b.len; i++)
		assert_true(b.data[i] == '\n' ||
			    (b.data[i] >= 0x20 && b.data[i] < 0x7f));
	assert_non_null(strstr(buf_str(&b), "\\x1b[31m"));
	assert_int_equal(l.v[0].cmd_len, sizeof(evil) - 1);
	assert_memory_equal(l.v[0].cmd, evil, sizeof(evil) - 1);
	jobs_list_release(&l);
	/* at most JOBS_CMD_MAX bytes, cut; a NUL becomes a space */
	memset(big, 'x', sizeof(big));
	big[3] = '\0';
	jobs_entry_cmd(&e, big, sizeof(big), false);
	assert_int_equal(e.cmd_len, JOBS_CMD_MAX);
	assert_true(e.cut);
	assert_int_equal(e.cmd[3], ' ');
	/* a script of one line and its newline is not cut */
	e.form = BODY_SCRIPT;
	jobs_entry_cmd(&e, "sleep 60\n", 9, false);
	assert_string_equal(e.cmd, "sleep 60");
	assert_false(e.cut);
	jobs_entry_cmd(&e, "sleep 60\nx", 10, false);
	assert_true(e.cut);
	/* more: the caller's preview left something out */
	jobs_entry_cmd(&e, "ls", 2, true);
	assert_true(e.cut);
	buf_release(&b);
}

static void
test_format_refuses(void **state)
{
	struct jobs_entry e;
	struct buf b = BUF_INIT(4096);

	sample(&e, CID1, JOBS_RUNNING);
	memcpy(e.vm, "../x", 5);
	assert_int_equal(jobsfile_format_entry(&b, T0, &e), QR_ERR_INVALID);
	sample(&e, "not-a-cid", JOBS_RUNNING);
	assert_int_equal(jobsfile_format_entry(&b, T0, &e), QR_ERR_INVALID);
	sample(&e, CID1, (enum jobs_state)9);
	assert_int_equal(jobsfile_format_entry(&b, T0, &e), QR_ERR_INVALID);
	sample(&e, CID1, JOBS_RUNNING);
	memcpy(e.user, "a b", 4);
	assert_int_equal(jobsfile_format_entry(&b, T0, &e), QR_ERR_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void
parse_bad(const char *text)
{
	struct jobs_list l;

	assert_int_not_equal(jobsfile_parse(text, strlen(text), &l), 0);
	jobs_list_release(&l);
}

#define HEAD "qvmr-jobs 1 pid 7\n"
#define LINE(rest) "[2026-11-28T10:15:00Z] JOB vm=work id=" CID1 rest "\n"
#define OKF " state=running user=root since=5 form=argv cmd=ls"

static void
test_parse_refuses(void **state)
{
	struct jobs_list l;
	const char ok[] = HEAD LINE(OKF);

	assert_int_equal(jobsfile_parse(ok, strlen(ok), &l), 0);
	assert_int_equal(l.n, 1);
	jobs_list_release(&l);
	parse_bad("");
	parse_bad("qvmr-jobs 2 pid 7\n");
	parse_bad("qvmr-jobs 1 pid 0\n");
	parse_bad("qvmr-jobs 1 pid x\n");
	parse_bad(HEAD LINE(OKF) "trailing");                     /* no newline */
	parse_bad(HEAD LINE(OKF " extra=1"));                     /* unknown */
	parse_bad(HEAD LINE(OKF " cmd=ls"));                      /* twice */
	parse_bad(HEAD LINE(" state=running user=root since=5 form=argv"));
	parse_bad(HEAD LINE(" state=sleeping user=root since=5 form=argv cmd=x"));
	parse_bad(HEAD LINE(" state=running user=root since=-1 form=argv cmd=x"));
	parse_bad(HEAD LINE(" state=running user=root since=5 form=elf cmd=x"));
	parse_bad(HEAD LINE(OKF " cut=2"));
	parse_bad(HEAD LINE(OKF " ask=0a1b2c"));          /* ask only asking */
	parse_bad(HEAD LINE(" state=asking user=root since=5 form=argv cmd=x"));
	parse_bad(HEAD LINE(" state=running user=root since=5 form=argv "
			    "cmd=\"\\x00\""));                    /* a NUL */
	parse_bad(HEAD "[2026-11-28T10:15:00Z] ASK vm=work id=" CID1 OKF "\n");
	parse_bad(HEAD "[2026-11-28T10:15:00Z] JOB vm=../w id=" CID1 OKF "\n");
}

static void
test_stop(void **state)
{
	struct jobs_stop s, got;
	struct buf b = BUF_INIT(1024);

	memset(&s, 0, sizeof(s));
	memcpy(s.vm, "work", 5);
	memcpy(s.cid, CID1, sizeof(CID1));
	memcpy(s.by, "alice", 6);
	assert_int_equal(jobsfile_format_stop(&b, T0, &s), 0);
	assert_string_equal(buf_str(&b), "[2026-11-28T10:15:00Z] STOP vm=work id="
			    CID1 " by=alice\n");
	assert_int_equal(jobsfile_parse_stop(b.data, b.len, &got), 0);
	assert_string_equal(got.vm, "work");
	assert_string_equal(got.cid, CID1);
	assert_string_equal(got.by, "alice");
	assert_int_not_equal(jobsfile_parse_stop("[2026-11-28T10:15:00Z] STOP "
		"vm=work id=" CID1 "\n", 62, &got), 0);
	buf_reset(&b);
	assert_int_equal(jobsfile_parse_stop(NULL, 0, &got), QR_ERR_INVALID);
	memcpy(s.by, "a\nb", 4);
	assert_int_equal(jobsfile_format_stop(&b, T0, &s), QR_ERR_INVALID);
	buf_release(&b);
}

static void
test_ids(void **state)
{
	struct jobs_entry e[3];
	struct jobs_list l = { .n = 3, .v = e };
	size_t i = 99;

	sample(&e[0], CID1, JOBS_RUNNING);   /* abcdef0123... */
	sample(&e[1], CID2, JOBS_QUEUED);    /* abcdef9876... */
	sample(&e[2], CID3, JOBS_ASKING);    /* 0123456789... */
	assert_string_equal(jobs_random_part(CID1), "abcdef0123456789");
	/* abcdef is shared: 7 digits tell them apart */
	assert_int_equal(jobs_short_len(&l), 7);
	assert_int_equal(jobs_match(&l, "abcdef0", &i), 0);
	assert_int_equal(i, 0);
	assert_int_equal(jobs_match(&l, "abcdef9", &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(jobs_match(&l, "abcdef", &i), QR_ERR_EXISTS);
	assert_int_equal(jobs_match(&l, "012345", &i), 0);
	assert_int_equal(i, 2);
	assert_int_equal(jobs_match(&l, CID2, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(jobs_match(&l, "fffff0", &i), QR_ERR_NOT_FOUND);
	assert_int_equal(jobs_match(&l, "20261128-101500-4242-ffffffffffff",
				    &i), QR_ERR_NOT_FOUND);
	/* too short, not hex, or a date prefix: no guesses */
	assert_int_equal(jobs_match(&l, "abc", &i), QR_ERR_INVALID);
	assert_int_equal(jobs_match(&l, "ABCDEF0", &i), QR_ERR_INVALID);
	assert_int_equal(jobs_match(&l, "20261128", &i), QR_ERR_NOT_FOUND);
	assert_int_equal(jobs_match(&l, "", &i), QR_ERR_INVALID);
	/* the same cid held for two VMs is ambiguous */
	memcpy(e[1].cid, CID1, sizeof(CID1));
	memcpy(e[1].vm, "other", 6);
	assert_int_equal(jobs_match(&l, CID1, &i), QR_ERR_EXISTS);
	assert_int_equal(jobs_short_len(&l), JOBS_ID_MIN);
	/* one entry: the minimum */
	l.n = 1;
	assert_int_equal(jobs_short_len(&l), JOBS_ID_MIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cmd_escaped),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
