#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Issue 16, seeing and stopping what runs (docs/protocol.md 9a): the
# daemon keeps runtime_dir/jobs (0600, in the 0700 runtime directory) with
# what runs, waits for a slot or waits for a person; `qvm-remote-dom0 ps`
# lists it, the VM's bytes escaped; `stop ID` writes stops/CID, and the
# daemon stops a running command as the VM's cancel would (INT, TERM,
# KILL; CANCEL ... by=USER via=terminal) or refuses one that waits ("stopped
# in dom0 by USER; nothing ran"); an unknown ID is refused; what ended
# leaves jobs; without the daemon ps says so.  The VM's `queue` shows the
# same three states of its own requests.
# run.sh limit: 180 s
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

need_root || skip_all "the policy directory and the runtime directory: needs root"
dom0_setup work:bash
M=$TEST_DIR/marker
P=$QVM_REMOTE_POLICY_DIR
RUN=$QVM_REMOTE_RUNTIME_DIR
chmod 0777 "$TEST_DIR"
at_exit "chmod 0755 '$TEST_DIR'"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_ASK_TIMEOUT=120 \
	QVM_REMOTE_ASK_PROMPT=none QVM_REMOTE_MAX_PER_VM=1 >"$DOM0_CONF"
mkdir -p "$P" && chmod 0755 "$P"
cat >"$P/10-ps.policy" <<EOF2
work      ask       touch $M.*
work      allow     @script
work      allow     * ...
EOF2
chmod 0644 "$P/10-ps.policy"

cid_in() {   # STATE: the cid of the (first) request in that state, from jobs
	sed -n "s/.* JOB vm=work id=\([^ ]*\) state=$1 .*/\1/p" "$RUN/jobs" 2>/dev/null | head -n 1
}
short() { local r=${1##*-}; printf '%s\n' "${r:0:6}"; }
ps_line() {   # CID: its line of ps
	COLUMNS=200 dom0 ps 2>&1 | grep -F " $(short "$1")"
}

dom0_start
wait_for "grep -q 'policy loaded' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"

t "ps with nothing held says so; jobs is 0600 in a 0700 directory"
wait_for "[[ -e '$RUN/jobs' ]]" 10 || fail "no jobs file"
assert_eq "qvm-remote-dom0: nothing runs or waits" "$(dom0 ps 2>&1)" "ps"
assert_eq 600 "$(stat -c %a "$RUN/jobs")" "the jobs file's mode"
assert_eq 700 "$(stat -c %a "$RUN")" "the runtime directory's mode"
assert_eq 700 "$(stat -c %a "$RUN/stops")" "stops/"

t "a running command shows with its VM, user, time and command"
in_vm work qvm-remote 'sleep 60 # first' >"$TEST_DIR/out1" 2>"$TEST_DIR/err1" &
p1=$!
wait_for "[[ -n \$(cid_in running) ]]" 20 || fail "not running in jobs"
c1=$(cid_in running)
line=$(ps_line "$c1")
assert_contains "$line" "work" "its VM"
assert_contains "$line" "running" "its state"
assert_contains "$line" "root" "its user"
assert_contains "$line" "sleep 60 # first" "its command"
assert_contains "$(dom0 ps)" "COMMAND" "the header"

t "a request the policy asks about shows as asking; the VM's queue says it waits for approval"
in_vm work qvm-remote -x touch "$M.asked" >"$TEST_DIR/out3" 2>"$TEST_DIR/err3" &
p3=$!
wait_for "[[ -n \$(cid_in asking) ]]" 20 || fail "not asking in jobs"
c3=$(cid_in asking)
assert_contains "$(ps_line "$c3")" "asking" "its state"
assert_contains "$(ps_line "$c3")" "touch $M.asked" "its vector"
wait_for "in_vm work qvm-remote queue | grep -q 'waiting for approval'" 10 ||
	fail "the VM's queue: $(in_vm work qvm-remote queue)"

t "one more command waits for the slot (QVM_REMOTE_MAX_PER_VM=1): queued, its escapes shown escaped"
in_vm work qvm-remote $'echo caf\xc3\xa9\rgone' >"$TEST_DIR/out2" 2>"$TEST_DIR/err2" &
p2=$!
wait_for "[[ -n \$(cid_in queued) ]]" 20 || fail "not queued in jobs"
c2=$(cid_in queued)
line=$(ps_line "$c2")
assert_contains "$line" "queued" "its state"
assert_contains "$line" 'echo caf\xc3\xa9\rgone' "escaped"
[[ $(dom0 ps) == *$'\r'* ]] && fail "a carriage return reached the terminal"
assert_contains "$(in_vm work qvm-remote queue)" "running" "the VM's queue shows the taken one"

t "stop of a queued one refuses it with the reason; nothing ran"
dom0 stop "$(short "$c2")" >"$TEST_DIR/so" 2>"$TEST_DIR/se"
assert_eq 0 "$?" "stop's exit: $(cat "$TEST_DIR/se")"
assert_contains "$(cat "$TEST_DIR/so")" "refused: work's request $c2 will not run" "stop says"
wait "$p2"
assert_eq 126 "$?" "the client of the queued one"
assert_contains "$(cat "$TEST_DIR/err2")" "stopped in dom0 by root; nothing ran" "its reason"
assert_contains "$(grep -F " id=$c2 " "$QVM_REMOTE_LOG" | grep -F '] INFO ')" "action=stopped by=root via=terminal" "the log"
grep -q -F "] EXEC vm=work id=$c2 " "$QVM_REMOTE_LOG" && fail "it ran"

t "stop of an asking one refuses it; a POLICY line says who"
dom0 stop "$c3" >"$TEST_DIR/so" 2>"$TEST_DIR/se"
assert_eq 0 "$?" "stop's exit: $(cat "$TEST_DIR/se")"
wait "$p3"
assert_eq 126 "$?" "the client of the asking one"
assert_contains "$(cat "$TEST_DIR/err3")" "stopped in dom0 by root" "its reason"
assert_contains "$(grep -F " id=$c3 " "$QVM_REMOTE_LOG" | grep -F 'action=stopped')" "by=root via=terminal" "the POLICY line"
[[ -e $M.asked ]] && fail "it ran"

t "an unknown ID exits 1 with a message"
dom0 stop ffffffff >"$TEST_DIR/so" 2>"$TEST_DIR/se"
assert_eq 1 "$?" "stop's exit"
assert_contains "$(cat "$TEST_DIR/se")" "no request 'ffffffff' runs or waits in dom0" "the message"
dom0 stop 'x;y' 2>"$TEST_DIR/se"
assert_eq 1 "$?" "not an ID"

t "stop of a running command ends it within a few seconds; the client exits with its status; the log says by=root"
start=$(now_ms)
dom0 stop "$(short "$c1")" >"$TEST_DIR/so" 2>"$TEST_DIR/se"
assert_eq 0 "$?" "stop's exit: $(cat "$TEST_DIR/se")"
assert_contains "$(cat "$TEST_DIR/so")" "stopped: work's command $c1 ended" "stop says"
wait "$p1"
assert_eq 130 "$?" "the client: bash ended by the INT"
took=$(($(now_ms) - start))
((took <= 5000)) || fail "stopped after $took ms"
assert_contains "$(grep -F "] CANCEL vm=work id=$c1 " "$QVM_REMOTE_LOG")" "by=root via=terminal signal=INT" "the CANCEL line"

t "what ended leaves jobs"
wait_for "[[ -z \$(cid_in running) ]]" 10 || fail "still in jobs"
assert_eq "qvm-remote-dom0: nothing runs or waits" "$(dom0 ps 2>&1)" "ps"
in_vm work qvm-remote true
assert_eq 0 "$?" "a command"
wait_for "! grep -q ' JOB ' '$RUN/jobs'" 5 || fail "true stays in jobs"

t "without the service ps says it is not running (exit 1)"
dom0_stop
dom0 ps >"$TEST_DIR/so" 2>"$TEST_DIR/se"
assert_eq 1 "$?" "ps's exit"
assert_contains "$(cat "$TEST_DIR/se")" "the service is not running" "the message"
dom0 stop "$c1" 2>/dev/null
assert_eq 1 "$?" "stop's exit"
