/*
 * opts.c - the request options file (<cid>.opt).
 */
#include "opts.h"

#include <string.h>

#include "err.h"
#include "bounds.h"
#include "reader.h"

#include "banned.h"

int opts_parse(const uint8_t *untrusted, size_t n, struct req_opts *out,
	       const char **why)
{
	struct req_opts o = { 0 };
	const uint8_t *line, *eq, *nl;
	const char *dummy;
	int seen_timeout = 0;
	size_t i = 0, len, j;
	uint64_t v;

	if (why == NULL)
		why = &dummy;
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
		if ((size_t)(eq - line) == 7 && memcmp(line, "timeout", 7) == 0) {
			if (seen_timeout) {
				*why = "repeated option 'timeout'";
				return QR_ERR_INVALID;
			}
			seen_timeout = 1;
			if (parse_u64(eq + 1, len - 8, TIMEOUT_MAX, &v) != 0 ||
			    v == 0) {
				*why = "timeout must be a number from 1 to 86400";
				return QR_ERR_INVALID;
			}
			o.timeout = (unsigned)v;
		} else {
			*why = "unknown option";
			return QR_ERR_INVALID;
		}
		i += len + (nl != NULL);
	}
	*out = o;
	return 0;
}

int opts_format(struct buf *out, const struct req_opts *o)
{
	if (o->timeout == 0)
		return 0;
	if (o->timeout > TIMEOUT_MAX)
		return QR_ERR_INVALID;
	return buf_printf(out, "timeout=%u\n", o->timeout);
}
