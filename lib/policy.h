/*
 * policy.h - which request of which VM dom0 runs, and as whom (issue 15).
 *
 * A policy is the rules of the files of /etc/qubes/remote-policy.d/, added
 * in name order; the first rule that fits a request decides.  The format
 * and the matching rules are qvm-remote-policy(5); in short, one rule a
 * line:
 *
 *     VM  ACTION  [user=NAME] [timeout=SECONDS]  PATTERN
 *
 * VM is a VM name or '*'; ACTION allow, deny or ask; PATTERN either the
 * word @script (any script request, and only those) or argv pattern words,
 * each matching exactly one argument with fnmatch(3) (flags 0), the last
 * one optionally '...' (zero or more further arguments of any kind).
 *
 * Pure: bytes in, rules out; the directory is read by io/policydir.h.
 * Matching works on bytes: the programs never call setlocale(3), so
 * fnmatch runs in the C locale ('?' is one byte, ranges are byte ranges).
 *
 * Ownership: a struct policy owns its rules and a copy of every file name
 * given to it; nothing it holds points into the caller's text.  It holds no
 * pointer into itself, so it may be moved by assignment (a reload builds a
 * new policy and assigns it over the old one after releasing that).  A
 * decision and an error are plain values that stay valid after the policy
 * is released.
 */
#ifndef QVMR_POLICY_H
#define QVMR_POLICY_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

#define POLICY_FILE_MAX   (1u << 20)   /* bytes of one file */
#define POLICY_FILES_MAX  256u         /* files in one policy */
#define POLICY_RULES_MAX  4096u        /* rules in all files together */
#define POLICY_LINE_MAX   4096u        /* bytes of a line, without its '\n' */
#define POLICY_WORDS_MAX  256u         /* words of one command pattern */
#define POLICY_WORD_MAX   1024u        /* bytes of one word, unquoted */
#define POLICY_USER_MAX   32u          /* bytes of a user name */
#define POLICY_NAME_MAX   255u         /* bytes of a file name (NAME_MAX) */
#define POLICY_REASON_MAX 160u         /* bytes of an error's reason */

static_assert(POLICY_WORD_MAX < POLICY_LINE_MAX,
	      "a word of maximal length must fit on a line");
static_assert(POLICY_WORDS_MAX < POLICY_LINE_MAX / 2,
	      "a line can hold a pattern of POLICY_WORDS_MAX words");
/* A stored pattern is at most twice its line (every byte escaped). */
static_assert((unsigned long long)POLICY_RULES_MAX * 2 * POLICY_LINE_MAX <=
	      (64ull << 20), "a full policy stays under 64 MiB of patterns");
static_assert((unsigned long long)POLICY_FILE_MAX < (1ull << 31),
	      "line numbers of a file fit an unsigned");

enum policy_action {
	POLICY_DENY,
	POLICY_ALLOW,
	POLICY_ASK,
};

enum policy_kind {
	POLICY_SCRIPT,   /* a text run by bash: matches only @script rules */
	POLICY_ARGV,     /* an argument vector run with execve, no shell */
};

struct policy_rule;  /* one parsed line; private to policy.c */

struct policy {
	struct policy_rule *rules;   /* owned; n_rules of them, in order */
	size_t n_rules;
	char **files;                /* owned copies of the names added */
	size_t n_files;
};

/*
 * What a VM asks for.  vm is the name of the VM the request came from (the
 * daemon's own name for it, not the VM's word); argv and argc are used for
 * POLICY_ARGV only and may be anything for a script; user is the dom0 user
 * the request asks to run as, or NULL when it asks for none.  The policy
 * never keeps a pointer to any of it.
 */
struct policy_request {
	const char *vm;
	enum policy_kind kind;
	const char *const *argv;
	size_t argc;
	const char *user;
};

/*
 * The verdict.  line == 0 (and file "") means no rule fitted: action is
 * then POLICY_DENY and user "".  Otherwise file and line name the rule,
 * user is the account to run as (the rule's user=, else "root") and
 * timeout the rule's cap on the command's run time in seconds (0: none).
 */
struct policy_decision {
	enum policy_action action;
	char file[POLICY_NAME_MAX + 1];
	unsigned line;
	char user[POLICY_USER_MAX + 1];
	unsigned timeout;
};

/*
 * Why a file was refused.  file is the name given (non-printable bytes
 * shown as '?'; "" for an error of no file, such as a directory's); line
 * is 1-based, 0 for the file as a whole (its size, its name, its mode);
 * reason is lowercase, printable ASCII, without a trailing full stop.
 * Callers print "FILE:LINE: REASON".
 */
struct policy_error {
	char file[POLICY_NAME_MAX + 1];
	unsigned line;
	char reason[POLICY_REASON_MAX];
};

void policy_init(struct policy *p);
/* Frees everything and leaves an empty policy (as policy_init). */
void policy_release(struct policy *p);

/*
 * Parses text[0..len) as one file named file_name and appends its rules.
 * On failure returns QR_ERR_INVALID (the text or the name breaks the
 * format), QR_ERR_TOO_LARGE (a limit above) or QR_ERR_NOMEM, fills *err
 * (when err is not NULL) and leaves p exactly as it was, so a caller can
 * keep the policy it had.  A file without rules still counts as a file:
 * the policy is then not empty, and it denies what no rule allows.
 */
int policy_add_file(struct policy *p, const char *file_name,
		    const char *text, size_t len, struct policy_error *err);

/*
 * No file was added: there is no policy, and the caller keeps the
 * behaviour of before policies (every request allowed, as root).
 * policy_match on an empty policy denies, like any policy without a
 * fitting rule; it is the caller that decides what "no policy" means.
 */
bool policy_empty(const struct policy *p);

/*
 * Fills *d with the decision for *req: the first rule whose VM field is
 * req->vm or '*', whose pattern matches the request and whose user fits
 * (a rule's user is its user= or root; a request naming a user fits only
 * a rule of that user, one naming none fits every rule).  Returns 0, or
 * QR_ERR_INVALID for a malformed request (no valid VM name, an unknown
 * kind, an argv request with argc 0 or a NULL argument, an invalid user
 * name); *d is then the no-rule deny, so a caller that ignores the return
 * still denies.  Linear in the rules and in the bytes of the arguments
 * each pattern word looks at; safe for any argc.
 */
int policy_match(const struct policy *p, const struct policy_request *req,
		 struct policy_decision *d);

/* "allow", "deny", "ask"; "unknown" for anything else. */
const char *policy_action_name(enum policy_action a);

/*
 * The rule of user names, for user= and for a request's user:
 * [a-z_][a-z0-9_-]*, 1 to POLICY_USER_MAX bytes.
 */
bool policy_user_valid(const char *s);

#endif
