/*
 * admin_log.c - log: the audit log on a terminal, its last lines and, with
 * -f, the lines written after them, filtered by VM and category, in the
 * viewer's colours when stdout is a terminal.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "logparse.h"
#include "reader.h"
#include "banned.h"

#define FOLLOW_POLL_NS (200 * 1000 * 1000)  /* a stat every 200 ms, as the viewer */
#define CATEGORIES_MAX 256

/* What `log` shows and how. */
struct log_view {
	const char *vm;                 /* --vm: only its lines; or NULL */
	char cats[CATEGORIES_MAX + 3];  /* --category: ",A,B,", or "" */
	int colour;                     /* stdout is a terminal that has them */
	struct log_entry *e;            /* for the filters */
};

int
admin_read_tail(const char *path, size_t max, struct buf *b, off_t *end)
{
	char *p = NULL;
	struct stat st;
	size_t want, got = 0, skip = 0;
	off_t off;
	int fd, r, e;

	buf_reset(b);
	if ((fd = open_regular(path, &st)) < 0)
		return fd;
	want = (uint64_t)st.st_size > max ? max : (size_t)st.st_size;
	off = st.st_size - (off_t)want;
	if ((p = malloc(want + 1)) == NULL) {
		r = QR_ERR_NOMEM;
		goto out;
	}
	while (got < want) {
		ssize_t k = pread(fd, p + got, want - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;       /* the file shrank: keep what we have */
		got += (size_t)k;
	}
	if (off > 0) {
		char *nl = memchr(p, '\n', got);
		skip = nl != NULL ? (size_t)(nl - p) + 1 : got;
	}
	r = buf_append(b, p + skip, got - skip);
	if (end != NULL)
		*end = off + (off_t)got;
out:
	e = errno;
	free(p);
	close(fd);
	errno = e;
	return r;
}

/* The viewer's colour of a category (webui/assets/app.css), as SGR. */
static const char *
category_colour(const char *cat, size_t n)
{
	static const struct { const char *cat, *sgr; } colours[] = {
		{ "INFO", "2" }, { "EXEC", "34" }, { "AUTH-OK", "32" },
		{ "AUTH-FAIL", "31" }, { "AUTH-DENY", "35" },
		{ "REJECT", "33" }, { "DONE", "32" }, { "DONE-FAIL", "1;31" },
		{ "ERROR", "1;31" }, { "TIMEOUT", "35" }, { "TRUNC", "33" },
		{ "DRY", "36" },
	};

	for (size_t i = 0; i < sizeof(colours) / sizeof(colours[0]); i++)
		if (strlen(colours[i].cat) == n &&
		    memcmp(colours[i].cat, cat, n) == 0)
			return colours[i].sgr;
	return NULL;
}

/*
 * Prints one log line for a terminal: without its chain value, seal and
 * seq, the category padded so fields line up (and coloured with colour),
 * and any byte that is not printable ASCII (the file may have been
 * edited) as \xHH.
 */
static void
print_log_line(const char *line, size_t n, int colour)
{
	size_t i, cat_start = LOGPARSE_TS_LEN + 3, cat_end = 0;
	const char *sgr = NULL;
	struct audit_line l;

	if (audit_parse(line, n, &l) == 0)
		n = l.sealed ? l.body_len : l.content_len;
	/* and the " seq=N" that ends a sealed body */
	if (l.sealed) {
		while (n > 0 && line[n - 1] >= '0' && line[n - 1] <= '9')
			n--;
		n -= sizeof(" seq=") - 1;
	}
	if (n > cat_start && line[0] == '[' &&
	    line[LOGPARSE_TS_LEN + 1] == ']') {
		for (cat_end = cat_start; cat_end < n && line[cat_end] != ' ';
		     cat_end++)
			;
		if (colour)
			sgr = category_colour(line + cat_start,
					      cat_end - cat_start);
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (sgr != NULL && i == cat_start)
			printf("\033[%sm", sgr);
		if (ch >= 0x20 && ch <= 0x7e)
			putchar(ch);
		else
			printf("\\x%02x", ch);
		if (i + 1 == cat_end) {
			size_t len = cat_end - cat_start;

			if (sgr != NULL)
				fputs("\033[0m", stdout);
			for (; len < 5; len++)
				putchar(' ');
		}
	}
	putchar('\n');
}

/* Whether the line passes --vm and --category; a line that does not parse
 * passes only when there are none. */
static int
wanted(const struct log_view *v, const char *line, size_t n)
{
	const struct log_field *f;
	char cat[LOGPARSE_CATEGORY_MAX + 3];

	if (v->vm == NULL && v->cats[0] == '\0')
		return 1;
	if (logparse_line(line, n, v->e) != 0)
		return 0;
	if (v->vm != NULL &&
	    ((f = logparse_get(v->e, "vm")) == NULL ||
	     strcmp(f->value, v->vm) != 0))
		return 0;
	snprintf(cat, sizeof(cat), ",%s,", v->e->category);
	return v->cats[0] == '\0' || strstr(v->cats, cat) != NULL;
}

/* Prints the whole lines of data[0..len) that pass; the bytes used. */
static size_t
show_lines(const struct log_view *v, const char *data, size_t len)
{
	size_t pos = 0;
	const char *nl;

	while (pos < len && (nl = memchr(data + pos, '\n', len - pos)) != NULL) {
		size_t n = (size_t)(nl - (data + pos));
		if (wanted(v, data + pos, n))
			print_log_line(data + pos, n, v->colour);
		pos += n + 1;
	}
	return pos;
}

/*
 * -f: from offset `from` of the file at path, each line as it is
 * completed, until a signal ends it.  A file replaced (rotation) is read
 * to its end, then the new one from its start; one that shrank
 * (truncation) from its start.  A truncation that the writer has already
 * filled past where this one was, between two looks 200 ms apart, is not
 * seen as one.
 */
static int
follow(const struct config *c, const struct log_view *v, off_t from)
{
	static char chunk[1 << 16];
	struct buf part = BUF_INIT(LOGPARSE_LINE_MAX + sizeof(chunk));
	struct timespec poll = { 0, FOLLOW_POLL_NS };
	struct stat st, now;
	off_t pos = from;
	int fd = open_regular(c->log_path, &st), next = 0;

	for (;;) {
		ssize_t k = fd >= 0 ? pread(fd, chunk, sizeof(chunk), pos) : 0;

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 && next) {   /* the old file read to its end */
			buf_reset(&part);
			if (fd >= 0)
				close(fd);
			fd = open_regular(c->log_path, &st);
			pos = 0;
			next = 0;
			continue;
		}
		if (k > 0) {
			size_t used;
			pos += k;
			if (buf_append(&part, chunk, (size_t)k) != 0)
				break;
			used = show_lines(v, part.data, part.len);
			buf_consume(&part, used);
			if (part.len > LOGPARSE_LINE_MAX) {     /* no line */
				(void)buf_append(&part, "\n", 1);
				buf_consume(&part, show_lines(v, part.data,
							      part.len));
			}
			continue;
		}
		if (fflush(stdout) != 0)
			break;          /* the reader went away */
		nanosleep(&poll, NULL);
		if (stat(c->log_path, &now) != 0)
			continue;       /* between a rename and the new file */
		/* replaced (rotation), or shorter (truncation, which reads
		 * nothing more there): the file at the path from its start */
		if (fd < 0 || now.st_dev != st.st_dev ||
		    now.st_ino != st.st_ino || now.st_size < pos)
			next = 1;
	}
	if (fd >= 0)
		close(fd);
	buf_release(&part);
	return ADMIN_FAIL;
}

/* Parses log's arguments into *want, *follow and v; ADMIN_OK or a code. */
static int
parse_args(int argc, char **argv, uint64_t *want, int *follow_it,
	   struct log_view *v)
{
	static const char synopsis[] =
		"log [-n N] [-f] [--vm VM] [--category CAT[,CAT...]]";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = NULL;

		if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
			*follow_it = 1;
			continue;
		}
		if (strncmp(a, "-n", 2) == 0 && a[2] != '\0') {
			arg = a + 2;
		} else if (i + 1 < argc && (strcmp(a, "-n") == 0 ||
			   strcmp(a, "--vm") == 0 ||
			   strcmp(a, "--category") == 0)) {
			arg = argv[++i];
		} else {
			return admin_usage(synopsis);
		}
		if (a[1] == 'n' && parse_u64((const uint8_t *)arg, strlen(arg),
					     ADMIN_LOG_LINES_MAX, want) != 0) {
			complain("'%s' is not a number of lines (0 to %u)",
				 arg, ADMIN_LOG_LINES_MAX);
			return ADMIN_USAGE;
		}
		if (strcmp(a, "--vm") == 0)
			v->vm = arg;
		if (strcmp(a, "--category") == 0 &&
		    (strlen(arg) > CATEGORIES_MAX || strchr(arg, ' ') ||
		     snprintf(v->cats, sizeof(v->cats), ",%s,", arg) < 0)) {
			complain("'%s' is not a list of categories "
				 "(DONE,DONE-FAIL ...)", arg);
			return ADMIN_USAGE;
		}
	}
	return ADMIN_OK;
}

/* Colours for a terminal that has them, unless NO_COLOR says otherwise. */
static int
colour_wanted(void)
{
	const char *term = getenv("TERM"), *no = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && term != NULL &&
	       strcmp(term, "dumb") != 0 && (no == NULL || no[0] == '\0');
}

int
admin_log(const struct config *c, int argc, char **argv)
{
	struct buf tail = BUF_INIT(ADMIN_LOG_TAIL_MAX);
	struct log_view v = { .vm = NULL };
	uint64_t want = 20;
	size_t end, pos, total, skip, i;
	int follow_it = 0, r, e;
	off_t size = 0;

	if ((r = parse_args(argc, argv, &want, &follow_it, &v)) != ADMIN_OK)
		return r;
	v.colour = colour_wanted();
	if ((v.vm != NULL || v.cats[0] != '\0') &&
	    (v.e = malloc(sizeof(*v.e))) == NULL) {
		complain("out of memory");
		return ADMIN_FAIL;
	}
	r = admin_read_tail(c->log_path, ADMIN_LOG_TAIL_MAX, &tail, &size);
	e = errno;
	if (r == QR_ERR_NOT_FOUND && !follow_it) {
		complain("the audit log %s does not exist yet; the service "
			 "creates it when it first runs", c->log_path);
		r = ADMIN_FAIL;
		goto out;
	}
	if (r != 0 && r != QR_ERR_NOT_FOUND) {
		complain("cannot read the audit log %s: %s", c->log_path,
			 admin_why(r, e));
		r = ADMIN_FAIL;
		goto out;
	}
	/* the last `want` lines that pass the filters; following, a last
	 * line still being written is left for follow to print whole */
	end = tail.len;
	if (follow_it) {
		while (end > 0 && tail.data[end - 1] != '\n')
			end--;
		size -= (off_t)(tail.len - end);
	}
	if (end > 0 && tail.data[end - 1] == '\n')
		end--;
	total = 0;
	for (pos = 0; pos < end;) {
		const char *nl = memchr(tail.data + pos, '\n', end - pos);
		size_t n = nl != NULL ? (size_t)(nl - (tail.data + pos))
				      : end - pos;
		total += wanted(&v, tail.data + pos, n);
		pos += n + 1;
	}
	skip = total > want ? total - (size_t)want : 0;
	for (pos = 0, i = 0; pos < end;) {
		const char *nl = memchr(tail.data + pos, '\n', end - pos);
		size_t n = nl != NULL ? (size_t)(nl - (tail.data + pos))
				      : end - pos;
		if (wanted(&v, tail.data + pos, n) && i++ >= skip)
			print_log_line(tail.data + pos, n, v.colour);
		pos += n + 1;
	}
	fflush(stdout);
	r = follow_it ? follow(c, &v, size) : ADMIN_OK;
out:
	free(v.e);
	buf_release(&tail);
	return r;
}
