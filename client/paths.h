/*
 * paths.h - where the client keeps its files (lib/vmlayout.h).
 *
 * The home directory comes from $HOME (else the password database).  Paths
 * are shown to the user with "~" for the home directory.
 */
#ifndef QVMR_CLIENT_PATHS_H
#define QVMR_CLIENT_PATHS_H

#include <limits.h>
#include <stddef.h>

#include "vmlayout.h"

/* vm_layout_init() with $HOME, or the password database when it is unset;
 * prints a message on failure. */
int paths_from_env(struct vm_layout *p);

/* Creates base, queue/{pending,running,results} and history with mode 0700
 * where they are missing; prints a message naming the directory on failure. */
int paths_make_queue(const struct vm_layout *p);

/* out = dir "/" name; QR_ERR_TOO_LARGE when it does not fit.  Pure. */
int path_join(char *out, size_t n, const char *dir, const char *name);

/* out = dir "/" cid suffix, e.g. (pending, cid, ".auth").  Pure. */
int path_cid(char *out, size_t n, const char *dir, const char *cid,
	     const char *suffix);

/*
 * path for display: "~/..." when it is inside the home directory, else the
 * path itself.  Returns out.  Pure.
 */
const char *path_show(const struct vm_layout *p, const char *path,
		      char *out, size_t n);

/* history/YYYY-MM-DD/<cid>, the date taken from the cid itself (UTC), so
 * the folder is known from the id alone.  QR_ERR_INVALID for a cid that
 * does not start with a date.  Pure. */
int path_history_of(const struct vm_layout *p, const char *cid,
		    char *out, size_t n);

#endif
