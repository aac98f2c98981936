/*
 * admin_ask.c - a person's answer to a request the policy asks about
 * (docs/protocol.md section 5b): pending, approve, deny, and what the
 * desktop prompt (admin_prompt.c) shares with them: reading asks/ID,
 * writing answers/ID, showing a request's command.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "askfile.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "liveness.h"
#include "logline.h"
#include "logparse.h"
#include "policy.h"
#include "reader.h"
#include "banned.h"

#define TAKE_WAIT_S 10          /* for the service to take an answer */
#define PENDING_MAX 4096u       /* requests `pending` lists */
#define SHA_SHORT 8             /* hex digits `pending` shows */

/* ----------------------------------------------------------- the files */

int
admin_ask_path(const struct config *c, const char *sub, const char *id,
	       char out[PATH_MAX])
{
	int n = id != NULL ? snprintf(out, PATH_MAX, "%s/%s/%s",
				      c->runtime_dir, sub, id)
			   : snprintf(out, PATH_MAX, "%s/%s", c->runtime_dir,
				      sub);

	return n > 0 && n < PATH_MAX ? 0 : QR_ERR_TOO_LARGE;
}

int
admin_ask_load(const struct config *c, const char *id, struct ask_record *a)
{
	struct buf text = BUF_INIT(LOGPARSE_LINE_MAX + 1);
	char path[PATH_MAX];
	int r;

	if (!ask_id_valid(id))
		return QR_ERR_INVALID;
	if ((r = admin_ask_path(c, ASK_DIR, id, path)) != 0 ||
	    (r = read_file(path, &text)) != 0)
		goto out;
	if (askfile_parse(text.data, text.len, a) != 0 ||
	    strcmp(a->id, id) != 0)
		r = QR_ERR_INVALID;
out:
	buf_release(&text);
	return r;
}

int
admin_ask_answer(const struct config *c, const struct ask_record *a,
		 int approve, const char *by, enum ask_via via)
{
	struct buf line = BUF_INIT(1024);
	struct ask_answer ans;
	char dir[PATH_MAX];
	int r, e;

	memset(&ans, 0, sizeof(ans));
	snprintf(ans.id, sizeof(ans.id), "%s", a->id);
	snprintf(ans.cid, sizeof(ans.cid), "%s", a->cid);
	snprintf(ans.by, sizeof(ans.by), "%s", by);
	ans.approve = approve != 0;
	ans.via = via;
	if ((r = admin_ask_path(c, ANSWER_DIR, NULL, dir)) != 0 ||
	    (r = askfile_answer_format(&line, time(NULL), &ans)) != 0 ||
	    (r = mkdir_p(dir, 0700)) != 0 ||
	    (r = write_file_atomic(dir, ans.id, line.data, line.len, 0600,
				   0)) != 0) {
		e = errno;
		complain("cannot write the answer %s/%s: %s", dir, ans.id,
			 admin_why(r, e));
	}
	buf_release(&line);
	return r;
}

void
admin_ask_unanswer(const struct config *c, const char *id)
{
	char path[PATH_MAX];

	if (admin_ask_path(c, ANSWER_DIR, id, path) == 0)
		(void)unlink(path);
}

/* --------------------------------------------------------- showing it */

int
admin_ask_escape(struct buf *out, const char *p, size_t n)
{
	return log_escape(out, p, n, n);
}

int
admin_ask_cmd_lines(struct buf *out, const struct ask_record *a,
		    const char *indent)
{
	size_t i = 0;
	int r = 0;

	while (r == 0 && i < a->cmd_len) {
		const char *nl = memchr(a->cmd + i, '\n', a->cmd_len - i);
		size_t len = nl != NULL ? (size_t)(nl - (a->cmd + i))
					: a->cmd_len - i;

		if ((r = buf_append_str(out, indent)) == 0 &&
		    (r = admin_ask_escape(out, a->cmd + i, len)) == 0)
			r = buf_append(out, "\n", 1);
		i += len + (nl != NULL);
	}
	if (r == 0 && a->cut)
		r = buf_printf(out, "%s(and more: the request is longer than "
			       "this)\n", indent);
	return r;
}

/* Seconds from now until a->expires, 0 once passed. */
long
admin_ask_left(const struct ask_record *a)
{
	time_t now = time(NULL);

	return a->expires > now ? (long)(a->expires - now) : 0;
}

/* --------------------------------------------------------- pending */

static int
cmp_expires(const void *x, const void *y)
{
	const struct ask_record *a = x, *b = y;

	if (a->expires != b->expires)
		return a->expires < b->expires ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Every request of asks/ that parses, oldest deadline first, into *out
 * (the caller frees it).  ADMIN_OK or ADMIN_FAIL after a message. */
static int
load_all(const struct config *c, struct ask_record **out, size_t *count)
{
	struct ask_record *v = NULL;
	size_t n = 0, cap = 0;
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int r;

	*out = NULL;
	*count = 0;
	if (admin_ask_path(c, ASK_DIR, NULL, dir) != 0) {
		complain("%s/" ASK_DIR ": path too long", c->runtime_dir);
		return ADMIN_FAIL;
	}
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return ADMIN_OK;
		complain("cannot list %s: %s", dir, strerror(errno));
		return ADMIN_FAIL;
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (n == cap) {
			struct ask_record *nv;

			if (cap == PENDING_MAX) {
				complain("more than %u requests in %s; "
					 "showing the first", PENDING_MAX,
					 dir);
				break;
			}
			cap = cap == 0 ? 16 : cap * 2;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				complain("out of memory listing %s", dir);
				free(v);
				closedir(dp);
				return ADMIN_FAIL;
			}
			v = nv;
		}
		r = admin_ask_load(c, d->d_name, &v[n]);
		if (r == 0)
			n++;
		else if (r != QR_ERR_NOT_FOUND)   /* gone meanwhile: answered */
			complain("skipping %s/%s: %s", dir, d->d_name,
				 r == QR_ERR_INVALID ? "not a request the "
				 "service wrote" : qr_strerror(r));
	}
	closedir(dp);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_expires);
	*out = v;
	*count = n;
	return ADMIN_OK;
}

/* The rule's file and line, without its directory. */
static const char *
rule_short(const struct ask_record *a)
{
	const char *slash = strrchr(a->rule, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : a->rule;
}

/* The COMMAND column: the vector's words, or the script's size, hash and
 * first line, escaped, at most width bytes. */
static int
command_cell(struct buf *out, const struct ask_record *a, size_t width)
{
	size_t start = out->len, first;
	int r;

	if (a->form == BODY_SCRIPT) {
		const char *nl = memchr(a->cmd, '\n', a->cmd_len);

		first = nl != NULL ? (size_t)(nl - a->cmd) : a->cmd_len;
		r = buf_printf(out, "script: %llu bytes, sha256 %.*s..., ",
			       (unsigned long long)a->bytes, SHA_SHORT,
			       a->sha256);
		if (r == 0)
			r = admin_ask_escape(out, a->cmd, first);
	} else {
		r = admin_ask_escape(out, a->cmd, a->cmd_len);
		if (r == 0 && a->cut)
			r = buf_append_str(out, " ...");
	}
	if (r == 0 && out->len - start > width && width > 3) {
		buf_truncate(out, start + width - 3);
		r = buf_append_str(out, "...");
	}
	return r;
}

static int
list_all(const struct config *c)
{
	struct ask_record *v;
	struct buf row = BUF_INIT(1 << 16);
	size_t n, i, wvm = 2, wuser = 4, wrule = 4, used;
	int r = ADMIN_OK;

	if (load_all(c, &v, &n) != ADMIN_OK)
		return ADMIN_FAIL;
	if (n == 0) {
		say("nothing waits for approval");
		free(v);
		return ADMIN_OK;
	}
	for (i = 0; i < n; i++) {
		if (strlen(v[i].vm) > wvm)
			wvm = strlen(v[i].vm);
		if (strlen(v[i].user) > wuser)
			wuser = strlen(v[i].user);
		if (strlen(rule_short(&v[i])) > wrule)
			wrule = strlen(rule_short(&v[i]));
	}
	printf("%-6s  %-*s  %-*s  %5s  %-*s  %s\n", "ID", (int)wvm, "VM",
	       (int)wuser, "USER", "LEFT", (int)wrule, "RULE", "COMMAND");
	used = 6 + 2 + wvm + 2 + wuser + 2 + 5 + 2 + wrule + 2;
	for (i = 0; i < n; i++) {
		size_t w = (size_t)admin_line_width();

		buf_reset(&row);
		if (command_cell(&row, &v[i], w > used + 20 ? w - used : 20)
		    != 0) {
			complain("cannot show request %s", v[i].id);
			r = ADMIN_FAIL;
			continue;
		}
		printf("%-6s  %-*s  %-*s  %4lds  %-*s  %s\n", v[i].id,
		       (int)wvm, v[i].vm, (int)wuser, v[i].user,
		       admin_ask_left(&v[i]), (int)wrule, rule_short(&v[i]),
		       buf_str(&row));
	}
	fflush(stdout);
	buf_release(&row);
	free(v);
	return r;
}

static int
show_one(const struct ask_record *a)
{
	struct buf cmd = BUF_INIT(1 << 16);
	char when[21];

	if (admin_ask_cmd_lines(&cmd, a, "    ") != 0) {
		complain("cannot show request %s", a->id);
		buf_release(&cmd);
		return ADMIN_FAIL;
	}
	iso8601_utc(a->expires, when);
	printf("request %s of VM %s waits for approval\n"
	       "  vm:       %s\n"
	       "  cid:      %s\n"
	       "  run as:   %s\n"
	       "  rule:     %s\n"
	       "  form:     %s\n"
	       "  body:     %llu bytes, sha256 %s\n"
	       "  timeout:  %u s, once approved\n"
	       "  expires:  %s (in %ld s; then it is denied)\n"
	       "  %s:\n%s",
	       a->id, a->vm, a->vm, a->cid, a->user, a->rule,
	       a->form == BODY_SCRIPT ? "script (run by bash)"
				      : "argv (run with execve, no shell)",
	       (unsigned long long)a->bytes, a->sha256, a->timeout_s, when,
	       admin_ask_left(a),
	       a->form == BODY_SCRIPT ? "first lines" : "command",
	       buf_str(&cmd));
	printf("answer with: " PROG " approve %s, or: " PROG " deny %s\n",
	       a->id, a->id);
	fflush(stdout);
	buf_release(&cmd);
	return ADMIN_OK;
}

/* A request named on the command line, with the messages for what is
 * wrong.  ADMIN_OK with *a filled in. */
static int
load_named(const struct config *c, const char *id, struct ask_record *a)
{
	int r, e;

	if (!ask_id_valid(id)) {
		complain("'%s' is not a request ID (6 hex digits, as " PROG
			 " pending shows them)", id);
		return ADMIN_FAIL;
	}
	r = admin_ask_load(c, id, a);
	e = errno;
	if (r == QR_ERR_NOT_FOUND)
		complain("no request %s waits for approval; see: " PROG
			 " pending", id);
	else if (r == QR_ERR_INVALID)
		complain("%s/" ASK_DIR "/%s is not a request the service "
			 "wrote", c->runtime_dir, id);
	else if (r != 0)
		complain("cannot read %s/" ASK_DIR "/%s: %s", c->runtime_dir,
			 id, admin_why(r, e));
	return r == 0 ? ADMIN_OK : ADMIN_FAIL;
}

int
admin_pending(const struct config *c, int argc, char **argv)
{
	struct ask_record a;

	if (argc > 2)
		return admin_usage("pending [ID]");
	if (!admin_service_running(c))
		return ADMIN_FAIL;
	if (argc == 1)
		return list_all(c);
	if (load_named(c, argv[1], &a) != ADMIN_OK)
		return ADMIN_FAIL;
	return show_one(&a);
}

/* ------------------------------------------------- approve and deny */

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* admin_await's test: the request's file is gone. */
static int
file_gone(void *path)
{
	return !exists(path);
}

static int
answer_verb(const struct config *c, int argc, char **argv, int approve)
{
	char by[POLICY_USER_MAX + 1], dir[PATH_MAX], ask[PATH_MAX],
	     ans[PATH_MAX];
	struct ask_record a;

	if (argc != 2)
		return admin_usage(approve ? "approve ID" : "deny ID");
	if (!admin_service_running(c) || load_named(c, argv[1], &a) != ADMIN_OK)
		return ADMIN_FAIL;
	if (admin_ask_path(c, ASK_DIR, NULL, dir) != 0 ||
	    admin_ask_path(c, ASK_DIR, a.id, ask) != 0 ||
	    admin_ask_path(c, ANSWER_DIR, a.id, ans) != 0)
		return ADMIN_FAIL;     /* load_named read it: cannot be */
	admin_person(by);
	if (admin_ask_answer(c, &a, approve, by, ASK_VIA_TERMINAL) != 0)
		return ADMIN_FAIL;
	if (!admin_await(dir, IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF |
			 IN_MOVE_SELF, TAKE_WAIT_S, file_gone, ask)) {
		admin_ask_unanswer(c, a.id);
		complain("the service did not take the answer within %d s; "
			 "nothing was answered; check its log with: " PROG
			 " log", TAKE_WAIT_S);
		return ADMIN_FAIL;
	}
	/* the service removes the answer it takes before the request's
	 * file: an answer left means the request stopped waiting for
	 * another reason (expired, withdrawn, decided again) */
	if (exists(ans)) {
		admin_ask_unanswer(c, a.id);
		complain("%s's request %s stopped waiting before the service "
			 "took the answer (expired, withdrawn or decided "
			 "again); see: " PROG " log", a.vm, a.id);
		return ADMIN_FAIL;
	}
	if (approve)
		say("approved: %s's request %s runs (as %s)", a.vm, a.id,
		    a.user);
	else
		say("denied: %s's request %s will not run", a.vm, a.id);
	return ADMIN_OK;
}

int
admin_approve(const struct config *c, int argc, char **argv)
{
	return answer_verb(c, argc, argv, 1);
}

int
admin_deny(const struct config *c, int argc, char **argv)
{
	return answer_verb(c, argc, argv, 0);
}
