/*
 * policymatch.c - the first rule that fits a request (policy.h).
 *
 * Each pattern word meets exactly one argument and '...' can only end a
 * pattern, so there is nothing to backtrack over between arguments: a
 * rule costs one fnmatch per pattern word, and the cheap tests (VM, kind,
 * user, argument count) come first.
 */
#include "policy.h"

#include <fnmatch.h>
#include <string.h>

#include "err.h"
#include "policyrule.h"
#include "vmname.h"

#include "banned.h"

static void no_rule(struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->action = POLICY_DENY;
}

static bool request_ok(const struct policy_request *req)
{
	size_t i;

	if (req == NULL || !vmname_valid(req->vm))
		return false;
	if (req->user != NULL && !policy_user_valid(req->user))
		return false;
	if (req->kind == POLICY_SCRIPT)
		return true;
	if (req->kind != POLICY_ARGV || req->argc == 0 || req->argv == NULL)
		return false;
	for (i = 0; i < req->argc; i++)
		if (req->argv[i] == NULL)
			return false;
	return true;
}

static bool argv_matches(const struct policy_rule *rule,
			 const char *const *argv, size_t argc)
{
	const char *pat = rule->words;
	size_t i;

	if (argc < rule->n_words || (!rule->rest && argc != rule->n_words))
		return false;
	for (i = 0; i < rule->n_words; i++) {
		if (fnmatch(pat, argv[i], 0) != 0)
			return false;
		pat += strlen(pat) + 1;
	}
	return true;
}

static bool fits(const struct policy_rule *rule,
		 const struct policy_request *req)
{
	if (!rule->any_vm && strcmp(rule->vm, req->vm) != 0)
		return false;
	/* asking for a user narrows; asking for none takes the rule's */
	if (req->user != NULL && strcmp(rule->user, req->user) != 0)
		return false;
	if (req->kind == POLICY_SCRIPT)
		return rule->script;
	return !rule->script && argv_matches(rule, req->argv, req->argc);
}

int policy_match(const struct policy *p, const struct policy_request *req,
		 struct policy_decision *d)
{
	const struct policy_rule *rule;
	size_t i;

	no_rule(d);
	if (p == NULL || !request_ok(req))
		return QR_ERR_INVALID;
	for (i = 0; i < p->n_rules; i++) {
		rule = &p->rules[i];
		if (!fits(rule, req))
			continue;
		d->action = rule->action;
		memcpy(d->file, rule->file, strlen(rule->file) + 1);
		d->line = rule->line;
		memcpy(d->user, rule->user, strlen(rule->user) + 1);
		d->timeout = rule->timeout;
		return 0;
	}
	return 0;
}
