/*
 * args.c - the command line of qvm-remote, parsed without getopt's global
 * state so that unit tests can call it again and again.
 */
#include "args.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "bounds.h"
#include "policy.h"
#include "reader.h"

#include "banned.h"

#define FAIL(...) do { snprintf(err, errn, __VA_ARGS__); \
		       return QR_ERR_INVALID; } while (0)

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (parse_u64((const uint8_t *)s, strlen(s), hi, &v) != 0 || v < lo)
		return QR_ERR_INVALID;
	*out = (unsigned)v;
	return 0;
}

struct optdef {
	const char *longname;   /* without "--" */
	char shortname;         /* 0: long only */
	int takes_value;
};

enum opt_id { O_TIMEOUT, O_INPUT, O_VERBOSE, O_QUIET, O_JSON, O_WAIT,
	      O_HELP, O_VERSION, O_USER, O_EXACT, O_CHECK, O_NO_STDIN,
	      O_COUNT };

static const struct optdef optdefs[O_COUNT] = {
	[O_TIMEOUT] = { "timeout", 't', 1 },
	[O_INPUT] = { "input", 'i', 1 },
	[O_VERBOSE] = { "verbose", 'v', 0 },
	[O_QUIET] = { "quiet", 'q', 0 },
	[O_JSON] = { "json", 0, 0 },
	[O_WAIT] = { "wait", 0, 1 },
	[O_HELP] = { "help", 'h', 0 },
	[O_VERSION] = { "version", 'V', 0 },
	[O_USER] = { "user", 'u', 1 },
	[O_EXACT] = { "exact", 'x', 0 },
	[O_CHECK] = { "check", 0, 0 },
	[O_NO_STDIN] = { "no-stdin", 'n', 0 },
};

static int apply(struct args *a, enum opt_id id, const char *val,
		 const char *shown, char *err, size_t errn)
{
	switch (id) {
	case O_TIMEOUT:
		if (parse_uint(val, 1, TIMEOUT_MAX, &a->timeout) != 0)
			FAIL("%s needs whole seconds from 1 to %u, not '%s'",
			     shown, TIMEOUT_MAX, val);
		break;
	case O_INPUT:
		if (!*val)
			FAIL("%s needs a file name (or - for stdin)", shown);
		a->input = val;
		break;
	case O_VERBOSE:
		a->verbose = 1;
		break;
	case O_QUIET:
		a->quiet = 1;
		break;
	case O_JSON:
		a->json = 1;
		break;
	case O_WAIT:
		if (parse_uint(val, 1, CLAIM_WAIT_MAX, &a->claim_wait) != 0)
			FAIL("%s needs whole seconds from 1 to %u, not '%s'",
			     shown, CLAIM_WAIT_MAX, val);
		a->claim_wait_given = 1;
		break;
	case O_HELP:
		a->mode = MODE_HELP;
		break;
	case O_VERSION:
		a->mode = MODE_VERSION;
		break;
	case O_USER:
		if (!policy_user_valid(val))
			FAIL("%s needs a dom0 user name ([a-z_][a-z0-9_-]*, at "
			     "most %u bytes), not '%.40s'", shown,
			     POLICY_USER_MAX, val);
		a->user = val;
		break;
	case O_EXACT:
		a->exact = 1;
		break;
	case O_CHECK:
		a->check = 1;
		break;
	case O_NO_STDIN:
		a->no_stdin = 1;
		break;
	case O_COUNT:
		break;
	}
	return 0;
}

/* Parses one option word (and maybe the next); returns words used or < 0. */
static int parse_option(struct args *a, int argc, char **argv, int i,
			char *err, size_t errn)
{
	const char *w = argv[i], *val = NULL, *eq;
	char shown[64];
	size_t len;
	int id, used = 1;

	if (w[1] == '-') {
		eq = strchr(w + 2, '=');
		len = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
		for (id = 0; id < O_COUNT; id++)
			if (strlen(optdefs[id].longname) == len &&
			    memcmp(optdefs[id].longname, w + 2, len) == 0)
				break;
		if (id == O_COUNT)
			FAIL("unknown option '%.*s'", (int)(len + 2), w);
		snprintf(shown, sizeof(shown), "--%s", optdefs[id].longname);
		if (optdefs[id].takes_value) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[i + 1], used = 2;
			else
				FAIL("%s needs a value", shown);
		} else if (eq) {
			FAIL("%s takes no value", shown);
		}
		return apply(a, (enum opt_id)id, val, shown, err, errn) == 0 ?
		       used : QR_ERR_INVALID;
	}
	/* A cluster of short options: -vq, -t5, -t 5, -qi FILE. */
	for (const char *c = w + 1; *c; c++) {
		for (id = 0; id < O_COUNT; id++)
			if (optdefs[id].shortname == *c)
				break;
		if (id == O_COUNT)
			FAIL("unknown option '-%c'", *c);
		snprintf(shown, sizeof(shown), "-%c", *c);
		if (optdefs[id].takes_value) {
			if (c[1])
				val = c + 1;
			else if (i + 1 < argc)
				val = argv[i + 1], used = 2;
			else
				FAIL("%s needs a value", shown);
			return apply(a, (enum opt_id)id, val, shown, err,
				     errn) == 0 ? used : QR_ERR_INVALID;
		}
		if (apply(a, (enum opt_id)id, NULL, shown, err, errn) != 0)
			return QR_ERR_INVALID;
	}
	return used;
}

static int parse_count(const char *w, unsigned *out, const char *what,
		       char *err, size_t errn)
{
	if (parse_uint(w, 1, LIST_COUNT_MAX, out) != 0)
		FAIL("%s needs a count from 1 to %u, not '%s'", what,
		     LIST_COUNT_MAX, w);
	return 0;
}

static int parse_key(struct args *a, int argc, char **argv, char *err,
		     size_t errn)
{
	static const char *const names[] = { "gen", "show", "import",
					     "fingerprint" };
	size_t k;
	int i;

	if (argc < 1)
		FAIL("key needs an action: gen, show, import or fingerprint");
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(argv[0], names[k]) == 0)
			break;
	if (k == sizeof(names) / sizeof(names[0]))
		FAIL("unknown key action '%s'; use gen, show, import or "
		     "fingerprint", argv[0]);
	a->key = (enum key_action)k;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 &&
		    (a->key == KEY_GEN || a->key == KEY_IMPORT))
			a->force = 1;
		else if (a->key == KEY_IMPORT)
			FAIL("key import reads the key from stdin only, never "
			     "from the command line: qvm-remote key import "
			     "< FILE");
		else
			FAIL("unexpected '%s' after 'key %s'", argv[i],
			     argv[0]);
	}
	return 0;
}

static int parse_queue(struct args *a, int argc, char **argv, char *err,
		       size_t errn)
{
	int i = 1;

	a->queue = QUEUE_STATUS;
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "status") == 0)
		a->queue = QUEUE_STATUS;
	else if (strcmp(argv[0], "clean") == 0)
		a->queue = QUEUE_CLEAN;
	else
		FAIL("unknown queue action '%s'; use status or clean",
		     argv[0]);
	for (; i < argc; i++) {
		if (a->queue == QUEUE_CLEAN && strcmp(argv[i], "--pending") == 0)
			a->pending = 1;
		else
			FAIL("unexpected '%s' after 'queue %s'", argv[i],
			     argv[0]);
	}
	return 0;
}

static int parse_sub(struct args *a, int argc, char **argv, char *err,
		     size_t errn)
{
	const char *name = argv[0];

	argc--, argv++;
	if (a->timeout || a->input || a->json || a->claim_wait || a->user ||
	    a->check || a->no_stdin)
		FAIL("-t, -i, -n, -u, --check, --json and --wait apply to "
		     "commands, not to '%s'", name);
	switch (a->mode) {
	case MODE_KEY:
		return parse_key(a, argc, argv, err, errn);
	case MODE_QUEUE:
		return parse_queue(a, argc, argv, err, errn);
	case MODE_LOG:
	case MODE_HISTORY:
		a->count = a->mode == MODE_LOG ? 20 : 10;
		if (argc > 1)
			FAIL("'%s' takes at most one count", name);
		if (argc == 1)
			return parse_count(argv[0], &a->count, name, err,
					   errn);
		return 0;
	default:
		if (argc > 0)
			FAIL("'%s' takes no arguments; to run '%s' in dom0 "
			     "write: qvm-remote -- %s ...", name, name, name);
		return 0;
	}
}

static const struct { const char *name; enum client_mode mode; } subs[] = {
	{ "key", MODE_KEY }, { "ping", MODE_PING },
	{ "status", MODE_STATUS }, { "queue", MODE_QUEUE },
	{ "log", MODE_LOG }, { "history", MODE_HISTORY },
	{ "mcp", MODE_MCP },
};
#define NSUBS (sizeof(subs) / sizeof(subs[0]))

static enum client_mode subcommand(const char *w)
{
	for (size_t i = 0; i < NSUBS; i++)
		if (strcmp(w, subs[i].name) == 0)
			return subs[i].mode;
	return MODE_RUN;
}

/* Whether w is v with two neighbours swapped (stauts, pnig), or, for v
 * of 5 or more letters, with one letter more, less or another (histroy,
 * queu, statis): a typo, not a program of dom0's.  Verbs of 3 letters
 * not at all: one letter from "mcp" is cp, two swapped cmp. */
static int near_miss(const char *w, const char *v)
{
	size_t lw = strlen(w), lv = strlen(v), i = 0;

	if (lv < 4 || strcmp(w, v) == 0)
		return 0;
	while (i < lw && i < lv && w[i] == v[i])
		i++;
	if (lw == lv && i + 1 < lw && w[i] == v[i + 1] && w[i + 1] == v[i] &&
	    strcmp(w + i + 2, v + i + 2) == 0)
		return 1;
	if (lv < 5)
		return 0;
	if (lw == lv)
		return strcmp(w + i + 1, v + i + 1) == 0;
	if (lw + 1 == lv)
		return strcmp(w + i, v + i + 1) == 0;
	if (lw == lv + 1)
		return strcmp(w + i + 1, v + i) == 0;
	return 0;
}

/* The verb w is a typo of, or NULL. */
static const char *typo_of(const char *w)
{
	for (size_t i = 0; i < NSUBS; i++)
		if (near_miss(w, subs[i].name))
			return subs[i].name;
	return NULL;
}

int args_parse(int argc, char **argv, struct args *a, char *err, size_t errn)
{
	int i = 1, n, dashdash = 0;
	const char *verb;

	memset(a, 0, sizeof(*a));
	a->mode = MODE_RUN;
	if (errn)
		err[0] = '\0';
	while (i < argc) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			dashdash = 1;
			i++;
			break;
		}
		if (w[0] != '-' || w[1] == '\0')
			break;
		if ((n = parse_option(a, argc, argv, i, err, errn)) < 0)
			return n;
		i += n;
	}
	if (a->mode == MODE_HELP || a->mode == MODE_VERSION)
		return 0;
	if (!dashdash && !a->exact && i < argc &&
	    (a->mode = subcommand(argv[i])) != MODE_RUN)
		return parse_sub(a, argc - i, argv + i, err, errn);
	/* a mistyped verb would run as root in dom0 */
	if (!dashdash && !a->exact && i < argc &&
	    (verb = typo_of(argv[i])) != NULL)
		FAIL("'%s' is not a verb of qvm-remote; did you mean '%s'? "
		     "To run '%s' in dom0: qvm-remote -- %s", argv[i], verb,
		     argv[i], argv[i]);
	if (a->quiet && a->verbose)
		FAIL("-q and -v contradict each other; give one");
	if (a->exact && i == argc)
		FAIL("-x needs the program and its arguments: qvm-remote -x "
		     "PROGRAM [ARG...]");
	if (a->no_stdin && a->input)
		FAIL("-n (send no stdin) and -i (send FILE as stdin) "
		     "contradict each other; give one");
	if (a->no_stdin && i == argc)
		FAIL("-n leaves stdin unread, so it cannot hold the script; "
		     "give the command as arguments");
	if (!a->claim_wait)
		a->claim_wait = CLAIM_WAIT_DEFAULT;
	a->argc = argc - i;
	a->argv = argv + i;
	return 0;
}

enum stdin_use args_stdin_use(const struct args *a, int stdin_tty)
{
	if (a->mode != MODE_RUN)
		return STDIN_UNUSED;
	if (a->argc == 0)
		return STDIN_SCRIPT;
	if (a->input)
		return strcmp(a->input, "-") == 0 ? STDIN_INPUT : STDIN_UNUSED;
	/* a question runs nothing, so nothing would read the data */
	if (a->no_stdin || a->check || stdin_tty)
		return STDIN_UNUSED;
	return STDIN_INPUT;
}
