/*
 * test_daemon_program.c - the agent's command lines dom0 builds: every
 * value validated, the end mark last, and the longest (FETCH_HELD_MAX
 * releases of maximal ids) within AGENT_FETCH_CMD_MAX; and the sh deliver
 * program for VMs without the agent, run under dash and bash on a queue
 * of its own: notes (protocol.md 5b) next to results.
 */
#include "program.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "tmptree.h"
#include "vmlayout.h"

#include "banned.h"

/* The longest valid cid: date, time, a 10-digit pid, 32 hex digits. */
static void
long_cid(char out[CID_MAX + 1], unsigned i)
{
	snprintf(out, CID_MAX + 1, "20261128-101500-%010u-%032x", i, i);
	assert_int_equal(strlen(out), 59);
}

static void
test_fetch_line(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX);
	struct held_claim rel[1];
	struct fetch_params p = {
		.wait_s = 30, .claim_prefix = "0a1b2c3d-7", .max_requests = 32,
		.max_bytes = 4096, .release = rel, .nrelease = 0,
	};

	(void)state;
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent fetch "
			    "0a1b2c3d-7 30 32 4096 1 qvmr-end");
	buf_reset(&b);
	long_cid(rel[0].cid, 1);
	snprintf(rel[0].claim, sizeof(rel[0].claim), "deadbeef-3-0");
	p.nrelease = 1;
	p.peek = 1;
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_non_null(strstr(buf_str(&b), " 0 20261128-101500-0000000001-"));
	assert_non_null(strstr(buf_str(&b), " deadbeef-3-0 qvmr-end"));
	/* a release that is not a cid and a claim is refused */
	buf_reset(&b);
	snprintf(rel[0].cid, sizeof(rel[0].cid), "x;reboot");
	assert_int_equal(program_agent_fetch(&b, &p), QR_ERR_INVALID);
	p.nrelease = 0;
	p.claim_prefix = "0a1b2c3d";
	assert_int_equal(program_agent_fetch(&b, &p), QR_ERR_INVALID);
	buf_release(&b);
}

/* A session's first turn is its command line, the next ones are lines
 * on its input: the same arguments, validated the same way. */
static void
test_session_lines(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX + 2);
	struct fetch_params p = {
		.wait_s = 30, .claim_prefix = "0a1b2c3d-7", .max_requests = 32,
		.max_bytes = 4096,
	};

	(void)state;
	assert_int_equal(program_agent_session(&b, &p), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent session "
			    "0a1b2c3d-7 30 32 4096 1 qvmr-end");
	buf_reset(&b);
	assert_int_equal(program_agent_turn(&b, &p), 0);
	assert_string_equal(buf_str(&b), "fetch 0a1b2c3d-7 30 32 4096 1 "
			    "qvmr-end\n");
	buf_reset(&b);
	p.claim_prefix = "0a1b2c3d-7\nfetch";
	assert_int_equal(program_agent_turn(&b, &p), QR_ERR_INVALID);
	assert_int_equal(program_agent_session(&b, &p), QR_ERR_INVALID);
	buf_release(&b);
}

/* The longest line fits the buffer dom0 gives it (the kill storm found a
 * buffer that did not: the releases were lost, the claims stranded). */
static void
test_fetch_line_longest(void **state)
{
	struct buf b = BUF_INIT(AGENT_FETCH_CMD_MAX);
	struct held_claim rel[FETCH_HELD_MAX];
	struct fetch_params p = {
		.wait_s = 86400, .claim_prefix = "0a1b2c3d-4294967295",
		.max_requests = FETCH_REQ_MAX, .max_bytes = UINT64_MAX,
		.release = rel, .nrelease = FETCH_HELD_MAX,
	};

	(void)state;
	for (unsigned i = 0; i < FETCH_HELD_MAX; i++) {
		snprintf(rel[i].cid, sizeof(rel[i].cid),
			 "20261128-101500-%010u-%032x", 4000000000u + i, i);
		assert_int_equal(strlen(rel[i].cid), 59);
		snprintf(rel[i].claim, sizeof(rel[i].claim),
			 "deadbeef-%010u-%04u", 4000000000u + i, 9000 + i);
	}
	assert_int_equal(program_agent_fetch(&b, &p), 0);
	assert_true(b.len <= AGENT_FETCH_CMD_MAX);
	assert_non_null(strstr(buf_str(&b), " qvmr-end"));
	buf_release(&b);
}

static void
test_deliver_line(void **state)
{
	struct buf b = BUF_INIT(256);
	struct deliver_src s;

	(void)state;
	assert_int_equal(program_deliver_init(&s, "0a1b2c3d-9", NULL, 0, 1), 0);
	assert_int_equal(program_agent_deliver(&b, &s), 0);
	assert_string_equal(buf_str(&b), "exec qvm-remote-agent deliver "
			    "0a1b2c3d-9 qvmr-end");
	buf_reset(&b);
	/* no results: just the trailer */
	assert_int_equal(program_deliver_fill(&s, &b, 4096), 1);
	assert_string_equal(buf_str(&b), "end 0\n");
	assert_int_equal(program_deliver_init(&s, "0a1b;rm", NULL, 0, 1),
			 QR_ERR_INVALID);
	buf_release(&b);
}

#define SH_CID "20261128-101500-4242-0000000000000000000000000000000a"
#define SH_CID_B "20261128-101501-4242-0000000000000000000000000000000b"
#define SH_CLAIM "0a1b2c3d-7-0"
#define SH_NOTE "status=asking\nexit=0\nreason=waiting for approval in " \
	"dom0 (ask: /etc/qubes/remote-policy.d/30-agent.policy:7)\n" \
	"timeout_s=290\n"

struct shq {
	char home[64];
	char running[PATH_MAX], results[PATH_MAX];
	struct deliver_item it[2];
};

static void
sh_put(const char *dir, const char *name, const char *text, size_t n)
{
	assert_int_equal(write_file_atomic(dir, name, text, n, 0600, 0), 0);
}

/* A queue in a new home, the claim of SH_CID held, and two outbox
 * entries (SH_CID and SH_CID_B, whose claim is not held). */
static void
shq_make(struct shq *q)
{
	char name[CID_MAX + CLAIM_MAX + 8];

	assert_int_equal(tmptree_make(q->home, sizeof(q->home), "test_prog"), 0);
	snprintf(q->running, sizeof(q->running), "%s/" VM_DIR "/" VM_QUEUE
		 "/" VM_RUNNING, q->home);
	snprintf(q->results, sizeof(q->results), "%s/" VM_DIR "/" VM_QUEUE
		 "/" VM_RESULTS, q->home);
	assert_int_equal(mkdir_p(q->running, 0700), 0);
	snprintf(name, sizeof(name), "%s.auth.%s", SH_CID, SH_CLAIM);
	sh_put(q->running, name, "v2 x\n", 5);
	sh_put(q->running, SH_CID, "true\n", 5);
	for (int i = 0; i < 2; i++) {
		struct deliver_item *it = &q->it[i];
		memset(it, 0, sizeof(*it));
		snprintf(it->cid, sizeof(it->cid), "%s", i ? SH_CID_B : SH_CID);
		snprintf(it->claim, sizeof(it->claim), "%s", SH_CLAIM);
		snprintf(it->dir, sizeof(it->dir), "%s/outbox%d", q->home, i);
		assert_int_equal(mkdir_p(it->dir, 0700), 0);
	}
}

/* Item i: a note (asking) with out bytes of output, or a result. */
static void
shq_item(struct shq *q, int i, enum result_status st, size_t out)
{
	struct deliver_item *it = &q->it[i];
	const char *meta = st == RESULT_ASKING ? SH_NOTE
			   : "status=ok\nexit=0\n";

	it->status = st;
	sh_put(it->dir, "out", "abc", out);
	sh_put(it->dir, "err", "", 0);
	sh_put(it->dir, "meta", meta, strlen(meta));
}

/* Builds the sh deliver program for the first n items and runs it with
 * shell in q's home; its stdout into reply. */
static void
shq_run(struct shq *q, const char *shell, size_t n, struct buf *reply)
{
	struct buf prog = BUF_INIT(1u << 20);
	struct deliver_src src;
	char path[PATH_MAX], cmd[2 * PATH_MAX];
	FILE *p;
	size_t got;
	int r;

	assert_int_equal(program_deliver_init(&src, "0a1b2c3d-9", q->it, n, 0),
			 0);
	do
		r = program_deliver_fill(&src, &prog, 512);
	while (r == 0);
	assert_int_equal(r, 1);
	program_deliver_release(&src);
	snprintf(path, sizeof(path), "%s/prog.sh", q->home);
	sh_put(q->home, "prog.sh", prog.data, prog.len);
	snprintf(cmd, sizeof(cmd), "HOME='%s' %s '%s'", q->home, shell, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	buf_reset(reply);
	{
		char chunk[4096];
		got = fread(chunk, 1, sizeof(chunk), p);
		assert_int_equal(buf_append(reply, chunk, got), 0);
	}
	assert_int_equal(pclose(p), 0);
	buf_release(&prog);
}

static const char *const shells[] = { "dash", "bash" };

static int
have_shell(const char *shell)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", shell);
	return system(cmd) == 0;
}

/* The sh program writes a note only while the claim is held, to
 * running/<cid>.note, leaving the marker, results/ and audit.log; the
 * result that follows removes it. */
static void
test_sh_note_then_result(void **state)
{
	struct buf reply = BUF_INIT(8192), b = BUF_INIT(4096);
	char path[2 * PATH_MAX], marker[CID_MAX + CLAIM_MAX + 16];

	(void)state;
	for (size_t s = 0; s < sizeof(shells) / sizeof(*shells); s++) {
		struct shq q;
		if (!have_shell(shells[s]))
			continue;
		shq_make(&q);
		shq_item(&q, 0, RESULT_ASKING, 0);
		shq_item(&q, 1, RESULT_ASKING, 0);
		shq_run(&q, shells[s], 2, &reply);
		assert_string_equal(buf_str(&reply), "qvmr-deliver 1\nok " SH_CID
				    "\ngone " SH_CID_B "\ndone 2\n");
		snprintf(path, sizeof(path), "%s/%s.note", q.running, SH_CID);
		buf_reset(&b);
		assert_int_equal(read_file(path, &b), 0);
		assert_string_equal(buf_str(&b), SH_NOTE);
		snprintf(marker, sizeof(marker), "%s.auth.%s", SH_CID, SH_CLAIM);
		assert_true(tmptree_exists(q.running, marker));
		assert_true(tmptree_exists(q.running, SH_CID));
		assert_false(tmptree_exists(q.running, SH_CID_B ".note"));
		assert_false(tmptree_exists(q.results, SH_CID ".meta"));
		assert_false(tmptree_exists(q.results, SH_CID ".exit"));
		assert_false(tmptree_exists(q.home, VM_DIR "/" VM_AUDIT));
		/* the result: published, the note gone with the request, and
		 * live files an agent left before the VM lost it */
		assert_int_equal(write_file_atomic(q.running, SH_CID VM_LIVE_OUT,
						   "x", 1, 0600, 0), 0);
		assert_int_equal(write_file_atomic(q.running, SH_CID VM_LIVE_ERR,
						   "y", 1, 0600, 0), 0);
		shq_item(&q, 0, RESULT_OK, 3);
		shq_run(&q, shells[s], 1, &reply);
		assert_string_equal(buf_str(&reply), "qvmr-deliver 1\nok " SH_CID
				    "\ndone 1\n");
		assert_true(tmptree_exists(q.results, SH_CID ".exit"));
		assert_false(tmptree_exists(q.running, SH_CID ".note"));
		assert_false(tmptree_exists(q.running, SH_CID VM_LIVE_OUT));
		assert_false(tmptree_exists(q.running, SH_CID VM_LIVE_ERR));
		assert_false(tmptree_exists(q.running, marker));
		assert_true(tmptree_exists(q.home, VM_DIR "/" VM_AUDIT));
		/* the claim a deliver killed after its .exit left: the
		 * result is not written again, and the claim goes */
		sh_put(q.running, marker, "v2:x", 4);
		sh_put(q.running, SH_CID, "true\n", 5);
		shq_run(&q, shells[s], 1, &reply);
		assert_string_equal(buf_str(&reply), "qvmr-deliver 1\ngone "
				    SH_CID "\ndone 1\n");
		assert_false(tmptree_exists(q.running, marker));
		assert_false(tmptree_exists(q.running, SH_CID));
		snprintf(path, sizeof(path), "%s/" VM_DIR "/" VM_AUDIT, q.home);
		buf_reset(&b);
		assert_int_equal(read_file(path, &b), 0);
		{
			const char *r = strstr(buf_str(&b), "] RESULT id=");
			assert_non_null(r);
			assert_null(strstr(r + 1, "] RESULT id="));  /* once */
		}
		tmptree_remove(q.home);
	}
	buf_release(&reply);
	buf_release(&b);
}

/* A note with output is none dom0 makes: fail, nothing written, the
 * temporaries removed. */
static void
test_sh_note_with_output_refused(void **state)
{
	struct buf reply = BUF_INIT(8192);
	char marker[CID_MAX + CLAIM_MAX + 16];

	(void)state;
	for (size_t s = 0; s < sizeof(shells) / sizeof(*shells); s++) {
		struct shq q;
		char tmp[CID_MAX + CLAIM_MAX + 40];
		if (!have_shell(shells[s]))
			continue;
		shq_make(&q);
		shq_item(&q, 0, RESULT_ASKING, 3);
		shq_run(&q, shells[s], 1, &reply);
		assert_string_equal(buf_str(&reply), "qvmr-deliver 1\nfail "
				    SH_CID "\ndone 1\n");
		assert_false(tmptree_exists(q.running, SH_CID ".note"));
		snprintf(marker, sizeof(marker), "%s.auth.%s", SH_CID, SH_CLAIM);
		assert_true(tmptree_exists(q.running, marker));
		snprintf(tmp, sizeof(tmp), ".%s.%s.0a1b2c3d-9.meta", SH_CID,
			 SH_CLAIM);
		assert_false(tmptree_exists(q.results, tmp));
		tmptree_remove(q.home);
	}
	buf_release(&reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_line),
		cmocka_unit_test(test_session_lines),
		cmocka_unit_test(test_fetch_line_longest),
		cmocka_unit_test(test_deliver_line),
		cmocka_unit_test(test_sh_note_then_result),
		cmocka_unit_test(test_sh_note_with_output_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
