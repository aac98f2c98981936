/*
 * admin.c - the admin verbs: authorize, revoke, keys, status, log, audit
 * verify, enable, disable.
 */
#include "admin.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "key.h"
#include "keystore.h"
#include "logline.h"
#include "logparse.h"
#include "reader.h"
#include "spawn.h"
#include "transport.h"
#include "vmname.h"
#include "banned.h"

#define PROG "qvm-remote-dom0"
#define UNIT "qvm-remote-dom0"
#define SYSTEMCTL_TIMEOUT_MS 15000
#define PULL_TIMEOUT_S 30
#define PULL_NO_KEY 3          /* exit status of pull_program: no key file */
#define FP_SHORT 8             /* base64 characters status shows */

static_assert(LOGPARSE_LINE_MAX >= AUDIT_LINE_MAX,
	      "every line audit_write accepts can be parsed back");

/* Run in the VM by authorize --from-vm: prints the key file, or exits 3
 * when there is none.  Constant text: nothing of the VM's goes into it. */
static const char pull_program[] =
	"f=\"$HOME/.qvm-remote/auth.key\"\n"
	"[ -f \"$f\" ] || exit 3\n"
	"exec cat -- \"$f\"\n";

static void __attribute__((format(printf, 2, 3)))
msg_to(FILE *f, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

#define say(...) msg_to(stdout, __VA_ARGS__)
#define complain(...) msg_to(stderr, __VA_ARGS__)

static int
usage(const char *synopsis)
{
	fprintf(stderr, "usage: " PROG " %s\n", synopsis);
	return ADMIN_USAGE;
}

/* A description of r, with errno's when r is QR_ERR_SYSTEM. */
static const char *
why(int r, int saved_errno)
{
	return r == QR_ERR_SYSTEM ? strerror(saved_errno) : qr_strerror(r);
}

/* ---------------------------------------------------------------- systemctl */

static int
find_systemctl(char path[PATH_MAX])
{
	static const char *const where[] = { "/usr/bin/systemctl",
					     "/bin/systemctl" };
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		if (access(where[i], X_OK) == 0) {
			snprintf(path, PATH_MAX, "%s", where[i]);
			return 0;
		}
	}
	return QR_ERR_NOT_FOUND;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there; 1 at end of file or error, 0 to go on. */
static int
pump(int fd, struct buf *b)
{
	char tmp[1024];
	ssize_t k = read(fd, tmp, sizeof(tmp));

	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	if (k == 0)
		return 1;
	/* past the limit, the rest is dropped: systemctl's chatter only */
	if (b != NULL)
		(void)buf_append(b, tmp, (size_t)k);
	return 0;
}

/*
 * Runs systemctl ARGS with a fixed environment and a deadline, collecting
 * stdout and stderr (either may be NULL to drop it).  *status is the exit
 * code, or -1 when it was killed.
 */
static int
run_systemctl(char *const argv[], struct buf *out, struct buf *err,
	      int *status)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"SYSTEMD_PAGER=",
		NULL,
	};
	char path[PATH_MAX];
	struct spawn_opts o = {
		.path = path, .argv = argv, .envp = env,
		.in = SPAWN_NULL, .out = SPAWN_PIPE, .err = SPAWN_PIPE,
		.new_session = 1,
	};
	int64_t deadline = mono_ms() + SYSTEMCTL_TIMEOUT_MS;
	int fo = -1, fe = -1, r, ws = 0;
	pid_t pid;

	*status = -1;
	if ((r = find_systemctl(path)) != 0)
		return r;
	if ((r = spawn(&o, &pid, NULL, &fo, &fe)) != 0)
		return r;
	while (fo >= 0 || fe >= 0) {
		struct pollfd p[2] = {
			{ .fd = fo, .events = POLLIN },
			{ .fd = fe, .events = POLLIN },
		};
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (p[0].revents != 0 && pump(fo, out)) {
			close(fo);
			fo = -1;
		}
		if (p[1].revents != 0 && pump(fe, err)) {
			close(fe);
			fe = -1;
		}
	}
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return 0;
}

/* The first word systemctl printed for `systemctl VERB UNIT`, or "". */
static void
systemctl_word(const char *verb, char *out, size_t outlen)
{
	char *argv[] = { "systemctl", (char *)verb, UNIT, NULL };
	struct buf b = BUF_INIT(256);
	int status;
	size_t n = 0;

	out[0] = '\0';
	if (run_systemctl(argv, &b, NULL, &status) == 0) {
		const char *s = buf_str(&b);

		while (n + 1 < outlen &&
		       ((s[n] >= 'a' && s[n] <= 'z') || s[n] == '-'))
			n++;
		memcpy(out, s, n);
		out[n] = '\0';
	}
	buf_release(&b);
}

static int
service_active(void)
{
	char word[32];

	systemctl_word("is-active", word, sizeof(word));
	return strcmp(word, "active") == 0 || strcmp(word, "reloading") == 0;
}

/* ------------------------------------------------------------------ audit */

static int
open_audit(const struct config *c, struct audit *a)
{
	int r = audit_open(a, c->log_path), e = errno;

	if (r != 0)
		complain("cannot open the audit log %s: %s; nothing was changed",
			 c->log_path, why(r, e));
	return r;
}

/* "[time] INFO vm=VM action=ACTION fingerprint=FP uid=UID". */
static int
audit_action(struct audit *a, const char *vm, const char *action,
	     const char *fingerprint)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	int r;

	if ((r = logline_begin(&line, time(NULL), "INFO")) != 0)
		goto out;
	if (vm != NULL && (r = logline_kvs(&line, "vm", vm)) != 0)
		goto out;
	if ((r = logline_kvs(&line, "action", action)) != 0)
		goto out;
	if (fingerprint != NULL &&
	    (r = logline_kvs(&line, "fingerprint", fingerprint)) != 0)
		goto out;
	if ((r = logline_kvu(&line, "uid", (uint64_t)getuid())) != 0)
		goto out;
	r = audit_write(a, &line);
out:
	buf_release(&line);
	return r;
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
		complain("'%s' is not running; start it with: qvm-start %s, or "
			 "pipe its key here: " PROG " authorize %s < FILE",
			 vm, vm, vm);
		return ADMIN_FAIL;
	}
	r = transport_run(&t, vm, pull_program, &untrusted_out, PULL_TIMEOUT_S,
			  &status);
	e = errno;
	if (r != 0) {
		complain("cannot reach '%s': %s", vm, why(r, e));
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
	char fp[KEY_FINGERPRINT_MAX], oldfp[KEY_FINGERPRINT_MAX];
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
			return usage(AUTHORIZE_USAGE);
		else if (argv[i][0] == '-' && vm == NULL)
			return usage(AUTHORIZE_USAGE);
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
		return usage(AUTHORIZE_USAGE);
	}
	if (vm == NULL)
		return usage(AUTHORIZE_USAGE);
	if (!vmname_valid(vm)) {
		complain("'%s' is not a valid VM name", vm);
		return ADMIN_USAGE;
	}

	/* check everything that does not need the key first, so a refusal
	 * never comes after the admin pasted it */
	if ((r = keystore_ensure_dir(c->keys_dir)) != 0) {
		e = errno;
		complain("cannot create keys directory %s: %s", c->keys_dir,
			 why(r, e));
		return ADMIN_FAIL;
	}
	if (keystore_check_dir(c->keys_dir, msg, sizeof(msg)) != 0) {
		complain("%s", msg);
		return ADMIN_FAIL;
	}
	if (open_audit(c, &a) != 0)
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
			 c->keys_dir, why(r, e));
		goto out;
	}

	say("%s the key of '%s', fingerprint %s",
	    from_vm ? "pulled" : "read", vm, fp);
	if (had_old && key_equal(&old, &k))
		say("'%s' already had this key", vm);
	else if (had_old)
		say("replaced the previous key of '%s' (fingerprint %s)", vm,
		    oldfp);
	if ((r = audit_action(&a, vm, "authorize", fp)) != 0) {
		e = errno;
		complain("'%s' is authorized, but writing the audit log %s "
			 "failed: %s", vm, c->log_path, why(r, e));
		goto out;
	}
	if (service_active())
		say("'%s' is authorized; make the running service load its "
		    "key with:\n  systemctl reload " UNIT, vm);
	else
		say("'%s' is authorized; start the service for this boot "
		    "with:\n  systemctl start " UNIT, vm);
	warn_not_polled(c, vm);
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
	struct key k;
	char fp[KEY_FINGERPRINT_MAX] = "";
	const char *vm;
	int r, e, ret = ADMIN_FAIL;

	if (argc != 2 || argv[1][0] == '-')
		return usage("revoke VM");
	vm = argv[1];
	if (!vmname_valid(vm)) {
		complain("'%s' is not a valid VM name", vm);
		return ADMIN_USAGE;
	}
	if (open_audit(c, &a) != 0)
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
		complain("cannot remove the key of '%s': %s", vm, why(r, e));
		goto out;
	}
	if ((r = audit_action(&a, vm, "revoke", fp[0] != '\0' ? fp : NULL))
	    != 0) {
		e = errno;
		complain("'%s' is revoked, but writing the audit log %s "
			 "failed: %s", vm, c->log_path, why(r, e));
		goto out;
	}
	if (service_active())
		say("'%s' is revoked; make the running service drop its key "
		    "with:\n  systemctl reload " UNIT, vm);
	else
		say("'%s' is revoked; its key is removed", vm);
	ret = ADMIN_OK;
out:
	audit_close(&a);
	return ret;
}

/* ------------------------------------------------------------------- keys */

/* The VMs to show: every keyed VM and every VM of QVM_REMOTE_VMS, sorted
 * and once each.  *keyed_err is the keystore's error, if any. */
struct vm_row {
	char name[VMNAME_MAX + 1];
	int has_file;       /* a key file exists */
	int key_r;          /* keystore_load's result */
	char fp[KEY_FINGERPRINT_MAX];
};

struct vm_table {
	size_t n;
	struct vm_row row[2 * CONFIG_LIST_MAX];
};

static int
cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct vm_row *)a)->name,
		      ((const struct vm_row *)b)->name);
}

static struct vm_row *
table_add(struct vm_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->row[i].name, name) == 0)
			return &t->row[i];
	if (t->n == sizeof(t->row) / sizeof(t->row[0]) ||
	    strlen(name) > VMNAME_MAX)
		return NULL;
	memset(&t->row[t->n], 0, sizeof(t->row[0]));
	snprintf(t->row[t->n].name, sizeof(t->row[0].name), "%s", name);
	t->row[t->n].key_r = QR_ERR_NOT_FOUND;
	return &t->row[t->n++];
}

/*
 * Fills t.  Returns 0, or ADMIN_FAIL after a message when the keys
 * directory cannot be used (a missing directory just means no keys).
 */
static int
load_table(const struct config *c, struct vm_table *t)
{
	struct name_list keyed;
	char msg[512];
	size_t i;
	int r;

	t->n = 0;
	keyed.n = 0;
	r = keystore_check_dir(c->keys_dir, msg, sizeof(msg));
	if (r != 0 && r != QR_ERR_NOT_FOUND) {
		complain("%s", msg);
		return ADMIN_FAIL;
	}
	if (r == 0 && (r = keystore_list(c->keys_dir, &keyed)) != 0) {
		int e = errno;
		complain("cannot list keys directory %s: %s", c->keys_dir,
			 why(r, e));
		return ADMIN_FAIL;
	}
	for (i = 0; i < keyed.n; i++) {
		struct vm_row *row = table_add(t, keyed.name[i]);
		struct key k;

		if (row == NULL)
			break;
		row->has_file = 1;
		row->key_r = keystore_load(c->keys_dir, row->name, &k);
		if (row->key_r == 0) {
			if (key_fingerprint(&k, row->fp) != 0)
				row->fp[0] = '\0';
			key_wipe(&k);
		}
	}
	for (i = 0; c->vms_set && i < c->vms.n; i++)
		(void)table_add(t, c->vms.name[i]);
	qsort(t->row, t->n, sizeof(t->row[0]), cmp_row);
	return 0;
}

static int
polled(const struct config *c, const struct vm_row *row)
{
	return row->key_r == 0 &&
	       (!c->vms_set || name_list_has(&c->vms, row->name));
}

static int
name_width(const struct vm_table *t)
{
	size_t i, w = 2;

	for (i = 0; i < t->n; i++)
		if (strlen(t->row[i].name) > w)
			w = strlen(t->row[i].name);
	return (int)w;
}

static void
no_keys_hint(void)
{
	say("no VM is authorized; in a VM run: qvm-remote key gen, then "
	    "here: " PROG " authorize --from-vm VM");
}

/* A note after the table for a key that exists but cannot be used. */
static void
key_problem(const struct config *c, const struct vm_row *row)
{
	if (row->key_r == QR_ERR_PERMISSIONS)
		complain("%s/%s.key is accessible by others, so it is not "
			 "used; fix with: chmod 600 %s/%s.key", c->keys_dir,
			 row->name, c->keys_dir, row->name);
	else
		complain("%s/%s.key cannot be used (%s); authorize '%s' "
			 "again", c->keys_dir, row->name,
			 qr_strerror(row->key_r), row->name);
}

int
admin_keys(const struct config *c, int argc, char **argv)
{
	struct vm_table *t;
	size_t i;
	int w, ret = ADMIN_OK;

	if (argc != 1)
		return usage("keys");
	if ((t = malloc(sizeof(*t))) == NULL) {
		complain("out of memory");
		return ADMIN_FAIL;
	}
	if (load_table(c, t) != 0) {
		ret = ADMIN_FAIL;
		goto out;
	}
	if (t->n == 0) {
		no_keys_hint();
		goto out;
	}
	w = name_width(t);
	printf("%-*s  %-50s  %-6s  %s\n", w, "VM", "FINGERPRINT", "LEGACY",
	       "POLLED");
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];
		const char *fp = row->key_r == 0 ? row->fp
			       : row->has_file ? "unusable (see below)"
			       : "no key";

		printf("%-*s  %-50s  %-6s  %s\n", w, row->name, fp,
		       name_list_has(&c->legacy, row->name) ? "yes" : "no",
		       polled(c, row) ? "yes" : "no");
	}
	fflush(stdout);
	for (i = 0; i < t->n; i++) {
		if (t->row[i].has_file && t->row[i].key_r != 0) {
			key_problem(c, &t->row[i]);
			ret = ADMIN_FAIL;
		}
	}
out:
	free(t);
	return ret;
}

/* ------------------------------------------------------------------- tail */

/*
 * Reads at most max bytes from the end of path into b, starting at a line
 * boundary (a cut first line is dropped).
 */
static int
read_tail(const char *path, size_t max, struct buf *b)
{
	char *p = NULL;
	struct stat st;
	size_t want, got = 0, skip = 0;
	off_t off;
	int fd, r, e;

	buf_reset(b);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? QR_ERR_NOT_FOUND : QR_ERR_SYSTEM;
	if (fstat(fd, &st) != 0) {
		r = QR_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = QR_ERR_INVALID;
		goto out;
	}
	want = (uint64_t)st.st_size > max ? max : (size_t)st.st_size;
	off = st.st_size - (off_t)want;
	if ((p = malloc(want + 1)) == NULL) {
		r = QR_ERR_NOMEM;
		goto out;
	}
	while (got < want) {
		ssize_t k = pread(fd, p + got, want - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;       /* the file shrank: keep what we have */
		got += (size_t)k;
	}
	if (off > 0) {
		char *nl = memchr(p, '\n', got);
		skip = nl != NULL ? (size_t)(nl - p) + 1 : got;
	}
	r = buf_append(b, p + skip, got - skip);
out:
	e = errno;
	free(p);
	close(fd);
	errno = e;
	return r;
}

/* ----------------------------------------------------------------- status */

struct vm_stats {
	time_t last;
	unsigned long run, failed, rejected;
};

/* Lines about a request from the VM: the daemon talked to it.  INFO and
 * ERROR lines (an admin's authorize, an unreachable VM) are not contact. */
static int
is_contact(const struct log_entry *e)
{
	return strcmp(e->category, "INFO") != 0 &&
	       strcmp(e->category, "ERROR") != 0;
}

/* Counts what the log's tail says about the VMs of t. */
static void
scan_log(const struct config *c, const struct vm_table *t,
	 struct vm_stats *st, time_t now)
{
	struct buf tail = BUF_INIT(ADMIN_LOG_TAIL_MAX);
	struct log_entry *e = malloc(sizeof(*e));
	size_t off = 0;

	if (e == NULL || read_tail(c->log_path, ADMIN_LOG_TAIL_MAX, &tail) != 0)
		goto out;
	while (off < tail.len) {
		const char *line = tail.data + off;
		const char *nl = memchr(line, '\n', tail.len - off);
		size_t n = nl != NULL ? (size_t)(nl - line) : tail.len - off;
		const struct log_field *vm;
		size_t i;

		off += n + 1;
		if (logparse_line(line, n, e) != 0 ||
		    (vm = logparse_get(e, "vm")) == NULL)
			continue;
		/* by length too: an unescaped value may hold a NUL */
		for (i = 0; i < t->n; i++)
			if (strlen(t->row[i].name) == vm->value_len &&
			    memcmp(t->row[i].name, vm->value, vm->value_len) == 0)
				break;
		if (i == t->n)
			continue;
		if (is_contact(e) && e->when > st[i].last)
			st[i].last = e->when;
		if (e->when < now - 3600)
			continue;
		if (strcmp(e->category, "EXEC") == 0)
			st[i].run++;
		else if (strcmp(e->category, "DONE-FAIL") == 0 ||
			 strcmp(e->category, "TIMEOUT") == 0)
			st[i].failed++;
		else if (strcmp(e->category, "AUTH-FAIL") == 0 ||
			 strcmp(e->category, "AUTH-DENY") == 0 ||
			 strcmp(e->category, "REJECT") == 0)
			st[i].rejected++;
	}
out:
	free(e);
	buf_release(&tail);
}

static void
ago(time_t now, time_t t, char *out, size_t n)
{
	long long d = (long long)now - (long long)t;

	if (t == 0)
		snprintf(out, n, "-");
	else if (d < 0)
		snprintf(out, n, "just now");
	else if (d < 120)
		snprintf(out, n, "%lld s ago", d);
	else if (d < 7200)
		snprintf(out, n, "%lld min ago", d / 60);
	else if (d < 2 * 86400)
		snprintf(out, n, "%lld h ago", d / 3600);
	else
		snprintf(out, n, "%lld days ago", d / 86400);
}

static void
print_service(void)
{
	char path[PATH_MAX], active[32], enabled[32];
	const char *boot;

	if (find_systemctl(path) != 0) {
		printf("%-10s %s\n", "service", "unknown (no systemd)");
		return;
	}
	systemctl_word("is-active", active, sizeof(active));
	systemctl_word("is-enabled", enabled, sizeof(enabled));
	if (active[0] == '\0') {
		printf("%-10s %s\n", "service", "unknown (systemd is not "
		       "running)");
		return;
	}
	if (strcmp(enabled, "enabled") == 0 ||
	    strcmp(enabled, "enabled-runtime") == 0)
		boot = "enabled at boot";
	else if (strcmp(enabled, "masked") == 0)
		boot = "masked";
	else if (enabled[0] == '\0')
		boot = "unit not installed";
	else
		boot = "not enabled at boot";
	printf("%-10s %s, %s\n", "service", active, boot);
}

int
admin_status(const struct config *c, int argc, char **argv)
{
	struct vm_table *t;
	struct vm_stats *st = NULL;
	struct transport tr;
	char msg[256], mode[64];
	time_t now = time(NULL);
	size_t i;
	int w, ret = ADMIN_OK;

	if (argc != 1)
		return usage("status");
	if ((t = malloc(sizeof(*t))) == NULL ||
	    (st = calloc(sizeof(t->row) / sizeof(t->row[0]), sizeof(*st)))
	    == NULL) {
		complain("out of memory");
		ret = ADMIN_FAIL;
		goto out;
	}
	print_service();
	if (c->poll == POLL_WATCH)
		snprintf(mode, sizeof(mode), "watch mode");
	else
		snprintf(mode, sizeof(mode), "interval mode, every %u s",
			 c->interval_s);
	printf("%-10s %s, %s%s\n", "transport",
	       c->transport == TRANSPORT_QVM_RUN ? "qvm-run" : "qrexec-client",
	       mode, transport_init(&tr, c, msg, sizeof(msg)) == 0 ? ""
	       : " (program not found)");
	fflush(stdout);
	if (load_table(c, t) != 0) {
		ret = ADMIN_FAIL;
		goto out;
	}
	if (t->n == 0) {
		no_keys_hint();
		goto out;
	}
	scan_log(c, t, st, now);
	w = name_width(t);
	printf("%-*s  %-8s %-18s  %-13s %-8s %-7s %s\n", w, "VM", "STATE", "KEY",
	       "LAST CONTACT", "RUN(1h)", "FAILED", "REJECTED");
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];
		char path[PATH_MAX], key[32], when[32];
		struct stat sb;
		int n = snprintf(path, sizeof(path), "%s/qrexec.%s",
				 c->qrexec_dir, row->name);
		int up = n > 0 && (size_t)n < sizeof(path) &&
			 lstat(path, &sb) == 0;

		if (row->key_r == 0)
			snprintf(key, sizeof(key), "%.*s...",
				 (int)(sizeof("SHA256:") - 1 + FP_SHORT),
				 row->fp);
		else
			snprintf(key, sizeof(key), "%s",
				 row->has_file ? "unusable" : "no key");
		ago(now, st[i].last, when, sizeof(when));
		printf("%-*s  %-8s %-18s  %-13s %-8lu %-7lu %lu\n", w, row->name,
		       up ? "running" : "halted", key, when, st[i].run,
		       st[i].failed, st[i].rejected);
	}
	fflush(stdout);
	for (i = 0; i < t->n; i++) {
		const struct vm_row *row = &t->row[i];

		if (row->has_file && row->key_r != 0)
			key_problem(c, row);
		else if (row->key_r == 0 && !polled(c, row))
			complain("'%s' has a key but is not in QVM_REMOTE_VMS; "
				 "it is not polled", row->name);
		else if (row->key_r != 0)
			complain("'%s' is in QVM_REMOTE_VMS but has no key; "
				 "authorize it with: " PROG " authorize "
				 "--from-vm %s", row->name, row->name);
	}
out:
	free(st);
	free(t);
	return ret;
}

/* -------------------------------------------------------------------- log */

/*
 * Prints one log line for a terminal: without its chain value, the
 * category padded so fields line up, and any byte that is not printable
 * ASCII (the file may have been edited) as \xHH.
 */
static void
print_log_line(const char *line, size_t n)
{
	static const char chain[] = " chain=";
	size_t i, cat_end = 0;

	if (n >= sizeof(chain) - 1 + AUDIT_CHAIN_HEX &&
	    memcmp(line + n - AUDIT_CHAIN_HEX - (sizeof(chain) - 1), chain,
		   sizeof(chain) - 1) == 0)
		n -= AUDIT_CHAIN_HEX + sizeof(chain) - 1;
	if (n > LOGPARSE_TS_LEN + 3 && line[0] == '[' &&
	    line[LOGPARSE_TS_LEN + 1] == ']') {
		for (cat_end = LOGPARSE_TS_LEN + 3;
		     cat_end < n && line[cat_end] != ' '; cat_end++)
			;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch >= 0x20 && ch <= 0x7e)
			putchar(ch);
		else
			printf("\\x%02x", ch);
		if (i + 1 == cat_end) {
			size_t len = cat_end - (LOGPARSE_TS_LEN + 3);

			for (; len < 5; len++)
				putchar(' ');
		}
	}
	putchar('\n');
}

int
admin_log(const struct config *c, int argc, char **argv)
{
	struct buf tail = BUF_INIT(ADMIN_LOG_TAIL_MAX);
	uint64_t want = 20;
	const char *arg = NULL;
	size_t end, pos, total, skip, i;
	int r, e;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		arg = argv[2];
	else if (argc == 2 && strncmp(argv[1], "-n", 2) == 0 &&
		 argv[1][2] != '\0')
		arg = argv[1] + 2;
	else if (argc != 1)
		return usage("log [-n N]");
	if (arg != NULL && parse_u64((const uint8_t *)arg, strlen(arg),
				     ADMIN_LOG_LINES_MAX, &want) != 0) {
		complain("'%s' is not a number of lines (0 to %u)", arg,
			 ADMIN_LOG_LINES_MAX);
		return ADMIN_USAGE;
	}
	r = read_tail(c->log_path, ADMIN_LOG_TAIL_MAX, &tail);
	e = errno;
	if (r == QR_ERR_NOT_FOUND) {
		complain("the audit log %s does not exist yet; the service "
			 "creates it when it first runs", c->log_path);
		return ADMIN_FAIL;
	}
	if (r != 0) {
		complain("cannot read the audit log %s: %s", c->log_path,
			 why(r, e));
		return ADMIN_FAIL;
	}
	/* count the lines, then print the last `want` of them */
	end = tail.len;
	if (end > 0 && tail.data[end - 1] == '\n')
		end--;
	total = end > 0;
	for (pos = 0; pos < end; pos++)
		total += tail.data[pos] == '\n';
	skip = total > want ? total - (size_t)want : 0;
	for (pos = 0, i = 0; i < total; i++) {
		const char *nl = memchr(tail.data + pos, '\n', end - pos);
		size_t n = nl != NULL ? (size_t)(nl - (tail.data + pos))
				      : end - pos;

		if (i >= skip)
			print_log_line(tail.data + pos, n);
		pos += n + 1;
	}
	fflush(stdout);
	buf_release(&tail);
	return ADMIN_OK;
}

/* ------------------------------------------------------------------ audit */

int
admin_audit(const struct config *c, int argc, char **argv)
{
	const char *path;
	unsigned long lines = 0, bad = 0;
	int r, e;

	if (argc < 2 || argc > 3 || strcmp(argv[1], "verify") != 0)
		return usage("audit verify [FILE]");
	path = argc == 3 ? argv[2] : c->log_path;
	r = audit_verify(path, &lines, &bad);
	e = errno;
	if (r == 0) {
		printf("verified %lu line%s\n", lines, lines == 1 ? "" : "s");
		fflush(stdout);
		return ADMIN_OK;
	}
	if (r == QR_ERR_MISMATCH)
		complain("%s: line %lu: chain broken (edited, inserted or "
			 "deleted line before it)", path, bad);
	else if (r == QR_ERR_NOT_FOUND)
		complain("%s does not exist", path);
	else
		complain("cannot verify %s: %s", path, why(r, e));
	return ADMIN_FAIL;
}

/* ---------------------------------------------------------- enable/disable */

static void
forward(const struct buf *b)
{
	if (b->len > 0) {
		fwrite(b->data, 1, b->len, stderr);
		if (b->data[b->len - 1] != '\n')
			fputc('\n', stderr);
		fflush(stderr);
	}
}

/* Runs systemctl VERB UNIT, showing what it printed; 0 on success. */
static int
systemctl_change(const char *verb)
{
	char *argv[] = { "systemctl", (char *)verb, UNIT, NULL };
	struct buf out = BUF_INIT(16384), err = BUF_INIT(16384);
	int r, e, status = -1;

	r = run_systemctl(argv, &out, &err, &status);
	e = errno;
	forward(&out);
	forward(&err);
	buf_release(&out);
	buf_release(&err);
	if (r == QR_ERR_NOT_FOUND) {
		complain("systemctl not found; this verb needs systemd");
		return ADMIN_FAIL;
	}
	if (r != 0) {
		complain("cannot run systemctl: %s", why(r, e));
		return ADMIN_FAIL;
	}
	if (status != 0) {
		complain("systemctl %s " UNIT " failed (%s %d)", verb,
			 status < 0 ? "killed after" : "exit",
			 status < 0 ? SYSTEMCTL_TIMEOUT_MS / 1000 : status);
		return ADMIN_FAIL;
	}
	return ADMIN_OK;
}

/* Reads one line of at most 16 bytes from stdin; 1 when it is "yes". */
static int
typed_yes(void)
{
	char line[18];
	size_t n;

	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return strcmp(line, "yes") == 0;
}

int
admin_enable(const struct config *c, int argc, char **argv)
{
	struct audit a = { .fd = -1 };
	struct vm_table *t = NULL;
	char path[PATH_MAX];
	size_t i, usable = 0;
	int r, e, ret = ADMIN_FAIL;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--yes") != 0))
		return usage("enable [--yes]");
	if (find_systemctl(path) != 0) {
		complain("systemctl not found; enable needs systemd");
		return ADMIN_FAIL;
	}
	if ((t = malloc(sizeof(*t))) == NULL || load_table(c, t) != 0) {
		if (t == NULL)
			complain("out of memory");
		goto out;
	}
	if (open_audit(c, &a) != 0)
		goto out;
	if (argc == 1) {
		fprintf(stderr, PROG ": enabling starts the service at every "
			"boot; from then on these VMs can run any command in "
			"dom0 as root, without anyone asked:");
		for (i = 0; i < t->n; i++) {
			if (polled(c, &t->row[i])) {
				fprintf(stderr, " %s", t->row[i].name);
				usable++;
			}
		}
		fprintf(stderr, "%s\n" PROG ": type yes to enable it at boot: ",
			usable == 0 ? " (none yet)" : "");
		fflush(stderr);
		if (!typed_yes()) {
			complain("not enabled; nothing was changed");
			goto out;
		}
	}
	if (systemctl_change("enable") != ADMIN_OK)
		goto out;
	if ((r = audit_action(&a, NULL, "enable", NULL)) != 0) {
		e = errno;
		complain("enabled, but writing the audit log %s failed: %s",
			 c->log_path, why(r, e));
		goto out;
	}
	say(UNIT " is enabled at boot; undo with: " PROG " disable");
	ret = ADMIN_OK;
out:
	audit_close(&a);
	free(t);
	return ret;
}

int
admin_disable(const struct config *c, int argc, char **argv)
{
	struct audit a = { .fd = -1 };
	int r, e, ret = ADMIN_FAIL;

	if (argc != 1)
		return usage("disable");
	if (open_audit(c, &a) != 0)
		return ADMIN_FAIL;
	if (systemctl_change("disable") != ADMIN_OK)
		goto out;
	if ((r = audit_action(&a, NULL, "disable", NULL)) != 0) {
		e = errno;
		complain("disabled, but writing the audit log %s failed: %s",
			 c->log_path, why(r, e));
		goto out;
	}
	say(UNIT " is not enabled at boot any more; a running service keeps "
	    "running until: systemctl stop " UNIT);
	ret = ADMIN_OK;
out:
	audit_close(&a);
	return ret;
}

/* ------------------------------------------------------------------ table */

static const struct {
	const char *name;
	admin_verb_fn fn;
} verbs[] = {
	{ "authorize", admin_authorize },
	{ "revoke", admin_revoke },
	{ "keys", admin_keys },
	{ "status", admin_status },
	{ "log", admin_log },
	{ "audit", admin_audit },
	{ "enable", admin_enable },
	{ "disable", admin_disable },
};

admin_verb_fn
admin_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return verbs[i].fn;
	return NULL;
}
