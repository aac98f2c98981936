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

int paths_init(struct client_paths *p, const char *home)
{
	size_t hl;
	int r;

	memset(p, 0, sizeof(*p));
	if (!home || home[0] != '/')
		return QR_ERR_INVALID;
	hl = strlen(home);
	/* "/home/user/" and "/home/user" are the same home. */
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	if (hl >= sizeof(p->home))
		return QR_ERR_TOO_LARGE;
	memcpy(p->home, home, hl);
	p->home[hl] = '\0';
	if ((r = fmt_ok(snprintf(p->base, sizeof(p->base), "%s/%s",
				 hl == 1 ? "" : p->home, QVMR_DIR_NAME),
			sizeof(p->base))) != 0 ||
	    (r = path_join(p->key, sizeof(p->key), p->base, "auth.key")) != 0 ||
	    (r = path_join(p->audit, sizeof(p->audit), p->base,
			   "audit.log")) != 0 ||
	    (r = path_join(p->pending, sizeof(p->pending), p->base,
			   "queue/pending")) != 0 ||
	    (r = path_join(p->running, sizeof(p->running), p->base,
			   "queue/running")) != 0 ||
	    (r = path_join(p->results, sizeof(p->results), p->base,
			   "queue/results")) != 0 ||
	    (r = path_join(p->history, sizeof(p->history), p->base,
			   "history")) != 0)
		return r;
	return 0;
}

int paths_from_env(struct client_paths *p)
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
	if ((r = paths_init(p, home)) != 0) {
		msg("HOME is '%s', which is not usable; set HOME to an "
		    "absolute path", home);
		return r;
	}
	return 0;
}

int paths_make_queue(const struct client_paths *p)
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

const char *path_show(const struct client_paths *p, const char *path,
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

int path_history_of(const struct client_paths *p, const char *cid,
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
