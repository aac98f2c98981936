/*
 * test_client_output.c - from a result's files to the exit code and the
 * words the user sees.
 */
#include "exitcode.h"
#include "output.h"
#include "paths.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "fileio.h"
#include "result.h"

#include "banned.h"

static void test_exit_file(void **state)
{
	int c = -1;

	assert_int_equal(exit_file_parse("0\n", 2, &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(exit_file_parse("42", 2, &c), 0);
	assert_int_equal(c, 42);
	assert_int_equal(exit_file_parse("255\n", 4, &c), 0);
	assert_int_equal(c, 255);
	assert_int_equal(exit_file_parse("256\n", 4, &c), QR_ERR_INVALID);
	assert_int_equal(exit_file_parse("", 0, &c), QR_ERR_INVALID);
	assert_int_equal(exit_file_parse("\n", 1, &c), QR_ERR_INVALID);
	assert_int_equal(exit_file_parse("-1\n", 3, &c), QR_ERR_INVALID);
	assert_int_equal(exit_file_parse("1\n\n", 3, &c), QR_ERR_INVALID);
	assert_int_equal(exit_file_parse(" 1\n", 3, &c), QR_ERR_INVALID);
}

static void test_exit_codes(void **state)
{
	struct result_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.exit_code = 42;
	ri.meta.status = RESULT_OK;
	assert_int_equal(result_exit_code(&ri), 42);
	ri.meta.status = RESULT_TIMEOUT;
	assert_int_equal(result_exit_code(&ri), QX_TIMEOUT);
	ri.meta.status = RESULT_REJECTED;
	assert_int_equal(result_exit_code(&ri), QX_REJECTED);
	ri.meta.status = RESULT_INTERRUPTED;
	assert_int_equal(result_exit_code(&ri), QX_INTERRUPTED);
	ri.meta.status = RESULT_ERROR;
	assert_int_equal(result_exit_code(&ri), QX_LOCAL);
	/* The codes dom0 writes and the ones the client returns agree. */
	assert_int_equal(QX_TIMEOUT, EXIT_TIMEOUT);
	assert_int_equal(QX_LOCAL, EXIT_ERROR);
	assert_int_equal(QX_REJECTED, EXIT_REJECTED);
	assert_int_equal(QX_INTERRUPTED, EXIT_INTERRUPTED);
}

static void test_reason_is_auth(void **state)
{
	assert_true(reason_is_auth("authentication failed"));
	assert_true(reason_is_auth("token mismatch"));
	assert_true(reason_is_auth("no key for this VM"));
	assert_true(reason_is_auth("Bad HMAC"));
	assert_false(reason_is_auth("the request is a replay"));
	assert_false(reason_is_auth("body is not text"));
	assert_false(reason_is_auth(""));
}

static void test_timeout_shown(void **state)
{
	struct result_meta m;

	memset(&m, 0, sizeof(m));
	m.duration_ms = 5040;          /* ran 5 s plus the kill */
	assert_int_equal(timeout_shown(&m, 5), 5);
	m.duration_ms = 7100;          /* grace period added */
	assert_int_equal(timeout_shown(&m, 5), 5);
	m.duration_ms = 2000;          /* dom0 capped 60 at 2 */
	assert_int_equal(timeout_shown(&m, 60), 2);
	m.duration_ms = 300400;        /* no -t: dom0's default */
	assert_int_equal(timeout_shown(&m, 0), 300);
	m.duration_ms = 0;             /* no .meta duration */
	assert_int_equal(timeout_shown(&m, 9), 9);
}

/* A cut output of a command that succeeded is not a success (issue 16);
 * a failure keeps its own code */
static void test_cut_exit_codes(void **state)
{
	struct result_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.meta.status = RESULT_OK;
	assert_int_equal(result_client_code(&ri), 0);
	ri.meta.out_truncated = 1;
	assert_int_equal(result_client_code(&ri), QX_TRUNCATED);
	ri.meta.out_truncated = 0;
	ri.meta.err_truncated = 1;
	assert_int_equal(result_client_code(&ri), QX_TRUNCATED);
	ri.exit_code = 1;
	assert_int_equal(result_client_code(&ri), 1);
	ri.exit_code = 0;
	ri.meta.status = RESULT_TIMEOUT;
	assert_int_equal(result_client_code(&ri), QX_TIMEOUT);
	ri.meta.status = RESULT_INTERRUPTED;
	assert_int_equal(result_client_code(&ri), QX_INTERRUPTED);
	/* the audit line keeps the command's own */
	ri.meta.status = RESULT_OK;
	assert_int_equal(result_exit_code(&ri), 0);
	/* a code of its own, none of the others */
	assert_true(QX_TRUNCATED != QX_NO_ANSWER && QX_TRUNCATED != QX_LOCAL &&
		    QX_TRUNCATED < QX_NO_ANSWER);
}

#define CID "20261204-061500-4242-0000000000000000000000000000000a"

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

/* Shows the result in results/ with so->skip, stdout and stderr caught in
 * files; out and err get what was shown. */
static void show_caught(const struct vm_layout *p, struct show_opts *so,
			struct buf *out, struct buf *err)
{
	char path[2][PATH_MAX + 16];
	struct result_info ri;
	int saved[2], fd[2], code;

	assert_int_equal(result_load(p, CID, &ri), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/shown.%d", p->home, i);
		fd[i] = open(path[i], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd[i] >= 0);
		fflush(i ? stderr : stdout);
		saved[i] = dup(i + 1);
		assert_int_equal(dup2(fd[i], i + 1), i + 1);
		close(fd[i]);
	}
	code = result_show(p, &ri, so);
	for (int i = 0; i < 2; i++) {
		fflush(i ? stderr : stdout);
		assert_int_equal(dup2(saved[i], i + 1), i + 1);
		close(saved[i]);
	}
	assert_int_equal(code, 0);
	assert_int_equal(read_file(path[0], out), 0);
	assert_int_equal(read_file(path[1], err), 0);
}

/* What was shown live is not shown again; a file shorter than that shows
 * nothing more of its stream. */
static void test_show_skips_what_was_shown(void **state)
{
	struct buf out = BUF_INIT(4096), err = BUF_INIT(4096);
	struct show_opts so = { .cid = CID };
	struct vm_layout p;
	char home[64];

	snprintf(home, sizeof(home), "/tmp/test_client_output.XXXXXX");
	assert_non_null(mkdtemp(home));
	assert_int_equal(vm_layout_init(&p, home), 0);
	assert_int_equal(paths_make_queue(&p), 0);
	assert_int_equal(write_file_atomic(p.results, CID ".out", "0123456789",
					   10, 0600, 0), 0);
	assert_int_equal(write_file_atomic(p.results, CID ".err", "abc", 3,
					   0600, 0), 0);
	assert_int_equal(write_file_atomic(p.results, CID ".meta",
					   "status=ok\nexit=0\n", 16, 0600, 0),
			 0);
	assert_int_equal(write_file_atomic(p.results, CID ".exit", "0\n", 2,
					   0600, 0), 0);
	show_caught(&p, &so, &out, &err);
	assert_string_equal(buf_str(&out), "0123456789");
	assert_string_equal(buf_str(&err), "abc");
	so.skip[0] = 4;
	so.skip[1] = 5;
	buf_reset(&out);
	buf_reset(&err);
	show_caught(&p, &so, &out, &err);
	assert_string_equal(buf_str(&out), "456789");
	assert_string_equal(buf_str(&err), "");
	so.skip[0] = 10;
	so.skip[1] = 1;
	buf_reset(&out);
	buf_reset(&err);
	show_caught(&p, &so, &out, &err);
	assert_string_equal(buf_str(&out), "");
	assert_string_equal(buf_str(&err), "bc");
	buf_release(&out);
	buf_release(&err);
	nftw(home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_file),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_reason_is_auth),
		cmocka_unit_test(test_timeout_shown),
		cmocka_unit_test(test_cut_exit_codes),
		cmocka_unit_test(test_show_skips_what_was_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
