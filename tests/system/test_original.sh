#!/bin/bash
# Issue 17: users of the original Python client are not stranded.  The
# original client itself (tests/system/original.sh) against this dom0, and
# this client against the original dom0: an output dom0 cut says so in the
# .err it reads; ...
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"
. "$(dirname "$0")/original.sh"

original_unpack
dom0_setup work other
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

t "the original client's ping: responding where dom0 serves it (the control)"
orig work ping >"$out" 2>&1
assert_eq 0 "$?" "exit code"
assert_contains "$(cat "$out")" "qvm-remote-dom0 is responding." "its answer"

queue_empty() {   # VM: nothing in its pending/, running/ or results/
	assert_eq "" "$(find "$(vm_queue "$1")"/{pending,running,results} -mindepth 1)" "$1's queue"
}

t "its ping from a VM dom0 refuses (not in QVM_REMOTE_LEGACY_AUTH): NOT responding, and nothing is left"
orig other ping >"$out" 2>&1
assert_eq 1 "$?" "exit code"
assert_contains "$(cat "$out")" "qvm-remote-dom0 is NOT responding." "its answer"
assert_contains "$(dom0_log)" "vm=other id=ping-" "dom0 logged the refusal"
queue_empty other
orig other status >"$out" 2>&1
assert_contains "$(cat "$out")" "Daemon:    NOT responding" "its status"

t "its ping signed with a key dom0 does not hold: NOT responding, and nothing is left"
key=$SIM/vms/work/home/.qvm-remote/auth.key
cp -p "$key" "$TEST_DIR/key.saved"
printf '%064d\n' 7 >"$key"
orig work ping >"$out" 2>&1
assert_eq 1 "$?" "exit code"
assert_contains "$(cat "$out")" "NOT responding" "its answer"
assert_contains "$(grep 'AUTH-FAIL vm=work' "$QVM_REMOTE_LOG")" "id=ping-" "dom0 logged the forgery"
queue_empty work
cp -p "$TEST_DIR/key.saved" "$key"

q=$(vm_queue work)
claimed() { compgen -G "$q/running/*.auth.*" >/dev/null; }
orig_id() {   # the id of the original client's last request, from its audit.log
	sed -n 's/.* SUBMIT id=\([^ ]*\) .*/\1/p' "$SIM/vms/work/home/.qvm-remote/audit.log" | tail -n 1
}

t "a command that outlives the original client's hour: the sweep at its next start takes the claim, the result still comes"
orig work -t 120 "while [ ! -e '$TEST_DIR/go1' ]; do sleep 0.1; done; echo long done" >"$out" 2>"$err" &
pid=$!
wait_for claimed 20 || fail "dom0 did not claim it"
touch -d '2 hours ago' "$q"/running/*    # an hour passes, for the queue's files
assert_eq second "$(orig work 'echo second' 2>&1)" "another command (its start sweeps the queue)"
! claimed || fail "the sweep left the claim marker: the case tests nothing"
touch "$TEST_DIR/go1"
wait "$pid"
assert_eq 0 "$?" "the long command's exit code"
assert_eq "long done" "$(cat "$out")" "its output"
assert_eq 0 "$(grep -c '] ERROR ' "$QVM_REMOTE_LOG")" "ERROR lines in dom0's log"

t "after its -t gave up, queue clean (its status's advice) loses no result still coming"
orig work -t 5 "echo early; while [ ! -e '$TEST_DIR/go2' ]; do sleep 0.1; done; echo late" >"$out" 2>"$err"
assert_eq 124 "$?" "the original client timed out"
id=$(orig_id)
claimed || fail "dom0 no longer holds it: the case tests nothing"
assert_eq "$(basename "$(compgen -G "$q/running/$id.auth.*")")" "$(ls "$q/running")" \
	"running/ holds only the claim marker (no live files for a client that reads none)"
orig work status >"$out" 2>&1
assert_contains "$(cat "$out")" "queue clean" "its status advises queue clean"
orig work queue clean >/dev/null 2>&1
! claimed || fail "queue clean left the claim marker"
touch "$TEST_DIR/go2"
wait_result work "$id" 20 || fail "no result arrived"
assert_eq "early
late" "$(cat "$q/results/$id.out" 2>/dev/null)" "the result, in results/"
assert_eq 0 "$(grep -c '] ERROR ' "$QVM_REMOTE_LOG")" "ERROR lines in dom0's log"

dom0_stop

# ---------------------------------------------- the original dom0 --

orig_dom0_start work
M=$TEST_DIR/marker

t "this client against the original dom0: within seconds it says dom0 is too old, and nothing ran"
start=$(now_ms)
in_vm work qvm-remote -t 5 "touch '$M'" >"$out" 2>"$err"   # -t: a miss costs 65 s, not 360
assert_eq 123 "$?" "exit code"
assert_contains "$(cat "$err")" "its qvm-remote-dom0 is too old for this client" "the message"
(($(now_ms) - start < 30000)) || fail "it took $(($(now_ms) - start)) ms, not seconds"
[[ ! -e $M ]] || fail "the command ran"
assert_contains "$(cat "$ORIG_DOM0/log")" "AUTH-FAIL" "the original dom0 refused it"
assert_contains "$(tail -n 1 "$SIM/vms/work/home/.qvm-remote/audit.log")" "VANISHED id=" \
	"the VM's audit log says what became of it"
assert_eq "" "$(find "$(vm_queue work)/pending" "$(vm_queue work)/running" -mindepth 1)" \
	"nothing is left in the queue"

t "ping against the original dom0: the same"
in_vm work qvm-remote ping >"$out" 2>"$err"
assert_eq 123 "$?" "exit code"
assert_contains "$(cat "$err")" "too old for this client" "the message"
