/*
 * admin_util.h - what the admin verbs share, private to admin/
 * (the verbs themselves are declared in admin.h):
 *   admin.c          the verb table, messages, the audit record of a
 *                    change, the table of VMs that keys, status and enable
 *                    show
 *   admin_keys.c     authorize, revoke, keys
 *   admin_status.c   status, log
 *   admin_audit.c    audit verify
 *   admin_service.c  enable, disable, and the one way they run systemctl
 *   admin_policy.c   policy check, policy list, the note authorize prints
 *   admin_ask.c      pending, approve, deny, and the asks/ and answers/
 *                    files they share with the prompt
 *   admin_prompt.c   prompt, the desktop question
 *   admin_jobs.c     ps, stop
 */
#ifndef QVMR_ADMIN_UTIL_H
#define QVMR_ADMIN_UTIL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "askfile.h"
#include "audit.h"
#include "bounds.h"
#include "config.h"
#include "key.h"
#include "policy.h"

#define PROG "qvm-remote-dom0"     /* the program, as messages name it */
#define UNIT "qvm-remote-dom0"     /* its systemd unit */

/* Writes "qvm-remote-dom0: ", the message and a newline to f, flushed. */
void admin_msg(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define say(...) admin_msg(stdout, __VA_ARGS__)
#define complain(...) admin_msg(stderr, __VA_ARGS__)

/* Writes "usage: qvm-remote-dom0 SYNOPSIS" to stderr; returns ADMIN_USAGE. */
int admin_usage(const char *synopsis);

/* The person at this terminal, as answers and stops name them (by=): the
 * user sudo was run by, else the audit login uid's, else the real user's
 * name, else "uidN". */
void admin_person(char out[POLICY_USER_MAX + 1]);

/* Whether the service runs (its lock, liveness.h): 1, or 0 after saying
 * it does not ("the service is not running; start it with: ...") or that
 * it cannot tell. */
int admin_service_running(const struct config *c);

/* The terminal's width when stdout is one, else COLUMNS (40 to 1000),
 * else ADMIN_LINE_WIDTH_DEFAULT. */
#define ADMIN_LINE_WIDTH_DEFAULT 80
int admin_line_width(void);

/*
 * Waits up to wait_s for done(arg) to return 1: it asks at once, then on
 * every inotify event of mask on dir, and at least every ADMIN_LOOK_MS
 * whatever inotify says (the directory may be replaced, inotify may be
 * out of watches).  1 when done said so, 0 when the time ran out.
 */
#define ADMIN_LOOK_MS 250
int admin_await(const char *dir, uint32_t mask, int wait_s,
		int (*done)(void *arg), void *arg);

/* A description of r, with saved_errno's when r is QR_ERR_SYSTEM. */
const char *admin_why(int r, int saved_errno);

/*
 * Reads at most max bytes from the end of path into b, starting at a line
 * boundary (a cut first line is dropped), and the offset where what it
 * read ends into *end (when not NULL).  0, or what open_regular() returns
 * (QR_ERR_NOT_FOUND for no file).
 */
int admin_read_tail(const char *path, size_t max, struct buf *b, off_t *end);

/*
 * Opens c's audit log into a, before a verb changes anything.  On failure
 * says so on stderr ("nothing was changed") and returns the error, with
 * a->fd -1.  The caller closes a with audit_close().
 */
int admin_open_audit(const struct config *c, struct audit *a);

/*
 * Records a change in a: "[time] INFO vm=VM action=ACTION fingerprint=FP
 * uid=UID", where vm and fingerprint may be NULL to leave their field out.
 * When that fails, says on stderr that the change was made but is not in
 * the log ("'VM' is DONE, but ..." or, without vm, "DONE, but ...", with
 * done a past participle such as "authorized"), and returns the error;
 * else 0.
 */
int admin_record(const struct config *c, struct audit *a, const char *vm,
		 const char *action, const char *fingerprint,
		 const char *done);

/* ------------------------------------------------------------ VM table */

/* One VM as keys, status and enable show it. */
struct vm_row {
	char name[VMNAME_MAX + 1];
	int has_file;       /* a key file exists */
	int key_r;          /* keystore_load's result */
	char fp[KEY_FINGERPRINT_MAX];
};

/* Every keyed VM and every VM of QVM_REMOTE_VMS, sorted by name, once
 * each.  Some 50 KiB: callers allocate it. */
struct vm_table {
	size_t n;
	struct vm_row row[2 * CONFIG_LIST_MAX];
};

/*
 * Fills t.  Returns 0, or ADMIN_FAIL after a message when the keys
 * directory cannot be used (a missing directory just means no keys).
 */
int admin_load_table(const struct config *c, struct vm_table *t);

/*
 * admin_load_table for the verbs that list VMs (keys, status): when t is
 * empty, also says on stdout that no VM is authorized and how to authorize
 * one.  ADMIN_OK, or ADMIN_FAIL after a message.
 */
int admin_load_listing(const struct config *c, struct vm_table *t);

/* Whether the service polls row's VM: its key is usable and
 * QVM_REMOTE_VMS, when set, names it. */
int admin_polled(const struct config *c, const struct vm_row *row);

/* The width of the VM column: the longest name, at least 2 ("VM"). */
int admin_name_width(const struct vm_table *t);

/* A note on stderr, after the table, for a key that exists but cannot be
 * used (row->has_file with row->key_r not 0): why, and what to do. */
void admin_key_problem(const struct config *c, const struct vm_row *row);

/* ------------------------------------------------ policy: admin_policy.c */

/* What an authorized VM may run under the policy of c (on stdout; an
 * unreadable policy on stderr): with none, any command as root. */
void admin_policy_note(const struct config *c, const char *vm);

/* ---------------------------------------------- systemctl: admin_service.c */

/* The absolute path of systemctl into path; QR_ERR_NOT_FOUND without it. */
int admin_find_systemctl(char path[PATH_MAX]);

/*
 * Runs the dom0 tool at path (systemctl, loginctl) with argv, a fixed
 * environment (PATH, LANG=C.UTF-8, no pager), stdin /dev/null, in a
 * session of its own, under a deadline of timeout_ms, collecting stdout
 * and stderr (either may be NULL to drop it; past a buffer's limit the
 * rest is dropped).  *status is its exit code, or -1 when it was killed.
 * 0, or proc_run's error.
 */
int admin_run_tool(const char *path, char *const argv[], struct buf *out,
		   struct buf *err, unsigned timeout_ms, int *status);

/*
 * The first word `systemctl VERB qvm-remote-dom0` printed (its leading
 * lowercase letters and '-', at most outlen - 1 of them) into out, or ""
 * when systemctl could not run.  Runs it with a deadline, as every
 * systemctl call of the verbs.
 */
void admin_systemctl_word(const char *verb, char *out, size_t outlen);

/* ------------------------------------------- asks: admin_ask.c */

#define ASK_DIR "asks"          /* runtime_dir/asks/ID: what waits */
#define ANSWER_DIR "answers"    /* runtime_dir/answers/ID: the answers */

/* runtime_dir/SUB, or runtime_dir/SUB/ID when id is not NULL, into out;
 * QR_ERR_TOO_LARGE when it does not fit. */
int admin_ask_path(const struct config *c, const char *sub, const char *id,
		   char out[PATH_MAX]);

/*
 * Reads runtime_dir/asks/ID into *a: 0; QR_ERR_NOT_FOUND when no request
 * of that ID waits; QR_ERR_INVALID when id is not an ID or the file does
 * not parse (askfile_parse) or names another ID; read_file's errors.
 * Says nothing.
 */
int admin_ask_load(const struct config *c, const char *id,
		   struct ask_record *a);

/*
 * The one writer of answers: runtime_dir/answers/ID for request a (its ID
 * and cid), approve or deny, by the user name `by`, via terminal or
 * desktop, written through a temporary dot-name and a rename, mode 0600;
 * answers/ is made 0700 when absent.  0, or the error after a message.
 */
int admin_ask_answer(const struct config *c, const struct ask_record *a,
		     int approve, const char *by, enum ask_via via);

/* Removes runtime_dir/answers/ID, an answer the service did not take. */
void admin_ask_unanswer(const struct config *c, const char *id);

/* Appends p[0..n) escaped (log_escape, nothing cut): no control byte, no
 * byte above 0x7e, so a VM's text cannot move a terminal or a dialog. */
int admin_ask_escape(struct buf *out, const char *p, size_t n);

/* Appends each line of a->cmd, escaped, after indent and ended by a
 * newline, and a note when the request was cut. */
int admin_ask_cmd_lines(struct buf *out, const struct ask_record *a,
			const char *indent);

/* The seconds left before a expires, 0 once it has. */
long admin_ask_left(const struct ask_record *a);

#endif
