/*
 * policyrule.h - one rule: made from a line's words (policyrule.c), kept
 * by the policy (policy.c), read by the matcher (policymatch.c).  Private
 * to the policy module.
 */
#ifndef QVMR_POLICYRULE_H
#define QVMR_POLICYRULE_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"
#include "policy.h"
#include "policyword.h"

struct policy_rule {
	const char *file;       /* the policy's copy of the file's name */
	unsigned line;
	enum policy_action action;
	bool any_vm;            /* the VM field was '*' */
	char vm[VMNAME_MAX + 1];
	char user[POLICY_USER_MAX + 1];   /* "root" unless user= */
	unsigned timeout;       /* 0: no timeout= */
	bool script;            /* the pattern is @script */
	bool rest;              /* the pattern ends in '...' */
	size_t n_words;         /* argv pattern words, '...' not counted */
	char *words;            /* owned: n_words NUL-terminated fnmatch
				   patterns back to back; NULL for @script */
};

/*
 * Makes the words of one non-empty line into *rule: everything but file
 * and line, which the caller sets.  Returns 0, or QR_ERR_INVALID,
 * QR_ERR_TOO_LARGE or QR_ERR_NOMEM with reason set (lowercase, no line
 * number); on failure *rule owns nothing.  On success rule->words is the
 * caller's to free.
 */
int policy_rule_parse(const struct pline *words, struct policy_rule *rule,
		      char reason[POLICY_REASON_MAX]);

#endif
