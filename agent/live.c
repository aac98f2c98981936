/*
 * live.c - a running command's output into running/<cid>.out and .err.
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>

#include "err.h"
#include "incoming.h"
#include "vmlayout.h"

#include "banned.h"

static const char *const suffix[2] = { VM_LIVE_OUT, VM_LIVE_ERR };

/*
 * Reads the span [from, from + len) of a stream into the live file at
 * path, writing only the bytes it does not hold yet, each at its offset:
 * two sessions writing one span at once (one that dom0 gave up on still
 * reading its input) write the same bytes to the same place.  *fd is the
 * open file (or -1), for the caller to finish and close.  With `drop` or
 * *bad the bytes are only read.  A span with nothing in it needs no file.
 */
static int
extend(FILE *in, const char *path, uint64_t from, uint64_t len, bool drop,
       bool *bad, int *fd)
{
	struct stat st;
	uint64_t have = 0;

	*fd = -1;
	if (!drop && !*bad && (from > 0 || len > 0)) {
		/* a file that must hold `from` bytes is never created; a FIFO
		 * put there does not block the open */
		*fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
			   O_CLOEXEC | (from == 0 ? O_CREAT : 0), 0600);
		if (*fd < 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size < from)
			*bad = true;
		else
			have = (uint64_t)st.st_size - from;
	}
	return incoming_copy(in, *bad ? -1 : *fd, from,
			     have < len ? have : len, len, bad);
}

enum deliver_status
live_part(FILE *in, const struct vm_layout *q, const struct agentwire_live *l,
	  int *r)
{
	char marker[PATH_MAX], path[PATH_MAX];
	struct stat st;
	bool bad = false, gone;
	int fd;

	if (queue_marker(marker, q, l->cid, l->claim) != 0)
		bad = true;
	gone = !bad && lstat(marker, &st) != 0;
	*r = 0;
	for (int f = 0; f < 2 && *r == 0; f++) {
		if (queue_path(path, q->running, l->cid, suffix[f]) != 0)
			bad = true;
		*r = extend(in, path, l->from[f], l->len[f], gone, &bad, &fd);
		if (fd >= 0 && close(fd) != 0)
			bad = true;
	}
	if (*r != 0 || bad)
		return DELIVER_FAIL;
	return gone ? DELIVER_GONE : DELIVER_OK;
}

int
live_finish(FILE *in, const struct vm_layout *q, const char *cid, int f,
	    uint64_t from, uint64_t len, const char *path, bool *bad)
{
	char live[PATH_MAX];
	int fd, r;

	if (queue_path(live, q->running, cid, suffix[f]) != 0)
		*bad = true;
	r = extend(in, live, from, len, false, bad, &fd);
	/* a link, not a rename: a result that fails to publish leaves the
	 * live file whole for the retry */
	if (r == 0 && !*bad &&
	    (ftruncate(fd, (off_t)(from + len)) != 0 ||
	     (unlink(path) != 0 && errno != ENOENT) || link(live, path) != 0))
		*bad = true;
	if (fd >= 0 && close(fd) != 0)
		*bad = true;
	return r;
}

void
live_remove(const struct vm_layout *q, const char *cid)
{
	char path[PATH_MAX];

	for (int f = 0; f < 2; f++)
		if (queue_path(path, q->running, cid, suffix[f]) == 0)
			(void)unlink(path);
}
