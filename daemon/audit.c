/*
 * audit.c - dom0's hash-chained audit log.
 */
#include "audit.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "err.h"
#include "fileio.h"
#include "banned.h"

#define CHAIN_TAG " chain="
#define CHAIN_TAG_LEN (sizeof(CHAIN_TAG) - 1)
#define CHAIN_SUFFIX_LEN (CHAIN_TAG_LEN + AUDIT_CHAIN_HEX)
#define ZERO_CHAIN "00000000000000000000000000000000"

static_assert(sizeof(ZERO_CHAIN) == AUDIT_CHAIN_HEX + 1,
	      "the zero chain has AUDIT_CHAIN_HEX digits");
static_assert(AUDIT_CHAIN_HEX / 2 <= 32, "a chain value is cut from SHA-256");
static_assert(AUDIT_TAIL_MAX > AUDIT_LINE_MAX,
	      "the tail holds the longest line and the newline before it");

/* out = hex(SHA-256(prev || p[0..n)))[0..AUDIT_CHAIN_HEX) */
static int
chain_next(EVP_MD_CTX *ctx, const char prev[AUDIT_CHAIN_HEX + 1],
	   const char *p, size_t n, char out[AUDIT_CHAIN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, AUDIT_CHAIN_HEX) != 1 ||
	    EVP_DigestUpdate(ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 32)
		return QR_ERR_CRYPTO;
	for (i = 0; i < AUDIT_CHAIN_HEX / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[AUDIT_CHAIN_HEX] = '\0';
	return 0;
}

/*
 * When line[0..n) (no newline) ends in " chain=HEX", sets *content_len to
 * the length before it, copies HEX to chain and returns 1.
 */
static int
split_chain(const char *line, size_t n, size_t *content_len,
	    char chain[AUDIT_CHAIN_HEX + 1])
{
	const char *h;
	size_t i;

	if (n < CHAIN_SUFFIX_LEN)
		return 0;
	if (memcmp(line + n - CHAIN_SUFFIX_LEN, CHAIN_TAG, CHAIN_TAG_LEN) != 0)
		return 0;
	h = line + n - AUDIT_CHAIN_HEX;
	for (i = 0; i < AUDIT_CHAIN_HEX; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	memcpy(chain, h, AUDIT_CHAIN_HEX);
	chain[AUDIT_CHAIN_HEX] = '\0';
	*content_len = n - CHAIN_SUFFIX_LEN;
	return 1;
}

static int
lock_fd(int fd, int op)
{
	while (flock(fd, op) != 0) {
		if (errno != EINTR)
			return QR_ERR_SYSTEM;
	}
	return 0;
}

/*
 * With the lock held: reads the chain value of the file's last line into
 * a->prev and the size into a->end, ending a torn last line first.
 */
static int
resync(struct audit *a)
{
	char *tail = NULL;
	struct stat st;
	size_t want, got = 0, start, content;
	int r;

	if (fstat(a->fd, &st) != 0)
		return QR_ERR_SYSTEM;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	memcpy(a->prev, ZERO_CHAIN, sizeof(ZERO_CHAIN));
	a->end = st.st_size;
	if (st.st_size == 0)
		return 0;
	want = (uint64_t)st.st_size < AUDIT_TAIL_MAX ? (size_t)st.st_size
						      : AUDIT_TAIL_MAX;
	if ((tail = malloc(want)) == NULL)
		return QR_ERR_NOMEM;
	while (got < want) {
		ssize_t k = pread(a->fd, tail + got, want - got,
				  st.st_size - (off_t)want + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			r = QR_ERR_SYSTEM;
			goto out;
		}
		got += (size_t)k;
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
		/* longer than any line we write: not ours, restart the chain */
		r = 0;
		goto out;
	}
	(void)split_chain(tail + start, want - 1 - start, &content, a->prev);
	r = 0;
out:
	free(tail);
	return r;
}

/* Creates the directory of path (0750) when it is missing. */
static int
ensure_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;
	size_t n;

	if (slash == NULL || slash == path)
		return 0;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return QR_ERR_TOO_LARGE;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	return mkdir_p(dir, 0750);
}

int
audit_open(struct audit *a, const char *path)
{
	int r, saved;

	a->fd = -1;
	a->end = 0;
	a->echo = 0;
	memcpy(a->prev, ZERO_CHAIN, sizeof(ZERO_CHAIN));
	if ((r = ensure_parent(path)) != 0)
		return r;
	/* a new log is 0640 whatever the umask (the unit's is 0077), so the
	 * viewer's group can read it */
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
			   O_CLOEXEC, 0640);
	if (a->fd >= 0)
		(void)fchmod(a->fd, 0640);
	else if (errno == EEXIST)
		a->fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (a->fd < 0)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	if ((r = lock_fd(a->fd, LOCK_EX)) != 0)
		goto fail;
	r = resync(a);
	(void)flock(a->fd, LOCK_UN);
	if (r != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	close(a->fd);
	a->fd = -1;
	errno = saved;
	return r;
}

static int
line_ok(const struct buf *line)
{
	size_t i;

	for (i = 0; i < line->len; i++) {
		unsigned char ch = (unsigned char)line->data[i];
		if (ch < 0x20 || ch > 0x7e)
			return 0;
	}
	return 1;
}

int
audit_write(struct audit *a, struct buf *line)
{
	EVP_MD_CTX *ctx = NULL;
	char next[AUDIT_CHAIN_HEX + 1];
	size_t orig = line->len;
	struct stat st;
	int r, locked = 0;

	if (a->fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	if (!line_ok(line))
		return QR_ERR_INVALID;
	if (orig + CHAIN_SUFFIX_LEN + 1 > AUDIT_LINE_MAX)
		return QR_ERR_TOO_LARGE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return QR_ERR_NOMEM;
	if ((r = lock_fd(a->fd, LOCK_EX)) != 0)
		goto out;
	locked = 1;
	if (fstat(a->fd, &st) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (st.st_size != a->end && (r = resync(a)) != 0)
		goto out;
	if ((r = chain_next(ctx, a->prev, buf_str(line), orig, next)) != 0 ||
	    (r = buf_printf(line, CHAIN_TAG "%s\n", next)) != 0)
		goto out;
	if ((r = write_all(a->fd, line->data, line->len)) != 0) {
		int saved = errno;

		/* a full file system may have taken part of the line: cut it
		 * off (the lock is held, the old end is known), so a torn
		 * line never breaks the chain; if that fails too, the chain
		 * is unknown: reread it before the next line */
		if (ftruncate(a->fd, a->end) != 0)
			a->end = -1;
		errno = saved;
		goto out;
	}
	a->end += (off_t)line->len;
	memcpy(a->prev, next, sizeof(next));
	if (a->echo) {
		(void)write_all(STDERR_FILENO, line->data, orig);
		(void)write_all(STDERR_FILENO, "\n", 1);
	}
	r = 0;
out:
	if (locked) {
		int saved = errno;
		(void)flock(a->fd, LOCK_UN);
		errno = saved;
	}
	EVP_MD_CTX_free(ctx);
	if (r != 0 && line->len != orig) {
		line->len = orig;
		line->data[orig] = '\0';
	}
	return r;
}

int
audit_sync(struct audit *a)
{
	if (a->fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	return fdatasync(a->fd) == 0 ? 0 : QR_ERR_SYSTEM;
}

void
audit_close(struct audit *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/*
 * Checks one line (no newline) against *prev and advances it.  0 when the
 * line verifies.
 */
static int
verify_line(EVP_MD_CTX *ctx, const char *line, size_t n,
	    char prev[AUDIT_CHAIN_HEX + 1])
{
	char rec[AUDIT_CHAIN_HEX + 1], want[AUDIT_CHAIN_HEX + 1];
	size_t content;
	int r;

	if (n + 1 > AUDIT_LINE_MAX || !split_chain(line, n, &content, rec))
		return QR_ERR_MISMATCH;
	if ((r = chain_next(ctx, prev, line, content, want)) != 0)
		return r;
	if (memcmp(want, rec, AUDIT_CHAIN_HEX) != 0)
		return QR_ERR_MISMATCH;
	memcpy(prev, rec, sizeof(rec));
	return 0;
}

int
audit_verify(const char *path, unsigned long *lines, unsigned long *bad_line)
{
	char prev[AUDIT_CHAIN_HEX + 1] = ZERO_CHAIN;
	EVP_MD_CTX *ctx = NULL;
	char *buf = NULL;
	size_t have = 0, cap = 2 * AUDIT_LINE_MAX;
	unsigned long count = 0;
	struct stat st;
	int fd, r, eof = 0;

	*lines = 0;
	*bad_line = 0;
	if ((fd = open_regular(path, &st)) < 0)
		return fd;
	if ((buf = malloc(cap)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		r = QR_ERR_NOMEM;
		goto out;
	}
	/* Stream the file through a window twice the longest line: every
	 * complete line is checked, a partial one waits for more bytes. */
	while (!eof || have > 0) {
		size_t off = 0;

		if (!eof && have < cap) {
			ssize_t k = read(fd, buf + have, cap - have);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = QR_ERR_SYSTEM;
				goto out;
			}
			if (k == 0)
				eof = 1;
			have += (size_t)k;
			if (!eof && have < cap)
				continue;
		}
		for (;;) {
			char *nl = memchr(buf + off, '\n', have - off);
			size_t n;

			if (nl == NULL) {
				/* a line longer than any we write, or a last
				 * line without its newline */
				if (have - off >= AUDIT_LINE_MAX ||
				    (eof && have > off)) {
					count++;
					*bad_line = count;
					r = QR_ERR_MISMATCH;
					goto out;
				}
				break;
			}
			n = (size_t)(nl - (buf + off));
			count++;
			if ((r = verify_line(ctx, buf + off, n, prev)) != 0) {
				if (r == QR_ERR_MISMATCH)
					*bad_line = count;
				goto out;
			}
			off += n + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	r = 0;
out:
	*lines = count;
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}
