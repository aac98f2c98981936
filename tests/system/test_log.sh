#!/bin/bash
# Issue 17, the terminal's way to watch the log: `qvm-remote-dom0 log`
# prints its last lines, -f the lines written after them as they come,
# through rotation, --vm and --category keep some, and a terminal gets the
# viewer's colours (only a terminal).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work other
dom0_start
wait_for "grep -q 'action=start' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"
in_vm work qvm-remote true >/dev/null || die "the first command failed"
out=$TEST_DIR/out

t "log -f prints each new line as it is written, --vm keeps one VM's"
dom0 log -n 0 -f --vm work >"$out" 2>"$TEST_DIR/err" &
follower=$!
track_pid "$follower"
sleep 0.5       # the follower has read the end
in_vm other qvm-remote echo other-marker >/dev/null
in_vm work qvm-remote echo work-marker >/dev/null
wait_for "grep -q 'DONE  vm=work' '$out'" 10 || fail "no line of work's command came: $(cat "$out")"
assert_contains "$(cat "$out")" 'EXEC  vm=work' "work's EXEC line"
assert_contains "$(cat "$out")" 'cmd="echo work-marker"' "its command"
[[ $(cat "$out") != *vm=other* ]] || fail "a line of another VM: $(grep vm=other "$out")"
[[ $(cat "$out") != *'action=start'* ]] || fail "-n 0 printed an old line"
[[ $(cat "$out") != *$'\e['* ]] || fail "colours in a file"
[[ $(cat "$out") != *chain=* ]] || fail "a chain value shown"

t "log -f goes on in the new file after a rotation"
mv "$QVM_REMOTE_LOG" "$QVM_REMOTE_LOG.1"
in_vm work qvm-remote echo after-rotation >/dev/null
wait_for "grep -q 'cmd=\"echo after-rotation\"' '$out'" 10 || fail "the line after the rotation did not come"
assert_eq 1 "$(grep -c 'cmd="echo work-marker"' "$out")" "a line before the rotation, once"
kill "$follower"

t "--category keeps the categories listed, -n counts the lines kept"
assert_exit 0 in_vm work qvm-remote true
assert_exit 0 in_vm other qvm-remote echo other-done
wait_for "grep -q 'DONE vm=other' '$QVM_REMOTE_LOG'" 10 || fail "no DONE line of other's command"
dom0 log -n 2 --category DONE >"$out"
assert_eq 0 "$?" "exit status"
assert_eq 2 "$(wc -l <"$out")" "lines"
assert_eq 2 "$(grep -c '^\[[^]]*\] DONE  vm=' "$out")" "DONE lines"
assert_contains "$(tail -n 1 "$out")" "DONE  vm=other" "the last one"

t "a terminal gets the viewer's colours, NO_COLOR none"
TERM=xterm script -qec "'$QVMR_DAEMON' -c '$DOM0_CONF' log -n 3" /dev/null >"$out"
assert_contains "$(cat "$out")" $'\e[32mDONE\e[0m' "DONE in green"
NO_COLOR=1 TERM=xterm script -qec "'$QVMR_DAEMON' -c '$DOM0_CONF' log -n 3" /dev/null >"$out"
[[ $(cat "$out") != *$'\e['* ]] || fail "colours with NO_COLOR"

t "log refuses what it does not know"
dom0 log --colour >"$out" 2>&1
assert_eq 2 "$?" "exit status"
assert_contains "$(cat "$out")" "log [-n N] [-f] [--vm VM] [--category CAT[,CAT...]]"
dom0 log --category 'DONE FAIL' >"$out" 2>&1
assert_eq 2 "$?" "a list with a space"

t "the daemon stops cleanly"
dom0_stop
