/*
 * summary.c - last-hour counts and latency points from audit lines.
 */
#include "summary.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "banned.h"

static_assert(SUMMARY_POINTS_MAX <= SUMMARY_EVENTS_MAX,
	      "points come from the ring");

void
summary_init(struct summary *s)
{
	s->head = 0;
	s->n = 0;
	s->horizon = 0;
}

static int
kind_of(const char *category)
{
	static const struct {
		const char *cat;
		enum summary_kind kind;
	} map[] = {
		{ "EXEC", SUM_COMMAND },
		{ "DONE", SUM_DONE },
		{ "DONE-FAIL", SUM_FAILURE },
		{ "INTERRUPTED", SUM_FAILURE },     /* killed by a stop */
		{ "TIMEOUT", SUM_TIMEOUT },
		{ "REJECT", SUM_REJECT },
		{ "AUTH-FAIL", SUM_REJECT },
		{ "AUTH-DENY", SUM_REJECT },
		{ "ERROR", SUM_ERROR },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(category, map[i].cat) == 0)
			return (int)map[i].kind;
	return 0;
}

static int
field_is(const struct log_entry *e, const char *key, const char *value)
{
	const struct log_field *f = logparse_get(e, key);
	size_t n = strlen(value);

	return f != NULL && f->value_len == n && memcmp(f->value, value, n) == 0;
}

/* A POLICY line is a request refused when the policy denies it, a person
 * denies it or nobody answers in time (nothing ran), unless it answered a
 * check (check=1: a question).  An ask only waits, and an approval, a
 * withdrawal are no refusal of dom0's. */
static int
policy_refused(const struct log_entry *e)
{
	return strcmp(e->category, "POLICY") == 0 &&
	       (field_is(e, "action", "deny") ||
		field_is(e, "action", "denied") ||
		field_is(e, "action", "expired")) &&
	       !field_is(e, "check", "1");
}

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case SUM_DONE: return "DONE";
	case SUM_FAILURE: return "DONE-FAIL";
	case SUM_TIMEOUT: return "TIMEOUT";
	default: return "";
	}
}

/* ms= as the daemon writes it: decimal, at most 10 digits, fits 32 bits. */
static uint32_t
ms_of(const struct log_entry *e)
{
	const struct log_field *f = logparse_get(e, "ms");
	uint64_t v = 0;
	size_t i;

	if (f == NULL || f->value_len == 0 || f->value_len > 10)
		return UINT32_MAX;
	for (i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			return UINT32_MAX;
		v = v * 10 + (uint64_t)(f->value[i] - '0');
	}
	return v >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)v;
}

void
summary_add(struct summary *s, const struct log_entry *e)
{
	const struct log_field *vm;
	struct summary_event *ev;
	int kind = policy_refused(e) ? SUM_REJECT : kind_of(e->category);

	if (kind == 0)
		return;
	if (s->n == SUMMARY_EVENTS_MAX) {
		/* the oldest goes; what it counted may now be missing */
		if (s->ev[s->head].when > s->horizon)
			s->horizon = s->ev[s->head].when;
		s->head = (s->head + 1) % SUMMARY_EVENTS_MAX;
		s->n--;
	}
	ev = &s->ev[(s->head + s->n) % SUMMARY_EVENTS_MAX];
	s->n++;
	ev->when = e->when;
	ev->kind = (uint8_t)kind;
	ev->ms = ms_of(e);
	ev->vm[0] = '\0';
	vm = logparse_get(e, "vm");
	/* a name with a NUL or too long is not one the daemon wrote */
	if (vm != NULL && vm->value_len <= SUMMARY_VM_MAX &&
	    memchr(vm->value, '\0', vm->value_len) == NULL) {
		memcpy(ev->vm, vm->value, vm->value_len);
		ev->vm[vm->value_len] = '\0';
	}
}

void
summary_set_horizon(struct summary *s, time_t t)
{
	if (t > s->horizon)
		s->horizon = t;
}

struct vm_count {
	char vm[SUMMARY_VM_MAX + 1];
	unsigned commands, failures, rejects, timeouts;
};

struct counts {
	struct vm_count vm[SUMMARY_VMS_MAX + 1];    /* the last is "other" */
	size_t nvm;
	int other;
	unsigned commands, failures, rejects, timeouts, errors, done;
};

static struct vm_count *
vm_slot(struct counts *c, const char *vm)
{
	size_t i;

	for (i = 0; i < c->nvm; i++)
		if (strcmp(c->vm[i].vm, vm) == 0)
			return &c->vm[i];
	if (c->nvm < SUMMARY_VMS_MAX) {
		memcpy(c->vm[c->nvm].vm, vm, strlen(vm) + 1);
		return &c->vm[c->nvm++];
	}
	c->other = 1;
	return &c->vm[SUMMARY_VMS_MAX];
}

static int
by_commands(const void *a, const void *b)
{
	const struct vm_count *x = a, *y = b;

	if (x->commands != y->commands)
		return x->commands > y->commands ? -1 : 1;
	return strcmp(x->vm, y->vm);
}

static int
vm_json(struct buf *out, const struct vm_count *v, int other)
{
	int r;

	if ((r = buf_append_str(out, "{\"vm\":")) != 0 ||
	    (r = json_cstr(out, v->vm)) != 0 ||
	    (r = buf_printf(out, ",\"commands\":%u,\"failures\":%u,"
			    "\"rejects\":%u,\"timeouts\":%u%s}", v->commands,
			    v->failures, v->rejects, v->timeouts,
			    other ? ",\"other\":true" : "")) != 0)
		return r;
	return 0;
}

int
summary_json(const struct summary *s, time_t now, struct buf *out)
{
	struct counts *c;
	time_t from = now - SUMMARY_WINDOW_S;
	size_t i, points = 0, skip, orig = out->len;
	int r;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return QR_ERR_NOMEM;
	for (i = 0; i < s->n; i++) {
		const struct summary_event *e =
			&s->ev[(s->head + i) % SUMMARY_EVENTS_MAX];
		struct vm_count *v;

		if (e->when <= from)
			continue;
		if (e->ms != UINT32_MAX && (e->kind == SUM_DONE ||
		    e->kind == SUM_FAILURE || e->kind == SUM_TIMEOUT))
			points++;
		if (e->kind == SUM_ERROR) {
			c->errors++;
			continue;
		}
		if (e->kind == SUM_DONE) {
			c->done++;
			continue;
		}
		v = vm_slot(c, e->vm);
		switch (e->kind) {
		case SUM_COMMAND: v->commands++; c->commands++; break;
		case SUM_FAILURE: v->failures++; c->failures++; break;
		case SUM_TIMEOUT: v->timeouts++; c->timeouts++; break;
		case SUM_REJECT: v->rejects++; c->rejects++; break;
		default: break;
		}
	}
	qsort(c->vm, c->nvm, sizeof(c->vm[0]), by_commands);
	if ((r = buf_printf(out, "{\"now\":%lld,\"window\":%d,\"horizon\":%lld,"
			    "\"totals\":{\"commands\":%u,\"failures\":%u,"
			    "\"rejects\":%u,\"timeouts\":%u,\"errors\":%u,"
			    "\"done\":%u},\"vms\":[", (long long)now,
			    SUMMARY_WINDOW_S, (long long)s->horizon,
			    c->commands, c->failures, c->rejects, c->timeouts,
			    c->errors, c->done)) != 0)
		goto out;
	for (i = 0; i < c->nvm; i++)
		if ((i > 0 && (r = buf_append_str(out, ",")) != 0) ||
		    (r = vm_json(out, &c->vm[i], 0)) != 0)
			goto out;
	if (c->other && ((c->nvm > 0 && (r = buf_append_str(out, ",")) != 0) ||
			 (r = vm_json(out, &c->vm[SUMMARY_VMS_MAX], 1)) != 0))
		goto out;
	if ((r = buf_append_str(out, "],\"latency\":[")) != 0)
		goto out;
	/* the newest SUMMARY_POINTS_MAX points, oldest first */
	skip = points > SUMMARY_POINTS_MAX ? points - SUMMARY_POINTS_MAX : 0;
	points = 0;
	for (i = 0; i < s->n; i++) {
		const struct summary_event *e =
			&s->ev[(s->head + i) % SUMMARY_EVENTS_MAX];

		if (e->when <= from || e->ms == UINT32_MAX ||
		    (e->kind != SUM_DONE && e->kind != SUM_FAILURE &&
		     e->kind != SUM_TIMEOUT))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		if ((r = buf_printf(out, "%s[%lld,%u,\"%s\"]",
				    points++ > 0 ? "," : "",
				    (long long)(e->when > now ? now : e->when),
				    e->ms, kind_name(e->kind))) != 0)
			goto out;
	}
	r = buf_append_str(out, "]}");
out:
	if (r != 0) {
		buf_truncate(out, orig);
	}
	free(c);
	return r;
}
