/*
 * policy.c - policy files parsed into rules (policy.h).
 *
 * A file is parsed whole into rules of its own before any of them joins
 * the policy, so a refused file changes nothing: a daemon reloading a bad
 * edit keeps the policy it had.  Everything the format does not define is
 * an error naming the line, never a guess: a typo in a policy is a hole or
 * a lockout nobody sees.
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policyrule.h"
#include "policyword.h"

#include "banned.h"

/* One file being parsed: its rules are not the policy's yet. */
struct parse {
	struct pline words;          /* the current line */
	struct policy_rule *rules;
	size_t n, cap;
	size_t room;                 /* rules the policy can still take */
	const char *file;            /* our copy of the file's name */
	char reason[POLICY_REASON_MAX];
};

static void say(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap) < 0)
		ps->reason[0] = '\0';
	va_end(ap);
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

static void free_rules(struct policy_rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(r[i].words);
	free(r);
}

void policy_release(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	free_rules(p->rules, p->n_rules);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	policy_init(p);
}

bool policy_empty(const struct policy *p)
{
	return p == NULL || p->n_files == 0;
}

const char *policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_DENY:
		return "deny";
	case POLICY_ALLOW:
		return "allow";
	case POLICY_ASK:
		return "ask";
	}
	return "unknown";
}

/* The rule of the line in ps->words, kept with the file's others. */
static int add_rule(struct parse *ps, unsigned lineno)
{
	struct policy_rule rule;
	int r;

	if ((r = policy_rule_parse(&ps->words, &rule, ps->reason)) != 0)
		return r;
	rule.file = ps->file;
	rule.line = lineno;
	if (ps->n == ps->room) {
		free(rule.words);
		say(ps, "more than %u rules in all files", POLICY_RULES_MAX);
		return QR_ERR_TOO_LARGE;
	}
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct policy_rule *grown;

		if (cap > ps->room)
			cap = ps->room;
		grown = realloc(ps->rules, cap * sizeof(*grown));
		if (grown == NULL) {
			free(rule.words);
			say(ps, "out of memory");
			return QR_ERR_NOMEM;
		}
		ps->rules = grown;
		ps->cap = cap;
	}
	ps->rules[ps->n++] = rule;
	return 0;
}

/* NUL and control bytes are refused anywhere, comments included. */
static int check_bytes(struct parse *ps, const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			say(ps, "NUL byte");
			return QR_ERR_INVALID;
		}
		if (c == '\r') {
			say(ps, "carriage return (CRLF line ends are not "
			    "allowed)");
			return QR_ERR_INVALID;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			say(ps, "control byte 0x%02x", c);
			return QR_ERR_INVALID;
		}
	}
	return 0;
}

static int parse_text(struct parse *ps, const char *text, size_t len,
		      unsigned *lineno)
{
	const char *line, *nl, *why = NULL;
	size_t i = 0, n;
	int r;

	static_assert(POLICY_LINE_MAX == 4096, "the message spells it out");
	while (i < len) {
		++*lineno;
		line = text + i;
		nl = memchr(line, '\n', len - i);
		n = nl != NULL ? (size_t)(nl - line) : len - i;
		i += n + (nl != NULL);
		if (n > POLICY_LINE_MAX) {
			say(ps, "line is longer than 4096 bytes");
			return QR_ERR_TOO_LARGE;
		}
		if ((r = check_bytes(ps, line, n)) != 0)
			return r;
		if ((r = pline_split(line, n, &ps->words, &why)) != 0) {
			say(ps, "%s", why);
			return r;
		}
		if (ps->words.n > 0 && (r = add_rule(ps, *lineno)) != 0)
			return r;
	}
	return 0;
}

/* Names go into messages and the audit log: printable ASCII only. */
static bool name_ok(const char *s)
{
	size_t n = strnlen(s, POLICY_NAME_MAX + 1), i;

	if (n == 0 || n > POLICY_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void set_error(struct policy_error *err, const char *file,
		      unsigned line, const char *reason)
{
	size_t i;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	for (i = 0; file != NULL && file[i] != '\0' && i < POLICY_NAME_MAX; i++)
		err->file[i] = (file[i] >= 0x20 && file[i] <= 0x7e) ?
			       file[i] : '?';
	err->line = line;
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
}

int policy_add_file(struct policy *p, const char *file_name,
		    const char *text, size_t len, struct policy_error *err)
{
	struct parse *ps = NULL;
	struct policy_rule *rules;
	unsigned lineno = 0;
	char **files, *name = NULL;
	int r;

	static_assert(POLICY_FILE_MAX == 1048576 && POLICY_FILES_MAX == 256,
		      "the messages spell the limits out");
	if (p == NULL || file_name == NULL || (text == NULL && len > 0)) {
		set_error(err, file_name, 0, "invalid arguments");
		return QR_ERR_INVALID;
	}
	if (!name_ok(file_name)) {
		set_error(err, file_name, 0, "file name is empty, longer than "
			  "255 bytes or not printable ascii");
		return QR_ERR_INVALID;
	}
	if (p->n_files == POLICY_FILES_MAX) {
		set_error(err, file_name, 0, "more than 256 policy files");
		return QR_ERR_TOO_LARGE;
	}
	if (len > POLICY_FILE_MAX) {
		set_error(err, file_name, 0,
			  "file is larger than 1048576 bytes");
		return QR_ERR_TOO_LARGE;
	}
	if ((name = strdup(file_name)) == NULL ||
	    (ps = calloc(1, sizeof(*ps))) == NULL) {
		set_error(err, file_name, 0, "out of memory");
		r = QR_ERR_NOMEM;
		goto out;
	}
	ps->file = name;
	ps->room = POLICY_RULES_MAX - p->n_rules;
	if ((r = parse_text(ps, text, len, &lineno)) != 0) {
		set_error(err, file_name, lineno, ps->reason);
		goto out;
	}
	/* Grow both arrays before moving anything, so NOMEM changes nothing
	 * a reader of p could see. */
	files = realloc(p->files, (p->n_files + 1) * sizeof(*files));
	if (files == NULL)
		goto nomem;
	p->files = files;
	if (ps->n > 0) {
		rules = realloc(p->rules,
				(p->n_rules + ps->n) * sizeof(*rules));
		if (rules == NULL)
			goto nomem;
		p->rules = rules;
		memcpy(p->rules + p->n_rules, ps->rules,
		       ps->n * sizeof(*rules));
		p->n_rules += ps->n;
	}
	p->files[p->n_files++] = name;
	free(ps->rules);
	free(ps);
	return 0;
nomem:
	set_error(err, file_name, 0, "out of memory");
	r = QR_ERR_NOMEM;
out:
	if (ps != NULL)
		free_rules(ps->rules, ps->n);
	free(ps);
	free(name);
	return r;
}
