/*
 * admin_keys.c - the verbs that manage VM keys: authorize, revoke, keys.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "clock.h"
#include "key.h"
#include "keystate.h"
#include "keystore.h"
#include "liveness.h"
#include "transport.h"
#include "vmname.h"
#include "banned.h"

#define PULL_TIMEOUT_S 30
#define PULL_NO_KEY 3          /* exit status of pull_program: no key file */

/* Run in the VM by authorize --from-vm: prints the key file, or exits 3
 * when there is none.  Constant text: nothing of the VM's goes into it. */
static const char pull_program[] =
	"f=\"$HOME/.qvm-remote/auth.key\"\n"
	"[ -f \"$f\" ] || exit 3\n"
	"exec cat -- \"$f\"\n";

#define CONFIRM_WAIT_S 10      /* for the running daemon to take a change */

/* --------------------------------------- what the running daemon did */

/*
 * A change of vm's key file, as the running daemon shows it in
 * runtime_dir/keys (keystate.h): revoke waits until no key of vm is
 * served, authorize until vm's entry carries the new fingerprint.
 */
struct confirm {
	const char *runtime_dir;
	const char *vm;
	const char *fp;             /* authorize: the new key's; revoke: NULL */
	long pid;                   /* the daemon that holds the lock */
	int gone;                   /* it stopped while we waited */
	int have;                   /* entry is vm's, as the daemon shows it */
	struct keystate_entry entry;
};

static int
confirmed(const struct keystate *s, void *arg)
{
	struct confirm *c = arg;
	const struct keystate_entry *e;
	long pid;

	if (liveness_probe(c->runtime_dir, &pid) != 1) {
		c->gone = 1;
		return 1;
	}
	/* a file an earlier daemon left says nothing of this one */
	if (s == NULL || (c->pid > 0 && s->pid != c->pid))
		return 0;
	e = keystate_find(s, c->vm);
	if (c->fp == NULL ? e != NULL && e->state == KEYSTATE_SERVED
			  : e == NULL || strcmp(e->fp, c->fp) != 0)
		return 0;
	c->have = e != NULL;
	if (e != NULL)
		c->entry = *e;
	return 1;
}

/*
 * After a change of vm's key file: 0 when no daemon runs; 1 when the
 * running daemon showed the change, with c filled in; -1 when it did not
 * within CONFIRM_WAIT_S (the message is said here).
 */
static int
await_daemon(const struct config *cfg, const char *vm, const char *fp,
	     const char *done, struct confirm *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->runtime_dir = cfg->runtime_dir;
	c->vm = vm;
	c->fp = fp;
	if (liveness_probe(cfg->runtime_dir, &c->pid) != 1)
		return 0;
	r = keystate_wait(cfg->runtime_dir, mono_ms() + CONFIRM_WAIT_S * 1000,
			  0, confirmed, c);
	if (r == 0 && c->gone)
		return 0;
	if (r == 0)
		return 1;
	complain("'%s' is %s, but the running service (pid %ld) did not "
		 "confirm within %d s that it %s; check its log with: " PROG
		 " log, and its keys file %s/" KEYSTATE_FILE, vm, done, c->pid,
		 CONFIRM_WAIT_S, fp != NULL ? "loaded the key"
					    : "dropped the key",
		 cfg->runtime_dir);
	return -1;
}

/* " (2 commands from it still running)", or "". */
static void
still_running(const struct confirm *c, char *out, size_t n)
{
	unsigned k = c->have ? c->entry.running : 0;

	if (k == 0)
		out[0] = '\0';
	else
		snprintf(out, n, " (%u command%s from it still running)", k,
			 k == 1 ? "" : "s");
}

/* ------------------------------------------------------------- authorize */

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * Reads a key from stdin: to end of file from a pipe or file, one line
 * without echo from a terminal.
 */
static int
read_key_stdin(const char *vm, struct key *k)
{
	char text[KEY_FILE_MAX + 1];
	struct termios saved_tio, quiet;
	struct sigaction sa, old_int, old_term;
	size_t n = 0;
	int tty = isatty(STDIN_FILENO), r;

	if (tty) {
		if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
			return QR_ERR_SYSTEM;
		fprintf(stderr, PROG ": paste the key of '%s' (64 hex "
			"characters, not shown), then press Enter: ", vm);
		fflush(stderr);
		/* Ctrl-C must not leave the terminal without echo: catch it,
		 * let read fail with EINTR, restore, then give up */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_interrupt;
		sigemptyset(&sa.sa_mask);
		interrupted = 0;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		quiet = saved_tio;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	r = 0;
	while (n < sizeof(text)) {
		ssize_t got = read(STDIN_FILENO, text + n, sizeof(text) - n);

		if (got < 0 && errno == EINTR && !interrupted)
			continue;
		if (got < 0) {
			r = QR_ERR_SYSTEM;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (tty && memchr(text, '\n', n) != NULL)
			break;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		fputc('\n', stderr);
		if (interrupted) {
			errno = EINTR;
			r = QR_ERR_SYSTEM;
		}
	}
	if (r == 0)
		r = n > KEY_FILE_MAX ? QR_ERR_TOO_LARGE : key_parse(text, n, k);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* Pulls the key from the VM's ~/.qvm-remote/auth.key. */
static int
pull_key(const struct config *c, const char *vm, struct key *k)
{
	struct buf untrusted_out = BUF_INIT(KEY_FILE_MAX);
	struct transport t;
	char msg[256];
	int r, status = -1, e;

	if ((r = transport_init(&t, c, msg, sizeof(msg))) != 0) {
		complain("%s", msg);
		return ADMIN_FAIL;
	}
	if (!transport_vm_up(&t, vm)) {
		if (transport_vm_exists(vm) == 0)
			complain("there is no VM named '%s' (qvm-ls lists "
				 "them)", vm);
		else
			complain("'%s' is not running; start it with: "
				 "qvm-start %s, or pipe its key here: " PROG
				 " authorize %s < FILE", vm, vm, vm);
		return ADMIN_FAIL;
	}
	r = transport_run(&t, vm, pull_program, &untrusted_out, PULL_TIMEOUT_S,
			  &status);
	e = errno;
	if (r != 0) {
		complain("cannot reach '%s': %s", vm, admin_why(r, e));
		r = ADMIN_FAIL;
		goto out;
	}
	if (status == PULL_NO_KEY) {
		complain("'%s' has no key; in %s run: qvm-remote key gen", vm,
			 vm);
		r = ADMIN_FAIL;
		goto out;
	}
	if (status != 0) {
		if (status < 0)
			complain("reading the key of '%s' took longer than %d s "
				 "or sent more than a key; nothing was changed",
				 vm, PULL_TIMEOUT_S);
		else
			complain("reading the key of '%s' failed (exit %d); "
				 "is '%s' running and its qrexec agent up?", vm,
				 status, vm);
		r = ADMIN_FAIL;
		goto out;
	}
	if (key_parse(buf_str(&untrusted_out), untrusted_out.len, k) != 0) {
		complain("~/.qvm-remote/auth.key in '%s' is not a key; in %s "
			 "run: qvm-remote key gen --force", vm, vm);
		r = ADMIN_FAIL;
		goto out;
	}
	r = ADMIN_OK;
out:
	if (untrusted_out.data != NULL)
		OPENSSL_cleanse(untrusted_out.data, untrusted_out.cap);
	buf_release(&untrusted_out);
	return r;
}

static int
looks_like_key(const char *s)
{
	struct key k;
	int r = key_parse(s, strlen(s), &k);

	key_wipe(&k);
	return r == 0;
}

static void
warn_not_polled(const struct config *c, const char *vm)
{
	if (c->vms_set && !name_list_has(&c->vms, vm))
		complain("warning: '%s' is not in QVM_REMOTE_VMS, so it will "
			 "not be polled until you add it there", vm);
}

#define AUTHORIZE_USAGE "authorize VM < KEYFILE | authorize --from-vm VM"

int
admin_authorize(const struct config *c, int argc, char **argv)
{
	struct key k, old;
	struct audit a = { .fd = -1 };
	struct confirm conf;
	char fp[KEY_FINGERPRINT_MAX], oldfp[KEY_FINGERPRINT_MAX], running[64];
	char other[VMNAME_MAX + 1], msg[512];
	const char *vm = NULL;
	int from_vm = 0, i, r, e, had_old = 0, extra = 0, ret = ADMIN_FAIL;

	memset(&k, 0, sizeof(k));
	memset(&old, 0, sizeof(old));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from-vm") == 0)
			from_vm = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
			 strcmp(argv[i], "--help") == 0)
			return admin_usage(AUTHORIZE_USAGE);
		else if (argv[i][0] == '-' && vm == NULL)
			return admin_usage(AUTHORIZE_USAGE);
		else if (vm == NULL)
			vm = argv[i];
		else
			extra = i;
	}
	if (extra != 0) {
		if (looks_like_key(argv[extra])) {
			/* shorten the time it stays in /proc/PID/cmdline */
			OPENSSL_cleanse(argv[extra], strlen(argv[extra]));
			complain("refusing a key given as an argument: every "
				 "process can read the arguments of others "
				 "(ps, /proc); pipe it on stdin instead: "
				 PROG " authorize VM < KEYFILE, or pull it "
				 "with: " PROG " authorize --from-vm VM");
			complain("that key is exposed now; in the VM make a "
				 "new one: qvm-remote key gen --force");
			return ADMIN_USAGE;
		}
		return admin_usage(AUTHORIZE_USAGE);
	}
	if (vm == NULL)
		return admin_usage(AUTHORIZE_USAGE);
	if (!vmname_valid(vm)) {
		complain("'%s' is not a valid VM name", vm);
		return ADMIN_USAGE;
	}

	/* check everything that does not need the key first, so a refusal
	 * never comes after the admin pasted it */
	if ((r = keystore_ensure_dir(c->keys_dir)) != 0) {
		e = errno;
		complain("cannot create keys directory %s: %s", c->keys_dir,
			 admin_why(r, e));
		return ADMIN_FAIL;
	}
	if (keystore_check_dir(c->keys_dir, msg, sizeof(msg)) != 0) {
		complain("%s", msg);
		return ADMIN_FAIL;
	}
	if (admin_open_audit(c, &a) != 0)
		return ADMIN_FAIL;

	if (from_vm) {
		if (pull_key(c, vm, &k) != ADMIN_OK)
			goto out;
	} else if ((r = read_key_stdin(vm, &k)) != 0) {
		e = errno;
		if (r == QR_ERR_SYSTEM && e == EINTR)
			complain("interrupted; nothing was changed");
		else if (r == QR_ERR_SYSTEM)
			complain("cannot read the key from stdin: %s",
				 strerror(e));
		else
			complain("stdin does not hold a key (64 hex characters "
				 "on one line); in %s show it with: qvm-remote "
				 "key show, or use: " PROG " authorize "
				 "--from-vm %s", vm, vm);
		goto out;
	}
	if ((r = key_fingerprint(&k, fp)) != 0) {
		complain("cannot compute the key's fingerprint: %s",
			 qr_strerror(r));
		goto out;
	}
	if (keystore_load(c->keys_dir, vm, &old) == 0) {
		had_old = 1;
		if (key_fingerprint(&old, oldfp) != 0)
			snprintf(oldfp, sizeof(oldfp), "unknown");
	}
	r = keystore_store(c->keys_dir, vm, &k, other);
	e = errno;
	if (r == QR_ERR_EXISTS) {
		complain("the key of '%s' is already authorized for '%s'; each "
			 "VM needs its own key: in %s run qvm-remote key gen "
			 "--force", vm, other, vm);
		goto out;
	}
	if (r == QR_ERR_PERMISSIONS &&
	    keystore_check_dir(c->keys_dir, msg, sizeof(msg)) != 0) {
		complain("%s", msg);
		goto out;
	}
	if (r != 0) {
		complain("cannot store the key of '%s' in %s: %s", vm,
			 c->keys_dir, admin_why(r, e));
		goto out;
	}

	say("%s the key of '%s', fingerprint %s",
	    from_vm ? "pulled" : "read", vm, fp);
	if (had_old && key_equal(&old, &k))
		say("'%s' already had this key", vm);
	else if (had_old)
		say("replaced the previous key of '%s' (fingerprint %s)", vm,
		    oldfp);
	if (admin_record(c, &a, vm, "authorize", fp, "authorized") != 0)
		goto out;
	switch (await_daemon(c, vm, fp, "authorized", &conf)) {
	case 0:
		say("'%s' is authorized; the service is not running; start it "
		    "for this boot with:\n  systemctl start " UNIT, vm);
		warn_not_polled(c, vm);
		break;
	case 1:
		still_running(&conf, running, sizeof(running));
		if (conf.entry.state == KEYSTATE_NOT_POLLED)
			say("'%s' is authorized, but the running service does "
			    "not poll it: QVM_REMOTE_VMS (or its --vm) leaves "
			    "it out", vm);
		else if (had_old && !key_equal(&old, &k))
			say("'%s' is authorized; the running service uses the "
			    "new key from its next request and refuses what "
			    "the old key signed%s", vm, running);
		else
			say("'%s' is authorized; the running service serves it "
			    "from its next request%s", vm, running);
		break;
	default:
		goto out;
	}
	admin_policy_note(c, vm);
	ret = ADMIN_OK;
out:
	key_wipe(&k);
	key_wipe(&old);
	audit_close(&a);
	return ret;
}

/* ----------------------------------------------------------------- revoke */

int
admin_revoke(const struct config *c, int argc, char **argv)
{
	struct audit a = { .fd = -1 };
	struct confirm conf;
	struct key k;
	char fp[KEY_FINGERPRINT_MAX] = "", running[64];
	const char *vm;
	int r, e, ret = ADMIN_FAIL;

	if (argc != 2 || argv[1][0] == '-')
		return admin_usage("revoke VM");
	vm = argv[1];
	if (!vmname_valid(vm)) {
		complain("'%s' is not a valid VM name", vm);
		return ADMIN_USAGE;
	}
	if (admin_open_audit(c, &a) != 0)
		return ADMIN_FAIL;
	/* the fingerprint, for the record, when the key is readable */
	if (keystore_load(c->keys_dir, vm, &k) == 0) {
		if (key_fingerprint(&k, fp) != 0)
			fp[0] = '\0';
		key_wipe(&k);
	}
	r = keystore_remove(c->keys_dir, vm);
	e = errno;
	if (r == QR_ERR_NOT_FOUND) {
		complain("'%s' has no key in %s; nothing to revoke", vm,
			 c->keys_dir);
		goto out;
	}
	if (r != 0) {
		complain("cannot remove the key of '%s': %s", vm,
			 admin_why(r, e));
		goto out;
	}
	if (admin_record(c, &a, vm, "revoke", fp[0] != '\0' ? fp : NULL,
			 "revoked") != 0)
		goto out;
	switch (await_daemon(c, vm, NULL, "revoked", &conf)) {
	case 0:
		say("'%s' is revoked; its key is removed (the service is not "
		    "running)", vm);
		break;
	case 1:
		still_running(&conf, running, sizeof(running));
		say("'%s' is revoked; the running service dropped its key%s",
		    vm, running);
		break;
	default:
		goto out;
	}
	ret = ADMIN_OK;
out:
	audit_close(&a);
	return ret;
}

/* ------------------------------------------------------------------- keys */

int
admin_keys(const struct config *c, int argc, char **argv)
{
	struct vm_table *t;
	size_t i;
	int w, ret = ADMIN_OK;

	if (argc != 1)
		return admin_usage("keys");
	if ((t = malloc(sizeof(*t))) == NULL) {
		complain("out of memory");
		return ADMIN_FAIL;
	}
	if ((ret = admin_load_listing(c, t)) != ADMIN_OK || t->n == 0)
		goto out;
	w = admin_name_width(t);
	printf("%-*s  %-50s  %-6s  %s\n", w, "VM", "FINGERPRINT", "LEGACY",
	       "POLLED");
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];
		const char *fp = row->key_r == 0 ? row->fp
			       : row->has_file ? "unusable (see below)"
			       : "no key";

		printf("%-*s  %-50s  %-6s  %s\n", w, row->name, fp,
		       name_list_has(&c->legacy, row->name) ? "yes" : "no",
		       admin_polled(c, row) ? "yes" : "no");
	}
	fflush(stdout);
	for (i = 0; i < t->n; i++) {
		if (t->row[i].has_file && t->row[i].key_r != 0) {
			admin_key_problem(c, &t->row[i]);
			ret = ADMIN_FAIL;
		}
	}
out:
	free(t);
	return ret;
}
