/*
 * test_daemon_admin.c - the admin verbs against a temporary keys
 * directory and log: what they change, what they refuse, what they print.
 */
#include "admin.h"
#include "admin_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "logverify.h"
#include "err.h"
#include "key.h"
#include "keystore.h"
#include "logline.h"
#include "banned.h"

#define KEY_A "574b3fe52c6e8362dfc70319fe7ec6c73cffa1c9759cf9dffc3d2163879d253c"
#define KEY_B "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct fx {
	char dir[64];
	char path[192];
	struct config c;
	char out[65536], err[65536];   /* what the last run() printed */
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/qvmr-admin-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	config_defaults(&f->c);
	snprintf(f->c.keys_dir, sizeof(f->c.keys_dir), "%s/remote.d", f->dir);
	snprintf(f->c.log_path, sizeof(f->c.log_path), "%s/log/qvm-remote.log",
		 f->dir);
	snprintf(f->c.state_dir, sizeof(f->c.state_dir), "%s/state", f->dir);
	snprintf(f->c.runtime_dir, sizeof(f->c.runtime_dir), "%s/run", f->dir);
	snprintf(f->c.qrexec_dir, sizeof(f->c.qrexec_dir), "%s/qrexec", f->dir);
	if (mkdir(f->c.qrexec_dir, 0755) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static const char *
fpath(struct fx *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static void
slurp_fd(int fd, char *dst, size_t cap)
{
	ssize_t n = pread(fd, dst, cap - 1, 0);

	assert_true(n >= 0);
	dst[n] = '\0';
}

/*
 * Runs fn with argv (NULL-terminated), stdin from the given text (or
 * /dev/null), stdout and stderr captured into f->out and f->err.
 */
static int
run(struct fx *f, admin_verb_fn fn, const char *input, ...)
{
	char *argv[16];
	int argc = 0, in, out, err, s_in, s_out, s_err, r;
	va_list ap;

	va_start(ap, input);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);

	in = open(fpath(f, "stdin"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0);
	if (input != NULL)
		assert_int_equal(write(in, input, strlen(input)),
				 (ssize_t)strlen(input));
	assert_int_equal(lseek(in, 0, SEEK_SET), 0);
	out = open(fpath(f, "stdout"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	err = open(fpath(f, "stderr"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0 && err >= 0);

	fflush(stdout);
	fflush(stderr);
	s_in = dup(0);
	s_out = dup(1);
	s_err = dup(2);
	assert_true(dup2(in, 0) == 0 && dup2(out, 1) == 1 && dup2(err, 2) == 2);
	clearerr(stdin);
	r = fn(&f->c, argc, argv);
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(s_in, 0) == 0 && dup2(s_out, 1) == 1 &&
		    dup2(s_err, 2) == 2);
	clearerr(stdin);
	close(s_in);
	close(s_out);
	close(s_err);
	slurp_fd(out, f->out, sizeof(f->out));
	slurp_fd(err, f->err, sizeof(f->err));
	close(in);
	close(out);
	close(err);
	return r;
}

static void
fingerprint_of(const char *hex, char fp[KEY_FINGERPRINT_MAX])
{
	struct key k;

	assert_int_equal(key_parse(hex, 64, &k), 0);
	assert_int_equal(key_fingerprint(&k, fp), 0);
	key_wipe(&k);
}

static void
expect_verified(struct fx *f, unsigned long want_lines)
{
	unsigned long lines, bad;

	assert_int_equal(audit_verify(f->c.log_path, &lines, &bad), 0);
	/* and the line that started the log's seal */
	assert_int_equal(lines, want_lines + 1);
}

static void
test_authorize_from_stdin(void **state)
{
	struct fx *f = *state;
	char fp[KEY_FINGERPRINT_MAX], want[256];
	struct stat st;
	struct key k;

	fingerprint_of(KEY_A, fp);
	assert_int_equal(run(f, admin_authorize, KEY_A "\n", "authorize",
			     "work", NULL), ADMIN_OK);
	snprintf(want, sizeof(want), "qvm-remote-dom0: read the key of 'work', "
		 "fingerprint %s\n", fp);
	assert_non_null(strstr(f->out, want));
	assert_non_null(strstr(f->out, "'work' is authorized; "));
	assert_non_null(strstr(f->out, "\n  systemctl "));
	assert_string_equal(f->err, "");
	/* the key never reaches the output or the log */
	assert_null(strstr(f->out, KEY_A));

	assert_int_equal(stat(f->c.keys_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(keystore_load(f->c.keys_dir, "work", &k), 0);
	key_wipe(&k);
	expect_verified(f, 1);
	assert_int_equal(run(f, admin_log, NULL, "log", NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "] INFO  vm=work action=authorize "
				       "fingerprint="));
	assert_null(strstr(f->out, KEY_A));
	assert_null(strstr(f->out, "chain="));

	/* again with the same key: fine, and said so */
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "already had this key"));
	/* a new key replaces the old one */
	assert_int_equal(run(f, admin_authorize, KEY_B, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "replaced the previous key"));
	expect_verified(f, 3);
}

static void
test_authorize_duplicate_key(void **state)
{
	struct fx *f = *state;
	struct key k;

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize",
			     "personal", NULL), ADMIN_FAIL);
	assert_string_equal(f->err, "qvm-remote-dom0: the key of 'personal' is "
			    "already authorized for 'work'; each VM needs its "
			    "own key: in personal run qvm-remote key gen "
			    "--force\n");
	assert_int_equal(keystore_load(f->c.keys_dir, "personal", &k),
			 QR_ERR_NOT_FOUND);
	expect_verified(f, 1);
}

static void
test_authorize_key_in_argv(void **state)
{
	struct fx *f = *state;
	char key[] = KEY_A;
	char *argv[] = { "authorize", "work", key, NULL };
	struct key k;
	int r;

	/* run() takes string literals; this one must be writable */
	{
		int in = open("/dev/null", O_RDONLY), s_in = dup(0);
		int err = open(fpath(f, "stderr"), O_RDWR | O_CREAT | O_TRUNC,
			       0600), s_err = dup(2);

		assert_true(dup2(in, 0) == 0 && dup2(err, 2) == 2);
		r = admin_authorize(&f->c, 3, argv);
		fflush(stderr);
		assert_true(dup2(s_in, 0) == 0 && dup2(s_err, 2) == 2);
		slurp_fd(err, f->err, sizeof(f->err));
		close(in);
		close(err);
		close(s_in);
		close(s_err);
	}
	assert_int_equal(r, ADMIN_USAGE);
	assert_non_null(strstr(f->err, "refusing a key given as an argument"));
	assert_non_null(strstr(f->err, "/proc"));
	/* the copy in argv is gone */
	assert_int_not_equal(memcmp(key, KEY_A, 8), 0);
	assert_int_equal(keystore_load(f->c.keys_dir, "work", &k),
			 QR_ERR_NOT_FOUND);
}

static void
test_authorize_refusals(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", NULL),
			 ADMIN_USAGE);
	assert_non_null(strstr(f->err, "usage: qvm-remote-dom0 authorize"));
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "dom0",
			     NULL), ADMIN_USAGE);
	assert_string_equal(f->err,
			    "qvm-remote-dom0: 'dom0' is not a valid VM name\n");
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize",
			     "../etc", NULL), ADMIN_USAGE);
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "-x",
			     "work", NULL), ADMIN_USAGE);
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "a", "b",
			     NULL), ADMIN_USAGE);
	/* not a key on stdin */
	assert_int_equal(run(f, admin_authorize, "hello\n", "authorize",
			     "work", NULL), ADMIN_FAIL);
	assert_non_null(strstr(f->err, "stdin does not hold a key"));
	assert_int_equal(run(f, admin_authorize, NULL, "authorize", "work",
			     NULL), ADMIN_FAIL);
	assert_int_equal(run(f, admin_authorize, KEY_A "\n" KEY_B "\n",
			     "authorize", "work", NULL), ADMIN_FAIL);
	assert_int_equal(run(f, admin_authorize, KEY_A "\nmore",
			     "authorize", "work", NULL), ADMIN_FAIL);
}

static void
test_authorize_loose_keys_dir(void **state)
{
	struct fx *f = *state;
	char want[2600];

	assert_int_equal(mkdir(f->c.keys_dir, 0755), 0);
	assert_int_equal(chmod(f->c.keys_dir, 0755), 0);
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_FAIL);
	snprintf(want, sizeof(want), "qvm-remote-dom0: keys directory %s is "
		 "accessible by others; fix with: chmod 700 %s\n",
		 f->c.keys_dir, f->c.keys_dir);
	assert_string_equal(f->err, want);
	assert_int_equal(run(f, admin_keys, NULL, "keys", NULL), ADMIN_FAIL);
	assert_string_equal(f->err, want);
}

static void
test_authorize_warns_when_not_polled(void **state)
{
	struct fx *f = *state;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(config_set(&f->c, "QVM_REMOTE_VMS", "personal", err),
			 0);
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_non_null(strstr(f->err, "'work' is not in QVM_REMOTE_VMS"));
	assert_int_equal(run(f, admin_authorize, KEY_B, "authorize",
			     "personal", NULL), ADMIN_OK);
	assert_string_equal(f->err, "");
}

static void
test_from_vm_without_transport(void **state)
{
	struct fx *f = *state;
	char err[CONFIG_ERR_MAX];
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	/* no qrexec-client anywhere: a clear message, nothing changed */
	assert_int_equal(config_set(&f->c, "QVM_REMOTE_TRANSPORT", "qvm-run",
				    err), 0);
	setenv("PATH", f->dir, 1);
	assert_int_equal(run(f, admin_authorize, NULL, "authorize",
			     "--from-vm", "work", NULL), ADMIN_FAIL);
	if (saved != NULL)
		setenv("PATH", saved, 1);
	free(saved);
	assert_non_null(strstr(f->err, "cannot find 'qvm-run'"));
}

static void
test_revoke(void **state)
{
	struct fx *f = *state;
	struct key k;

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_revoke, NULL, "revoke", "work", NULL),
			 ADMIN_OK);
	assert_non_null(strstr(f->out, "'work' is revoked"));
	assert_int_equal(keystore_load(f->c.keys_dir, "work", &k),
			 QR_ERR_NOT_FOUND);
	assert_int_equal(run(f, admin_revoke, NULL, "revoke", "work", NULL),
			 ADMIN_FAIL);
	assert_non_null(strstr(f->err, "'work' has no key"));
	assert_int_equal(run(f, admin_revoke, NULL, "revoke", NULL),
			 ADMIN_USAGE);
	assert_int_equal(run(f, admin_revoke, NULL, "revoke", "dom0", NULL),
			 ADMIN_USAGE);
	expect_verified(f, 2);
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "1", NULL),
			 ADMIN_OK);
	assert_non_null(strstr(f->out, "action=revoke fingerprint=SHA256:"));
	/* and the key is free again for another VM */
	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize",
			     "personal", NULL), ADMIN_OK);
}

static void
test_keys(void **state)
{
	struct fx *f = *state;
	char err[CONFIG_ERR_MAX], fp[KEY_FINGERPRINT_MAX], p[1200];

	assert_int_equal(run(f, admin_keys, NULL, "keys", NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "no VM is authorized"));

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_authorize, KEY_B, "authorize", "old",
			     NULL), ADMIN_OK);
	assert_int_equal(config_set(&f->c, "QVM_REMOTE_VMS", "work personal",
				    err), 0);
	assert_int_equal(config_set(&f->c, "QVM_REMOTE_LEGACY_AUTH", "work",
				    err), 0);
	assert_int_equal(run(f, admin_keys, NULL, "keys", NULL), ADMIN_OK);
	fingerprint_of(KEY_A, fp);
	assert_non_null(strstr(f->out, "VM        FINGERPRINT"));
	snprintf(p, sizeof(p), "work      %-50s  yes     yes\n", fp);
	assert_non_null(strstr(f->out, p));
	assert_non_null(strstr(f->out, "personal  no key"));
	assert_non_null(strstr(f->out, "no      no\n"));
	/* sorted: old, personal, work */
	assert_true(strstr(f->out, "old ") < strstr(f->out, "personal "));
	assert_true(strstr(f->out, "personal ") < strstr(f->out, "work "));

	/* a key file others can read is shown, not used, and explained */
	snprintf(p, sizeof(p), "%s/old.key", f->c.keys_dir);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(run(f, admin_keys, NULL, "keys", NULL), ADMIN_FAIL);
	assert_non_null(strstr(f->out, "unusable"));
	assert_non_null(strstr(f->err, "fix with: chmod 600 "));
	assert_int_equal(run(f, admin_keys, NULL, "keys", "x", NULL),
			 ADMIN_USAGE);
}

static void
log_line(struct audit *a, time_t when, const char *cat, const char *vm)
{
	struct buf line = BUF_INIT(1024);

	assert_int_equal(logline_begin(&line, when, cat), 0);
	assert_int_equal(logline_kvs(&line, "vm", vm), 0);
	assert_int_equal(logline_kvs(&line, "id", "x"), 0);
	assert_int_equal(audit_write(a, &line), 0);
	buf_release(&line);
}

static void
test_status(void **state)
{
	struct fx *f = *state;
	char err[CONFIG_ERR_MAX], p[1200];
	time_t now = time(NULL);
	struct audit a;
	int fd;

	assert_int_equal(run(f, admin_status, NULL, "status", NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "service    "));
	assert_non_null(strstr(f->out, "transport  qrexec-client, watch mode"));
	assert_non_null(strstr(f->out, "no VM is authorized"));

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_authorize, KEY_B, "authorize",
			     "personal", NULL), ADMIN_OK);
	assert_int_equal(audit_open(&a, f->c.log_path, f->c.state_dir), 0);
	log_line(&a, now - 7200, "EXEC", "work");      /* out of the hour */
	log_line(&a, now - 7200, "DONE-FAIL", "work");
	log_line(&a, now - 60, "EXEC", "work");
	log_line(&a, now - 59, "DONE", "work");
	log_line(&a, now - 30, "EXEC", "work");
	log_line(&a, now - 20, "TIMEOUT", "work");
	log_line(&a, now - 10, "AUTH-FAIL", "work");
	log_line(&a, now - 9, "REJECT", "work");
	log_line(&a, now - 5, "ERROR", "personal");    /* not contact */
	log_line(&a, now - 5, "EXEC", "stranger");     /* no key: not shown */
	audit_close(&a);
	/* work's qrexec is up */
	snprintf(p, sizeof(p), "%s/qrexec.work", f->c.qrexec_dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(config_set(&f->c, "QVM_REMOTE_POLL", "interval", err),
			 0);
	assert_int_equal(run(f, admin_status, NULL, "status", NULL), ADMIN_OK);
	assert_non_null(strstr(f->out, "interval mode, every 2 s"));
	assert_non_null(strstr(f->out, "VM        STATE    KEY"));
	assert_non_null(strstr(f->out, "LAST CONTACT  RUN(1h)  FAILED  "
				       "REJECTED\n"));
	/* running, 2 runs, 1 failed (the timeout), 2 rejected, 9 s ago */
	assert_non_null(strstr(f->out, "work      running  SHA256:"));
	/* the clock may tick between writing and reading: "9 s" or "10 s" */
	assert_non_null(strstr(f->out, "...  9 s ago       2        1       2\n")
			!= NULL ? "" : strstr(f->out, "...  10 s ago      2        "
					     "1       2\n"));
	assert_non_null(strstr(f->out, "personal  halted   SHA256:"));
	assert_non_null(strstr(f->out, "...  -             0        0       0\n"));
	assert_null(strstr(f->out, "stranger"));
	assert_int_equal(run(f, admin_status, NULL, "status", "x", NULL),
			 ADMIN_USAGE);
}

static void
test_log(void **state)
{
	struct fx *f = *state;
	struct audit a;
	struct buf line = BUF_INIT(1024);
	unsigned i;

	assert_int_equal(run(f, admin_log, NULL, "log", NULL), ADMIN_FAIL);
	assert_non_null(strstr(f->err, "does not exist yet"));

	assert_int_equal(audit_open(&a, f->c.log_path, f->c.state_dir), 0);
	for (i = 0; i < 30; i++) {
		buf_reset(&line);
		assert_int_equal(logline_begin(&line, 1795860900 + i, "DONE"),
				 0);
		assert_int_equal(logline_kvu(&line, "n", i), 0);
		assert_int_equal(audit_write(&a, &line), 0);
	}
	audit_close(&a);
	buf_release(&line);

	assert_int_equal(run(f, admin_log, NULL, "log", NULL), ADMIN_OK);
	assert_null(strstr(f->out, " n=9\n"));
	assert_non_null(strstr(f->out, "[2026-11-28T10:15:10Z] DONE  n=10\n"));
	assert_non_null(strstr(f->out, " n=29\n"));
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "2", NULL),
			 ADMIN_OK);
	assert_string_equal(f->out, "[2026-11-28T10:15:28Z] DONE  n=28\n"
			    "[2026-11-28T10:15:29Z] DONE  n=29\n");
	assert_int_equal(run(f, admin_log, NULL, "log", "-n1", NULL), ADMIN_OK);
	assert_string_equal(f->out, "[2026-11-28T10:15:29Z] DONE  n=29\n");
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "0", NULL),
			 ADMIN_OK);
	assert_string_equal(f->out, "");
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "1000", NULL),
			 ADMIN_OK);
	assert_non_null(strstr(f->out, " n=0\n"));
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "x", NULL),
			 ADMIN_USAGE);
	assert_int_equal(run(f, admin_log, NULL, "log", "-n", "-1", NULL),
			 ADMIN_USAGE);
	assert_int_equal(run(f, admin_log, NULL, "log", "extra", NULL),
			 ADMIN_USAGE);
}

/* An edited log may hold raw control bytes: they reach no terminal. */
static void
test_log_escapes_edited_bytes(void **state)
{
	struct fx *f = *state;
	int fd;

	assert_int_equal(mkdir(fpath(f, "log"), 0750), 0);
	fd = open(f->c.log_path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[x] EVIL \x1b[2J\x07\n", 15), 15);
	close(fd);
	assert_int_equal(run(f, admin_log, NULL, "log", NULL), ADMIN_OK);
	assert_string_equal(f->out, "[x] EVIL \\x1b[2J\\x07\n");
}

static void
test_audit_verify(void **state)
{
	struct fx *f = *state;
	char want[2600];
	int fd;

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_authorize, KEY_B, "authorize", "other",
			     NULL), ADMIN_OK);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify", NULL),
			 ADMIN_OK);
	assert_non_null(strstr(f->out, "verified 3 lines, seq 1 to 3\n"));
	assert_non_null(strstr(f->out, "without the key this checks the hash "
				       "chain and the seal sequence only"));
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify",
			     f->c.log_path, NULL), ADMIN_OK);

	/* overwrite one byte of the first line */
	fd = open(f->c.log_path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "9", 1, 4), 1);
	close(fd);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify", NULL),
			 ADMIN_FAIL);
	snprintf(want, sizeof(want), "qvm-remote-dom0: %s: line 1: the hash "
		 "chain breaks here: this line was changed, or a line before "
		 "it was removed, moved or added\n", f->c.log_path);
	assert_non_null(strstr(f->err, want));

	/* run() reuses f->path: take a copy */
	snprintf(want, sizeof(want), "%s", fpath(f, "nothing"));
	/* cannot check: exit 3, distinct from a break (1) */
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify", want,
			     NULL), 3);
	assert_non_null(strstr(f->err, "does not exist"));
	assert_int_equal(run(f, admin_audit, NULL, "audit", NULL), ADMIN_USAGE);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "check", NULL),
			 ADMIN_USAGE);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify", "--bogus",
			     NULL), ADMIN_USAGE);
}

/* setup-key prints the key a writer kept, once, and erases it; verify
 * --key (a file, or stdin) then proves the lines; a bad key cannot check. */
static void
test_audit_setup_key(void **state)
{
	struct fx *f = *state;
	char key[SEAL_KEY_TEXT_MAX + 2], keyfile[2048], pending[2048];
	size_t n;
	int fd;

	assert_int_equal(run(f, admin_authorize, KEY_A, "authorize", "work",
			     NULL), ADMIN_OK);
	snprintf(pending, sizeof(pending), "%s/" AUDIT_PENDING_FILE,
		 f->c.state_dir);
	assert_int_equal(access(pending, F_OK), 0);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "setup-key", NULL),
			 ADMIN_OK);
	assert_int_equal(memcmp(f->out, "qvmr-seal1-1-", 13), 0);
	n = strcspn(f->out, "\n");
	assert_true(n < sizeof(key));
	memcpy(key, f->out, n);
	key[n] = '\0';
	/* the key alone on stdout: `setup-key > FILE` keeps just it */
	assert_int_equal(f->out[n], '\n');
	assert_int_equal(f->out[n + 1], '\0');
	assert_non_null(strstr(f->err, "keep it outside dom0"));
	assert_int_equal(access(pending, F_OK), -1);
	/* once only */
	assert_int_equal(run(f, admin_audit, NULL, "audit", "setup-key", NULL),
			 ADMIN_FAIL);
	assert_non_null(strstr(f->err, "is sealed already"));
	assert_null(strstr(f->out, "qvmr-seal1"));

	snprintf(keyfile, sizeof(keyfile), "%s", fpath(f, "vkey"));
	fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, n), (ssize_t)n);
	close(fd);
	assert_int_equal(run(f, admin_audit, NULL, "audit", "verify", "--key",
			     keyfile, NULL), 0);
	assert_non_null(strstr(f->out, "the key proves 2 lines unchanged"));
	key[n] = '\n';
	key[n + 1] = '\0';
	assert_int_equal(run(f, admin_audit, key, "audit", "verify", "--key",
			     "-", NULL), 0);
	assert_non_null(strstr(f->out, "the key proves 2 lines unchanged"));
	/* a line rewritten with the chain made to fit is not proven */
	key[14] = key[14] == 'a' ? 'b' : 'a';
	assert_int_equal(run(f, admin_audit, key, "audit", "verify", "--key",
			     "-", NULL), 1);
	assert_non_null(strstr(f->err, "line 1: the seal of seq 1 does not "
			       "verify"));
	assert_int_equal(run(f, admin_audit, "nonsense\n", "audit", "verify",
			     "--key", "-", NULL), 3);
	assert_non_null(strstr(f->err, "not a key audit setup-key printed"));
	/* the key never reaches the log */
	key[14] = key[14] == 'a' ? 'b' : 'a';
	assert_int_equal(run(f, admin_log, NULL, "log", NULL), ADMIN_OK);
	key[n] = '\0';
	assert_null(strstr(f->out, key + 13));
}

static void
test_enable_needs_yes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, admin_enable, NULL, "enable", "--force", NULL),
			 ADMIN_USAGE);
	/* without systemd or without "yes", nothing is enabled */
	assert_int_equal(run(f, admin_enable, "no\n", "enable", NULL),
			 ADMIN_FAIL);
	assert_null(strstr(f->out, "is enabled at boot"));
	assert_int_equal(run(f, admin_enable, "", "enable", NULL), ADMIN_FAIL);
	{
		char sc[PATH_MAX];
		/* with systemd there, no terminal to ask on: the way */
		if (admin_find_systemctl(sc) == 0)
			assert_non_null(strstr(f->err, "stdin is no terminal); "
						"to enable it without asking: "
						"qvm-remote-dom0 enable --yes"));
	}
	assert_int_equal(run(f, admin_disable, NULL, "disable", "x", NULL),
			 ADMIN_USAGE);
}

static void
test_lookup(void **state)
{
	assert_ptr_equal(admin_lookup("authorize"), admin_authorize);
	assert_ptr_equal(admin_lookup("revoke"), admin_revoke);
	assert_ptr_equal(admin_lookup("keys"), admin_keys);
	assert_ptr_equal(admin_lookup("status"), admin_status);
	assert_ptr_equal(admin_lookup("log"), admin_log);
	assert_ptr_equal(admin_lookup("audit"), admin_audit);
	assert_ptr_equal(admin_lookup("enable"), admin_enable);
	assert_ptr_equal(admin_lookup("disable"), admin_disable);
	assert_null(admin_lookup("run"));
	assert_null(admin_lookup(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_authorize_from_stdin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorize_duplicate_key,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorize_key_in_argv,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorize_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_authorize_loose_keys_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_authorize_warns_when_not_polled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_vm_without_transport,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_escapes_edited_bytes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_setup_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_enable_needs_yes, setup,
						teardown),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
