/*
 * test_agent_deliver.c - dom0's deliver stream (daemon/program.c, agent
 * form) read by the agent: results published byte-exact only while their
 * claim is held, answered ok/gone, and input cut short or malformed
 * publishing nothing half; a session's open stream, and a whole session
 * (agent/session.c) taking turns.
 */
#include "deliver.h"
#include "live.h"
#include "program.h"
#include "queue.h"
#include "session.h"

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "tmptree.h"

#include "banned.h"

#define CID_A "20261128-101500-4242-0000000000000000000000000000000a"
#define CID_B "20261128-101501-4242-0000000000000000000000000000000b"
#define CLAIM_A "0a1b2c3d-7-0"
#define CLAIM_B "0a1b2c3d-7-1"

struct fx {
	char home[64];
	struct vm_layout q;
	struct deliver_item items[2];
	struct buf stream;
	char *reply;
	size_t len;
};

static void
put(const char *dir, const char *name, const void *p, size_t n)
{
	assert_int_equal(write_file_atomic(dir, name, p, n, 0600, 0), 0);
}

static int
setup(void **state)
{
	static const char bin[] = { 'o', 0, 'u', '\n', 't', (char)0xff };
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tmptree_make(f->home, sizeof(f->home), "test_agent"), 0);
	assert_int_equal(setenv("HOME", f->home, 1), 0);
	assert_int_equal(queue_init(&f->q), 0);
	assert_int_equal(mkdir_p(f->q.running, 0700), 0);
	/* dom0's outbox: item A with binary output, item B empty */
	for (int i = 0; i < 2; i++) {
		struct deliver_item *it = &f->items[i];
		snprintf(it->cid, sizeof(it->cid), "%s", i ? CID_B : CID_A);
		snprintf(it->claim, sizeof(it->claim), "%s", i ? CLAIM_B : CLAIM_A);
		it->exit_code = i ? 0 : 3;
		it->status = RESULT_OK;
		snprintf(it->dir, sizeof(it->dir), "%s/outbox%d", f->home, i);
		assert_int_equal(mkdir_p(it->dir, 0700), 0);
		put(it->dir, "out", bin, i ? 0 : sizeof(bin));
		put(it->dir, "err", "e\n", i ? 0 : 2);
		put(it->dir, "meta", "status=ok\n", 10);
	}
	buf_init(&f->stream, 1u << 20);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmptree_remove(f->home);
	buf_release(&f->stream);
	free(f->reply);
	free(f);
	return 0;
}

static void
claim(struct fx *f, const char *cid, const char *claim_id)
{
	char name[CID_MAX + CLAIM_MAX + 8];

	snprintf(name, sizeof(name), "%s.auth.%s", cid, claim_id);
	put(f->q.running, name, "v2:x", 4);
	put(f->q.running, cid, "true\n", 5);
}

/* The stream for the first n items, as dom0 makes it for an agent of
 * level, in small pieces; with log, anchored to it. */
static void
make_stream_for(struct fx *f, size_t n, int level, const struct audit *log)
{
	struct deliver_src src;
	int r;

	assert_int_equal(program_deliver_init(&src, "0a1b2c3d-9", f->items, n,
					      level), 0);
	program_deliver_anchor(&src, log);
	do
		r = program_deliver_fill(&src, &f->stream, 3);
	while (r == 0);
	assert_int_equal(r, 1);
	program_deliver_release(&src);
}

static void
make_stream(struct fx *f, size_t n)
{
	make_stream_for(f, n, 1, NULL);
}

static int
deliver(struct fx *f, size_t cut)
{
	FILE *in = fmemopen(f->stream.data, f->stream.len - cut, "r");
	FILE *out = open_memstream(&f->reply, &f->len);
	int r;

	assert_non_null(in);
	assert_non_null(out);
	r = deliver_run(&f->q, "0a1b2c3d-9", in, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	return r;
}

/* Moves results/<cid>.exit to history/<day>/<cid>/exit, as a client
 * archives a result. */
static void
to_history(struct fx *f, const char *day, const char *cid)
{
	char from[2 * PATH_MAX], to[2 * PATH_MAX];

	snprintf(to, sizeof(to), "%s/%s/%s", f->q.history, day, cid);
	assert_int_equal(mkdir_p(to, 0700), 0);
	snprintf(to, sizeof(to), "%s/%s/%s/exit", f->q.history, day, cid);
	snprintf(from, sizeof(from), "%s/%s.exit", f->q.results, cid);
	assert_int_equal(rename(from, to), 0);
}

static void
test_publish_and_gone(void **state)
{
	struct fx *f = *state;
	struct deliver_reply rep;
	struct buf b = BUF_INIT(4096);
	char path[2 * PATH_MAX];

	/* B's claim marker was removed in the VM (the original client's
	 * sweep, its queue clean): it still gets its result */
	claim(f, CID_A, CLAIM_A);
	make_stream(f, 2);
	assert_int_equal(deliver(f, 0), 0);
	assert_int_equal(frame_parse_deliver((const uint8_t *)f->reply, f->len,
					     &rep), 0);
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.e[0].status, DELIVER_OK);
	assert_int_equal(rep.e[1].status, DELIVER_OK);
	snprintf(path, sizeof(path), "%s/%s.out", f->q.results, CID_A);
	assert_int_equal(read_file(path, &b), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "o\0u\nt\xff", 6);
	buf_reset(&b);
	snprintf(path, sizeof(path), "%s/%s.exit", f->q.results, CID_A);
	assert_int_equal(read_file(path, &b), 0);
	assert_string_equal(buf_str(&b), "3\n");
	buf_reset(&b);
	assert_int_equal(read_file(f->q.audit, &b), 0);
	assert_non_null(strstr(buf_str(&b), "RESULT id=" CID_A " status=ok exit=3"));
	buf_release(&b);
	assert_true(tmptree_exists(f->q.results, CID_A ".meta"));
	assert_false(tmptree_exists(f->q.running, CID_A));
	assert_false(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	assert_true(tmptree_exists(f->q.results, CID_B ".exit"));
	/* a repeat (an answer lost) finds the markers gone and the results
	 * in the VM, moved to history/ by their clients: A's under its
	 * cid's day (this client), B's under another (the original client,
	 * by its clock): both "gone", nothing rewritten */
	to_history(f, "2026-11-28", CID_A);
	to_history(f, "2020-01-02", CID_B);
	free(f->reply);
	f->reply = NULL;
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "gone " CID_A "\n"));
	assert_non_null(strstr(f->reply, "gone " CID_B "\n"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_false(tmptree_exists(f->q.results, CID_B ".exit"));
	/* a marker a deliver killed after publishing left behind: the
	 * result is not written again, and the marker goes */
	claim(f, CID_A, CLAIM_A);
	free(f->reply);
	f->reply = NULL;
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "gone " CID_A "\n"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_false(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	assert_false(tmptree_exists(f->q.running, CID_A));
}

static void
test_cut_short_publishes_nothing_half(void **state)
{
	struct fx *f = *state;
	DIR *d;
	struct dirent *de;

	claim(f, CID_A, CLAIM_A);
	make_stream(f, 1);
	/* cut inside A's bytes: no result, no temporaries, no "done" */
	assert_int_equal(deliver(f, 20), QR_ERR_INCOMPLETE);
	assert_null(strstr(f->reply, "done"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_true(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	d = opendir(f->q.results);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		assert_true(strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0);
	closedir(d);
	/* cut in the trailer: A was whole, so it is published, but the reply
	 * has no "done" and dom0 will deliver again (and hear "gone") */
	free(f->reply);
	f->reply = NULL;
	assert_int_equal(deliver(f, 3), QR_ERR_INVALID);
	assert_true(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_null(strstr(f->reply, "done"));
}

static void
test_malformed_lines(void **state)
{
	static const char *const bad[] = {
		"item " CID_A " " CLAIM_A " 0 ok 1 1\n",          /* a size short */
		"item ../x " CLAIM_A " 0 ok 0 0 0\nend 1\n",    /* not a cid */
		"item " CID_A " " CLAIM_A " 0x ok 0 0 0\nend 1\n",
		"item " CID_A " " CLAIM_A " 0 OK 0 0 0\nend 1\n",
		"end 0",                                          /* no newline */
		"bogus\n",
		/* level 3's anchor: digits ':' 32 hex, one field at most */
		"item " CID_A " " CLAIM_A " 0 ok 0 0 0 7:zz\nend 1\n",
		"item " CID_A " " CLAIM_A " 0 ok 0 0 0 7\nend 1\n",
		"item " CID_A " " CLAIM_A " 0 ok 0 0 0 "
		"7:0123456789abcdef0123456789abcdef x\nend 1\n",
		"item " CID_A " " CLAIM_A " 0 ok 0 0 0 "
		"7:0123456789abcdef0123456789abcdef0\nend 1\n",
	};
	struct fx *f = *state;

	claim(f, CID_A, CLAIM_A);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		buf_reset(&f->stream);
		assert_int_equal(buf_append_str(&f->stream, bad[i]), 0);
		free(f->reply);
		f->reply = NULL;
		assert_int_not_equal(deliver(f, 0), 0);
		assert_null(strstr(f->reply, "done"));
	}
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	/* a wrong count: the whole item is published, the reply not ended */
	buf_reset(&f->stream);
	assert_int_equal(buf_append_str(&f->stream, "item " CID_A " " CLAIM_A
					" 0 ok 0 0 0\nend 2\n"), 0);
	free(f->reply);
	f->reply = NULL;
	assert_int_equal(deliver(f, 0), QR_ERR_INVALID);
	assert_null(strstr(f->reply, "done"));
	assert_true(deliver_nonce_valid("0a1b2c3d-9"));
	assert_false(deliver_nonce_valid("../x"));
	assert_false(deliver_nonce_valid(""));
}

/* Level 3: each result carries where dom0's log stood into the VM's
 * audit.log (the anchor audit verify --anchors reads); an agent of an
 * older level is sent the item line it knows. */
static void
test_anchor_reaches_audit_log(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT(4096), line = BUF_INIT(256);
	struct audit log;
	struct audit_anchor an;
	char logpath[PATH_MAX], statedir[PATH_MAX], want[128];

	snprintf(logpath, sizeof(logpath), "%s/dom0.log", f->home);
	snprintf(statedir, sizeof(statedir), "%s/dom0-state", f->home);
	assert_int_equal(audit_open(&log, logpath, statedir), 0);
	assert_int_equal(buf_append_str(&line, "[x] DONE vm=work"), 0);
	assert_int_equal(audit_write(&log, &line), 0);
	audit_anchor(&log, &an);
	assert_int_equal(an.seq, 2);

	make_stream_for(f, 1, AGENT_SESSION, &log);
	assert_null(strstr(buf_str(&f->stream), an.seal));
	buf_reset(&f->stream);
	make_stream_for(f, 1, AGENT_ANCHOR, &log);
	snprintf(want, sizeof(want), " 6 2 10 2:%s\n", an.seal);
	assert_non_null(strstr(buf_str(&f->stream), want));

	claim(f, CID_A, CLAIM_A);
	assert_int_equal(deliver(f, 0), 0);
	assert_int_equal(read_file(f->q.audit, &b), 0);
	snprintf(want, sizeof(want), " exit=3 dom0-log=2:%s\n", an.seal);
	assert_non_null(strstr(buf_str(&b), want));
	audit_close(&log);
	buf_release(&b);
	buf_release(&line);
}

/* A session's stream stays open: nothing while it waits, each item as it
 * is added, and after the close "end N" and the next turn. */
static void
test_open_stream(void **state)
{
	static const char tail[] = "end 2\nfetch x qvmr-end\n";
	struct fx *f = *state;
	struct deliver_src src;
	size_t mark;
	int r;

	assert_int_equal(program_deliver_init(&src, "0a1b2c3d-9", f->items, 0,
					      1), 0);
	program_deliver_open(&src);
	assert_false(program_deliver_waiting(&src));    /* not yet begun */
	assert_int_equal(program_deliver_fill(&src, &f->stream, 4096),
			 PROGRAM_WAITING);
	assert_int_equal(f->stream.len, 0);
	assert_true(program_deliver_waiting(&src));
	program_deliver_add(&src, f->items, 1);
	assert_false(program_deliver_waiting(&src));
	do
		r = program_deliver_fill(&src, &f->stream, 3);
	while (r == 0);
	assert_int_equal(r, PROGRAM_WAITING);
	assert_true(f->stream.len > 0);
	assert_memory_equal(f->stream.data, "item " CID_A " " CLAIM_A " 3 ok ",
			    strlen("item " CID_A " " CLAIM_A " 3 ok "));
	mark = f->stream.len;
	program_deliver_add(&src, f->items, 2);
	assert_int_equal(program_deliver_close(&src, "fetch x qvmr-end\n"), 0);
	do
		r = program_deliver_fill(&src, &f->stream, 3);
	while (r == 0);
	assert_int_equal(r, 1);
	assert_non_null(memmem(f->stream.data + mark, f->stream.len - mark,
			       "item " CID_B " ", strlen("item " CID_B " ")));
	assert_true(f->stream.len > strlen(tail));
	assert_memory_equal(f->stream.data + f->stream.len - strlen(tail),
			    tail, strlen(tail));
	program_deliver_release(&src);
	/* the agent reads it as one deliver, the next turn left unread */
	claim(f, CID_A, CLAIM_A);
	claim(f, CID_B, CLAIM_B);
	assert_int_equal(deliver(f, strlen("fetch x qvmr-end\n")), 0);
	assert_true(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_true(tmptree_exists(f->q.results, CID_B ".exit"));
}

/* An open stream that is closed with nothing in it: "end 0" alone. */
static void
test_open_stream_empty(void **state)
{
	struct fx *f = *state;
	struct deliver_src src;

	assert_int_equal(program_deliver_init(&src, "0a1b2c3d-9", f->items, 0,
					      1), 0);
	program_deliver_open(&src);
	assert_int_equal(program_deliver_fill(&src, &f->stream, 64),
			 PROGRAM_WAITING);
	assert_int_equal(program_deliver_close(&src, NULL), 0);
	assert_int_equal(program_deliver_fill(&src, &f->stream, 64), 1);
	assert_int_equal(f->stream.len, 6);
	assert_memory_equal(f->stream.data, "end 0\n", 6);
	program_deliver_release(&src);
}

/* Runs a session on f->stream as its input from a first turn with
 * PREFIX, into f->reply; returns session_run's result. */
static int
session(struct fx *f, const char *prefix)
{
	char *argv[] = { (char *)prefix, "0", "32", "1048576", "1", NULL };
	struct fetch_args a;
	FILE *in = fmemopen(f->stream.data, f->stream.len, "r");
	FILE *out;
	int r;

	free(f->reply);
	f->reply = NULL;
	out = open_memstream(&f->reply, &f->len);
	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(fetch_args_parse(&a, 5, argv), 0);
	r = session_run(&f->q, &a, in, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	return r;
}

/* Two turns: the first claims the request A, its result comes back in
 * the same session, the second finds nothing; the end of input after a
 * deliver is a clean end. */
static void
test_session_turns(void **state)
{
	static const char token[] = "v2 0123456789abcdef0123456789abcdef"
				    "0123456789abcdef0123456789abcdef\n";
	struct fx *f = *state;
	struct fetch_reply *fr = malloc(sizeof(*fr));
	struct deliver_reply dr;
	size_t span, at;

	assert_non_null(fr);
	assert_int_equal(mkdir_p(f->q.pending, 0700), 0);
	put(f->q.pending, CID_A, "true\n", 5);
	put(f->q.pending, CID_A ".auth", token, strlen(token));
	make_stream(f, 1);          /* A, with the claim "0a1b2c3d-7-0" */
	assert_int_equal(buf_append_str(&f->stream,
		"fetch 0a1b2c3d-8 0 32 1048576 1 qvmr-end\nend 0\n"), 0);
	assert_int_equal(session(f, "0a1b2c3d-7"), 0);
	/* turn 1: the fetch reply with A, then its deliver reply */
	at = (size_t)(strstr(f->reply, "qvmr-deliver 1\n") - f->reply);
	assert_int_equal(frame_parse_fetch((const uint8_t *)f->reply, at, fr), 0);
	assert_int_equal(fr->agent, AGENT_LEVEL);
	assert_int_equal(fr->n, 1);
	assert_string_equal(fr->req[0].claim, CLAIM_A);
	span = frame_deliver_span((const uint8_t *)f->reply + at, f->len - at);
	assert_int_equal(frame_parse_deliver((const uint8_t *)f->reply + at,
					     span, &dr), 0);
	assert_int_equal(dr.n, 1);
	assert_int_equal(dr.e[0].status, DELIVER_OK);
	assert_true(tmptree_exists(f->q.results, CID_A ".exit"));
	/* turn 2: nothing to fetch, an empty deliver */
	at += span;
	assert_string_equal(f->reply + at, "qvmr-fetch 1\nagent 6\ndone 0\n"
			    "qvmr-deliver 1\ndone 0\n");
	/* input that ends right after a fetch is a clean end too */
	buf_reset(&f->stream);
	assert_int_equal(session(f, "0a1b2c3d-9"), 0);
	assert_string_equal(f->reply, "qvmr-fetch 1\nagent 6\ndone 0\n");
	free(fr);
}

/* A next turn the session does not accept ends it with 2, a deliver
 * cut short with 1. */
static void
test_session_refusals(void **state)
{
	static const char *const bad[] = {
		"fetch 0a1b2c3d-8 0 32 1048576 1\n",             /* no end */
		"fetch ../x 0 32 1048576 1 qvmr-end\n",
		"deliver 0a1b2c3d-8 qvmr-end\n",
		"fetch 0a1b2c3d-8 0 32 1048576 1 qvmr-end",       /* no \n */
		"\n",
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		buf_reset(&f->stream);
		assert_int_equal(buf_printf(&f->stream, "end 0\n%s", bad[i]), 0);
		assert_int_equal(session(f, "0a1b2c3d-7"), 2);
	}
	buf_reset(&f->stream);
	assert_int_equal(buf_append_str(&f->stream, "item x"), 0);
	assert_int_equal(session(f, "0a1b2c3d-7"), 1);
}

#define NOTE_ASKING "status=asking\nexit=0\nreason=waiting for approval " \
	"in dom0 (ask: /etc/qubes/remote-policy.d/30-agent.policy:7)\n" \
	"timeout_s=290\n"

/* Makes item i a note of status st with text meta and out bytes of
 * output (a note has none: refused). */
static void
make_note(struct fx *f, int i, enum result_status st, const char *meta,
	  size_t out)
{
	struct deliver_item *it = &f->items[i];

	it->status = st;
	it->exit_code = 0;
	put(it->dir, "out", "xyz", out);
	put(it->dir, "err", "", 0);
	put(it->dir, "meta", meta, strlen(meta));
}

static void
reply_fresh(struct fx *f)
{
	free(f->reply);
	f->reply = NULL;
	buf_reset(&f->stream);
}

/* Level 4: a note is written to running/<cid>.note while the claim is
 * held, the marker, results/ and audit.log left alone; without the
 * marker it is gone; the result that follows removes it. */
static void
test_note_written_then_removed(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT(4096);
	char path[2 * PATH_MAX];

	claim(f, CID_A, CLAIM_A);           /* B's claim is gone */
	make_note(f, 0, RESULT_ASKING, NOTE_ASKING, 0);
	make_note(f, 1, RESULT_ASKING, NOTE_ASKING, 0);
	make_stream_for(f, 2, AGENT_NOTES, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_non_null(strstr(f->reply, "gone " CID_B "\n"));
	snprintf(path, sizeof(path), "%s/%s.note", f->q.running, CID_A);
	assert_int_equal(read_file(path, &b), 0);
	assert_string_equal(buf_str(&b), NOTE_ASKING);
	assert_true(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	assert_true(tmptree_exists(f->q.running, CID_A));
	assert_false(tmptree_exists(f->q.running, CID_B ".note"));
	assert_false(tmptree_exists(f->q.results, CID_A ".meta"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_false(tmptree_exists(f->home, ".qvm-remote/audit.log"));
	/* the next note replaces it */
	reply_fresh(f);
	make_note(f, 0, RESULT_APPROVED, "status=approved\nexit=0\n"
		  "reason=approved in dom0\n", 0);
	make_stream_for(f, 1, AGENT_NOTES, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	buf_reset(&b);
	assert_int_equal(read_file(path, &b), 0);
	assert_non_null(strstr(buf_str(&b), "status=approved\n"));
	/* the result: published, the note removed with the request */
	reply_fresh(f);
	f->items[0].status = RESULT_OK;
	put(f->items[0].dir, "meta", "status=ok\nexit=0\n", 17);
	make_stream_for(f, 1, AGENT_NOTES, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_true(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_false(tmptree_exists(f->q.running, CID_A ".note"));
	assert_false(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	buf_release(&b);
}

/* A note with output is no note dom0 makes: "fail", nothing written,
 * and the stream stays in step for the next item. */
static void
test_note_with_output_refused(void **state)
{
	struct fx *f = *state;

	claim(f, CID_A, CLAIM_A);
	claim(f, CID_B, CLAIM_B);
	make_note(f, 0, RESULT_ASKING, NOTE_ASKING, 3);
	make_note(f, 1, RESULT_ASKING, NOTE_ASKING, 0);
	make_stream_for(f, 2, AGENT_NOTES, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "fail " CID_A "\n"));
	assert_non_null(strstr(f->reply, "ok " CID_B "\n"));
	assert_false(tmptree_exists(f->q.running, CID_A ".note"));
	assert_true(tmptree_exists(f->q.running, CID_B ".note"));
	assert_true(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
}

/* dom0's log, for the anchor a result that continues live files needs */
static void
open_log(struct fx *f, struct audit *log)
{
	char logpath[PATH_MAX], statedir[PATH_MAX];

	snprintf(logpath, sizeof(logpath), "%s/dom0.log", f->home);
	snprintf(statedir, sizeof(statedir), "%s/dom0-state", f->home);
	assert_int_equal(audit_open(log, logpath, statedir), 0);
}

/* Item i as a live part of its outbox files: [from, from + len) of each. */
static void
make_live(struct fx *f, int i, uint64_t out_from, uint64_t out_len,
	  uint64_t err_from, uint64_t err_len)
{
	struct deliver_item *it = &f->items[i];

	it->live = 1;
	it->from[0] = out_from;
	it->len[0] = out_len;
	it->from[1] = err_from;
	it->len[1] = err_len;
}

static void
assert_file(const char *dir, const char *name, const void *p, size_t n)
{
	struct buf b = BUF_INIT(1u << 20);
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(read_file(path, &b), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, p, n);
	buf_release(&b);
}

/* Level 5: live parts extend running/<cid>.out and .err by offset; a part
 * sent again writes nothing twice, a gap is refused and the stream stays
 * in step, a part of a request no longer held is gone. */
static void
test_live_parts_appended_once(void **state)
{
	struct fx *f = *state;

	claim(f, CID_A, CLAIM_A);           /* B's claim is gone */
	make_live(f, 0, 0, 3, 0, 2);
	make_live(f, 1, 0, 0, 0, 0);
	make_stream_for(f, 2, AGENT_LIVE, NULL);
	assert_non_null(strstr(buf_str(&f->stream),
			       "live " CID_A " " CLAIM_A " 0 3 0 2\n"));
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_non_null(strstr(f->reply, "gone " CID_B "\n"));
	assert_file(f->q.running, CID_A ".out", "o\0u", 3);
	assert_file(f->q.running, CID_A ".err", "e\n", 2);
	assert_false(tmptree_exists(f->q.running, CID_B ".out"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	/* the same part again, then one that overlaps it */
	reply_fresh(f);
	make_stream_for(f, 1, AGENT_LIVE, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_file(f->q.running, CID_A ".out", "o\0u", 3);
	reply_fresh(f);
	make_live(f, 0, 1, 5, 2, 0);
	make_stream_for(f, 1, AGENT_LIVE, NULL);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_file(f->q.running, CID_A ".out", "o\0u\nt\xff", 6);
	assert_file(f->q.running, CID_A ".err", "e\n", 2);
	/* a part that starts past what the VM holds, then one in step */
	reply_fresh(f);
	assert_int_equal(buf_append_str(&f->stream, "live " CID_A " " CLAIM_A
					" 9 2 0 0\nXYlive " CID_A " " CLAIM_A
					" 0 0 2 0\nend 2\n"), 0);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "fail " CID_A "\nok " CID_A "\n"));
	assert_file(f->q.running, CID_A ".out", "o\0u\nt\xff", 6);
}

/* Two sessions writing one span at once: the one dom0 gave up on has
 * looked at the file and still reads its input when the next one writes
 * the span whole.  Its bytes land where they belong, not after. */
struct stale_session {
	struct fx *f;
	const struct agentwire_live *l;
	const char *bytes;
	size_t n, pos;
};

static ssize_t
stale_read(void *cookie, char *p, size_t want)
{
	struct stale_session *s = cookie;
	size_t k = s->n - s->pos < want ? s->n - s->pos : want;
	int r;

	if (s->pos == 0) {      /* meanwhile, the next session */
		FILE *in = fmemopen((void *)s->bytes, s->n, "r");
		assert_non_null(in);
		assert_int_equal(live_part(in, &s->f->q, s->l, &r),
				 DELIVER_OK);
		assert_int_equal(r, 0);
		fclose(in);
	}
	memcpy(p, s->bytes + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

static void
test_live_span_of_two_sessions_lands_once(void **state)
{
	struct fx *f = *state;
	struct agentwire_live l = { .from = { 0, 0 }, .len = { 5, 0 } };
	struct stale_session s = { f, &l, "hello", 5, 0 };
	cookie_io_functions_t io = { .read = stale_read };
	FILE *in;
	int r;

	claim(f, CID_A, CLAIM_A);
	snprintf(l.cid, sizeof(l.cid), "%s", CID_A);
	snprintf(l.claim, sizeof(l.claim), "%s", CLAIM_A);
	in = fopencookie(&s, "r", io);
	assert_non_null(in);
	assert_int_equal(live_part(in, &f->q, &l, &r), DELIVER_OK);
	fclose(in);
	assert_file(f->q.running, CID_A ".out", "hello", 5);
}

/* A result that continues the live files takes their bytes and what
 * follows, whatever the live file already holds past its offset; the live
 * files go with the request; a repeat is gone and rewrites nothing. */
static void
test_result_continues_live(void **state)
{
	struct fx *f = *state;
	struct audit log;

	open_log(f, &log);
	claim(f, CID_A, CLAIM_A);
	make_live(f, 0, 0, 6, 0, 1);        /* the VM holds all of stdout */
	make_stream_for(f, 1, AGENT_LIVE, NULL);
	assert_int_equal(deliver(f, 0), 0);
	reply_fresh(f);
	f->items[0].live = 0;               /* dom0 knows of 3 and 1 */
	f->items[0].from[0] = 3;
	f->items[0].from[1] = 1;
	make_stream_for(f, 1, AGENT_NOTES, &log);   /* an older agent: whole */
	assert_null(strstr(buf_str(&f->stream), " 3 1\n"));
	buf_reset(&f->stream);
	make_stream_for(f, 1, AGENT_LIVE, &log);
	assert_non_null(strstr(buf_str(&f->stream), " 3 1 10 "));
	assert_non_null(strstr(buf_str(&f->stream), " 3 1\n"));
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_file(f->q.results, CID_A ".out", "o\0u\nt\xff", 6);
	assert_file(f->q.results, CID_A ".err", "e\n", 2);
	assert_file(f->q.results, CID_A ".exit", "3\n", 2);
	assert_false(tmptree_exists(f->q.running, CID_A ".out"));
	assert_false(tmptree_exists(f->q.running, CID_A ".err"));
	assert_false(tmptree_exists(f->q.running, CID_A ".auth." CLAIM_A));
	reply_fresh(f);
	make_stream_for(f, 1, AGENT_LIVE, &log);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "gone " CID_A "\n"));
	assert_file(f->q.results, CID_A ".out", "o\0u\nt\xff", 6);
	audit_close(&log);
}

/* A result that continues more than the VM holds fails and publishes
 * nothing; the live file stays for the retry, which dom0 sends whole. */
static void
test_result_past_live_fails(void **state)
{
	struct fx *f = *state;
	struct audit log;

	open_log(f, &log);
	claim(f, CID_A, CLAIM_A);
	make_live(f, 0, 0, 2, 0, 0);
	make_stream_for(f, 1, AGENT_LIVE, NULL);
	assert_int_equal(deliver(f, 0), 0);
	reply_fresh(f);
	f->items[0].live = 0;
	f->items[0].from[0] = 4;
	f->items[0].from[1] = 0;
	make_stream_for(f, 1, AGENT_LIVE, &log);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "fail " CID_A "\n"));
	assert_false(tmptree_exists(f->q.results, CID_A ".exit"));
	assert_file(f->q.running, CID_A ".out", "o\0", 2);
	reply_fresh(f);
	f->items[0].from[0] = 0;
	make_stream_for(f, 1, AGENT_LIVE, &log);
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "ok " CID_A "\n"));
	assert_file(f->q.results, CID_A ".out", "o\0u\nt\xff", 6);
	assert_false(tmptree_exists(f->q.running, CID_A ".out"));
	audit_close(&log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_anchor_reaches_audit_log,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_and_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_publishes_nothing_half, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_stream_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_turns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_written_then_removed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_with_output_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_live_span_of_two_sessions_lands_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_live_parts_appended_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_continues_live,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_past_live_fails,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
