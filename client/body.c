/*
 * body.c - the command body, built and checked before anything is written.
 */
#include "body.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

#include "argvbody.h"
#include "err.h"
#include "bounds.h"

#include "banned.h"

int body_join(struct buf *out, int argc, char *const argv[])
{
	size_t total = 1, len, start = out->len;
	int i, r;

	for (i = 0; i < argc; i++) {
		len = strlen(argv[i]);
		if (__builtin_add_overflow(total, len + (i > 0), &total))
			return QR_ERR_TOO_LARGE;
	}
	if (total > out->max - out->len)
		return QR_ERR_TOO_LARGE;
	for (i = 0; i < argc; i++) {
		if ((i > 0 && (r = buf_append(out, " ", 1)) != 0) ||
		    (r = buf_append_str(out, argv[i])) != 0)
			goto fail;
	}
	if ((r = buf_append(out, "\n", 1)) != 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	return r;
}

void body_describe(const struct body_verdict *v, const char *source,
		   char *out, size_t n)
{
	switch (v->problem) {
	case BODY_OK:
		snprintf(out, n, "the command is fine");
		break;
	case BODY_EMPTY:
		snprintf(out, n, "the command%s is empty; give a command, "
			 "or pipe a script on stdin", source);
		break;
	case BODY_TOO_LARGE:
		snprintf(out, n, "the command%s is larger than %u bytes, the "
			 "limit; send data with -i FILE instead", source,
			 BODY_MAX);
		break;
	case BODY_NUL:
		snprintf(out, n, "the command%s has a NUL byte at offset %zu; "
			 "a command is text: send binary data with -i FILE",
			 source, v->offset);
		break;
	case BODY_CONTROL:
		snprintf(out, n, "the command%s has control byte 0x%02x at "
			 "offset %zu; only tab, newline and carriage return are "
			 "allowed", source, v->byte, v->offset);
		break;
	case BODY_ARGV_END:
		snprintf(out, n, "the argument vector%s does not end in a NUL "
			 "byte", source);
		break;
	case BODY_ARGV_PROGRAM:
		snprintf(out, n, "the program to run (the first word after "
			 "-x) is empty");
		break;
	case BODY_ARGV_COUNT:
		snprintf(out, n, "the command has more than %u arguments, the "
			 "limit of -x; send a script instead", ARGV_MAX);
		break;
	}
}

/*
 * For the terminal: printable ASCII and UTF-8 characters from U+00A0 up as
 * they are; tab as a space; any other byte (controls, C1 controls, broken
 * UTF-8) as \xHH, so a preview can never drive the terminal.
 */
static int preview_escape(struct buf *out, const uint8_t *p, size_t n,
			  size_t max)
{
	size_t i = 0, len;
	int r = 0;

	while (i < n && i < max && r == 0) {
		len = p[i] >= 0x80 ? utf8_char_len(p + i, n - i) : 1;
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			r = buf_append(out, p + i, 1);
		} else if (p[i] == '\t') {
			r = buf_append(out, " ", 1);
		} else if (len > 1 && !(len == 2 && p[i] == 0xc2 &&
					p[i + 1] < 0xa0)) {
			r = buf_append(out, p + i, len);
			i += len;
			continue;
		} else {
			r = buf_printf(out, "\\x%02x", p[i]);
		}
		i++;
	}
	if (r == 0 && i < n)
		r = buf_append_str(out, "...");
	return r;
}

int body_preview(struct buf *out, const uint8_t *p, size_t n, size_t max)
{
	size_t start = 0, end, i;
	int more = 0, r;

	while (start < n && (p[start] == '\n' || p[start] == '\r' ||
			     p[start] == ' ' || p[start] == '\t'))
		start++;
	end = start;
	while (end < n && p[end] != '\n')
		end++;
	/* Anything but blank space after the first line counts as "more". */
	for (i = end; i < n && !more; i++)
		more = p[i] != '\n' && p[i] != '\r' && p[i] != ' ' &&
		       p[i] != '\t';
	if (end > start && p[end - 1] == '\r')
		end--;
	if ((r = preview_escape(out, p + start, end - start, max)) != 0)
		return r;
	if (more && end - start <= max)
		return buf_append_str(out, " ...");
	return 0;
}
