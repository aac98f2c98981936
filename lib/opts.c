/*
 * opts.c - the request options file (<cid>.opt).
 */
#include "opts.h"

#include <string.h>

#include "err.h"
#include "bounds.h"
#include "cid.h"
#include "reader.h"

#include "banned.h"

enum opt_key { OK_TIMEOUT, OK_FORM, OK_USER, OK_CHECK, OK_CANCEL, OK_COUNT };

static const char *const key_names[OK_COUNT] = {
	[OK_TIMEOUT] = "timeout", [OK_FORM] = "form", [OK_USER] = "user",
	[OK_CHECK] = "check", [OK_CANCEL] = "cancel",
};

static const char *const repeated[OK_COUNT] = {
	[OK_TIMEOUT] = "repeated option 'timeout'",
	[OK_FORM] = "repeated option 'form'",
	[OK_USER] = "repeated option 'user'",
	[OK_CHECK] = "repeated option 'check'",
	[OK_CANCEL] = "repeated option 'cancel'",
};

/* Applies the value v[0..n) of key k to o; NULL, or why it is refused. */
static const char *set(struct req_opts *o, enum opt_key k, const uint8_t *v,
		       size_t n)
{
	uint64_t t;

	switch (k) {
	case OK_TIMEOUT:
		if (parse_u64(v, n, TIMEOUT_MAX, &t) != 0 || t == 0)
			return "timeout must be a number from 1 to 86400";
		o->timeout = (unsigned)t;
		return NULL;
	case OK_FORM:
		if (n != 4 || memcmp(v, "argv", 4) != 0)
			return "form must be argv (a script has no form= line)";
		o->form = BODY_ARGV;
		return NULL;
	case OK_USER:
		if (n > POLICY_USER_MAX)
			break;
		memcpy(o->user, v, n);
		o->user[n] = '\0';
		if (policy_user_valid(o->user))
			return NULL;
		break;
	case OK_CHECK:
		if (n != 1 || v[0] != '1')
			return "check must be 1 (a request that asks what dom0's "
			       "policy would do)";
		o->check = 1;
		return NULL;
	case OK_CANCEL:
		/* a ping id is the original client's, which never cancels */
		if (n > CID_MAX || !cid_valid((const char *)v, n) ||
		    cid_is_ping((const char *)v, n))
			return "cancel must name a request id of this VM";
		memcpy(o->cancel, v, n);
		o->cancel[n] = '\0';
		return NULL;
	case OK_COUNT:
		break;
	}
	return "user must be a dom0 user name ([a-z_][a-z0-9_-]*, at most "
	       "32 bytes)";
}

int opts_parse(const uint8_t *untrusted, size_t n, struct req_opts *out,
	       const char **why)
{
	struct req_opts o;
	const uint8_t *line, *eq, *nl;
	const char *dummy;
	int seen[OK_COUNT] = { 0 };
	size_t i = 0, len, j, klen;
	int k;

	if (why == NULL)
		why = &dummy;
	memset(&o, 0, sizeof(o));
	if (n > OPT_MAX) {
		*why = "options file is larger than 4096 bytes";
		return QR_ERR_TOO_LARGE;
	}
	if (untrusted == NULL && n > 0) {
		*why = "no options data";
		return QR_ERR_INVALID;
	}
	while (i < n) {
		line = untrusted + i;
		nl = memchr(line, '\n', n - i);
		len = nl != NULL ? (size_t)(nl - line) : n - i;
		if (len == 0) {
			*why = "empty line in options";
			return QR_ERR_INVALID;
		}
		for (j = 0; j < len; j++) {
			if (line[j] < 0x20 || line[j] > 0x7e) {
				*why = "byte outside printable ASCII in options";
				return QR_ERR_INVALID;
			}
		}
		eq = memchr(line, '=', len);
		if (eq == NULL) {
			*why = "option line without '='";
			return QR_ERR_INVALID;
		}
		klen = (size_t)(eq - line);
		for (k = 0; k < OK_COUNT; k++)
			if (strlen(key_names[k]) == klen &&
			    memcmp(line, key_names[k], klen) == 0)
				break;
		if (k == OK_COUNT) {
			*why = "unknown option";
			return QR_ERR_INVALID;
		}
		if (seen[k]++) {
			*why = repeated[k];
			return QR_ERR_INVALID;
		}
		if ((*why = set(&o, (enum opt_key)k, eq + 1,
				len - klen - 1)) != NULL)
			return QR_ERR_INVALID;
		i += len + (nl != NULL);
	}
	*out = o;
	return 0;
}

int opts_format(struct buf *out, const struct req_opts *o)
{
	size_t start = out->len;
	int r = 0;

	if (o->timeout > TIMEOUT_MAX ||
	    (o->form != BODY_SCRIPT && o->form != BODY_ARGV) ||
	    (o->user[0] != '\0' && !policy_user_valid(o->user)) ||
	    (o->cancel[0] != '\0' &&
	     (!cid_valid(o->cancel, strnlen(o->cancel, sizeof(o->cancel))) ||
	      cid_is_ping(o->cancel, strlen(o->cancel)))))
		return QR_ERR_INVALID;
	if (o->timeout != 0)
		r = buf_printf(out, "timeout=%u\n", o->timeout);
	if (r == 0 && o->form == BODY_ARGV)
		r = buf_append_str(out, "form=argv\n");
	if (r == 0 && o->user[0] != '\0')
		r = buf_printf(out, "user=%s\n", o->user);
	if (r == 0 && o->check)
		r = buf_append_str(out, "check=1\n");
	if (r == 0 && o->cancel[0] != '\0')
		r = buf_printf(out, "cancel=%s\n", o->cancel);
	if (r != 0)
		out->len = start;
	return r;
}
