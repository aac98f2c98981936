/*
 * policydir.h - the policy read from its directory (the format is
 * policy.h's; the daemon's directory is QVM_REMOTE_POLICY_DIR, config.h).
 *
 * Every regular file named NAME.policy (NAME not empty, not starting with
 * '.') is read, in byte order of the names (strcmp, not the locale's
 * collation), and added with policy_add_file under its name within the
 * directory.  Other names (dotfiles, .rpmnew, .rpmsave, ~ backups, ...)
 * are skipped without a word.  A .policy name that is not a regular file
 * (a directory, a FIFO, a symlink: symlinks are not followed) is an error,
 * not skipped: leaving out a file of deny rules would widen the policy.
 *
 * When the process runs as root, the directory and every file must be
 * owned by root and not writable by group or others: whoever could write
 * them could allow themselves anything.
 */
#ifndef QVMR_POLICYDIR_H
#define QVMR_POLICYDIR_H

#include "policy.h"

/*
 * Reads dir into a new policy.  On success returns 0 and *out (an
 * initialised policy) is released and replaced by the new one: empty
 * (policy_empty) when dir does not exist or holds no .policy file.  On
 * failure returns a negative qr_err, fills *err (file is the name within
 * dir, "" for the directory itself; line 0 for a whole-file problem) and
 * leaves *out as it was, so a reload that fails keeps the old policy.
 * Codes: those of policy_add_file, QR_ERR_PERMISSIONS (owner or mode),
 * QR_ERR_INVALID (not a directory, not a regular file), QR_ERR_SYSTEM
 * (the directory or a file cannot be read; errno set).
 */
int policydir_load(const char *dir, struct policy *out,
		   struct policy_error *err);

/*
 * The error as the admin reads it, into out[0..n): "DIR/FILE:LINE: REASON",
 * "DIR/FILE: REASON" for a whole file (line 0), "DIR: REASON" for the
 * directory itself (file "").  Pure.
 */
void policydir_error_text(const char *dir, const struct policy_error *err,
			  char *out, size_t n);

#endif
