/*
 * mcp.c - the MCP server's messages: parse, check, dispatch, reply.
 */
#include "mcp.h"
#include "json.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argvbody.h"
#include "b64.h"
#include "bodyrule.h"
#include "err.h"
#include "reader.h"

#include "banned.h"

#define FAULT_MAX 256
#define NAME_SHOWN 64     /* bytes of a client's name quoted in an error */

/* Newest first: the first is offered when the client asks for another. */
static const char *const versions[] = {
	MCP_PROTOCOL_LATEST, "2025-03-26", "2024-11-05",
};

/* A JSON-RPC error on its way to the reply. */
struct fault {
	int code;
	char msg[FAULT_MAX];
};

static int fault(struct fault *f, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fault(struct fault *f, int code, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return QR_ERR_INVALID;
}

/*
 * Appends text for the agent, at most max input bytes ("..." when cut):
 * printable ASCII and well-formed UTF-8 as they are, line ends between
 * lines as "; ", other bytes as \xHH.  So what dom0, the queue or the
 * client sent reaches the reply as one line of valid UTF-8.
 */
static int clean(struct buf *out, const char *s, size_t n, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, len;
	int r = 0;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	while (i < n && i < max && r == 0) {
		len = p[i] >= 0x80 ? utf8_char_len(p + i, n - i) : 1;
		if (p[i] >= 0x20 && p[i] < 0x7f)
			r = buf_append(out, p + i, 1);
		else if (p[i] == '\n')
			r = buf_append_str(out, "; ");
		else if (p[i] == '\t')
			r = buf_append(out, " ", 1);
		else if (len > 1)
			r = buf_append(out, p + i, len);
		else
			r = buf_printf(out, "\\x%02x", p[i]);
		i += len > 1 ? len : 1;
	}
	if (r == 0 && i < n)
		r = buf_append_str(out, "...");
	return r;
}

/* A client's name for an error message, at most NAME_SHOWN bytes. */
static const char *shown(struct buf *b, const char *s)
{
	buf_reset(b);
	if (clean(b, s, strlen(s), NAME_SHOWN) != 0)
		return "?";
	return buf_str(b);
}

void mcp_outcome_init(struct mcp_outcome *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->out.data, MCP_STREAM_MAX);
	buf_init(&o->err.data, MCP_STREAM_MAX);
	buf_init(&o->why, MCP_WHY_MAX);
}

void mcp_outcome_release(struct mcp_outcome *o)
{
	buf_release(&o->out.data);
	buf_release(&o->err.data);
	buf_release(&o->why);
}

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     const char *version)
{
	memset(s, 0, sizeof(*s));
	s->be = be;
	s->version = version;
}

/* ----------------------------------------------------------- replies -- */

static int emit(json_t *msg, struct buf *out)
{
	char *text;
	int r;

	if (!msg)
		return QR_ERR_NOMEM;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return QR_ERR_NOMEM;
	r = buf_append_str(out, text);
	free(text);
	return r;
}

/* {"jsonrpc":"2.0","id":ID,"error":{code,message}}; id NULL is null. */
static int emit_error(struct buf *out, json_t *id, int code, const char *m)
{
	return emit(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0",
			      "id", id ? id : json_null(), "error", "code",
			      code, "message", m), out);
}

int mcp_reply_too_long(struct buf *out)
{
	char m[FAULT_MAX];

	snprintf(m, sizeof(m), "invalid request: a message is at most %u "
		 "bytes on one line; this one was skipped", MCP_LINE_MAX);
	return emit_error(out, NULL, MCP_INVALID_REQUEST, m);
}

/* ------------------------------------------------------- tools/list -- */

static json_t *prop(const char *type, const char *desc)
{
	return json_pack("{s:s, s:s}", "type", type, "description", desc);
}

static json_t *prop_int(const char *desc, json_int_t lo, json_int_t hi)
{
	return json_pack("{s:s, s:s, s:I, s:I}", "type", "integer",
			 "description", desc, "minimum", lo, "maximum", hi);
}

static json_t *prop_argv(const char *desc)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:i, s:I}", "type", "array",
			 "description", desc, "items", "type", "string",
			 "minItems", 1, "maxItems", (json_int_t)ARGV_MAX);
}

static json_t *tool(const char *name, const char *desc, json_t *props,
		    const char *required)
{
	return json_pack("{s:s, s:s, s:{s:s, s:o, s:[s], s:b}}", "name", name,
			 "description", desc, "inputSchema", "type", "object",
			 "properties", props, "required", required,
			 "additionalProperties", 0);
}

static json_t *tools_list(const struct mcp_server *s)
{
	json_t *tools, *t;

	t = tool("run",
		 "Run a program in dom0 (Qubes OS) with these exact arguments "
		 "(execve, no shell), as dom0's policy for this VM allows. "
		 "Returns exit_code, stdout and stderr when it finishes within "
		 "wait_s; else state pending and the id to ask 'result' for.",
		 json_pack("{s:o, s:o, s:o, s:o}",
			   "argv", prop_argv("the program (absolute, or looked "
					     "up in dom0's PATH) and its "
					     "arguments"),
			   "user", prop("string", "the dom0 user to run as "
					"(default: root, or the policy's)"),
			   "timeout_s", prop_int("stop the command in dom0 "
						 "after this many seconds", 1,
						 TIMEOUT_MAX),
			   "wait_s", prop_int("seconds to wait for the result "
					      "before answering pending "
					      "(default 60)", 0,
					      MCP_WAIT_MAX)),
		 "argv");
	tools = json_pack("[o, o]", t,
			  tool("result",
			       "The state of an earlier run: done with its "
			       "output, pending, or unknown.",
			       json_pack("{s:o}", "id",
					 prop("string", "the id run returned")),
			       "id"));
	if (tools && s->be->has_check)
		(void)json_array_append_new(tools, tool("policy_check",
			"What dom0's policy would do with these exact "
			"arguments from this VM (allow, deny or ask, the rule, "
			"the user and timeout), without running anything.",
			json_pack("{s:o, s:o}",
				  "argv", prop_argv("the program and its "
						    "arguments"),
				  "user", prop("string", "the dom0 user to ask "
					       "for")),
			"argv"));
	return tools ? json_pack("{s:o}", "tools", tools) : NULL;
}

/* ------------------------------------------------------- arguments -- */

/* Every key of args is one of names[]. */
static int known_keys(json_t *args, const char *const *names, size_t n,
		      struct fault *f)
{
	struct buf b = BUF_INIT(4 * NAME_SHOWN + 8);
	const char *key;
	json_t *v;
	size_t i;
	int r = 0;

	json_object_foreach(args, key, v) {
		for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
			;
		if (i == n) {
			r = fault(f, MCP_INVALID_PARAMS, "unknown argument "
				  "'%s'", shown(&b, key));
			break;
		}
	}
	buf_release(&b);
	return r;
}

static int get_uint(json_t *args, const char *key, unsigned lo,
		    unsigned hi, unsigned *out, struct fault *f)
{
	json_t *v = json_object_get(args, key);
	json_int_t i;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return fault(f, MCP_INVALID_PARAMS, "%s must be an integer",
			     key);
	i = json_integer_value(v);
	if (i < (json_int_t)lo || i > (json_int_t)hi)
		return fault(f, MCP_INVALID_PARAMS, "%s must be from %u to %u",
			     key, lo, hi);
	*out = (unsigned)i;
	return 0;
}

static int get_user(json_t *args, char *out, size_t n, struct fault *f)
{
	json_t *v = json_object_get(args, "user");
	const char *s;

	if (!v)
		return 0;
	s = json_string_value(v);
	if (!s || strlen(s) >= n || !policy_user_valid(s))
		return fault(f, MCP_INVALID_PARAMS, "user must be a dom0 user "
			     "name ([a-z_][a-z0-9_-]*, at most %u bytes)",
			     POLICY_USER_MAX);
	snprintf(out, n, "%s", s);
	return 0;
}

static int argv_problem(const struct body_verdict *v, struct fault *f)
{
	switch (v->problem) {
	case BODY_CONTROL:
		return fault(f, MCP_INVALID_PARAMS, "argv has control byte "
			     "0x%02x at offset %zu of the vector; only tab, "
			     "newline and carriage return are allowed",
			     v->byte, v->offset);
	case BODY_TOO_LARGE:
		return fault(f, MCP_INVALID_PARAMS, "argv is larger than %u "
			     "bytes, the limit", BODY_MAX);
	case BODY_ARGV_PROGRAM:
		return fault(f, MCP_INVALID_PARAMS, "argv[0], the program, "
			     "is empty");
	default:
		return fault(f, MCP_INVALID_PARAMS, "argv is not a valid "
			     "argument vector");
	}
}

/* argv: 1..ARGV_MAX strings without NUL, encoded into body and checked
 * by the rule dom0 applies. */
static int get_argv(json_t *args, struct buf *body, struct fault *f)
{
	json_t *a = json_object_get(args, "argv"), *v;
	struct body_verdict bv;
	const char **words = NULL;
	size_t n, i;
	int r;

	if (!a)
		return fault(f, MCP_INVALID_PARAMS, "argv is required");
	if (!json_is_array(a) || (n = json_array_size(a)) == 0 ||
	    n > ARGV_MAX)
		return fault(f, MCP_INVALID_PARAMS, "argv must be an array of "
			     "1 to %u strings", ARGV_MAX);
	if (!(words = calloc(n, sizeof(*words))))
		return QR_ERR_NOMEM;
	json_array_foreach(a, i, v) {
		words[i] = json_string_value(v);
		if (!words[i] || strlen(words[i]) != json_string_length(v)) {
			r = fault(f, MCP_INVALID_PARAMS, "argv[%zu] must be a "
				  "string without NUL", i);
			goto out;
		}
	}
	memset(&bv, 0, sizeof(bv));
	r = argvbody_encode(body, n, words);
	if (r == QR_ERR_TOO_LARGE) {
		bv.problem = BODY_TOO_LARGE;
		r = argv_problem(&bv, f);
	} else if (r == QR_ERR_INVALID) {
		bv.problem = BODY_ARGV_PROGRAM;
		r = argv_problem(&bv, f);
	} else if (r == 0 && body_check((const uint8_t *)body->data,
					body->len, BODY_ARGV, &bv) != 0) {
		r = argv_problem(&bv, f);
	}
out:
	free(words);
	return r;
}

/* ---------------------------------------------------------- results -- */

/* data as a JSON string, or base64 when it is not UTF-8.  A stream cut
 * in the middle of a character loses that character's first bytes. */
static int put_stream(json_t *o, const char *name, struct mcp_stream *st)
{
	const uint8_t *p = (const uint8_t *)(st->data.data ? st->data.data
							   : "");
	struct buf b64 = BUF_INIT(b64_encoded_len(MCP_STREAM_MAX) + 8);
	size_t n = st->data.len, cut = 0;
	struct utf8_state u;
	char key[32];
	json_t *v = NULL;
	int utf8 = 0, r;

	for (cut = 0; cut < 4 && cut <= n && !utf8; cut++) {
		utf8_init(&u);
		utf8_feed(&u, p, n - cut);
		utf8 = utf8_valid(&u) && (cut == 0 || st->truncated);
	}
	if (utf8)
		v = json_stringn((const char *)p, n - (cut - 1));
	else if (b64_encode(&b64, p, n, 0) == 0)
		v = json_stringn(buf_str(&b64), b64.len);
	buf_release(&b64);
	r = json_object_set_new(o, name, v);
	snprintf(key, sizeof(key), "%s_encoding", name);
	r |= json_object_set_new(o, key, json_string(utf8 ? "utf-8"
							  : "base64"));
	snprintf(key, sizeof(key), "%s_truncated", name);
	r |= json_object_set_new(o, key, json_boolean(st->truncated));
	snprintf(key, sizeof(key), "%s_bytes", name);
	r |= json_object_set_new(o, key, json_integer((json_int_t)
						       (st->bytes & INT64_MAX)));
	return r ? QR_ERR_NOMEM : 0;
}

/* Text from dom0 or the queue, through clean(). */
static json_t *escaped(const char *s, size_t n)
{
	struct buf b = BUF_INIT(4 * MCP_WHY_MAX + 8);
	json_t *v = NULL;

	if (clean(&b, s, n, MCP_WHY_MAX) == 0)
		v = json_stringn(buf_str(&b), b.len);
	buf_release(&b);
	return v;
}

static const char *state_name(enum mcp_state s)
{
	switch (s) {
	case MCP_DONE: return "done";
	case MCP_PENDING: return "pending";
	case MCP_REFUSED: return "refused";
	case MCP_FAILED: return "failed";
	case MCP_UNKNOWN: return "unknown";
	case MCP_LOCAL: break;
	}
	return "error";
}

/* The reason of a refusal or failure: dom0's, else what the backend
 * said. */
static json_t *reason_of(const struct mcp_outcome *o)
{
	if (o->meta.reason[0] &&
	    (o->state == MCP_REFUSED || o->state == MCP_FAILED ||
	     o->state == MCP_DONE))
		return escaped(o->meta.reason, strlen(o->meta.reason));
	if (o->why.len)
		return escaped(o->why.data, o->why.len);
	return json_string(o->state == MCP_UNKNOWN ?
			   "no such request in this VM's queue or history" :
			   "no reason given");
}

static int put_done(json_t *sc, struct mcp_outcome *o)
{
	int r;

	r = json_object_set_new(sc, "status", json_string(
					result_status_name(o->meta.status)));
	r |= json_object_set_new(sc, "exit_code", json_integer(o->exit_code));
	if (o->meta.status != RESULT_OK)
		r |= json_object_set_new(sc, "reason", reason_of(o));
	if (r || put_stream(sc, "stdout", &o->out) != 0 ||
	    put_stream(sc, "stderr", &o->err) != 0)
		return QR_ERR_NOMEM;
	r = json_object_set_new(sc, "duration_ms", json_integer(
					(json_int_t)(o->meta.duration_ms &
						     INT64_MAX)));
	if (o->have_round_trip)
		r |= json_object_set_new(sc, "round_trip_ms", json_integer(
						 (json_int_t)(o->round_trip_ms &
							      INT64_MAX)));
	return r ? QR_ERR_NOMEM : 0;
}

/* A check=1 result's stdout, as policy_check reports it. */
static int put_decision(json_t *sc, struct mcp_outcome *o)
{
	struct mcp_decision d;
	int r;

	if (mcp_decision_parse(buf_str(&o->out.data), o->out.data.len,
			       &d) != 0) {
		o->state = MCP_FAILED;
		(void)buf_append_str(&o->why, "dom0's answer to the check is "
				     "not readable");
		return json_object_set_new(sc, "reason", reason_of(o)) ?
		       QR_ERR_NOMEM : 0;
	}
	r = json_object_set_new(sc, "decision", json_string(d.decision));
	r |= json_object_set_new(sc, "rule", escaped(d.rule, strlen(d.rule)));
	if (d.reason[0])
		r |= json_object_set_new(sc, "reason", escaped(d.reason,
							       strlen(d.reason)));
	if (d.user[0])
		r |= json_object_set_new(sc, "user", json_string(d.user));
	if (d.have_timeout)
		r |= json_object_set_new(sc, "timeout_s",
					 json_integer(d.timeout));
	return r ? QR_ERR_NOMEM : 0;
}

static json_t *text_item(const char *text)
{
	return json_pack("[{s:s, s:s}]", "type", "text", "text", text);
}

/* The error's sentence for the text item. */
static char *error_text(const json_t *sc, const struct mcp_outcome *o)
{
	const char *id = o->id[0] ? o->id : "-";
	const char *why = json_string_value(json_object_get(sc, "reason"));
	struct buf b = BUF_INIT(8 * MCP_WHY_MAX);
	char *s = NULL;
	int r;

	why = why ? why : "";
	switch (o->state) {
	case MCP_REFUSED:
		r = buf_printf(&b, "dom0 refused request %s: %s", id, why);
		break;
	case MCP_FAILED:
		r = buf_printf(&b, "dom0 could not run request %s: %s", id,
			       why);
		break;
	case MCP_UNKNOWN:
		r = buf_printf(&b, "unknown request id %s: %s", id, why);
		break;
	case MCP_LOCAL:
		r = buf_printf(&b, "the request could not be made: %s", why);
		break;
	default:
		r = buf_printf(&b, "request %s ended with status %s, exit "
			       "code %d: %s", id,
			       result_status_name(o->meta.status),
			       o->exit_code, why);
		break;
	}
	if (r == 0)
		s = strdup(buf_str(&b));
	buf_release(&b);
	return s;
}

/* {content:[{type:text,text}], structuredContent:{...}, isError}. */
static json_t *tool_result(struct mcp_outcome *o, int check)
{
	json_t *sc = json_object(), *res = NULL;
	char *text = NULL;
	int is_error, r = 0;

	if (!sc)
		return NULL;
	if (o->id[0])
		r |= json_object_set_new(sc, "id", json_string(o->id));
	if (o->state == MCP_DONE && check && o->meta.status == RESULT_OK) {
		if (put_decision(sc, o) != 0)
			goto out;
	} else if (o->state == MCP_DONE) {
		if (put_done(sc, o) != 0)
			goto out;
	} else if (o->state == MCP_PENDING && o->note[0]) {
		/* held in dom0 for a person: say so, and that result will
		 * tell how it ends */
		r |= json_object_set_new(sc, "stage", json_string("approval"));
		r |= json_object_set_new(sc, "reason", json_string(o->note));
	} else if (o->state == MCP_PENDING) {
		r |= json_object_set_new(sc, "stage", json_string(
						 o->running ? "running"
							    : "queued"));
	} else {
		r |= json_object_set_new(sc, "reason", reason_of(o));
	}
	/* put_decision may have turned a done into a failure */
	r |= json_object_set_new(sc, "state", json_string(state_name(o->state)));
	if (r)
		goto out;
	is_error = o->state != MCP_DONE && o->state != MCP_PENDING;
	is_error |= o->state == MCP_DONE && o->meta.status != RESULT_OK;
	text = is_error ? error_text(sc, o) : json_dumps(sc, JSON_COMPACT);
	if (text)
		res = json_pack("{s:o, s:O, s:b}", "content", text_item(text),
				"structuredContent", sc, "isError", is_error);
out:
	free(text);
	json_decref(sc);
	return res;
}

/* ------------------------------------------------------- tools/call -- */

static int call_submit(struct mcp_server *s, json_t *args, int check,
		       json_t **res, struct fault *f)
{
	static const char *const run_keys[] = { "argv", "user", "timeout_s",
						"wait_s" };
	static const char *const check_keys[] = { "argv", "user" };
	struct mcp_outcome o;
	struct mcp_call c;
	int r;

	memset(&c, 0, sizeof(c));
	buf_init(&c.body, BODY_MAX);
	c.wait_s = MCP_WAIT_DEFAULT;
	c.check = check;
	mcp_outcome_init(&o);
	if ((r = check ? known_keys(args, check_keys, 2, f)
		       : known_keys(args, run_keys, 4, f)) != 0 ||
	    (r = get_argv(args, &c.body, f)) != 0 ||
	    (r = get_user(args, c.user, sizeof(c.user), f)) != 0 ||
	    (r = get_uint(args, "timeout_s", 1, TIMEOUT_MAX, &c.timeout,
			  f)) != 0 ||
	    (r = get_uint(args, "wait_s", 0, MCP_WAIT_MAX, &c.wait_s,
			  f)) != 0)
		goto out;
	if (s->be->submit(s->be->ctx, &c, &o) != 0) {
		r = fault(f, MCP_INTERNAL_ERROR, "internal error: the request "
			  "could not be handled; see the server's stderr");
		goto out;
	}
	if (!(*res = tool_result(&o, check)))
		r = QR_ERR_NOMEM;
out:
	mcp_outcome_release(&o);
	buf_release(&c.body);
	return r;
}

static int call_result(struct mcp_server *s, json_t *args, json_t **res,
		       struct fault *f)
{
	static const char *const keys[] = { "id" };
	struct mcp_outcome o;
	const char *id;
	int r;

	if ((r = known_keys(args, keys, 1, f)) != 0)
		return r;
	id = json_string_value(json_object_get(args, "id"));
	if (!id)
		return fault(f, MCP_INVALID_PARAMS, "id is required, a string");
	if (strlen(id) != json_string_length(json_object_get(args, "id")) ||
	    !cid_valid(id, strlen(id)))
		return fault(f, MCP_INVALID_PARAMS, "id is not a request id "
			     "(YYYYMMDD-HHMMSS-PID-HEX)");
	mcp_outcome_init(&o);
	snprintf(o.id, sizeof(o.id), "%s", id);
	if (s->be->lookup(s->be->ctx, id, &o) != 0)
		r = fault(f, MCP_INTERNAL_ERROR, "internal error: the request "
			  "could not be looked up; see the server's stderr");
	else if (!(*res = tool_result(&o, 0)))
		r = QR_ERR_NOMEM;
	mcp_outcome_release(&o);
	return r;
}

static int tools_call(struct mcp_server *s, json_t *params, json_t **res,
		      struct fault *f)
{
	struct buf b = BUF_INIT(4 * NAME_SHOWN + 8);
	json_t *args, *none = NULL;
	const char *name;
	int r;

	name = json_string_value(json_object_get(params, "name"));
	if (!name)
		return fault(f, MCP_INVALID_PARAMS, "params.name must be the "
			     "tool's name, a string");
	args = json_object_get(params, "arguments");
	if (args && !json_is_object(args))
		return fault(f, MCP_INVALID_PARAMS, "params.arguments must be "
			     "an object");
	/* no arguments: checked as an empty object */
	if (!args && !(args = none = json_object()))
		return QR_ERR_NOMEM;
	if (strcmp(name, "run") == 0)
		r = call_submit(s, args, 0, res, f);
	else if (strcmp(name, "result") == 0)
		r = call_result(s, args, res, f);
	else if (strcmp(name, "policy_check") == 0 && s->be->has_check)
		r = call_submit(s, args, 1, res, f);
	else
		r = fault(f, MCP_INVALID_PARAMS, "unknown tool '%s'",
			  shown(&b, name));
	json_decref(none);
	buf_release(&b);
	return r;
}

/* ------------------------------------------------------ the methods -- */

static json_t *initialize(struct mcp_server *s, json_t *params,
			  struct fault *f)
{
	const char *want = json_string_value(json_object_get(params,
							     "protocolVersion"));
	size_t i;

	if (!want) {
		(void)fault(f, MCP_INVALID_PARAMS, "params.protocolVersion "
			    "must be a string");
		return NULL;
	}
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]) &&
		    strcmp(want, versions[i]) != 0; i++)
		;
	snprintf(s->protocol, sizeof(s->protocol), "%s",
		 versions[i < sizeof(versions) / sizeof(versions[0]) ? i : 0]);
	return json_pack("{s:s, s:{s:{}}, s:{s:s, s:s}, s:s}",
			 "protocolVersion", s->protocol,
			 "capabilities", "tools",
			 "serverInfo", "name", "qvm-remote",
			 "version", s->version ? s->version : "unknown",
			 "instructions",
			 "Runs programs in Qubes OS dom0 from this VM through "
			 "qvm-remote's signed queue; dom0's policy decides "
			 "what runs and as whom. Use run with argv, then "
			 "result with the id while the state is pending.");
}

/* The method's result, or NULL with *f set (f->code 0: out of memory). */
static json_t *dispatch(struct mcp_server *s, const char *method,
			json_t *params, struct fault *f)
{
	struct buf b = BUF_INIT(4 * NAME_SHOWN + 8);
	json_t *res = NULL, *none = NULL;

	if (!params && !(params = none = json_object()))
		return NULL;
	if (!json_is_object(params)) {
		(void)fault(f, MCP_INVALID_PARAMS, "params must be an object");
	} else if (strcmp(method, "initialize") == 0) {
		res = initialize(s, params, f);
	} else if (strcmp(method, "ping") == 0) {
		res = json_object();
	} else if (strcmp(method, "tools/list") == 0) {
		res = tools_list(s);
	} else if (strcmp(method, "tools/call") == 0) {
		if (tools_call(s, params, &res, f) != 0)
			res = NULL;
	} else {
		(void)fault(f, MCP_METHOD_NOT_FOUND, "method not found: '%s'",
			    shown(&b, method));
	}
	json_decref(none);
	buf_release(&b);
	return res;
}

static int blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* The request's checks, before any method: JSON-RPC 2.0's shape. */
static int check_request(json_t *root, json_t **id, const char **method,
			 struct fault *f)
{
	json_t *v;

	*id = NULL;
	*method = NULL;
	if (json_is_array(root))
		return fault(f, MCP_INVALID_REQUEST, "invalid request: batches "
			     "are not supported (MCP 2025-06-18); send one "
			     "message a line");
	if (!json_is_object(root))
		return fault(f, MCP_INVALID_REQUEST, "invalid request: a "
			     "message is a JSON object");
	v = json_object_get(root, "id");
	if (v && !json_is_string(v) && !json_is_number(v))
		return fault(f, MCP_INVALID_REQUEST, "invalid request: id must "
			     "be a string or a number");
	*id = v;
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		return fault(f, MCP_INVALID_REQUEST, "invalid request: "
			     "\"jsonrpc\" must be \"2.0\"");
	v = json_object_get(root, "method");
	if (!v && (json_object_get(root, "result") ||
		   json_object_get(root, "error")))
		return 0;    /* a response; we send no requests */
	if (!json_is_string(v))
		return fault(f, MCP_INVALID_REQUEST, "invalid request: "
			     "\"method\" must be a string");
	*method = json_string_value(v);
	v = json_object_get(root, "params");
	if (v && !json_is_object(v) && !json_is_array(v))
		return fault(f, MCP_INVALID_REQUEST, "invalid request: "
			     "\"params\" must be an object");
	return 0;
}

int mcp_handle(struct mcp_server *s, const char *line, size_t n,
	       struct buf *out)
{
	struct buf why = BUF_INIT(FAULT_MAX);
	struct fault f = { 0, "" };
	struct utf8_state u;
	json_error_t je;
	json_t *root, *id = NULL, *res;
	const char *method = NULL;
	size_t start = out->len;
	int r;

	if (blank(line, n))
		return 0;
	utf8_init(&u);
	utf8_feed(&u, (const uint8_t *)line, n);
	if (!utf8_valid(&u))
		return emit_error(out, NULL, MCP_PARSE_ERROR,
				  "parse error: the message is not UTF-8");
	root = json_loadb(line, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &je);
	if (!root) {
		/* jansson's text may quote the input: escaped, bounded */
		(void)buf_printf(&why, "parse error at byte %d: ", je.position);
		(void)clean(&why, je.text, strnlen(je.text, sizeof(je.text)),
			    120);
		r = emit_error(out, NULL, MCP_PARSE_ERROR, buf_str(&why));
		buf_release(&why);
		return r;
	}
	if (check_request(root, &id, &method, &f) != 0) {
		r = emit_error(out, id, f.code, f.msg);
		goto out;
	}
	r = 0;
	if (!method)
		goto out;                      /* a response */
	if (!id) {
		/* a notification: never answered, whatever it names */
		if (strcmp(method, "notifications/initialized") == 0)
			s->initialized = 1;
		goto out;
	}
	res = dispatch(s, method, json_object_get(root, "params"), &f);
	if (res)
		r = emit(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
				   "result", res), out);
	if (!res || r != 0) {
		buf_truncate(out, start);
		if (!f.code)
			(void)fault(&f, MCP_INTERNAL_ERROR, "internal error: "
				    "out of memory, or the reply passed %u "
				    "bytes", MCP_REPLY_MAX);
		r = emit_error(out, id, f.code, f.msg);
	}
out:
	json_decref(root);
	buf_release(&why);
	return r;
}

/* ---------------------------------------------------- policy_check -- */

static int field(const uint8_t *p, size_t n, const char *key, char *out,
		 size_t outn)
{
	size_t k = strlen(key), i;

	if (n <= k || memcmp(p, key, k) != 0 || p[k] != '=')
		return 0;
	p += k + 1;
	n -= k + 1;
	if (n >= outn)
		return QR_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return QR_ERR_INVALID;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

int mcp_decision_parse(const char *untrusted, size_t n,
		       struct mcp_decision *d)
{
	char num[24];
	const uint8_t *line;
	struct reader rd;
	uint64_t t;
	size_t len;
	int r;

	memset(d, 0, sizeof(*d));
	reader_init(&rd, untrusted, n);
	while (reader_remaining(&rd) > 0) {
		r = reader_get_line(&rd, 512, &line, &len);
		if (r == QR_ERR_INCOMPLETE) {     /* a last line without '\n' */
			len = reader_remaining(&rd);
			r = len <= 512 ? reader_get_bytes(&rd, len, &line)
				       : QR_ERR_TOO_LARGE;
		}
		if (r != 0 || !memchr(line, '=', len))
			return QR_ERR_INVALID;
		if ((r = field(line, len, "decision", d->decision,
			       sizeof(d->decision))) < 0 ||
		    (r == 0 && (r = field(line, len, "rule", d->rule,
					  sizeof(d->rule))) < 0) ||
		    (r == 0 && (r = field(line, len, "reason", d->reason,
					  sizeof(d->reason))) < 0) ||
		    (r == 0 && (r = field(line, len, "user", d->user,
					  sizeof(d->user))) < 0))
			return QR_ERR_INVALID;
		if (r == 0 && (r = field(line, len, "timeout", num,
					 sizeof(num))) != 0) {
			if (r < 0 || parse_u64((const uint8_t *)num,
					       strlen(num), TIMEOUT_MAX,
					       &t) != 0)
				return QR_ERR_INVALID;
			d->timeout = (unsigned)t;
			d->have_timeout = 1;
		}
	}
	if (strcmp(d->decision, "allow") != 0 &&
	    strcmp(d->decision, "deny") != 0 && strcmp(d->decision, "ask") != 0)
		return QR_ERR_INVALID;
	if (d->user[0] && !policy_user_valid(d->user))
		return QR_ERR_INVALID;
	return 0;
}
