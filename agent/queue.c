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

int
queue_path(char out[PATH_MAX], const char *dir, const char *name,
	   const char *suffix)
{
	int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, name, suffix);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

int
queue_marker(char out[PATH_MAX], const struct vm_layout *q,
	     const char *cid, const char *claim)
{
	char suffix[CLAIM_MAX + 16];
	int n = snprintf(suffix, sizeof(suffix), VM_TOKEN ".%s", claim);

	if (n < 0 || (size_t)n >= sizeof(suffix))
		return QR_ERR_TOO_LARGE;
	return queue_path(out, q->running, cid, suffix);
}

void
queue_move_request(const char *from_dir, const char *to_dir, const char *cid)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < VM_REQUEST_FILES; i++)
		if (queue_path(from, from_dir, cid, vm_request_suffix[i]) == 0 &&
		    queue_path(to, to_dir, cid, vm_request_suffix[i]) == 0 &&
		    lstat(from, &st) == 0)
			(void)rename(from, to);
}

int
queue_init(struct vm_layout *q)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || home[0] != '/')
		return QR_ERR_INVALID;
	return vm_layout_init(q, home);
}

bool
queue_token_name(const char *name)
{
	size_t n = strlen(name), s = sizeof(VM_TOKEN) - 1;

	return n > s && strcmp(name + n - s, VM_TOKEN) == 0 &&
	       cid_valid(name, n - s);
}

bool
queue_marker_name(const char *name, char *cid, char *claim)
{
	const char *dot = strstr(name, VM_TOKEN ".");
	size_t nc, nm;

	if (dot == NULL)
		return false;
	nc = (size_t)(dot - name);
	dot += sizeof(VM_TOKEN);
	nm = strlen(dot);
	if (!cid_valid(name, nc) || !claim_valid(dot, nm))
		return false;
	memcpy(cid, name, nc);
	cid[nc] = '\0';
	memcpy(claim, dot, nm + 1);
	return true;
}
