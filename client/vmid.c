/*
 * vmid.c - the name of the VM the client runs in.
 */
#include "vmid.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "vmname.h"

#include "banned.h"

#define QUBESDB_READ "qubesdb-read"
#define QUBESDB_DEADLINE_MS 2000

/* The absolute path of prog in $PATH, or -1. */
static int find_in_path(const char *prog, char *out, size_t n)
{
	const char *path = getenv("PATH"), *s, *e;
	int len;

	if (!path)
		path = "/usr/bin:/bin";
	for (s = path; *s; s = *e ? e + 1 : e) {
		e = strchr(s, ':');
		if (!e)
			e = s + strlen(s);
		/* Relative entries would depend on the working directory. */
		if (*s != '/')
			continue;
		len = snprintf(out, n, "%.*s/%s", (int)(e - s), s, prog);
		if (len > 0 && (size_t)len < n && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

static int from_qubesdb(char out[VMNAME_MAX + 1])
{
	char prog[PATH_MAX], got[VMNAME_MAX + 2];
	char *argv[] = { (char *)QUBESDB_READ, (char *)"/name", NULL };
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int fds[2], status, r = QR_ERR_NOT_FOUND;
	pid_t pid;

	if (find_in_path(QUBESDB_READ, prog, sizeof(prog)) != 0 ||
	    pipe2(fds, O_CLOEXEC) != 0)
		return QR_ERR_NOT_FOUND;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETSIGMASK);
	if (posix_spawn(&pid, prog, &fa, &at, argv, envp) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return QR_ERR_NOT_FOUND;
	}
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (len < sizeof(got) &&
	       poll(&pfd, 1, QUBESDB_DEADLINE_MS) > 0) {
		n = read(fds[0], got + len, sizeof(got) - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	kill(pid, SIGKILL);   /* harmless when it has already exited */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (len > 0 && got[len - 1] == '\n')
		len--;
	if (len > 0 && len <= VMNAME_MAX) {
		memcpy(out, got, len);
		out[len] = '\0';
		if (vmname_valid(out))
			r = 0;
	}
	return r;
}

int vm_name(char out[VMNAME_MAX + 1])
{
	char host[256];

	if (from_qubesdb(out) == 0)
		return 0;
	if (gethostname(host, sizeof(host)) != 0)
		return QR_ERR_NOT_FOUND;
	host[sizeof(host) - 1] = '\0';
	if (strlen(host) > VMNAME_MAX || !vmname_valid(host))
		return QR_ERR_NOT_FOUND;
	memcpy(out, host, strlen(host) + 1);
	return 0;
}
