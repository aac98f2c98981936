/*
 * withdraw.c - take back a request dom0 holds asking a person, or stop a
 * command it runs: one signed cancel=CID for both.
 */
#include "withdraw.h"
#include "msg.h"
#include "output.h"
#include "progress.h"
#include "signals.h"
#include "submit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fileio.h"

#include "banned.h"

/* a wait that ends only by until_ms or a result */
#define NEVER_MS (UINT64_MAX / 4)
/* bytes of a cancel's stdout read: "not-held\n" and room */
#define CANCEL_OUT_MAX 64u

enum cancel_answer cancel_answer_of(const char *untrusted_out, size_t n,
				    int status_ok, int exit_code)
{
	if (n > 0 && untrusted_out[n - 1] == '\n')
		n--;
	if (!status_ok)
		return CANCEL_UNKNOWN;
	if (exit_code == 0 && n == 9 && memcmp(untrusted_out, "withdrawn", 9) == 0)
		return CANCEL_WITHDRAWN;
	if (exit_code == 0 && n == 8 && memcmp(untrusted_out, "stopping", 8) == 0)
		return CANCEL_STOPPING;
	if (exit_code == 1 && n == 8 && memcmp(untrusted_out, "not-held", 8) == 0)
		return CANCEL_NOT_HELD;
	return CANCEL_UNKNOWN;
}

/* Reads the cancel's answer from results/ and removes its files. */
static enum cancel_answer take_answer(const struct vm_layout *p,
				      const char *cid)
{
	static const char *const sfx[] = { ".out", ".err", ".meta", ".exit" };
	struct buf out = BUF_INIT(CANCEL_OUT_MAX);
	enum cancel_answer a = CANCEL_UNKNOWN;
	struct result_info ri;
	char path[PATH_MAX];
	size_t i;

	if (result_load(p, cid, &ri) == 0 &&
	    path_cid(path, sizeof(path), p->results, cid, ".out") == 0) {
		int e = read_file(path, &out);
		if (e == 0 || e == QR_ERR_NOT_FOUND)
			a = cancel_answer_of(out.data ? out.data : "", out.len,
					     ri.meta.status == RESULT_OK,
					     ri.exit_code);
	}
	buf_release(&out);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (path_cid(path, sizeof(path), p->results, cid, sfx[i]) == 0)
			(void)unlink(path);
	return a;
}

/* A wait of at most ms from now that withdraws nothing itself. */
static void short_wait(struct wait_params *wp, uint64_t t0, uint64_t ms)
{
	memset(wp, 0, sizeof(*wp));
	wp->claim_ms = wp->run_ms = NEVER_MS;
	wp->until_ms = (uint64_t)mono_ms() - t0 + ms;
}

/*
 * Sends a cancel of cid and waits up to WITHDRAW_WAIT_MS for dom0's
 * answer (*a; CANCEL_UNKNOWN when none came or it is none of the
 * three).  From here a signal is the second one: *sig says it came and
 * the wait was left at once.  0, or an error after a message.
 */
static int cancel_send(struct waiter *w, const struct vm_layout *p,
		       const struct key *k, const char *cid,
		       enum cancel_answer *a, int *sig)
{
	struct wait_params cw;
	struct wait_report cr;
	struct request c;
	uint64_t c0;
	int e;

	*a = CANCEL_UNKNOWN;
	*sig = 0;
	signals_reset();
	request_init(&c);
	snprintf(c.opts.cancel, sizeof(c.opts.cancel), "%s", cid);
	c0 = (uint64_t)mono_ms();
	if ((e = request_publish(&c, p, k)) != 0)
		goto out;
	msg_verbose("cancel of %s sent to dom0 (id %s)", cid, c.cid);
	short_wait(&cw, c0, WITHDRAW_WAIT_MS);
	if ((e = waiter_wait(w, p, c.cid, &cw, c0, &cr)) != 0)
		goto out;
	if (cr.outcome == WAIT_PENDING) {
		/* still queued: taken back; taken: its answer is dom0's */
		(void)request_withdraw(p, c.cid);
	} else if (cr.outcome != WAIT_RESULT) {
		*sig = cr.signal;
	} else {
		*a = take_answer(p, c.cid);
	}
out:
	request_release(&c);
	return e;
}

/* The line running_stop() keeps open while dom0 stops the command:
 * begun at once, ended with the outcome, so it reads as ux.md shows it
 * whatever comes between on the terminal (nothing: the indicator is off
 * meanwhile, and the output is shown after it). */
static void stop_line_begin(const char *cid)
{
	char line[CID_MAX + 96];
	int n = snprintf(line, sizeof(line), MSG_PREFIX "asked dom0 to stop "
			 "the command (id %s)", cid);

	progress_erase();
	if (n > 0 && (size_t)n < sizeof(line))
		(void)write_all(STDERR_FILENO, line, (size_t)n);
}

static void stop_line_end(const char *how)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", how);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)write_all(STDERR_FILENO, line, (size_t)n);
}

/* dom0 said "stopping": waits for the command's result, STOP_WAIT_MS at
 * most, and ends the line with what came. */
static int stop_wait(struct waiter *w, const struct vm_layout *p,
		     const char *cid, uint64_t t0, struct wait_report *rep)
{
	struct wait_params sw;
	struct wait_report sr;
	int e;

	short_wait(&sw, t0, STOP_WAIT_MS);
	if ((e = waiter_wait(w, p, cid, &sw, t0, &sr)) != 0) {
		stop_line_end("");
		return e;
	}
	rep->total_ms = sr.total_ms;
	if (sr.outcome == WAIT_RESULT) {
		rep->outcome = WAIT_RESULT;
		stop_line_end("; stopped");
	} else if (sr.outcome == WAIT_PENDING) {
		rep->outcome = WAIT_NO_RESULT;
		stop_line_end("; no result yet, it may still arrive: "
			      "qvm-remote history");
	} else {
		rep->outcome = WAIT_DETACHED;
		stop_line_end("; left without waiting; dom0 is stopping it: "
			      "qvm-remote history");
	}
	return 0;
}

int running_stop(struct waiter *w, const struct vm_layout *p,
		 const struct key *k, const char *cid,
		 const struct wait_params *wp, uint64_t t0,
		 struct wait_report *rep)
{
	enum cancel_answer a;
	int e, sig = rep->signal, again;

	stop_line_begin(cid);
	if ((e = cancel_send(w, p, k, cid, &a, &again)) != 0) {
		stop_line_end("");
		return e;
	}
	rep->total_ms = (uint64_t)mono_ms() - t0;
	rep->stop_asked = 1;
	if (again) {
		rep->outcome = WAIT_DETACHED;
		stop_line_end("; left without waiting; it may still run there: "
			      "qvm-remote history");
		return 0;
	}
	if (a == CANCEL_STOPPING)
		return stop_wait(w, p, cid, t0, rep);
	if (a == CANCEL_NOT_HELD) {
		/* it had ended: its result is on its way, the command's own;
		 * the next signal leaves */
		struct wait_params tw = *wp;
		tw.withdraw_held = tw.stop_running = 0;
		stop_line_end("; dom0 does not run it now (it had ended, or "
			      "this dom0 cannot stop a running command); "
			      "waiting for its result, Ctrl-C again leaves");
		rep->stop_asked = 0;
		e = waiter_wait(w, p, cid, &tw, t0, rep);
		if (e == 0 && rep->signal == 0)
			rep->signal = sig;
		return e;
	}
	rep->outcome = WAIT_CANCEL_LOST;
	stop_line_end("; dom0 did not confirm, it may still run there: "
		      "qvm-remote history");
	return 0;
}

int held_withdraw(struct waiter *w, const struct vm_layout *p,
		  const struct key *k, const char *cid,
		  const struct wait_params *wp, uint64_t t0,
		  struct wait_report *rep)
{
	struct wait_params cw;
	struct wait_report cr;
	enum cancel_answer a;
	int e, sig = rep->signal, again;

	msg_verbose("withdrawing %s in dom0", cid);
	if ((e = cancel_send(w, p, k, cid, &a, &again)) != 0)
		return e;
	rep->total_ms = (uint64_t)mono_ms() - t0;
	if (again) {
		rep->outcome = WAIT_DETACHED;
		rep->signal = again;
		return 0;
	}
	if (a == CANCEL_UNKNOWN) {
		rep->outcome = WAIT_CANCEL_LOST;
		return 0;
	}
	if (a == CANCEL_STOPPING) {
		/* approved and started meanwhile: the cancel stopped it */
		stop_line_begin(cid);
		rep->stop_asked = 1;
		return stop_wait(w, p, cid, t0, rep);
	}
	if (a == CANCEL_NOT_HELD) {
		/* approved meanwhile: it runs; wait as for a taken request,
		 * whose next signal detaches */
		struct wait_params tw = *wp;
		tw.withdraw_held = tw.stop_running = 0;
		msg("approved in dom0 before the withdraw; it runs (id %s)", cid);
		e = waiter_wait(w, p, cid, &tw, t0, rep);
		if (e == 0 && rep->signal == 0)
			rep->signal = sig;
		return e;
	}
	/* withdrawn: dom0 answers the request itself, rejected */
	short_wait(&cw, t0, WITHDRAW_WAIT_MS);
	if ((e = waiter_wait(w, p, cid, &cw, t0, &cr)) != 0)
		return e;
	rep->outcome = WAIT_CANCELLED;
	rep->result_in = cr.outcome == WAIT_RESULT;
	rep->total_ms = cr.total_ms;
	rep->signal = sig;
	return 0;
}
