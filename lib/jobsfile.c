/*
 * jobsfile.c - the jobs and stops/CID lines (jobsfile.h).
 */
#include "jobsfile.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "grow.h"
#include "logfields.h"
#include "logline.h"
#include "reader.h"
#include "vmname.h"

#include "banned.h"

#define MAGIC "qvmr-jobs 1 pid "
#define SINCE_MAX 253402300799ull   /* 9999-12-31T23:59:59Z */
#define PID_MAX_TEXT 2147483647ull

static_assert(JOBS_CMD_MAX * 4 + 1024 < LOGPARSE_LINE_MAX,
	      "a JOB line of maximal fields fits a log line");

static const char *const state_names[] = {
	[JOBS_RUNNING] = "running",
	[JOBS_STOPPING] = "stopping",
	[JOBS_QUEUED] = "queued",
	[JOBS_ASKING] = "asking",
};
#define NSTATES (sizeof(state_names) / sizeof(*state_names))

const char *
jobs_state_name(enum jobs_state s)
{
	return (size_t)s < NSTATES ? state_names[s] : NULL;
}

void
jobs_entry_cmd(struct jobs_entry *e, const void *p, size_t n, bool more)
{
	const char *s = p;
	const char *nl = e->form == BODY_SCRIPT ? memchr(s, '\n', n) : NULL;
	size_t len = nl != NULL ? (size_t)(nl - s) : n;

	/* a script's one line and its newline is all of it */
	e->cut = more || (nl != NULL && len + 1 < n);
	if (len > JOBS_CMD_MAX) {
		len = JOBS_CMD_MAX;
		e->cut = true;
	}
	for (size_t i = 0; i < len; i++)
		e->cmd[i] = s[i] != '\0' ? s[i] : ' ';
	e->cmd[len] = '\0';
	e->cmd_len = len;
}

static bool
entry_valid(const struct jobs_entry *e)
{
	return vmname_valid(e->vm) &&
	       cid_valid(e->cid, strnlen(e->cid, sizeof(e->cid))) &&
	       jobs_state_name(e->state) != NULL &&
	       policy_user_valid(e->user) &&
	       (e->form == BODY_ARGV || e->form == BODY_SCRIPT) &&
	       e->since >= 0 && (unsigned long long)e->since <= SINCE_MAX &&
	       e->cmd_len <= JOBS_CMD_MAX && e->cmd[e->cmd_len] == '\0' &&
	       memchr(e->cmd, '\0', e->cmd_len) == NULL &&
	       (e->ask[0] == '\0' || ask_id_valid(e->ask));
}

int
jobsfile_format_head(struct buf *out, long pid)
{
	return buf_printf(out, MAGIC "%ld\n", pid);
}

int
jobsfile_format_entry(struct buf *out, time_t now, const struct jobs_entry *e)
{
	size_t orig = out->len;
	int r;

	if (!entry_valid(e))
		return QR_ERR_INVALID;
	if ((r = logline_begin(out, now, "JOB")) != 0 ||
	    (r = logline_kvs(out, "vm", e->vm)) != 0 ||
	    (r = logline_kvs(out, "id", e->cid)) != 0 ||
	    (r = logline_kvs(out, "state", jobs_state_name(e->state))) != 0 ||
	    (r = logline_kvs(out, "user", e->user)) != 0 ||
	    (r = logline_kvu(out, "since", (uint64_t)e->since)) != 0 ||
	    (r = logline_kvs(out, "form", e->form == BODY_ARGV ? "argv"
							       : "script")) != 0 ||
	    (r = logline_kv(out, "cmd", e->cmd, e->cmd_len, e->cmd_len)) != 0)
		goto out;
	if (e->cut && (r = logline_kvu(out, "cut", 1)) != 0)
		goto out;
	if (e->ask[0] != '\0' && (r = logline_kvs(out, "ask", e->ask)) != 0)
		goto out;
	r = logline_end(out);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}

enum job_key {
	JK_VM, JK_ID, JK_STATE, JK_USER, JK_SINCE, JK_FORM, JK_CMD,
	JK_CUT, JK_ASK, JK_COUNT
};

/* the required ones first */
static const char *const job_keys[JK_COUNT] = {
	"vm", "id", "state", "user", "since", "form", "cmd", "cut", "ask",
};

static int
job_set(struct jobs_entry *e, int key, const struct log_field *f)
{
	uint64_t x;
	size_t s;

	switch (key) {
	case JK_VM:
		return logfields_copy(e->vm, sizeof(e->vm), f);
	case JK_ID:
		return logfields_copy(e->cid, sizeof(e->cid), f);
	case JK_STATE:
		for (s = 0; s < NSTATES; s++)
			if (strcmp(f->value, state_names[s]) == 0 &&
			    f->value_len == strlen(state_names[s])) {
				e->state = (enum jobs_state)s;
				return 0;
			}
		return QR_ERR_INVALID;
	case JK_USER:
		return logfields_copy(e->user, sizeof(e->user), f);
	case JK_SINCE:
		if (parse_u64((const uint8_t *)f->value, f->value_len, SINCE_MAX,
			      &x) != 0)
			return QR_ERR_INVALID;
		e->since = (time_t)x;
		return 0;
	case JK_FORM:
		if (f->value_len == 4 && strcmp(f->value, "argv") == 0)
			e->form = BODY_ARGV;
		else if (f->value_len == 6 && strcmp(f->value, "script") == 0)
			e->form = BODY_SCRIPT;
		else
			return QR_ERR_INVALID;
		return 0;
	case JK_CMD:
		if (f->value_len > JOBS_CMD_MAX)
			return QR_ERR_INVALID;
		e->cmd_len = f->value_len;
		return logfields_copy(e->cmd, sizeof(e->cmd), f);
	case JK_CUT:
		if (parse_u64((const uint8_t *)f->value, f->value_len, 1, &x) != 0 ||
		    x != 1)
			return QR_ERR_INVALID;
		e->cut = true;
		return 0;
	case JK_ASK:
		return logfields_copy(e->ask, sizeof(e->ask), f);
	}
	return QR_ERR_INVALID;
}

static int
parse_entry(const uint8_t *line, size_t n, struct log_entry *le,
	    struct jobs_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (logfields_parse((const char *)line, n, "JOB", job_keys, JK_COUNT,
			    JK_CUT, le, NULL) != 0)
		return QR_ERR_INVALID;
	for (size_t i = 0; i < le->n; i++)
		if (job_set(e, logfields_index(job_keys, JK_COUNT, le->field[i].key),
			    &le->field[i]) != 0)
			return QR_ERR_INVALID;
	/* the ask's ID goes with asking, and only with it */
	if (!entry_valid(e) || (e->state == JOBS_ASKING) != (e->ask[0] != '\0'))
		return QR_ERR_INVALID;
	return 0;
}

int
jobsfile_parse(const char *text, size_t n, struct jobs_list *out)
{
	struct log_entry *le;
	struct reader rd;
	const uint8_t *line;
	size_t len;
	uint64_t pid;
	int r;

	memset(out, 0, sizeof(*out));
	reader_init(&rd, text, n);
	if (reader_get_line(&rd, 64, &line, &len) != 0 ||
	    len <= strlen(MAGIC) || memcmp(line, MAGIC, strlen(MAGIC)) != 0 ||
	    parse_u64(line + strlen(MAGIC), len - strlen(MAGIC), PID_MAX_TEXT,
		      &pid) != 0 || pid == 0)
		return QR_ERR_INVALID;
	out->pid = (long)pid;
	if ((le = malloc(sizeof(*le))) == NULL)
		return QR_ERR_NOMEM;
	for (r = 0; r == 0 && reader_remaining(&rd) > 0;) {
		struct jobs_entry *v;

		if (reader_get_line(&rd, LOGPARSE_LINE_MAX, &line, &len) != 0) {
			r = QR_ERR_INVALID;
			break;
		}
		if (out->n == JOBS_MAX) {
			r = QR_ERR_TOO_LARGE;
			break;
		}
		if ((v = grow_array(out->v, &out->cap, out->n, sizeof(*v),
				    16)) == NULL) {
			r = QR_ERR_NOMEM;
			break;
		}
		out->v = v;
		if ((r = parse_entry(line, len, le, &out->v[out->n])) == 0)
			out->n++;
	}
	free(le);
	return r;
}

void
jobs_list_release(struct jobs_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- stops -------------------------------------------------------------- */

enum stop_key { SK_VM, SK_ID, SK_BY, SK_COUNT };
static const char *const stop_keys[SK_COUNT] = { "vm", "id", "by" };

static bool
stop_valid(const struct jobs_stop *s)
{
	return vmname_valid(s->vm) &&
	       cid_valid(s->cid, strnlen(s->cid, sizeof(s->cid))) &&
	       policy_user_valid(s->by);
}

int
jobsfile_format_stop(struct buf *out, time_t now, const struct jobs_stop *s)
{
	size_t orig = out->len;
	int r;

	if (!stop_valid(s))
		return QR_ERR_INVALID;
	if ((r = logline_begin(out, now, "STOP")) != 0 ||
	    (r = logline_kvs(out, "vm", s->vm)) != 0 ||
	    (r = logline_kvs(out, "id", s->cid)) != 0 ||
	    (r = logline_kvs(out, "by", s->by)) != 0 ||
	    (r = logline_end(out)) != 0)
		buf_truncate(out, orig);
	return r;
}

int
jobsfile_parse_stop(const char *text, size_t n, struct jobs_stop *out)
{
	struct log_entry *le = malloc(sizeof(*le));
	struct jobs_stop s;
	int r = QR_ERR_INVALID;

	if (le == NULL)
		return QR_ERR_NOMEM;
	memset(&s, 0, sizeof(s));
	if (logfields_parse(text, n, "STOP", stop_keys, SK_COUNT, SK_COUNT,
			    le, NULL) != 0)
		goto out;
	for (size_t i = 0; i < le->n; i++) {
		const struct log_field *f = &le->field[i];
		int k = logfields_index(stop_keys, SK_COUNT, f->key);
		char *dst = k == SK_VM ? s.vm : k == SK_ID ? s.cid : s.by;
		size_t size = k == SK_VM ? sizeof(s.vm) : k == SK_ID
			      ? sizeof(s.cid) : sizeof(s.by);

		if (logfields_copy(dst, size, f) != 0)
			goto out;
	}
	if (stop_valid(&s)) {
		*out = s;
		r = 0;
	}
out:
	free(le);
	return r;
}

/* ---- IDs ---------------------------------------------------------------- */

const char *
jobs_random_part(const char *cid)
{
	const char *dash = strrchr(cid, '-');

	return dash != NULL ? dash + 1 : cid;
}

size_t
jobs_short_len(const struct jobs_list *l)
{
	size_t len = JOBS_ID_MIN;

	for (size_t i = 0; i < l->n; i++)
		for (size_t k = i + 1; k < l->n; k++) {
			const char *a = jobs_random_part(l->v[i].cid);
			const char *b = jobs_random_part(l->v[k].cid);
			size_t same = 0;

			if (strcmp(l->v[i].cid, l->v[k].cid) == 0)
				continue;
			while (a[same] != '\0' && a[same] == b[same])
				same++;
			if (same + 1 > len)
				len = same + 1;
		}
	return len;
}

static bool
hex_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int
jobs_match(const struct jobs_list *l, const char *id, size_t *idx)
{
	size_t found = 0, len = strlen(id);
	int whole = cid_valid(id, len);

	if (!whole && (!hex_digits(id) || len < JOBS_ID_MIN))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < l->n; i++) {
		const char *cid = l->v[i].cid;
		int hit = whole ? strcmp(cid, id) == 0
				: strncmp(jobs_random_part(cid), id, len) == 0;

		if (!hit)
			continue;
		if (found++ == 0)
			*idx = i;
	}
	return found == 0 ? QR_ERR_NOT_FOUND : found > 1 ? QR_ERR_EXISTS : 0;
}
