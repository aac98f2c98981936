/*
 * dirwatch.c - a directory loaded again when it changes (dirwatch.h).
 */
#include "dirwatch.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "err.h"

#include "banned.h"

#define STAMP_ENTRIES_MAX 4096     /* entries a stamp looks at */
#define WATCH_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		      IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* What a stamp takes of one stat: no padding bytes, so equal stats digest
 * equally. */
static void
stamp_stat(EVP_MD_CTX *md, const struct stat *st)
{
	uint64_t f[] = {
		(uint64_t)st->st_dev, (uint64_t)st->st_ino,
		(uint64_t)st->st_mode, (uint64_t)st->st_uid,
		(uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
	};

	(void)EVP_DigestUpdate(md, f, sizeof(f));
}

/* 0, or QR_ERR_CRYPTO when libcrypto failed (counted as a change). */
static int
stamp(const char *dir, unsigned char out[DIRWATCH_STAMP_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct stat st;
	unsigned int n = DIRWATCH_STAMP_LEN;
	DIR *d = NULL;
	int r = QR_ERR_CRYPTO;

	memset(out, 0, DIRWATCH_STAMP_LEN);
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	if (stat(dir, &st) != 0) {
		(void)EVP_DigestUpdate(md, "absent", 6);
	} else {
		stamp_stat(md, &st);
		if ((d = opendir(dir)) != NULL) {
			struct dirent *de;
			size_t i = 0;

			while (i++ < STAMP_ENTRIES_MAX &&
			       (de = readdir(d)) != NULL) {
				(void)EVP_DigestUpdate(md, de->d_name,
						       strlen(de->d_name) + 1);
				if (fstatat(dirfd(d), de->d_name, &st,
					    AT_SYMLINK_NOFOLLOW) == 0)
					stamp_stat(md, &st);
			}
			closedir(d);
		}
	}
	if (EVP_DigestFinal_ex(md, out, &n) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

void
dirwatch_init(struct dirwatch *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	w->path = path;
	w->wd = -1;
}

int
dirwatch_add(struct dirwatch *w, int inotify_fd)
{
	if (inotify_fd < 0 || w->wd >= 0)
		return w->wd >= 0;
	/* IN_MASK_ADD: another watch may be on the same directory (the keys
	 * directory might be the qrexec one, or the policy's) */
	w->wd = inotify_add_watch(inotify_fd, w->path,
				  WATCH_EVENTS | IN_MASK_ADD | IN_ONLYDIR);
	if (w->wd >= 0 && w->loads > 0)
		w->dirty = 1;
	return w->wd >= 0;
}

void
dirwatch_event(struct dirwatch *w, int inotify_fd, int wd, uint32_t mask)
{
	if (wd == -1 && (mask & IN_Q_OVERFLOW)) {
		w->dirty = 1;
		return;
	}
	if (wd < 0 || wd != w->wd)
		return;
	w->dirty = 1;
	if (mask & IN_MOVE_SELF) {
		/* the watch follows the moved directory; the path counts */
		(void)inotify_rm_watch(inotify_fd, wd);
		w->wd = -1;
	} else if (mask & IN_IGNORED) {
		w->wd = -1;     /* removed: watched again once it is back */
	}
}

int
dirwatch_due(struct dirwatch *w, int inotify_fd, int64_t now_ms)
{
	unsigned char now_stamp[DIRWATCH_STAMP_LEN];

	if (w->wd < 0 && now_ms - w->checked_ms >= DIRWATCH_TICK_MS) {
		w->checked_ms = now_ms;
		(void)dirwatch_add(w, inotify_fd);
		if (!w->dirty &&
		    (stamp(w->path, now_stamp) != 0 ||
		     memcmp(now_stamp, w->stamp, sizeof(now_stamp)) != 0))
			w->dirty = 1;
	}
	return w->dirty;
}

void
dirwatch_loading(struct dirwatch *w)
{
	w->loads++;
	w->dirty = stamp(w->path, w->stamp) != 0;
}
