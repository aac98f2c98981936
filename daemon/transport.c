/*
 * transport.c - starting calls into VMs through qrexec-client or qvm-run.
 */
#include "transport.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "program.h"
#include "spawn.h"
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

static int
find_in_dir(const char *dir, size_t dirlen, const char *name,
	    char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%.*s/%s", (int)dirlen, dir, name);

	if (n < 0 || n >= PATH_MAX || out[0] != '/')
		return QR_ERR_NOT_FOUND;
	return access(out, X_OK) == 0 ? 0 : QR_ERR_NOT_FOUND;
}

/* Looks name up in $PATH (absolute entries only), then in `extra`. */
static int
find_program(const char *name, const char *extra, char out[PATH_MAX])
{
	const char *path = getenv("PATH");
	const char *p, *end;

	for (p = path; p != NULL && *p != '\0'; p = end) {
		end = strchr(p, ':');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > 0 && find_in_dir(p, len, name, out) == 0)
			return 0;
		end = end != NULL ? end + 1 : NULL;
	}
	if (extra != NULL && find_in_dir(extra, strlen(extra), name, out) == 0)
		return 0;
	return QR_ERR_NOT_FOUND;
}

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
	if (find_program(name, t->kind == TRANSPORT_QREXEC_CLIENT
				   ? QREXEC_LIBEXEC : NULL, t->path) != 0) {
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

int
transport_start(const struct transport *t, const char *vm,
		const char *command, pid_t *pid, int *in_fd, int *out_fd,
		int *err_fd)
{
	char *qrexec_argv[] = { "qrexec-client", "-d", (char *)vm,
				QREXEC_SERVICE, NULL };
	char *qvmrun_argv[] = { "qvm-run", "--pass-io", "--no-autostart",
				"--no-gui", "--", (char *)vm,
				(char *)(command != NULL ? command : VM_RUNNER),
				NULL };
	struct spawn_opts o = {
		.path = t->path,
		.argv = t->kind == TRANSPORT_QREXEC_CLIENT ? qrexec_argv
							   : qvmrun_argv,
		.envp = transport_env,
		.in = SPAWN_PIPE, .out = SPAWN_PIPE, .err = SPAWN_PIPE,
		.new_session = 1,
	};

	if (!vmname_valid(vm)) {
		errno = EINVAL;
		return QR_ERR_INVALID;
	}
	return spawn(&o, pid, in_fd, out_fd, err_fd);
}

/* Drains fd into b (or discards when b is NULL); 1 at EOF. */
static int
drain(int fd, struct buf *b)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n == 0)
		return 1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	if (b != NULL && buf_append(b, tmp, (size_t)n) != 0)
		return -1;
	return 0;
}

int
transport_run(const struct transport *t, const char *vm, const char *program,
	      struct buf *out, unsigned timeout_s, int *status)
{
	struct buf prog = BUF_INIT((size_t)16 << 20);
	int in = -1, o = -1, e = -1, r, wstatus;
	size_t sent = 0;
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	pid_t pid;

	if ((r = transport_prelude(t, NULL, &prog)) != 0 ||
	    (r = buf_append_str(&prog, program)) != 0 ||
	    (r = buf_append_str(&prog, PROGRAM_END)) != 0)
		goto out;
	if ((r = transport_start(t, vm, NULL, &pid, &in, &o, &e)) != 0)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	while (o >= 0 || e >= 0) {
		struct pollfd p[3] = {
			{ .fd = o, .events = POLLIN },
			{ .fd = e, .events = POLLIN },
			{ .fd = in, .events = POLLOUT },
		};
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			break;
		if (p[2].revents != 0) {
			ssize_t n = write(in, prog.data + sent, prog.len - sent);
			if (n > 0)
				sent += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = prog.len;
			if (sent == prog.len) {
				close(in);
				in = -1;
			}
		}
		if (p[0].revents != 0) {
			int d = drain(o, out);
			if (d != 0) {
				if (d < 0)
					kill(-pid, SIGKILL);
				close(o);
				o = -1;
			}
		}
		if (p[1].revents != 0 && drain(e, NULL) != 0) {
			close(e);
			e = -1;
		}
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	r = 0;
out:
	if (in >= 0)
		close(in);
	if (o >= 0)
		close(o);
	if (e >= 0)
		close(e);
	buf_release(&prog);
	return r;
}
