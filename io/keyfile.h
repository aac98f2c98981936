/*
 * keyfile.h - a key's file on disk (the format is key.h's).
 */
#ifndef QVMR_KEYFILE_H
#define QVMR_KEYFILE_H

#include "key.h"

/*
 * Reads a key file.  QR_ERR_PERMISSIONS when the file is group- or
 * world-accessible (mode & 077), QR_ERR_NOT_FOUND when it is absent,
 * QR_ERR_INVALID when its contents are not a key or it is not a regular
 * file; a symlink is not followed (QR_ERR_SYSTEM, errno ELOOP).
 */
int key_read_file(const char *path, struct key *out);

/*
 * Writes the key to path with mode 0600 through a temporary file in the
 * same directory, fsync and rename, so no reader sees a partial key.
 */
int key_write_file(const char *path, const struct key *k);

#endif
