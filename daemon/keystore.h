/*
 * keystore.h - dom0's per-VM keys: <keys_dir>/<vm>.key.
 *
 * The directory is 0700 and each key file 0600, both owned by the daemon's
 * user (root in dom0).  The daemon refuses looser modes with a message that
 * says how to fix them, rather than using a key others may have read.
 */
#ifndef QVMR_KEYSTORE_H
#define QVMR_KEYSTORE_H

#include "config.h"
#include "key.h"
#include "bounds.h"

/*
 * 0 when dir exists, is a directory owned by us and has no group/other
 * bits; QR_ERR_PERMISSIONS or QR_ERR_NOT_FOUND otherwise, with a message
 * for the admin in msg ("chmod 700 ..." and the like).
 */
int keystore_check_dir(const char *dir, char *msg, size_t msglen);

/* Creates dir (0700) if absent. */
int keystore_ensure_dir(const char *dir);

/* Loads vm's key.  QR_ERR_NOT_FOUND, QR_ERR_PERMISSIONS, QR_ERR_INVALID. */
int keystore_load(const char *dir, const char *vm, struct key *out);

/*
 * Stores vm's key atomically, 0600.  QR_ERR_EXISTS when another VM already
 * holds the same key; its name is written to `other`.  Replacing vm's own
 * key is allowed.
 */
int keystore_store(const char *dir, const char *vm, const struct key *k,
		   char other[VMNAME_MAX + 1]);

/* Removes vm's key; QR_ERR_NOT_FOUND when it had none. */
int keystore_remove(const char *dir, const char *vm);

/* The VMs that have a key file with a valid VM name, sorted. */
int keystore_list(const char *dir, struct name_list *out);

#endif
