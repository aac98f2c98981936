/*
 * auditlog.c - the VM's own audit trail.
 */
#include "auditlog.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "logline.h"
#include "reader.h"

#include "banned.h"

int audit_append(const struct vm_layout *p, const struct buf *line)
{
	char show[PATH_MAX];
	int fd, r = 0;

	fd = open(p->audit, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, line->data, line->len) != 0) {
		msg("cannot write %s: %s; the request is not logged",
		    path_show(p, p->audit, show, sizeof(show)),
		    strerror(errno));
		r = QR_ERR_SYSTEM;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

int audit_id_line(const struct vm_layout *p, const char *category,
		  const char *cid)
{
	struct buf line = BUF_INIT(1024);
	int r;

	if ((r = logline_begin(&line, time(NULL), category)) == 0 &&
	    (r = logline_kvs(&line, "id", cid)) == 0 &&
	    (r = logline_end(&line)) == 0)
		r = audit_append(p, &line);
	buf_release(&line);
	return r;
}

const char *audit_result_category(enum result_status s)
{
	switch (s) {
	case RESULT_OK:
		return "DONE";
	case RESULT_TIMEOUT:
		return "TIMEOUT";
	case RESULT_REJECTED:
		return "REJECTED";
	case RESULT_INTERRUPTED:
		return "INTERRUPTED";
	case RESULT_ERROR:
	case RESULT_ASKING:     /* a note where a result should be */
	case RESULT_APPROVED:
	case RESULT_STARTED:
		break;
	}
	return "ERROR";
}

int audit_result_line(struct buf *out, time_t now, enum result_status s,
		      const char *cid, int exit_code, int have_ms,
		      uint64_t ms)
{
	int r;

	if ((r = logline_begin(out, now, audit_result_category(s))) != 0 ||
	    (r = logline_kvs(out, "id", cid)) != 0 ||
	    (r = logline_kvu(out, "exit", (uint64_t)exit_code)) != 0 ||
	    (have_ms && (r = logline_kvu(out, "ms", ms)) != 0) ||
	    (r = logline_end(out)) != 0)
		return r;
	return 0;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return QR_ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ", exactly. */
static int parse_iso(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se;

	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return QR_ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 0;
}

/* One " key=value" field starting at s[*i]; quoted values may hold spaces. */
static void next_field(const char *s, size_t n, size_t *i, const char **k,
		       size_t *kn, const char **v, size_t *vn)
{
	size_t j;

	while (*i < n && s[*i] == ' ')
		(*i)++;
	j = *i;
	while (j < n && s[j] != '=' && s[j] != ' ')
		j++;
	*k = s + *i;
	*kn = j - *i;
	*v = s + j;
	*vn = 0;
	if (j >= n || s[j] != '=') {
		*i = j;
		return;
	}
	j++;
	*v = s + j;
	if (j < n && s[j] == '"') {
		for (j++; j < n && s[j] != '"'; j++)
			if (s[j] == '\\' && j + 1 < n)
				j++;
		if (j < n)
			j++;
	} else {
		while (j < n && s[j] != ' ')
			j++;
	}
	*vn = (size_t)(s + j - *v);
	*i = j;
}

int audit_parse_line(const char *s, size_t n, struct audit_entry *e)
{
	const char *k, *v;
	size_t i, kn, vn, start;
	uint64_t u;

	memset(e, 0, sizeof(*e));
	if (n < 23 || s[0] != '[' || s[21] != ']' || s[22] != ' ' ||
	    parse_iso(s + 1, &e->when) != 0)
		return QR_ERR_INVALID;
	start = i = 23;
	while (i < n && s[i] != ' ')
		i++;
	if (i == start || i - start > AUDIT_CATEGORY_MAX)
		return QR_ERR_INVALID;
	memcpy(e->category, s + start, i - start);
	while (i < n) {
		next_field(s, n, &i, &k, &kn, &v, &vn);
		if (kn == 0 && vn == 0) {
			i++;
			continue;
		}
		if (kn == 2 && memcmp(k, "id", 2) == 0 && vn <= CID_MAX &&
		    cid_valid(v, vn)) {
			memcpy(e->id, v, vn);
			e->id[vn] = '\0';
		} else if (kn == 2 && memcmp(k, "ms", 2) == 0 &&
			   parse_u64((const uint8_t *)v, vn, UINT64_MAX,
				     &u) == 0) {
			e->ms = u;
			e->have_ms = 1;
		} else if (kn == 4 && memcmp(k, "exit", 4) == 0 &&
			   parse_u64((const uint8_t *)v, vn, 255, &u) == 0) {
			e->exit_code = (int)u;
			e->have_exit = 1;
		}
	}
	return 0;
}

int audit_tail_offset(int fd, size_t lines, off_t *off)
{
	char chunk[8192];
	struct stat st;
	off_t pos;
	size_t seen = 0;
	ssize_t n, j;

	if (fstat(fd, &st) != 0)
		return QR_ERR_SYSTEM;
	pos = st.st_size;
	/* A final newline ends the last line; it does not start one. */
	if (pos > 0) {
		if (pread(fd, chunk, 1, pos - 1) == 1 && chunk[0] == '\n')
			pos--;
	}
	*off = 0;
	while (pos > 0) {
		size_t want = pos > (off_t)sizeof(chunk) ? sizeof(chunk) :
			      (size_t)pos;

		n = pread(fd, chunk, want, pos - (off_t)want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)want)
			return QR_ERR_SYSTEM;
		for (j = n - 1; j >= 0; j--)
			if (chunk[j] == '\n' && ++seen == lines) {
				*off = pos - (off_t)want + j + 1;
				return 0;
			}
		pos -= (off_t)want;
	}
	return 0;
}
