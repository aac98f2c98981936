/*
 * admin_service.c - the verbs that set whether the service starts at boot
 * (enable, disable), and the one way the verbs run systemctl.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "proc.h"
#include "banned.h"

#define SYSTEMCTL_TIMEOUT_MS 15000

/* ---------------------------------------------------------------- systemctl */

int
admin_find_systemctl(char path[PATH_MAX])
{
	return proc_find("systemctl", "/usr/bin:/bin", path);
}

int
admin_run_tool(const char *path, char *const argv[], struct buf *out,
	       struct buf *err, unsigned timeout_ms, int *status)
{
	static char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"SYSTEMD_PAGER=",
		NULL,
	};
	struct proc_opts o = {
		.path = path, .argv = argv, .envp = env,
		.in = PROC_NULL, .out = PROC_PIPE, .err = PROC_PIPE,
		.group = PROC_SESSION_NEW,
	};
	struct proc_collect c = {
		.out = out, .err = err, .timeout_ms = timeout_ms,
	};
	struct proc_status st;
	int r;

	*status = -1;
	if ((r = proc_run(&o, &c, &st)) != 0)
		return r;
	*status = st.exit_code;
	return 0;
}

/* systemctl ARGS through admin_run_tool, with its deadline. */
static int
run_systemctl(char *const argv[], struct buf *out, struct buf *err,
	      int *status)
{
	char path[PATH_MAX];
	int r;

	*status = -1;
	if ((r = admin_find_systemctl(path)) != 0)
		return r;
	return admin_run_tool(path, argv, out, err, SYSTEMCTL_TIMEOUT_MS,
			      status);
}

void
admin_systemctl_word(const char *verb, char *out, size_t outlen)
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
		complain("cannot run systemctl: %s", admin_why(r, e));
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
	int ret = ADMIN_FAIL;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--yes") != 0))
		return admin_usage("enable [--yes]");
	if (admin_find_systemctl(path) != 0) {
		complain("systemctl not found; enable needs systemd");
		return ADMIN_FAIL;
	}
	if ((t = malloc(sizeof(*t))) == NULL || admin_load_table(c, t) != 0) {
		if (t == NULL)
			complain("out of memory");
		goto out;
	}
	if (admin_open_audit(c, &a) != 0)
		goto out;
	if (argc == 1) {
		fprintf(stderr, PROG ": enabling starts the service at every "
			"boot; from then on these VMs can run any command in "
			"dom0 as root, without anyone asked:");
		for (i = 0; i < t->n; i++) {
			if (admin_polled(c, &t->row[i])) {
				fprintf(stderr, " %s", t->row[i].name);
				usable++;
			}
		}
		fprintf(stderr, "%s\n" PROG ": type yes to enable it at boot: ",
			usable == 0 ? " (none yet)" : "");
		fflush(stderr);
		if (!typed_yes()) {
			if (isatty(STDIN_FILENO))
				complain("not enabled; nothing was changed");
			else
				complain("not enabled: no one typed yes (stdin "
					 "is no terminal); to enable it "
					 "without asking: " PROG " enable "
					 "--yes");
			goto out;
		}
	}
	if (systemctl_change("enable") != ADMIN_OK ||
	    admin_record(c, &a, NULL, "enable", NULL, "enabled") != 0)
		goto out;
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
	int ret = ADMIN_FAIL;

	if (argc != 1)
		return admin_usage("disable");
	if (admin_open_audit(c, &a) != 0)
		return ADMIN_FAIL;
	/* recorded before the stop: run through the service itself, the
	 * stop ends this very command */
	if (systemctl_change("disable") != ADMIN_OK ||
	    admin_record(c, &a, NULL, "disable", NULL, "disabled") != 0)
		goto out;
	say(UNIT " is not enabled at boot any more; stopping it now");
	if (systemctl_change("stop") != ADMIN_OK)
		goto out;
	ret = ADMIN_OK;
out:
	audit_close(&a);
	return ret;
}
