/*
 * mcptool.c - run, result and policy_check against the queue.
 */
#include "mcptool.h"
#include "archive.h"
#include "msg.h"
#include "output.h"
#include "run.h"
#include "wait.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

#include "banned.h"

/* a wait that never ends by itself: until_ms decides */
#define MCP_NEVER_MS (UINT64_MAX / 4)

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The first MCP_STREAM_MAX bytes of a result stream (absent: empty). */
static void read_stream(const char *path, struct mcp_stream *st,
			int cut_in_dom0, int have_meta, uint64_t produced)
{
	static char chunk[MCP_STREAM_MAX];
	struct stat sb;
	size_t got = 0;
	int fd;

	st->truncated = cut_in_dom0;
	st->bytes = produced;
	if ((fd = open_regular(path, &sb)) < 0)
		return;
	if (read_full(fd, chunk, sizeof(chunk), &got) == 0)
		(void)buf_append(&st->data, chunk, got);
	if ((uint64_t)sb.st_size > st->data.len)
		st->truncated = 1;
	if (!have_meta)
		st->bytes = (uint64_t)sb.st_size;
	close(fd);
}

/* dir/<prefix>NAME or dir/NAME: results/<cid>.out or history/.../out. */
static int part(char *out, size_t n, const char *dir, const char *cid,
		const char *name)
{
	char sfx[8];

	if (!cid)
		return path_join(out, n, dir, name);
	snprintf(sfx, sizeof(sfx), ".%s", name);
	return path_cid(out, n, dir, cid, sfx);
}

/*
 * A finished result in dir (results/, cid set) or a history folder (cid
 * NULL): 0 with o filled, QR_ERR_NOT_FOUND when it has no .exit yet.
 */
static int load_result(const char *dir, const char *cid,
		       struct mcp_outcome *o, struct result_info *ri)
{
	char meta[PATH_MAX], exitf[PATH_MAX], outf[PATH_MAX], errf[PATH_MAX];
	const char *what = NULL;
	const struct result_meta *m = &ri->meta;
	size_t nl;

	if (part(meta, sizeof(meta), dir, cid, "meta") != 0 ||
	    part(exitf, sizeof(exitf), dir, cid, "exit") != 0 ||
	    part(outf, sizeof(outf), dir, cid, "out") != 0 ||
	    part(errf, sizeof(errf), dir, cid, "err") != 0)
		return QR_ERR_TOO_LARGE;
	if (!exists(exitf))
		return QR_ERR_NOT_FOUND;
	if (result_load_at(meta, exitf, ri, &what) != 0) {
		o->state = MCP_LOCAL;
		(void)buf_printf(&o->why, "the result of %s is damaged (%s)",
				 o->id, what ? what : "unreadable");
		return 0;
	}
	o->meta = *m;
	o->exit_code = ri->exit_code;
	switch (m->status) {
	case RESULT_REJECTED:
		o->state = MCP_REFUSED;
		break;
	case RESULT_ERROR:
	case RESULT_ASKING:
	case RESULT_APPROVED:
	case RESULT_STARTED:
		o->state = MCP_FAILED;
		break;
	default:
		o->state = MCP_DONE;
		break;
	}
	read_stream(outf, &o->out, m->out_truncated, ri->have_meta,
		    m->out_bytes);
	read_stream(errf, &o->err, m->err_truncated, ri->have_meta,
		    m->err_bytes);
	/* no reason in .meta: the first line of .err says it, as the command
	 * line shows it */
	if (o->state != MCP_DONE && !m->reason[0] && o->err.data.len) {
		nl = strcspn(buf_str(&o->err.data), "\n");
		(void)buf_append(&o->why, o->err.data.data,
				 nl < o->err.data.len ? nl : o->err.data.len);
	}
	return 0;
}

static int tool_submit(void *ctx, const struct mcp_call *c,
		       struct mcp_outcome *o)
{
	const struct vm_layout *p = ctx;
	struct wait_params wp;
	struct wait_report rep;
	struct result_info ri;
	struct request r;
	int e;

	request_init(&r);
	r.opts.form = BODY_ARGV;
	r.opts.timeout = c->timeout;
	snprintf(r.opts.user, sizeof(r.opts.user), "%s", c->user);
	/* policy_check: dom0 decides and runs nothing (protocol.md 5a) */
	r.opts.check = c->check;
	if ((e = buf_append(&r.body, c->body.data, c->body.len)) != 0) {
		o->state = MCP_LOCAL;
		(void)buf_append_str(&o->why, qr_strerror(e));
		goto out;
	}
	memset(&wp, 0, sizeof(wp));
	wp.claim_ms = wp.run_ms = MCP_NEVER_MS;
	/* wait_s 0: one look, then pending */
	wp.until_ms = c->wait_s ? (uint64_t)c->wait_s * 1000u : 1u;
	msg_capture(&o->why);
	e = submit_and_wait(p, &r, &wp, &rep);
	msg_capture(NULL);
	if (e != 0) {
		o->state = MCP_LOCAL;
		goto out;
	}
	snprintf(o->id, sizeof(o->id), "%s", r.cid);
	o->have_round_trip = 1;
	o->round_trip_ms = rep.total_ms;
	switch (rep.outcome) {
	case WAIT_RESULT:
		msg_capture(&o->why);
		if (load_result(p->results, r.cid, o, &ri) == 0 &&
		    o->state != MCP_LOCAL)
			(void)archive_result(p, &r, &ri, 1, rep.total_ms);
		msg_capture(NULL);
		break;
	case WAIT_WITHDRAWN:
		o->state = MCP_LOCAL;
		(void)buf_append_str(&o->why, "the server was stopped before "
				     "dom0 took the request; it was withdrawn "
				     "and nothing ran");
		break;
	default:
		/* still queued or running: the result lands in history/ */
		o->state = MCP_PENDING;
		o->running = rep.claimed;
		if (rep.claimed && rep.have_note &&
		    rep.note.status == RESULT_ASKING)
			snprintf(o->note, sizeof(o->note), "%s", rep.note.text);
		(void)archive_leave(p, &r);
		break;
	}
out:
	request_release(&r);
	return 0;
}

static int tool_lookup(void *ctx, const char *cid, struct mcp_outcome *o)
{
	const struct vm_layout *p = ctx;
	char hist[PATH_MAX], path[PATH_MAX];
	struct result_info ri;
	int round, r;

	if (!cid_valid(cid, strlen(cid)) ||
	    path_history_of(p, cid, hist, sizeof(hist)) != 0) {
		o->state = MCP_UNKNOWN;
		return 0;
	}
	msg_capture(&o->why);
	/* results that arrived after their run answered pending */
	if (archive_collect(p) < 0)
		msg("cannot collect late results from the queue: %s",
		    strerror(errno));
	buf_reset(&o->why);
	o->state = MCP_UNKNOWN;
	/* twice: a result may move from results/ to history/, or appear
	 * while running/ empties, between two looks */
	for (round = 0; round < 2; round++) {
		if ((r = load_result(p->results, cid, o, &ri)) !=
		    QR_ERR_NOT_FOUND ||
		    (r = load_result(hist, NULL, o, &ri)) != QR_ERR_NOT_FOUND)
			break;
		r = 0;
		if (round > 0)
			break;
		if (path_cid(path, sizeof(path), p->pending, cid,
			     VM_TOKEN) == 0 && exists(path)) {
			o->state = MCP_PENDING;
			break;
		}
		if ((path_cid(path, sizeof(path), p->running, cid, "") == 0 &&
		     exists(path)) ||
		    (path_join(path, sizeof(path), hist, "command") == 0 &&
		     exists(path))) {
			struct note nt;
			o->state = MCP_PENDING;
			o->running = 1;
			if (note_load(p, cid, &nt) == 0 &&
			    nt.status == RESULT_ASKING)
				snprintf(o->note, sizeof(o->note), "%s",
					 nt.text);
			break;
		}
	}
	msg_capture(NULL);
	if (r != 0) {
		o->state = MCP_LOCAL;
		(void)buf_printf(&o->why, "cannot look up %s: %s", cid,
				 qr_strerror(r));
	}
	return 0;
}

void mcptool_backend(struct mcp_backend *be, const struct vm_layout *p)
{
	memset(be, 0, sizeof(*be));
	be->ctx = (void *)p;
	be->submit = tool_submit;
	be->lookup = tool_lookup;
	be->has_check = 1;
}
