/*
 * policyword.h - one line of a policy file cut into words (private to the
 * policy module; the format is qvm-remote-policy(5)).
 *
 * Words are separated by spaces and tabs.  Single quotes take everything
 * literally up to the next single quote; double quotes likewise, with \"
 * and \\ as the only escapes (any other backslash is literal); outside
 * quotes a backslash escapes the next byte.  An unquoted '#' starts a
 * comment that runs to the end of the line.  Quoted parts join the
 * unquoted parts next to them into one word, as in sh.
 *
 * Each word comes out as an fnmatch(3) pattern in which every quoted or
 * escaped byte other than a letter or digit is preceded by a backslash, so
 * it is literal there, bracket expressions included.  A word with no
 * quoting at all is its own text, which is how the caller recognises
 * keywords ('*', allow, user=..., @script, '...') only when unquoted.
 */
#ifndef QVMR_POLICYWORD_H
#define QVMR_POLICYWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

/* vm, action, two options and a full pattern; more is an error anyway */
#define PLINE_WORDS_MAX (POLICY_WORDS_MAX + 4)
/* a quoted byte becomes two, and each word gains a NUL */
#define PLINE_SCRATCH (3 * POLICY_LINE_MAX + 1)

struct pword {
	const char *pat;    /* NUL-terminated, in the line's scratch */
	size_t pat_len;
	bool quoted;        /* a quote or a backslash was in the word */
};

struct pline {
	struct pword word[PLINE_WORDS_MAX];
	size_t n;
	char scratch[PLINE_SCRATCH];
};

/*
 * Cuts line[0..n) (n <= POLICY_LINE_MAX, no '\n') into *out.  Returns 0,
 * or QR_ERR_INVALID / QR_ERR_TOO_LARGE with *why set to a static reason.
 * The caller has already refused NUL and control bytes.
 */
int pline_split(const char *line, size_t n, struct pline *out,
		const char **why);

#endif
