/*
 * asks.c - requests the policy says to ask about, waiting for a person
 * (issue 15, docs/protocol.md section 5b): each VM's list of them, their
 * files in the runtime directory (lib/askfile.h), the answers that come
 * back, the deadline that denies, the notes the VM's client is shown, and
 * the one desktop prompt at a time.
 */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "askfile.h"
#include "clock.h"
#include "err.h"
#include "fileio.h"
#include "gate.h"
#include "hex.h"
#include "logline.h"
#include "proc.h"

#include "banned.h"

extern char **environ;

/* The prompt's exit when it found no desktop to ask in. */
#define PROMPT_NO_DESKTOP 2

static int
ask_path(char out[PATH_MAX], const char *dir, const char *id)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, id);

	return n > 0 && n < PATH_MAX ? 0 : QR_ERR_TOO_LARGE;
}

/* Removes every file of dir (the runtime directory's, root's alone):
 * what waited or answered before a restart waits no more. */
static void
empty_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(dp), e->d_name, 0);
	closedir(dp);
}

int
asks_open(struct daemon *d)
{
	struct deliver_item *old;
	ssize_t n;
	size_t nold;

	if (ask_path(d->asks_dir, d->cfg->runtime_dir, "asks") != 0 ||
	    ask_path(d->answers_dir, d->cfg->runtime_dir, "answers") != 0 ||
	    ask_path(d->notes_base, d->cfg->runtime_dir, "_notes") != 0 ||
	    mkdir_p(d->asks_dir, 0700) != 0 || mkdir_p(d->answers_dir, 0700) != 0)
		return QR_ERR_SYSTEM;
	empty_dir(d->asks_dir);
	empty_dir(d->answers_dir);
	dirwatch_init(&d->answers_watch, d->answers_dir);
	/* notes of an earlier run tell of requests that wait no more */
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		if (outbox_scan(d->notes_base, v->name, &old, &nold) == 0) {
			for (size_t i = 0; i < nold; i++)
				(void)outbox_remove(&old[i]);
			free(old);
		}
	n = readlink("/proc/self/exe", d->self_path, sizeof(d->self_path) - 1);
	d->self_path[n > 0 ? n : 0] = '\0';
	return 0;
}

/* ---- one request that waits ------------------------------------------ */

static struct job *
ask_find(const struct daemon *d, const char *id)
{
	for (const struct vm *v = d->vms; v != NULL; v = v->next)
		for (struct job *j = v->asking; j != NULL; j = j->next)
			if (strcmp(j->ask_id, id) == 0)
				return j;
	return NULL;
}

/* A new ID, unique among what waits; 0 or QR_ERR_SYSTEM. */
static int
ask_id_new(const struct daemon *d, char id[ASK_ID_LEN + 1])
{
	unsigned char r[ASK_ID_LEN / 2];

	for (int tries = 0; tries < 64; tries++) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return QR_ERR_SYSTEM;
		hex_encode(r, sizeof(r), id);
		if (ask_find(d, id) == NULL)
			return 0;
	}
	return QR_ERR_EXISTS;
}

/* What a person is shown of j: a vector as words, a script's first
 * lines (askfile.h). */
static void
ask_cmd(const struct job *j, struct ask_record *a)
{
	struct buf words = BUF_INIT(ASK_CMD_MAX + 64);
	const uint8_t *p = j->body;
	size_t n = j->body_len, lines = 0, i;

	if (j->form == BODY_ARGV &&
	    argvbody_quote(&words, p, n, ASK_CMD_MAX + 1) == 0) {
		p = (const uint8_t *)words.data;
		n = words.len;
	} else {
		for (i = 0; i < n && lines < ASK_SCRIPT_LINES; i++)
			if (p[i] == '\n')
				lines++;
		a->cut = i < n;
		n = i;
	}
	if (n > ASK_CMD_MAX) {
		n = ASK_CMD_MAX;
		a->cut = 1;
	}
	memcpy(a->cmd, p, n);
	a->cmd[n] = '\0';
	a->cmd_len = n;
	buf_release(&words);
}

/* asks/ID: what a person decides on.  0 when it was written. */
static int
ask_file_write(struct daemon *d, const struct job *j)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct ask_record *a = calloc(1, sizeof(*a));
	struct buf line = BUF_INIT(ASK_CMD_MAX * 4 + 1024);
	int r = QR_ERR_NOMEM;

	if (a == NULL)
		goto out;
	memcpy(a->id, j->ask_id, sizeof(a->id));
	memcpy(a->vm, j->vm->name, sizeof(a->vm));
	memcpy(a->cid, j->cid, sizeof(a->cid));
	memcpy(a->user, j->run_as, sizeof(a->user));
	a->form = j->form;
	snprintf(a->rule, sizeof(a->rule), "%s", j->ask_rule);
	a->timeout_s = j->timeout_s;
	a->expires = j->ask_expires;
	a->bytes = j->body_len;
	SHA256(j->body, j->body_len, md);
	hex_encode(md, sizeof(md), a->sha256);
	ask_cmd(j, a);
	if ((r = askfile_format(&line, time(NULL), a)) == 0)
		r = write_file_atomic(d->asks_dir, j->ask_id, line.data,
				      line.len, 0600, 0);
out:
	buf_release(&line);
	free(a);
	return r;
}

/* Ends j's prompt, if it has the one that runs; it is reaped later. */
static void
prompt_stop(struct daemon *d, const struct job *j)
{
	if (d->prompt_pid > 0 && d->prompt_job == j) {
		(void)kill(-d->prompt_pid, SIGTERM);
		d->prompt_job = NULL;
	}
}

/* Takes j, which waits, out of its VM's list, its file and its prompt. */
static void
ask_drop(struct daemon *d, struct job *j)
{
	struct vm *v = j->vm;
	char path[PATH_MAX];

	for (struct job **pp = &v->asking; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	j->next = NULL;
	v->nasking--;
	d->jobs_dirty = 1;
	if (ask_path(path, d->asks_dir, j->ask_id) == 0)
		(void)unlink(path);
	prompt_stop(d, j);
}

/* "POLICY vm= id= action= rule= ask=" and what follows, for a step of
 * j's wait; the caller adds its fields, then ev_end. */
static struct buf *
ask_line(struct daemon *d, const struct job *j, const char *action)
{
	struct buf *b = ev_begin(d, "POLICY", j->vm->name, j->cid);

	(void)logline_kvs(b, "action", action);
	(void)logline_kvs(b, "rule", j->ask_rule);
	(void)logline_kvs(b, "ask", j->ask_id);
	return b;
}

/* j waits no more and does not run: the VM is told why. */
static void
ask_refuse(struct daemon *d, struct job *j, const char *why)
{
	park_status(d, j->vm, j->cid, j->claim, RESULT_REJECTED, why);
	job_free(j);
}

int
ask_begin(struct daemon *d, struct job *j, const struct gate_verdict *g)
{
	struct vm *v = j->vm;
	int64_t left_ms;
	struct buf *b;

	if (j->ask_id[0] == '\0') {
		if (v->nasking >= ASK_MAX_PER_VM ||
		    ask_id_new(d, j->ask_id) != 0) {
			if (ev_rejected(d, v))
				ev_simple(d, "REJECT", v->name, j->cid, "reason",
					  "too many requests of this VM wait "
					  "for approval in dom0");
			ask_refuse(d, j, "too many requests of this VM wait for "
				   "approval in dom0; nothing ran");
			return JOB_GONE;
		}
		j->ask_until_ms = mono_ms() + (int64_t)d->cfg->ask_timeout_s * 1000;
		j->ask_expires = time(NULL) + (time_t)d->cfg->ask_timeout_s;
		j->since = time(NULL);
	}
	d->jobs_dirty = 1;
	snprintf(j->ask_rule, sizeof(j->ask_rule), "%s", g->rule);
	memcpy(j->ask_told, g->told, sizeof(j->ask_told));
	j->next = v->asking;
	v->asking = j;
	v->nasking++;
	b = ask_line(d, j, "ask");
	(void)logline_kvs(b, "form", j->form == BODY_ARGV ? "argv" : "script");
	(void)logline_kvs(b, "user", j->run_as);
	(void)logline_kvu(b, "timeout", j->timeout_s);
	(void)logline_kvu(b, "expires", (uint64_t)j->ask_expires);
	ev_end(d);
	/* without its file nobody can answer: the wait ends as no answer */
	if (ask_file_write(d, j) != 0) {
		ev_simple(d, "ERROR", v->name, j->cid, "reason", "cannot write "
			  "the request's file in the runtime directory; nobody "
			  "can approve it");
		j->ask_until_ms = mono_ms();
	}
	left_ms = j->ask_until_ms - mono_ms();
	park_note(d, j, RESULT_ASKING, g->reason,
		  left_ms > 0 ? (unsigned)((left_ms + 999) / 1000) : 0);
	return JOB_ASKS;
}

/* j, approved (how: the note's text), waits for a slot, as every allowed
 * request does. */
static void
ask_approved(struct daemon *d, struct job *j, const char *how)
{
	park_note(d, j, RESULT_APPROVED, how, 0);
	job_queue(d, j);
}

/* Applies the answer a to j, which waits. */
static void
ask_answer(struct daemon *d, struct job *j, const struct ask_answer *a)
{
	char why[REASON_MAX + 1];
	struct buf *b;

	ask_drop(d, j);
	b = ask_line(d, j, a->approve ? "approved" : "denied");
	(void)logline_kvs(b, "by", a->by);
	(void)logline_kvs(b, "via", a->via == ASK_VIA_DESKTOP ? "desktop"
							      : "terminal");
	ev_end(d);
	if (a->approve) {
		ask_approved(d, j, "approved in dom0");
		return;
	}
	snprintf(why, sizeof(why), "denied in dom0 by %s (ask: %.*s)", a->by,
		 (int)GATE_TOLD_MAX, j->ask_told);
	ask_refuse(d, j, why);
}

void
asks_answers(struct daemon *d)
{
	struct buf text = BUF_INIT(1024);
	struct ask_answer a;
	char path[PATH_MAX];
	struct job *j;
	struct dirent *e;
	DIR *dp;

	dirwatch_loading(&d->answers_watch);
	if ((dp = opendir(d->answers_dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.' ||
		    ask_path(path, d->answers_dir, e->d_name) != 0)
			continue;
		buf_reset(&text);
		if (read_file(path, &text) != 0 ||
		    askfile_answer_parse(text.data, text.len, &a) != 0 ||
		    strcmp(a.id, e->d_name) != 0) {
			(void)unlink(path);
			ev_simple(d, "ERROR", NULL, NULL, "reason", "an answer file "
				  "that does not parse was removed");
			continue;
		}
		/* an ID a restart gave to another request, or one that waits
		 * no more, answers nothing: its writer sees it stay, says
		 * so and removes it (a start empties answers/) */
		j = ask_find(d, a.id);
		if (j == NULL || strcmp(j->cid, a.cid) != 0)
			continue;
		/* before asks/ID goes: the verb reads both to know */
		(void)unlink(path);
		ask_answer(d, j, &a);
	}
	closedir(dp);
	buf_release(&text);
}

/* ---- the prompt ---------------------------------------------------- */

/* Starts `qvm-remote-dom0 -c FILE prompt ID` for the oldest request that
 * waits and had none yet, when no prompt runs. */
static void
prompt_next(struct daemon *d)
{
	struct job *oldest = NULL;
	char *argv[6];
	struct proc_opts o = {
		.argv = argv, .envp = environ, .in = PROC_NULL,
		.out = PROC_NULL, .err = PROC_FD, .err_fd = STDERR_FILENO,
		.group = PROC_GROUP_NEW,
	};

	if (d->cfg->ask_prompt == ASK_PROMPT_NONE || d->prompt_pid > 0 ||
	    d->self_path[0] == '\0' || d->stopping)
		return;
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		for (struct job *j = v->asking; j != NULL; j = j->next)
			if (!j->prompted && (oldest == NULL ||
					     j->ask_until_ms < oldest->ask_until_ms))
				oldest = j;
	if (oldest == NULL)
		return;
	oldest->prompted = 1;
	argv[0] = "qvm-remote-dom0";
	argv[1] = "-c";
	argv[2] = (char *)d->opts->config_path;
	argv[3] = "prompt";
	argv[4] = oldest->ask_id;
	argv[5] = NULL;
	o.path = d->self_path;
	if (proc_spawn(&o, &d->prompt_pid, NULL, NULL, NULL) != 0) {
		d->prompt_pid = 0;
		ev_simple(d, "ERROR", oldest->vm->name, oldest->cid, "reason",
			  "cannot start the desktop prompt");
		return;
	}
	d->prompt_job = oldest;
}

int
asks_reaped(struct daemon *d, pid_t pid, int status)
{
	if (pid != d->prompt_pid || pid <= 0)
		return 0;
	d->prompt_pid = 0;
	d->prompt_job = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == PROMPT_NO_DESKTOP &&
	    !d->prompt_unseen) {
		d->prompt_unseen = 1;
		ev_simple(d, "INFO", NULL, NULL, "reason", "no desktop session "
			  "to prompt in; answer with qvm-remote-dom0 pending, "
			  "approve ID, deny ID");
	}
	return 1;
}

/* ---- time, reloads, keys, stopping ---------------------------------- */

void
asks_time(struct daemon *d, int64_t t)
{
	char why[REASON_MAX + 1];

	for (struct vm *v = d->vms; v != NULL; v = v->next)
		for (struct job *j = v->asking, *next; j != NULL; j = next) {
			next = j->next;
			if (t < j->ask_until_ms)
				continue;
			ask_drop(d, j);
			(void)ask_line(d, j, "expired");
			ev_end(d);
			snprintf(why, sizeof(why), "no answer in dom0 within %u s "
				 "(ask: %.*s); nothing ran", d->cfg->ask_timeout_s,
				 (int)GATE_TOLD_MAX, j->ask_told);
			ask_refuse(d, j, why);
		}
	prompt_next(d);
}

int64_t
asks_wake(const struct daemon *d, int64_t w)
{
	for (const struct vm *v = d->vms; v != NULL; v = v->next)
		for (const struct job *j = v->asking; j != NULL; j = j->next)
			if (j->ask_until_ms < w)
				w = j->ask_until_ms;
	return w;
}

void
asks_recheck(struct daemon *d)
{
	for (struct vm *v = d->vms; v != NULL; v = v->next)
		for (struct job *j = v->asking, *next; j != NULL; j = next) {
			next = j->next;
			if (j->policy_gen == d->policy_generation)
				continue;
			ask_drop(d, j);
			/* allowed now: it runs unasked; denied: refused; still
			 * ask: it waits on, its ID and deadline kept, and a
			 * prompt shows its new rule */
			switch (job_decide(d, j)) {
			case JOB_RUNS:
				ask_approved(d, j, "allowed by dom0's policy now");
				break;
			case JOB_ASKS:
				j->prompted = 0;
				break;
			default:
				break;
			}
		}
}

void
asks_refuse_stale(struct daemon *d, struct vm *v)
{
	for (struct job *j = v->asking, *next; j != NULL; j = next) {
		next = j->next;
		if (!v->removed && j->key_gen == v->key_gen)
			continue;
		ask_drop(d, j);
		job_start(d, j);    /* which refuses it, as a queued one */
	}
}

void
asks_leave(struct daemon *d, struct vm *v)
{
	while (v->asking != NULL) {
		struct job *j = v->asking;
		ask_drop(d, j);
		ev_simple(d, "INFO", v->name, j->cid, "action", "stopping while "
			  "it waited for approval; the next start asks again");
		job_free(j);
	}
}

int
asks_holds(const struct vm *v, const char *cid, const char *claim)
{
	for (const struct job *j = v->asking; j != NULL; j = j->next)
		if (strcmp(j->cid, cid) == 0 && strcmp(j->claim, claim) == 0)
			return 1;
	return 0;
}

int
asks_withdraw(struct daemon *d, struct vm *v, const char *cid, const char *by)
{
	char why[REASON_MAX + 1];
	struct buf *b;

	for (struct job *j = v->asking; j != NULL; j = j->next)
		if (strcmp(j->cid, cid) == 0) {
			ask_drop(d, j);
			b = ask_line(d, j, by != NULL ? "stopped" : "withdrawn");
			if (by != NULL) {
				(void)logline_kvs(b, "by", by);
				(void)logline_kvs(b, "via", "terminal");
			}
			ev_end(d);
			if (by != NULL)
				snprintf(why, sizeof(why), "stopped in dom0 by %s "
					 "while it waited for approval; nothing "
					 "ran", by);
			ask_refuse(d, j, by != NULL ? why : "withdrawn by the VM "
				   "while it waited for approval; nothing ran");
			return 1;
		}
	return 0;
}

int
asks_held(const struct vm *v, const char *cid)
{
	for (const struct job *j = v->asking; j != NULL; j = j->next)
		if (strcmp(j->cid, cid) == 0)
			return 1;
	return 0;
}
