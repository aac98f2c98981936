/*
 * queuecmd.c - queue status and queue clean.  status shows each request
 * as pending (not taken), running (taken by dom0: waiting for a slot or
 * running) or asking (taken, and dom0's note says it waits for a person).
 */
#include "queuecmd.h"
#include "exitcode.h"
#include "timefmt.h"
#include "msg.h"
#include "wait.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cid.h"
#include "err.h"
#include "note.h"

#include "banned.h"

enum entry_kind { E_PENDING, E_RUNNING, E_RESULT, E_OTHER };

/* Which queue entry a name is, and its cid (NUL-terminated in cid). */
static enum entry_kind classify(const char *dir_kind, const char *name,
				char cid[CID_MAX + 1])
{
	const char *dot;
	size_t n;

	if (name[0] == '.')
		return E_OTHER;
	dot = strchr(name, '.');
	n = dot ? (size_t)(dot - name) : strlen(name);
	if (n > CID_MAX || !cid_valid(name, n))
		return E_OTHER;
	memcpy(cid, name, n);
	cid[n] = '\0';
	if (!dot)
		return E_OTHER;
	if (strcmp(dir_kind, "pending") == 0 && strcmp(dot, VM_TOKEN) == 0)
		return E_PENDING;
	if (strcmp(dir_kind, "running") == 0 &&
	    strncmp(dot, ".auth.", 6) == 0)
		return E_RUNNING;
	if (strcmp(dir_kind, "results") == 0 && strcmp(dot, ".exit") == 0)
		return E_RESULT;
	return E_OTHER;
}

typedef void (*entry_fn)(void *ctx, const char *dir, const char *name,
			 enum entry_kind k, const char *cid);

/* Calls fn for every name in dir, in name order (oldest cid first). */
static void walk(const char *dir, const char *kind, entry_fn fn, void *ctx)
{
	char cid[CID_MAX + 1];
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			cid[0] = '\0';
			fn(ctx, dir, name, classify(kind, name, cid), cid);
		}
		free(names[i]);
	}
	free(names);
}

static void count_one(void *ctx, const char *dir, const char *name,
		      enum entry_kind k, const char *cid)
{
	struct queue_counts *c = ctx;

	if (k == E_PENDING)
		c->pending++;
	else if (k == E_RUNNING)
		c->running++;
	else if (k == E_RESULT)
		c->results++;
}

void queue_count(const struct vm_layout *p, struct queue_counts *c)
{
	memset(c, 0, sizeof(*c));
	walk(p->pending, "pending", count_one, c);
	walk(p->running, "running", count_one, c);
	walk(p->results, "results", count_one, c);
}

struct lister {
	const struct vm_layout *p;
	size_t shown;
	time_t now;
};

static void list_one(void *ctx, const char *dir, const char *name,
		     enum entry_kind k, const char *cid)
{
	static const char *const state[] = { "pending", "running", "result" };
	struct lister *l = ctx;
	char path[PATH_MAX], age[32];
	const char *what, *why = "";
	struct note nt;
	struct stat st;

	if (k == E_OTHER)
		return;
	what = state[k];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || lstat(path, &st) != 0)
		return;
	if (!l->shown++)
		printf("%-8s %-9s %s\n", "STATE", "AGE", "ID");
	fmt_elapsed(age, sizeof(age),
		    l->now > st.st_mtime ?
		    (uint64_t)(l->now - st.st_mtime) * 1000u : 0);
	/* taken: dom0's note, when there is one, says it waits for a
	 * person (docs/protocol.md 5b) */
	if (k == E_RUNNING && note_load(l->p, cid, &nt) == 0 &&
	    nt.status == RESULT_ASKING) {
		what = "asking";
		why = "  (waiting for approval in dom0)";
	}
	printf("%-8s %-9s %s%s\n", what, age, cid, why);
}

static int queue_status(const struct vm_layout *p)
{
	struct lister l = { p, 0, time(NULL) };

	walk(p->pending, "pending", list_one, &l);
	walk(p->running, "running", list_one, &l);
	walk(p->results, "results", list_one, &l);
	if (!l.shown)
		printf("the queue is empty\n");
	return fflush(stdout) == 0 ? 0 : QX_LOCAL;
}

struct cleaner {
	const struct vm_layout *p;
	time_t now;
	int pending;          /* --pending */
	size_t results, stale, withdrawn, kept_pending, failed;
};

static int is_old(const char *dir, const char *name, time_t now)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || lstat(path, &st) != 0)
		return 0;
	return now - st.st_mtime > CLEAN_AGE_S;
}

static void remove_name(struct cleaner *c, const char *dir, const char *name,
			size_t *counter)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		c->failed++;
	else if (unlink(path) == 0)
		(*counter)++;
	else if (errno != ENOENT)
		c->failed++;
}

static void clean_result(void *ctx, const char *dir, const char *name,
			 enum entry_kind k, const char *cid)
{
	static const char *const parts[] = { ".out", ".err", ".meta" };
	struct cleaner *c = ctx;
	char part[CID_MAX + 8];
	size_t dummy = 0, i;

	if (k == E_RESULT && is_old(dir, name, c->now)) {
		/* .exit last, as it marks the result as present. */
		for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			snprintf(part, sizeof(part), "%s%s", cid, parts[i]);
			remove_name(c, dir, part, &dummy);
		}
		remove_name(c, dir, name, &c->results);
	} else if (name[0] == '.' && is_old(dir, name, c->now)) {
		/* A temporary of a deliver that never finished. */
		remove_name(c, dir, name, &c->stale);
	}
}

static void clean_pending(void *ctx, const char *dir, const char *name,
			  enum entry_kind k, const char *cid)
{
	struct cleaner *c = ctx;
	char auth[PATH_MAX];
	struct stat st;
	int r;

	if (k == E_PENDING) {
		if (!c->pending) {
			c->kept_pending++;
			return;
		}
		r = request_withdraw(c->p, cid);
		if (r == 0)
			c->withdrawn++;
		else if (r != QR_ERR_NOT_FOUND)
			c->failed++;
		return;
	}
	if (!is_old(dir, name, c->now))
		return;
	if (name[0] == '.') {
		remove_name(c, dir, name, &c->stale);
		return;
	}
	/* A body, .in or .opt whose .auth never came: its client died
	 * while publishing.  Never a request, so never run. */
	if (cid[0] && path_cid(auth, sizeof(auth), dir, cid, VM_TOKEN) == 0 &&
	    lstat(auth, &st) != 0 && errno == ENOENT)
		remove_name(c, dir, name, &c->stale);
}

static int queue_clean(const struct vm_layout *p, const struct args *a)
{
	struct cleaner c;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.now = time(NULL);
	c.pending = a->pending;
	walk(p->results, "results", clean_result, &c);
	walk(p->pending, "pending", clean_pending, &c);
	if (!c.results && !c.stale && !c.withdrawn)
		printf("nothing to clean\n");
	if (c.results)
		printf("removed %zu result%s older than 1 day\n", c.results,
		       c.results == 1 ? "" : "s");
	if (c.stale)
		printf("removed %zu stale file%s (temporaries, parts of "
		       "requests never completed)\n", c.stale,
		       c.stale == 1 ? "" : "s");
	if (c.withdrawn)
		printf("withdrew %zu pending request%s; nothing of them "
		       "ran\n", c.withdrawn, c.withdrawn == 1 ? "" : "s");
	if (c.kept_pending)
		printf("kept %zu pending request%s; withdraw with: "
		       "qvm-remote queue clean --pending\n", c.kept_pending,
		       c.kept_pending == 1 ? "" : "s");
	if (fflush(stdout) != 0)
		return QX_LOCAL;
	if (c.failed) {
		msg("could not remove %zu file%s; check the permissions in "
		    "~/%s/queue", c.failed, c.failed == 1 ? "" : "s",
		    VM_DIR);
		return QX_LOCAL;
	}
	return 0;
}

int queuecmd_run(const struct vm_layout *p, const struct args *a)
{
	return a->queue == QUEUE_CLEAN ? queue_clean(p, a) : queue_status(p);
}
