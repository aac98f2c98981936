/*
 * histcmd.c - `qvm-remote history [N]`: the newest N requests from
 * history/YYYY-MM-DD/<cid>/, after collecting results that arrived when
 * their client had already left.
 */
#include "info.h"
#include "archive.h"
#include "body.h"
#include "exitcode.h"
#include "timefmt.h"
#include "msg.h"
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "argvbody.h"
#include "cid.h"
#include "err.h"
#include "fileio.h"
#include "result.h"

#include "banned.h"

#define ID_SHOWN 29   /* "YYYYMMDD-HHMMSS-PID-" and 8 hex digits, or less */

static int is_date_dir(const struct dirent *de)
{
	const char *s = de->d_name;
	size_t i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int is_cid_dir(const struct dirent *de)
{
	return cid_valid(de->d_name, strlen(de->d_name));
}

/* Newest first: date folders are named YYYY-MM-DD. */
static int newest_first(const struct dirent **a, const struct dirent **b)
{
	return -alphasort(a, b);
}

/* A request of a day's folder, and when it was published. */
struct entry {
	char name[CID_MAX + 1];
	struct timespec written;
};

/*
 * Newest first.  An id names its second but not the order within it: its
 * PID is no counter (9996 sorts after 10012, and PIDs wrap), so requests
 * of one second go by when the client published them (archive.c stamps
 * `command` with it), then by name.
 */
static int entry_newest_first(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = strncmp(b->name, a->name, CID_SECOND_LEN);

	if (c != 0)
		return c;
	if (a->written.tv_sec != b->written.tv_sec)
		return a->written.tv_sec < b->written.tv_sec ? 1 : -1;
	if (a->written.tv_nsec != b->written.tv_nsec)
		return a->written.tv_nsec < b->written.tv_nsec ? 1 : -1;
	return strcmp(b->name, a->name);
}

/* The requests of the day folder dir, newest first, in *out (free it). */
static int day_entries(const char *dir, struct entry **out)
{
	struct dirent **names;
	struct entry *v;
	struct stat st;
	char path[PATH_MAX];
	int n, i;

	*out = NULL;
	if ((n = scandir(dir, &names, is_cid_dir, NULL)) < 0)
		return -1;
	v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		if (v != NULL) {
			snprintf(v[i].name, sizeof(v[i].name), "%.*s",
				 CID_MAX, names[i]->d_name);
			if (snprintf(path, sizeof(path), "%s/%s/command", dir,
				     v[i].name) < (int)sizeof(path) &&
			    stat(path, &st) == 0)
				v[i].written = st.st_mtim;
		}
		free(names[i]);
	}
	free(names);
	if (v == NULL)
		return -1;
	qsort(v, (size_t)n, sizeof(*v), entry_newest_first);
	*out = v;
	return n;
}

/* The short form of an id: up to the first 8 hex digits. */
static void short_id(const char *cid, char *out, size_t n)
{
	const char *hex = strrchr(cid, '-');
	size_t len = strlen(cid);

	if (hex && (size_t)(hex - cid) + 9 < len)
		len = (size_t)(hex - cid) + 9;
	snprintf(out, n, "%.*s", (int)len, cid);
}

/* A cut result says so here too, under its row, as when it was shown. */
static void cut_rows(const char *dir, const char *id,
		     const struct result_meta *m)
{
	char out[PATH_MAX], err[PATH_MAX], prefix[CID_MAX + 4];
	const char *path[2] = { out, err };

	if (path_join(out, sizeof(out), dir, "out") != 0)
		path[0] = NULL;
	if (path_join(err, sizeof(err), dir, "err") != 0)
		path[1] = NULL;
	snprintf(prefix, sizeof(prefix), "%s: ", id);
	(void)fflush(stdout);    /* the row first, on a terminal */
	cut_notices(path, m, prefix);
}

static void show_entry(const char *dir, const char *cid)
{
	struct buf b = BUF_INIT(META_FILE_MAX), preview = BUF_INIT(1024);
	struct buf words = BUF_INIT(8 * HISTORY_PREVIEW);
	char path[PATH_MAX], id[CID_MAX + 1], code[8], dur[32], head[4096];
	const char *status = "waiting";
	struct result_meta m;
	ssize_t n = 0;
	int fd, ex, have_meta = 0;

	snprintf(code, sizeof(code), "-");
	snprintf(dur, sizeof(dur), "-");
	if (path_join(path, sizeof(path), dir, "exit") == 0 &&
	    read_file(path, &b) == 0 &&
	    exit_file_parse(buf_str(&b), b.len, &ex) == 0) {
		snprintf(code, sizeof(code), "%d", ex);
		status = "ok";
	}
	buf_reset(&b);
	if (path_join(path, sizeof(path), dir, "meta") == 0 &&
	    read_file(path, &b) == 0 &&
	    result_meta_parse(buf_str(&b), b.len, &m) == 0) {
		status = result_status_name(m.status);
		fmt_duration(dur, sizeof(dur), m.duration_ms);
		have_meta = 1;
	}
	if (path_join(path, sizeof(path), dir, "command") == 0 &&
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	/* a script has no NUL: a command with one is a vector, shown as the
	 * words a shell would take back */
	if (n > 0 && memchr(head, '\0', (size_t)n) != NULL &&
	    argvbody_quote(&words, (const uint8_t *)head, (size_t)n,
			   HISTORY_PREVIEW + 1) == 0)
		(void)body_preview(&preview, (const uint8_t *)words.data,
				   words.len, HISTORY_PREVIEW);
	else
		(void)body_preview(&preview, (const uint8_t *)head,
				   n > 0 ? (size_t)n : 0, HISTORY_PREVIEW);
	short_id(cid, id, sizeof(id));
	printf("%-*s %4s  %-11s %-10s %s\n", ID_SHOWN, id, code, status, dur,
	       buf_str(&preview));
	if (have_meta)
		cut_rows(dir, id, &m);
	buf_release(&b);
	buf_release(&preview);
	buf_release(&words);
}

int history_run(const struct vm_layout *p, unsigned count)
{
	struct dirent **dates = NULL;
	struct entry *cids;
	char dir[PATH_MAX], cdir[PATH_MAX];
	unsigned shown = 0;
	int nd, nc, i, j, r;

	if ((r = archive_collect(p)) < 0)
		msg("cannot collect late results from the queue: %s",
		    strerror(errno));
	nd = scandir(p->history, &dates, is_date_dir, newest_first);
	if (nd < 0 && errno != ENOENT) {
		msg("cannot read the history: %s", strerror(errno));
		return QX_LOCAL;
	}
	for (i = 0; i < nd; i++) {
		if (shown < count &&
		    path_join(dir, sizeof(dir), p->history,
			      dates[i]->d_name) == 0 &&
		    (nc = day_entries(dir, &cids)) >= 0) {
			for (j = 0; j < nc && shown < count; j++) {
				if (path_join(cdir, sizeof(cdir), dir,
					      cids[j].name) != 0)
					continue;
				if (!shown++)
					printf("%-*s %4s  %-11s %-10s %s\n",
					       ID_SHOWN, "ID", "EXIT", "STATUS",
					       "DURATION", "COMMAND");
				show_entry(cdir, cids[j].name);
			}
			free(cids);
		}
		free(dates[i]);
	}
	free(dates);
	if (!shown)
		printf("no history yet\n");
	return fflush(stdout) == 0 ? 0 : QX_LOCAL;
}
