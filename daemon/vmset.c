/*
 * vmset.c - which VMs are polled, and whether they can be reached.
 */
#include "daemon.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agenthint.h"
#include "err.h"
#include "grow.h"
#include "keystate.h"
#include "keystore.h"
#include "outbox.h"
#include "request.h"

#include "banned.h"

#define UP_RECHECK_MS 60000         /* with a watch: a lost event's cost */

struct vm *
vm_find(struct daemon *d, const char *name)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

int
ready_push(struct vm *v, const struct deliver_item *e)
{
	struct deliver_item *g = grow_array(v->ready, &v->capready, v->nready,
					    sizeof(*g), 8);

	if (g == NULL)
		return QR_ERR_NOMEM;
	v->ready = g;
	v->ready[v->nready++] = *e;
	return 0;
}

void
ready_drop(struct vm *v, const struct deliver_item *e)
{
	/* by its entry: a note and the result of one claim may both wait */
	for (size_t i = 0; i < v->nready; i++)
		if (strcmp(v->ready[i].dir, e->dir) == 0) {
			memmove(&v->ready[i], &v->ready[i + 1],
				(v->nready - i - 1) * sizeof(*v->ready));
			v->nready--;
			return;
		}
}

/* Opens v's replay store, covering every cid the freshness check can
 * still accept, v1 ids in the VM's local time too (request_window_s). */
static int
replay_load(struct daemon *d, struct vm *v)
{
	return replay_open(&v->replay, d->cfg->state_dir, v->name, time(NULL),
			   request_window_s(d->cfg->max_age_s));
}

int
replay_reopen(struct daemon *d, struct vm *v)
{
	replay_close(&v->replay);
	return replay_load(d, v);
}

/* Queues the results an earlier run left in the outbox under base. */
static void
load_parked(struct vm *v, const char *base)
{
	struct deliver_item *parked = NULL;
	size_t nparked = 0;

	if (outbox_scan(base, v->name, &parked, &nparked) == 0) {
		for (size_t i = 0; i < nparked; i++)
			(void)ready_push(v, &parked[i]);
		free(parked);
	}
}

static struct vm *
vm_add(struct daemon *d, const char *name, const struct key *k)
{
	struct vm *v = calloc(1, sizeof(*v));
	char volatile_dir[PATH_MAX];

	if (v == NULL)
		return NULL;
	memcpy(v->name, name, strnlen(name, VMNAME_MAX));
	v->key = *k;
	v->legacy = name_list_has(&d->cfg->legacy, name);
	if (replay_load(d, v) != 0) {
		ev_simple(d, "ERROR", name, NULL, "reason",
			  "cannot open the replay store; VM not polled");
		free(v);
		return NULL;
	}
	/* results parked by an earlier run go out first; the volatile
	 * outbox outlives a daemon that crashed, not a reboot */
	load_parked(v, d->cfg->state_dir);
	exchange_hint(v, agenthint_load(d->cfg->state_dir, name));
	if (outbox_volatile_dir(volatile_dir, d->cfg->runtime_dir) == 0)
		load_parked(v, volatile_dir);
	v->next = d->vms;
	d->vms = v;
	d->up_dirty = 1;        /* whether it is up is not known yet */
	return v;
}

/* A key that cannot be used is reported with what to do, on stderr (the
 * journal) and in the log; that VM is not polled. */
static void
key_problem(struct daemon *d, const char *vm, int r)
{
	char fix[2 * CONFIG_PATH_MAX + 160];

	if (r == QR_ERR_PERMISSIONS)
		snprintf(fix, sizeof(fix), "key file %s/%s.key is readable by "
			 "others; fix with: chmod 600 %s/%s.key",
			 d->cfg->keys_dir, vm, d->cfg->keys_dir, vm);
	else
		snprintf(fix, sizeof(fix), "cannot use key file %s/%s.key: %s",
			 d->cfg->keys_dir, vm, qr_strerror(r));
	fprintf(stderr, "qvm-remote-dom0: %s; '%s' is not polled\n", fix, vm);
	ev_simple(d, "ERROR", vm, NULL, "reason", fix);
}

/* Whether the config and --vm let the daemon poll name. */
static int
vm_wanted(const struct daemon *d, const char *name)
{
	if (d->cfg->vms_set && !name_list_has(&d->cfg->vms, name))
		return 0;
	return d->opts->only_vm == NULL || strcmp(d->opts->only_vm, name) == 0;
}

/*
 * Queued jobs of v that its current key did not verify (it was revoked or
 * replaced since) are refused now, not when a slot frees: job_start
 * refuses each (a key that leaked must not get its requests run later,
 * and the VM hears at once).  The number refused.
 */
static unsigned
refuse_stale(struct daemon *d, struct vm *v)
{
	struct job **pp = &v->queue, *j;
	unsigned n = 0;

	v->queue_tail = NULL;
	while ((j = *pp) != NULL) {
		if (!v->removed && j->key_gen == v->key_gen) {
			v->queue_tail = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		j->next = NULL;
		job_start(d, j);
		n++;
	}
	asks_refuse_stale(d, v);
	return n;
}

/* What the admin verbs read (keystate.h): every VM the daemon holds, and
 * the key files it does not use. */
static void
tell_verbs(struct daemon *d, const struct name_list *keyed,
	   const char (*fps)[KEY_FINGERPRINT_MAX], const enum keystate_vm *st)
{
	struct keystate *ks = calloc(1, sizeof(*ks));
	char fp[KEY_FINGERPRINT_MAX];

	if (ks == NULL)
		goto fail;
	ks->pid = (long)getpid();
	ks->generation = ++d->keys_generation;
	for (const struct vm *v = d->vms; v != NULL; v = v->next) {
		if (v->removed || key_fingerprint(&v->key, fp) != 0)
			fp[0] = '\0';
		(void)keystate_add(ks, v->name, fp, v->removed
				   ? KEYSTATE_DROPPED : KEYSTATE_SERVED,
				   v->running);
	}
	for (size_t i = 0; keyed != NULL && i < keyed->n; i++)
		if (st[i] != KEYSTATE_SERVED &&
		    keystate_find(ks, keyed->name[i]) == NULL)
			(void)keystate_add(ks, keyed->name[i], fps[i], st[i], 0);
	if (keystate_write(d->cfg->runtime_dir, ks) != 0)
		goto fail;
	free(ks);
	return;
fail:
	free(ks);
	ev_simple(d, "ERROR", NULL, NULL, "reason", "cannot write the keys "
		  "file in the runtime directory; authorize and revoke cannot "
		  "confirm what the service does");
}

/*
 * Loads the keys of the VMs to poll: keyed VMs, narrowed by the config's
 * list and by --vm.  Existing entries are updated in place; a VM whose
 * key is gone is dropped (removed, its key wiped; it stays in the table
 * until the daemon stops, fetched from so that its requests are refused
 * at once), and a VM whose key changed counts a new key generation.  A
 * keys directory that cannot be read drops every key: fail closed.
 */
int
vms_load(struct daemon *d)
{
	struct name_list keyed;
	struct key *keys = NULL;
	char (*fps)[KEY_FINGERPRINT_MAX] = NULL;
	enum keystate_vm st[CONFIG_LIST_MAX];
	char msg[512];
	int r;

	/* before the reading: a change made while this load reads the
	 * directory is loaded next time */
	dirwatch_loading(&d->keys_watch);
	keyed.n = 0;
	if ((r = keystore_check_dir(d->cfg->keys_dir, msg, sizeof(msg))) != 0)
		fprintf(stderr, "qvm-remote-dom0: %s\n", msg);
	else
		r = keystore_list(d->cfg->keys_dir, &keyed);
	if (r != 0 && d->vms != NULL)
		ev_simple(d, "ERROR", NULL, NULL, "reason", "cannot read the "
			  "keys directory; every key is dropped until it can");
	keys = calloc(CONFIG_LIST_MAX, sizeof(*keys));
	fps = calloc(CONFIG_LIST_MAX, sizeof(*fps));
	if (keys == NULL || fps == NULL) {
		keyed.n = 0;        /* nothing usable: drop them all */
		if (r == 0)
			r = QR_ERR_NOMEM;
	}
	for (size_t i = 0; i < CONFIG_LIST_MAX; i++)
		st[i] = KEYSTATE_UNUSABLE;
	for (size_t i = 0; r == 0 && i < d->cfg->vms.n; i++)
		if (!name_list_has(&keyed, d->cfg->vms.name[i]))
			ev_simple(d, "INFO", d->cfg->vms.name[i], NULL, "reason",
				  "listed in QVM_REMOTE_VMS but has no key; "
				  "not polled");
	for (size_t i = 0; i < keyed.n; i++) {
		const char *name = keyed.name[i];
		int lr = keystore_load(d->cfg->keys_dir, name, &keys[i]);

		if (lr == 0 && key_fingerprint(&keys[i], fps[i]) != 0)
			fps[i][0] = '\0';
		if (!vm_wanted(d, name)) {
			st[i] = KEYSTATE_NOT_POLLED;
			key_wipe(&keys[i]);
		} else if (lr != 0) {
			key_problem(d, name, lr);
		} else {
			st[i] = KEYSTATE_SERVED;
		}
	}
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		size_t i;

		for (i = 0; i < keyed.n; i++)
			if (st[i] == KEYSTATE_SERVED &&
			    strcmp(keyed.name[i], v->name) == 0)
				break;
		if (i == keyed.n) {
			if (!v->removed) {
				v->removed = 1;
				v->key_gen++;
				key_wipe(&v->key);
				ev_simple(d, "INFO", v->name, NULL, "action",
					  "key dropped");
			}
		} else if (v->removed || !key_equal(&v->key, &keys[i])) {
			v->key_gen++;
			ev_simple(d, "INFO", v->name, NULL, "action",
				  v->removed ? "key loaded" : "key replaced");
			v->key = keys[i];
			v->removed = 0;
		}
		if (!v->removed)
			v->legacy = name_list_has(&d->cfg->legacy, v->name);
		/* a reload may change QVM_REMOTE_MAX_AGE */
		v->replay.window_s = request_window_s(d->cfg->max_age_s);
		(void)refuse_stale(d, v);
	}
	for (size_t i = 0; i < keyed.n; i++)
		if (st[i] == KEYSTATE_SERVED && vm_find(d, keyed.name[i]) == NULL &&
		    vm_add(d, keyed.name[i], &keys[i]) != NULL)
			ev_simple(d, "INFO", keyed.name[i], NULL, "action",
				  "polling");
	tell_verbs(d, &keyed, (const char (*)[KEY_FINGERPRINT_MAX])fps, st);
	if (keys != NULL)
		for (size_t i = 0; i < CONFIG_LIST_MAX; i++)
			key_wipe(&keys[i]);
	free(keys);
	free(fps);
	return r;
}

void
refresh_up(struct daemon *d, int64_t t)
{
	/* 200 VMs cost 200 lstat calls a turn of the loop, and a turn comes
	 * with every session's reply: with the watch, only on its events */
	if (d->qrexec_wd >= 0 && !d->up_dirty &&
	    t - d->up_checked_ms < UP_RECHECK_MS)
		return;
	d->up_dirty = 0;
	d->up_checked_ms = t;
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		int up = transport_vm_up(&d->transport, v->name);
		if (up && !v->up)
			exchange_vm_up(v);
		v->up = up;
	}
}

int
vm_idle(const struct vm *v)
{
	return exchange_idle(v) && v->queue == NULL && v->running == 0 &&
	       v->asking == NULL;
}
