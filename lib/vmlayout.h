/*
 * vmlayout.h - qvm-remote's files in a VM's home (docs/protocol.md
 * section 2), written once: the client and the agent build their paths
 * here, and dom0's sh programs (daemon/program.c) spell the same names.
 *
 *   ~/.qvm-remote/auth.key, audit.log, queue/{pending,running,results}/,
 *   history/YYYY-MM-DD/<cid>/
 *
 * A request is <cid> (the body), <cid>.in (stdin), <cid>.opt (options)
 * and, written last, <cid>.auth (the token); running/<cid>.auth.<claim>
 * marks a claim, and running/<cid>.note holds dom0's last note on it.
 * Pure.
 */
#ifndef QVMR_VMLAYOUT_H
#define QVMR_VMLAYOUT_H

#include <limits.h>

#define VM_DIR ".qvm-remote"
#define VM_KEY "auth.key"
#define VM_AUDIT "audit.log"
#define VM_QUEUE "queue"
#define VM_PENDING "pending"
#define VM_RUNNING "running"
#define VM_RESULTS "results"
#define VM_HISTORY "history"
#define VM_TOKEN ".auth"
#define VM_INPUT ".in"
#define VM_OPTIONS ".opt"
/* running/<cid>.note: what dom0 says of a request it holds (a note,
 * docs/protocol.md section 5b); the client reads it while it waits */
#define VM_NOTE ".note"
/* running/<cid>.out and .err: a running command's output so far, which
 * the agent appends as dom0 sends it (docs/protocol.md section 6b) */
#define VM_LIVE_OUT ".out"
#define VM_LIVE_ERR ".err"

/* The files of a request besides its token: "<cid>" plus these. */
#define VM_REQUEST_FILES 3
extern const char *const vm_request_suffix[VM_REQUEST_FILES];

struct vm_layout {
	char home[PATH_MAX];
	char base[PATH_MAX];      /* ~/.qvm-remote */
	char key[PATH_MAX];       /* ~/.qvm-remote/auth.key */
	char audit[PATH_MAX];     /* ~/.qvm-remote/audit.log */
	char queue[PATH_MAX];     /* ~/.qvm-remote/queue */
	char pending[PATH_MAX];   /* ~/.qvm-remote/queue/pending */
	char running[PATH_MAX];
	char results[PATH_MAX];
	char history[PATH_MAX];   /* ~/.qvm-remote/history */
};

/* Fills l for the home directory home, which must be absolute; trailing
 * slashes do not count ("/home/user/" is "/home/user").  QR_ERR_INVALID
 * for a relative or empty home, QR_ERR_TOO_LARGE when a path would not
 * fit. */
int vm_layout_init(struct vm_layout *l, const char *home);

#endif
