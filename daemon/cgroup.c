/*
 * cgroup.c - per-command cgroups under the daemon's delegated cgroup.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bounds.h"
#include "err.h"
#include "fileio.h"
#include "banned.h"

#define LINE_MAX_CG 4096

static int
write_text(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX];
	int fd, r = 0, n = snprintf(path, sizeof(path), "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= sizeof(path))
		return QR_ERR_TOO_LARGE;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return QR_ERR_SYSTEM;
	if (write_all(fd, text, strlen(text)) != 0)
		r = QR_ERR_SYSTEM;
	close(fd);
	return r;
}

/*
 * A line of a /proc file into out[PATH_MAX]: 1 when it held what is
 * sought (out set), 0 to read on, -1 to stop without it.
 */
typedef int (*line_pick)(const char *line, char out[PATH_MAX]);

/* The first line of path that pick takes: 0, QR_ERR_NOT_FOUND or
 * QR_ERR_SYSTEM. */
static int
scan_proc(const char *path, line_pick pick, char out[PATH_MAX])
{
	char line[LINE_MAX_CG];
	FILE *f = fopen(path, "re");
	int r = QR_ERR_NOT_FOUND, k;

	if (f == NULL)
		return QR_ERR_SYSTEM;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((k = pick(line, out)) != 0) {
			r = k > 0 ? 0 : QR_ERR_NOT_FOUND;
			break;
		}
	fclose(f);
	return r;
}

/* mountinfo: "id parent maj:min root mountpoint opts ... - fstype src" */
static int
pick_cgroup2_mount(const char *line, char out[PATH_MAX])
{
	const char *p = line;
	size_t n;

	if (strstr(line, " - cgroup2 ") == NULL)
		return 0;
	for (int field = 0; field < 4 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	n = strcspn(++p, " ");
	if (n == 0 || n >= PATH_MAX)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

/* /proc/self/cgroup: our own cgroup v2 path, "0::/...", relative to the
 * mount */
static int
pick_own_path(const char *line, char out[PATH_MAX])
{
	size_t n;

	if (strncmp(line, "0::", 3) != 0)
		return 0;
	n = strcspn(line + 3, "\n");
	if (n == 0 || n >= PATH_MAX)
		return -1;
	memcpy(out, line + 3, n);
	out[n] = '\0';
	return 1;
}

static int
has_controller(const char *dir, const char *name)
{
	char path[PATH_MAX], text[512];
	size_t len = strlen(name);
	int fd, n = snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	ssize_t k;

	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	k = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	text[k] = '\0';
	for (char *p = text; (p = strstr(p, name)) != NULL; p += len)
		if ((p == text || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return 1;
	return 0;
}

int
cgroup_init(struct cgroup_base *b, char *why, size_t whylen)
{
	char mount[PATH_MAX], own[PATH_MAX], leaf[PATH_MAX + 8], pid[32];
	int n;

	memset(b, 0, sizeof(b[0]));
	if (scan_proc("/proc/self/mountinfo", pick_cgroup2_mount, mount) != 0 ||
	    scan_proc("/proc/self/cgroup", pick_own_path, own) != 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy");
		return 0;
	}
	if (strcmp(own, "/") == 0) {
		snprintf(why, whylen, "the daemon is in the root cgroup "
			 "(no Delegate=yes)");
		return 0;
	}
	n = snprintf(b->dir, sizeof(b->dir), "%s%s", mount, own);
	if (n < 0 || (size_t)n >= sizeof(b->dir))
		return QR_ERR_TOO_LARGE;
	/* a restart finds its leaf already there: use it */
	n = snprintf(leaf, sizeof(leaf), "%s/daemon", b->dir);
	if (n < 0 || (size_t)n >= sizeof(leaf))
		return QR_ERR_TOO_LARGE;
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) ||
	    write_text(leaf, "cgroup.procs", pid) != 0) {
		snprintf(why, whylen, "cannot use '%s': %s", b->dir,
			 strerror(errno));
		return 0;
	}
	/* each controller on its own: one may be bound to cgroup v1 */
	if (has_controller(b->dir, "pids"))
		b->has_pids = write_text(b->dir, "cgroup.subtree_control",
					 "+pids") == 0;
	if (has_controller(b->dir, "memory"))
		b->has_memory = write_text(b->dir, "cgroup.subtree_control",
					   "+memory") == 0;
	b->active = 1;
	return 0;
}

int
cgroup_create(const struct cgroup_base *b, const char *name,
	      uint64_t max_pids, uint64_t max_memory, char path[PATH_MAX],
	      int *procs_fd)
{
	char num[32], procs[PATH_MAX + 16];
	int n = snprintf(path, PATH_MAX, "%s/%s", b->dir, name), e;

	*procs_fd = -1;
	if (n < 0 || n >= PATH_MAX)
		return QR_ERR_TOO_LARGE;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return QR_ERR_SYSTEM;
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)max_pids);
	if (b->has_pids && write_text(path, "pids.max", num) != 0)
		goto fail;
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)max_memory);
	if (b->has_memory && write_text(path, "memory.max", num) != 0)
		goto fail;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	if ((*procs_fd = open(procs, O_WRONLY | O_CLOEXEC)) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	(void)rmdir(path);
	errno = e;
	return QR_ERR_SYSTEM;
}

int
cgroup_kill(const char *path)
{
	return write_text(path, "cgroup.kill", "1");
}

int
cgroup_signal(const char *path, int sig)
{
	char file[PATH_MAX + 16], line[32], *end;
	FILE *f;
	long pid;
	int n = snprintf(file, sizeof(file), "%s/cgroup.procs", path);

	if (n < 0 || (size_t)n >= sizeof(file))
		return QR_ERR_TOO_LARGE;
	if ((f = fopen(file, "re")) == NULL)
		return QR_ERR_SYSTEM;
	while (fgets(line, sizeof(line), f) != NULL) {
		errno = 0;
		pid = strtol(line, &end, 10);
		/* the kernel's own list: one decimal pid a line, never 0 or
		 * less, which kill(2) would take for a group */
		if (errno == 0 && end != line && *end == '\n' && pid > 0 &&
		    pid <= INT32_MAX)
			(void)kill((pid_t)pid, sig);
	}
	fclose(f);
	return 0;
}

int
cgroup_remove(const char *path)
{
	return rmdir(path) == 0 || errno == ENOENT ? 0 : QR_ERR_SYSTEM;
}
