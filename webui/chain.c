/*
 * chain.c - hash chain status for the viewer, on top of audit_verify().
 */
#include "chain.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "err.h"
#include "escape.h"
#include "banned.h"

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
chain_check(const char *path, struct chain_status *st)
{
	struct stat before, after;
	unsigned long lines = 0, bad = 0;
	int r, had_before;

	memset(st, 0, sizeof(*st));
	st->checked = time(NULL);
	had_before = stat(path, &before) == 0;
	r = audit_verify(path, &lines, &bad);
	st->lines = lines;
	switch (r) {
	case 0:
		st->state = lines == 0 ? CHAIN_EMPTY : CHAIN_OK;
		return 0;
	case QR_ERR_MISMATCH:
		st->state = CHAIN_BROKEN;
		st->bad = bad;
		/* a break at the end of a file that grew meanwhile is most
		 * likely a line half read; an edit is not undone by waiting */
		if (bad == lines && had_before &&
		    (stat(path, &after) != 0 || !same_stat(&before, &after)))
			return QR_ERR_INCOMPLETE;
		return 0;
	case QR_ERR_NOT_FOUND:
		st->state = CHAIN_MISSING;
		return 0;
	case QR_ERR_INVALID:
		st->state = CHAIN_ERROR;
		st->err = EINVAL;
		return 0;
	case QR_ERR_SYSTEM:
		st->state = CHAIN_ERROR;
		st->err = errno;
		return 0;
	default:
		st->state = CHAIN_ERROR;
		st->err = r == QR_ERR_NOMEM ? ENOMEM : EIO;
		return 0;
	}
}

int
chain_json(const struct chain_status *st, struct buf *out)
{
	static const char *const names[] = {
		[CHAIN_CHECKING] = "checking", [CHAIN_OK] = "ok",
		[CHAIN_BROKEN] = "broken", [CHAIN_EMPTY] = "empty",
		[CHAIN_MISSING] = "missing", [CHAIN_ERROR] = "error",
	};
	const char *err = "";
	size_t orig = out->len;
	int r;

	if ((unsigned)st->state >= sizeof(names) / sizeof(names[0]))
		return QR_ERR_INVALID;
	if (st->state == CHAIN_ERROR)
		err = st->err == EINVAL ? "not a regular file"
		      : strerror(st->err);
	if ((r = buf_printf(out, "{\"state\":\"%s\",\"lines\":%lu,\"bad\":%lu,"
			    "\"checked\":%lld,\"error\":", names[st->state],
			    st->lines, st->bad, (long long)st->checked)) != 0 ||
	    (r = json_cstr(out, err)) != 0 ||
	    (r = buf_append_str(out, "}")) != 0) {
		out->len = orig;
		if (out->data != NULL)
			out->data[orig] = '\0';
	}
	return r;
}
