/*
 * askfile.h - the two files through which a person in dom0 answers a
 * request the policy says to ask about (issue 15, docs/protocol.md
 * section 5b), one line each in the audit log's grammar (logline.h,
 * logparse.h):
 *
 *   <runtime dir>/asks/ID      written by the service while it waits:
 *     [TIME] ASK id=ID vm=VM cid=CID user=U form=argv|script rule=RULE
 *                timeout=N expires=EPOCH bytes=N sha256=HEX cmd=TEXT
 *                [cut=1]
 *   <runtime dir>/answers/ID   written by `qvm-remote-dom0 approve|deny`
 *                              and by the desktop prompt:
 *     [TIME] ANSWER id=ID cid=CID action=approve|deny by=USER
 *                via=terminal|desktop
 *
 * ID is ASK_ID_LEN lowercase hex digits the service draws at random
 * (unique among what waits); an answer names the cid too, so an ID that
 * a restart gave to another request answers nothing.  TIME is when the
 * line was written, expires when the service gives up and denies (UTC
 * seconds), timeout the seconds the command may run once approved.
 *
 * cmd is what the request would run, as the VM sent it: a vector as
 * shell-quoted words (argvbody_quote), a script's first ASK_SCRIPT_LINES
 * lines; at most ASK_CMD_MAX bytes, cut=1 when there was more.  It may
 * hold any byte but NUL (a script's newlines); whoever shows it escapes
 * it first (log_escape), since its bytes are the VM's.
 *
 * Pure.  The parsers accept exactly what the formatters write, fields in
 * any order, unknown fields refused; QR_ERR_INVALID for anything off.
 */
#ifndef QVMR_ASKFILE_H
#define QVMR_ASKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bodyrule.h"
#include "bounds.h"
#include "buf.h"
#include "cid.h"
#include "config.h"
#include "policy.h"
#include "vmname.h"

#define ASK_ID_LEN 6u
#define ASK_CMD_MAX 2048u
#define ASK_SCRIPT_LINES 5u
/* a rule as gate.h names it: "DIR/FILE:LINE" */
#define ASK_RULE_MAX (CONFIG_PATH_MAX + POLICY_NAME_MAX + 16)

struct ask_record {
	char id[ASK_ID_LEN + 1];
	char vm[VMNAME_MAX + 1];
	char cid[CID_MAX + 1];
	char user[POLICY_USER_MAX + 1];     /* whom it would run as */
	enum body_form form;
	char rule[ASK_RULE_MAX];
	unsigned timeout_s;
	time_t expires;
	uint64_t bytes;                     /* the body's size */
	char sha256[65];                    /* the body's, lowercase hex */
	char cmd[ASK_CMD_MAX + 1];          /* NUL-terminated; no NUL inside */
	size_t cmd_len;
	bool cut;
};

enum ask_via { ASK_VIA_TERMINAL, ASK_VIA_DESKTOP };

struct ask_answer {
	char id[ASK_ID_LEN + 1];
	char cid[CID_MAX + 1];
	bool approve;                       /* false: deny */
	char by[POLICY_USER_MAX + 1];       /* who, a user name */
	enum ask_via via;
};

/* Whether s is an ID: ASK_ID_LEN lowercase hex digits. */
bool ask_id_valid(const char *s);

/* Appends the ASK line of a, written at now. */
int askfile_format(struct buf *out, time_t now, const struct ask_record *a);
int askfile_parse(const char *text, size_t n, struct ask_record *out);

/* Appends the ANSWER line of a, written at now. */
int askfile_answer_format(struct buf *out, time_t now,
			  const struct ask_answer *a);
int askfile_answer_parse(const char *text, size_t n, struct ask_answer *out);

#endif
