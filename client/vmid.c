/*
 * vmid.c - the name of the VM the client runs in.
 */
#include "vmid.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "proc.h"
#include "vmname.h"

#include "banned.h"

#define QUBESDB_READ "qubesdb-read"
#define QUBESDB_DEADLINE_MS 2000

static int from_qubesdb(char out[VMNAME_MAX + 1])
{
	char prog[PATH_MAX];
	char *argv[] = { (char *)QUBESDB_READ, (char *)"/name", NULL };
	char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
	/* a name and its newline; anything longer is not a name */
	struct buf got = BUF_INIT(VMNAME_MAX + 1);
	struct proc_opts o = {
		.path = prog, .argv = argv, .envp = envp,
		.in = PROC_NULL, .out = PROC_PIPE, .err = PROC_NULL,
		.group = PROC_GROUP_NEW,
	};
	struct proc_collect c = {
		.out = &got, .kill_on_overflow = 1,
		.timeout_ms = QUBESDB_DEADLINE_MS,
	};
	struct proc_status st;
	size_t len;
	int r = QR_ERR_NOT_FOUND;

	/* what it printed counts, whatever its status: the name is checked */
	if (proc_find(QUBESDB_READ, NULL, prog) != 0 ||
	    proc_run(&o, &c, &st) != 0 || st.overflowed)
		goto out;
	len = got.len;
	if (len > 0 && got.data[len - 1] == '\n')
		len--;
	if (len > 0 && len <= VMNAME_MAX) {
		memcpy(out, got.data, len);
		out[len] = '\0';
		if (vmname_valid(out))
			r = 0;
	}
out:
	buf_release(&got);
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

const char *vm_name_for_hint(char out[VMNAME_MAX + 1])
{
	if (vm_name(out) != 0)
		snprintf(out, VMNAME_MAX + 1, "THIS-VM");
	return out;
}
