/*
 * vmset.c - which VMs are polled, and whether they can be reached.
 */
#include "daemon.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "keystore.h"
#include "outbox.h"
#include "request.h"

#include "banned.h"

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
	if (v->nready == v->capready) {
		size_t cap = v->capready ? v->capready * 2 : 8;
		struct deliver_item *g = reallocarray(v->ready, cap, sizeof(*g));
		if (g == NULL)
			return QR_ERR_NOMEM;
		v->ready = g;
		v->capready = cap;
	}
	v->ready[v->nready++] = *e;
	return 0;
}

void
ready_drop(struct vm *v, const struct deliver_item *e)
{
	for (size_t i = 0; i < v->nready; i++)
		if (strcmp(v->ready[i].cid, e->cid) == 0 &&
		    strcmp(v->ready[i].claim, e->claim) == 0) {
			if (v->fetch != NULL) {
				struct held_claim *g =
					&v->gone[v->ngone++ % FETCH_HELD_MAX];
				memcpy(g->cid, e->cid, sizeof(g->cid));
				memcpy(g->claim, e->claim, sizeof(g->claim));
			}
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
	if (outbox_volatile_dir(volatile_dir, d->cfg->runtime_dir) == 0)
		load_parked(v, volatile_dir);
	v->next = d->vms;
	d->vms = v;
	return v;
}

/* Loads the keys of the VMs to poll: keyed VMs, narrowed by the config's
 * list and by --vm.  Existing entries are updated in place. */
/* A key that cannot be used is reported with what to do, on stderr (the
 * journal) and in the log; that VM is not polled. */
static void
key_problem(struct daemon *d, const char *vm, int r)
{
	char fix[2 * CONFIG_VALUE_MAX + 160];

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

int
vms_load(struct daemon *d)
{
	struct name_list keyed;
	char msg[512];
	int r;

	if ((r = keystore_check_dir(d->cfg->keys_dir, msg, sizeof(msg))) != 0) {
		fprintf(stderr, "qvm-remote-dom0: %s\n", msg);
		return r;
	}
	if ((r = keystore_list(d->cfg->keys_dir, &keyed)) != 0)
		return r;
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		v->removed = 1;
	for (size_t i = 0; i < d->cfg->vms.n; i++)
		if (!name_list_has(&keyed, d->cfg->vms.name[i]))
			ev_simple(d, "INFO", d->cfg->vms.name[i], NULL, "reason",
				  "listed in QVM_REMOTE_VMS but has no key; "
				  "not polled");
	for (size_t i = 0; i < keyed.n; i++) {
		const char *name = keyed.name[i];
		struct key k;
		struct vm *v;

		if (d->cfg->vms_set && !name_list_has(&d->cfg->vms, name))
			continue;
		if (d->opts->only_vm != NULL && strcmp(d->opts->only_vm, name))
			continue;
		if ((r = keystore_load(d->cfg->keys_dir, name, &k)) != 0) {
			key_problem(d, name, r);
			continue;
		}
		if ((v = vm_find(d, name)) != NULL) {
			v->key = k;
			v->removed = 0;
			/* a reload may change QVM_REMOTE_MAX_AGE */
			v->replay.window_s = request_window_s(d->cfg->max_age_s);
			v->legacy = name_list_has(&d->cfg->legacy, name);
		} else if (vm_add(d, name, &k) != NULL) {
			ev_simple(d, "INFO", name, NULL, "action", "polling");
		}
		key_wipe(&k);
	}
	return 0;
}

void
refresh_up(struct daemon *d)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next) {
		int up = transport_vm_up(&d->transport, v->name);
		if (up && !v->up)
			v->next_fetch_ms = v->next_deliver_ms = 0;
		v->up = up;
	}
}

int
vm_idle(const struct vm *v)
{
	return v->fetch == NULL && v->ending == NULL && v->deliver == NULL &&
	       v->queue == NULL && v->running == 0;
}

/* Frees VMs that were dropped by a reload and have nothing in flight. */
void
vms_prune(struct daemon *d)
{
	struct vm **pp = &d->vms;

	while (*pp != NULL) {
		struct vm *v = *pp;
		if (v->removed && vm_idle(v) && v->nready == 0) {
			*pp = v->next;
			ev_simple(d, "INFO", v->name, NULL, "action",
				  "no longer polled");
			replay_close(&v->replay);
			key_wipe(&v->key);
			free(v->ready);
			free(v);
			continue;
		}
		pp = &v->next;
	}
}
