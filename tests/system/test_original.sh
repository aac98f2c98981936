#!/bin/bash
# Issue 17: users of the original Python client are not stranded.  The
# original client itself (tests/system/original.sh) against this dom0, and
# this client against the original dom0: an output dom0 cut says so in the
# .err it reads; ...
# run.sh limit: 240 s
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"
. "$(dirname "$0")/original.sh"

original_unpack
dom0_setup work
out=$TEST_DIR/out
err=$TEST_DIR/err
printf '%s\n' QVM_REMOTE_LEGACY_AUTH=work QVM_REMOTE_MAX_OUTPUT=100000 >"$DOM0_CONF"
dom0_start

t "the original client runs a command in dom0 under its v1 token (the control)"
orig work 'echo hello; echo oops >&2; exit 3' >"$out" 2>"$err"
assert_eq 3 "$?" "exit code"
assert_eq hello "$(cat "$out")" "stdout"
assert_eq oops "$(cat "$err")" "stderr"
assert_contains "$(dom0_log)" "AUTH-OK vm=work" "dom0 took it"

t "an output dom0 cut: the original client's stderr says so, after the command's own"
orig work 'head -c 150000 /dev/zero | tr "\0" a; printf "last words" >&2' >"$out" 2>"$err"
assert_eq 0 "$?" "exit code (the command's)"
assert_eq 100000 "$(wc -c <"$out")" "stdout, cut"
assert_eq "last words
qvm-remote-dom0: dom0 kept only the first 100000 bytes of stdout (QVM_REMOTE_MAX_OUTPUT); 150000 were written" \
	"$(cat "$err")" "stderr"
orig work 'head -c 120000 /dev/zero | tr "\0" b >&2' >"$out" 2>"$err"
assert_eq 100000 "$(head -n 1 "$err" | tr -cd b | wc -c)" "a cut stderr keeps its bytes"
assert_eq "qvm-remote-dom0: dom0 kept only the first 100000 bytes of stderr (QVM_REMOTE_MAX_OUTPUT); 120000 were written" \
	"$(tail -n 1 "$err")" "and then says so on a line of its own"
in_vm work qvm-remote 'head -c 150000 /dev/zero' >"$out" 2>"$err"
assert_eq 122 "$?" "this client: its own exit code for a cut output"
assert_eq 1 "$(grep -c 'kept only the first' "$err")" "this client says it once, from the .meta"

dom0_stop
