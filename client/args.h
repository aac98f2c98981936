/*
 * args.h - the command line of qvm-remote.  Pure: argv in, struct out.
 *
 *   qvm-remote [-t SEC] [-i FILE | -n] [--wait SEC] [-u USER] [-x]
 *              [--check] [-v] [-q] [--json] [--] COMMAND [ARG...]
 *   qvm-remote [-v] [-q] key gen [--force] | key show | key import [--force]
 *                        | key fingerprint
 *   qvm-remote [-v] [-q] ping | status | queue [status | clean [--pending]]
 *                        | log [N] | history [N] | mcp
 *   qvm-remote --help | --version
 *
 * Options end at the first word that is not one, so the command's own
 * options pass through (`qvm-remote qvm-ls --running`).  A first word that
 * names a subcommand is one, unless "--" or -x came before it.  With -x
 * (--exact) the command words are the argument vector dom0 runs with
 * execve, as they are; -u (--user) names the dom0 user to run as, checked
 * against policy_user_valid; --check asks dom0 what its policy would do
 * with the command, which then does not run.  -n (--no-stdin, ssh's -n)
 * sends no stdin: the command's is /dev/null in dom0.
 */
#ifndef QVMR_CLIENT_ARGS_H
#define QVMR_CLIENT_ARGS_H

#include <stddef.h>

#define ARGS_ERR_MAX 256
#define CLAIM_WAIT_DEFAULT 60u     /* seconds dom0 has to take a request */
#define CLAIM_WAIT_MAX 86400u
#define LIST_COUNT_MAX 100000u     /* log N, history N */

enum client_mode {
	MODE_RUN,
	MODE_HELP,
	MODE_VERSION,
	MODE_KEY,
	MODE_PING,
	MODE_STATUS,
	MODE_QUEUE,
	MODE_LOG,
	MODE_HISTORY,
	MODE_MCP,
};

enum key_action { KEY_GEN, KEY_SHOW, KEY_IMPORT, KEY_FINGERPRINT };
enum queue_action { QUEUE_STATUS, QUEUE_CLEAN };

struct args {
	enum client_mode mode;
	unsigned timeout;         /* -t SEC; 0 when not given */
	unsigned claim_wait;      /* --wait SEC */
	int claim_wait_given;     /* --wait was given (not the default) */
	const char *input;        /* -i FILE ("-" is stdin); NULL if none */
	const char *user;         /* -u USER; NULL if none */
	int no_stdin;             /* -n: stdin is never read */
	int exact;                /* -x: argc/argv are the vector (argc >= 1) */
	int check;                /* --check: decide in dom0, run nothing */
	int verbose, quiet, json;
	int argc;                 /* MODE_RUN: the command words (may be 0) */
	char **argv;              /* points into the caller's argv */
	enum key_action key;
	enum queue_action queue;
	int force;                /* key gen|import --force */
	int pending;              /* queue clean --pending */
	unsigned count;           /* log N (20), history N (10) */
};

/* What the client does with its own stdin. */
enum stdin_use {
	STDIN_UNUSED,   /* never read */
	STDIN_SCRIPT,   /* no command words: stdin is the script */
	STDIN_INPUT,    /* sent as the command's stdin (<cid>.in) */
};

/*
 * Parses argv[1..argc).  On failure returns QR_ERR_INVALID with a message in
 * err (no prefix), for the caller to print with a pointer to --help.
 */
int args_parse(int argc, char **argv, struct args *a, char *err, size_t errn);

/*
 * What a parsed command line does with stdin, as ssh does: a command
 * given as words gets the client's stdin when that is not a terminal
 * (stdin_tty 0), unless -n, -i FILE or --check; -i - reads it even from a
 * terminal; with no words stdin is the script.  Subcommands: unused here
 * (mcp and key import read stdin themselves).  Pure.
 */
enum stdin_use args_stdin_use(const struct args *a, int stdin_tty);

#endif
