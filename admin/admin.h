/*
 * admin.h - the admin verbs of qvm-remote-dom0 (see qvm-remote-dom0(8)).
 *
 * Each verb is
 *
 *     int admin_<verb>(const struct config *c, int argc, char **argv);
 *
 * with argv[0] the verb's name and argv[1..argc) its own arguments, as main
 * passes them after the program's options have been read.  The result is
 * the process exit code: ADMIN_OK, ADMIN_FAIL after a message on stderr, or
 * ADMIN_USAGE after a usage line on stderr.  Results go to stdout, and
 * messages are lowercase lines prefixed "qvm-remote-dom0: ".
 *
 * A verb may write argv strings (authorize wipes a key given as an
 * argument), reads stdin only where documented, and starts no process but
 * systemctl (status, enable, disable), for authorize --from-vm, one
 * transport call, and for prompt, loginctl and zenity.  Whether the
 * daemon runs, authorize, revoke, status, pending, approve and deny learn
 * from its lock (liveness.h); authorize and revoke then wait, up to 10 s,
 * for the running daemon to show the change (keystate.h), approve and
 * deny for it to take the answer.
 * Verbs that change something (authorize, revoke, enable, disable) write an
 * INFO line with action=VERB to the audit log, and open the log before
 * changing anything, so nothing changes unaudited.
 */
#ifndef QVMR_ADMIN_H
#define QVMR_ADMIN_H

#include <stdio.h>

#include "config.h"
#include "gate.h"

#define ADMIN_OK 0
#define ADMIN_FAIL 1
#define ADMIN_USAGE 2
#define ADMIN_POLICY_DENY GATE_EXIT_DENY   /* policy check: denied */
#define ADMIN_POLICY_ASK GATE_EXIT_ASK     /* policy check: needs approval */

/* How much of the audit log's end status and log read. */
#define ADMIN_LOG_TAIL_MAX (4u << 20)
/* The most lines `log -n` prints. */
#define ADMIN_LOG_LINES_MAX 100000u

typedef int (*admin_verb_fn)(const struct config *c, int argc, char **argv);

/*
 * authorize VM              the key (64 hex, one line) from stdin; on a
 *                           terminal it is read without echo
 * authorize --from-vm VM    pulled from ~/.qvm-remote/auth.key in the VM
 * A key given as an argument is refused (and wiped from argv): every
 * process can read argv.  A key another VM holds is refused.
 */
int admin_authorize(const struct config *c, int argc, char **argv);

/* revoke VM: removes the VM's key; a running daemon drops it at once. */
int admin_revoke(const struct config *c, int argc, char **argv);

/* keys: VM, FINGERPRINT, LEGACY, POLLED of every keyed or listed VM. */
int admin_keys(const struct config *c, int argc, char **argv);

/*
 * status: the service's state, transport and poll mode, then per VM its
 * state, key, last contact and, over the last hour, commands run, failed
 * and rejected, from the last ADMIN_LOG_TAIL_MAX bytes of the audit log.
 */
int admin_status(const struct config *c, int argc, char **argv);

/* log [-n N]: the last N (default 20) lines of the audit log. */
int admin_log(const struct config *c, int argc, char **argv);

/* audit verify [FILE]: checks the hash chain of the log (or FILE). */
int admin_audit(const struct config *c, int argc, char **argv);

/* enable [--yes]: systemctl enable, after the admin typed "yes". */
int admin_enable(const struct config *c, int argc, char **argv);

/* disable: systemctl disable. */
int admin_disable(const struct config *c, int argc, char **argv);

/*
 * policy check VM [-u USER] (-x PROGRAM [ARG...] | --script): what the
 * policy of QVM_REMOTE_POLICY_DIR, read now, does with that request from
 * VM, on stdout ("allow: FILE:LINE (as USER, timeout N s)", "deny: no
 * rule", "no policy: allowed as root (every request)", ...).  ADMIN_OK
 * for allow (and no policy), ADMIN_POLICY_DENY, ADMIN_POLICY_ASK,
 * ADMIN_FAIL when the policy cannot be read (the error names FILE:LINE).
 * policy list: the files read and the number of rules, or that error.
 */
int admin_policy(const struct config *c, int argc, char **argv);

/*
 * pending [ID]: the requests waiting for a person's answer (runtime_dir/
 * asks/), one line each (ID, VM, USER, LEFT, RULE, COMMAND), or one in
 * full.  ADMIN_FAIL when the service does not run.
 * approve ID, deny ID: writes the answer (answers/ID, by the person at
 * the terminal: SUDO_USER, else the login uid's name, else the real
 * user's; via=terminal) and waits up to 10 s for the service to take it
 * (asks/ID gone); ADMIN_FAIL, the answer removed, when it did not.
 */
int admin_pending(const struct config *c, int argc, char **argv);
int admin_approve(const struct config *c, int argc, char **argv);
int admin_deny(const struct config *c, int argc, char **argv);

/*
 * ps: what the service runs or holds (runtime_dir/jobs, jobsfile.h), one
 * line each (VM, ID, STATE, USER, TIME, COMMAND).  stop ID: stops a
 * running command (SIGINT, TERM, KILL, as the VM's own cancel) or refuses
 * one that waits, by writing runtime_dir/stops/CID, and waits up to 10 s
 * for the service to show it.  ID: the cid, or at least 6 of the first
 * hex digits of its random part, as ps shows them.  Both ADMIN_FAIL when
 * the service does not run; stop ADMIN_FAIL for an ID that names nothing
 * held or more than one request, or a stop the service did not take.
 */
int admin_ps(const struct config *c, int argc, char **argv);
int admin_stop(const struct config *c, int argc, char **argv);

/*
 * prompt ID: run by the service, not by people.  Asks the person at the
 * desktop (QVM_REMOTE_ASK_PROMPT) about request ID with a zenity question
 * run as the session's user, and writes the answer (via=desktop).
 * PROMPT_ANSWERED when it wrote one, PROMPT_NO_ANSWER when nobody answered
 * (prompts off, no graphical session, the dialog timed out or was ended,
 * SIGTERM), ADMIN_FAIL for an error (no such request, no zenity, the
 * answer could not be written).
 */
#define PROMPT_ANSWERED ADMIN_OK
#define PROMPT_NO_ANSWER 2
int admin_prompt(const struct config *c, int argc, char **argv);

/* The verb called name, or NULL when there is none. */
admin_verb_fn admin_lookup(const char *name);


#endif
