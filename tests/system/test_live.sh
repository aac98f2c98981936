#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Issue 16, live output (docs/protocol.md 6b): a running command's stdout
# and stderr reach the client while it runs, through the VM's session
# (dom0 sends, the agent appends running/<cid>.out and .err, the client
# copies what is new), each on its own stream, in order, nothing twice;
# the result and the history are still whole.  Commands here wait in dom0
# for go-files the test creates, so "while it runs" is a fact, not a
# timing.  A halted VM, a killed session, a VM that stops reading and one
# that answers junk lose nothing and repeat nothing; a VM without the
# agent gets the whole result at the end.
# run.sh limit: 300 s
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work other
err=$TEST_DIR/err
out=$TEST_DIR/out
GO=$TEST_DIR/go
mkdir -m 0755 "$GO"
# The machine's copy of the agent moves aside; a wrapper takes its place,
# which, while $SIM/junk exists, turns the session's "ok" answers into
# junk (the attack case below)
REAL_AGENT=$SIM/real/qvm-remote-agent
{ mkdir -m 0755 "$SIM/real" && mv "$SIM/vmbin/qvm-remote-agent" "$REAL_AGENT"; } ||
	die "cannot move the agent aside"
printf '%s\n' '#!/bin/sh' \
	"if [ -e $SIM/junk ] && [ \"\$1\" = session ]; then" \
	"	$REAL_AGENT \"\$@\" | sed -u 's/^ok /ok !/'; exit" \
	'fi' "exec $REAL_AGENT \"\$@\"" >"$SIM/vmbin/qvm-remote-agent"
chmod 0755 "$SIM/vmbin/qvm-remote-agent"

last_id() {   # VM: the id of the VM's last request, from its audit.log
	sed -n 's/.* SUBMIT id=\([^ ]*\) .*/\1/p' "$SIM/vms/$1/home/.qvm-remote/audit.log" 2>/dev/null | tail -n 1
}
ran() {   # CID: its EXEC line is in dom0's log
	grep -q -F "] EXEC vm=work id=$1 " "$QVM_REMOTE_LOG"
}
finished() {   # CID: its DONE or DONE-FAIL line is in dom0's log
	grep -E "\] DONE(-FAIL)? vm=work " "$QVM_REMOTE_LOG" | grep -q -F " id=$1 "
}
go() { touch "$GO/$1"; }
# a dom0 shell line that waits for go-file $1
until_go() { printf 'while [ ! -e %s/%s ]; do sleep 0.05; done' "$GO" "$1"; }
# the client of a command, in the background; sets pid and cid once dom0 runs it
run_bg() {
	local before
	before=$(last_id work)
	: >"$out"
	: >"$err"
	in_vm work qvm-remote "$@" >"$out" 2>"$err" &
	pid=$!
	track_pid "$pid"
	wait_for "[[ \$(last_id work) != '$before' ]] && ran \$(last_id work)" 20 ||
		fail "dom0 does not run it"
	cid=$(last_id work)
}
ends() {   # STATUS SECONDS: the client ends within SECONDS, with STATUS
	wait_for "! proc_alive $pid" "$2" || die "the client still waits"
	wait "$pid"
	assert_eq "$1" "$?" "exit status"
}
has() {   # FILE TEXT: FILE holds TEXT
	grep -q -F -- "$2" "$1"
}
agent_user() { cat "$SIM/vms/work/user"; }

dom0_start
wait_for "grep -q 'action=start' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"
in_vm work qvm-remote true >/dev/null || die "the first command failed"

t "a command's lines reach the client while it runs, one by one"
run_bg "echo one; $(until_go a1); echo two; $(until_go a2); echo three"
wait_for "has '$out' one" 10 || fail "the first line did not come while the command runs"
has "$out" two && fail "a line the command has not written yet"
finished "$cid" && fail "the command ended too early"
go a1
wait_for "has '$out' two" 10 || fail "the second line did not come"
has "$out" three && fail "the third line before its time"
go a2
ends 0 30
assert_eq $'one\ntwo\nthree' "$(cat "$out")" "stdout, each line once"
assert_eq "" "$(cat "$err")" "stderr"

t "stdout and stderr each in order, on their own streams, while it runs"
run_bg "echo o1; echo e1 >&2; $(until_go b1); echo e2 >&2; echo o2"
wait_for "has '$out' o1 && has '$err' e1" 10 || fail "the first lines did not come"
go b1
ends 0 30
assert_eq $'o1\no2' "$(cat "$out")" "stdout"
assert_eq $'e1\ne2' "$(cat "$err")" "stderr"

t "the result and the history are whole: the archived output holds all of it"
q=$(vm_queue work)
assert_eq $'o1\no2' "$(cat "$SIM/vms/work/home/.qvm-remote/history"/*/"$cid"/out)" "history's out"
assert_eq $'e1\ne2' "$(cat "$SIM/vms/work/home/.qvm-remote/history"/*/"$cid"/err)" "history's err"
ls "$q/running" | grep -q -F "$cid" && fail "running/ still holds files of $cid: $(ls "$q/running")"

t "a large output streams and arrives exactly once, byte for byte"
in_vm work sh -c 'qvm-remote "seq 1 1000000; seq 1 50000 >&2" >"$HOME/big.out" 2>"$HOME/big.err"'
assert_eq 0 "$?" "exit status"
assert_eq "$(seq 1 1000000 | sha256sum)" "$(sha256sum <"$SIM/vms/work/home/big.out")" "stdout"
assert_eq "$(seq 1 50000 | sha256sum)" "$(sha256sum <"$SIM/vms/work/home/big.err")" "stderr"

t "a slow reader: the client's stdout is read after a pause, and nothing is lost"
in_vm work sh -c 'qvm-remote "seq 1 300000" | { sleep 3; cat; } >"$HOME/slow.out"'
assert_eq "$(seq 1 300000 | sha256sum)" "$(sha256sum <"$SIM/vms/work/home/slow.out")" "stdout"

t "Ctrl-C while it streams: exit 130, every line it printed once and in order"
run_bg 'i=0; while :; do i=$((i + 1)); echo "tick $i"; sleep 0.1; done'
wait_for "has '$out' 'tick 5'" 10 || fail "no live ticks"
pkill -INT -u "$(agent_user)" -x qvm-remote || fail "no client to interrupt"
ends 130 30
n=$(wc -l <"$out")
assert_eq "$(seq 1 "$n" | sed 's/^/tick /')" "$(cat "$out")" "the ticks, each once"

t "--json shows one object at the end, no live copy"
out_json=$(in_vm work qvm-remote --json 'echo j1')
assert_eq 1 "$(printf '%s\n' "$out_json" | wc -l)" "one line"
assert_contains "$out_json" '"stdout":"j1\n"' "its stdout field"

t "a session killed mid-stream: the output goes on, nothing twice"
run_bg "echo before; $(until_go c1); echo after"
wait_for "has '$out' before" 10 || fail "the first line did not come"
pkill -KILL -u "$(agent_user)" -f 'qvm-remote-agent session' || fail "no session to kill"
go c1
ends 0 30
assert_eq $'before\nafter' "$(cat "$out")" "stdout"

t "a VM halted mid-stream: its live file resumes when it is back, the result is whole"
run_bg "echo first; $(until_go d1); echo second; $(until_go d2); echo third"
wait_for "has '$out' first" 10 || fail "the first line did not come"
qubes-sim halt work || fail "cannot halt work"
go d1
sleep 0.5
qubes-sim start work || fail "cannot start work"
live=$q/running/$cid.out
wait_for "[[ \$(cat '$live' 2>/dev/null) == \$'first\nsecond' ]]" 20 ||
	fail "the live file holds '$(cat "$live" 2>/dev/null)' after the VM is back"
go d2
wait_result work "$cid" 20 || fail "no result"
assert_eq $'first\nsecond\nthird' "$(cat "$q/results/$cid.out")" "the result's stdout"
[[ -e $live ]] && fail "the live file outlived the result"

t "a VM that stops reading stalls only its own output; once it reads again, all of it arrives"
run_bg "seq 1 200000; $(until_go e1); echo end"
wait_for "has '$out' 1000" 10 || fail "no live output"
pkill -STOP -u "$(agent_user)" -f 'qvm-remote-agent session' || fail "no session to stop"
o=$(in_vm other qvm-remote 'echo other-served')
assert_eq other-served "$o" "another VM meanwhile"
go e1
sleep 1
pkill -CONT -u "$(agent_user)" -f 'qvm-remote-agent session'
ends 0 60
assert_eq "$( (seq 1 200000; echo end) | sha256sum)" "$(sha256sum <"$out")" "stdout, whole and once"

t "a VM whose session answers junk: dom0 logs it, serves others, and the result comes whole once it stops"
n0=$(wc -l <"$QVM_REMOTE_LOG")
touch "$SIM/junk"
pkill -KILL -u "$(agent_user)" -f 'qvm-remote-agent session'
run_bg "echo j-one; $(until_go f1); echo j-two"
wait_for "tail -n +$((n0 + 1)) '$QVM_REMOTE_LOG' | grep -q 'ERROR vm=work .*malformed deliver reply'" 20 ||
	fail "no error logged for the junk"
o=$(in_vm other qvm-remote 'echo still-served')
assert_eq still-served "$o" "another VM meanwhile"
rm -f "$SIM/junk"
go f1
ends 0 60
assert_eq $'j-one\nj-two' "$(cat "$out")" "stdout, each line once"

t "a VM without the agent gets the whole result at the end"
mv "$SIM/vmbin/qvm-remote-agent" "$SIM/real/wrapper"
pkill -KILL -u "$(agent_user)" -f 'qvm-remote-agent session'
out_sh=$(in_vm work qvm-remote --timeout 60 'echo via-sh; echo via-sh-err >&2' 2>"$err")
assert_eq 0 "$?" "exit status"
assert_eq via-sh "$out_sh" "stdout"
assert_eq via-sh-err "$(cat "$err")" "stderr"
mv "$SIM/real/wrapper" "$SIM/vmbin/qvm-remote-agent"

t "the daemon stops cleanly"
dom0_stop
