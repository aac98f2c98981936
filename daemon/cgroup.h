/*
 * cgroup.h - one cgroup v2 per command, when the daemon has its own.
 *
 * Under systemd with Delegate=yes the daemon owns its cgroup.  It moves
 * itself into a leaf "daemon" (cgroup v2 allows no processes in a cgroup
 * that has children with controllers), enables the pids and memory
 * controllers for its children where the kernel offers them, and gives
 * every command a cgroup of its own with pids.max and memory.max.  Killing
 * a command is then one write to cgroup.kill, which reaches every process
 * it started, however it forked or whatever session it made.
 *
 * Without a delegated cgroup (the daemon sits in the root cgroup, the v2
 * hierarchy is absent, or its cgroup is not writable) cgroup_init reports
 * so and the caller falls back to process groups.
 */
#ifndef QVMR_CGROUP_H
#define QVMR_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_base {
	int active;                 /* commands get cgroups */
	int has_pids, has_memory;   /* controllers enabled for them */
	char dir[PATH_MAX];         /* the daemon's own cgroup */
};

/* Finds and prepares the daemon's cgroup.  0 with active set or clear;
 * why receives a reason when it is clear. */
int cgroup_init(struct cgroup_base *b, char *why, size_t whylen);

/*
 * Creates dir/<name> with the limits, and opens its cgroup.procs for the
 * child to join (write "0" to it before exec).  *procs_fd is close-on-exec.
 */
int cgroup_create(const struct cgroup_base *b, const char *name,
		  uint64_t max_pids, uint64_t max_memory, char path[PATH_MAX],
		  int *procs_fd);
/* Kills every process in the cgroup at once (cgroup.kill). */
int cgroup_kill(const char *path);
/*
 * Sends sig to every process listed in the cgroup's cgroup.procs (there
 * is no cgroup.kill for other signals): also those that left the
 * command's process group.  A process that exits meanwhile is skipped;
 * its pid cannot be reused before its parent, inside the cgroup or dom0's
 * service, reaps it.  0, or QR_ERR_SYSTEM when the list cannot be read.
 */
int cgroup_signal(const char *path, int sig);
/* Removes the cgroup; QR_ERR_SYSTEM (EBUSY) while processes remain. */
int cgroup_remove(const char *path);

#endif
