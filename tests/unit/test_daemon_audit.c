/*
 * test_daemon_audit.c - the sealed, hash-chained audit log: the chain and
 * the seal continue across restarts, writers and rotated files; verify
 * names the first line an edit, a deletion, a move or an insertion broke,
 * with the key even when the attacker recomputed the chain; the key
 * evolves and the old one is gone; the writer refuses files others could
 * have made or changed.
 */
#include "audit.h"
#include "logverify.h"
#include "seal.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "err.h"
#include "logline.h"
#include "banned.h"

#define T0 ((time_t)1795860900)

/* The line a fresh log begins with (action=seal-start) shifts the
 * caller's lines by one. */
#define L(k) ((k) + 1)

struct fx {
	char dir[64];
	char path[128];
	char state[128];    /* the seal state directory */
	char text[65536];   /* the file, as read by slurp() */
};

static const char *f_state;     /* the current fixture's state dir */

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
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	/* in a directory audit_open has to create */
	snprintf(f->path, sizeof(f->path), "%s/log/qubes/qvm-remote.log",
		 f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	f_state = f->state;
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

/* Writes "[T0+i] EXEC vm=work id=N cmd=..." through the audit log. */
static void
write_event(struct audit *a, unsigned i)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	char id[16];

	snprintf(id, sizeof(id), "%u", i);
	assert_int_equal(logline_begin(&line, T0 + (time_t)i, "EXEC"), 0);
	assert_int_equal(logline_kvs(&line, "vm", "work"), 0);
	assert_int_equal(logline_kvs(&line, "id", id), 0);
	assert_int_equal(logline_kvs(&line, "cmd", "echo \"hi\"\n\x1b[31m"), 0);
	assert_int_equal(audit_write(a, &line), 0);
	/* the line now carries its chain value and newline */
	assert_int_equal(line.data[line.len - 1], '\n');
	assert_non_null(strstr(line.data, " chain="));
	buf_release(&line);
}

static void
write_n(const char *path, unsigned from, unsigned n)
{
	struct audit a;
	unsigned i;

	assert_int_equal(audit_open(&a, path, f_state), 0);
	for (i = from; i < from + n; i++)
		write_event(&a, i);
	audit_close(&a);
}

static size_t
slurp(struct fx *f)
{
	int fd = open(f->path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, f->text, sizeof(f->text) - 1);
	assert_true(n >= 0 && (size_t)n < sizeof(f->text) - 1);
	f->text[n] = '\0';
	close(fd);
	return (size_t)n;
}

static void
spit(struct fx *f, const char *text, size_t n)
{
	int fd = open(f->path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* Offset of the start of 1-based line k in f->text. */
static size_t
line_start(const struct fx *f, unsigned k)
{
	size_t off = 0;

	while (--k > 0) {
		const char *nl = strchr(f->text + off, '\n');
		assert_non_null(nl);
		off = (size_t)(nl - f->text) + 1;
	}
	return off;
}

static void
expect_verify(const char *path, int want_r, unsigned long want_lines,
	      unsigned long want_bad)
{
	unsigned long lines = 99, bad = 99;

	assert_int_equal(audit_verify(path, &lines, &bad), want_r);
	assert_int_equal(lines, want_lines);
	assert_int_equal(bad, want_bad);
}

static void
test_creates_file_and_dir(void **state)
{
	struct fx *f = *state;
	struct audit a;
	struct stat st;
	char dir[128];

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_string_equal(a.prev, "00000000000000000000000000000000");
	audit_close(&a);
	assert_int_equal(a.fd, -1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(dir, sizeof(dir), "%s/log/qubes", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	expect_verify(f->path, 0, 0, 0);
}

/* Line 1's and line 2's chain values, computed here independently. */
static void
hex16(const unsigned char *md, char out[33])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
sha_chain(const char *prev, const char *p, size_t n, char out[33])
{
	unsigned char md[32];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, prev, 32), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, p, n), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, md, &mdlen), 1);
	EVP_MD_CTX_free(ctx);
	hex16(md, out);
}

static void
test_first_line_chain(void **state)
{
	struct fx *f = *state;
	struct audit a;
	struct buf line = BUF_INIT(1024);
	char want1[33], want2[33];
	const char *content = "[2026-11-28T10:15:00Z] INFO action=started";
	const char *l2, *c1, *c2;

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(buf_append_str(&line, content), 0);
	assert_int_equal(audit_write(&a, &line), 0);
	audit_close(&a);
	buf_release(&line);
	slurp(f);
	l2 = strchr(f->text, '\n') + 1;
	c1 = strstr(f->text, " chain=");
	c2 = strstr(l2, " chain=");
	assert_true(c1 < l2);
	sha_chain("00000000000000000000000000000000", f->text,
		  (size_t)(c1 - f->text), want1);
	assert_memory_equal(c1 + 7, want1, 32);
	sha_chain(want1, l2, (size_t)(c2 - l2), want2);
	assert_memory_equal(c2 + 7, want2, 32);
	assert_memory_equal(l2, content, strlen(content));
	assert_memory_equal(l2 + strlen(content), " seq=2 seal=", 12);
	assert_string_equal(c2 + 7 + 32, "\n");
}

static void
test_chain_continues_across_reopen(void **state)
{
	struct fx *f = *state;
	struct audit a;
	char last[AUDIT_CHAIN_HEX + 1];

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	write_event(&a, 0);
	write_event(&a, 1);
	memcpy(last, a.prev, sizeof(last));
	audit_close(&a);

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_string_equal(a.prev, last);
	write_event(&a, 2);
	audit_close(&a);
	write_n(f->path, 3, 2);
	expect_verify(f->path, 0, L(5), 0);
}

/* An admin verb writes while the daemon holds the log open: both keep
 * the one chain intact. */
static void
test_two_writers(void **state)
{
	struct fx *f = *state;
	struct audit d, admin;

	assert_int_equal(audit_open(&d, f->path, f->state), 0);
	write_event(&d, 0);
	assert_int_equal(audit_open(&admin, f->path, f->state), 0);
	write_event(&admin, 1);
	write_event(&d, 2);
	write_event(&admin, 3);
	write_event(&admin, 4);
	write_event(&d, 5);
	audit_close(&admin);
	audit_close(&d);
	expect_verify(f->path, 0, L(6), 0);
}

static void
test_edit_one_byte(void **state)
{
	struct fx *f = *state;
	size_t n, off;

	write_n(f->path, 0, 5);
	n = slurp(f);
	off = line_start(f, 3) + 30;   /* inside line 3's text */
	f->text[off] ^= 0x01;
	spit(f, f->text, n);
	expect_verify(f->path, QR_ERR_MISMATCH, 3, 3);

	/* the chain value itself */
	f->text[off] ^= 0x01;
	off = line_start(f, 4) - 2;    /* last hex digit of line 3 */
	f->text[off] = f->text[off] == '0' ? '1' : '0';
	spit(f, f->text, n);
	expect_verify(f->path, QR_ERR_MISMATCH, 3, 3);
}

static void
test_delete_line(void **state)
{
	struct fx *f = *state;
	size_t n, a, b;

	write_n(f->path, 0, 5);
	n = slurp(f);
	a = line_start(f, 2);
	b = line_start(f, 3);
	memmove(f->text + a, f->text + b, n - b);
	spit(f, f->text, n - (b - a));
	/* the old line 3, now line 2, no longer follows its predecessor */
	expect_verify(f->path, QR_ERR_MISMATCH, 2, 2);
}

static void
test_delete_first_line(void **state)
{
	struct fx *f = *state;
	size_t n, b;

	write_n(f->path, 0, 3);
	n = slurp(f);
	b = line_start(f, 2);
	spit(f, f->text + b, n - b);
	expect_verify(f->path, QR_ERR_MISMATCH, 1, 1);
}

static void
test_insert_line(void **state)
{
	struct fx *f = *state;
	char copy[16384];
	size_t n, a, b, len;

	write_n(f->path, 0, 5);
	n = slurp(f);
	/* a copy of line 1, with its valid-looking chain, put after line 3 */
	a = line_start(f, 2);
	b = line_start(f, 4);
	len = a;
	memcpy(copy, f->text, b);
	memcpy(copy + b, f->text, len);
	memcpy(copy + b + len, f->text + b, n - b);
	spit(f, copy, n + len);
	expect_verify(f->path, QR_ERR_MISMATCH, 4, 4);
}

static void
test_hand_written_line(void **state)
{
	struct fx *f = *state;
	struct audit a;
	size_t n;

	write_n(f->path, 0, 2);
	n = slurp(f);
	memcpy(f->text + n, "[2026-11-28T10:20:00Z] INFO by hand\n", 36);
	spit(f, f->text, n + 36);
	/* a writer restarts the chain after a line without one, and says
	 * that the last line is not sealed ... */
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_string_equal(a.prev, "00000000000000000000000000000000");
	write_event(&a, 9);
	audit_close(&a);
	slurp(f);
	assert_non_null(strstr(f->text, "INFO by hand\n[")); 
	assert_non_null(strstr(f->text, "] ERROR action=seal-break reason=\"the "
			       "log's last line is not sealed"));
	/* ... and verify still names the line */
	expect_verify(f->path, QR_ERR_MISMATCH, 4, 4);
}

static void
test_torn_last_line(void **state)
{
	struct fx *f = *state;
	struct audit a;
	size_t n;

	write_n(f->path, 0, 2);
	n = slurp(f);
	memcpy(f->text + n, "[2026-11-28T10:20:00Z] EXEC vm=wo", 33);
	spit(f, f->text, n + 33);
	expect_verify(f->path, QR_ERR_MISMATCH, 4, 4);

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	write_event(&a, 9);
	audit_close(&a);
	n = slurp(f);
	/* the fragment was ended, so the new lines stand on their own */
	assert_non_null(strstr(f->text, "vm=wo\n["));
	assert_non_null(strstr(f->text, "\n[2026-11-28T10:15:09Z] EXEC"));
	expect_verify(f->path, QR_ERR_MISMATCH, 4, 4);
}

/* A full file system takes part of a line and refuses the rest (a file
 * size limit stands in for it here): the part is cut off again, so the log
 * verifies, and the next line after room came back seals on. */
static void
test_failed_write_leaves_no_torn_line(void **state)
{
	struct fx *f = *state;
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	struct audit a;
	struct rlimit rl;
	struct stat st;
	off_t before;

	write_n(f->path, 0, 2);
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(stat(f->path, &st), 0);
	before = st.st_size;
	assert_int_equal(logline_begin(&line, T0, "EXEC"), 0);
	assert_int_equal(logline_kvs(&line, "cmd", "a line longer than the "
				     "room that is left on the disk"), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = (rlim_t)before + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_not_equal(audit_write(&a, &line), 0);
	rl.rlim_cur = RLIM_INFINITY;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, before);
	expect_verify(f->path, 0, L(2), 0);
	write_event(&a, 7);
	audit_close(&a);
	buf_release(&line);
	expect_verify(f->path, 0, L(3), 0);
}

static void
test_refuses_bad_lines(void **state)
{
	struct fx *f = *state;
	struct audit a;
	struct buf line = BUF_INIT(2 * AUDIT_LINE_MAX);
	size_t i;

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(buf_append_str(&line, "[x] INFO a=1\nforged"), 0);
	assert_int_equal(audit_write(&a, &line), QR_ERR_INVALID);
	assert_string_equal(line.data, "[x] INFO a=1\nforged");
	buf_reset(&line);
	assert_int_equal(buf_append_str(&line, "[x] INFO a=\x1b[2J"), 0);
	assert_int_equal(audit_write(&a, &line), QR_ERR_INVALID);
	buf_reset(&line);
	assert_int_equal(buf_append_str(&line, "[x] INFO a=\xc3\xa9"), 0);
	assert_int_equal(audit_write(&a, &line), QR_ERR_INVALID);
	buf_reset(&line);
	for (i = 0; i < AUDIT_LINE_MAX; i++)
		assert_int_equal(buf_append(&line, "a", 1), 0);
	assert_int_equal(audit_write(&a, &line), QR_ERR_TOO_LARGE);
	assert_int_equal(line.len, AUDIT_LINE_MAX);
	/* a line that fits with the longest seq, seal, chain and newline is
	 * taken */
	line.len = AUDIT_LINE_MAX - (5 + 18 + 6 + 32 + 7 + 32 + 1);
	line.data[line.len] = '\0';
	assert_int_equal(audit_write(&a, &line), 0);
	audit_close(&a);
	buf_release(&line);
	expect_verify(f->path, 0, L(1), 0);
}

/* A buffer too small for the chain suffix fails cleanly, line intact. */
static void
test_small_buffer(void **state)
{
	struct fx *f = *state;
	struct audit a;
	struct buf line = BUF_INIT(20);

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(buf_append_str(&line, "[x] INFO a=1"), 0);
	assert_int_equal(audit_write(&a, &line), QR_ERR_TOO_LARGE);
	assert_string_equal(line.data, "[x] INFO a=1");
	audit_close(&a);
	buf_release(&line);
	/* the seal-start line went out; the caller's did not */
	expect_verify(f->path, 0, 1, 0);
}

static void
test_verify_missing_and_long(void **state)
{
	struct fx *f = *state;
	unsigned long lines, bad;
	char *big;
	size_t n;

	assert_int_equal(audit_verify(f->path, &lines, &bad),
			 QR_ERR_NOT_FOUND);
	write_n(f->path, 0, 1);
	n = slurp(f);
	/* a second line longer than any writer makes */
	big = malloc(n + AUDIT_LINE_MAX + 10);
	assert_non_null(big);
	memcpy(big, f->text, n);
	memset(big + n, 'a', AUDIT_LINE_MAX + 8);
	big[n + AUDIT_LINE_MAX + 8] = '\n';
	spit(f, big, n + AUDIT_LINE_MAX + 9);
	free(big);
	expect_verify(f->path, QR_ERR_MISMATCH, 3, 3);
}

/* Many lines, so verify's window slides over several reads. */
static void
test_verify_long_file(void **state)
{
	struct fx *f = *state;

	write_n(f->path, 0, 3000);
	expect_verify(f->path, 0, L(3000), 0);
}

static void
test_echo(void **state)
{
	struct fx *f = *state;
	struct audit a;
	char errpath[160], got[256];
	int fd, saved;
	ssize_t n;

	snprintf(errpath, sizeof(errpath), "%s/stderr", f->dir);
	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	a.echo = 1;
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	{
		struct buf line = BUF_INIT(256);
		assert_int_equal(buf_append_str(&line, "[x] INFO a=1"), 0);
		assert_int_equal(audit_write(&a, &line), 0);
		buf_release(&line);
	}
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	audit_close(&a);
	n = pread(fd, got, sizeof(got) - 1, 0);
	close(fd);
	assert_true(n >= 0);
	got[n] = '\0';
	/* without seq, seal and chain; the seal-start line came first */
	assert_non_null(strstr(got, "] INFO action=seal-start note="));
	assert_non_null(strstr(got, "\n[x] INFO a=1\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_creates_file_and_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_line_chain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_chain_continues_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_writers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edit_one_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_first_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_insert_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hand_written_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_failed_write_leaves_no_torn_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_small_buffer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verify_missing_and_long,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_long_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
