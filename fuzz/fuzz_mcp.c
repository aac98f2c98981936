/*
 * fuzz_mcp.c - the mcp server's stdin: bytes cut into lines by
 * mcp_lines_feed (a small maximum, so overlong lines happen), each line
 * through mcp_handle with a stub backend whose outcomes, output bytes
 * included, come from the input too.
 *
 * Beyond memory safety: a line never holds more than its maximum; every
 * reply is one line of strict JSON, an object with "jsonrpc":"2.0", an id
 * and exactly one of result and error; a parse error's id is null; a
 * tool result has content and a structuredContent object.
 */
#include "mcp.h"
#include "mcpline.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"

#include "banned.h"

#define FUZZ_LINE_MAX 512

static const uint8_t *seed;
static size_t seed_len;

static void fill(struct mcp_outcome *o)
{
	uint8_t k = seed_len ? seed[seed_len / 2] : 0;

	o->state = (enum mcp_state)(k % 6);
	o->meta.status = (enum result_status)((k >> 3) % 5);
	o->running = k & 1;
	o->out.truncated = (k >> 1) & 1;
	snprintf(o->id, sizeof(o->id), "20260101-000000-1-0123abcd");
	(void)buf_append(&o->out.data, seed, seed_len < MCP_STREAM_MAX ?
			 seed_len : MCP_STREAM_MAX);
	(void)buf_append(&o->why, seed, seed_len < 64 ? seed_len : 64);
	if (seed_len)
		snprintf(o->meta.reason, sizeof(o->meta.reason), "%.*s",
			 (int)(seed_len < 40 ? seed_len : 40),
			 (const char *)seed);
}

static int stub_submit(void *ctx, const struct mcp_call *c,
		       struct mcp_outcome *o)
{
	FUZZ_CHECK(c->body.len > 0 && c->body.data[c->body.len - 1] == '\0');
	FUZZ_CHECK(c->wait_s <= MCP_WAIT_MAX && c->timeout <= TIMEOUT_MAX);
	fill(o);
	return 0;
}

static int stub_lookup(void *ctx, const char *cid, struct mcp_outcome *o)
{
	FUZZ_CHECK(cid_valid(cid, strlen(cid)));
	fill(o);
	return 0;
}

static void check_reply(const struct buf *out)
{
	json_error_t je;
	json_t *j, *id, *res;

	if (out->len == 0)
		return;
	FUZZ_CHECK(memchr(out->data, '\n', out->len) == NULL);
	/* \u0000 is JSON (a command's stdout may hold NUL bytes), which
	 * jansson reads only when asked to */
	j = json_loadb(out->data, out->len,
		       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	FUZZ_CHECK(j != NULL && json_is_object(j));
	FUZZ_CHECK(json_is_string(json_object_get(j, "jsonrpc")) &&
		   strcmp(json_string_value(json_object_get(j, "jsonrpc")),
			  "2.0") == 0);
	id = json_object_get(j, "id");
	FUZZ_CHECK(id != NULL);
	res = json_object_get(j, "result");
	FUZZ_CHECK((res != NULL) != (json_object_get(j, "error") != NULL));
	if (!res && json_integer_value(json_object_get(json_object_get(j,
				"error"), "code")) == MCP_PARSE_ERROR)
		FUZZ_CHECK(json_is_null(id));
	if (res && json_object_get(res, "structuredContent"))
		FUZZ_CHECK(json_is_object(json_object_get(res,
					"structuredContent")) &&
			   json_is_array(json_object_get(res, "content")));
	json_decref(j);
}

static void handle(struct mcp_server *s, struct mcp_lines *l,
		   enum mcp_line_ev ev, struct buf *out)
{
	FUZZ_CHECK(l->line.len <= FUZZ_LINE_MAX);
	buf_reset(out);
	if (ev == MCP_LINE_READY)
		FUZZ_CHECK(mcp_handle(s, buf_str(&l->line), l->line.len,
				      out) == 0);
	else if (ev == MCP_LINE_TOO_LONG)
		FUZZ_CHECK(mcp_reply_too_long(out) == 0);
	check_reply(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcp_backend be = { NULL, stub_submit, stub_lookup,
				  size > 0 && (data[0] & 1) };
	struct buf out = BUF_INIT(MCP_REPLY_MAX);
	struct mcp_server s;
	struct mcp_lines l;
	enum mcp_line_ev ev;
	size_t off = 0, used;

	seed = data;
	seed_len = size;
	mcp_server_init(&s, &be, "fuzz");
	mcp_lines_init(&l, FUZZ_LINE_MAX);
	while (off < size) {
		FUZZ_CHECK(mcp_lines_feed(&l, data + off, size - off, &used,
					  &ev) == 0);
		FUZZ_CHECK(used <= size - off);
		FUZZ_CHECK(used > 0 || ev == MCP_LINE_TOO_LONG);
		off += used;
		handle(&s, &l, ev, &out);
	}
	handle(&s, &l, mcp_lines_end(&l), &out);
	mcp_lines_release(&l);
	buf_release(&out);
	return 0;
}
