/*
 * test_client_fdio.c - fd_copy: in the kernel from a file, through the
 * buffer from a pipe, byte-exact both ways, and which end failed.
 */
#include "fdio.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

#define SIZE (300u * 1024u + 7u)   /* more than one buffer, not a multiple */

static unsigned char data[SIZE];

/* A file holding data[], open for reading, unlinked. */
static int
data_file(void)
{
	char path[] = "/tmp/test_client_fdio.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	assert_int_equal(write(fd, data, SIZE), (ssize_t)SIZE);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void
check_copy(int in, int out_w, int out_r)
{
	static unsigned char got[SIZE];
	uint64_t copied;
	size_t have = 0;
	int wf, r, st;
	pid_t pid;

	/* the pipe cannot hold it all: a child drains it */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out_w);
		while (have < SIZE) {
			ssize_t n = read(out_r, got + have, SIZE - have);
			if (n <= 0)
				_exit(1);
			have += (size_t)n;
		}
		_exit(memcmp(got, data, SIZE) == 0 && read(out_r, got, 1) == 0
		      ? 0 : 2);
	}
	close(out_r);
	r = fd_copy(in, out_w, NULL, &copied, &wf);
	close(out_w);
	assert_int_equal(r, 0);
	assert_int_equal(copied, SIZE);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_file_to_pipe(void **state)
{
	int p[2], in = data_file();

	(void)state;
	assert_int_equal(pipe(p), 0);
	check_copy(in, p[1], p[0]);
	close(in);
}

/* From a pipe sendfile(2) cannot read: the buffered copy takes over. */
static void
test_pipe_to_pipe(void **state)
{
	int src[2], p[2], in = data_file();
	uint64_t n;
	int wf;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(src), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(src[0]);
		_exit(fd_copy(in, src[1], NULL, &n, &wf) == 0 ? 0 : 1);
	}
	close(src[1]);
	close(in);
	assert_int_equal(pipe(p), 0);
	check_copy(src[0], p[1], p[0]);
	close(src[0]);
	waitpid(pid, NULL, 0);
}

static void
test_reader_gone(void **state)
{
	int p[2], in = data_file(), wf;
	uint64_t copied;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(fd_copy(in, p[1], NULL, &copied, &wf), QR_ERR_SYSTEM);
	assert_int_equal(errno, EPIPE);
	assert_true(wf);
	close(p[1]);
	close(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_to_pipe),
		cmocka_unit_test(test_pipe_to_pipe),
		cmocka_unit_test(test_reader_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
