/*
 * audit.c - dom0's sealed, hash-chained audit log: the writer.
 */
#include "audit.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "err.h"
#include "fileio.h"
#include "logcheck.h"
#include "logline.h"
#include "banned.h"

/* the most audit_write appends: " seq=" 18 digits, seal, chain, "\n" */
#define SUFFIX_MAX (AUDIT_SEQ_TAG_LEN + 18 + AUDIT_SEAL_TAG_LEN + \
		    AUDIT_SEAL_HEX + AUDIT_CHAIN_SUFFIX_LEN + 1)

static_assert(sizeof(SEAL_ZERO) == AUDIT_CHAIN_HEX + 1,
	      "the zero chain has AUDIT_CHAIN_HEX digits");
static_assert(AUDIT_CHAIN_HEX == SEAL_CHAIN_HEX, "one chain width");
static_assert(AUDIT_CHAIN_HEX / 2 <= 32, "a chain value is cut from SHA-256");
static_assert(AUDIT_TAIL_MAX > AUDIT_LINE_MAX,
	      "the tail holds the longest line and the newline before it");

/* ---- files and their owners ---------------------------------------------- */

static int
lock_fd(int fd, int op)
{
	while (flock(fd, op) != 0) {
		if (errno != EINTR)
			return QR_ERR_SYSTEM;
	}
	return 0;
}

static void
set_why(struct audit *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The reason audit_open refused, cut to fit (names may be long). */
static void
set_why(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

#define WHY set_why

/*
 * A directory only this uid (or root) can write: else a local user could
 * move the log away and put their own in its place.
 */
static int
check_dir(struct audit *a, const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		WHY(a, "cannot use the directory %s: %s", dir, strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode)) {
		WHY(a, "%s is not a directory; the log must be in a directory "
		    "only root can write", dir);
		return QR_ERR_PERMISSIONS;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		WHY(a, "the log directory %s belongs to uid %u, who could "
		    "replace the log; fix with: chown root %s", dir,
		    (unsigned)st.st_uid, dir);
		return QR_ERR_PERMISSIONS;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		WHY(a, "the log directory %s is writable by group or others, "
		    "who could replace the log; fix with: chmod go-w %s", dir,
		    dir);
		return QR_ERR_PERMISSIONS;
	}
	return 0;
}

/* The log file itself: ours, regular, one link, written by us only. */
static int
check_file(struct audit *a, int fd, const char *path, int secret,
	   struct stat *st)
{
	if (fstat(fd, st) != 0) {
		WHY(a, "cannot stat %s: %s", path, strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (!S_ISREG(st->st_mode)) {
		WHY(a, "%s is not a regular file; move it away", path);
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	if (st->st_uid != geteuid()) {
		WHY(a, "%s belongs to uid %u, not to uid %u that writes it: "
		    "someone else may have made it; check its lines, then fix "
		    "with: chown %u %s", path, (unsigned)st->st_uid,
		    (unsigned)geteuid(), (unsigned)geteuid(), path);
		return QR_ERR_PERMISSIONS;
	}
	if (st->st_mode & (secret ? (mode_t)077 : (mode_t)(S_IWGRP | S_IWOTH))) {
		WHY(a, "%s is %s by group or others; fix with: chmod %s %s",
		    path, secret ? "readable or writable" : "writable",
		    secret ? "600" : "go-w", path);
		return QR_ERR_PERMISSIONS;
	}
	if (st->st_nlink != 1) {
		WHY(a, "%s has %lu links: another name can change it; remove "
		    "the other links", path, (unsigned long)st->st_nlink);
		return QR_ERR_PERMISSIONS;
	}
	return 0;
}

/* The directory part of path into dir ("." when none). */
static int
dir_of(const char *path, char dir[AUDIT_PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		memcpy(dir, ".", 2);
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= AUDIT_PATH_MAX)
		return QR_ERR_TOO_LARGE;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* Opens the file at a->path into a->fd after the checks. */
static int
open_log(struct audit *a)
{
	char dir[AUDIT_PATH_MAX];
	struct stat st;
	int fd, r, saved;

	if ((r = dir_of(a->path, dir)) != 0)
		return r;
	if (stat(dir, &st) != 0 && errno == ENOENT &&
	    (r = mkdir_p(dir, 0750)) != 0) {
		WHY(a, "cannot create the directory %s: %s", dir,
		    strerror(errno));
		return r;
	}
	if ((r = check_dir(a, dir)) != 0)
		return r;
	/* a new log is 0640 whatever the umask (the unit's is 0077), so the
	 * viewer's group can read it */
	fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
			   O_CLOEXEC, 0640);
	if (fd >= 0)
		(void)fchmod(fd, 0640);
	else if (errno == EEXIST)
		fd = open(a->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
				   O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		if (saved == ELOOP)
			WHY(a, "%s is a symbolic link; the log must be a file "
			    "of its own: remove the link", a->path);
		else
			WHY(a, "cannot open %s: %s", a->path, strerror(saved));
		errno = saved;
		return saved == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	}
	if ((r = check_file(a, fd, a->path, 0, &st)) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return r;
	}
	(void)fcntl(fd, F_SETFL, O_APPEND);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = fd;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->end = -1;                /* read its tail before the next line */
	memcpy(a->prev, SEAL_ZERO, sizeof(SEAL_ZERO));
	return 0;
}

static int
state_path(const struct audit *a, const char *name, char out[AUDIT_PATH_MAX])
{
	int n = snprintf(out, AUDIT_PATH_MAX, "%s/%s", a->state_dir, name);

	return n < 0 || n >= AUDIT_PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

/* Opens (creating it empty) the seal state into a->state_fd. */
static int
open_state(struct audit *a)
{
	char path[AUDIT_PATH_MAX];
	struct stat st;
	int fd, r, saved;

	if ((r = state_path(a, AUDIT_SEAL_FILE, path)) != 0)
		return r;
	if (mkdir_p(a->state_dir, 0700) != 0) {
		WHY(a, "cannot create %s: %s", a->state_dir, strerror(errno));
		return QR_ERR_SYSTEM;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		  0600);
	if (fd < 0) {
		saved = errno;
		WHY(a, "cannot open the seal state %s: %s", path,
		    strerror(saved));
		errno = saved;
		return QR_ERR_SYSTEM;
	}
	if ((r = check_file(a, fd, path, 1, &st)) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return r;
	}
	if (a->state_fd >= 0)
		close(a->state_fd);
	a->state_fd = fd;
	return 0;
}

/* With the lock held: the state file at its path is the one open. */
static int
state_current(struct audit *a)
{
	char path[AUDIT_PATH_MAX];
	struct stat now, open_st;

	if (state_path(a, AUDIT_SEAL_FILE, path) != 0)
		return QR_ERR_TOO_LARGE;
	if (lstat(path, &now) == 0 && fstat(a->state_fd, &open_st) == 0 &&
	    now.st_dev == open_st.st_dev && now.st_ino == open_st.st_ino)
		return 0;
	return open_state(a);
}

/*
 * With the lock held: reads the file's last line into a->tail and
 * a->prev, and its size into a->end, ending a torn last line first.
 */
static int
resync(struct audit *a)
{
	char *tail = NULL;
	struct stat st;
	size_t want, got = 0, start;
	struct audit_line l;
	int r;

	if (fstat(a->fd, &st) != 0)
		return QR_ERR_SYSTEM;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	memcpy(a->prev, SEAL_ZERO, sizeof(SEAL_ZERO));
	a->tail.lines = a->tail.sealed = 0;
	a->tail.seq = 0;
	buf_reset(&a->tail.text);
	a->end = st.st_size;
	if (st.st_size == 0)
		return 0;
	a->tail.lines = 1;
	want = (uint64_t)st.st_size < AUDIT_TAIL_MAX ? (size_t)st.st_size
						      : AUDIT_TAIL_MAX;
	if ((tail = malloc(want)) == NULL)
		return QR_ERR_NOMEM;
	if ((r = pread_full(a->fd, tail, want, st.st_size - (off_t)want,
			    &got)) != 0)
		goto out;
	if (got < want) {
		errno = EIO;        /* the file shrank under the lock */
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (tail[want - 1] != '\n') {
		/* a torn write: end it so our line does not join it */
		if ((r = write_all(a->fd, "\n", 1)) != 0)
			goto out;
		a->end++;
		r = 0;
		goto out;
	}
	/* the last line is tail[start .. want-1) */
	start = want - 1;
	while (start > 0 && tail[start - 1] != '\n')
		start--;
	if (start == 0 && (uint64_t)want < (uint64_t)st.st_size) {
		/* longer than any line we write: not ours */
		r = 0;
		goto out;
	}
	if (audit_parse(tail + start, want - 1 - start, &l) == 0) {
		memcpy(a->prev, l.chain, sizeof(l.chain));
		memcpy(a->tail.chain, l.chain, sizeof(l.chain));
		if (l.sealed) {
			a->tail.sealed = 1;
			a->tail.seq = l.seq;
			memcpy(a->tail.seal, l.seal, sizeof(l.seal));
			(void)buf_append(&a->tail.text, tail + start,
					 l.body_len);
		}
	}
	r = 0;
out:
	free(tail);
	return r;
}

int
audit_open(struct audit *a, const char *path, const char *state_dir)
{
	int r, saved;
	size_t n = strlen(path), m = strlen(state_dir);

	memset(a, 0, sizeof(*a));
	a->fd = a->state_fd = -1;
	a->live = 1;
	buf_init(&a->tail.text, AUDIT_LINE_MAX);
	memcpy(a->prev, SEAL_ZERO, sizeof(SEAL_ZERO));
	if (n == 0 || n >= sizeof(a->path) || m == 0 ||
	    m >= sizeof(a->state_dir)) {
		WHY(a, "the log's path or the state directory is too long");
		return QR_ERR_TOO_LARGE;
	}
	memcpy(a->path, path, n + 1);
	memcpy(a->state_dir, state_dir, m + 1);
	if ((r = open_state(a)) != 0 || (r = open_log(a)) != 0)
		goto fail;
	if ((r = lock_fd(a->state_fd, LOCK_EX)) != 0)
		goto fail;
	r = resync(a);
	(void)flock(a->state_fd, LOCK_UN);
	if (r != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	audit_close(a);
	errno = saved;
	return r;
}

int
audit_reopen(struct audit *a)
{
	int r, old = a->fd, saved;

	if (!a->live || a->state_fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	if ((r = lock_fd(a->state_fd, LOCK_EX)) != 0)
		return r;
	a->fd = -1;
	if ((r = open_log(a)) == 0) {
		if (old >= 0)
			close(old);
		r = resync(a);
	} else {
		a->fd = old;    /* keep writing where we were */
		a->end = -1;
	}
	saved = errno;
	(void)flock(a->state_fd, LOCK_UN);
	errno = saved;
	return r;
}

void
audit_close(struct audit *a)
{
	if (!a->live) {
		if (a->fd >= 0)
			close(a->fd);
		a->fd = -1;
		return;
	}
	if (a->fd >= 0)
		close(a->fd);
	if (a->state_fd >= 0)
		close(a->state_fd);
	a->fd = a->state_fd = -1;
	buf_release(&a->tail.text);
	a->live = 0;
}

/* ---- the seal state --------------------------------------------------- */

/* 1 with the state in *st, 0 when there is none (an empty file), or
 * QR_ERR_INVALID for a damaged one. */
static int
state_read(struct audit *a, struct seal_state *st)
{
	char text[SEAL_STATE_LEN + 1];
	size_t got = 0;
	int r;

	if (pread_full(a->state_fd, text, sizeof(text), 0, &got) != 0)
		return QR_ERR_SYSTEM;
	if (got == 0) {
		r = 0;
		goto out;
	}
	r = seal_state_parse(text, got, st) == 0 ? 1 : QR_ERR_INVALID;
out:
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* Overwrites the state in place (same offset, same length). */
static int
state_save(struct audit *a, const struct seal_state *st)
{
	char text[SEAL_STATE_LEN + 1];
	int r = seal_state_format(st, text);

	if (r == 0)
		r = pwrite_all(a->state_fd, text, SEAL_STATE_LEN, 0);
	OPENSSL_cleanse(text, sizeof(text));
	a->state_err = r != 0;
	return r;
}

/* Keeps a new seal's verification key for setup-key to show. */
static int
keep_pending(struct audit *a, const char *key)
{
	char text[SEAL_KEY_TEXT_MAX + 1];
	size_t n = strlen(key);
	int r;

	memcpy(text, key, n);
	text[n++] = '\n';
	r = write_file_atomic(a->state_dir, AUDIT_PENDING_FILE, text, n, 0600,
			      1);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* ---- writing ---------------------------------------------------------- */

static int
line_ok(const struct buf *line)
{
	for (size_t i = 0; i < line->len; i++) {
		unsigned char ch = (unsigned char)line->data[i];
		if (ch < 0x20 || ch > 0x7e)
			return 0;
	}
	return 1;
}

/*
 * Seals line with st (the key of st->seq + 1), writes it, and advances
 * st in memory; the caller saves it.  On failure the file and line are
 * as they were and st did not advance.
 */
static int
seal_one(struct audit *a, struct seal_state *st, struct buf *line)
{
	char seal[AUDIT_SEAL_HEX + 1], chain[AUDIT_CHAIN_HEX + 1];
	size_t orig = line->len;
	off_t before = a->end;
	int r;

	if ((r = buf_printf(line, AUDIT_SEQ_TAG "%" PRIu64, st->next.seq)) != 0 ||
	    (r = seal_line(&st->next, st->seal, line->data, line->len,
			   seal)) != 0 ||
	    (r = buf_printf(line, AUDIT_SEAL_TAG "%s", seal)) != 0 ||
	    (r = audit_chain_next(a->prev, line->data, line->len, chain)) != 0 ||
	    (r = buf_printf(line, AUDIT_CHAIN_TAG "%s\n", chain)) != 0)
		goto fail;
	if ((r = write_all(a->fd, line->data, line->len)) != 0) {
		int saved = errno;
		/* cut a partial line off, so the file stays whole */
		if (before < 0 || ftruncate(a->fd, before) != 0)
			a->end = -1;
		errno = saved;
		goto fail;
	}
	a->end += (off_t)line->len;
	memcpy(a->prev, chain, sizeof(chain));
	st->seq = st->next.seq;
	memcpy(st->seal, seal, sizeof(seal));
	memcpy(st->chain, chain, sizeof(chain));
	if ((r = seal_evolve(&st->next)) != 0)
		return r;
	if (a->echo) {
		(void)write_all(STDERR_FILENO, line->data, orig);
		(void)write_all(STDERR_FILENO, "\n", 1);
	}
	return 0;
fail:
	line->len = orig;
	if (line->data != NULL)
		line->data[orig] = '\0';
	return r;
}

/* Writes a line the writer itself adds (a break, a new seal, a new file). */
static int
seal_notice(struct audit *a, struct seal_state *st, const char *category,
	    const char *action, const char *k1, const char *v1,
	    const char *k2, const char *v2)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	int r;

	if ((r = logline_begin(&line, time(NULL), category)) != 0 ||
	    (r = logline_kvs(&line, "action", action)) != 0 ||
	    /* k1 without v1: fields of our own making, as they are */
	    (k1 != NULL && v1 == NULL && (r = buf_printf(&line, " %s", k1)) != 0) ||
	    (k1 != NULL && v1 != NULL && (r = logline_kvs(&line, k1, v1)) != 0) ||
	    (k2 != NULL && (r = logline_kvs(&line, k2, v2)) != 0))
		goto out;
	r = seal_one(a, st, &line);
out:
	buf_release(&line);
	return r;
}

/* A new seal for the line after `after` (0: the log's first). */
static int
seal_begin(struct audit *a, struct seal_state *st, uint64_t after,
	   const char *prev_seal, const char *why)
{
	char key[SEAL_KEY_TEXT_MAX], note[AUDIT_PATH_MAX + 128];
	int r;

	memset(st, 0, sizeof(*st));
	st->seq = after;
	memcpy(st->seal, prev_seal, AUDIT_SEAL_HEX + 1);
	memcpy(st->chain, a->prev, sizeof(st->chain));
	if ((r = seal_key_new(&st->next, after + 1)) != 0 ||
	    (r = seal_key_format(&st->next, key)) != 0)
		goto out;
	if (a->show_key != NULL) {
		memcpy(a->show_key, key, sizeof(key));
		snprintf(note, sizeof(note), "the verification key was shown "
			 "by audit setup-key");
	} else {
		if ((r = keep_pending(a, key)) != 0)
			goto out;
		snprintf(note, sizeof(note), "the verification key is kept in "
			 "%s/" AUDIT_PENDING_FILE " until it is shown: run "
			 "qvm-remote-dom0 audit setup-key", a->state_dir);
	}
	r = why == NULL
	    ? seal_notice(a, st, "INFO", "seal-start", "note", note, NULL, NULL)
	    : seal_notice(a, st, "ERROR", "seal-restart", "reason", why,
			  "note", note);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/*
 * With the lock held and a->tail current: brings *st and the file into
 * step before a line is added, writing the sealed line that records any
 * break.  have: the result of state_read.
 */
static int
reconcile(struct audit *a, struct seal_state *st, int have)
{
	const struct audit_tail *t = &a->tail;
	char why[256], ls[24], ss[24], cs[AUDIT_SEAL_HEX + AUDIT_CHAIN_HEX + 96];
	int r;

	if (have <= 0) {
		if (!t->sealed)
			return seal_begin(a, st, 0, SEAL_ZERO,
					  have < 0 ? "the seal state was "
					  "damaged; a new seal starts" : NULL);
		snprintf(why, sizeof(why), "the seal state was %s while the "
			 "log has sealed lines (up to seq %" PRIu64 "); a new "
			 "seal starts here, earlier lines need the old key",
			 have < 0 ? "damaged" : "missing", t->seq);
		return seal_begin(a, st, t->seq, t->seal, why);
	}
	snprintf(ls, sizeof(ls), "%" PRIu64, t->seq);
	snprintf(ss, sizeof(ss), "%" PRIu64, st->seq);
	if (!t->lines) {
		/* a new file: sealed to the old one's last line */
		if (st->seq == 0)
			return 0;
		snprintf(cs, sizeof(cs), "prev_seq=%s prev_seal=%s "
			 "prev_chain=%s", ss, st->seal, st->chain);
		return seal_notice(a, st, "INFO", "log-continue", cs, NULL,
				   NULL, NULL);
	}
	if (!t->sealed)
		return seal_notice(a, st, "ERROR", "seal-break", "reason",
				   "the log's last line is not sealed: it was "
				   "added or changed by hand", "state_seq", ss);
	if (t->seq == st->seq) {
		if (memcmp(t->seal, st->seal, AUDIT_SEAL_HEX) == 0)
			return 0;
		return seal_notice(a, st, "ERROR", "seal-break", "reason",
				   "the log's last line is not the line "
				   "sealed last: it was changed", "log_seq", ls);
	}
	if (t->seq == st->seq + 1) {
		/* a writer stopped between its line and the state: the line
		 * must verify with the state's key */
		char want[AUDIT_SEAL_HEX + 1];
		if ((r = seal_line(&st->next, st->seal, t->text.data,
				   t->text.len, want)) != 0)
			return r;
		if (CRYPTO_memcmp(want, t->seal, AUDIT_SEAL_HEX) == 0) {
			st->seq = t->seq;
			memcpy(st->seal, t->seal, sizeof(t->seal));
			memcpy(st->chain, t->chain, sizeof(t->chain));
			return seal_evolve(&st->next);
		}
	}
	if (t->seq > st->seq) {
		/* the state is behind: evolve it to the log, and say so */
		if ((r = seal_advance(&st->next, t->seq + 1)) != 0)
			return r;
		snprintf(why, sizeof(why), "the seal state (seq %s) was behind "
			 "the log (seq %s): lines after %s were not sealed by "
			 "this state", ss, ls, ss);
		st->seq = t->seq;
		memcpy(st->seal, t->seal, sizeof(t->seal));
		memcpy(st->chain, t->chain, sizeof(t->chain));
		return seal_notice(a, st, "ERROR", "seal-break", "reason", why,
				   "log_seq", ls);
	}
	snprintf(why, sizeof(why), "the log ends at seq %s but the seal is at "
		 "seq %s: lines were cut from the log or it was replaced", ls,
		 ss);
	return seal_notice(a, st, "ERROR", "seal-break", "reason", why,
			   "log_seq", ls);
}

/* With the lock held: the file at a->path is the one open. */
static int
log_current(struct audit *a)
{
	struct stat st;
	int r;

	if (lstat(a->path, &st) == 0 && st.st_dev == a->dev &&
	    st.st_ino == a->ino)
		return 0;
	/* moved or removed: a rotation, or an attack; the new file is
	 * checked like the first */
	if ((r = open_log(a)) != 0)
		return r;
	return 0;
}

int
audit_write(struct audit *a, struct buf *line)
{
	struct seal_state st;
	struct stat fst;
	size_t orig = line->len;
	int r, have, saved;

	memset(&st, 0, sizeof(st));
	if (!a->live || a->fd < 0 || a->state_fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	if (!line_ok(line))
		return QR_ERR_INVALID;
	if (orig + SUFFIX_MAX > AUDIT_LINE_MAX)
		return QR_ERR_TOO_LARGE;
	if ((r = lock_fd(a->state_fd, LOCK_EX)) != 0)
		return r;
	if ((r = state_current(a)) != 0 || (r = log_current(a)) != 0)
		goto out;
	if (fstat(a->fd, &fst) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (fst.st_size != a->end && (r = resync(a)) != 0)
		goto out;
	if ((have = state_read(a, &st)) == QR_ERR_SYSTEM) {
		r = have;
		goto out;
	}
	/* a failed notice left st as the file: nothing to save */
	if ((r = reconcile(a, &st, have)) != 0)
		goto out;
	if ((r = seal_one(a, &st, line)) != 0) {
		if (st.seq > 0)
			(void)state_save(a, &st);   /* a notice got out */
		goto out;
	}
	/* the line is in the log: a state not saved is caught up by the
	 * next writer, and audit_sync reports it */
	(void)state_save(a, &st);
	r = 0;
	a->last.seq = st.seq;
	memcpy(a->last.seal, st.seal, sizeof(st.seal));
	a->tail.lines = a->tail.sealed = 1;
	a->tail.seq = st.seq;
	memcpy(a->tail.seal, st.seal, sizeof(st.seal));
	memcpy(a->tail.chain, st.chain, sizeof(st.chain));
	buf_reset(&a->tail.text);
out:
	saved = errno;
	seal_key_wipe(&st.next);
	(void)flock(a->state_fd, LOCK_UN);
	errno = saved;
	return r;
}

int
audit_sync(struct audit *a)
{
	if (!a->live || a->fd < 0 || a->state_fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	if (fdatasync(a->fd) != 0 || fdatasync(a->state_fd) != 0)
		return QR_ERR_SYSTEM;
	if (a->state_err) {
		errno = EIO;
		return QR_ERR_SYSTEM;
	}
	return 0;
}

void
audit_anchor(const struct audit *a, struct audit_anchor *out)
{
	*out = a->last;
	if (out->seq == 0)
		memcpy(out->seal, SEAL_ZERO, sizeof(SEAL_ZERO));
}

/* ---- the verification key --------------------------------------------- */

int
audit_key_pending(const char *state_dir)
{
	char path[AUDIT_PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/" AUDIT_PENDING_FILE,
			 state_dir);

	return n > 0 && (size_t)n < sizeof(path) && lstat(path, &st) == 0;
}

/* Reads the pending key into key, then overwrites and removes the file. */
static int
take_pending(struct audit *a, char key[SEAL_KEY_TEXT_MAX])
{
	char path[AUDIT_PATH_MAX], text[SEAL_KEY_TEXT_MAX + 2];
	struct seal_key k;
	struct stat st;
	ssize_t n;
	int fd, r;

	if ((r = state_path(a, AUDIT_PENDING_FILE, path)) != 0)
		return r;
	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	if ((r = check_file(a, fd, path, 1, &st)) != 0)
		goto out;
	n = read(fd, text, sizeof(text) - 1);
	if (n <= 0 || seal_key_parse(text, (size_t)n, &k) != 0 ||
	    seal_key_format(&k, key) != 0) {
		WHY(a, "%s is damaged; start a new log to get a new key", path);
		r = QR_ERR_INVALID;
		goto out;
	}
	/* overwrite in place before the name goes */
	OPENSSL_cleanse(text, sizeof(text));
	if (pwrite(fd, text, (size_t)n, 0) != n || fdatasync(fd) != 0 ||
	    unlink(path) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	r = 0;
out:
	seal_key_wipe(&k);
	OPENSSL_cleanse(text, sizeof(text));
	close(fd);
	return r;
}

int
audit_setup_key(struct audit *a, char key[SEAL_KEY_TEXT_MAX])
{
	struct seal_state st;
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	int r, have, saved;

	key[0] = '\0';
	if ((r = lock_fd(a->state_fd, LOCK_EX)) != 0)
		return r;
	if ((r = state_current(a)) != 0)
		goto out;
	if ((r = take_pending(a, key)) != QR_ERR_NOT_FOUND)
		goto out;
	if ((have = state_read(a, &st)) != 0) {
		seal_key_wipe(&st.next);
		r = have < 0 ? have : QR_ERR_EXISTS;
		goto out;
	}
	(void)flock(a->state_fd, LOCK_UN);
	/* the first line starts the seal and puts its key in key */
	a->show_key = key;
	if ((r = logline_begin(&line, time(NULL), "INFO")) == 0 &&
	    (r = logline_kvs(&line, "action", "setup-key")) == 0 &&
	    (r = logline_kvu(&line, "uid", (uint64_t)getuid())) == 0)
		r = audit_write(a, &line);
	a->show_key = NULL;
	buf_release(&line);
	if (r == 0 && key[0] == '\0')
		r = QR_ERR_EXISTS;     /* another writer began it first */
	return r;
out:
	saved = errno;
	(void)flock(a->state_fd, LOCK_UN);
	errno = saved;
	return r;
}
