/*
 * keycmd.c - key gen, show, import and fingerprint.
 */
#include "keycmd.h"
#include "exitcode.h"
#include "msg.h"
#include "vmid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "keyfile.h"

#include "banned.h"

int key_load(const struct vm_layout *p, struct key *k)
{
	char show[PATH_MAX];
	int r;

	path_show(p, p->key, show, sizeof(show));
	r = key_read_file(p->key, k);
	switch (r) {
	case 0:
		break;
	case QR_ERR_NOT_FOUND:
		msg("no key; create one with: qvm-remote key gen");
		break;
	case QR_ERR_PERMISSIONS:
		msg("%s is readable by others; fix with: chmod 600 %s",
		    show, show);
		break;
	case QR_ERR_INVALID:
		msg("%s is not a key (64 hex characters); make a new one "
		    "with: qvm-remote key gen --force", show);
		break;
	default:
		msg("cannot read %s: %s", show, r == QR_ERR_SYSTEM ?
		    strerror(errno) : qr_strerror(r));
	}
	return r;
}

static int refuse_existing(const struct vm_layout *p, const char *verb)
{
	char show[PATH_MAX];
	struct stat st;

	if (lstat(p->key, &st) != 0)
		return 0;
	msg("%s exists; keep it, or %s it with --force (dom0 must then "
	    "authorize the new key)", path_show(p, p->key, show,
						 sizeof(show)), verb);
	return QR_ERR_EXISTS;
}

/* Writes the key and tells what to do next; returns the exit code. */
static int store(const struct vm_layout *p, const struct key *k,
		 int hint)
{
	char show[PATH_MAX], fp[KEY_FINGERPRINT_MAX], vm[VMNAME_MAX + 1];
	int r;

	path_show(p, p->key, show, sizeof(show));
	if ((r = mkdir_p(p->base, 0700)) != 0 ||
	    (r = key_write_file(p->key, k)) != 0) {
		msg("cannot write %s: %s", show, r == QR_ERR_SYSTEM ?
		    strerror(errno) : qr_strerror(r));
		return QX_LOCAL;
	}
	if ((r = key_fingerprint(k, fp)) != 0) {
		msg("cannot compute the fingerprint: %s", qr_strerror(r));
		return QX_LOCAL;
	}
	printf(MSG_PREFIX "key written to %s (mode 0600)\n", show);
	printf(MSG_PREFIX "fingerprint %s\n", fp);
	if (hint) {
		printf(MSG_PREFIX "in dom0, authorize this VM with: "
		       "qvm-remote-dom0 authorize --from-vm %s\n",
		       vm_name_for_hint(vm));
	}
	return fflush(stdout) == 0 ? 0 : QX_LOCAL;
}

static int gen(const struct vm_layout *p, const struct args *a)
{
	struct key k;
	int code;

	if (!a->force && refuse_existing(p, "replace") != 0)
		return QX_LOCAL;
	if (key_generate(&k) != 0) {
		msg("cannot make a key: %s", strerror(errno));
		return QX_LOCAL;
	}
	code = store(p, &k, 1);
	key_wipe(&k);
	return code;
}

/* Reads the key text from stdin; on a terminal without echo, one line. */
static int read_key_text(char *out, size_t max, size_t *len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), echo_off = 0, r = 0;
	ssize_t n;

	*len = 0;
	if (tty) {
		fprintf(stderr, MSG_PREFIX "paste the key (64 hex characters) "
			"and press Enter: ");
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH,
					     &quiet) == 0;
		}
	}
	while (*len < max) {
		n = read(STDIN_FILENO, out + *len, max - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = QR_ERR_SYSTEM;
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
		if (tty && memchr(out, '\n', *len))
			break;
	}
	if (echo_off)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (tty)
		fputs("\n", stderr);
	if (r == 0 && *len == max)
		r = QR_ERR_TOO_LARGE;
	return r;
}

static int import(const struct vm_layout *p, const struct args *a)
{
	char text[KEY_FILE_MAX + 1];
	struct key k;
	size_t len;
	int r, code;

	if (!a->force && refuse_existing(p, "replace") != 0)
		return QX_LOCAL;
	r = read_key_text(text, sizeof(text), &len);
	if (r == 0)
		r = key_parse(text, len, &k);
	explicit_bzero(text, sizeof(text));
	if (r != 0) {
		msg("stdin does not hold a key: 64 hex characters expected "
		    "(qvm-remote key import < FILE)");
		return QX_LOCAL;
	}
	code = store(p, &k, 0);
	key_wipe(&k);
	return code;
}

int keycmd_run(const struct vm_layout *p, const struct args *a)
{
	char fp[KEY_FINGERPRINT_MAX];
	struct key k;
	int code = 0;

	if (a->key == KEY_GEN)
		return gen(p, a);
	if (a->key == KEY_IMPORT)
		return import(p, a);
	if (key_load(p, &k) != 0)
		return QX_LOCAL;
	if (a->key == KEY_SHOW) {
		char line[KEY_HEX_LEN + 2];

		/* write(2), not stdio: no copy of the key in a stdio buffer. */
		memcpy(line, k.hex, KEY_HEX_LEN);
		line[KEY_HEX_LEN] = '\n';
		if (write_all(STDOUT_FILENO, line, KEY_HEX_LEN + 1) != 0)
			code = QX_LOCAL;
		explicit_bzero(line, sizeof(line));
	} else if (key_fingerprint(&k, fp) == 0) {
		printf("%s\n", fp);
	} else {
		msg("cannot compute the fingerprint");
		code = QX_LOCAL;
	}
	key_wipe(&k);
	if (fflush(stdout) != 0)
		code = QX_LOCAL;
	return code;
}
