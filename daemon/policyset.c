/*
 * policyset.c - the policy the service decides by (issue 15): read from
 * QVM_REMOTE_POLICY_DIR at the start, where an error stops the start, and
 * again as soon as the directory changes (dirwatch.h), where an error
 * keeps the policy in force: a malformed file never opens anything.
 */
#include "daemon.h"

#include <stdio.h>
#include <string.h>

#include "logline.h"
#include "policydir.h"

#include "banned.h"

/* The error text: FILE:LINE and why, as policydir names them. */
#define POLICY_ERROR_TEXT_MAX (CONFIG_PATH_MAX + POLICY_NAME_MAX + \
			       POLICY_REASON_MAX + 32)

/*
 * Queued jobs decided under an older policy are decided again: a rule
 * removed refuses them now (the VM hears at once), a rule changed gives
 * them its user and timeout, or makes them wait for a person.
 */
static void
recheck_queued(struct daemon *d)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		struct job **pp = &v->queue, *j;

		v->queue_tail = NULL;
		while ((j = *pp) != NULL) {
			*pp = j->next;
			j->next = NULL;
			if (j->policy_gen == d->policy_generation ||
			    job_decide(d, j) == JOB_RUNS) {
				j->next = *pp;
				*pp = j;
				v->queue_tail = j;
				pp = &j->next;
			}
		}
	}
}

static void
log_loaded(struct daemon *d, const char *action)
{
	struct buf *b = ev_begin(d, "INFO", NULL, NULL);

	(void)logline_kvs(b, "action", action);
	(void)logline_kvs(b, "dir", d->cfg->policy_dir);
	if (policy_empty(&d->policy)) {
		(void)logline_kvs(b, "policy", "none");
		(void)logline_kvs(b, "reason", "no .policy file: every "
				  "authorized VM may run any command as root");
	} else {
		(void)logline_kvu(b, "files", d->policy.n_files);
		(void)logline_kvu(b, "rules", d->policy.n_rules);
	}
	ev_end(d);
}

int
policy_load(struct daemon *d)
{
	char text[POLICY_ERROR_TEXT_MAX], why[POLICY_ERROR_TEXT_MAX + 64];
	int starting = d->policy_generation == 0;
	struct policy_error err;
	int r;

	/* before the reading: a change made meanwhile brings another load */
	dirwatch_loading(&d->policy_watch);
	if ((r = policydir_load(d->cfg->policy_dir, &d->policy, &err)) != 0) {
		policydir_error_text(d->cfg->policy_dir, &err, text,
				     sizeof(text));
		if (starting) {
			fprintf(stderr, "qvm-remote-dom0: %s; fix the policy "
				"(qvm-remote-policy(5)), then start again\n",
				text);
			snprintf(why, sizeof(why), "cannot load the policy: %s; "
				 "not starting", text);
		} else {
			snprintf(why, sizeof(why), "cannot load the policy: %s; "
				 "the previous policy stays in force", text);
		}
		ev_simple(d, "ERROR", NULL, NULL, "reason", why);
		return r;
	}
	d->policy_generation++;
	log_loaded(d, starting ? "policy loaded" : "policy reloaded");
	if (!starting) {
		recheck_queued(d);
		asks_recheck(d);
	}
	return 0;
}
