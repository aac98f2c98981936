/*
 * exitcode.h - the exit codes of qvm-remote that are not the remote
 * command's own (documented in qvm-remote(1) and --help).
 *
 * dom0 writes 124, 125, 126 and 255 into .exit for results that are not a
 * command's own (lib/result.h); the client adds 123 and 130, which only it
 * can know, and 122 for a command that exited 0 but whose output dom0 cut
 * at QVM_REMOTE_MAX_OUTPUT (.meta out_truncated / err_truncated), a value
 * no shell gives a meaning, beside the client's other codes.  A remote
 * command may itself exit with any of these values; --json tells the two
 * apart through "status" (and, for 122, "*_truncated").
 */
#ifndef QVMR_CLIENT_EXITCODE_H
#define QVMR_CLIENT_EXITCODE_H

#define QX_TRUNCATED   122  /* the command exited 0; dom0 cut its output */
#define QX_NO_ANSWER   123  /* dom0 did not take it (nothing ran) or no result yet */
#define QX_TIMEOUT     124  /* the command timed out in dom0 */
#define QX_LOCAL       125  /* usage, key, queue or other local problem */
#define QX_REJECTED    126  /* dom0 rejected the request */
#define QX_SIGINT      130  /* Ctrl-C (or SIGTERM, SIGHUP) here */
#define QX_INTERRUPTED 255  /* dom0 stopped while the command ran */

#endif
