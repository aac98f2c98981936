/*
 * logverify.c - the audit log's files checked from disk (logcheck.h).
 */
#include "logverify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auditfmt.h"
#include "err.h"
#include "fileio.h"
#include "banned.h"

int
logcheck_file(struct logcheck *c, const char *path)
{
	size_t have = 0, cap = 2 * AUDIT_LINE_MAX;
	struct stat st;
	char *buf;
	int fd, r, eof = 0;

	logcheck_begin_file(c, path);
	if ((fd = open_regular(path, &st)) < 0)
		return fd;
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return QR_ERR_NOMEM;
	}
	/* Stream the file through a window twice the longest line: every
	 * complete line is checked, a partial one waits for more bytes. */
	while (!eof || have > 0) {
		size_t off = 0;

		if (!eof && have < cap) {
			ssize_t k = read(fd, buf + have, cap - have);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = QR_ERR_SYSTEM;
				goto out;
			}
			if (k == 0)
				eof = 1;
			have += (size_t)k;
			if (!eof && have < cap)
				continue;
		}
		for (;;) {
			char *nl = memchr(buf + off, '\n', have - off);
			size_t n;

			if (nl == NULL) {
				/* a line longer than any we write, or a last
				 * line without its newline */
				if (have - off >= AUDIT_LINE_MAX ||
				    (eof && have > off)) {
					r = logcheck_torn(c, have - off >=
							  AUDIT_LINE_MAX);
					goto out;
				}
				break;
			}
			n = (size_t)(nl - (buf + off));
			if ((r = logcheck_line(c, buf + off, n)) != 0)
				goto out;
			off += n + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int
audit_verify(const char *path, unsigned long *lines, unsigned long *bad_line)
{
	struct logcheck *c = malloc(sizeof(*c));
	int r;

	*lines = 0;
	*bad_line = 0;
	if (c == NULL)
		return QR_ERR_NOMEM;
	logcheck_init(c);
	r = logcheck_file(c, path);
	if (r == 0)
		r = logcheck_finish(c);
	*lines = c->lines_file;
	if (r == QR_ERR_MISMATCH)
		*bad_line = c->bad_line;
	logcheck_release(c);
	free(c);
	return r;
}
