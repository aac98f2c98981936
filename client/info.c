/*
 * info.c - status and log.
 */
#include "info.h"
#include "auditlog.h"
#include "exitcode.h"
#include "timefmt.h"
#include "msg.h"
#include "queuecmd.h"
#include "vmid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "key.h"
#include "keyfile.h"

#include "banned.h"

static int is_result_category(const char *c)
{
	static const char *const cats[] = { "DONE", "TIMEOUT", "REJECTED",
					    "INTERRUPTED", "ERROR" };
	size_t i;

	for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		if (strcmp(c, cats[i]) == 0)
			return 1;
	return 0;
}

/* The newest result line with a round trip in the tail of audit.log. */
static int last_answer(const struct vm_layout *p, struct audit_entry *e)
{
	struct buf b = BUF_INIT(STATUS_SCAN_MAX);
	char chunk[8192];
	struct stat st;
	off_t from;
	ssize_t n;
	size_t end, start;
	int fd, r = QR_ERR_NOT_FOUND;

	fd = open(p->audit, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return QR_ERR_NOT_FOUND;
	if (fstat(fd, &st) != 0)
		goto out;
	from = st.st_size > (off_t)STATUS_SCAN_MAX ?
	       st.st_size - (off_t)STATUS_SCAN_MAX : 0;
	if (lseek(fd, from, SEEK_SET) != from)
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) != 0)
			break;
	end = b.len;
	while (end > 0) {
		start = end;
		while (start > 0 && b.data[start - 1] != '\n')
			start--;
		if (audit_parse_line(b.data + start, end - start, e) == 0 &&
		    e->have_ms && is_result_category(e->category)) {
			r = 0;
			break;
		}
		end = start > 0 ? start - 1 : 0;
	}
out:
	close(fd);
	buf_release(&b);
	return r;
}

int status_run(const struct vm_layout *p)
{
	char vm[VMNAME_MAX + 1], show[PATH_MAX], fp[KEY_FINGERPRINT_MAX],
	     ago[32];
	struct queue_counts qc;
	struct audit_entry e;
	struct key k;
	time_t now = time(NULL);
	int r, key_ok;

	memset(&k, 0, sizeof(k));
	printf("%-9s %s\n", "vm", vm_name(vm) == 0 ? vm : "unknown");
	path_show(p, p->key, show, sizeof(show));
	r = key_read_file(p->key, &k);
	key_ok = r == 0 && key_fingerprint(&k, fp) == 0;
	if (key_ok)
		printf("%-9s configured, fingerprint %s\n", "key", fp);
	else if (r == QR_ERR_NOT_FOUND)
		printf("%-9s missing; create one with: qvm-remote key gen\n",
		       "key");
	else if (r == QR_ERR_PERMISSIONS)
		printf("%-9s readable by others; fix with: chmod 600 %s\n",
		       "key", show);
	else
		printf("%-9s unusable (%s); make a new one with: "
		       "qvm-remote key gen --force\n", "key", qr_strerror(r));
	key_wipe(&k);
	queue_count(p, &qc);
	printf("%-9s %zu pending, %zu running, %zu result%s not collected\n",
	       "queue", qc.pending, qc.running, qc.results,
	       qc.results == 1 ? "" : "s");
	if (last_answer(p, &e) == 0) {
		fmt_ago(ago, sizeof(ago),
			now > e.when ? (uint64_t)(now - e.when) : 0);
		printf("%-9s answered %s, round trip %llu ms\n", "dom0", ago,
		       (unsigned long long)e.ms);
	} else {
		printf("%-9s no answer recorded yet; check with: qvm-remote "
		       "ping\n", "dom0");
	}
	/* nothing can work without a key: as every verb that needs it */
	return fflush(stdout) == 0 && key_ok ? 0 : QX_LOCAL;
}

/* Copies fd from its offset to stdout; control bytes other than tab and
 * newline become '?', so a damaged line cannot drive the terminal. */
static int copy_clean(int fd)
{
	char chunk[8192];
	ssize_t n, i;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QR_ERR_SYSTEM;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)chunk[i];

			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				chunk[i] = '?';
		}
		if (write_all(STDOUT_FILENO, chunk, (size_t)n) != 0)
			return errno == EPIPE ? 0 : QR_ERR_SYSTEM;
	}
	return 0;
}

int log_run(const struct vm_layout *p, unsigned count)
{
	char show[PATH_MAX];
	off_t off;
	int fd, r;

	path_show(p, p->audit, show, sizeof(show));
	fd = open(p->audit, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		msg("no log yet: %s starts with the first command", show);
		return 0;
	}
	if (fd < 0) {
		msg("cannot read %s: %s", show, strerror(errno));
		return QX_LOCAL;
	}
	if ((r = audit_tail_offset(fd, count, &off)) != 0 ||
	    lseek(fd, off, SEEK_SET) != off || (r = copy_clean(fd)) != 0) {
		msg("cannot read %s: %s", show, strerror(errno));
		close(fd);
		return QX_LOCAL;
	}
	close(fd);
	return 0;
}
