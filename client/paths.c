/*
 * paths.c - where the client keeps its files.
 */
#include "paths.h"
#include "msg.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

#include "banned.h"

static int fmt_ok(int r, size_t n)
{
	return r >= 0 && (size_t)r < n ? 0 : QR_ERR_TOO_LARGE;
}

int path_join(char *out, size_t n, const char *dir, const char *name)
{
	return fmt_ok(snprintf(out, n, "%s/%s", dir, name), n);
}

int path_cid(char *out, size_t n, const char *dir, const char *cid,
	     const char *suffix)
{
	return fmt_ok(snprintf(out, n, "%s/%s%s", dir, cid, suffix), n);
}

int paths_from_env(struct vm_layout *p)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	int r;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home) {
		msg("cannot find the home directory; set HOME");
		return QR_ERR_NOT_FOUND;
	}
	if ((r = vm_layout_init(p, home)) != 0) {
		msg("HOME is '%s', which is not usable; set HOME to an "
		    "absolute path", home);
		return r;
	}
	return 0;
}

int paths_make_queue(const struct vm_layout *p)
{
	const char *dirs[] = { p->base, p->pending, p->running, p->results,
			       p->history };
	char show[PATH_MAX];
	size_t i;
	int r;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((r = mkdir_p(dirs[i], 0700)) != 0) {
			msg("cannot create %s: %s; check its permissions",
			    path_show(p, dirs[i], show, sizeof(show)),
			    r == QR_ERR_SYSTEM ? strerror(errno) :
			    qr_strerror(r));
			return r;
		}
	}
	return 0;
}

const char *path_show(const struct vm_layout *p, const char *path,
		      char *out, size_t n)
{
	size_t hl = strlen(p->home);

	if (hl > 1 && strncmp(path, p->home, hl) == 0 &&
	    (path[hl] == '/' || path[hl] == '\0'))
		snprintf(out, n, "~%s", path + hl);
	else
		snprintf(out, n, "%s", path);
	return out;
}

int path_history_of(const struct vm_layout *p, const char *cid,
		    char *out, size_t n)
{
	size_t i;

	for (i = 0; i < 8; i++)
		if (cid[i] < '0' || cid[i] > '9')
			return QR_ERR_INVALID;
	if (cid[8] != '-')
		return QR_ERR_INVALID;
	return fmt_ok(snprintf(out, n, "%s/%.4s-%.2s-%.2s/%s", p->history,
			       cid, cid + 4, cid + 6, cid), n);
}
