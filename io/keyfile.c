/*
 * keyfile.c - a key's file: read and written (key.h has the format).
 */
#include "keyfile.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "err.h"
#include "fileio.h"
#include "banned.h"

int key_read_file(const char *path, struct key *out)
{
	char text[KEY_FILE_MAX + 1];
	size_t got = 0;
	struct stat st;
	int fd, r, saved;

	if ((fd = open_regular(path, &st)) < 0)
		return fd;
	if ((st.st_mode & 077) != 0) {
		r = QR_ERR_PERMISSIONS;
		goto out;
	}
	/* read one byte past the limit to tell "exactly max" from "more" */
	if ((r = read_full(fd, text, sizeof(text), &got)) != 0)
		goto out;
	if (got > KEY_FILE_MAX) {
		r = QR_ERR_INVALID;
		goto out;
	}
	r = key_parse(text, got, out);
out:
	saved = errno;
	OPENSSL_cleanse(text, sizeof(text));
	close(fd);
	errno = saved;
	return r;
}

int key_write_file(const char *path, const struct key *k)
{
	char dir[PATH_MAX], text[KEY_HEX_LEN + 1];
	const char *slash, *name;
	size_t dlen;
	int r;

	if (path == NULL || !key_valid(k))
		return QR_ERR_INVALID;
	slash = strrchr(path, '/');
	if (slash == NULL) {
		memcpy(dir, ".", 2);
		name = path;
	} else {
		dlen = (size_t)(slash - path);
		if (dlen == 0)
			dlen = 1;        /* "/name": the root directory */
		if (dlen >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return QR_ERR_TOO_LARGE;
		}
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		name = slash + 1;
	}
	if (name[0] == '\0')
		return QR_ERR_INVALID;
	memcpy(text, k->hex, KEY_HEX_LEN);
	text[KEY_HEX_LEN] = '\n';
	r = write_file_atomic(dir, name, text, sizeof(text), 0600, 1);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}
