/*
 * keystate.c - <runtime_dir>/keys: its writer, its parser and the admin
 * verbs' wait for it.
 */
#include "keystate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "reader.h"
#include "vmname.h"
#include "banned.h"

#define MAGIC "qvmr-keys 1"
#define FIELDS_MAX 6
#define WAIT_SLICE_MS 250           /* look again at least this often */
#define WAIT_SLICE_NO_INOTIFY_MS 100

static const char *const state_names[] = {
	[KEYSTATE_SERVED] = "served",
	[KEYSTATE_DROPPED] = "dropped",
	[KEYSTATE_NOT_POLLED] = "not-polled",
	[KEYSTATE_UNUSABLE] = "unusable",
};

const char *
keystate_vm_name(enum keystate_vm st)
{
	if ((size_t)st >= sizeof(state_names) / sizeof(*state_names))
		return "unknown";
	return state_names[st];
}

/* A fingerprint as the file can carry it: 1 to KEY_FINGERPRINT_MAX - 1
 * bytes of visible ASCII, and not the "-" that stands for none. */
static int
fp_valid(const char *p, size_t n)
{
	if (n == 0 || n >= KEY_FINGERPRINT_MAX || (n == 1 && p[0] == '-'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return 0;
	return 1;
}

const struct keystate_entry *
keystate_find(const struct keystate *s, const char *vm)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->vm[i].vm, vm) == 0)
			return &s->vm[i];
	return NULL;
}

int
keystate_add(struct keystate *s, const char *vm, const char *fp,
	     enum keystate_vm st, unsigned running)
{
	struct keystate_entry *e;
	size_t fplen = fp != NULL ? strlen(fp) : 0;

	if (!vmname_valid(vm) || (fplen > 0 && !fp_valid(fp, fplen)) ||
	    (size_t)st >= sizeof(state_names) / sizeof(*state_names) ||
	    running > KEYSTATE_RUNNING_MAX)
		return QR_ERR_INVALID;
	if (keystate_find(s, vm) != NULL)
		return QR_ERR_EXISTS;
	if (s->n >= KEYSTATE_VMS_MAX)
		return QR_ERR_TOO_LARGE;
	e = &s->vm[s->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->vm, vm, strlen(vm) + 1);
	if (fplen > 0)
		memcpy(e->fp, fp, fplen + 1);
	e->state = st;
	e->running = running;
	return 0;
}

int
keystate_format(const struct keystate *s, struct buf *out)
{
	int r;

	if ((r = buf_printf(out, MAGIC "\npid %ld\ngeneration %llu\n",
			    s->pid, (unsigned long long)s->generation)) != 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		const struct keystate_entry *e = &s->vm[i];

		if ((r = buf_printf(out, "vm %s %s %s %u\n", e->vm,
				    e->fp[0] != '\0' ? e->fp : "-",
				    keystate_vm_name(e->state),
				    e->running)) != 0)
			return r;
	}
	return buf_append_str(out, "end\n");
}

/* ------------------------------------------------------------- parsing */

struct field {
	const char *p;
	size_t n;
};

/* Splits a line at single spaces: QR_ERR_INVALID for an empty field
 * (two spaces, a leading or trailing one) or more than FIELDS_MAX. */
static int
split(const uint8_t *line, size_t n, struct field f[FIELDS_MAX],
      size_t *nf)
{
	size_t start = 0;

	*nf = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || *nf == FIELDS_MAX)
			return QR_ERR_INVALID;
		f[*nf].p = (const char *)line + start;
		f[*nf].n = i - start;
		(*nf)++;
		start = i + 1;
	}
	return 0;
}

static int
is(const struct field *f, const char *word)
{
	return f->n == strlen(word) && memcmp(f->p, word, f->n) == 0;
}

static int
get_u64(const struct field *f, uint64_t max, uint64_t *out)
{
	return parse_u64((const uint8_t *)f->p, f->n, max, out) == 0
	       ? 0 : QR_ERR_INVALID;
}

static int
parse_vm(const struct field f[FIELDS_MAX], size_t nf, struct keystate *out)
{
	char vm[VMNAME_MAX + 1], fp[KEY_FINGERPRINT_MAX];
	uint64_t running;
	size_t st;

	if (nf != 5 || f[1].n > VMNAME_MAX)
		return QR_ERR_INVALID;
	memcpy(vm, f[1].p, f[1].n);
	vm[f[1].n] = '\0';
	fp[0] = '\0';
	if (!is(&f[2], "-")) {
		if (!fp_valid(f[2].p, f[2].n))
			return QR_ERR_INVALID;
		memcpy(fp, f[2].p, f[2].n);
		fp[f[2].n] = '\0';
	}
	for (st = 0; st < sizeof(state_names) / sizeof(*state_names); st++)
		if (is(&f[3], state_names[st]))
			break;
	if (st == sizeof(state_names) / sizeof(*state_names) ||
	    get_u64(&f[4], KEYSTATE_RUNNING_MAX, &running) != 0)
		return QR_ERR_INVALID;
	return keystate_add(out, vm, fp, (enum keystate_vm)st,
			    (unsigned)running);
}

int
keystate_parse(const char *text, size_t n, struct keystate *out)
{
	struct reader rd;
	struct field f[FIELDS_MAX];
	const uint8_t *line;
	size_t len, nf;
	uint64_t v;
	int r;

	memset(out, 0, offsetof(struct keystate, vm));
	reader_init(&rd, text, n);
	if ((r = reader_get_line(&rd, KEYSTATE_LINE_MAX, &line, &len)) != 0)
		return r == QR_ERR_TOO_LARGE ? QR_ERR_INVALID : r;
	if (len != strlen(MAGIC) || memcmp(line, MAGIC, len) != 0)
		return QR_ERR_INVALID;
	/* pid and generation, in this order */
	for (int i = 0; i < 2; i++) {
		if ((r = reader_get_line(&rd, KEYSTATE_LINE_MAX, &line,
					 &len)) != 0)
			return r == QR_ERR_TOO_LARGE ? QR_ERR_INVALID : r;
		if ((r = split(line, len, f, &nf)) != 0 || nf != 2 ||
		    !is(&f[0], i == 0 ? "pid" : "generation") ||
		    get_u64(&f[1], i == 0 ? INT32_MAX : UINT64_MAX, &v) != 0)
			return QR_ERR_INVALID;
		if (i == 0)
			out->pid = (long)v;
		else
			out->generation = v;
	}
	for (;;) {
		if ((r = reader_get_line(&rd, KEYSTATE_LINE_MAX, &line,
					 &len)) != 0)
			return r == QR_ERR_TOO_LARGE ? QR_ERR_INVALID : r;
		if ((r = split(line, len, f, &nf)) != 0)
			return r;
		if (nf == 1 && is(&f[0], "end"))
			break;
		if (!is(&f[0], "vm"))
			return QR_ERR_INVALID;
		if ((r = parse_vm(f, nf, out)) != 0)
			return r;
	}
	return reader_expect_end(&rd);
}

/* ------------------------------------------------------------ the file */

int
keystate_write(const char *runtime_dir, const struct keystate *s)
{
	struct buf b = BUF_INIT(KEYSTATE_TEXT_MAX);
	int r;

	if ((r = keystate_format(s, &b)) == 0)
		r = write_file_atomic(runtime_dir, KEYSTATE_FILE, b.data, b.len,
				      0600, 0);
	buf_release(&b);
	return r;
}

int
keystate_read(const char *runtime_dir, struct keystate *out)
{
	struct buf b = BUF_INIT(KEYSTATE_TEXT_MAX);
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/" KEYSTATE_FILE, runtime_dir);
	int r;

	if (n < 0 || (size_t)n >= sizeof(path))
		return QR_ERR_TOO_LARGE;
	if ((r = read_file(path, &b)) == 0)
		r = keystate_parse(buf_str(&b), b.len, out);
	buf_release(&b);
	return r;
}

/* ------------------------------------------------------------- waiting */

/* Reads the file and asks done(); its answer. */
static int
look(const char *runtime_dir, struct keystate *s, keystate_done_fn done,
     void *arg)
{
	return done(keystate_read(runtime_dir, s) == 0 ? s : NULL, arg);
}

int
keystate_wait(const char *runtime_dir, int64_t deadline_ms, unsigned flags,
	      keystate_done_fn done, void *arg)
{
	struct keystate *s = malloc(sizeof(*s));
	int fd = -1, r;

	if (s == NULL)
		return QR_ERR_NOMEM;
	/* the watch first: a write between the first look and the watch
	 * would otherwise go unseen until the next slice */
	if (!(flags & KEYSTATE_WAIT_NO_INOTIFY) &&
	    (fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(fd, runtime_dir, IN_MOVED_TO | IN_CLOSE_WRITE |
			      IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		close(fd);
		fd = -1;
	}
	for (;;) {
		int64_t now, left, slice;
		struct pollfd p;

		if (look(runtime_dir, s, done, arg)) {
			r = 0;
			break;
		}
		now = mono_ms();
		if (now >= deadline_ms) {
			r = QR_ERR_INCOMPLETE;
			break;
		}
		left = deadline_ms - now;
		slice = fd >= 0 ? WAIT_SLICE_MS : WAIT_SLICE_NO_INOTIFY_MS;
		if (left < slice)
			slice = left;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (fd >= 0) {
			if (poll(&p, 1, (int)slice) > 0) {
				char ev[4096];
				while (read(fd, ev, sizeof(ev)) > 0)
					;
			}
		} else {
			(void)poll(NULL, 0, (int)slice);
		}
	}
	if (fd >= 0)
		close(fd);
	free(s);
	return r;
}
