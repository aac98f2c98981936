/*
 * jsonout.c - --json: one object on stdout for a request's outcome.
 *
 * {"id":"CID","status":"ok","exit":0,"reason":"",
 *  "stdout":"...","stdout_encoding":"utf-8","stdout_truncated":false,
 *  "stderr":"...","stderr_encoding":"base64","stderr_truncated":false,
 *  "duration_ms":12,"round_trip_ms":40}
 *
 * Streams are read twice through a fixed buffer (a UTF-8 check, then the
 * encoding), so a large output never sits in memory whole.
 */
#include "output.h"
#include "fdio.h"
#include "json.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "err.h"
#include "fileio.h"

#include "banned.h"

#define JW_FLUSH (64u << 10)

struct jw {
	struct buf b;
	int err;          /* first failure; later writes do nothing */
};

static void jw_flush(struct jw *w)
{
	if (!w->err && w->b.len &&
	    write_all(STDOUT_FILENO, w->b.data, w->b.len) != 0)
		w->err = errno == EPIPE ? QR_ERR_INCOMPLETE : QR_ERR_SYSTEM;
	buf_reset(&w->b);
}

static void jw_check(struct jw *w, int r)
{
	if (r != 0 && !w->err)
		w->err = r;
	if (w->b.len >= JW_FLUSH)
		jw_flush(w);
}

static void jw_raw(struct jw *w, const char *s)
{
	jw_check(w, buf_append_str(&w->b, s));
}

static void jw_key_str(struct jw *w, const char *key, const char *val)
{
	jw_check(w, buf_printf(&w->b, ",\"%s\":", key));
	jw_check(w, json_quote(&w->b, val));
}

static void jw_key_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_check(w, buf_printf(&w->b, ",\"%s\":%llu", key,
			       (unsigned long long)v));
}

/* Whether fd's bytes are UTF-8; rewinds fd.  -1 on a read error. */
static int stream_is_utf8(int fd)
{
	static uint8_t chunk[FDIO_CHUNK];
	struct utf8_state u;
	ssize_t n;

	utf8_init(&u);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		utf8_feed(&u, chunk, (size_t)n);
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	return utf8_valid(&u);
}

/* Appends the stream's bytes as JSON string text or base64. */
static int stream_encode(struct jw *w, int fd, int utf8)
{
	static uint8_t chunk[FDIO_CHUNK];
	size_t have = 0, use;
	ssize_t n;

	for (;;) {
		n = read(fd, chunk + have, sizeof(chunk) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QR_ERR_SYSTEM;
		have += (size_t)n;
		/* base64 in groups of 3 bytes until the end, so the chunks
		 * join into one valid encoding. */
		use = utf8 || n == 0 ? have : have - have % 3;
		jw_check(w, utf8 ? json_escape(&w->b, chunk, use) :
			 b64_encode(&w->b, chunk, use, 0));
		if (w->err)
			return w->err;
		memmove(chunk, chunk + use, have - use);
		have -= use;
		if (n == 0)
			return 0;
	}
}

static void jw_stream(struct jw *w, const struct vm_layout *p,
		      const char *cid, const char *sfx, const char *name,
		      int show, int truncated)
{
	char path[PATH_MAX], key[32];
	int fd = -1, utf8 = 1;

	if (show && path_cid(path, sizeof(path), p->results, cid, sfx) == 0)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (utf8 = stream_is_utf8(fd)) < 0)
		jw_check(w, QR_ERR_SYSTEM);
	jw_check(w, buf_printf(&w->b, ",\"%s\":\"", name));
	if (fd >= 0 && !w->err)
		jw_check(w, stream_encode(w, fd, utf8));
	jw_raw(w, "\"");
	snprintf(key, sizeof(key), "%s_encoding", name);
	jw_key_str(w, key, utf8 ? "utf-8" : "base64");
	jw_check(w, buf_printf(&w->b, ",\"%s_truncated\":%s", name,
			       truncated ? "true" : "false"));
	if (fd >= 0)
		close(fd);
}

static int jw_end(struct jw *w)
{
	int r;

	jw_raw(w, "}\n");
	jw_flush(w);
	r = w->err;
	buf_release(&w->b);
	if (r == QR_ERR_INCOMPLETE)    /* stdout closed by its reader */
		return 0;
	if (r != 0)
		msg("cannot write the JSON result: %s",
		    r == QR_ERR_SYSTEM ? strerror(errno) : qr_strerror(r));
	return r;
}

static void jw_begin(struct jw *w, const char *cid, const char *status,
		     int exit_code)
{
	/* The limit is the flush point plus the largest single append. */
	buf_init(&w->b, JW_FLUSH + 2 * FDIO_CHUNK * 6 + 4096);
	w->err = 0;
	jw_raw(w, "{\"id\":");
	jw_check(w, json_quote(&w->b, cid));
	jw_key_str(w, "status", status);
	jw_key_u64(w, "exit", (uint64_t)exit_code);
}

int json_show_result(const struct vm_layout *p,
		     const struct result_info *ri, const struct show_opts *so,
		     const char *reason)
{
	const struct result_meta *m = &ri->meta;
	int show = m->status != RESULT_REJECTED && m->status != RESULT_ERROR;
	struct jw w;

	jw_begin(&w, so->cid, result_status_name(m->status),
		 result_client_code(ri));
	jw_key_str(&w, "reason", reason);
	jw_stream(&w, p, so->cid, ".out", "stdout", show, m->out_truncated);
	jw_stream(&w, p, so->cid, ".err", "stderr", show, m->err_truncated);
	jw_key_u64(&w, "duration_ms", m->duration_ms);
	jw_key_u64(&w, "round_trip_ms", so->round_trip_ms);
	return jw_end(&w);
}

int json_show_outcome(const char *cid, const char *status, int exit_code,
		      const char *reason, uint64_t round_trip_ms)
{
	struct jw w;

	jw_begin(&w, cid, status, exit_code);
	jw_key_str(&w, "reason", reason);
	jw_raw(&w, ",\"stdout\":\"\",\"stdout_encoding\":\"utf-8\","
	       "\"stdout_truncated\":false,\"stderr\":\"\","
	       "\"stderr_encoding\":\"utf-8\",\"stderr_truncated\":false");
	jw_key_u64(&w, "duration_ms", 0);
	jw_key_u64(&w, "round_trip_ms", round_trip_ms);
	return jw_end(&w);
}
