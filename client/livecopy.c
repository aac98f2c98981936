/*
 * livecopy.c - copy what is new in running/<cid>.out and .err.
 */
#include "livecopy.h"
#include "fdio.h"
#include "progress.h"
#include "signals.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#include "banned.h"

static const char *const suffix[2] = { VM_LIVE_OUT, VM_LIVE_ERR };

void live_copy_init(struct live_copy *lc)
{
	*lc = (struct live_copy){ .fd = { STDOUT_FILENO, STDERR_FILENO } };
}

static int stop_requested(void)
{
	return signals_caught() != 0;
}

int live_copy(const struct vm_layout *p, const char *cid,
	      struct live_copy *lc)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t copied;
	int wrote = 0, in, r, wf;

	for (int f = 0; f < 2; f++) {
		if (lc->stopped[f] ||
		    path_cid(path, sizeof(path), p->running, cid,
			     suffix[f]) != 0)
			continue;
		if ((in = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			       O_CLOEXEC)) < 0)
			continue;
		if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size <= lc->shown[f] ||
		    lseek(in, (off_t)lc->shown[f], SEEK_SET) < 0) {
			close(in);
			continue;
		}
		progress_erase();
		copied = 0;
		r = fd_copy(in, lc->fd[f], stop_requested, &copied, &wf);
		lc->shown[f] += copied;
		wrote |= copied > 0;
		if (r == QR_ERR_SYSTEM && wf)
			lc->stopped[f] = 1;
		close(in);
	}
	return wrote;
}

int live_copy_shown(const struct live_copy *lc)
{
	return lc->shown[0] > 0 || lc->shown[1] > 0;
}
