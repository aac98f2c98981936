/*
 * run.c - run one command in dom0: build, publish, wait, show, archive.
 */
#include "run.h"
#include "archive.h"
#include "auditlog.h"
#include "body.h"
#include "exitcode.h"
#include "fdio.h"
#include "keycmd.h"
#include "msg.h"
#include "output.h"
#include "progress.h"
#include "signals.h"
#include "submit.h"
#include "vmid.h"
#include "wait.h"
#include "withdraw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "argvbody.h"
#include "clock.h"
#include "err.h"
#include "bounds.h"

#include "banned.h"

/*
 * Fills r->body from argv or stdin and checks it: with -x the words are
 * the argument vector as they are (no joining, no shell in dom0), else a
 * script run by bash.
 */
static int get_body(struct request *r, const struct args *a)
{
	struct body_verdict v;
	const char *src = a->argc > 0 ? "" : " on stdin";
	char why[256];
	int e;

	r->opts.form = a->exact ? BODY_ARGV : BODY_SCRIPT;
	memset(&v, 0, sizeof(v));
	if (a->exact)
		e = argvbody_encode(&r->body, (size_t)a->argc,
				    (const char *const *)a->argv);
	else if (a->argc > 0)
		e = body_join(&r->body, a->argc, a->argv);
	else
		e = fd_read_all(STDIN_FILENO, &r->body);
	if (e == QR_ERR_TOO_LARGE) {
		v.problem = a->exact && (size_t)a->argc > ARGV_MAX
			    ? BODY_ARGV_COUNT : BODY_TOO_LARGE;
	} else if (e == QR_ERR_INVALID && a->exact) {
		v.problem = BODY_ARGV_PROGRAM;
	} else if (e != 0) {
		msg("cannot read the command from stdin: %s", strerror(errno));
		return e;
	} else if (body_check((const uint8_t *)r->body.data, r->body.len,
			      r->opts.form, &v) == 0) {
		return 0;
	}
	body_describe(&v, src, why, sizeof(why));
	msg("%s", why);
	return QR_ERR_INVALID;
}

/*
 * Reads the client's stdin whole for the command (not streamed: dom0 takes
 * a request whole), at most IN_MAX bytes.  A pipe that stays silent gets a
 * hint after a while: the request waits for its end.
 */
static int read_stdin(struct request *r, const struct args *a)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int e;

	if (!a->quiet && poll(&pfd, 1, (int)NOTICE_AFTER_MS) == 0)
		msg("reading stdin to send it to the command; end it (Ctrl-D) "
		    "or give -n to send none");
	e = fd_read_all(STDIN_FILENO, &r->in);
	if (e == QR_ERR_TOO_LARGE) {
		msg("stdin holds more than %u MiB, the most dom0 takes as a "
		    "command's stdin; nothing was sent", IN_MAX >> 20);
		msg("send less, or give -n to run the command without stdin");
	} else if (e != 0) {
		msg("cannot read stdin for the command: %s", strerror(errno));
	}
	return e;
}

/* Fills r->in from -i FILE, or from stdin as ssh would (args_stdin_use). */
static int get_input(struct request *r, const struct args *a)
{
	int fd, e;

	if (a->input && strcmp(a->input, "-") == 0 && a->argc == 0) {
		msg("-i - reads stdin, which already holds the command; give "
		    "the command as arguments");
		return QR_ERR_INVALID;
	}
	if (a->input && strcmp(a->input, "-") != 0) {
		if ((fd = open(a->input, O_RDONLY | O_CLOEXEC)) < 0) {
			msg("cannot open '%s' for -i: %s", a->input,
			    strerror(errno));
			return QR_ERR_SYSTEM;
		}
		e = fd_read_all(fd, &r->in);
		if (e == QR_ERR_TOO_LARGE)
			msg("'%s' is larger than %u bytes, the limit for -i",
			    a->input, IN_MAX);
		else if (e != 0)
			msg("cannot read '%s' for -i: %s", a->input,
			    strerror(errno));
		close(fd);
		r->has_in = 1;
		return e;
	}
	/* a closed stdin (EBADF) is none, as -n */
	if (args_stdin_use(a, isatty(STDIN_FILENO)) != STDIN_INPUT ||
	    fcntl(STDIN_FILENO, F_GETFD) < 0)
		return 0;
	if ((e = read_stdin(r, a)) != 0)
		return e;
	/* An empty stdin (a script's /dev/null, a closed pipe) sends none:
	 * the command reads end of file from /dev/null just as from an empty
	 * .in, the token is the same (docs/protocol.md 2), and a request from
	 * a script costs no file more than before.  -i sends even an empty
	 * one, as asked. */
	r->has_in = r->in.len > 0 || a->input != NULL;
	return 0;
}

int submit_and_wait(const struct vm_layout *p, struct request *r,
			   const struct wait_params *wp,
			   struct wait_report *rep)
{
	struct waiter w = { -1 };
	struct key k;
	uint64_t t0;
	int e;

	if ((e = key_load(p, &k)) != 0)
		return e;
	if ((e = paths_make_queue(p)) != 0)
		goto out;
	if ((e = signals_install()) != 0) {
		msg("cannot set up Ctrl-C handling: %s", strerror(errno));
		goto out;
	}
	if ((e = waiter_open(&w, p)) != 0)
		goto out;
	t0 = (uint64_t)mono_ms();
	if ((e = request_publish(r, p, &k)) != 0)
		goto out;
	msg_verbose("submitted id %s, %zu bytes, sha256 %s", r->cid,
		    r->body.len, r->sha256);
	if (wp->indicator)
		progress_enable(STDERR_FILENO);
	e = waiter_wait(&w, p, r->cid, wp, t0, rep);
	if (e == 0 && rep->outcome == WAIT_HELD)
		e = held_withdraw(&w, p, &k, r->cid, wp, t0, rep);
	else if (e == 0 && rep->outcome == WAIT_STOP)
		e = running_stop(&w, p, &k, r->cid, wp, t0, rep);
out:
	key_wipe(&k);
	waiter_close(&w);
	return e;
}

/* What to say when the wait ended without a result; returns the code. */
static int no_result(const struct vm_layout *p, const struct request *r,
		     const struct wait_report *rep, int json)
{
	const char *status = "no_answer";
	int code = QX_NO_ANSWER;
	char vm[VMNAME_MAX + 1], why[256] = "";
	unsigned long long secs = (unsigned long long)(rep->total_ms / 1000);

	/* running_stop() said on its line how the stop went */
	if (rep->stop_asked) {
		(void)archive_leave(p, r);
		if (json)
			(void)json_show_outcome(r->cid, rep->outcome ==
						WAIT_NO_RESULT ? "no_result"
						: "detached", QX_SIGINT,
						"stopped here; dom0 was asked "
						"to stop the command",
						rep->total_ms);
		return QX_SIGINT;
	}
	switch (rep->outcome) {
	case WAIT_RESULT:
		return 0;
	case WAIT_NOT_TAKEN:
		snprintf(why, sizeof(why), "no answer from dom0 after %llu s; "
			 "the command was withdrawn and nothing ran", secs);
		break;
	case WAIT_NO_RESULT:
	case WAIT_PENDING:
		(void)archive_leave(p, r);
		snprintf(why, sizeof(why), "no result from dom0 after %llu s "
			 "(id %s); it may still arrive: qvm-remote history",
			 secs, r->cid);
		status = "no_result";
		break;
	case WAIT_WITHDRAWN:
		snprintf(why, sizeof(why),
			 "withdrawn before dom0 took it; nothing ran");
		status = "withdrawn";
		code = QX_SIGINT;
		break;
	case WAIT_DETACHED:
		(void)archive_leave(p, r);
		if (rep->have_note && rep->note.status == RESULT_ASKING)
			snprintf(why, sizeof(why), "left while dom0 holds the "
				 "command for approval (id %s); it runs if a "
				 "person approves it there; see qvm-remote "
				 "history", r->cid);
		else
			snprintf(why, sizeof(why), "dom0 already took the "
				 "command (id %s); it runs to completion "
				 "there; see qvm-remote history", r->cid);
		status = "detached";
		code = QX_SIGINT;
		break;
	case WAIT_CANCELLED: {
		struct result_info ri;
		/* dom0's own answer (rejected, "withdrawn by the VM ...") is
		 * archived as any result, not shown: this line says it */
		if (!rep->result_in || result_load(p, r->cid, &ri) != 0 ||
		    archive_result(p, r, &ri, 1, rep->total_ms) != 0)
			(void)archive_leave(p, r);
		snprintf(why, sizeof(why), "withdrawn in dom0 before it ran "
			 "(id %s)", r->cid);
		status = "withdrawn";
		code = rep->signal ? QX_SIGINT : QX_NO_ANSWER;
		break;
	}
	case WAIT_VANISHED:
		request_remove_parts(p, r->cid);
		(void)audit_id_line(p, "VANISHED", r->cid);
		snprintf(why, sizeof(why), "dom0 removed the request without "
			 "an answer and nothing ran: its qvm-remote-dom0 is "
			 "too old for this client (%s); update it in dom0",
			 QVMR_VERSION);
		break;
	case WAIT_HELD:
	case WAIT_STOP:         /* running_stop() turns it into another */
	case WAIT_CANCEL_LOST:
		(void)archive_leave(p, r);
		snprintf(why, sizeof(why), "dom0 did not confirm the withdraw "
			 "(id %s); it may still run after an approval; see "
			 "qvm-remote history", r->cid);
		status = "no_result";
		code = rep->signal ? QX_SIGINT : QX_NO_ANSWER;
		break;
	}
	msg("%s", why);
	if (rep->outcome == WAIT_NOT_TAKEN)
		msg("is qvm-remote-dom0 running, and is this VM authorized? "
		    "in dom0: systemctl start qvm-remote-dom0, or "
		    "qvm-remote-dom0 authorize --from-vm %s; then try again",
		    vm_name_for_hint(vm));
	if (json)
		(void)json_show_outcome(r->cid, status, code, why,
					rep->total_ms);
	return code;
}

/* Shows and archives a result that arrived; returns the exit code.  With
 * answered, a result of status ok is not shown and returns 0 (a ping's
 * question was answered, whatever the answer).  lc (or NULL): what was
 * shown of it live, not shown again. */
static int got_result(const struct vm_layout *p, const struct request *r,
		      const struct wait_report *rep, const struct args *a,
		      int answered, const struct live_copy *lc)
{
	struct result_info ri;
	struct show_opts so;
	int code;

	if (result_load(p, r->cid, &ri) != 0)
		return QX_LOCAL;
	msg_verbose("result after %llu ms (%llu ms in dom0)",
		    (unsigned long long)rep->total_ms,
		    (unsigned long long)ri.meta.duration_ms);
	memset(&so, 0, sizeof(so));
	so.cid = r->cid;
	so.timeout = r->opts.timeout;
	so.json = a->json;
	so.round_trip_ms = rep->total_ms;
	if (lc != NULL)
		memcpy(so.skip, lc->shown, sizeof(so.skip));
	/* a note said it already, or was gone before it was read */
	if (!(rep->have_note && rep->note.status == RESULT_STARTED))
		start_notices(ri.meta.started, ri.meta.queued_ms);
	if (answered && ri.meta.status == RESULT_OK) {
		code = 0;
	} else {
		code = result_show(p, &ri, &so);
		if (answered && strcmp(ri.meta.reason, "unknown option") == 0)
			msg("qvm-remote-dom0 in dom0 is older than this client "
			    "(it does not know check=1); update it in dom0");
	}
	(void)archive_result(p, r, &ri, 1, rep->total_ms);
	return code;
}

/* The waits of one request: for dom0 to take it (claim_s), then for its
 * result (run_s and a grace); a notice after notice_ms (0: none). */
static void wait_for(struct wait_params *wp, const struct args *a,
		     uint64_t notice_ms, uint64_t claim_s, uint64_t run_s)
{
	memset(wp, 0, sizeof(*wp));
	wp->notice_ms = notice_ms;
	wp->claim_ms = claim_s * 1000u;
	wp->run_ms = (run_s + RUN_GRACE_S) * 1000u;
	wp->indicator = !a->quiet && isatty(STDERR_FILENO);
	/* a request held for a person's approval is withdrawn in dom0 at its
	 * claim deadline or on Ctrl-C, as one not yet taken is here */
	wp->withdraw_held = 1;
	wp->claim_given = a->claim_wait_given;
	/* an original dom0 deletes the request: said within seconds */
	wp->vanish_check = 1;
}

int run_command(const struct vm_layout *p, const struct args *a)
{
	struct wait_params wp;
	struct wait_report rep;
	struct live_copy lc;
	struct request r;
	int code = QX_LOCAL;

	request_init(&r);
	live_copy_init(&lc);
	if (get_body(&r, a) != 0 || get_input(&r, a) != 0)
		goto out;
	r.opts.timeout = a->timeout;
	r.opts.check = a->check;
	if (a->user != NULL)
		snprintf(r.opts.user, sizeof(r.opts.user), "%s", a->user);
	wait_for(&wp, a, a->quiet ? 0 : NOTICE_AFTER_MS, a->claim_wait,
		 a->timeout ? a->timeout : DEFAULT_TIMEOUT_S);
	/* Ctrl-C after dom0 took it asks dom0 to stop it (issue 16) */
	wp.stop_running = 1;
	/* the output as it comes; --json is one object at the end, and a
	 * check's answer is key=value lines */
	if (!a->json && !a->check)
		wp.live = &lc;
	if (submit_and_wait(p, &r, &wp, &rep) != 0)
		goto out;
	code = rep.outcome == WAIT_RESULT ? got_result(p, &r, &rep, a, 0, &lc) :
	       no_result(p, &r, &rep, a->json);
	/* stopped at the user's request: its output was shown, the exit
	 * says why it ended */
	if (rep.stop_asked && rep.outcome == WAIT_RESULT && code != QX_LOCAL)
		code = QX_SIGINT;
out:
	request_release(&r);
	return code;
}

int run_ping(const struct vm_layout *p, const struct args *a)
{
	struct wait_params wp;
	struct wait_report rep;
	struct request r;
	int code = QX_LOCAL;

	request_init(&r);
	if (buf_append_str(&r.body, "true\n") != 0)
		goto out;
	/* a question, not a command: it goes the whole way (fetch, token,
	 * policy, deliver) and runs nothing, so no policy needs a rule for
	 * it and dom0 runs nothing for it */
	r.opts.check = 1;
	r.opts.timeout = PING_WAIT_S;
	wait_for(&wp, a, 0, PING_WAIT_S, PING_WAIT_S);
	if (submit_and_wait(p, &r, &wp, &rep) != 0)
		goto out;
	if (rep.outcome == WAIT_NOT_TAKEN) {
		msg("no answer from dom0 after %u s; is qvm-remote-dom0 "
		    "running? It is not enabled at boot.", PING_WAIT_S);
		msg("in dom0: systemctl start qvm-remote-dom0");
		code = QX_NO_ANSWER;
	} else if (rep.outcome != WAIT_RESULT) {
		code = no_result(p, &r, &rep, 0);
	} else if ((code = got_result(p, &r, &rep, a, 1, NULL)) == 0) {
		printf("dom0 answered in %llu ms\n",
		       (unsigned long long)rep.total_ms);
		if (fflush(stdout) != 0)
			code = QX_LOCAL;
	}
out:
	request_release(&r);
	return code;
}
