/*
 * keystore.c - dom0's per-VM keys, <keys_dir>/<vm>.key.
 */
#include "keystore.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "err.h"
#include "fileio.h"
#include "keyfile.h"
#include "vmname.h"
#include "banned.h"

#define KEY_SUFFIX ".key"
#define KEY_SUFFIX_LEN (sizeof(KEY_SUFFIX) - 1)

static_assert(sizeof(((struct name_list *)0)->name[0]) > VMNAME_MAX,
	      "a name list entry holds a VM name");

static void __attribute__((format(printf, 3, 4)))
set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

int
keystore_check_dir(const char *dir, char *msg, size_t msglen)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT) {
			set_msg(msg, msglen, "keys directory %s does not exist; "
				"authorize a VM to create it: qvm-remote-dom0 "
				"authorize --from-vm VM", dir);
			return QR_ERR_NOT_FOUND;
		}
		set_msg(msg, msglen, "cannot read keys directory %s: %s", dir,
			strerror(errno));
		return QR_ERR_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_msg(msg, msglen, "keys directory %s is not a directory; "
			"move it away and authorize the VMs again", dir);
		return QR_ERR_PERMISSIONS;
	}
	if (st.st_uid != geteuid()) {
		set_msg(msg, msglen, "keys directory %s is owned by uid %lu, "
			"not by uid %lu; fix with: chown %lu %s", dir,
			(unsigned long)st.st_uid, (unsigned long)geteuid(),
			(unsigned long)geteuid(), dir);
		return QR_ERR_PERMISSIONS;
	}
	if ((st.st_mode & 077) != 0) {
		set_msg(msg, msglen, "keys directory %s is accessible by "
			"others; fix with: chmod 700 %s", dir, dir);
		return QR_ERR_PERMISSIONS;
	}
	return 0;
}

int
keystore_ensure_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return QR_ERR_SYSTEM;
	return mkdir_p(dir, 0700);
}

/* <dir>/<vm>.key, for a valid VM name. */
static int
key_path(const char *dir, const char *vm, char out[PATH_MAX])
{
	int n;

	if (!vmname_valid(vm))
		return QR_ERR_INVALID;
	n = snprintf(out, PATH_MAX, "%s/%s" KEY_SUFFIX, dir, vm);
	if (n < 0 || n >= PATH_MAX)
		return QR_ERR_TOO_LARGE;
	return 0;
}

/* Makes a rename or unlink in dir durable. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return QR_ERR_SYSTEM;
	if (fsync(fd) != 0)
		r = QR_ERR_SYSTEM;
	close(fd);
	return r;
}

int
keystore_load(const char *dir, const char *vm, struct key *out)
{
	char path[PATH_MAX];
	int r;

	if ((r = key_path(dir, vm, path)) != 0)
		return r;
	if ((r = keystore_check_dir(dir, NULL, 0)) != 0)
		return r;
	return key_read_file(path, out);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
keystore_list(const char *dir, struct name_list *out)
{
	DIR *d = NULL;
	struct dirent *de;
	int r;

	out->n = 0;
	if ((r = keystore_check_dir(dir, NULL, 0)) != 0)
		return r;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	for (;;) {
		char vm[VMNAME_MAX + 1];
		struct stat st;
		size_t len;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			r = errno != 0 ? QR_ERR_SYSTEM : 0;
			break;
		}
		len = strlen(de->d_name);
		/* temporaries of key_write_file start with '.', and vmname_valid
		 * refuses a leading '.', so they never count as keys */
		if (len <= KEY_SUFFIX_LEN || len - KEY_SUFFIX_LEN > VMNAME_MAX ||
		    memcmp(de->d_name + len - KEY_SUFFIX_LEN, KEY_SUFFIX,
			   KEY_SUFFIX_LEN) != 0)
			continue;
		memcpy(vm, de->d_name, len - KEY_SUFFIX_LEN);
		vm[len - KEY_SUFFIX_LEN] = '\0';
		if (!vmname_valid(vm))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (out->n >= CONFIG_LIST_MAX) {
			r = QR_ERR_TOO_LARGE;
			break;
		}
		memcpy(out->name[out->n], vm, len - KEY_SUFFIX_LEN + 1);
		out->n++;
	}
	closedir(d);
	if (r != 0) {
		out->n = 0;
		return r;
	}
	qsort(out->name, out->n, sizeof(out->name[0]), cmp_names);
	return 0;
}

/*
 * Another VM holding k: its name goes to other.  Key files that cannot be
 * read (gone, loose mode, garbage) hold no usable key and are skipped.
 */
static int
find_holder(const char *dir, const char *vm, const struct key *k,
	    char other[VMNAME_MAX + 1])
{
	struct name_list *l = malloc(sizeof(*l));
	struct key cur;
	size_t i;
	int r;

	if (l == NULL)
		return QR_ERR_NOMEM;
	if ((r = keystore_list(dir, l)) != 0)
		goto out;
	for (i = 0; i < l->n; i++) {
		int same;

		if (strcmp(l->name[i], vm) == 0)
			continue;
		if (keystore_load(dir, l->name[i], &cur) != 0)
			continue;
		same = key_equal(&cur, k);
		key_wipe(&cur);
		if (same) {
			snprintf(other, VMNAME_MAX + 1, "%s", l->name[i]);
			r = QR_ERR_EXISTS;
			goto out;
		}
	}
	r = 0;
out:
	free(l);
	return r;
}

int
keystore_store(const char *dir, const char *vm, const struct key *k,
	       char other[VMNAME_MAX + 1])
{
	char path[PATH_MAX];
	int dfd = -1, r;

	other[0] = '\0';
	if ((r = key_path(dir, vm, path)) != 0)
		return r;
	if ((r = keystore_check_dir(dir, NULL, 0)) != 0)
		return r;
	/* Two authorize runs at once must not both pass the uniqueness check
	 * with the same key: hold the directory's lock across check and
	 * write. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return QR_ERR_SYSTEM;
	while ((r = flock(dfd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (r != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if ((r = find_holder(dir, vm, k, other)) != 0)
		goto out;
	if ((r = key_write_file(path, k)) != 0)
		goto out;
	r = fsync(dfd) == 0 ? 0 : QR_ERR_SYSTEM;
out:
	close(dfd);
	return r;
}

int
keystore_remove(const char *dir, const char *vm)
{
	char path[PATH_MAX];
	int r;

	if ((r = key_path(dir, vm, path)) != 0)
		return r;
	if (unlink(path) != 0)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	return sync_dir(dir);
}
