#!/bin/bash
# Crash recovery: nothing lost, nothing run twice.  A claim nobody works on
# is either put back (it never ran) or answered "interrupted" (it may have
# run; it never runs again); a result in dom0's outbox is delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work
q=$SIM/vms/work/home/.qvm-remote/queue
ran=$TEST_DIR/ran
: >"$ran"
chmod 0666 "$ran"

t "SIGKILL while a command runs: the client is told it was interrupted"
dom0_start
in_vm work qvm-remote "echo x >>'$ran'; sleep 3" >/dev/null 2>"$TEST_DIR/err" &
client=$!
wait_for "[ -s '$ran' ]" 10 || fail "the command never started"
kill -KILL "$DOM0_PID"
wait "$DOM0_PID" 2>/dev/null
DOM0_PID=
dom0_start
wait "$client"
assert_eq 255 "$?" "the client's exit code"
assert_contains "$(cat "$TEST_DIR/err")" "interrupted" "message"
assert_contains "$(dom0_log)" "action=interrupted" "RECOVER line"
sleep 3.5    # the orphaned command (no systemd here) finishes
assert_eq 1 "$(wc -l <"$ran")" "runs of the command"
dom0_stop

t "a stranded claim that never ran is put back and fetched again"
: >"$ran"
id=$(date -u +%Y%m%d-%H%M%S)-1-0123456789abcdef0123456789abcdef
in_vm work sh -c "cd '$q' && printf 'echo y >>$ran\n' >running/\$1 &&
	printf 'v2 %064d\n' 0 >running/\$1.auth.0badc0de-1-0" sh "$id"
dom0_start
wait_for "grep -q action=released '$QVM_REMOTE_LOG'" 10 || fail "not released"
# its token is made up: fetched again, it is rejected, not run
wait_for "[ -e '$q/results/$id.exit' ]" 10 || fail "no result for the request"
assert_contains "$(dom0_log)" "AUTH-FAIL vm=work id=$id" "verdict"
assert_eq "" "$(ls "$q/running")" "running/ after recovery"
assert_eq "" "$(cat "$ran")" "what ran"
dom0_stop

t "a valid stranded claim is released and then runs exactly once"
: >"$ran"
in_vm work qvm-remote -q --wait 30 "echo z >>'$ran'" >/dev/null 2>&1 &
client=$!
wait_for "ls '$q/pending/'*.auth >/dev/null 2>&1" 10 || fail "no request"
# what a fetch does before its reply is lost: the claim, by hand
in_vm work sh -c 'cd "$1/pending" && for a in *.auth; do c=${a%.auth};
	mv "$c" ../running/ && mv "$a" "../running/$a.0badc0de-2-0"; done' sh "$q"
dom0_start
wait "$client"
assert_eq 0 "$?" "the client's exit code"
assert_eq z "$(cat "$ran")" "the command ran once"
dom0_stop

t "halted while its command runs: the result waits in dom0 and arrives later"
: >"$ran"
dom0_start
in_vm work qvm-remote "echo v >>'$ran'; sleep 2; echo late" >/dev/null 2>&1 &
wait_for "[ -s '$ran' ]" 10 || fail "the command never started"
id=$(ls "$q/running" | sed -n 's/\.auth\..*//p')
qubes-sim halt work
wait_for "grep -q 'DONE vm=work id=$id' '$QVM_REMOTE_LOG'" 10 || fail "no DONE"
assert_ne "" "$(ls "$QVM_REMOTE_STATE_DIR/outbox/work")" "the outbox"
dom0_stop             # the result survives a daemon restart too
qubes-sim start work
dom0_start
wait_for "[ -e '$q/results/$id.exit' ]" 10 || fail "the result never arrived"
assert_eq late "$(cat "$q/results/$id.out")" "its output"
# the VM has the result before dom0 reads the deliver's reply and clears
# its outbox entry: wait for that, not just for the file
wait_for "[ -z \"\$(ls -A '$QVM_REMOTE_STATE_DIR/outbox/work')\" ]" 10
assert_eq "" "$(ls -A "$QVM_REMOTE_STATE_DIR/outbox/work")" "the outbox after delivery"
assert_eq 1 "$(wc -l <"$ran")" "runs of the command"
dom0_stop

# A command accepted but still waiting for a slot is not in the replay
# store: a crash puts its claim back in pending/ and it runs, once, after
# the restart, instead of being answered "interrupted".
t "SIGKILL while a command waits for a slot: it is put back and runs once after the restart"
printf 'QVM_REMOTE_MAX_PER_VM=1\n' >"$DOM0_CONF"
: >"$ran"
rm -f "$TEST_DIR"/slot-*
lines=$(wc -l <"$QVM_REMOTE_LOG")
dom0_start
in_vm work qvm-remote --wait 60 "echo first >>'$ran'; echo \$\$ >'$TEST_DIR/slot-first'; exec sleep 30" \
	>/dev/null 2>"$TEST_DIR/first.err" &
first=$!
track_pid "$first"
wait_for "[ -s '$TEST_DIR/slot-first' ]" 20 || fail "the first command never started"
in_vm work qvm-remote --wait 60 "echo second >>'$ran'" >"$TEST_DIR/second.out" 2>&1 &
second=$!
track_pid "$second"
# accepted (AUTH-OK) but not started: the one slot is taken
wait_for "(( \$(tail -n +$((lines + 1)) '$QVM_REMOTE_LOG' | grep -c 'AUTH-OK vm=work ') >= 2 ))" 30 ||
	fail "the second command was not taken"
kill -KILL "$DOM0_PID"
wait "$DOM0_PID" 2>/dev/null
DOM0_PID=
kill -KILL "$(cat "$TEST_DIR/slot-first")"   # what systemd would do to the orphan
dom0_start
wait "$second"
assert_eq 0 "$?" "the waiting command's exit code"
wait "$first"
assert_eq 255 "$?" "the running command's exit code (interrupted)"
assert_eq "first second" "$(sort "$ran" | tr '\n' ' ' | sed 's/ $//')" "what ran, once each"
# by id: what happened to each of the two commands
new_log() { tail -n "+$((lines + 1))" "$QVM_REMOTE_LOG"; }
id_of() { new_log | grep 'EXEC vm=work ' | grep -F "echo $1 " | sed -n 's/.* id=\([^ ]*\) .*/\1/p' | head -n 1; }
first_id=$(id_of first) second_id=$(id_of second)
[[ -n $first_id && -n $second_id ]] || fail "no EXEC lines for the two commands"
new_log | grep -q "RECOVER vm=work id=$first_id .*action=interrupted" ||
	fail "the running command was not answered interrupted"
new_log | grep -q "RECOVER vm=work id=$second_id .*action=released" ||
	fail "the waiting command was not put back"
assert_eq 0 "$(new_log | grep -c "RECOVER vm=work id=$second_id .*action=interrupted")" \
	"interrupted lines for the waiting command"
assert_eq 0 "$(new_log | grep -c "RECOVER vm=work id=$first_id .*action=released")" \
	"released lines for the running command"
dom0_stop

# Stopping, a command still waiting for a slot is not started only to be
# ended at the grace period: it stays claimed and runs after the restart.
t "SIGTERM while a command waits for a slot: it does not start; it runs once after the restart"
: >"$ran"
rm -f "$TEST_DIR"/slot-*
printf 'QVM_REMOTE_MAX_PER_VM=1\nQVM_REMOTE_STOP_GRACE=30\n' >"$DOM0_CONF"
lines=$(wc -l <"$QVM_REMOTE_LOG")
dom0_start
# the first holds the one slot until the daemon is stopping
in_vm work qvm-remote --wait 60 "echo first >>'$ran'; touch '$TEST_DIR/slot-first'
	i=0; while [ ! -e '$TEST_DIR/slot-go' ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done" \
	>/dev/null 2>&1 &
first=$!
track_pid "$first"
wait_for "[ -e '$TEST_DIR/slot-first' ]" 20 || fail "the first command never started"
in_vm work qvm-remote --wait 60 "echo second >>'$ran'; echo second" >"$TEST_DIR/second.out" 2>&1 &
second=$!
track_pid "$second"
wait_for "(( \$(tail -n +$((lines + 1)) '$QVM_REMOTE_LOG' | grep -c 'AUTH-OK vm=work ') >= 2 ))" 30 ||
	fail "the second command was not taken"
kill -TERM "$DOM0_PID"
wait_for "tail -n +$((lines + 1)) '$QVM_REMOTE_LOG' | grep -q 'action=stopping'" 20 || fail "no stopping line"
touch "$TEST_DIR/slot-go"
dom0_stop
wait "$first"
assert_eq 0 "$?" "the running command's exit code: it finished within the grace"
assert_eq first "$(cat "$ran")" "what ran before the restart"
dom0_start
wait "$second"
assert_eq 0 "$?" "the waiting command's exit code after the restart"
assert_eq second "$(cat "$TEST_DIR/second.out")" "its output"
assert_eq "first second" "$(tr '\n' ' ' <"$ran" | sed 's/ $//')" "what ran, once each"
dom0_stop
