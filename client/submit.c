/*
 * submit.c - build a request and publish it.
 */
#include "submit.h"
#include "auditlog.h"
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "argvbody.h"
#include "err.h"
#include "hex.h"
#include "fileio.h"
#include "bounds.h"
#include "logline.h"
#include "token.h"

#include "banned.h"

/* Bytes of the command kept in the SUBMIT line's preview. */
#define SUBMIT_PREVIEW_MAX 120

void request_init(struct request *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, BODY_MAX);
	buf_init(&r->in, IN_MAX);
}

void request_release(struct request *r)
{
	buf_release(&r->body);
	buf_release(&r->in);
}

int sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return QR_ERR_CRYPTO;
	hex_encode(md, mdlen, out);
	out[64] = '\0';
	return 0;
}

void request_remove_parts(const struct vm_layout *p, const char *cid)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < VM_REQUEST_FILES; i++)
		if (path_cid(path, sizeof(path), p->pending, cid,
			     vm_request_suffix[i]) == 0)
			(void)unlink(path);
}

static int put(const struct vm_layout *p, const char *cid,
	       const char *sfx, const void *data, size_t n)
{
	char name[CID_MAX + 8], show[PATH_MAX], path[PATH_MAX];
	int r;

	snprintf(name, sizeof(name), "%s%s", cid, sfx);
	if ((r = write_file_atomic(p->pending, name, data, n, 0600, 0)) != 0) {
		(void)path_join(path, sizeof(path), p->pending, name);
		msg("cannot write %s: %s; check the queue with: qvm-remote "
		    "queue status", path_show(p, path, show, sizeof(show)),
		    r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
	}
	return r;
}

static int submit_fields(struct buf *line, const struct request *r,
			 const char *cmd, size_t n)
{
	int e;

	if ((e = logline_begin(line, r->submitted, "SUBMIT")) != 0 ||
	    (e = logline_kvs(line, "id", r->cid)) != 0 ||
	    (e = logline_kvu(line, "bytes", r->body.len)) != 0 ||
	    (r->has_in && (e = logline_kvu(line, "in", r->in.len)) != 0) ||
	    (r->opts.timeout &&
	     (e = logline_kvu(line, "timeout", r->opts.timeout)) != 0) ||
	    (r->opts.form == BODY_ARGV &&
	     (e = logline_kvs(line, "form", "argv")) != 0) ||
	    (r->opts.user[0] &&
	     (e = logline_kvs(line, "user", r->opts.user)) != 0) ||
	    (r->opts.cancel[0] &&
	     (e = logline_kvs(line, "cancel", r->opts.cancel)) != 0) ||
	    (e = logline_kvs(line, "sha256", r->sha256)) != 0 ||
	    (e = logline_kv(line, "cmd", cmd, n, SUBMIT_PREVIEW_MAX)) != 0)
		return e;
	return logline_end(line);
}

/* A vector shows as the words a shell would take back (one byte more than
 * the preview, so that it marks the cut), a script without the final
 * newline argv joining adds. */
static int submit_line(struct buf *line, const struct request *r)
{
	struct buf words = BUF_INIT(8 * SUBMIT_PREVIEW_MAX);
	const char *b = r->body.data ? r->body.data : "";
	size_t n = r->body.len;
	int e;

	if (r->opts.form == BODY_ARGV) {
		e = argvbody_quote(&words, (const uint8_t *)b, n,
				   SUBMIT_PREVIEW_MAX + 1);
		if (e == 0)
			e = submit_fields(line, r, buf_str(&words), words.len);
	} else {
		e = submit_fields(line, r, b, n > 0 && b[n - 1] == '\n'
				  ? n - 1 : n);
	}
	buf_release(&words);
	return e;
}

int request_shape_check(const struct request *r)
{
	const struct req_opts *o = &r->opts;

	if (o->cancel[0] == '\0')
		return r->body.len > 0 ? 0 : QR_ERR_INVALID;
	/* a withdraw: nothing to run, and nothing else asked */
	return r->body.len == 0 && !r->has_in && o->timeout == 0 &&
	       o->form == BODY_SCRIPT && o->user[0] == '\0' && !o->check
	       ? 0 : QR_ERR_INVALID;
}

int request_publish(struct request *r, const struct vm_layout *p,
		    const struct key *k)
{
	struct buf opt = BUF_INIT(OPT_MAX), line = BUF_INIT(4096);
	char token[TOKEN_V2_TEXT_LEN + 1];
	struct token_input ti;
	int e;

	r->cid[0] = '\0';
	if ((e = request_shape_check(r)) != 0) {
		msg("cannot submit the request: %s",
		    r->opts.cancel[0] ? "a withdraw has an empty body and "
		    "no other option" : "the command is empty");
		return e;
	}
	if (clock_gettime(CLOCK_REALTIME, &r->made) != 0)
		r->made.tv_sec = time(NULL);
	r->submitted = r->made.tv_sec;
	if ((e = cid_generate(r->cid, r->submitted, getpid())) != 0) {
		msg("cannot make a request id: %s", strerror(errno));
		goto out;
	}
	if ((e = opts_format(&opt, &r->opts)) != 0 ||
	    (e = sha256_hex(r->body.data, r->body.len, r->sha256)) != 0) {
		msg("cannot prepare the request: %s", qr_strerror(e));
		goto out;
	}
	memset(&ti, 0, sizeof(ti));
	ti.cid = r->cid;
	ti.cid_len = strlen(r->cid);
	ti.body = (const uint8_t *)r->body.data;
	ti.body_len = r->body.len;
	if (opt.len) {
		ti.opt = (const uint8_t *)opt.data;
		ti.opt_len = opt.len;
	}
	if (r->has_in) {
		ti.in = (const uint8_t *)(r->in.data ? r->in.data : "");
		ti.in_len = r->in.len;
	}
	if ((e = token_v2_text(k, &ti, token)) != 0) {
		msg("cannot compute the request token: %s", qr_strerror(e));
		goto out;
	}
	if ((e = put(p, r->cid, "", r->body.data, r->body.len)) != 0 ||
	    (r->has_in && (e = put(p, r->cid, VM_INPUT, ti.in, ti.in_len)) != 0) ||
	    (opt.len && (e = put(p, r->cid, VM_OPTIONS, opt.data, opt.len)) != 0))
		goto out;
	/* Logged before the token appears, so SUBMIT always precedes what
	 * dom0's deliver appends for the same id. */
	if (submit_line(&line, r) == 0)
		(void)audit_append(p, &line);
	e = put(p, r->cid, VM_TOKEN, token, strlen(token));
out:
	if (e != 0 && r->cid[0])
		request_remove_parts(p, r->cid);
	explicit_bzero(token, sizeof(token));
	buf_release(&opt);
	buf_release(&line);
	return e;
}
