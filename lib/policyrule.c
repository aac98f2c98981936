/*
 * policyrule.c - the words of one policy line made into a rule
 * (policyrule.h).
 *
 * Keywords, options and the VM and action fields count only unquoted, so
 * a quoted word is always a literal argument pattern and nothing the
 * format reserves can be reached by accident.
 */
#include "policyrule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "err.h"
#include "reader.h"
#include "vmname.h"

#include "banned.h"

/* How much of an offending word a reason quotes. */
#define QUOTE_MAX 48

static void say(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(why, POLICY_REASON_MAX, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}

/* A printable, bounded copy of s for a message. */
static const char *quoted(const char *s, char out[QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < QUOTE_MAX; i++)
		out[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

bool policy_user_valid(const char *s)
{
	size_t n, i;

	if (s == NULL)
		return false;
	n = strnlen(s, POLICY_USER_MAX + 1);
	if (n == 0 || n > POLICY_USER_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

static bool is(const struct pword *w, const char *keyword)
{
	return !w->quoted && strcmp(w->pat, keyword) == 0;
}

/*
 * An unquoted '[' must be closed: fnmatch would take an unclosed one as a
 * literal, and a rule meant as a class that silently matches "[" is a
 * rule nobody meant.  Mirrors fnmatch's reading: '!' or '^' may negate,
 * a ']' right after the opening (and negation) is a member, a backslash
 * escapes one byte.
 */
static bool brackets_closed(const char *p)
{
	size_t i = 0, j;

	while (p[i] != '\0') {
		if (p[i] == '\\' && p[i + 1] != '\0') {
			i += 2;
			continue;
		}
		if (p[i] != '[') {
			i++;
			continue;
		}
		j = i + 1;
		if (p[j] == '!' || p[j] == '^')
			j++;
		if (p[j] == ']')
			j++;
		while (p[j] != '\0' && p[j] != ']')
			j += (p[j] == '\\' && p[j + 1] != '\0') ? 2 : 1;
		if (p[j] == '\0')
			return false;
		i = j + 1;
	}
	return true;
}

/* One option word: key=value with key user or timeout, each once. */
static int parse_option(char *why, const char *word,
			struct policy_rule *rule, bool *seen_user,
			bool *seen_timeout)
{
	const char *eq = strchr(word, '='), *v = eq + 1;
	size_t klen = (size_t)(eq - word);
	char q[QUOTE_MAX + 4];
	uint64_t t;

	if (klen == 4 && memcmp(word, "user", 4) == 0) {
		if (*seen_user) {
			say(why, "option 'user' given twice");
			return QR_ERR_INVALID;
		}
		if (!policy_user_valid(v)) {
			say(why, "bad user name '%s' (expected "
			    "[a-z_][a-z0-9_-]*, at most 32 bytes)",
			    quoted(v, q));
			return QR_ERR_INVALID;
		}
		*seen_user = true;
		memcpy(rule->user, v, strlen(v) + 1);
		return 0;
	}
	if (klen == 7 && memcmp(word, "timeout", 7) == 0) {
		if (*seen_timeout) {
			say(why, "option 'timeout' given twice");
			return QR_ERR_INVALID;
		}
		if (parse_u64((const uint8_t *)v, strlen(v), TIMEOUT_MAX,
			      &t) != 0 || t == 0) {
			say(why, "bad timeout '%s' (expected seconds, 1 to %u)",
			    quoted(v, q), TIMEOUT_MAX);
			return QR_ERR_INVALID;
		}
		*seen_timeout = true;
		rule->timeout = (unsigned)t;
		return 0;
	}
	say(why, "unknown option '%s' (expected user= or timeout=; quote a "
	    "program whose name has '=')", quoted(word, q));
	return QR_ERR_INVALID;
}

/* The command pattern, words[i..n): @script, or argv words. */
static int parse_pattern(char *why, const struct pline *L, size_t i,
			 struct policy_rule *rule)
{
	char q[QUOTE_MAX + 4];
	size_t j, bytes = 0;
	char *dst;

	if (i == L->n) {
		say(why, "missing command pattern (argv words or @script)");
		return QR_ERR_INVALID;
	}
	if (is(&L->word[i], "@script")) {
		if (i + 1 != L->n) {
			say(why, "'@script' must be the whole command pattern");
			return QR_ERR_INVALID;
		}
		rule->script = true;
		return 0;
	}
	for (j = i; j < L->n; j++) {
		const struct pword *w = &L->word[j];

		if (is(w, "...")) {
			if (j + 1 != L->n) {
				say(why, "'...' must be the last word");
				return QR_ERR_INVALID;
			}
			if (j == i) {
				say(why, "'...' needs a program pattern "
				    "before it; write '* ...' for any command");
				return QR_ERR_INVALID;
			}
			rule->rest = true;
			break;
		}
		if (is(w, "@script")) {
			say(why, "'@script' must be the whole command pattern");
			return QR_ERR_INVALID;
		}
		/* '@' words are keywords, as in qrexec; keep them free */
		if (!w->quoted && w->pat[0] == '@') {
			say(why, "unknown keyword '%s'; quote it for a literal "
			    "argument", quoted(w->pat, q));
			return QR_ERR_INVALID;
		}
		if (!brackets_closed(w->pat)) {
			say(why, "'[' without a closing ']' in '%s'; quote it "
			    "for a literal", quoted(w->pat, q));
			return QR_ERR_INVALID;
		}
		bytes += w->pat_len + 1;
	}
	rule->n_words = j - i;
	if (rule->n_words > POLICY_WORDS_MAX) {
		say(why, "more than %u words in the command pattern",
		    POLICY_WORDS_MAX);
		return QR_ERR_TOO_LARGE;
	}
	if ((rule->words = malloc(bytes)) == NULL) {
		say(why, "out of memory");
		return QR_ERR_NOMEM;
	}
	for (dst = rule->words, j = i; j < i + rule->n_words; j++) {
		memcpy(dst, L->word[j].pat, L->word[j].pat_len + 1);
		dst += L->word[j].pat_len + 1;
	}
	return 0;
}

int policy_rule_parse(const struct pline *L, struct policy_rule *rule,
		      char why[POLICY_REASON_MAX])
{
	const struct pword *w = L->word;
	bool seen_user = false, seen_timeout = false;
	char q[QUOTE_MAX + 4];
	size_t i;
	int r;

	memset(rule, 0, sizeof(*rule));
	memcpy(rule->user, "root", 5);
	if (L->n == 0) {
		say(why, "empty line");
		return QR_ERR_INVALID;
	}
	if (is(&w[0], "*")) {
		rule->any_vm = true;
	} else if (w[0].quoted || !vmname_valid(w[0].pat)) {
		say(why, "'%s' is not a VM name or '*'",
		    quoted(w[0].pat, q));
		return QR_ERR_INVALID;
	} else {
		memcpy(rule->vm, w[0].pat, w[0].pat_len + 1);
	}
	if (L->n < 2) {
		say(why, "missing action (allow, deny or ask)");
		return QR_ERR_INVALID;
	}
	if (is(&w[1], "allow")) {
		rule->action = POLICY_ALLOW;
	} else if (is(&w[1], "deny")) {
		rule->action = POLICY_DENY;
	} else if (is(&w[1], "ask")) {
		rule->action = POLICY_ASK;
	} else {
		say(why, "unknown action '%s' (expected allow, deny or ask)",
		    quoted(w[1].pat, q));
		return QR_ERR_INVALID;
	}
	for (i = 2; i < L->n && !w[i].quoted && strchr(w[i].pat, '=') != NULL;
	     i++)
		if ((r = parse_option(why, w[i].pat, rule, &seen_user,
				      &seen_timeout)) != 0)
			return r;
	if (seen_timeout && rule->action == POLICY_DENY) {
		say(why, "timeout= has no effect on a deny rule");
		return QR_ERR_INVALID;
	}
	return parse_pattern(why, L, i, rule);
}
