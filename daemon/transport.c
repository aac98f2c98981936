/*
 * transport.c - starting calls into VMs through qrexec-client or qvm-run.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "program.h"
#include "proc.h"
#include "vmname.h"
#include "banned.h"

#define QREXEC_SERVICE "DEFAULT:QUBESRPC qubes.VMShell+ dom0"
#define QREXEC_LIBEXEC "/usr/lib/qubes"
/*
 * What runs first in the VM: store the program, and run it only if it
 * arrived whole (program.h, PROGRAM_END).  125 when it cannot be stored,
 * 124 when it was cut short.
 */
#define VM_RUNNER \
	"exec sh -c 'f=$(mktemp) || exit 125; cat >\"$f\"; " \
	"if [ \"$(tail -n 1 \"$f\")\" = \"# qvmr-end\" ]; " \
	"then sh \"$f\"; r=$?; else r=124; fi; rm -f \"$f\"; exit $r'"

/* The environment of transport children: enough for qvm-run's Python and
 * for qrexec-client, nothing of ours. */
static char *const transport_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	NULL,
};

int
transport_init(struct transport *t, const struct config *c, char *msg,
	       size_t msglen)
{
	const char *name = c->transport == TRANSPORT_QVM_RUN ? "qvm-run"
							     : "qrexec-client";
	int n;

	memset(t, 0, sizeof(*t));
	t->kind = c->transport;
	n = snprintf(t->qrexec_dir, sizeof(t->qrexec_dir), "%s", c->qrexec_dir);
	if (n < 0 || (size_t)n >= sizeof(t->qrexec_dir))
		return QR_ERR_TOO_LARGE;
	if (proc_find(name, NULL, t->path) != 0 &&
	    (t->kind != TRANSPORT_QREXEC_CLIENT ||
	     proc_find(name, QREXEC_LIBEXEC, t->path) != 0)) {
		snprintf(msg, msglen, "cannot find '%s' on PATH%s; is this dom0?",
			 name, t->kind == TRANSPORT_QREXEC_CLIENT
				 ? " or in " QREXEC_LIBEXEC : "");
		return QR_ERR_NOT_FOUND;
	}
	return 0;
}

int
transport_vm_up(const struct transport *t, const char *vm)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/qrexec.%s", t->qrexec_dir, vm);

	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	return lstat(path, &st) == 0;
}

int
transport_vm_exists(const char *vm)
{
	char path[PATH_MAX];
	char *const argv[] = { "qvm-check", "-q", "--", (char *)vm, NULL };
	struct proc_opts o = {
		.path = path, .argv = argv, .envp = transport_env,
		.in = PROC_NULL, .out = PROC_NULL, .err = PROC_NULL,
		.group = PROC_SESSION_NEW,
	};
	struct proc_collect c = { .timeout_ms = 10000 };
	struct proc_status st;

	if (!vmname_valid(vm) || proc_find("qvm-check", NULL, path) != 0 ||
	    proc_run(&o, &c, &st) != 0 || st.timed_out)
		return -1;
	return st.exit_code == 0 ? 1 : st.exit_code == 1 ? 0 : -1;
}

int
transport_prelude(const struct transport *t, const char *command,
		  struct buf *b)
{
	int r;

	if (t->kind != TRANSPORT_QREXEC_CLIENT)
		return 0;
	if ((r = buf_append_str(b, command != NULL ? command : VM_RUNNER)) != 0)
		return r;
	return buf_append_str(b, "; exit\n");
}

/* The child for one call; argv points into storage. */
static void
call_opts(const struct transport *t, const char *vm, const char *command,
	  char *storage[8], struct proc_opts *o)
{
	char *const qrexec_argv[] = { "qrexec-client", "-d", (char *)vm,
				      QREXEC_SERVICE, NULL };
	char *const qvmrun_argv[] = { "qvm-run", "--pass-io",
				      "--no-autostart", "--no-gui", "--",
				      (char *)vm,
				      (char *)(command != NULL ? command
							       : VM_RUNNER),
				      NULL };

	if (t->kind == TRANSPORT_QREXEC_CLIENT)
		memcpy(storage, qrexec_argv, sizeof(qrexec_argv));
	else
		memcpy(storage, qvmrun_argv, sizeof(qvmrun_argv));
	memset(o, 0, sizeof(*o));
	o->path = t->path;
	o->argv = storage;
	o->envp = transport_env;
	o->in = o->out = o->err = PROC_PIPE;
	o->group = PROC_SESSION_NEW;
}

int
transport_start(const struct transport *t, const char *vm,
		const char *command, pid_t *pid, int *in_fd, int *out_fd,
		int *err_fd)
{
	char *argv[8];
	struct proc_opts o;

	if (!vmname_valid(vm)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	call_opts(t, vm, command, argv, &o);
	return proc_spawn(&o, pid, in_fd, out_fd, err_fd);
}

int
transport_run(const struct transport *t, const char *vm, const char *program,
	      struct buf *out, unsigned timeout_s, int *status)
{
	struct buf prog = BUF_INIT((size_t)16 << 20);
	char *argv[8];
	struct proc_opts o;
	struct proc_collect c = {
		.out = out, .kill_on_overflow = 1,
		.timeout_ms = timeout_s * 1000u,
	};
	struct proc_status st;
	int r;

	if (!vmname_valid(vm)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	if ((r = transport_prelude(t, NULL, &prog)) != 0 ||
	    (r = buf_append_str(&prog, program)) != 0 ||
	    (r = buf_append_str(&prog, PROGRAM_END)) != 0)
		goto out;
	call_opts(t, vm, NULL, argv, &o);
	c.in = prog.data;
	c.in_len = prog.len;
	if ((r = proc_run(&o, &c, &st)) != 0)
		goto out;
	/* killed, at the deadline or for sending more than out holds */
	*status = st.overflowed ? -1 : st.exit_code;
out:
	buf_release(&prog);
	return r;
}
