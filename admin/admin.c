/*
 * admin.c - the verb table of qvm-remote-dom0 and what its admin verbs
 * share (admin_util.h): messages, the audit record of a change, and the
 * table of VMs that keys, status and enable show.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "liveness.h"
#include "key.h"
#include "keystore.h"
#include "logline.h"
#include "policy.h"
#include "reader.h"
#include "banned.h"

void
admin_msg(FILE *f, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

int
admin_usage(const char *synopsis)
{
	fprintf(stderr, "usage: " PROG " %s\n", synopsis);
	return ADMIN_USAGE;
}

int
admin_await(const char *dir, uint32_t mask, int wait_s,
	    int (*done)(void *arg), void *arg)
{
	int64_t deadline = mono_ms() + (int64_t)wait_s * 1000, left;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), r;
	struct pollfd p;
	char ev[4096];

	if (fd >= 0 && inotify_add_watch(fd, dir, mask) < 0) {
		close(fd);
		fd = -1;
	}
	while (!(r = done(arg)) && (left = deadline - mono_ms()) > 0) {
		if (left > ADMIN_LOOK_MS)
			left = ADMIN_LOOK_MS;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(fd >= 0 ? &p : NULL, fd >= 0 ? 1 : 0, (int)left) > 0)
			while (read(fd, ev, sizeof(ev)) > 0)
				;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

const char *
admin_why(int r, int saved_errno)
{
	return r == QR_ERR_SYSTEM ? strerror(saved_errno) : qr_strerror(r);
}

/* ------------------------------------------- who, whether, how wide */

/*
 * The person at this terminal: the user sudo was run by (we are root),
 * else the audit login user, else the real user; as "uidN" when none of
 * those has a valid name.
 */
void
admin_person(char out[POLICY_USER_MAX + 1])
{
	struct buf text = BUF_INIT(32);
	const char *s = getenv("SUDO_USER");
	const struct passwd *pw;
	uint64_t uid;

	if (getuid() == 0 && s != NULL && policy_user_valid(s) &&
	    getpwnam(s) != NULL) {
		snprintf(out, POLICY_USER_MAX + 1, "%s", s);
		return;
	}
	if (read_file("/proc/self/loginuid", &text) == 0) {
		size_t n = text.len;

		while (n > 0 && text.data[n - 1] == '\n')
			n--;
		if (parse_u64((const uint8_t *)text.data, n, UINT32_MAX,
			      &uid) == 0 && uid != UINT32_MAX &&
		    (pw = getpwuid((uid_t)uid)) != NULL &&
		    policy_user_valid(pw->pw_name)) {
			snprintf(out, POLICY_USER_MAX + 1, "%s", pw->pw_name);
			buf_release(&text);
			return;
		}
	}
	buf_release(&text);
	if ((pw = getpwuid(getuid())) != NULL && policy_user_valid(pw->pw_name))
		snprintf(out, POLICY_USER_MAX + 1, "%s", pw->pw_name);
	else
		snprintf(out, POLICY_USER_MAX + 1, "uid%u", (unsigned)getuid());
}

int
admin_service_running(const struct config *c)
{
	long pid;
	int r = liveness_probe(c->runtime_dir, &pid), e = errno;

	if (r == 1)
		return 1;
	if (r == 0)
		complain("the service is not running; start it with: "
			 "systemctl start " UNIT);
	else
		complain("cannot tell whether the service runs (%s/"
			 LIVENESS_FILE "): %s", c->runtime_dir,
			 admin_why(r, e));
	return 0;
}

int
admin_line_width(void)
{
	struct winsize ws;
	const char *s = getenv("COLUMNS");
	long w;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	if (s != NULL && (w = strtol(s, NULL, 10)) >= 40 && w <= 1000)
		return (int)w;
	return ADMIN_LINE_WIDTH_DEFAULT;
}

/* ------------------------------------------------------------------ audit */

int
admin_open_audit(const struct config *c, struct audit *a)
{
	int r = audit_open(a, c->log_path, c->state_dir), e = errno;

	if (r != 0)
		complain("cannot open the audit log %s: %s; nothing was changed",
			 c->log_path, a->why[0] != '\0' ? a->why
							 : admin_why(r, e));
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

int
admin_record(const struct config *c, struct audit *a, const char *vm,
	     const char *action, const char *fingerprint, const char *done)
{
	int r = audit_action(a, vm, action, fingerprint), e = errno;

	if (r == 0)
		return 0;
	if (vm != NULL)
		complain("'%s' is %s, but writing the audit log %s failed: %s",
			 vm, done, c->log_path, admin_why(r, e));
	else
		complain("%s, but writing the audit log %s failed: %s", done,
			 c->log_path, admin_why(r, e));
	return r;
}

/* --------------------------------------------------------------- VM table */

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

int
admin_load_table(const struct config *c, struct vm_table *t)
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
			 admin_why(r, e));
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

int
admin_polled(const struct config *c, const struct vm_row *row)
{
	return row->key_r == 0 &&
	       (!c->vms_set || name_list_has(&c->vms, row->name));
}

int
admin_name_width(const struct vm_table *t)
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

int
admin_load_listing(const struct config *c, struct vm_table *t)
{
	if (admin_load_table(c, t) != 0)
		return ADMIN_FAIL;
	if (t->n == 0)
		no_keys_hint();
	return ADMIN_OK;
}

void
admin_key_problem(const struct config *c, const struct vm_row *row)
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

/* ------------------------------------------------------------------ verbs */

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
	{ "policy", admin_policy },
	{ "pending", admin_pending },
	{ "ps", admin_ps },
	{ "stop", admin_stop },
	{ "approve", admin_approve },
	{ "deny", admin_deny },
	{ "prompt", admin_prompt },
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
