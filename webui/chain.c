/*
 * chain.c - the keyless check of the log for the viewer, incremental.
 */
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auditfmt.h"
#include "err.h"
#include "escape.h"
#include "fileio.h"
#include "logcheck.h"
#include "banned.h"

#define WINDOW (2 * AUDIT_LINE_MAX)

void
chain_watch_init(struct chain_watch *w)
{
	memset(w, 0, sizeof(*w));
}

void
chain_watch_release(struct chain_watch *w)
{
	if (w->lc != NULL)
		logcheck_release(w->lc);
	free(w->lc);
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static void
restart(struct chain_watch *w, const char *path, const struct stat *sb)
{
	logcheck_release(w->lc);
	logcheck_init(w->lc);
	logcheck_begin_file(w->lc, path);
	w->have = 1;
	w->dev = sb->st_dev;
	w->ino = sb->st_ino;
	w->pos = 0;
	w->partial_at = -1;
	memset(&w->broken, 0, sizeof(w->broken));
	clock_gettime(CLOCK_MONOTONIC, &w->full);
}

static void
set_broken(struct chain_watch *w, struct chain_status *st)
{
	st->state = CHAIN_BROKEN;
	st->bad = w->lc->bad_line;
	st->lines = w->lc->lines_file;
	w->broken = *st;
}

/* Reads and checks from w->pos to the end of fd. */
static int
advance(struct chain_watch *w, int fd, struct chain_status *st, off_t size)
{
	size_t have = 0;

	for (;;) {
		size_t off = 0;
		ssize_t k = pread(fd, w->buf + have, WINDOW - have,
				  w->pos + (off_t)have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return QR_ERR_SYSTEM;
		have += (size_t)k;
		for (;;) {
			char *nl = memchr(w->buf + off, '\n', have - off);
			size_t n;
			if (nl == NULL)
				break;
			n = (size_t)(nl - (w->buf + off));
			if (logcheck_line(w->lc, w->buf + off, n) != 0) {
				set_broken(w, st);
				return 0;
			}
			off += n + 1;
		}
		memmove(w->buf, w->buf + off, have - off);
		have -= off;
		w->pos += (off_t)off;
		if (have >= AUDIT_LINE_MAX) {
			(void)logcheck_torn(w->lc, 1);
			set_broken(w, st);
			return 0;
		}
		if (k == 0)
			break;
	}
	st->lines = w->lc->lines_file;
	if (have == 0) {
		w->partial_at = -1;
		return 0;
	}
	/* a last line without its newline: being written, unless it was
	 * there, unchanged, at the last check too */
	if (w->partial_at == size) {
		(void)logcheck_torn(w->lc, 0);
		set_broken(w, st);
		return 0;
	}
	w->partial_at = size;
	return QR_ERR_INCOMPLETE;
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int
chain_watch_due(const struct chain_watch *w)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return w->have && now.tv_sec - w->full.tv_sec >= CHAIN_FULL_S;
}

int
chain_watch_check(struct chain_watch *w, const char *path,
		  struct chain_status *st)
{
	struct stat sb;
	int fd, r;

	memset(st, 0, sizeof(*st));
	st->checked = time(NULL);
	if ((w->lc == NULL && (w->lc = malloc(sizeof(*w->lc))) == NULL) ||
	    (w->buf == NULL && (w->buf = malloc(WINDOW)) == NULL)) {
		st->state = CHAIN_ERROR;
		st->err = ENOMEM;
		return 0;
	}
	if (!w->have)
		logcheck_init(w->lc);
	if ((fd = open_regular(path, &sb)) < 0) {
		w->have = 0;
		if (fd == QR_ERR_NOT_FOUND) {
			st->state = CHAIN_MISSING;
		} else {
			st->state = CHAIN_ERROR;
			st->err = fd == QR_ERR_INVALID ? EINVAL : errno;
		}
		return 0;
	}
	if (!w->have || sb.st_dev != w->dev || sb.st_ino != w->ino ||
	    sb.st_size < w->pos || chain_watch_due(w) ||
	    (sb.st_size == w->size && (!same_time(&sb.st_mtim, &w->mtime) ||
				       !same_time(&sb.st_ctim, &w->ctime))))
		restart(w, path, &sb);
	w->size = sb.st_size;
	w->mtime = sb.st_mtim;
	w->ctime = sb.st_ctim;
	if (w->broken.state == CHAIN_BROKEN) {
		*st = w->broken;
		st->checked = time(NULL);
		close(fd);
		return 0;
	}
	st->state = CHAIN_OK;
	r = advance(w, fd, st, sb.st_size);
	close(fd);
	if (r == QR_ERR_SYSTEM) {
		st->state = CHAIN_ERROR;
		st->err = errno;
		w->have = 0;
		return 0;
	}
	if (st->state == CHAIN_OK && st->lines == 0)
		st->state = CHAIN_EMPTY;
	return r;
}

int
chain_check(const char *path, struct chain_status *st)
{
	struct chain_watch w;
	int r;

	chain_watch_init(&w);
	/* a second look tells a line being written from a torn one */
	if ((r = chain_watch_check(&w, path, st)) == QR_ERR_INCOMPLETE)
		r = chain_watch_check(&w, path, st);
	chain_watch_release(&w);
	return r;
}

int
chain_json(const struct chain_status *st, struct buf *out)
{
	static const char *const names[] = {
		[CHAIN_CHECKING] = "checking", [CHAIN_OK] = "ok",
		[CHAIN_BROKEN] = "broken", [CHAIN_EMPTY] = "empty",
		[CHAIN_MISSING] = "missing", [CHAIN_ERROR] = "error",
	};
	const char *err = "";
	size_t orig = out->len;
	int r;

	if ((unsigned)st->state >= sizeof(names) / sizeof(names[0]))
		return QR_ERR_INVALID;
	if (st->state == CHAIN_ERROR)
		err = st->err == EINVAL ? "not a regular file"
		      : strerror(st->err);
	if ((r = buf_printf(out, "{\"state\":\"%s\",\"lines\":%lu,\"bad\":%lu,"
			    "\"checked\":%lld,\"error\":", names[st->state],
			    st->lines, st->bad, (long long)st->checked)) != 0 ||
	    (r = json_cstr(out, err)) != 0 ||
	    (r = buf_append_str(out, "}")) != 0) {
		buf_truncate(out, orig);
	}
	return r;
}
