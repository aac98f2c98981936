/*
 * askfile.c - the asks/ID and answers/ID lines (askfile.h).
 */
#include "askfile.h"

#include <string.h>

#include "err.h"
#include "logline.h"
#include "logfields.h"
#include "logparse.h"

#include "banned.h"

/* 9999-12-31T23:59:59Z, the last second logparse_time reads */
#define ASK_EXPIRES_MAX 253402300799ull
#define SHA256_HEX_LEN 64u

static_assert(ASK_CMD_MAX * 4 + ASK_RULE_MAX * 4 + 1024 < LOGPARSE_LINE_MAX,
	      "an ASK line of maximal fields fits a log line");

bool ask_id_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < ASK_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[ASK_ID_LEN] == '\0';
}

static bool sha256_hex_valid(const char *s, size_t n)
{
	size_t i;

	if (n != SHA256_HEX_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A rule is dom0's own text ("DIR/FILE:LINE"), but it is shown on a
 * terminal: printable ASCII only, and not empty. */
static bool rule_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ASK_RULE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static const char *form_name(enum body_form f)
{
	switch (f) {
	case BODY_ARGV:
		return "argv";
	case BODY_SCRIPT:
		return "script";
	}
	return NULL;
}

static const char *via_name(enum ask_via v)
{
	switch (v) {
	case ASK_VIA_TERMINAL:
		return "terminal";
	case ASK_VIA_DESKTOP:
		return "desktop";
	}
	return NULL;
}

static bool record_valid(const struct ask_record *a)
{
	return ask_id_valid(a->id) && vmname_valid(a->vm) &&
	       cid_valid(a->cid, strnlen(a->cid, sizeof(a->cid))) &&
	       policy_user_valid(a->user) && form_name(a->form) != NULL &&
	       rule_valid(a->rule, strnlen(a->rule, sizeof(a->rule))) &&
	       a->timeout_s >= 1 && a->timeout_s <= TIMEOUT_MAX &&
	       a->expires >= 0 && (uint64_t)a->expires <= ASK_EXPIRES_MAX &&
	       a->bytes >= 1 && a->bytes <= BODY_MAX &&
	       sha256_hex_valid(a->sha256, strnlen(a->sha256,
						   sizeof(a->sha256))) &&
	       a->cmd_len <= ASK_CMD_MAX && a->cmd[a->cmd_len] == '\0' &&
	       memchr(a->cmd, '\0', a->cmd_len) == NULL;
}

static bool answer_valid(const struct ask_answer *a)
{
	return ask_id_valid(a->id) &&
	       cid_valid(a->cid, strnlen(a->cid, sizeof(a->cid))) &&
	       policy_user_valid(a->by) && via_name(a->via) != NULL;
}

int askfile_format(struct buf *out, time_t now, const struct ask_record *a)
{
	size_t orig = out->len;
	int r;

	if (!record_valid(a))
		return QR_ERR_INVALID;
	if ((r = logline_begin(out, now, "ASK")) != 0 ||
	    (r = logline_kvs(out, "id", a->id)) != 0 ||
	    (r = logline_kvs(out, "vm", a->vm)) != 0 ||
	    (r = logline_kvs(out, "cid", a->cid)) != 0 ||
	    (r = logline_kvs(out, "user", a->user)) != 0 ||
	    (r = logline_kvs(out, "form", form_name(a->form))) != 0 ||
	    (r = logline_kvs(out, "rule", a->rule)) != 0 ||
	    (r = logline_kvu(out, "timeout", a->timeout_s)) != 0 ||
	    (r = logline_kvu(out, "expires", (uint64_t)a->expires)) != 0 ||
	    (r = logline_kvu(out, "bytes", a->bytes)) != 0 ||
	    (r = logline_kvs(out, "sha256", a->sha256)) != 0 ||
	    (r = logline_kv(out, "cmd", a->cmd, a->cmd_len, a->cmd_len)) != 0)
		goto out;
	if (a->cut && (r = logline_kvu(out, "cut", 1)) != 0)
		goto out;
	r = logline_end(out);
out:
	if (r != 0)
		buf_truncate(out, orig);
	return r;
}

int askfile_answer_format(struct buf *out, time_t now,
			  const struct ask_answer *a)
{
	size_t orig = out->len;
	int r;

	if (!answer_valid(a))
		return QR_ERR_INVALID;
	if ((r = logline_begin(out, now, "ANSWER")) != 0 ||
	    (r = logline_kvs(out, "id", a->id)) != 0 ||
	    (r = logline_kvs(out, "cid", a->cid)) != 0 ||
	    (r = logline_kvs(out, "action",
			     a->approve ? "approve" : "deny")) != 0 ||
	    (r = logline_kvs(out, "by", a->by)) != 0 ||
	    (r = logline_kvs(out, "via", via_name(a->via))) != 0 ||
	    (r = logline_end(out)) != 0)
		buf_truncate(out, orig);
	return r;
}

enum ask_key {
	AK_ID, AK_VM, AK_CID, AK_USER, AK_FORM, AK_RULE, AK_TIMEOUT,
	AK_EXPIRES, AK_BYTES, AK_SHA256, AK_CMD, AK_CUT, AK_COUNT
};

/* the required ones first, cut (optional) last */
static const char *const ask_keys[AK_COUNT] = {
	"id", "vm", "cid", "user", "form", "rule", "timeout", "expires",
	"bytes", "sha256", "cmd", "cut",
};

static int ask_set(struct ask_record *a, int key, const struct log_field *f)
{
	uint64_t x;

	switch (key) {
	case AK_ID:
		return logfields_copy(a->id, sizeof(a->id), f) == 0 &&
		       ask_id_valid(a->id) ? 0 : QR_ERR_INVALID;
	case AK_VM:
		return logfields_copy(a->vm, sizeof(a->vm), f) == 0 &&
		       vmname_valid(a->vm) ? 0 : QR_ERR_INVALID;
	case AK_CID:
		return logfields_copy(a->cid, sizeof(a->cid), f) == 0 &&
		       cid_valid(a->cid, f->value_len) ? 0 : QR_ERR_INVALID;
	case AK_USER:
		return logfields_copy(a->user, sizeof(a->user), f) == 0 &&
		       policy_user_valid(a->user) ? 0 : QR_ERR_INVALID;
	case AK_FORM:
		if (strcmp(f->value, "argv") == 0 && f->value_len == 4)
			a->form = BODY_ARGV;
		else if (strcmp(f->value, "script") == 0 && f->value_len == 6)
			a->form = BODY_SCRIPT;
		else
			return QR_ERR_INVALID;
		return 0;
	case AK_RULE:
		return rule_valid(f->value, f->value_len) ?
		       logfields_copy(a->rule, sizeof(a->rule), f) : QR_ERR_INVALID;
	case AK_TIMEOUT:
		if (logfields_u64(f, 1, TIMEOUT_MAX, &x) != 0)
			return QR_ERR_INVALID;
		a->timeout_s = (unsigned)x;
		return 0;
	case AK_EXPIRES:
		if (logfields_u64(f, 0, ASK_EXPIRES_MAX, &x) != 0)
			return QR_ERR_INVALID;
		a->expires = (time_t)x;
		return 0;
	case AK_BYTES:
		return logfields_u64(f, 1, BODY_MAX, &a->bytes);
	case AK_SHA256:
		return sha256_hex_valid(f->value, f->value_len) ?
		       logfields_copy(a->sha256, sizeof(a->sha256), f) :
		       QR_ERR_INVALID;
	case AK_CMD:
		if (logfields_copy(a->cmd, sizeof(a->cmd), f) != 0)
			return QR_ERR_INVALID;
		a->cmd_len = f->value_len;
		return 0;
	case AK_CUT:
		/* written only as cut=1 */
		if (logfields_u64(f, 1, 1, &x) != 0)
			return QR_ERR_INVALID;
		a->cut = true;
		return 0;
	}
	return QR_ERR_INVALID;
}

int askfile_parse(const char *text, size_t n, struct ask_record *out)
{
	struct log_entry e;
	struct ask_record a;
	unsigned seen;
	size_t i;

	if (logfields_parse(text, n, "ASK", ask_keys, AK_COUNT, AK_CUT, &e,
			    &seen) != 0)
		return QR_ERR_INVALID;
	memset(&a, 0, sizeof(a));
	for (i = 0; i < e.n; i++)
		if (ask_set(&a, logfields_index(ask_keys, AK_COUNT,
					    e.field[i].key), &e.field[i]) != 0)
			return QR_ERR_INVALID;
	*out = a;
	return 0;
}

enum answer_key { NK_ID, NK_CID, NK_ACTION, NK_BY, NK_VIA, NK_COUNT };

static const char *const answer_keys[NK_COUNT] = {
	"id", "cid", "action", "by", "via",
};

static int answer_set(struct ask_answer *a, int key, const struct log_field *f)
{
	switch (key) {
	case NK_ID:
		return logfields_copy(a->id, sizeof(a->id), f) == 0 &&
		       ask_id_valid(a->id) ? 0 : QR_ERR_INVALID;
	case NK_CID:
		return logfields_copy(a->cid, sizeof(a->cid), f) == 0 &&
		       cid_valid(a->cid, f->value_len) ? 0 : QR_ERR_INVALID;
	case NK_ACTION:
		if (f->value_len == 7 && strcmp(f->value, "approve") == 0)
			a->approve = true;
		else if (f->value_len == 4 && strcmp(f->value, "deny") == 0)
			a->approve = false;
		else
			return QR_ERR_INVALID;
		return 0;
	case NK_BY:
		return logfields_copy(a->by, sizeof(a->by), f) == 0 &&
		       policy_user_valid(a->by) ? 0 : QR_ERR_INVALID;
	case NK_VIA:
		if (f->value_len == 8 && strcmp(f->value, "terminal") == 0)
			a->via = ASK_VIA_TERMINAL;
		else if (f->value_len == 7 && strcmp(f->value, "desktop") == 0)
			a->via = ASK_VIA_DESKTOP;
		else
			return QR_ERR_INVALID;
		return 0;
	}
	return QR_ERR_INVALID;
}

int askfile_answer_parse(const char *text, size_t n, struct ask_answer *out)
{
	struct log_entry e;
	struct ask_answer a;
	unsigned seen;
	size_t i;

	if (logfields_parse(text, n, "ANSWER", answer_keys, NK_COUNT, NK_COUNT,
			    &e, &seen) != 0)
		return QR_ERR_INVALID;
	memset(&a, 0, sizeof(a));
	for (i = 0; i < e.n; i++)
		if (answer_set(&a, logfields_index(answer_keys, NK_COUNT,
					       e.field[i].key),
			       &e.field[i]) != 0)
			return QR_ERR_INVALID;
	*out = a;
	return 0;
}
