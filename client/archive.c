/*
 * archive.c - the history folder and the result lines of audit.log.
 */
#include "archive.h"
#include "auditlog.h"
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cid.h"
#include "err.h"
#include "fileio.h"

#include "banned.h"

static int make_dir(const struct vm_layout *p, const char *cid,
		    char *dir, size_t n)
{
	char show[PATH_MAX];
	int r;

	if ((r = path_history_of(p, cid, dir, n)) != 0)
		return r;
	if ((r = mkdir_p(dir, 0700)) != 0)
		msg("cannot create %s: %s", path_show(p, dir, show,
						       sizeof(show)),
		    r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
	return r;
}

static int put_command(const struct vm_layout *p, const char *dir,
		       const struct request *rq)
{
	char path[PATH_MAX], show[PATH_MAX];
	struct timespec when[2] = { rq->made, rq->made };
	int r;

	(void)path_join(path, sizeof(path), dir, "command");
	if ((r = write_file_atomic(dir, "command", rq->body.data, rq->body.len,
				   0600, 0)) != 0)
		msg("cannot write %s: %s", path_show(p, path, show,
						      sizeof(show)),
		    r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
	else
		(void)utimensat(AT_FDCWD, path, when, AT_SYMLINK_NOFOLLOW);
	return r;
}

/* Moves the result files, .exit last: while it is in results/, the result
 * counts as not collected. */
static int move_result(const struct vm_layout *p, const char *cid,
		       const char *dir)
{
	static const char *const parts[] = { "out", "err", "meta", "exit" };
	char from[PATH_MAX], to[PATH_MAX], sfx[8], show[PATH_MAX],
	     show2[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(sfx, sizeof(sfx), ".%s", parts[i]);
		if (path_cid(from, sizeof(from), p->results, cid, sfx) != 0 ||
		    path_join(to, sizeof(to), dir, parts[i]) != 0)
			return QR_ERR_TOO_LARGE;
		if (rename(from, to) != 0 && errno != ENOENT) {
			msg("cannot move the result to %s: %s; it stays in %s",
			    path_show(p, to, show, sizeof(show)),
			    strerror(errno),
			    path_show(p, p->results, show2, sizeof(show2)));
			return QR_ERR_SYSTEM;
		}
	}
	return 0;
}

static void log_result(const struct vm_layout *p, const char *cid,
		       const struct result_info *ri, int have_ms, uint64_t ms)
{
	struct buf line = BUF_INIT(1024);

	if (audit_result_line(&line, time(NULL), ri->meta.status, cid,
			      result_exit_code(ri), have_ms, ms) == 0)
		(void)audit_append(p, &line);
	buf_release(&line);
}

int archive_result(const struct vm_layout *p, const struct request *rq,
		   const struct result_info *ri, int have_ms, uint64_t ms)
{
	const char *cid = rq->cid;
	char dir[PATH_MAX];
	int r;

	log_result(p, cid, ri, have_ms, ms);
	if ((r = make_dir(p, cid, dir, sizeof(dir))) != 0 ||
	    (r = move_result(p, cid, dir)) != 0)
		return r;
	/* After the move: a folder with `command` but no `exit` is one that
	 * archive_collect() may complete, and this one is complete. */
	return put_command(p, dir, rq);
}

int archive_leave(const struct vm_layout *p, const struct request *rq)
{
	char dir[PATH_MAX];
	int r;

	if ((r = make_dir(p, rq->cid, dir, sizeof(dir))) != 0)
		return r;
	return put_command(p, dir, rq);
}

/* Whether history/<date>/<cid> was left waiting for this result. */
static int left_waiting(const struct vm_layout *p, const char *cid,
			char *dir, size_t n)
{
	char path[PATH_MAX];
	struct stat st;

	if (path_history_of(p, cid, dir, n) != 0 ||
	    path_join(path, sizeof(path), dir, "command") != 0 ||
	    lstat(path, &st) != 0 ||
	    path_join(path, sizeof(path), dir, "exit") != 0)
		return 0;
	return lstat(path, &st) != 0 && errno == ENOENT;
}

int archive_collect(const struct vm_layout *p)
{
	char cid[CID_MAX + 1], dir[PATH_MAX];
	struct result_info ri;
	struct dirent *de;
	size_t len;
	int count = 0;
	DIR *d;

	d = opendir(p->results);
	if (!d)
		return errno == ENOENT ? 0 : QR_ERR_SYSTEM;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".exit") != 0 ||
		    len - 5 > CID_MAX || !cid_valid(de->d_name, len - 5))
			continue;
		memcpy(cid, de->d_name, len - 5);
		cid[len - 5] = '\0';
		if (!left_waiting(p, cid, dir, sizeof(dir)) ||
		    result_load(p, cid, &ri) != 0)
			continue;
		log_result(p, cid, &ri, 0, 0);
		if (move_result(p, cid, dir) == 0)
			count++;
	}
	closedir(d);
	return count;
}
