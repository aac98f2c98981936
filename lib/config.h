/*
 * config.h - /etc/qubes/remote.conf and its environment overrides.
 *
 * The file is KEY=value lines that systemd's EnvironmentFile= and bash both
 * read: blank lines and lines starting with '#' are ignored; a value may be
 * bare (no spaces, quotes, '$', '`' or '\'), or wrapped in single quotes
 * (taken literally) or double quotes (only \" \\ \$ \` escapes).  An
 * unknown key, a repeated key or a bad value is an error naming the line.
 * "Bare" is an allowlist, [A-Za-z0-9_./:,+@%=-], since bash would expand
 * or run much more than '$' and '`' (';', '~', '&', '|', '(' ...); only
 * spaces and tabs may follow a value (no trailing comments).
 *
 * Keys (design.md section 8, plus the paths tests and the demo override):
 *   QVM_REMOTE_VMS           space-separated VM names; empty = all with a key
 *   QVM_REMOTE_TRANSPORT     qrexec-client | qvm-run        (qrexec-client)
 *   QVM_REMOTE_POLL          watch | interval               (watch)
 *   QVM_REMOTE_INTERVAL      seconds between interval polls, 1..3600 (2)
 *   QVM_REMOTE_WATCH_WAIT    seconds a watch fetch waits, 1..3600 (30)
 *   QVM_REMOTE_TIMEOUT       default and cap of a command, 1..86400 (300)
 *   QVM_REMOTE_MAX_JOBS      commands at once, 1..256        (8)
 *   QVM_REMOTE_MAX_PER_VM    commands at once per VM, 1..64  (2)
 *   QVM_REMOTE_MAX_OUTPUT    bytes kept per stream, 1..2^30  (10485760)
 *   QVM_REMOTE_MAX_AGE       seconds a v2 request stays fresh, 1..2592000
 *                            (86400)
 *   QVM_REMOTE_LEGACY_AUTH   VMs whose v1 tokens are accepted ("")
 *   QVM_REMOTE_KEYS_DIR      (/etc/qubes/remote.d)
 *   QVM_REMOTE_POLICY_DIR    what each VM may run, qvm-remote-policy(5)
 *                            (/etc/qubes/remote-policy.d)
 *   QVM_REMOTE_LOG           (/var/log/qubes/qvm-remote/qvm-remote.log)
 *   QVM_REMOTE_RUNTIME_DIR   ($RUNTIME_DIRECTORY or /run/qvm-remote)
 *   QVM_REMOTE_STATE_DIR     ($STATE_DIRECTORY or /var/lib/qvm-remote)
 *   QVM_REMOTE_QREXEC_DIR    where qrexec.<VM> sockets live (/var/run/qubes)
 *   QVM_REMOTE_MAX_PIDS      pids.max of a command's cgroup, 16.. (1024)
 *   QVM_REMOTE_MAX_MEMORY    memory.max of a command's cgroup, bytes (4 GiB)
 *   QVM_REMOTE_STOP_GRACE    seconds running commands get on SIGTERM (10)
 *   QVM_REMOTE_ASK_TIMEOUT   seconds a request the policy asks about
 *                            waits for a person, 10..86400 (300)
 *   QVM_REMOTE_ASK_PROMPT    the desktop prompt: auto (the active
 *                            graphical session) | none | USER@:N[.M]
 *                            (auto)
 */
#ifndef QVMR_CONFIG_H
#define QVMR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

#define CONFIG_FILE_MAX (64u << 10)
#define CONFIG_LIST_MAX 256u       /* names in a VM list */
#define CONFIG_PATH_MAX 1024u      /* a path, its NUL included */
/* a value, its NUL included: room for a whole list of the longest names */
#define CONFIG_VALUE_MAX (CONFIG_LIST_MAX * (VMNAME_MAX + 1))
#define CONFIG_ERR_MAX 256u

enum transport_kind { TRANSPORT_QREXEC_CLIENT, TRANSPORT_QVM_RUN };
enum poll_mode { POLL_WATCH, POLL_INTERVAL };
enum ask_prompt { ASK_PROMPT_AUTO, ASK_PROMPT_NONE, ASK_PROMPT_FIXED };

#define CONFIG_USER_MAX 32u        /* a unix user name */
#define CONFIG_DISPLAY_MAX 16u     /* ":N" or ":N.M", its NUL included */

struct name_list {
	size_t n;
	char name[CONFIG_LIST_MAX][VMNAME_MAX + 1];
};

struct config {
	struct name_list vms;
	int vms_set;                  /* QVM_REMOTE_VMS names >= 1 VM */
	enum transport_kind transport;
	enum poll_mode poll;
	unsigned interval_s;
	unsigned watch_wait_s;
	unsigned timeout_s;
	unsigned max_jobs;
	unsigned max_per_vm;
	uint64_t max_output;
	uint64_t max_age_s;
	uint64_t max_pids;
	uint64_t max_memory;
	unsigned stop_grace_s;
	unsigned ask_timeout_s;
	enum ask_prompt ask_prompt;
	char ask_prompt_user[CONFIG_USER_MAX + 1];      /* ASK_PROMPT_FIXED */
	char ask_prompt_display[CONFIG_DISPLAY_MAX];    /* ASK_PROMPT_FIXED */
	struct name_list legacy;
	char keys_dir[CONFIG_PATH_MAX];
	char policy_dir[CONFIG_PATH_MAX];
	char log_path[CONFIG_PATH_MAX];
	char runtime_dir[CONFIG_PATH_MAX];
	char state_dir[CONFIG_PATH_MAX];
	char qrexec_dir[CONFIG_PATH_MAX];
};

/* Sets every field to its default.  Reads RUNTIME_DIRECTORY and
 * STATE_DIRECTORY from the environment (systemd sets them). */
void config_defaults(struct config *c);

/*
 * Applies the file text.  Pure apart from writing err.  On failure err holds
 * "line N: what is wrong" and c may be partly updated.
 */
int config_parse(const char *text, size_t n, struct config *c,
		 char err[CONFIG_ERR_MAX]);

/* Sets one key from a raw (unquoted) value, as the environment gives it. */
int config_set(struct config *c, const char *key, const char *value,
	       char err[CONFIG_ERR_MAX]);

/* Applies every QVM_REMOTE_* variable of the environment that names a key
 * above; others (QVM_REMOTE_VM and QVM_REMOTE_ID are set for commands dom0
 * runs) are ignored.  err reads "environment: KEY: what is wrong". */
int config_apply_env(struct config *c, char err[CONFIG_ERR_MAX]);


int name_list_has(const struct name_list *l, const char *name);

#endif
