/*
 * test_client_mcp.c - the mcp server's pure half: messages in, replies
 * out, through a stub backend; the bounded line reader; the check parser.
 */
#include "mcp.h"
#include "mcpline.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "argvbody.h"
#include "err.h"

#include "banned.h"

#define CID "20260101-000000-42-0123456789abcdef0123456789abcdef"

/* What the stub answers, and what it was asked. */
static struct {
	enum mcp_state state;
	enum result_status status;
	const char *out;
	size_t out_len;
	int out_truncated;
	const char *note;
	int calls;
	struct mcp_call last;
	char last_id[CID_MAX + 1];
} stub;

static int stub_submit(void *ctx, const struct mcp_call *c,
		       struct mcp_outcome *o)
{
	stub.calls++;
	stub.last.wait_s = c->wait_s;
	stub.last.timeout = c->timeout;
	memcpy(stub.last.user, c->user, sizeof(c->user));
	buf_reset(&stub.last.body);
	assert_int_equal(buf_append(&stub.last.body, c->body.data,
				    c->body.len), 0);
	snprintf(o->id, sizeof(o->id), "%s", CID);
	o->state = stub.state;
	o->meta.status = stub.status;
	if (stub.status == RESULT_REJECTED)
		snprintf(o->meta.reason, sizeof(o->meta.reason),
			 "denied by policy: no rule");
	if (stub.out)
		assert_int_equal(buf_append(&o->out.data, stub.out,
					    stub.out_len), 0);
	o->out.truncated = stub.out_truncated;
	o->out.bytes = stub.out_len;
	o->exit_code = stub.status == RESULT_OK ? 3 : 126;
	if (stub.note) {
		o->running = 1;
		snprintf(o->note, sizeof(o->note), "%s", stub.note);
	}
	return 0;
}

static int stub_lookup(void *ctx, const char *cid, struct mcp_outcome *o)
{
	stub.calls++;
	snprintf(stub.last_id, sizeof(stub.last_id), "%s", cid);
	o->state = MCP_UNKNOWN;
	return 0;
}

static struct mcp_backend be = { NULL, stub_submit, stub_lookup, 0 };
static struct mcp_server srv;

static int setup(void **state)
{
	memset(&stub, 0, sizeof(stub));
	buf_init(&stub.last.body, BODY_MAX);
	stub.state = MCP_DONE;
	stub.status = RESULT_OK;
	be.has_check = 0;
	mcp_server_init(&srv, &be, "9.9");
	return 0;
}

static int teardown(void **state)
{
	buf_release(&stub.last.body);
	return 0;
}

/* The reply to msg, parsed; NULL when there was none. */
static json_t *ask(const char *msg)
{
	struct buf out = BUF_INIT(MCP_REPLY_MAX);
	json_error_t je;
	json_t *j = NULL;

	assert_int_equal(mcp_handle(&srv, msg, strlen(msg), &out), 0);
	if (out.len) {
		assert_null(memchr(out.data, '\n', out.len));
		j = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &je);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j,
					"jsonrpc")), "2.0");
	}
	buf_release(&out);
	return j;
}

static int error_code(json_t *j)
{
	assert_non_null(j);
	return (int)json_integer_value(json_object_get(
		json_object_get(j, "error"), "code"));
}

static void expect_error(const char *msg, int code, int id_null)
{
	json_t *j = ask(msg);

	assert_int_equal(error_code(j), code);
	if (id_null)
		assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);
}

static json_t *sc_of(json_t *j)
{
	return json_object_get(json_object_get(j, "result"),
			       "structuredContent");
}

static void test_initialize_negotiates(void **state)
{
	json_t *j = ask("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"initialize\",\"params\":{\"protocolVersion\":"
			"\"2025-03-26\"}}");
	json_t *r = json_object_get(j, "result");

	assert_string_equal(json_string_value(json_object_get(r,
				"protocolVersion")), "2025-03-26");
	assert_non_null(json_object_get(json_object_get(r, "capabilities"),
					"tools"));
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(r, "serverInfo"), "name")), "qvm-remote");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(r, "serverInfo"), "version")), "9.9");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
	json_decref(j);
	j = ask("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"initialize\","
		"\"params\":{\"protocolVersion\":\"2099-01-01\"}}");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(j, "result"), "protocolVersion")),
		MCP_PROTOCOL_LATEST);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "x");
	json_decref(j);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		     "\"params\":{}}", MCP_INVALID_PARAMS, 0);
}

static void test_notifications_get_no_reply(void **state)
{
	assert_null(ask("{\"jsonrpc\":\"2.0\",\"method\":"
			"\"notifications/initialized\"}"));
	assert_true(srv.initialized);
	assert_null(ask("{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}"));
	assert_null(ask("{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\","
			"\"params\":{\"name\":\"run\",\"arguments\":"
			"{\"argv\":[\"id\"]}}}"));
	assert_int_equal(stub.calls, 0);
	/* a response to a request we never sent */
	assert_null(ask("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}"));
	assert_null(ask("   "));
}

static void test_parse_errors_have_id_null(void **state)
{
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,", MCP_PARSE_ERROR, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} 1",
		     MCP_PARSE_ERROR, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":"
		     "\"ping\"}", MCP_PARSE_ERROR, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xc3\"}",
		     MCP_PARSE_ERROR, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\\u0000\"}",
		     MCP_PARSE_ERROR, 1);
}

/* The reply's error message holds want. */
static void expect_message(const char *msg, const char *want)
{
	json_t *j = ask(msg);
	const char *m = json_string_value(json_object_get(json_object_get(j,
						"error"), "message"));

	assert_non_null(m);
	assert_non_null(strstr(m, want));
	json_decref(j);
}

static void test_invalid_requests(void **state)
{
	/* named as what they are, so a client knows what to change */
	expect_message("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		       "batches are not supported");
	expect_message("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xed\xa0\x80\"}",
		       "not UTF-8");
	expect_error("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		     MCP_INVALID_REQUEST, 1);
	expect_error("[]", MCP_INVALID_REQUEST, 1);
	expect_error("\"ping\"", MCP_INVALID_REQUEST, 1);
	expect_error("{\"id\":1,\"method\":\"ping\"}", MCP_INVALID_REQUEST, 0);
	expect_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, 0);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, 1);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":1}",
		     MCP_INVALID_REQUEST, 0);
	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":3}", MCP_INVALID_REQUEST, 0);
}

static void test_methods(void **state)
{
	json_t *j;

	expect_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}",
		     MCP_METHOD_NOT_FOUND, 0);
	j = ask("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	assert_true(json_is_object(json_object_get(j, "result")));
	assert_int_equal(json_object_size(json_object_get(j, "result")), 0);
	json_decref(j);
	j = ask("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j,
				"result"), "tools")), 2);
	json_decref(j);
	be.has_check = 1;
	j = ask("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j,
				"result"), "tools")), 3);
	json_decref(j);
}

static void call(const char *tool, const char *args, char *msg, size_t n)
{
	snprintf(msg, n, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
		 "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":"
		 "%s}}", tool, args);
}

static void expect_invalid_args(const char *tool, const char *args)
{
	char msg[512];

	call(tool, args, msg, sizeof(msg));
	expect_error(msg, MCP_INVALID_PARAMS, 0);
}

static void test_arguments_follow_the_schema(void **state)
{
	expect_invalid_args("nosuch", "{}");
	expect_invalid_args("policy_check", "{\"argv\":[\"id\"]}");
	expect_invalid_args("run", "{}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"x\":1}");
	expect_invalid_args("run", "{\"argv\":\"id\"}");
	expect_invalid_args("run", "{\"argv\":[]}");
	expect_invalid_args("run", "{\"argv\":[1]}");
	expect_invalid_args("run", "{\"argv\":[\"\"]}");
	expect_invalid_args("run", "{\"argv\":[\"a\\u0007\"]}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"timeout_s\":0}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"timeout_s\":1.5}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"timeout_s\":86401}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"wait_s\":-1}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"user\":\"Root\"}");
	expect_invalid_args("run", "{\"argv\":[\"id\"],\"user\":7}");
	expect_invalid_args("run", "[\"id\"]");
	expect_invalid_args("result", "{}");
	expect_invalid_args("result", "{\"id\":\"../x\"}");
	expect_invalid_args("result", "{\"id\":\"" CID "\",\"y\":1}");
	assert_int_equal(stub.calls, 0);
}

static void test_run_passes_the_vector(void **state)
{
	const char expect[] = "echo\0a b\0\0";
	char msg[512];
	json_t *j, *sc;

	call("run", "{\"argv\":[\"echo\",\"a b\",\"\"],\"user\":\"alice\","
	     "\"timeout_s\":5,\"wait_s\":0}", msg, sizeof(msg));
	stub.out = "hi\n";
	stub.out_len = 3;
	j = ask(msg);
	assert_int_equal(stub.calls, 1);
	assert_int_equal(stub.last.body.len, sizeof(expect) - 1);
	assert_memory_equal(stub.last.body.data, expect, sizeof(expect) - 1);
	assert_string_equal(stub.last.user, "alice");
	assert_int_equal(stub.last.timeout, 5);
	assert_int_equal(stub.last.wait_s, 0);
	sc = sc_of(j);
	assert_string_equal(json_string_value(json_object_get(sc, "state")),
			    "done");
	assert_string_equal(json_string_value(json_object_get(sc, "id")), CID);
	assert_int_equal(json_integer_value(json_object_get(sc, "exit_code")),
			 3);
	assert_string_equal(json_string_value(json_object_get(sc, "stdout")),
			    "hi\n");
	assert_true(json_is_false(json_object_get(json_object_get(j,
				"result"), "isError")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(json_object_get(j, "result"), "content"), 0),
		"type")), "text");
	json_decref(j);
	/* wait_s defaults to MCP_WAIT_DEFAULT */
	call("run", "{\"argv\":[\"id\"]}", msg, sizeof(msg));
	json_decref(ask(msg));
	assert_int_equal(stub.last.wait_s, MCP_WAIT_DEFAULT);
}

static const char *stdout_of(json_t *j, const char **enc)
{
	*enc = json_string_value(json_object_get(sc_of(j), "stdout_encoding"));
	return json_string_value(json_object_get(sc_of(j), "stdout"));
}

static void test_streams_are_utf8_or_base64(void **state)
{
	char msg[256];
	const char *enc;
	json_t *j;

	call("run", "{\"argv\":[\"id\"]}", msg, sizeof(msg));
	stub.out = "\xff\x01";
	stub.out_len = 2;
	j = ask(msg);
	assert_string_equal(stdout_of(j, &enc), "/wE=");
	assert_string_equal(enc, "base64");
	json_decref(j);
	/* cut by the bound inside a character: the cut character goes */
	stub.out = "ok \xe2\x82";
	stub.out_len = 5;
	stub.out_truncated = 1;
	j = ask(msg);
	assert_string_equal(stdout_of(j, &enc), "ok ");
	assert_string_equal(enc, "utf-8");
	assert_true(json_is_true(json_object_get(sc_of(j),
						 "stdout_truncated")));
	json_decref(j);
}

static void test_refused_and_pending(void **state)
{
	char msg[256];
	json_t *j;

	call("run", "{\"argv\":[\"id\"]}", msg, sizeof(msg));
	stub.state = MCP_REFUSED;
	stub.status = RESULT_REJECTED;
	j = ask(msg);
	assert_true(json_is_true(json_object_get(json_object_get(j, "result"),
						 "isError")));
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"state")), "refused");
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"reason")), "denied by policy: no rule");
	json_decref(j);
	stub.state = MCP_PENDING;
	stub.status = RESULT_OK;
	j = ask(msg);
	assert_true(json_is_false(json_object_get(json_object_get(j, "result"),
						  "isError")));
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"state")), "pending");
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"stage")), "queued");
	assert_null(json_object_get(sc_of(j), "reason"));
	json_decref(j);
}

/* A request dom0 holds for a person: pending, stage approval, and the
 * note's words in the text the agent reads. */
static void test_pending_for_approval(void **state)
{
	static const char why[] = "waiting for approval in dom0 (ask: "
				  "/etc/qubes/remote-policy.d/30-agent.policy:7)";
	char msg[256];
	const char *text;
	json_t *j, *res;

	call("run", "{\"argv\":[\"id\"]}", msg, sizeof(msg));
	stub.state = MCP_PENDING;
	stub.note = why;
	j = ask(msg);
	res = json_object_get(j, "result");
	assert_true(json_is_false(json_object_get(res, "isError")));
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"state")), "pending");
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"stage")), "approval");
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"reason")), why);
	text = json_string_value(json_object_get(json_array_get(
			json_object_get(res, "content"), 0), "text"));
	assert_non_null(text);
	assert_non_null(strstr(text, "waiting for approval in dom0 (ask: "));
	json_decref(j);
}

static void test_result_checks_the_id_first(void **state)
{
	char msg[256];
	json_t *j;

	call("result", "{\"id\":\"" CID "\"}", msg, sizeof(msg));
	j = ask(msg);
	assert_int_equal(stub.calls, 1);
	assert_string_equal(stub.last_id, CID);
	assert_string_equal(json_string_value(json_object_get(sc_of(j),
				"state")), "unknown");
	assert_true(json_is_true(json_object_get(json_object_get(j, "result"),
						 "isError")));
	json_decref(j);
}

static void test_too_long_reply(void **state)
{
	struct buf out = BUF_INIT(MCP_REPLY_MAX);
	json_error_t je;
	json_t *j;

	assert_int_equal(mcp_reply_too_long(&out), 0);
	j = json_loadb(out.data, out.len, 0, &je);
	assert_int_equal(error_code(j), MCP_INVALID_REQUEST);
	assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);
	buf_release(&out);
}

/* Feeds all of s in chunks of k bytes; events into ev[], lines joined
 * with '|' into got. */
static size_t feed(struct mcp_lines *l, const char *s, size_t n, size_t k,
		   enum mcp_line_ev *ev, char *got, size_t gotn)
{
	size_t off = 0, used, take, m = 0;
	enum mcp_line_ev e;

	got[0] = '\0';
	while (off < n) {
		take = n - off < k ? n - off : k;
		assert_int_equal(mcp_lines_feed(l, (const uint8_t *)s + off,
						take, &used, &e), 0);
		off += used;
		if (e != MCP_LINE_MORE)
			ev[m++] = e;
		if (e == MCP_LINE_READY) {
			assert_true(strlen(got) + l->line.len + 2 < gotn);
			memcpy(got + strlen(got), l->line.data, l->line.len + 1);
			memcpy(got + strlen(got), "|", 2);
		}
		assert_true(used > 0 || e == MCP_LINE_TOO_LONG);
	}
	return m;
}

static void test_lines_skip_an_overlong_one(void **state)
{
	const char in[] = "abc\n0123456789xyz\nde\nf";
	enum mcp_line_ev ev[8];
	struct mcp_lines l;
	char got[64];
	size_t k, m;

	for (k = 1; k <= sizeof(in); k++) {
		mcp_lines_init(&l, 5);
		m = feed(&l, in, sizeof(in) - 1, k, ev, got, sizeof(got));
		assert_int_equal(m, 3);
		assert_int_equal(ev[0], MCP_LINE_READY);
		assert_int_equal(ev[1], MCP_LINE_TOO_LONG);
		assert_int_equal(ev[2], MCP_LINE_READY);
		assert_string_equal(got, "abc|de|");
		/* never more than the maximum held */
		assert_true(l.line.cap <= 64);
		assert_int_equal(mcp_lines_end(&l), MCP_LINE_READY);
		assert_int_equal(l.line.len, 1);
		assert_int_equal(mcp_lines_end(&l), MCP_LINE_MORE);
		mcp_lines_release(&l);
	}
}

static void test_decision_parse(void **state)
{
	const char ok[] = "decision=deny\nrule=/etc/p/10.policy:3\nuser=root\n"
			  "timeout=30\nlater=1\n";
	struct mcp_decision d;

	assert_int_equal(mcp_decision_parse(ok, sizeof(ok) - 1, &d), 0);
	assert_string_equal(d.decision, "deny");
	assert_string_equal(d.rule, "/etc/p/10.policy:3");
	assert_string_equal(d.user, "root");
	assert_true(d.have_timeout);
	assert_int_equal(d.timeout, 30);
	assert_int_equal(mcp_decision_parse("decision=allow\nrule=no policy\n",
					    30, &d), 0);
	assert_string_equal(d.rule, "no policy");
	assert_int_equal(mcp_decision_parse("decision=deny\nreason=denied by "
					    "policy: no rule\n", 47, &d), 0);
	assert_string_equal(d.reason, "denied by policy: no rule");
	assert_int_equal(mcp_decision_parse("decision=ask", 12, &d), 0);
	assert_int_equal(mcp_decision_parse("decision=allow\nuser=Root\n", 25,
					    &d), QR_ERR_INVALID);
	assert_int_equal(mcp_decision_parse("decision=maybe\n", 15, &d),
			 QR_ERR_INVALID);
	assert_int_equal(mcp_decision_parse("rule=none\n", 10, &d),
			 QR_ERR_INVALID);
	assert_int_equal(mcp_decision_parse("decision=allow\njunk\n", 20, &d),
			 QR_ERR_INVALID);
	assert_int_equal(mcp_decision_parse("decision=allow\ntimeout=x\n",
					    25, &d), QR_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initialize_negotiates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifications_get_no_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors_have_id_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arguments_follow_the_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_passes_the_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_are_utf8_or_base64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_for_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_checks_the_id_first, setup, teardown),
		cmocka_unit_test(test_too_long_reply),
		cmocka_unit_test(test_lines_skip_an_overlong_one),
		cmocka_unit_test(test_decision_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
