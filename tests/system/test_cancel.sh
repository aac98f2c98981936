#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Issue 16, stopping a running command (docs/protocol.md 5b): Ctrl-C of a
# client whose command dom0 runs sends a signed cancel=CID; dom0 signals
# the command (INT, then TERM after 2 s, KILL 5 s later), answers
# "stopping", and the result says cancelled=1; the client says so and
# exits 130.  Only the VM's own key stops its commands: another VM's key,
# no token or another VM's cancel stop nothing.  And the service stopping
# while a command runs ends it as interrupted (exit 255), not timed out.
# run.sh limit: 300 s
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work other
err=$TEST_DIR/err
out=$TEST_DIR/out
printf '%s\n' QVM_REMOTE_STOP_GRACE=1 >"$DOM0_CONF"

last_id() {   # VM: the id of the VM's last request, from its audit.log
	sed -n 's/.* SUBMIT id=\([^ ]*\) .*/\1/p' "$SIM/vms/$1/home/.qvm-remote/audit.log" 2>/dev/null | tail -n 1
}
ran() {   # CID: its EXEC line is in dom0's log
	grep -q -F "] EXEC vm=work id=$1 " "$QVM_REMOTE_LOG"
}
log_of() {   # CATEGORY CID: its lines of that category
	grep -F "] $1 vm=" "$QVM_REMOTE_LOG" | grep -F " id=$2 "
}
hist_meta() {   # VM CID KEY: KEY of the archived result (history/)
	sed -n "s/^$3=//p" "$SIM/vms/$1/home/.qvm-remote/history"/*/"$2"/meta 2>/dev/null | head -n 1
}
ctrl_c() {   # the VM's qvm-remote gets SIGINT, as Ctrl-C in its terminal
	pkill -INT -u "$(cat "$SIM/vms/work/user")" -x qvm-remote || fail "no client to interrupt"
}
# the client of a command, in the background; sets pid and cid once dom0 runs it
run_bg() {
	in_vm work qvm-remote "$1" >"$out" 2>"$err" &
	pid=$!
	wait_for "[[ -n \$(last_id work) ]] && ran \$(last_id work)" 20 || fail "dom0 does not run it"
	cid=$(last_id work)
}

dom0_start
wait_for "grep -q 'action=start' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"

t "Ctrl-C after dom0 took it: the command gets SIGINT, its output arrives, the client says stopped and exits 130"
run_bg 'trap "echo got INT; exit 7" INT; sleep 30'
sleep 0.5   # bash has set its trap
ctrl_c
wait "$pid"
assert_eq 130 "$?" "the client's exit status"
assert_eq "got INT" "$(cat "$out")" "the command's own output"
assert_contains "$(cat "$err")" "qvm-remote: asked dom0 to stop the command (id $cid); stopped" "stderr"
assert_contains "$(log_of CANCEL "$cid")" "signal=INT" "the CANCEL line"
assert_contains "$(log_of DONE-FAIL "$cid")" "exit=7" "the DONE-FAIL line"
assert_contains "$(log_of DONE-FAIL "$cid")" "cancelled=INT" "it ended on the INT"
assert_eq 1 "$(hist_meta work "$cid" cancelled)" "cancelled=1 in .meta"
assert_eq ok "$(hist_meta work "$cid" status)" "its own status"
assert_eq 7 "$(hist_meta work "$cid" exit)" "its own exit code"

t "a command that ignores INT and TERM is killed after the escalation (about 7 s)"
run_bg 'trap "" INT TERM; sleep 60'
sleep 0.5
start=$(now_ms)
ctrl_c
wait "$pid"
assert_eq 130 "$?" "the client's exit status"
took=$(($(now_ms) - start))
((took >= 6500 && took <= 10000)) || fail "stopped after $took ms, not about 7 s"
assert_contains "$(cat "$err")" "asked dom0 to stop the command (id $cid); stopped" "stderr"
assert_contains "$(log_of DONE-FAIL "$cid")" "cancelled=KILL" "it ended on the KILL"
assert_eq 1 "$(hist_meta work "$cid" cancelled)" "cancelled=1 in .meta"
assert_eq 137 "$(hist_meta work "$cid" exit)" "killed, as a shell says it"

t "forged cancels of a running command: another VM's key, no token, another VM's cancel stop nothing"
cid=$(make_cid)
printf 'sleep 30\n' >"$TEST_DIR/body.$cid"
plant work "$cid" "$TEST_DIR/body.$cid" "" "" "$(v2_token "$(vm_keyhex work)" "$cid" "$TEST_DIR/body.$cid")"
wait_for "ran '$cid'" 20 || fail "dom0 does not run it"
forged_cancels work "$cid" other
assert_eq "" "$(log_of CANCEL "$cid")" "no CANCEL line"
[[ -e $(vm_queue work)/results/$cid.exit ]] && fail "the command ended"

t "the VM's own cancel stops it: 'stopping' at once, then the result with cancelled=1"
c5=$(make_cid)
plant_cancel work "$c5" "$cid"
wait_result work "$c5" 10 || fail "no answer to the cancel"
assert_eq stopping "$(cat "$(vm_queue work)/results/$c5.out")" "the cancel's answer"
assert_eq 0 "$(cat "$(vm_queue work)/results/$c5.exit")" "its exit"
wait_result work "$cid" 10 || fail "no result after the cancel"
assert_eq 1 "$(meta_field work "$cid" cancelled)" "cancelled=1"
assert_eq 130 "$(cat "$(vm_queue work)/results/$cid.exit")" "bash died of the INT"

t "a cancel of a command already done is not-held"
c6=$(make_cid)
plant_cancel work "$c6" "$cid"
wait_result work "$c6" || fail "no answer to the cancel"
assert_eq not-held "$(cat "$(vm_queue work)/results/$c6.out")" "the cancel's answer"
assert_eq 1 "$(cat "$(vm_queue work)/results/$c6.exit")" "its exit"

t "the service stopping while a command runs: interrupted, exit 255, the reason; no TIMEOUT line"
run_bg 'sleep 60'
dom0_stop
wait "$pid"
assert_eq 255 "$?" "the client's exit status"
assert_contains "$(cat "$err")" "interrupted: the service stopped while the command ran; it was killed" "stderr"
assert_eq interrupted "$(hist_meta work "$cid" status)" "its status"
assert_eq "the service stopped while the command ran; it was killed" \
	"$(hist_meta work "$cid" reason)" "its reason"
assert_ne "" "$(log_of INTERRUPTED "$cid")" "the INTERRUPTED line"
assert_eq "" "$(log_of TIMEOUT "$cid")" "no TIMEOUT line"
