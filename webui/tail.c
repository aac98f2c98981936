/*
 * tail.c - follow the audit log through appends, truncation and rotation.
 */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>

#include "clock.h"
#include "err.h"
#include "logparse.h"
#include "banned.h"

#define CHUNK (64u << 10)

int
tail_init(struct tail *t, const char *path, size_t window)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->window = window;
	t->state = TAIL_WAITING;
	buf_init(&t->partial, LOGPARSE_LINE_MAX);
	if ((t->path = strdup(path)) == NULL)
		return QR_ERR_NOMEM;
	return 0;
}

static void
close_file(struct tail *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	buf_reset(&t->partial);
	t->discard = 0;
	t->discard_report = 0;
	t->seen_len = 0;
}

void
tail_release(struct tail *t)
{
	close_file(t);
	buf_release(&t->partial);
	free(t->path);
	t->path = NULL;
}

/* pread all of [off, off+n) or up to end of file; bytes read, or -1. */
static ssize_t
read_at(int fd, char *p, size_t n, off_t off)
{
	for (;;) {
		ssize_t k = pread(fd, p, n, off);

		if (k >= 0 || errno != EINTR)
			return k;
	}
}

/*
 * Sets off and lineno for reading the last t->window bytes of a file of
 * size bytes: counts the newlines before, and when the window starts
 * inside a line, drops that line.  1 when bytes were skipped.
 */
static int
position(struct tail *t, off_t size)
{
	off_t start = 0, at = 0;
	char *chunk = NULL;
	int skipped = 0;

	t->off = 0;
	t->lineno = 0;
	t->counted = 1;
	if ((uint64_t)size <= t->window)
		return 0;
	start = size - (off_t)t->window;
	if ((chunk = malloc(CHUNK)) == NULL)
		goto count_failed;
	while (at < start) {
		size_t want = (uint64_t)(start - at) < CHUNK ? (size_t)(start - at)
							      : CHUNK;
		ssize_t k = read_at(t->fd, chunk, want, at);
		const char *p = chunk, *end;

		if (k <= 0)
			goto count_failed;
		end = chunk + k;
		while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			t->lineno++;
			p++;
		}
		at += k;
	}
	skipped = 1;
	/* the window starts mid-line unless a newline ends the byte before */
	if (read_at(t->fd, chunk, 1, start - 1) == 1 && chunk[0] != '\n')
		t->discard = 1;
	free(chunk);
	t->off = start;
	return skipped;
count_failed:
	/* line numbers unknown from here: say 0, keep the bound */
	free(chunk);
	t->lineno = 0;
	t->counted = 0;
	t->off = start;
	t->discard = 1;
	return 1;
}

static int
open_file(struct tail *t, const struct tail_ops *ops, void *ctx)
{
	struct stat st = { 0 };
	int skipped;

	t->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (t->fd < 0) {
		t->err = errno;
		t->state = errno == ENOENT ? TAIL_WAITING : TAIL_FAILED;
		return -1;
	}
	if (fstat(t->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* a FIFO or device at the path would block or never end */
		t->err = S_ISREG(st.st_mode) ? errno : EINVAL;
		t->state = TAIL_FAILED;
		close_file(t);
		return -1;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->state = TAIL_READING;
	t->err = 0;
	skipped = position(t, st.st_size);
	ops->mark(ctx, TAIL_OPENED, (uint64_t)skipped);
	return 0;
}

/* Takes bytes p[0..n) of the file: emits the lines they complete. */
static void
feed(struct tail *t, const char *p, size_t n, const struct tail_ops *ops,
     void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl != NULL ? (size_t)(nl - p) : n;

		if (t->discard) {
			if (nl == NULL)
				return;
			t->lineno++;
			if (t->discard_report)
				ops->mark(ctx, TAIL_LONG_LINE,
					  t->counted ? t->lineno : 0);
			t->discard = 0;
			t->discard_report = 0;
		} else if (buf_append(&t->partial, p, part) != 0) {
			/* longer than any line logparse takes */
			buf_reset(&t->partial);
			t->discard = 1;
			t->discard_report = 1;
			continue;       /* the same bytes, now discarded */
		} else if (nl != NULL) {
			t->lineno++;
			ops->line(ctx, t->counted ? t->lineno : 0,
				  t->partial.data != NULL ? t->partial.data : "",
				  t->partial.len);
			buf_reset(&t->partial);
		}
		if (nl == NULL)
			return;
		p = nl + 1;
		n -= part + 1;
	}
}

/* Keeps the bytes just before off, to notice the file rewritten. */
static void
remember(struct tail *t)
{
	size_t n = (uint64_t)t->off < TAIL_SEEN_MAX ? (size_t)t->off
						     : TAIL_SEEN_MAX;
	ssize_t k = n > 0 ? read_at(t->fd, t->seen, n, t->off - (off_t)n) : 0;

	t->seen_len = k == (ssize_t)n ? n : 0;
}

/* 1 when the bytes before off are no longer what was read there. */
static int
rewritten(struct tail *t)
{
	char now[TAIL_SEEN_MAX];

	if (t->seen_len == 0)
		return 0;
	if (read_at(t->fd, now, t->seen_len, t->off - (off_t)t->seen_len) !=
	    (ssize_t)t->seen_len)
		return 1;
	return memcmp(now, t->seen, t->seen_len) != 0;
}

/* 1 when the path still names the open file. */
static int
same_file(const struct tail *t, int *gone)
{
	struct stat st;

	*gone = 0;
	if (stat(t->path, &st) != 0) {
		*gone = errno == ENOENT;
		/* another error (a directory made unreadable): keep going */
		return !*gone;
	}
	return st.st_dev == t->dev && st.st_ino == t->ino;
}

int
tail_poll(struct tail *t, const struct tail_ops *ops, void *ctx)
{
	char *chunk = NULL;
	size_t budget = TAIL_READ_BUDGET;
	struct stat st;
	int gone, r = 0;

	if (t->fd < 0 && open_file(t, ops, ctx) != 0)
		return 0;
	if (fstat(t->fd, &st) != 0)
		goto reopen;
	if (st.st_size < t->off ||
	    (st.st_size > t->off && rewritten(t))) {
		ops->mark(ctx, TAIL_TRUNCATED, 0);
		close_file(t);
		if (open_file(t, ops, ctx) != 0)
			return 0;
		if (fstat(t->fd, &st) != 0)
			goto reopen;
	}
	if ((chunk = malloc(CHUNK)) == NULL)
		return 1;   /* try again */
	while (t->off < st.st_size && budget > 0) {
		size_t want = CHUNK < budget ? CHUNK : budget;
		ssize_t k;

		if ((uint64_t)(st.st_size - t->off) < want)
			want = (size_t)(st.st_size - t->off);
		k = read_at(t->fd, chunk, want, t->off);
		if (k <= 0)
			break;  /* shrunk under us: the next poll sees it */
		feed(t, chunk, (size_t)k, ops, ctx);
		t->off += k;
		budget -= (size_t)k;
	}
	free(chunk);
	remember(t);
	if (t->off < st.st_size)
		return 1;
	/* caught up with this file: is it still the one the path names? */
	if (same_file(t, &gone)) {
		t->gone_since = 0;
		return r;
	}
	if (gone) {
		/* a rotation renames, then creates: give it a moment */
		if (t->gone_since == 0)
			t->gone_since = mono_ms();
		if (mono_ms() - t->gone_since < TAIL_GONE_MS)
			return 0;
	}
	t->gone_since = 0;
	/* the writer may have added to the old file before it moved on */
	if (fstat(t->fd, &st) == 0 && st.st_size > t->off)
		return 1;
	ops->mark(ctx, gone ? TAIL_GONE : TAIL_ROTATED, 0);
	close_file(t);
	t->state = TAIL_WAITING;
	return gone ? 0 : 1;
reopen:
	close_file(t);
	t->state = TAIL_WAITING;
	return 0;
}
