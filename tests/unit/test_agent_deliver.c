/*
 * test_agent_deliver.c - dom0's deliver stream (daemon/program.c, agent
 * form) read by the agent: results published byte-exact only while their
 * claim is held, answered ok/gone, and input cut short or malformed
 * publishing nothing half.
 */
#include "deliver.h"
#include "program.h"
#include "queue.h"

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

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "tmptree.h"

#include "banned.h"

#define CID_A "20261128-101500-4242-0000000000000000000000000000000a"
#define CID_B "20261128-101501-4242-0000000000000000000000000000000b"
#define CLAIM_A "0a1b2c3d-7-0"
#define CLAIM_B "0a1b2c3d-7-1"

struct fx {
	char home[64];
	struct agent_queue q;
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

/* The stream for the first n items, as dom0 makes it, in small pieces. */
static void
make_stream(struct fx *f, size_t n)
{
	struct deliver_src src;
	int r;

	assert_int_equal(program_deliver_init(&src, "0a1b2c3d-9", f->items, n,
					      1), 0);
	do
		r = program_deliver_fill(&src, &f->stream, 3);
	while (r == 0);
	assert_int_equal(r, 1);
	program_deliver_release(&src);
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

static void
test_publish_and_gone(void **state)
{
	struct fx *f = *state;
	struct deliver_reply rep;
	struct buf b = BUF_INIT(4096);
	char path[2 * PATH_MAX];

	claim(f, CID_A, CLAIM_A);           /* B's claim is gone */
	make_stream(f, 2);
	assert_int_equal(deliver(f, 0), 0);
	assert_int_equal(frame_parse_deliver((const uint8_t *)f->reply, f->len,
					     &rep), 0);
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.e[0].status, DELIVER_OK);
	assert_int_equal(rep.e[1].status, DELIVER_GONE);
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
	assert_false(tmptree_exists(f->q.results, CID_B ".exit"));
	/* a repeat finds the marker gone and rewrites nothing */
	free(f->reply);
	f->reply = NULL;
	assert_int_equal(deliver(f, 0), 0);
	assert_non_null(strstr(f->reply, "gone " CID_A "\n"));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_and_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_publishes_nothing_half, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
