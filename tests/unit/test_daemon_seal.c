/*
 * test_daemon_seal.c - the forward-secure seal of the audit log (issue 12):
 * key evolution and its erasure, seal and verify round trip, a writer
 * stopped between its line and the state, a lost or rewound state, a
 * rotated log, each tamper with the chain recomputed (what only the key
 * finds), a cut tail (what only an anchor finds), setup-key, and the
 * files a local user could have planted.
 */
#include "audit.h"
#include "logverify.h"
#include "seal.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "logline.h"
#include "tmptree.h"
#include "banned.h"

#define TEXT_MAX (1u << 20)

struct fx {
	char dir[64];
	char logdir[128];
	char path[160];
	char state[128];
	char *text;
	size_t n;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tmptree_make(f->dir, sizeof(f->dir), "qvmr-seal") != 0)
		return -1;
	snprintf(f->logdir, sizeof(f->logdir), "%s/log", f->dir);
	snprintf(f->path, sizeof(f->path), "%s/qvm-remote.log", f->logdir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	f->text = malloc(TEXT_MAX);
	*state = f;
	return f->text == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, tmptree_rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f->text);
	free(f);
	return 0;
}

static void
event(struct audit *a, const char *cat, unsigned i)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);

	assert_int_equal(logline_begin(&line, 1795860900 + (time_t)i, cat), 0);
	assert_int_equal(logline_kvs(&line, "vm", "work"), 0);
	assert_int_equal(logline_kvu(&line, "n", i), 0);
	assert_int_equal(audit_write(a, &line), 0);
	buf_release(&line);
}

static void
write_n(struct fx *f, unsigned from, unsigned n)
{
	struct audit a;

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	for (unsigned i = from; i < from + n; i++)
		event(&a, i % 2 ? "DONE" : "EXEC", i);
	audit_close(&a);
}

static void
slurp_path(struct fx *f, const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t k;

	assert_true(fd >= 0);
	k = read(fd, f->text, TEXT_MAX - 1);
	assert_true(k >= 0 && (size_t)k < TEXT_MAX - 1);
	f->text[k] = '\0';
	f->n = (size_t)k;
	close(fd);
}

static void
slurp(struct fx *f)
{
	slurp_path(f, f->path);
}

static void
spit(struct fx *f)
{
	int fd = open(f->path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->text, f->n), (ssize_t)f->n);
	close(fd);
}

/* Offset of 1-based line k. */
static size_t
line_at(const struct fx *f, unsigned k)
{
	size_t off = 0;

	while (--k > 0) {
		const char *nl = strchr(f->text + off, '\n');
		assert_non_null(nl);
		off = (size_t)(nl - f->text) + 1;
	}
	return off;
}

/* The attacker's tool: every chain value recomputed, so the keyless
 * check passes whatever was done to the lines. */
static void
rechain(struct fx *f)
{
	char prev[AUDIT_CHAIN_HEX + 1] = SEAL_ZERO;
	size_t off = 0;

	while (off < f->n) {
		char *nl = memchr(f->text + off, '\n', f->n - off);
		struct audit_line l;
		size_t len;

		assert_non_null(nl);
		len = (size_t)(nl - (f->text + off));
		assert_int_equal(audit_parse(f->text + off, len, &l), 0);
		assert_int_equal(audit_chain_next(prev, f->text + off,
						  l.content_len, prev), 0);
		memcpy(f->text + off + len - AUDIT_CHAIN_HEX, prev,
		       AUDIT_CHAIN_HEX);
		off += len + 1;
	}
}

/* The verification key: setup-key takes what the writer kept. */
static void
take_key(struct fx *f, struct seal_key *k)
{
	struct audit a;
	char text[SEAL_KEY_TEXT_MAX];

	assert_true(audit_key_pending(f->state));
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(audit_setup_key(&a, text), 0);
	audit_close(&a);
	assert_false(audit_key_pending(f->state));
	assert_int_equal(seal_key_parse(text, strlen(text), k), 0);
}

/* Checks files (NULL-terminated) with key (or none) and anchors text. */
static int
check(struct logcheck *c, const struct seal_key *key, const char *anchors,
      ...)
{
	va_list ap;
	const char *p;
	int r = 0;

	logcheck_release(c);        /* the last check's anchors */
	logcheck_init(c);
	if (key != NULL)
		logcheck_set_key(c, key);
	if (anchors != NULL)
		assert_int_equal(logcheck_add_anchors(c, anchors,
						      strlen(anchors), "vm"), 0);
	va_start(ap, anchors);
	while (r == 0 && (p = va_arg(ap, const char *)) != NULL)
		r = logcheck_file(c, p);
	va_end(ap);
	if (r == 0)
		r = logcheck_finish(c);
	return r;
}

static struct logcheck *
new_check(void)
{
	struct logcheck *c = malloc(sizeof(*c));

	assert_non_null(c);
	logcheck_init(c);
	return c;
}

static void
free_check(struct logcheck *c)
{
	logcheck_release(c);
	free(c);
}

/* ---- the key ---------------------------------------------------------- */

static void
test_key_evolves_one_way(void **state)
{
	struct seal_key k, copy;
	unsigned char want[32];
	unsigned int len;
	char text[SEAL_KEY_TEXT_MAX];
	struct seal_key back;

	(void)state;
	assert_int_equal(seal_key_new(&k, 1), 0);
	copy = k;
	/* k_2 = HMAC-SHA256(k_1, "qvm-remote log evolve 1"), computed here */
	assert_non_null(HMAC(EVP_sha256(), k.k, 32,
			     (const unsigned char *)"qvm-remote log evolve 1",
			     23, want, &len));
	assert_int_equal(seal_evolve(&k), 0);
	assert_int_equal(k.seq, 2);
	assert_memory_equal(k.k, want, 32);
	assert_memory_not_equal(k.k, copy.k, 32);
	/* advancing goes forward only */
	assert_int_equal(seal_advance(&copy, 2), 0);
	assert_memory_equal(copy.k, k.k, 32);
	assert_int_equal(seal_advance(&copy, 1), QR_ERR_INVALID);
	/* the text form round-trips */
	assert_int_equal(seal_key_format(&k, text), 0);
	assert_memory_equal(text, "qvmr-seal1-2-", 13);
	assert_int_equal(seal_key_parse(text, strlen(text), &back), 0);
	assert_int_equal(back.seq, 2);
	assert_memory_equal(back.k, k.k, 32);
	assert_int_equal(seal_key_parse("qvmr-seal1-0-00", 15, &back),
			 QR_ERR_INVALID);
	text[20] = 'X';
	assert_int_equal(seal_key_parse(text, strlen(text), &back),
			 QR_ERR_INVALID);
	seal_key_wipe(&k);
	assert_int_equal(k.seq, 0);
}

/* The state file holds only the next key: after each line, the key that
 * sealed it is gone from the file (overwritten in place). */
static void
test_old_key_erased_from_state(void **state)
{
	struct fx *f = *state;
	struct seal_state st, before;
	char path[256];
	struct stat s1, s2;
	struct audit a;

	snprintf(path, sizeof(path), "%s/" AUDIT_SEAL_FILE, f->state);
	write_n(f, 0, 1);
	assert_int_equal(stat(path, &s1), 0);
	assert_int_equal(s1.st_mode & 0777, 0600);
	slurp_path(f, path);
	assert_int_equal(f->n, SEAL_STATE_LEN);
	assert_int_equal(seal_state_parse(f->text, f->n, &before), 0);
	assert_int_equal(before.seq, 2);

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	for (unsigned i = 0; i < 3; i++) {
		char oldhex[65];
		for (int j = 0; j < 32; j++)
			snprintf(oldhex + 2 * j, 3, "%02x", before.next.k[j]);
		event(&a, "EXEC", i);
		slurp_path(f, path);
		assert_int_equal(seal_state_parse(f->text, f->n, &st), 0);
		assert_int_equal(st.seq, before.seq + 1);
		assert_null(strstr(f->text, oldhex));
		/* the next key is the evolved old one */
		assert_int_equal(seal_evolve(&before.next), 0);
		assert_memory_equal(st.next.k, before.next.k, 32);
		before = st;
	}
	audit_close(&a);
	/* the same file, overwritten in place */
	assert_int_equal(stat(path, &s2), 0);
	assert_int_equal(s1.st_ino, s2.st_ino);
}

/* ---- round trip ------------------------------------------------------- */

static void
test_seal_round_trip(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;
	struct audit a;
	struct audit_anchor an;

	write_n(f, 0, 20);
	take_key(f, &k);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), 0);
	assert_int_equal(c->lines, 21);     /* seal-start and 20 */
	assert_int_equal(c->proven, c->lines);
	assert_int_equal(c->first_seq, 1);
	free_check(c);

	/* the anchor is the last line's seq and seal */
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	event(&a, "EXEC", 99);
	audit_anchor(&a, &an);
	assert_int_equal(an.seq, 22);
	assert_int_equal(audit_sync(&a), 0);
	audit_close(&a);
	slurp(f);
	assert_non_null(strstr(f->text, " seq=22 seal="));
	assert_non_null(strstr(f->text, an.seal));
}

/* setup-key on a fresh log: the key is printed, never kept; asked
 * again, it refuses. */
static void
test_setup_key_once(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	char text[SEAL_KEY_TEXT_MAX];
	struct seal_key k;
	struct audit a;

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	assert_int_equal(audit_setup_key(&a, text), 0);
	assert_false(audit_key_pending(f->state));
	{
		char again[SEAL_KEY_TEXT_MAX];
		assert_int_equal(audit_setup_key(&a, again), QR_ERR_EXISTS);
		assert_string_equal(again, "");
	}
	event(&a, "EXEC", 1);
	audit_close(&a);
	slurp(f);
	assert_non_null(strstr(f->text, "action=seal-start note=\"the "
			       "verification key was shown by audit "
			       "setup-key\""));
	assert_int_equal(seal_key_parse(text, strlen(text), &k), 0);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), 0);
	assert_int_equal(c->proven, 3);
	free_check(c);
}

/* ---- writers that stopped, states that do not match -------------------- */

static void
copy_file(const char *from, const char *to)
{
	char buf[4096];
	int in = open(from, O_RDONLY), out;
	ssize_t k;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((k = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)k), k);
	close(in);
	close(out);
}

/* The line is written, the state not: the next writer brings the state
 * forward, silently, and the key still verifies everything. */
static void
test_crash_between_line_and_state(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	char st[256], saved[256];
	struct seal_key k;

	snprintf(st, sizeof(st), "%s/" AUDIT_SEAL_FILE, f->state);
	snprintf(saved, sizeof(saved), "%s/saved", f->dir);
	write_n(f, 0, 3);
	copy_file(st, saved);
	write_n(f, 3, 1);           /* line and state */
	copy_file(saved, st);       /* as if the state update was lost */
	write_n(f, 4, 2);
	slurp(f);
	assert_null(strstr(f->text, "seal-break"));
	take_key(f, &k);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), 0);
	assert_int_equal(c->proven, 7);
	free_check(c);
}

/* The state is missing (removed by an attacker, or lost): the next line
 * says so, sealed with a new key, and the old key stops there. */
static void
test_state_missing(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	char st[256];
	struct seal_key k, k2;

	snprintf(st, sizeof(st), "%s/" AUDIT_SEAL_FILE, f->state);
	write_n(f, 0, 3);
	take_key(f, &k);
	assert_int_equal(unlink(st), 0);
	write_n(f, 3, 2);
	slurp(f);
	assert_non_null(strstr(f->text, "] ERROR action=seal-restart reason="
			       "\"the seal state was missing while the log "
			       "has sealed lines (up to seq 4)"));
	/* the keyless check: intact, but it counts the restart */
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), 0);
	assert_int_equal(c->restarts, 1);
	/* the old key stops at the restart and says why */
	assert_int_equal(check(c, &k, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 5);
	assert_non_null(strstr(c->why, "a new seal starts here"));
	/* the new key covers the rest, not what came before */
	take_key(f, &k2);
	assert_int_equal(k2.seq, 5);
	assert_int_equal(check(c, &k2, NULL, f->path, NULL), 0);
	assert_int_equal(c->uncovered, 4);
	assert_int_equal(c->proven, 3);
	free_check(c);
}

/* Lines cut from the end, then the daemon writes again: the state is
 * ahead, and the next line says so; the seq jump is a break anyone sees. */
static void
test_state_ahead(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();

	write_n(f, 0, 5);
	slurp(f);
	f->n = line_at(f, 5);       /* lines 5 and 6 gone */
	spit(f);
	write_n(f, 5, 1);
	slurp(f);
	assert_non_null(strstr(f->text, "] ERROR action=seal-break reason=\"the "
			       "log ends at seq 4 but the seal is at seq 6"));
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 5);
	assert_non_null(strstr(c->why, "seq jumps from 4 to 7"));
	free_check(c);
}

/* A damaged state is not a silent restart either. */
static void
test_state_damaged(void **state)
{
	struct fx *f = *state;
	char st[256];
	int fd;

	snprintf(st, sizeof(st), "%s/" AUDIT_SEAL_FILE, f->state);
	write_n(f, 0, 2);
	fd = open(st, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 3), 1);
	close(fd);
	write_n(f, 2, 1);
	slurp(f);
	assert_non_null(strstr(f->text, "ERROR action=seal-restart reason=\"the "
			       "seal state was damaged"));
}

/* ---- rotation ------------------------------------------------------- */

static void
test_rotation_continues_the_seal(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	char old[200], older[200];
	struct seal_key k;
	struct audit a;

	snprintf(old, sizeof(old), "%s.1", f->path);
	snprintf(older, sizeof(older), "%s.2", f->path);
	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	event(&a, "EXEC", 0);
	event(&a, "DONE", 1);
	/* logrotate's create: the file moves, a writer holding it open
	 * notices at its next line */
	assert_int_equal(rename(f->path, old), 0);
	event(&a, "EXEC", 2);
	/* and SIGHUP's reopen, after another move */
	assert_int_equal(rename(old, older), 0);
	assert_int_equal(rename(f->path, old), 0);
	assert_int_equal(audit_reopen(&a), 0);
	event(&a, "DONE", 3);
	audit_close(&a);
	slurp(f);
	assert_non_null(strstr(f->text, "] INFO action=log-continue "
			       "prev_seq=5 prev_seal="));
	take_key(f, &k);
	/* in order, with the key: continuous */
	if (check(c, &k, NULL, older, old, f->path, NULL) != 0)
		fail_msg("%s:%lu: %s", c->bad_file, c->bad_line, c->why);
	assert_int_equal(c->proven, 7);
	assert_int_equal(c->last_seq, 7);
	/* one alone, with the key from seq 1: also fine */
	assert_int_equal(check(c, &k, NULL, f->path, NULL), 0);
	assert_int_equal(c->first_seq, 6);
	/* a file left out, or the wrong order: found */
	assert_int_equal(check(c, &k, NULL, older, f->path, NULL),
			 QR_ERR_MISMATCH);
	assert_string_equal(c->bad_file, f->path);
	assert_int_equal(c->bad_line, 1);
	assert_int_equal(check(c, NULL, NULL, old, older, NULL),
			 QR_ERR_MISMATCH);
	free_check(c);
}

/* ---- tampering ------------------------------------------------------ */

/* Edit a line, recompute every later chain: the keyless check passes
 * (that is why it proves nothing), the key names the line. */
static void
test_tamper_edit_rechained(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;
	char *p;

	write_n(f, 0, 8);
	take_key(f, &k);
	slurp(f);
	p = strstr(f->text + line_at(f, 3), "DONE");
	assert_true(p != NULL && p < f->text + line_at(f, 4));
	memcpy(p, "EXEC", 4);
	rechain(f);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), 0);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 3);
	assert_non_null(strstr(c->why, "the seal of seq 3 does not verify"));
	free_check(c);
}

/* Remove a request's lines (EXEC and DONE), renumber and rechain: the
 * first renumbered line fails with the key; without renumbering, the
 * seq jump is found without it. */
static void
test_tamper_delete_rechained(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;
	size_t a, b;

	write_n(f, 0, 8);
	take_key(f, &k);
	slurp(f);
	a = line_at(f, 4);
	b = line_at(f, 6);
	memmove(f->text + a, f->text + b, f->n - b + 1);
	f->n -= b - a;
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 4);
	/* renumber: seq 6 becomes 4 and so on (same width here) */
	for (unsigned i = 4; i <= 7; i++) {
		char from[16], to[16], *p = f->text + line_at(f, i);
		snprintf(from, sizeof(from), " seq=%u ", i + 2);
		snprintf(to, sizeof(to), " seq=%u ", i);
		p = strstr(p, from);
		assert_non_null(p);
		memcpy(p, to, strlen(to));
	}
	rechain(f);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), 0);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 4);
	free_check(c);
}

/* Swap two lines and rechain: the seq goes back (keyless); swapped with
 * their seq too, the key finds it. */
static void
test_tamper_reorder_rechained(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;
	char *tmp = malloc(TEXT_MAX);
	size_t a, b, e;

	assert_non_null(tmp);
	write_n(f, 0, 8);
	take_key(f, &k);
	slurp(f);
	a = line_at(f, 3);
	b = line_at(f, 4);
	e = line_at(f, 5);
	memcpy(tmp, f->text + b, e - b);
	memcpy(tmp + (e - b), f->text + a, b - a);
	memcpy(f->text + a, tmp, e - a);
	rechain(f);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 3);
	assert_non_null(strstr(c->why, "seq jumps from 2 to 4"));
	/* swap the seq numbers back into order */
	{
		char *p3 = strstr(f->text + line_at(f, 3), " seq=4 ");
		char *p4 = strstr(f->text + line_at(f, 4), " seq=3 ");
		assert_non_null(p3);
		assert_non_null(p4);
		p3[5] = '3';
		p4[5] = '4';
	}
	rechain(f);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), 0);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 3);
	free(tmp);
	free_check(c);
}

/* A line forged in the middle, with seq and chain made to fit. */
static void
test_tamper_insert_rechained(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;

	write_n(f, 0, 4);
	take_key(f, &k);
	slurp(f);
	/* the last line again, as seq 7 (its seal copied) */
	{
		size_t s = line_at(f, 5), len = f->n - s;
		char *p;
		memcpy(f->text + f->n, f->text + s, len);
		f->n += len;
		f->text[f->n] = '\0';
		p = strstr(f->text + s + len, " seq=5 ");
		assert_non_null(p);
		p[5] = '6';
	}
	rechain(f);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), 0);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 6);
	free_check(c);
}

/* The tail cut: both checks pass (nothing left to disagree), an anchor
 * from a VM finds it; an anchor with another seal at its seq, too. */
static void
test_tamper_cut_tail_anchor(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	struct seal_key k;
	struct audit a;
	struct audit_anchor an;
	char vm[512];

	assert_int_equal(audit_open(&a, f->path, f->state), 0);
	for (unsigned i = 0; i < 6; i++)
		event(&a, "EXEC", i);
	audit_anchor(&a, &an);
	audit_close(&a);
	snprintf(vm, sizeof(vm), "[2026-12-01T10:00:00Z] RESULT id=x "
		 "status=ok exit=0 dom0-log=%llu:%s\n"
		 "[2026-12-01T10:00:01Z] RESULT id=y status=ok exit=0\n",
		 (unsigned long long)an.seq, an.seal);
	take_key(f, &k);
	assert_int_equal(check(c, &k, vm, f->path, NULL), 0);
	assert_int_equal(c->anchors_ok, 1);

	slurp(f);
	f->n = line_at(f, 6);       /* seq 6 and 7 gone */
	spit(f);
	assert_int_equal(check(c, &k, NULL, f->path, NULL), 0);
	assert_int_equal(check(c, &k, vm, f->path, NULL), QR_ERR_MISMATCH);
	assert_true(c->bad_anchor);
	assert_non_null(strstr(c->why, "the log ends at seq 5, but the anchor "
			       "at vm:1 shows seq 7 was written"));
	assert_int_equal(check(c, NULL, vm, f->path, NULL), QR_ERR_MISMATCH);

	/* an anchor whose seal differs at a seq the log has */
	snprintf(vm, sizeof(vm), "x dom0-log=3:%s\n", an.seal);
	assert_int_equal(check(c, NULL, vm, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 3);
	assert_non_null(strstr(c->why, "one of them was rewritten"));
	/* malformed anchors are not anchors */
	assert_int_equal(check(c, NULL, "dom0-log=3:zz\n x dom0-log=03:abc\n",
			       f->path, NULL), 0);
	assert_int_equal(c->nanchors, 0);
	free_check(c);
}

/* A line appended without a seal after sealed ones. */
static void
test_tamper_unsealed_line(void **state)
{
	struct fx *f = *state;
	struct logcheck *c = new_check();
	char line[128], chain[AUDIT_CHAIN_HEX + 1];
	struct audit_line l;
	size_t s;

	write_n(f, 0, 2);
	slurp(f);
	s = line_at(f, 3);
	assert_int_equal(audit_parse(f->text + s, f->n - s - 1, &l), 0);
	snprintf(line, sizeof(line), "[2026-12-01T10:00:00Z] INFO by=hand");
	assert_int_equal(audit_chain_next(l.chain, line, strlen(line), chain),
			 0);
	f->n += (size_t)snprintf(f->text + f->n, TEXT_MAX - f->n,
				 "%s chain=%s\n", line, chain);
	spit(f);
	assert_int_equal(check(c, NULL, NULL, f->path, NULL), QR_ERR_MISMATCH);
	assert_int_equal(c->bad_line, 4);
	assert_non_null(strstr(c->why, "without a seal after sealed lines"));
	free_check(c);
}

/* ---- files a local user could plant ------------------------------------ */

static void
expect_refused(struct fx *f, int want, const char *why)
{
	struct audit a;

	assert_int_equal(audit_open(&a, f->path, f->state), want);
	assert_non_null(strstr(a.why, why));
	assert_int_equal(a.fd, -1);
}

static void
test_refuses_symlink(void **state)
{
	struct fx *f = *state;
	char target[200];

	assert_int_equal(mkdir(f->logdir, 0750), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	close(open(target, O_WRONLY | O_CREAT, 0640));
	assert_int_equal(symlink(target, f->path), 0);
	expect_refused(f, QR_ERR_SYSTEM, "is a symbolic link");
}

static void
test_refuses_foreign_owner(void **state)
{
	struct fx *f = *state;
	int fd;

	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(f->logdir, 0750), 0);
	fd = open(f->path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);
	expect_refused(f, QR_ERR_PERMISSIONS, "belongs to uid 65534");
}

static void
test_refuses_group_writable_file(void **state)
{
	struct fx *f = *state;
	int fd;

	assert_int_equal(mkdir(f->logdir, 0750), 0);
	fd = open(f->path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0660), 0);
	close(fd);
	expect_refused(f, QR_ERR_PERMISSIONS, "is writable by group or others; "
		       "fix with: chmod go-w ");
}

static void
test_refuses_group_writable_dir(void **state)
{
	struct fx *f = *state;

	/* as /var/log/qubes is on Qubes: 2770 root:qubes */
	assert_int_equal(mkdir(f->logdir, 0770), 0);
	assert_int_equal(chmod(f->logdir, 02770), 0);
	expect_refused(f, QR_ERR_PERMISSIONS, "is writable by group or others, "
		       "who could replace the log; fix with: chmod go-w ");
}

static void
test_refuses_second_link(void **state)
{
	struct fx *f = *state;
	char other[200];

	write_n(f, 0, 1);
	snprintf(other, sizeof(other), "%s/other", f->logdir);
	assert_int_equal(link(f->path, other), 0);
	expect_refused(f, QR_ERR_PERMISSIONS, "has 2 links");
}

static void
test_refuses_readable_state(void **state)
{
	struct fx *f = *state;
	char st[256];

	write_n(f, 0, 1);
	snprintf(st, sizeof(st), "%s/" AUDIT_SEAL_FILE, f->state);
	assert_int_equal(chmod(st, 0640), 0);
	expect_refused(f, QR_ERR_PERMISSIONS, "fix with: chmod 600 ");
}

/* What the tests and the packages make is accepted. */
static void
test_accepts_root_dirs(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->logdir, 0700), 0);
	write_n(f, 0, 1);
	assert_int_equal(chmod(f->logdir, 0750), 0);
	write_n(f, 1, 1);
	assert_int_equal(chmod(f->logdir, 0755), 0);
	write_n(f, 2, 1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_key_evolves_one_way),
		T(test_old_key_erased_from_state),
		T(test_seal_round_trip),
		T(test_setup_key_once),
		T(test_crash_between_line_and_state),
		T(test_state_missing),
		T(test_state_ahead),
		T(test_state_damaged),
		T(test_rotation_continues_the_seal),
		T(test_tamper_edit_rechained),
		T(test_tamper_delete_rechained),
		T(test_tamper_reorder_rechained),
		T(test_tamper_insert_rechained),
		T(test_tamper_cut_tail_anchor),
		T(test_tamper_unsealed_line),
		T(test_refuses_symlink),
		T(test_refuses_foreign_owner),
		T(test_refuses_group_writable_file),
		T(test_refuses_group_writable_dir),
		T(test_refuses_second_link),
		T(test_refuses_readable_state),
		T(test_accepts_root_dirs),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
