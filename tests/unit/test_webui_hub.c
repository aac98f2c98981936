/*
 * test_webui_hub.c - the shared ring stays within its bounds however much
 * is written, the chain status tells an edit from an intact log, and a
 * started hub turns a log file into lines, a summary and a chain state.
 */
#include "hub.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "audit.h"
#include "chain.h"
#include "err.h"
#include "logline.h"
#include "banned.h"

struct fx {
	char dir[64];
	char path[128];
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-hub-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/qvm-remote.log", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* n command lines through the daemon's audit code. */
static void
write_lines(const char *path, unsigned n)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	struct audit a;
	unsigned i;

	char state[512];

	snprintf(state, sizeof(state), "%s.state", path);
	assert_int_equal(audit_open(&a, path, state), 0);
	for (i = 0; i < n; i++) {
		buf_reset(&line);
		assert_int_equal(logline_begin(&line, time(NULL) - 60,
					       i % 2 ? "DONE" : "EXEC"), 0);
		assert_int_equal(logline_kvs(&line, "vm", "work"), 0);
		if (i % 2)
			assert_int_equal(logline_kvu(&line, "ms", 10 + i), 0);
		assert_int_equal(audit_write(&a, &line), 0);
	}
	audit_close(&a);
	buf_release(&line);
}

static void
test_ring_line_bound(void **state)
{
	static struct hub h;
	char text[32];
	unsigned i;

	assert_int_equal(hub_init_ring(&h), 0);
	assert_int_equal(hub_oldest(&h), 1);
	assert_null(hub_entry(&h, 1));
	for (i = 1; i <= HUB_LINES_MAX + 500; i++) {
		snprintf(text, sizeof(text), "line %u", i);
		assert_int_equal(hub_ring_add(&h, RING_LINE, i, text,
					      strlen(text)), 0);
	}
	assert_int_equal(h.n, HUB_LINES_MAX);
	assert_int_equal(hub_oldest(&h), 501);
	assert_null(hub_entry(&h, 500));
	assert_null(hub_entry(&h, HUB_LINES_MAX + 501));
	assert_string_equal(hub_entry(&h, 501)->text, "line 501");
	assert_int_equal(hub_entry(&h, 501)->lineno, 501);
	assert_string_equal(hub_entry(&h, HUB_LINES_MAX + 500)->text,
			    "line 2500");
	hub_release_ring(&h);
}

/* test_ring_byte_bound: long lines cannot make the ring hold more */
static void
test_ring_byte_bound(void **state)
{
	static struct hub h;
	char *big = malloc(LOGPARSE_LINE_MAX + 100);
	unsigned i;

	assert_non_null(big);
	memset(big, 'x', LOGPARSE_LINE_MAX + 100);
	assert_int_equal(hub_init_ring(&h), 0);
	for (i = 0; i < 300; i++)
		assert_int_equal(hub_ring_add(&h, RING_LINE, i + 1, big,
					      LOGPARSE_LINE_MAX + 100), 0);
	assert_true(h.bytes <= HUB_BYTES_MAX);
	assert_int_equal(h.n, HUB_BYTES_MAX / LOGPARSE_LINE_MAX);
	assert_int_equal(hub_entry(&h, 300)->len, LOGPARSE_LINE_MAX);
	hub_release_ring(&h);
	free(big);
}

static void
test_chain_states(void **state)
{
	struct fx *f = *state;
	struct chain_status st;
	struct buf j = BUF_INIT(4096);
	char *text;
	FILE *fp;
	long size;

	assert_int_equal(chain_check(f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_MISSING);

	fclose(fopen(f->path, "w"));
	assert_int_equal(chain_check(f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_EMPTY);

	write_lines(f->path, 5);    /* and the seal-start line */
	assert_int_equal(chain_check(f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_OK);
	assert_int_equal(st.lines, 6);
	assert_int_equal(chain_json(&st, &j), 0);
	assert_non_null(strstr(j.data, "{\"state\":\"ok\",\"lines\":6,\"bad\":0,"));
	assert_non_null(strstr(j.data, ",\"error\":\"\"}"));

	/* an edit in line 4 (the first EXEC from line 3 on) */
	fp = fopen(f->path, "r+");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	text = calloc(1, (size_t)size + 1);
	fseek(fp, 0, SEEK_SET);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	*strstr(strchr(strchr(text, '\n') + 1, '\n') + 1, "EXEC") = 'X';
	fseek(fp, 0, SEEK_SET);
	assert_int_equal(fwrite(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	free(text);
	assert_int_equal(chain_check(f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_BROKEN);
	assert_int_equal(st.bad, 4);
	buf_reset(&j);
	assert_int_equal(chain_json(&st, &j), 0);
	assert_non_null(strstr(j.data, "{\"state\":\"broken\",\"lines\":4,"
			       "\"bad\":4,"));

	assert_int_equal(chain_check(f->dir, &st), 0);
	assert_int_equal(st.state, CHAIN_ERROR);
	buf_reset(&j);
	assert_int_equal(chain_json(&st, &j), 0);
	assert_non_null(strstr(j.data, "\"error\":\"not a regular file\"}"));
	buf_release(&j);
}

/* Waits up to 5 s for cond(h) with the lock held. */
static int
wait_until(struct hub *h, int (*cond)(struct hub *))
{
	int i, ok = 0;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < 50 && !(ok = cond(h)); i++)
		(void)hub_wait(h, 100);
	pthread_mutex_unlock(&h->lock);
	return ok;
}

/* 4 + 2 lines and the one that started the seal */
static int
has_six_lines(struct hub *h)
{
	return h->next_seq == 8;
}

static int
chain_ok_six(struct hub *h)
{
	return strstr(buf_str(&h->chain_json), "\"state\":\"ok\",\"lines\":7,")
	       != NULL;
}

static int
summary_counts(struct hub *h)
{
	return strstr(buf_str(&h->summary_json), "\"totals\":{\"commands\":3,")
	       != NULL;
}

/* Appends text to the file as it is, as an attacker's editor would. */
static void
append_raw(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * Changes the first "DONE" in path to "XONE" in place (same size, same
 * inode) and puts its mtime back, as someone covering their tracks would.
 * First it waits until the file clock has moved past path's ctime, so the
 * edit's ctime differs from the last append's even on a coarse clock (the
 * kernel sets ctime; no one can put it back).
 */
static void
edit_covering_tracks(const char *path)
{
	struct stat before, after;
	struct timespec now, ts[2];
	char *text, *at;
	int fd;

	assert_int_equal(stat(path, &before), 0);
	do {
		usleep(1000);
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
	} while (now.tv_sec < before.st_ctim.tv_sec ||
		 (now.tv_sec == before.st_ctim.tv_sec &&
		  now.tv_nsec <= before.st_ctim.tv_nsec));
	assert_true((fd = open(path, O_RDWR)) >= 0);
	text = calloc(1, (size_t)before.st_size + 1);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)before.st_size, 0),
			 before.st_size);
	assert_non_null(at = strstr(text, "DONE"));
	*at = 'X';
	assert_int_equal(pwrite(fd, text, (size_t)before.st_size, 0),
			 before.st_size);
	close(fd);
	free(text);
	ts[0] = before.st_atim;
	ts[1] = before.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

/* The watch reads only what was added, turns broken as soon as a bad line
 * is complete, stays broken while the daemon keeps appending, tells a
 * line being written from a torn one, and starts over on a new file. */
static void
test_chain_watch_incremental(void **state)
{
	struct fx *f = *state;
	struct chain_watch w;
	struct chain_status st;
	char moved[600];

	chain_watch_init(&w);
	write_lines(f->path, 3);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_OK);
	assert_int_equal(st.lines, 4);
	write_lines(f->path, 2);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.lines, 6);
	assert_true(w.pos > 0);

	/* a line in the middle of the stream, its chain not made to fit */
	append_raw(f->path, "[2026-12-01T10:00:00Z] DONE vm=work seq=7 seal="
		   "00000000000000000000000000000000 chain="
		   "00000000000000000000000000000000\n");
	write_lines(f->path, 2);    /* and the log goes on growing */
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_BROKEN);
	assert_int_equal(st.bad, 7);
	write_lines(f->path, 3);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_BROKEN);
	assert_int_equal(st.bad, 7);

	/* an edit in place (same size, as an editor that keeps the inode),
	 * its mtime put back: read again from the start, the break found
	 * where it is */
	{
		struct chain_watch w2;
		char moved2[600];

		snprintf(moved2, sizeof(moved2), "%s.edit", f->path);
		chain_watch_init(&w2);
		write_lines(moved2, 4);
		assert_int_equal(chain_watch_check(&w2, moved2, &st), 0);
		assert_int_equal(st.state, CHAIN_OK);
		edit_covering_tracks(moved2);   /* line 3 */
		assert_int_equal(chain_watch_check(&w2, moved2, &st), 0);
		assert_int_equal(st.state, CHAIN_BROKEN);
		assert_int_equal(st.bad, 3);
		chain_watch_release(&w2);
	}

	/* rotation: a new file, a fresh start */
	snprintf(moved, sizeof(moved), "%s.1", f->path);
	assert_int_equal(rename(f->path, moved), 0);
	write_lines(f->path, 20);   /* longer than where the watch was */
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_OK);
	assert_int_equal(st.lines, 21);     /* and the log-continue line */

	/* half a line: being written, then torn once it stays so */
	append_raw(f->path, "[2026-12-01T10:00:00Z] EXEC vm=wo");
	assert_int_equal(chain_watch_check(&w, f->path, &st),
			 QR_ERR_INCOMPLETE);
	assert_int_equal(st.lines, 21);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_BROKEN);
	assert_int_equal(st.bad, 22);
	chain_watch_release(&w);
}

/* Tamper with the log: an edit in place that came with an append is not
 * in what the watch reads next (only what was added), but it is in the
 * full read it makes every CHAIN_FULL_S seconds, and that read is due
 * whether the file changed or not. */
static void
test_tamper_in_place_with_an_append(void **state)
{
	struct fx *f = *state;
	struct chain_watch w;
	struct chain_status st;

	chain_watch_init(&w);
	write_lines(f->path, 4);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_OK);
	assert_false(chain_watch_due(&w));
	edit_covering_tracks(f->path);  /* line 3 */
	write_lines(f->path, 1);
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_OK);
	assert_int_equal(st.lines, 6);
	w.full.tv_sec -= CHAIN_FULL_S;  /* as if that long had passed */
	assert_true(chain_watch_due(&w));
	assert_int_equal(chain_watch_check(&w, f->path, &st), 0);
	assert_int_equal(st.state, CHAIN_BROKEN);
	assert_int_equal(st.bad, 3);
	assert_false(chain_watch_due(&w));
	chain_watch_release(&w);
}

static void
test_hub_reads_the_log(void **state)
{
	struct fx *f = *state;
	static struct hub h;

	write_lines(f->path, 4);
	assert_int_equal(hub_start(&h, f->path, TAIL_WINDOW_DEFAULT), 0);
	write_lines(f->path, 2);
	assert_true(wait_until(&h, has_six_lines));
	assert_true(wait_until(&h, chain_ok_six));
	assert_true(wait_until(&h, summary_counts));
	pthread_mutex_lock(&h.lock);
	assert_int_equal(hub_entry(&h, 6)->lineno, 6);
	assert_non_null(strstr(buf_str(&h.status_json), "\"reading\""));
	pthread_mutex_unlock(&h.lock);
	hub_stop(&h);
}

static int
chain_ok_five(struct hub *h)
{
	return strstr(buf_str(&h->chain_json), "\"state\":\"ok\",\"lines\":5,")
	       != NULL;
}

static int
chain_broken(struct hub *h)
{
	return strstr(buf_str(&h->chain_json), "\"state\":\"broken\",")
	       != NULL;
}

/* Tamper with the log: an edit in place whose mtime was put back still
 * reaches the banner (the hub looks at ctime too). */
static void
test_tamper_in_place_with_mtime_put_back(void **state)
{
	struct fx *f = *state;
	static struct hub h;

	write_lines(f->path, 4);
	assert_int_equal(hub_start(&h, f->path, TAIL_WINDOW_DEFAULT), 0);
	assert_true(wait_until(&h, chain_ok_five));
	edit_covering_tracks(f->path);
	assert_true(wait_until(&h, chain_broken));
	hub_stop(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_line_bound),
		cmocka_unit_test(test_ring_byte_bound),
		cmocka_unit_test_setup_teardown(test_chain_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_watch_incremental,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_tamper_in_place_with_an_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hub_reads_the_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_tamper_in_place_with_mtime_put_back, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
