/*
 * withdraw.c - take back a request dom0 holds asking a person.
 */
#include "withdraw.h"
#include "msg.h"
#include "output.h"
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

int held_withdraw(struct waiter *w, const struct vm_layout *p,
		  const struct key *k, const char *cid,
		  const struct wait_params *wp, uint64_t t0,
		  struct wait_report *rep)
{
	struct wait_params cw;
	struct wait_report cr;
	struct request c;
	enum cancel_answer a;
	uint64_t c0;
	int e, sig = rep->signal;

	/* from here a signal is the second one: it leaves at once */
	signals_reset();
	request_init(&c);
	snprintf(c.opts.cancel, sizeof(c.opts.cancel), "%s", cid);
	c0 = (uint64_t)mono_ms();
	if ((e = request_publish(&c, p, k)) != 0)
		goto out;
	msg_verbose("withdrawing %s in dom0 (id %s)", cid, c.cid);
	short_wait(&cw, c0, WITHDRAW_WAIT_MS);
	if ((e = waiter_wait(w, p, c.cid, &cw, c0, &cr)) != 0)
		goto out;
	rep->total_ms = (uint64_t)mono_ms() - t0;
	if (cr.outcome == WAIT_PENDING) {
		/* still queued: taken back; taken: its answer is dom0's */
		(void)request_withdraw(p, c.cid);
		rep->outcome = WAIT_CANCEL_LOST;
		goto out;
	}
	if (cr.outcome != WAIT_RESULT) {
		rep->outcome = WAIT_DETACHED;
		rep->signal = cr.signal;
		goto out;
	}
	a = take_answer(p, c.cid);
	if (a == CANCEL_UNKNOWN) {
		rep->outcome = WAIT_CANCEL_LOST;
		goto out;
	}
	if (a == CANCEL_NOT_HELD) {
		/* approved meanwhile: it runs; wait as for a taken request,
		 * whose next signal detaches */
		struct wait_params tw = *wp;
		tw.withdraw_held = 0;
		msg("approved in dom0 before the withdraw; it runs (id %s)", cid);
		e = waiter_wait(w, p, cid, &tw, t0, rep);
		if (e == 0 && rep->signal == 0)
			rep->signal = sig;
		goto out;
	}
	/* withdrawn: dom0 answers the request itself, rejected */
	short_wait(&cw, t0, WITHDRAW_WAIT_MS);
	if ((e = waiter_wait(w, p, cid, &cw, t0, &cr)) != 0)
		goto out;
	rep->outcome = WAIT_CANCELLED;
	rep->result_in = cr.outcome == WAIT_RESULT;
	rep->total_ms = cr.total_ms;
	rep->signal = sig;
out:
	request_release(&c);
	return e;
}
