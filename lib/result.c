/*
 * result.c - the .meta file of a result.
 */
#include "result.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "reader.h"

#include "banned.h"

static const char *const status_names[] = {
	[RESULT_OK] = "ok",
	[RESULT_TIMEOUT] = "timeout",
	[RESULT_REJECTED] = "rejected",
	[RESULT_INTERRUPTED] = "interrupted",
	[RESULT_ERROR] = "error",
	[RESULT_ASKING] = "asking",
	[RESULT_APPROVED] = "approved",
	[RESULT_STARTED] = "started",
};

#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

const char *result_status_name(enum result_status s)
{
	if ((unsigned)s >= STATUS_COUNT)
		return "unknown";
	return status_names[s];
}

int result_status_final(enum result_status s)
{
	return s != RESULT_ASKING && s != RESULT_APPROVED &&
	       s != RESULT_STARTED;
}

void result_cut_notice(char *out, size_t n, const char *stream,
		       uint64_t kept, uint64_t produced)
{
	snprintf(out, n, "dom0 kept only the first %llu bytes of %s "
		 "(QVM_REMOTE_MAX_OUTPUT); %llu were written",
		 (unsigned long long)kept, stream,
		 (unsigned long long)produced);
}

/* A reason reaches the client's terminal: printable ASCII only. */
static int reason_ok(const char *s, size_t n)
{
	size_t i;

	if (n > REASON_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int result_meta_format(struct buf *out, const struct result_meta *m)
{
	size_t orig = out->len, rlen, slen;
	int r;

	rlen = strnlen(m->reason, sizeof(m->reason));
	slen = strnlen(m->started, sizeof(m->started));
	if ((unsigned)m->status >= STATUS_COUNT || m->exit_code < 0 ||
	    m->exit_code > 255 || !reason_ok(m->reason, rlen) ||
	    !reason_ok(m->started, slen) ||
	    (m->out_truncated != 0 && m->out_truncated != 1) ||
	    (m->err_truncated != 0 && m->err_truncated != 1) ||
	    (m->cancelled != 0 && m->cancelled != 1))
		return QR_ERR_INVALID;
	if ((r = buf_printf(out, "status=%s\nexit=%d\n",
			    status_names[m->status], m->exit_code)) != 0)
		goto out;
	if (rlen > 0 && (r = buf_printf(out, "reason=%s\n", m->reason)) != 0)
		goto out;
	if (m->timeout_s > 0 &&
	    (r = buf_printf(out, "timeout_s=%u\n", m->timeout_s)) != 0)
		goto out;
	r = buf_printf(out,
		       "duration_ms=%llu\nout_bytes=%llu\nerr_bytes=%llu\n"
		       "out_truncated=%d\nerr_truncated=%d\n",
		       (unsigned long long)m->duration_ms,
		       (unsigned long long)m->out_bytes,
		       (unsigned long long)m->err_bytes,
		       m->out_truncated, m->err_truncated);
	/* only when set: a result without it reads as before everywhere */
	if (r == 0 && m->cancelled)
		r = buf_printf(out, "cancelled=1\n");
	if (r == 0 && m->queued_ms)
		r = buf_printf(out, "queued_ms=%llu\n",
			       (unsigned long long)m->queued_ms);
	if (r == 0 && slen > 0)
		r = buf_printf(out, "started=%s\n", m->started);
out:
	if (r != 0) {
		buf_truncate(out, orig);
	}
	return r;
}

enum meta_key {
	MK_STATUS, MK_EXIT, MK_REASON, MK_DURATION, MK_OUT_BYTES,
	MK_ERR_BYTES, MK_OUT_TRUNC, MK_ERR_TRUNC, MK_TIMEOUT, MK_CANCELLED,
	MK_QUEUED, MK_STARTED, MK_COUNT
};

static const char *const meta_keys[MK_COUNT] = {
	"status", "exit", "reason", "duration_ms", "out_bytes", "err_bytes",
	"out_truncated", "err_truncated", "timeout_s", "cancelled",
	"queued_ms", "started",
};

static int key_index(const char *k, size_t n)
{
	int i;

	for (i = 0; i < MK_COUNT; i++)
		if (strlen(meta_keys[i]) == n && memcmp(meta_keys[i], k, n) == 0)
			return i;
	return -1;
}

static int set_field(struct result_meta *m, int key, const char *v, size_t n)
{
	const uint8_t *u = (const uint8_t *)v;
	uint64_t x;
	size_t i;

	switch (key) {
	case MK_STATUS:
		for (i = 0; i < STATUS_COUNT; i++) {
			if (strlen(status_names[i]) == n &&
			    memcmp(status_names[i], v, n) == 0) {
				m->status = (enum result_status)i;
				return 0;
			}
		}
		return QR_ERR_INVALID;
	case MK_EXIT:
		if (parse_u64(u, n, 255, &x) != 0)
			return QR_ERR_INVALID;
		m->exit_code = (int)x;
		return 0;
	case MK_REASON:
	case MK_STARTED: {
		char *to = key == MK_REASON ? m->reason : m->started;
		if (!reason_ok(v, n))
			return QR_ERR_INVALID;
		memcpy(to, v, n);
		to[n] = '\0';
		return 0;
	}
	case MK_QUEUED:
		return parse_u64(u, n, UINT64_MAX, &m->queued_ms) == 0 ?
		       0 : QR_ERR_INVALID;
	case MK_DURATION:
		return parse_u64(u, n, UINT64_MAX, &m->duration_ms) == 0 ?
		       0 : QR_ERR_INVALID;
	case MK_OUT_BYTES:
		return parse_u64(u, n, UINT64_MAX, &m->out_bytes) == 0 ?
		       0 : QR_ERR_INVALID;
	case MK_ERR_BYTES:
		return parse_u64(u, n, UINT64_MAX, &m->err_bytes) == 0 ?
		       0 : QR_ERR_INVALID;
	case MK_TIMEOUT:
		if (parse_u64(u, n, TIMEOUT_MAX, &x) != 0)
			return QR_ERR_INVALID;
		m->timeout_s = (unsigned)x;
		return 0;
	case MK_OUT_TRUNC:
	case MK_ERR_TRUNC:
	case MK_CANCELLED:
		if (parse_u64(u, n, 1, &x) != 0)
			return QR_ERR_INVALID;
		if (key == MK_OUT_TRUNC)
			m->out_truncated = (int)x;
		else if (key == MK_ERR_TRUNC)
			m->err_truncated = (int)x;
		else
			m->cancelled = (int)x;
		return 0;
	}
	return QR_ERR_INVALID;
}

static int meta_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int result_meta_parse(const char *text, size_t n, struct result_meta *m)
{
	struct result_meta t;
	unsigned seen = 0;
	const char *line, *nl, *eq;
	size_t i = 0, len, klen, j;
	int k;

	if (text == NULL && n > 0)
		return QR_ERR_INVALID;
	memset(&t, 0, sizeof(t));
	while (i < n) {
		line = text + i;
		nl = memchr(line, '\n', n - i);
		len = nl != NULL ? (size_t)(nl - line) : n - i;
		i += len + (nl != NULL);
		if (memchr(line, '\0', len) != NULL)
			return QR_ERR_INVALID;
		eq = memchr(line, '=', len);
		if (eq == NULL || eq == line)
			return QR_ERR_INVALID;
		klen = (size_t)(eq - line);
		for (j = 0; j < klen; j++)
			if (!meta_key_char(line[j]))
				return QR_ERR_INVALID;
		/* unknown keys are skipped: dom0 may add some */
		if ((k = key_index(line, klen)) < 0)
			continue;
		if (seen & (1u << k))
			return QR_ERR_INVALID;
		seen |= 1u << k;
		if (set_field(&t, k, eq + 1, len - klen - 1) != 0)
			return QR_ERR_INVALID;
	}
	if (!(seen & (1u << MK_STATUS)) || !(seen & (1u << MK_EXIT)))
		return QR_ERR_INVALID;
	*m = t;
	return 0;
}
