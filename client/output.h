/*
 * output.h - show a result: the command's stdout and stderr, byte for byte on
 * the same streams, or one JSON object (--json); then the client's exit code.
 *
 * Result files (results/<cid>.out .err .meta .exit) are dom0's; they are
 * copied through a fixed buffer and never loaded whole.  Text from .meta
 * (the reason) is escaped before it reaches the terminal.
 */
#ifndef QVMR_CLIENT_OUTPUT_H
#define QVMR_CLIENT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "paths.h"
#include "result.h"

#define META_FILE_MAX 4096u
#define EXIT_FILE_MAX 16u

struct result_info {
	struct result_meta meta;   /* status ok and zeros when there is none */
	int have_meta;
	int exit_code;             /* from .exit, 0..255 */
};

/* Reads results/<cid>.meta (optional) and .exit.  Prints a message when
 * they are damaged. */
int result_load(const struct vm_layout *p, const char *cid,
		struct result_info *ri);

/* The same from two paths (a result in results/ or in a history folder),
 * silent: on failure *what names the damage. */
int result_load_at(const char *meta_path, const char *exit_path,
		   struct result_info *ri, const char **what);

/* Parses the text of a .exit file: "N" or "N\n", 0..255.  Pure. */
int exit_file_parse(const char *text, size_t n, int *code);

/* The exit code of qvm-remote for a result.  Pure. */
int result_exit_code(const struct result_info *ri);

/*
 * The exit code of qvm-remote once the result is shown: result_exit_code,
 * except QX_TRUNCATED for a command that exited 0 (status ok) when dom0 cut
 * a stream; a failure's own code already says it failed and passes
 * through.  Pure.
 */
int result_client_code(const struct result_info *ri);

/* What dom0 said of a command's start (a started note, or its result's
 * started= and queued_ms=): a timeout lower than asked (started, "": none)
 * always, a wait for a free slot (queued_ms, 0: none) with -v. */
void start_notices(const char *started, uint64_t queued_ms);

/* Says result_cut_notice's line (result.h) on stderr, after prefix, for
 * each stream m says dom0 cut; path[0], path[1]: the files of stdout and
 * stderr that came (NULL: unknown, nothing kept). */
void cut_notices(const char *const path[2], const struct result_meta *m,
		 const char *prefix);

/* Whether a rejection reason is about authentication (so the fingerprint
 * hint helps).  Pure. */
int reason_is_auth(const char *reason);

/*
 * The seconds to name in "timed out after N s": the requested timeout when
 * the command ran at least that long (dom0 adds a grace period to kill it),
 * else what dom0 measured, rounded (dom0 may cap the request).  Pure.
 */
unsigned timeout_shown(const struct result_meta *m, unsigned requested);

struct show_opts {
	const char *cid;
	unsigned timeout;       /* -t, 0 if not given */
	int json;
	uint64_t round_trip_ms;
	uint64_t skip[2];       /* stdout, stderr: bytes shown live already
				 * (livecopy.h), not shown again */
};

/*
 * Prints the result as qvm-remote shows it (or as JSON) and returns the exit
 * code.  A closed stdout ends the copy quietly; Ctrl-C during the copy ends
 * it with 130; another write failure says so and returns 125.
 */
int result_show(const struct vm_layout *p, const struct result_info *ri,
		const struct show_opts *so);

/* --json for a request that ended without a result: status is no_answer,
 * no_result, withdrawn or detached; reason the line said on stderr. */
int json_show_outcome(const char *cid, const char *status, int exit_code,
		      const char *reason, uint64_t round_trip_ms);

/* --json for a result (in jsonout.c). */
int json_show_result(const struct vm_layout *p,
		     const struct result_info *ri, const struct show_opts *so,
		     const char *reason);

#endif
