/*
 * jobsfile.h - what the running daemon holds, as it tells the admin verbs
 * ps and stop (docs/protocol.md section 9a), and the stop a verb asks
 * for.  Two files of the runtime directory, lines in the audit log's
 * grammar (logline.h, logparse.h):
 *
 *   <runtime dir>/jobs        written by the service, through a temporary
 *                             name and a rename, whenever the set changes:
 *     qvmr-jobs 1 pid PID
 *     [TIME] JOB vm=VM id=CID state=running|stopping|queued|asking
 *                user=U since=EPOCH form=argv|script cmd=TEXT [cut=1]
 *                [ask=ID]
 *     ...                     (one JOB line per request, any order)
 *   <runtime dir>/stops/CID   written by `qvm-remote-dom0 stop`:
 *     [TIME] STOP vm=VM id=CID by=USER
 *
 * since is when the request entered its state (UTC seconds): started,
 * queued, or began to wait for a person.  cmd is the vector as
 * shell-quoted words or a script's first line, at most JOBS_CMD_MAX
 * bytes, cut=1 when there was more; its bytes are the VM's and may be
 * anything but NUL: whoever shows it escapes it (log_escape).
 *
 * Pure.  The parsers accept exactly what the formatters write, fields in
 * any order, unknown fields refused; QR_ERR_INVALID for anything off.
 */
#ifndef QVMR_JOBSFILE_H
#define QVMR_JOBSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "askfile.h"
#include "bodyrule.h"
#include "bounds.h"
#include "buf.h"
#include "cid.h"
#include "policy.h"

#define JOBS_FILE "jobs"
#define JOBS_STOP_DIR "stops"
#define JOBS_CMD_MAX 200u
#define JOBS_MAX 65536u             /* entries a parse takes */
#define JOBS_TEXT_MAX (JOBS_MAX * 1024u)
#define JOBS_ID_MIN 6u              /* hex digits of a short ID */

enum jobs_state {
	JOBS_RUNNING,
	JOBS_STOPPING,      /* running, a stop (or the VM's cancel) sent */
	JOBS_QUEUED,        /* allowed, waiting for a slot */
	JOBS_ASKING,        /* waiting for a person (askfile.h) */
};

struct jobs_entry {
	char vm[VMNAME_MAX + 1];
	char cid[CID_MAX + 1];
	enum jobs_state state;
	char user[POLICY_USER_MAX + 1];
	time_t since;
	enum body_form form;
	char cmd[JOBS_CMD_MAX + 1];         /* NUL-terminated, no NUL inside */
	size_t cmd_len;
	bool cut;
	char ask[ASK_ID_LEN + 1];           /* "" unless asking */
};

struct jobs_list {
	long pid;                   /* the daemon that wrote it */
	size_t n, cap;
	struct jobs_entry *v;       /* owned: jobs_list_release */
};

struct jobs_stop {
	char vm[VMNAME_MAX + 1];
	char cid[CID_MAX + 1];
	char by[POLICY_USER_MAX + 1];
};

/* "running", "stopping", ... as the file spells them. */
const char *jobs_state_name(enum jobs_state s);

/* Fills e->cmd from p[0..n): at most JOBS_CMD_MAX bytes, a script's first
 * line only (cut set when anything was left out), NULs as spaces. */
void jobs_entry_cmd(struct jobs_entry *e, const void *p, size_t n,
		    bool more);

/* "qvmr-jobs 1 pid PID\n". */
int jobsfile_format_head(struct buf *out, long pid);
/* Appends e's JOB line, written at now.  QR_ERR_INVALID for a bad field. */
int jobsfile_format_entry(struct buf *out, time_t now,
			  const struct jobs_entry *e);

/*
 * Parses a whole jobs file into *out (caller: jobs_list_release, also on
 * failure).  QR_ERR_INVALID, QR_ERR_TOO_LARGE (over JOBS_MAX entries),
 * QR_ERR_NOMEM.
 */
int jobsfile_parse(const char *text, size_t n, struct jobs_list *out);
void jobs_list_release(struct jobs_list *l);

int jobsfile_format_stop(struct buf *out, time_t now,
			 const struct jobs_stop *s);
int jobsfile_parse_stop(const char *text, size_t n, struct jobs_stop *out);

/*
 * The short ID of a cid: its random part (after the last '-').  The
 * length ps shows for the random parts of l: the least, at least
 * JOBS_ID_MIN, at which no two entries of different cids share a prefix
 * (a part shorter than that is shown whole).
 */
const char *jobs_random_part(const char *cid);
size_t jobs_short_len(const struct jobs_list *l);

/*
 * The entry that id names: a whole cid, or at least JOBS_ID_MIN hex
 * digits that begin the random part of exactly one cid of l.  The index,
 * QR_ERR_NOT_FOUND (none), QR_ERR_EXISTS (more than one cid: give more
 * digits; or one cid held for two VMs), QR_ERR_INVALID (neither a cid
 * nor hex digits).
 */
int jobs_match(const struct jobs_list *l, const char *id, size_t *idx);

#endif
