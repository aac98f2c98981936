/*
 * output.c - show a result on the right streams and choose the exit code.
 */
#include "output.h"
#include "exitcode.h"
#include "fdio.h"
#include "msg.h"
#include "signals.h"
#include "vmid.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "logline.h"
#include "reader.h"
#include "timefmt.h"

#include "banned.h"

int exit_file_parse(const char *text, size_t n, int *code)
{
	uint64_t v;

	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (parse_u64((const uint8_t *)text, n, 255, &v) != 0)
		return QR_ERR_INVALID;
	*code = (int)v;
	return 0;
}

static void damaged(const struct vm_layout *p, const char *cid,
		    const char *what)
{
	char show[PATH_MAX];

	msg("the result of %s is damaged (%s); it stays in %s", cid, what,
	    path_show(p, p->results, show, sizeof(show)));
}

int result_load_at(const char *meta_path, const char *exit_path,
		   struct result_info *ri, const char **what)
{
	struct buf b = BUF_INIT(META_FILE_MAX);
	int r;

	memset(ri, 0, sizeof(*ri));
	ri->meta.status = RESULT_OK;
	*what = ".meta cannot be read";
	r = read_file(meta_path, &b);
	if (r == 0) {
		if ((r = result_meta_parse(buf_str(&b), b.len,
					   &ri->meta)) != 0) {
			*what = ".meta is not readable";
			goto out;
		}
		ri->have_meta = 1;
	} else if (r != QR_ERR_NOT_FOUND) {
		goto out;
	}
	buf_reset(&b);
	b.max = EXIT_FILE_MAX;
	*what = ".exit is not an exit code";
	if ((r = read_file(exit_path, &b)) != 0 ||
	    (r = exit_file_parse(buf_str(&b), b.len, &ri->exit_code)) != 0)
		goto out;
	*what = NULL;
out:
	buf_release(&b);
	return r;
}

int result_load(const struct vm_layout *p, const char *cid,
		struct result_info *ri)
{
	char meta[PATH_MAX], exitf[PATH_MAX];
	const char *what = NULL;
	int r;

	if ((r = path_cid(meta, sizeof(meta), p->results, cid, ".meta")) != 0 ||
	    (r = path_cid(exitf, sizeof(exitf), p->results, cid,
			  ".exit")) != 0)
		return r;
	if ((r = result_load_at(meta, exitf, ri, &what)) != 0)
		damaged(p, cid, what);
	return r;
}

int result_exit_code(const struct result_info *ri)
{
	switch (ri->meta.status) {
	case RESULT_OK:
		return ri->exit_code;
	case RESULT_TIMEOUT:
		return QX_TIMEOUT;
	case RESULT_REJECTED:
		return QX_REJECTED;
	case RESULT_INTERRUPTED:
		return QX_INTERRUPTED;
	case RESULT_ERROR:
	case RESULT_ASKING:     /* a note where a result should be */
	case RESULT_APPROVED:
	case RESULT_STARTED:
		break;
	}
	return QX_LOCAL;
}

int result_client_code(const struct result_info *ri)
{
	int code = result_exit_code(ri);

	if (code == 0 && ri->meta.status == RESULT_OK &&
	    (ri->meta.out_truncated || ri->meta.err_truncated))
		return QX_TRUNCATED;
	return code;
}

/* What to do in dom0 about a refusal of the key (reason_is_auth). */
static void auth_hint(const char *reason)
{
	char vm[VMNAME_MAX + 1];

	if (strstr(reason, "revoked") != NULL)
		msg("to authorize this VM again, in dom0: qvm-remote-dom0 "
		    "authorize --from-vm %s", vm_name_for_hint(vm));
	else if (strstr(reason, "replaced") != NULL)
		msg("dom0 holds a newer key of this VM's: run the command "
		    "again; if this VM's key is not that one, in dom0: "
		    "qvm-remote-dom0 authorize --from-vm %s",
		    vm_name_for_hint(vm));
	else
		msg("compare 'qvm-remote key fingerprint' here with "
		    "'qvm-remote-dom0 keys' in dom0; to authorize this VM's "
		    "key: qvm-remote-dom0 authorize --from-vm %s",
		    vm_name_for_hint(vm));
}

int reason_is_auth(const char *reason)
{
	static const char *const words[] = { "auth", "token", "key", "hmac" };
	char low[REASON_MAX + 1];
	size_t i;

	for (i = 0; reason[i] && i < REASON_MAX; i++)
		low[i] = (char)tolower((unsigned char)reason[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

unsigned timeout_shown(const struct result_meta *m, unsigned requested)
{
	uint64_t s = (m->duration_ms + 500) / 1000;

	if (m->timeout_s > 0)
		return m->timeout_s;
	if (requested && (s >= requested || m->duration_ms == 0))
		return requested;
	return (unsigned)(s > 0xffffffffu ? 0xffffffffu : s);
}

/* The reason to show: .meta's, else the first line of .err, escaped. */
static void reason_text(const struct vm_layout *p, const char *cid,
			const struct result_info *ri, struct buf *out)
{
	char path[PATH_MAX], line[REASON_MAX];
	ssize_t n = 0;
	size_t len;
	int fd;

	if (ri->meta.reason[0]) {
		(void)log_escape(out, ri->meta.reason,
				 strlen(ri->meta.reason), REASON_MAX);
		return;
	}
	if (path_cid(path, sizeof(path), p->results, cid, ".err") == 0 &&
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read(fd, line, sizeof(line));
		close(fd);
	}
	len = n > 0 ? (size_t)n : 0;
	if (memchr(line, '\n', len))
		len = (size_t)((char *)memchr(line, '\n', len) - line);
	if (len == 0)
		(void)buf_append_str(out, "no reason given");
	else
		(void)log_escape(out, line, len, REASON_MAX);
}

static int stop_requested(void)
{
	return signals_caught() != 0;
}

struct copy_state {
	int interrupted;     /* Ctrl-C during the copy */
	int failed;          /* a write failed, not EPIPE */
};

/* Copies results/<cid><sfx> to fd from byte skip on (a file shorter
 * than that shows nothing).  Absent = empty. */
static void copy_stream(const struct vm_layout *p, const char *cid,
			const char *sfx, int fd, uint64_t skip,
			const char *what, struct copy_state *cs)
{
	char path[PATH_MAX], show[PATH_MAX];
	uint64_t copied = 0;
	int in, wf, r;

	if (cs->interrupted ||
	    path_cid(path, sizeof(path), p->results, cid, sfx) != 0)
		return;
	in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		if (errno != ENOENT)
			msg("cannot read %s: %s",
			    path_show(p, path, show, sizeof(show)),
			    strerror(errno));
		return;
	}
	if (skip > 0 && lseek(in, (off_t)skip, SEEK_SET) < 0)
		r = QR_ERR_SYSTEM, wf = 0;
	else
		r = fd_copy(in, fd, stop_requested, &copied, &wf);
	if (r == QR_ERR_INCOMPLETE) {
		cs->interrupted = 1;
	} else if (r != 0 && wf && errno == EPIPE) {
		/* The reader went away (`| head`): not an error of ours. */
	} else if (r != 0) {
		msg("cannot %s the command's %s: %s; it is kept in "
		    "qvm-remote history", wf ? "write" : "read", what,
		    strerror(errno));
		cs->failed = 1;
	}
	close(in);
}

void start_notices(const char *started, uint64_t queued_ms)
{
	char waited[32];

	if (queued_ms > 0) {
		fmt_duration(waited, sizeof(waited), queued_ms);
		msg_verbose("dom0 started the command after %s waiting for a "
			    "free slot", waited);
	}
	if (started[0] != '\0')
		msg("%s", started);
}

void cut_notices(const char *const path[2], const struct result_meta *m,
		 const char *prefix)
{
	static const char *const name[2] = { "stdout", "stderr" };
	char text[256];
	struct stat st;
	uint64_t kept;

	for (int i = 0; i < 2; i++) {
		if (!(i == 0 ? m->out_truncated : m->err_truncated))
			continue;
		kept = 0;
		if (path[i] != NULL && lstat(path[i], &st) == 0 &&
		    S_ISREG(st.st_mode))
			kept = (uint64_t)st.st_size;
		result_cut_notice(text, sizeof(text), name[i], kept,
				  i == 0 ? m->out_bytes : m->err_bytes);
		msg("%s%s", prefix, text);
	}
}

/* After the output, whatever -q says: the data is short, which is not
 * progress noise. */
static void result_cut_notices(const struct vm_layout *p, const char *cid,
			       const struct result_meta *m)
{
	char out[PATH_MAX], err[PATH_MAX];
	const char *path[2] = { out, err };

	if (path_cid(out, sizeof(out), p->results, cid, ".out") != 0)
		path[0] = NULL;
	if (path_cid(err, sizeof(err), p->results, cid, ".err") != 0)
		path[1] = NULL;
	cut_notices(path, m, "");
}

int result_show(const struct vm_layout *p, const struct result_info *ri,
		const struct show_opts *so)
{
	struct copy_state cs = { 0, 0 };
	struct buf reason = BUF_INIT(4 * REASON_MAX + 16);
	const struct result_meta *m = &ri->meta;
	int code = result_client_code(ri), show_output;

	show_output = m->status != RESULT_REJECTED &&
		      m->status != RESULT_ERROR;
	if (m->status != RESULT_OK)
		reason_text(p, so->cid, ri, &reason);
	if (so->json) {
		if (json_show_result(p, ri, so, buf_str(&reason)) != 0)
			code = QX_LOCAL;
	} else if (show_output) {
		copy_stream(p, so->cid, ".out", STDOUT_FILENO, so->skip[0],
			    "output", &cs);
		copy_stream(p, so->cid, ".err", STDERR_FILENO, so->skip[1],
			    "error output", &cs);
	}
	if (show_output && !cs.interrupted)
		result_cut_notices(p, so->cid, m);
	switch (m->status) {
	case RESULT_OK:
		break;
	case RESULT_TIMEOUT:
		msg("timed out after %u s in dom0; the command was stopped "
		    "(id %s)", timeout_shown(m, so->timeout), so->cid);
		break;
	case RESULT_REJECTED:
		msg("dom0 rejected the command: %s", buf_str(&reason));
		if (reason_is_auth(buf_str(&reason)))
			auth_hint(buf_str(&reason));
		break;
	case RESULT_INTERRUPTED:
		/* dom0 says how: a stop that killed it, or a crash after
		 * which it may have run */
		if (reason.len > 0)
			msg("interrupted: %s (id %s)", buf_str(&reason), so->cid);
		else
			msg("interrupted: dom0 stopped while the command ran; it "
			    "may have run and will not run again (id %s)",
			    so->cid);
		break;
	case RESULT_ERROR:
	case RESULT_ASKING:
	case RESULT_APPROVED:
	case RESULT_STARTED:
		msg("dom0 could not run the command: %s", buf_str(&reason));
		break;
	}
	buf_release(&reason);
	if (cs.interrupted)
		return QX_SIGINT;
	if (cs.failed)
		return QX_LOCAL;
	return code;
}
