#!/bin/bash
# qvm-remote mcp: the MCP server on stdio, driven by scripted sessions in
# a simulated VM against the real daemon: the lifecycle, the tools run and
# result through the signed queue and dom0's policy, and what bad input
# must not do (crash, hang, go unanswered, take the next request with it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"
command -v jq >/dev/null || skip_all "jq is not installed (make deps-test)"

dom0_setup work
P=$QVM_REMOTE_POLICY_DIR
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" >"$DOM0_CONF"
mkdir -p "$P" && chmod 0755 "$P"
cat >"$P/10-mcp.policy" <<'POL'
work   allow   echo ...
work   allow   false
work   allow   sleep ...
work   allow   head ...
POL
chmod 0644 "$P/10-mcp.policy"
dom0_start
wait_for "grep -q 'policy loaded.*rules=4' '$QVM_REMOTE_LOG'" 10 || die "the policy did not load"

min=$TEST_DIR/mcp.in mout=$TEST_DIR/mcp.out merr=$TEST_DIR/mcp.err
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}'
NOTE='{"jsonrpc":"2.0","method":"notifications/initialized"}'

# session: stdin of the server is $in; its replies in $mout, stderr in $merr;
# returns its exit status
# (not $out, $in: assert_exit has a local $out)
session() { in_vm work "$QVMR_CLIENT" mcp <"$min" >"$mout" 2>"$merr"; }
reply() {   # ID JQ: the filter on the reply with that id (one line)
	jq -c --argjson id "$1" "select(.id == \$id) | $2" <"$mout"
}
call() {   # ID TOOL ARGS-JSON: a tools/call line
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}\n' "$1" "$2" "$3"
}
errcode() { reply "$1" '.error.code'; }

t "initialize answers MCP 2025-06-18 with tools, serverInfo; tools/list offers run, result and policy_check with closed schemas"
printf '%s\n' "$INIT" "$NOTE" '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' \
	'{"jsonrpc":"2.0","id":2,"method":"ping"}' >"$min"
assert_exit 0 session
assert_eq '"2025-06-18"' "$(reply 0 .result.protocolVersion)" "protocolVersion"
assert_eq '{"tools":{}}' "$(reply 0 .result.capabilities)" "capabilities"
assert_eq '"qvm-remote"' "$(reply 0 .result.serverInfo.name)" "serverInfo.name"
assert_eq '["run","result","policy_check"]' "$(reply 1 '[.result.tools[].name]')" "tools"
assert_eq '[false,false,false]' "$(reply 1 '[.result.tools[].inputSchema.additionalProperties]')" "additionalProperties"
assert_eq '["argv"]' "$(reply 1 '.result.tools[0].inputSchema.required')" "run requires argv"
assert_eq '{}' "$(reply 2 .result)" "ping"
assert_eq 3 "$(wc -l <"$mout")" "replies (the notification gets none)"

t "an older protocolVersion is answered with itself, an unknown one with the latest"
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}' \
	'{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}' >"$min"
assert_exit 0 session
assert_eq '"2024-11-05"' "$(reply 1 .result.protocolVersion)" "a supported older one"
assert_eq '"2025-06-18"' "$(reply 2 .result.protocolVersion)" "an unknown one"

t "run echo hi: done, exit 0, stdout hi, in structuredContent and the text item, through dom0's log"
{ printf '%s\n' "$INIT" "$NOTE"; call 1 run '{"argv":["echo","hi"]}'; } >"$min"
assert_exit 0 session
assert_eq '"done"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq 0 "$(reply 1 .result.structuredContent.exit_code)" "exit_code"
assert_eq '"hi\n"' "$(reply 1 .result.structuredContent.stdout)" "stdout"
assert_eq false "$(reply 1 .result.isError)" "isError"
assert_eq '"hi\n"' "$(reply 1 '.result.content[0].text | fromjson | .stdout')" "the text item"
id=$(jq -r 'select(.id == 1) | .result.structuredContent.id' <"$mout")
assert_contains "$(dom0_log)" "EXEC vm=work id=$id " "dom0's EXEC line of that id"
assert_contains "$(dom0_log)" "POLICY vm=work id=$id action=allow" "dom0's policy decided it"

t "result of that id: done from history, the same exit code and stdout"
call 1 result "{\"id\":\"$id\"}" >"$min"
assert_exit 0 session
assert_eq '"done"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq '"hi\n"' "$(reply 1 .result.structuredContent.stdout)" "stdout"
assert_file_exists "$SIM/vms/work/home/.qvm-remote/history/${id:0:4}-${id:4:2}-${id:6:2}/$id/exit" "the history folder"

t "a failing command: done with its non-zero exit code and stderr"
call 1 run '{"argv":["false"]}' >"$min"
call 2 run '{"argv":["head","/nonexistent-mcp"]}' >>"$min"
assert_exit 0 session
assert_eq 1 "$(reply 1 .result.structuredContent.exit_code)" "false"
assert_eq '"done"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq 1 "$(reply 2 .result.structuredContent.exit_code)" "head"
assert_contains "$(reply 2 .result.structuredContent.stderr)" "nonexistent-mcp" "stderr"

t "a policy refusal: state refused, isError, the reason names the rule (none)"
call 1 run '{"argv":["id"]}' >"$min"
assert_exit 0 session
assert_eq '"refused"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq true "$(reply 1 .result.isError)" "isError"
assert_contains "$(reply 1 .result.structuredContent.reason)" "denied by policy: no rule" "reason"
assert_contains "$(reply 1 '.result.content[0].text')" "dom0 refused request" "text"

t "policy_check: allow with the rule and user, deny with no rule and the reason; nothing runs"
call 1 policy_check '{"argv":["echo","hi"]}' >"$min"
call 2 policy_check '{"argv":["id"]}' >>"$min"
assert_exit 0 session
assert_eq '"allow"' "$(reply 1 .result.structuredContent.decision)" "echo: decision"
assert_eq "\"$P/10-mcp.policy:1\"" "$(reply 1 .result.structuredContent.rule)" "echo: rule"
assert_eq '"root"' "$(reply 1 .result.structuredContent.user)" "echo: user"
assert_eq false "$(reply 1 .result.isError)" "echo: isError"
assert_eq '"deny"' "$(reply 2 .result.structuredContent.decision)" "id: decision"
assert_eq '"none"' "$(reply 2 .result.structuredContent.rule)" "id: rule"
assert_contains "$(reply 2 .result.structuredContent.reason)" "denied by policy: no rule" "id: reason"
assert_eq false "$(reply 2 .result.isError)" "a deny is an answer, not a failure"
for i in 1 2; do
	cid=$(jq -r "select(.id == $i) | .result.structuredContent.id" <"$mout")
	assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" "check=1" "the POLICY line of $i"
	assert_eq 0 "$(grep -c "] EXEC vm=work id=$cid " "$QVM_REMOTE_LOG")" "EXEC lines of $i"
done
call 3 policy_check '{"argv":["id"],"wait_s":1}' >"$min"
assert_exit 0 session
assert_eq -32602 "$(errcode 3)" "wait_s is not one of policy_check's arguments"

t "wait_s 0 answers pending and leaves the request queued; result later finds it done"
call 1 run '{"argv":["sleep","1"],"wait_s":0}' >"$min"
assert_exit 0 session
assert_eq '"pending"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq false "$(reply 1 .result.isError)" "isError"
pid_=$(jq -r 'select(.id == 1) | .result.structuredContent.id' <"$mout")
call 1 result "{\"id\":\"$pid_\"}" >"$min"
done_=
for _ in $(seq 1 40); do
	session
	[[ $(reply 1 .result.structuredContent.state) == '"done"' ]] && { done_=1; break; }
	sleep 0.25
done
[[ -n $done_ ]] || fail "result never said done: $(cat "$mout")"
assert_eq 0 "$(reply 1 .result.structuredContent.exit_code)" "exit_code"
assert_contains "$(dom0_log)" "EXEC vm=work id=$pid_ " "it ran: not withdrawn"

t "result of an unknown id is an error result; a malformed id is invalid params"
call 1 result '{"id":"20200101-000000-1-0123456789abcdef"}' >"$min"
call 2 result '{"id":"../../etc/passwd"}' >>"$min"
assert_exit 0 session
assert_eq '"unknown"' "$(reply 1 .result.structuredContent.state)" "state"
assert_eq true "$(reply 1 .result.isError)" "isError"
assert_eq -32602 "$(errcode 2)" "malformed id"

t "an unknown method: -32601, and the server goes on"
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"resources/list"}' '{"jsonrpc":"2.0","id":2,"method":"ping"}' >"$min"
assert_exit 0 session
assert_eq -32601 "$(errcode 1)" "error code"
assert_eq '{}' "$(reply 2 .result)" "the next request"

t "malformed JSON, trailing data, a duplicate key, invalid UTF-8: -32700 with id null, the next request answered"
{
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":'
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"ping"} {}'
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}'
	printf '{"jsonrpc":"2.0","id":1,"method":"p\xffing"}\n'
	printf '%s\n' '{"jsonrpc":"2.0","id":9,"method":"ping"}'
} >"$min"
assert_exit 0 session
assert_eq '-32700 -32700 -32700 -32700' "$(jq -r 'select(.id == null) | .error.code' <"$mout" | tr '\n' ' ' | sed 's/ $//')" "four parse errors"
assert_eq '{}' "$(reply 9 .result)" "the next request"

t "a batch array is an invalid request (MCP 2025-06-18 has no batches)"
printf '%s\n' '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' '[]' >"$min"
assert_exit 0 session
assert_eq '-32600 -32600' "$(jq -r '.error.code' <"$mout" | tr '\n' ' ' | sed 's/ $//')" "error codes"
assert_eq 0 "$(jq -c 'select(.id == 1)' <"$mout" | wc -l | tr -d ' ')" "the ping in the batch is not answered"

t "an oversized line (2 MiB) gets -32600 with id null and is skipped; the next request still works"
{
	printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'
	head -c $((2 << 20)) /dev/zero | tr '\0' a
	printf '"}}\n'
	printf '%s\n' '{"jsonrpc":"2.0","id":2,"method":"ping"}'
} >"$min"
assert_exit 0 session
assert_eq -32600 "$(jq -r 'select(.id == null) | .error.code' <"$mout")" "the long line"
assert_eq 0 "$(jq -c 'select(.id == 1)' <"$mout" | wc -l | tr -d ' ')" "no reply with its id"
assert_eq '{}' "$(reply 2 .result)" "the next request"

t "notifications get no reply, whatever their method"
printf '%s\n' "$NOTE" '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}' \
	'{"jsonrpc":"2.0","method":"no/such"}' '{"jsonrpc":"2.0","id":5,"method":"ping"}' >"$min"
assert_exit 0 session
assert_eq 1 "$(wc -l <"$mout" | tr -d ' ')" "replies"
assert_eq '{}' "$(reply 5 .result)" "the ping"

t "invalid params: an unknown tool, an unknown key, wrong types, an empty argv, a bad user: -32602, nothing queued"
before=$(grep -c 'SUBMIT' "$SIM/vms/work/home/.qvm-remote/audit.log")
{
	call 1 nosuch '{}'
	call 2 run '{"argv":["echo"],"extra":1}'
	call 3 run '{"argv":"echo hi"}'
	call 4 run '{"argv":[]}'
	call 5 run '{"argv":["echo",1]}'
	call 6 run '{"argv":["echo"],"timeout_s":"5"}'
	call 7 run '{"argv":["echo"],"user":"Root;x"}'
	call 8 run '{"argv":["echo","a\u0001b"]}'
	call 9 run '{"argv":[""]}'
	call 10 run '{}'
	printf '%s\n' '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":[]}'
} >"$min"
assert_exit 0 session
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	assert_eq -32602 "$(errcode "$i")" "request $i"
done
assert_eq "$before" "$(grep -c 'SUBMIT' "$SIM/vms/work/home/.qvm-remote/audit.log")" "SUBMIT lines"

t "invalid requests: no jsonrpc, a null id, a non-string method: -32600"
printf '%s\n' '{"id":1,"method":"ping"}' '{"jsonrpc":"2.0","id":null,"method":"ping"}' \
	'{"jsonrpc":"2.0","id":3,"method":7}' '5' >"$min"
assert_exit 0 session
assert_eq -32600 "$(errcode 1)" "no jsonrpc"
assert_eq -32600 "$(errcode 3)" "method 7"
assert_eq 4 "$(jq -r '.error.code' <"$mout" | grep -c -- -32600)" "all four"

t "stdout holds only replies, one JSON object a line; logs go to stderr"
printf '%s\n' "$INIT" 'garbage' '{"jsonrpc":"2.0","id":2,"method":"ping"}' >"$min"
assert_exit 0 session
assert_eq 3 "$(jq -c . <"$mout" | wc -l | tr -d ' ')" "JSON lines"
assert_eq 3 "$(wc -l <"$mout" | tr -d ' ')" "lines"

t "end of input ends the server with 0, a last line without its newline answered"
printf '%s' '{"jsonrpc":"2.0","id":1,"method":"ping"}' >"$min"
assert_exit 0 session
assert_eq '{}' "$(reply 1 .result)" "the last line"
: >"$min"
assert_exit 0 session
assert_eq "" "$(cat "$mout")" "empty input, no reply"

t "the daemon stops cleanly"
dom0_stop
