/*
 * tmptree.h - a temporary directory tree for unit tests: made under /tmp,
 * removed whole.  Header-only, for the tests that need one.
 */
#ifndef QVMR_TEST_TMPTREE_H
#define QVMR_TEST_TMPTREE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int
tmptree_rm_one(const char *path, const struct stat *st, int flag,
	       struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Makes /tmp/NAME.XXXXXX into dir (size >= 64); 0 or -1. */
static inline int
tmptree_make(char *dir, size_t size, const char *name)
{
	snprintf(dir, size, "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir) != NULL ? 0 : -1;
}

/* Whether dir/name exists (a dangling link does). */
static inline int
tmptree_exists(const char *dir, const char *name)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static inline void
tmptree_remove(const char *dir)
{
	(void)nftw(dir, tmptree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
