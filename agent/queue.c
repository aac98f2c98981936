/*
 * queue.c - the paths of the VM's queue and the names found in it.
 */
#include "queue.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cid.h"
#include "err.h"
#include "frame.h"

#include "banned.h"

#define TOKEN_SUFFIX ".auth"

const char *const queue_request_suffix[QUEUE_REQUEST_FILES] = { "", ".in",
								  ".opt" };

int
queue_path(char out[PATH_MAX], const char *dir, const char *name,
	   const char *suffix)
{
	int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, name, suffix);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

int
queue_marker(char out[PATH_MAX], const struct agent_queue *q,
	     const char *cid, const char *claim)
{
	char suffix[CLAIM_MAX + 16];
	int n = snprintf(suffix, sizeof(suffix), TOKEN_SUFFIX ".%s", claim);

	if (n < 0 || (size_t)n >= sizeof(suffix))
		return QR_ERR_TOO_LARGE;
	return queue_path(out, q->running, cid, suffix);
}

void
queue_move_request(const char *from_dir, const char *to_dir, const char *cid)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < QUEUE_REQUEST_FILES; i++)
		if (queue_path(from, from_dir, cid, queue_request_suffix[i]) == 0 &&
		    queue_path(to, to_dir, cid, queue_request_suffix[i]) == 0 &&
		    lstat(from, &st) == 0)
			(void)rename(from, to);
}

int
queue_init(struct agent_queue *q)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	int r;

	if (home == NULL || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] != '/')
		return QR_ERR_INVALID;
	if (strlen(home) >= sizeof(q->home))
		return QR_ERR_TOO_LARGE;
	memcpy(q->home, home, strlen(home) + 1);
	if ((r = queue_path(q->base, q->home, ".qvm-remote", "")) != 0 ||
	    (r = queue_path(q->queue, q->base, "queue", "")) != 0 ||
	    (r = queue_path(q->pending, q->queue, "pending", "")) != 0 ||
	    (r = queue_path(q->running, q->queue, "running", "")) != 0 ||
	    (r = queue_path(q->results, q->queue, "results", "")) != 0 ||
	    (r = queue_path(q->audit, q->base, "audit.log", "")) != 0)
		return r;
	return 0;
}

bool
queue_token_name(const char *name)
{
	size_t n = strlen(name), s = sizeof(TOKEN_SUFFIX) - 1;

	return n > s && strcmp(name + n - s, TOKEN_SUFFIX) == 0 &&
	       cid_valid(name, n - s);
}

bool
queue_marker_name(const char *name, char *cid, char *claim)
{
	const char *dot = strstr(name, TOKEN_SUFFIX ".");
	size_t nc, nm;

	if (dot == NULL)
		return false;
	nc = (size_t)(dot - name);
	dot += sizeof(TOKEN_SUFFIX);
	nm = strlen(dot);
	if (!cid_valid(name, nc) || !claim_valid(dot, nm))
		return false;
	memcpy(cid, name, nc);
	cid[nc] = '\0';
	memcpy(claim, dot, nm + 1);
	return true;
}
