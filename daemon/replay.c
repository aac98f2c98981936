/*
 * replay.c - the durable per-VM store of accepted cids.
 */
#include "replay.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "reader.h"
#include "vmname.h"
#include "banned.h"

static_assert(REPLAY_ENTRIES_MAX <= SIZE_MAX / (CID_MAX + 1),
	      "the cid array of a full store fits size_t");

struct entry {
	char cid[CID_MAX + 1];
	time_t when;
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->cid,
		      ((const struct entry *)b)->cid);
}

/* Parses "CID EPOCH" (no newline) into e; QR_ERR_INVALID otherwise. */
static int
parse_entry(const char *s, size_t n, struct entry *e)
{
	const char *sp;
	uint64_t when;
	size_t cl;

	if (n > REPLAY_LINE_MAX || (sp = memchr(s, ' ', n)) == NULL)
		return QR_ERR_INVALID;
	cl = (size_t)(sp - s);
	if (!cid_valid(s, cl))
		return QR_ERR_INVALID;
	if (parse_u64((const uint8_t *)sp + 1, n - cl - 1, (uint64_t)INT64_MAX,
		      &when) != 0)
		return QR_ERR_INVALID;
	memcpy(e->cid, s, cl);
	e->cid[cl] = '\0';
	e->when = (time_t)when;
	return 0;
}

/* An entry accepted more than window_s before now has left the window.
 * One from the future (the clock was set back) stays. */
static int
expired(time_t when, time_t now, uint64_t window_s)
{
	return when < now && (uint64_t)(now - when) > window_s;
}

/* Grows r's arrays to hold want entries. */
static int
reserve(struct replay *r, size_t want)
{
	size_t cap = r->cap > 0 ? r->cap : 64;
	char (*cid)[CID_MAX + 1];
	time_t *when;

	if (want <= r->cap)
		return 0;
	if (want > REPLAY_ENTRIES_MAX)
		return QR_ERR_TOO_LARGE;
	while (cap < want)
		cap *= 2;
	if (cap > REPLAY_ENTRIES_MAX)
		cap = REPLAY_ENTRIES_MAX;
	cid = realloc(r->cid, cap * sizeof(*cid));
	if (cid == NULL)
		return QR_ERR_NOMEM;
	r->cid = cid;
	when = realloc(r->when, cap * sizeof(*when));
	if (when == NULL)
		return QR_ERR_NOMEM;
	r->when = when;
	r->cap = cap;
	return 0;
}

/*
 * Reads the kept entries of text into r (sorted, unique).  *dirty is set
 * when anything was dropped, so the file needs rewriting.
 */
static int
load_entries(struct replay *r, const char *text, size_t len, time_t now,
	     uint64_t window_s, int *dirty)
{
	struct entry *e = NULL;
	size_t n = 0, cap = 0, off = 0, i;
	int r_ = 0;

	while (off < len) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - off;
		struct entry cur;

		off += ll + (nl != NULL);
		/* no newline: an append torn by a crash, never acknowledged */
		if (nl == NULL || parse_entry(line, ll, &cur) != 0 ||
		    expired(cur.when, now, window_s)) {
			*dirty = 1;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap > 0 ? cap * 2 : 64;
			struct entry *ne;

			if (n >= REPLAY_ENTRIES_MAX) {
				r_ = QR_ERR_TOO_LARGE;
				goto out;
			}
			if (ncap > REPLAY_ENTRIES_MAX)
				ncap = REPLAY_ENTRIES_MAX;
			if ((ne = realloc(e, ncap * sizeof(*e))) == NULL) {
				r_ = QR_ERR_NOMEM;
				goto out;
			}
			e = ne;
			cap = ncap;
		}
		e[n++] = cur;
	}
	if (n > 0)
		qsort(e, n, sizeof(*e), cmp_entry);
	if ((r_ = reserve(r, n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* a repeated cid (should not happen) keeps its latest time */
		if (r->n > 0 && strcmp(r->cid[r->n - 1], e[i].cid) == 0) {
			if (e[i].when > r->when[r->n - 1])
				r->when[r->n - 1] = e[i].when;
			*dirty = 1;
			continue;
		}
		memcpy(r->cid[r->n], e[i].cid, sizeof(e[i].cid));
		r->when[r->n] = e[i].when;
		r->n++;
	}
out:
	free(e);
	return r_;
}

static int
rewrite(const struct replay *r, const char *dir, const char *vm)
{
	struct buf b = BUF_INIT(REPLAY_FILE_MAX);
	size_t i;
	int ret = 0;

	for (i = 0; i < r->n && ret == 0; i++)
		ret = buf_printf(&b, "%s %lld\n", r->cid[i],
				 (long long)r->when[i]);
	if (ret == 0)
		ret = write_file_atomic(dir, vm, b.data != NULL ? b.data : "",
					b.len, 0600, 1);
	buf_release(&b);
	return ret;
}

int
replay_open(struct replay *r, const char *state_dir, const char *vm,
	    time_t now, uint64_t window_s)
{
	struct buf text = BUF_INIT(REPLAY_FILE_MAX);
	char dir[PATH_MAX], path[PATH_MAX];
	int n, ret, dirty = 0, dfd = -1;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (!vmname_valid(vm))
		return QR_ERR_INVALID;
	n = snprintf(dir, sizeof(dir), "%s/replay", state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return QR_ERR_TOO_LARGE;
	n = snprintf(path, sizeof(path), "%s/%s", dir, vm);
	if (n < 0 || (size_t)n >= sizeof(path))
		return QR_ERR_TOO_LARGE;
	if ((ret = mkdir_p(dir, 0700)) != 0)
		goto out;

	ret = read_file(path, &text);
	if (ret == QR_ERR_NOT_FOUND)
		ret = 0;
	if (ret != 0)
		goto out;
	if ((ret = load_entries(r, buf_str(&text), text.len, now, window_s,
				&dirty)) != 0)
		goto out;
	if (dirty && (ret = rewrite(r, dir, vm)) != 0)
		goto out;

	r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		     O_CLOEXEC, 0600);
	if (r->fd < 0) {
		ret = QR_ERR_SYSTEM;
		goto out;
	}
	/* the file may be new: make its name durable before any record
	 * relies on it */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		ret = QR_ERR_SYSTEM;
		goto out;
	}
	ret = 0;
out:
	if (dfd >= 0) {
		int saved = errno;
		close(dfd);
		errno = saved;
	}
	buf_release(&text);
	if (ret != 0)
		replay_close(r);
	return ret;
}

/* The index of cid, or of where it would go, in *pos; 1 when found. */
static int
find(const struct replay *r, const char *cid, size_t *pos)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->cid[mid], cid);

		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

int
replay_seen(const struct replay *r, const char *cid)
{
	size_t pos;

	return find(r, cid, &pos);
}

int
replay_record(struct replay *r, const char *cid, time_t now)
{
	char line[REPLAY_LINE_MAX + 2];
	size_t len = strlen(cid), pos;
	int n, ret;

	if (!cid_valid(cid, len))
		return QR_ERR_INVALID;
	if (find(r, cid, &pos))
		return QR_ERR_EXISTS;
	if (r->fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	if ((ret = reserve(r, r->n + 1)) != 0)
		return ret;
	n = snprintf(line, sizeof(line), "%s %lld\n", cid, (long long)now);
	if (n < 0 || (size_t)n >= sizeof(line))
		return QR_ERR_INVALID;
	if (write_all(r->fd, line, (size_t)n) != 0 || fdatasync(r->fd) != 0) {
		int saved = errno;

		/* the file may now end in a torn line that would swallow the
		 * next record: stop appending until a reopen cleans it */
		close(r->fd);
		r->fd = -1;
		errno = saved;
		return QR_ERR_SYSTEM;
	}
	memmove(r->cid + pos + 1, r->cid + pos, (r->n - pos) * sizeof(*r->cid));
	memmove(r->when + pos + 1, r->when + pos,
		(r->n - pos) * sizeof(*r->when));
	memcpy(r->cid[pos], cid, len + 1);
	r->when[pos] = now;
	r->n++;
	return 0;
}

void
replay_close(struct replay *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->cid);
	free(r->when);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
