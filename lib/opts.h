/*
 * opts.h - a request's options file (<cid>.opt).
 *
 * Text of "key=value\n" lines, at most OPT_MAX bytes.  Known keys:
 *   timeout=N   seconds, 1..TIMEOUT_MAX; dom0 caps it at its own limit
 *   form=argv   the body is an argument vector (argvbody.h), run with
 *               execve and no shell; without it the body is a script
 *   user=NAME   run as the dom0 user NAME (policy_user_valid); without
 *               it the request asks for no user
 *   check=1     run nothing: dom0 answers what its policy would do with
 *               the request (docs/protocol.md section 5a)
 *   cancel=CID  run nothing: withdraw this VM's request CID, which dom0
 *               holds but has not started (it waits for approval or
 *               for a slot); the body is empty (docs/protocol.md 5b)
 * An unknown key, a repeated key, a bad value, a missing '=' or a byte
 * outside printable ASCII is QR_ERR_INVALID; *why then names the rule.
 * The last line may lack its '\n'; empty lines are not allowed.  More than
 * OPT_MAX bytes is QR_ERR_TOO_LARGE.  *out is only written on success.
 *
 * The v2 token covers the file (SHA256(opt)), so nobody without the key
 * changes what runs or as whom through it; a v1 token does not, which is
 * why dom0 refuses form=, user= and check= under one (docs/protocol.md
 * s. 5).
 */
#ifndef QVMR_OPTS_H
#define QVMR_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "bodyrule.h"
#include "buf.h"
#include "cid.h"
#include "policy.h"

struct req_opts {
	unsigned timeout;                /* 0: not given */
	enum body_form form;             /* BODY_SCRIPT: not given */
	char user[POLICY_USER_MAX + 1];  /* "": not given */
	int check;                       /* check=1: decide, run nothing */
	char cancel[CID_MAX + 1];        /* "": not given */
};

/* Pure.  *why is a static string, set on failure. */
int opts_parse(const uint8_t *untrusted, size_t n, struct req_opts *out,
	       const char **why);
/* Appends the canonical text of o ("" when nothing is set): timeout=,
 * form=, user=, check=, cancel=, in that order.  QR_ERR_INVALID for a value out of range. */
int opts_format(struct buf *out, const struct req_opts *o);

#endif
