/*
 * replay.c - the durable per-VM store of started cids.
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

static_assert(REPLAY_ENTRIES_MAX <= SIZE_MAX / sizeof(struct replay_entry),
	      "the entries of a full store fit size_t");
static_assert(REPLAY_PRUNE_MIN <= REPLAY_ENTRIES_MAX / 2,
	      "a store can reach its first prune");

#define FLOOR_TAG "floor "
#define ALL_OF_THEM ((time_t)INT64_MIN)   /* a cut that drops nothing */
#define WINDOW_MAX ((uint64_t)100 * 366 * 86400)

static_assert(sizeof(time_t) == sizeof(int64_t), "time_t has 64 bits");

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct replay_entry *)a)->cid,
		      ((const struct replay_entry *)b)->cid);
}

/* Parses digits s[0..n) as a time; QR_ERR_INVALID otherwise. */
static int
parse_time(const char *s, size_t n, time_t *out)
{
	uint64_t v;

	if (parse_u64((const uint8_t *)s, n, (uint64_t)INT64_MAX, &v) != 0)
		return QR_ERR_INVALID;
	*out = (time_t)v;
	return 0;
}

/* Parses "CID EPOCH" (no newline) into e; QR_ERR_INVALID otherwise,
 * also for a cid that names no readable time (it was never accepted). */
static int
parse_entry(const char *s, size_t n, struct replay_entry *e)
{
	const char *sp;
	size_t cl;

	if (n > REPLAY_LINE_MAX || (sp = memchr(s, ' ', n)) == NULL)
		return QR_ERR_INVALID;
	cl = (size_t)(sp - s);
	if (!cid_valid(s, cl) || cid_time(s, cl, &e->t) != 0)
		return QR_ERR_INVALID;
	if (parse_time(sp + 1, n - cl - 1, &e->ran) != 0)
		return QR_ERR_INVALID;
	memcpy(e->cid, s, cl);
	e->cid[cl] = '\0';
	return 0;
}

/* The time before which a cid has left the window at now. */
static time_t
cutoff(const struct replay *r, time_t now)
{
	uint64_t w = r->window_s < WINDOW_MAX ? r->window_s : WINDOW_MAX;

	return now > ALL_OF_THEM + (time_t)w ? now - (time_t)w : ALL_OF_THEM;
}

/* Grows r's array to hold want entries. */
static int
reserve(struct replay *r, size_t want)
{
	size_t cap = r->cap > 0 ? r->cap : 64;
	struct replay_entry *e;

	if (want <= r->cap)
		return 0;
	if (want > REPLAY_ENTRIES_MAX)
		return QR_ERR_TOO_LARGE;
	while (cap < want)
		cap *= 2;
	if (cap > REPLAY_ENTRIES_MAX)
		cap = REPLAY_ENTRIES_MAX;
	if ((e = reallocarray(r->e, cap, sizeof(*e))) == NULL)
		return QR_ERR_NOMEM;
	r->e = e;
	r->cap = cap;
	return 0;
}

/*
 * Reads text into r: the highest floor line, and the entries sorted and
 * unique.  *dirty is set when anything was dropped or merged, so the file
 * needs rewriting.
 */
static int
load_entries(struct replay *r, const char *text, size_t len, int *dirty)
{
	size_t off = 0, i, k;
	int nfloor = 0, ret;

	while (off < len) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - off;
		size_t tl = strlen(FLOOR_TAG);
		time_t fl;

		off += ll + (nl != NULL);
		/* no newline: an append torn by a crash, never acknowledged */
		if (nl == NULL) {
			*dirty = 1;
			continue;
		}
		if (ll > tl && memcmp(line, FLOOR_TAG, tl) == 0 &&
		    parse_time(line + tl, ll - tl, &fl) == 0) {
			if (fl > r->floor)
				r->floor = fl;
			*dirty |= nfloor++ > 0;
			continue;
		}
		if ((ret = reserve(r, r->n + 1)) != 0)
			return ret;
		if (parse_entry(line, ll, &r->e[r->n]) != 0) {
			*dirty = 1;
			continue;
		}
		r->n++;
	}
	if (r->n == 0)
		return 0;
	qsort(r->e, r->n, sizeof(*r->e), cmp_entry);
	/* a repeated cid (should not happen) keeps its latest start */
	for (i = 1, k = 0; i < r->n; i++) {
		if (strcmp(r->e[k].cid, r->e[i].cid) == 0) {
			if (r->e[i].ran > r->e[k].ran)
				r->e[k].ran = r->e[i].ran;
			*dirty = 1;
			continue;
		}
		r->e[++k] = r->e[i];
	}
	r->n = k + 1;
	return 0;
}

/*
 * Replaces the file by the floor and the entries not below cut, and
 * reopens the append descriptor on the new file.  *replaced says whether
 * the new file is in place (even when the reopen then failed).
 */
static int
rewrite(struct replay *r, time_t floor, time_t cut, int *replaced)
{
	struct buf b = BUF_INIT(REPLAY_FILE_MAX);
	char path[PATH_MAX];
	size_t i;
	int n, ret = 0;

	if (floor > 0)
		ret = buf_printf(&b, FLOOR_TAG "%lld\n", (long long)floor);
	for (i = 0; i < r->n && ret == 0; i++)
		if (r->e[i].t >= cut)
			ret = buf_printf(&b, "%s %lld\n", r->e[i].cid,
					 (long long)r->e[i].ran);
	if (ret == 0)
		ret = write_file_atomic(r->dir, r->vm,
					b.data != NULL ? b.data : "", b.len,
					0600, 1);
	buf_release(&b);
	if (ret != 0)
		return ret;
	*replaced = 1;
	/* the old descriptor appends to the file the rename replaced */
	if (r->fd >= 0)
		close(r->fd);
	n = snprintf(path, sizeof(path), "%s/%s", r->dir, r->vm);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		r->fd = -1;
		return QR_ERR_TOO_LARGE;
	}
	r->fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	return r->fd >= 0 ? 0 : QR_ERR_SYSTEM;
}

/* Drops the entries below cutoff(now), raising the floor first. */
static int
prune(struct replay *r, time_t now, int *rewritten)
{
	time_t cut = cutoff(r, now), floor = r->floor;
	size_t i, k, gone = 0;
	int ret;

	for (i = 0; i < r->n; i++)
		if (r->e[i].t < cut) {
			gone++;
			if (r->e[i].t >= floor)
				floor = r->e[i].t + 1;
		}
	if (gone == 0)
		return 0;
	/* durable before memory forgets: the file is the store after a
	 * crash, and it either still has the entries or has the floor */
	ret = rewrite(r, floor, cut, rewritten);
	if (!*rewritten)
		return ret;         /* the old file stands: keep everything */
	for (i = 0, k = 0; i < r->n; i++)
		if (r->e[i].t >= cut)
			r->e[k++] = r->e[i];
	r->n = k;
	r->floor = floor;
	return ret;
}

/* When the next record should look for entries to drop. */
static void
schedule(struct replay *r)
{
	r->next_look = r->n < REPLAY_PRUNE_MIN / 2 ? REPLAY_PRUNE_MIN
						   : 2 * r->n;
}

int
replay_open(struct replay *r, const char *state_dir, const char *vm,
	    time_t now, uint64_t window_s)
{
	struct buf text = BUF_INIT(REPLAY_FILE_MAX);
	char path[PATH_MAX];
	int n, ret, dirty = 0, rewritten = 0, dfd = -1;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->window_s = window_s;
	if (!vmname_valid(vm))
		return QR_ERR_INVALID;
	memcpy(r->vm, vm, strlen(vm) + 1);
	n = snprintf(path, sizeof(path), "%s/replay/%s", state_dir, vm);
	if (n < 0 || (size_t)n >= sizeof(path))
		return QR_ERR_TOO_LARGE;
	if ((r->dir = strndup(path, (size_t)n - strlen(vm) - 1)) == NULL)
		return QR_ERR_NOMEM;
	if ((ret = mkdir_p(r->dir, 0700)) != 0)
		goto out;

	ret = read_file(path, &text);
	if (ret == QR_ERR_NOT_FOUND)
		ret = 0;
	if (ret != 0)
		goto out;
	if ((ret = load_entries(r, buf_str(&text), text.len, &dirty)) != 0)
		goto out;
	/* a prune that fails keeps every entry: it is not needed to run */
	if (r->n >= REPLAY_PRUNE_MIN)
		(void)prune(r, now, &rewritten);
	if (dirty && !rewritten &&
	    (ret = rewrite(r, r->floor, ALL_OF_THEM, &rewritten)) != 0)
		goto out;
	schedule(r);

	if (r->fd < 0)
		r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
			     O_CLOEXEC, 0600);
	if (r->fd < 0) {
		ret = QR_ERR_SYSTEM;
		goto out;
	}
	/* the file may be new: make its name durable before any record
	 * relies on it */
	dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
		int c = strcmp(r->e[mid].cid, cid);

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

enum replay_state
replay_lookup(const struct replay *r, const char *cid)
{
	size_t pos;
	time_t t;

	if (find(r, cid, &pos))
		return REPLAY_SEEN;
	if (cid_time(cid, strlen(cid), &t) != 0 || t < r->floor)
		return REPLAY_FORGOTTEN;
	return REPLAY_NEW;
}

int
replay_prune(struct replay *r, time_t now)
{
	int rewritten = 0, ret;

	ret = prune(r, now, &rewritten);
	schedule(r);
	return ret;
}

int
replay_record(struct replay *r, const char *cid, time_t now)
{
	char line[REPLAY_LINE_MAX + 2];
	size_t len = strlen(cid), pos;
	time_t t;
	int n, ret;

	if (!cid_valid(cid, len) || cid_time(cid, len, &t) != 0)
		return QR_ERR_INVALID;
	if (find(r, cid, &pos))
		return QR_ERR_EXISTS;
	if (r->fd < 0) {
		errno = EBADF;
		return QR_ERR_SYSTEM;
	}
	/* full: what left the window goes first, the rest is never dropped */
	if (r->n >= REPLAY_ENTRIES_MAX) {
		(void)replay_prune(r, now);
		if (r->fd < 0) {
			errno = EBADF;
			return QR_ERR_SYSTEM;
		}
		(void)find(r, cid, &pos);
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
	memmove(r->e + pos + 1, r->e + pos, (r->n - pos) * sizeof(*r->e));
	memcpy(r->e[pos].cid, cid, len + 1);
	r->e[pos].t = t;
	r->e[pos].ran = now;
	r->n++;
	/* amortized: a look costs O(n), and comes after n/2 records at least */
	if (r->n >= r->next_look)
		(void)replay_prune(r, now);
	return 0;
}

void
replay_close(struct replay *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->e);
	free(r->dir);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
