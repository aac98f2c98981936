#!/bin/bash
# How dom0 reaches VMs: who is polled, how often, with which transport and
# poll mode, and what --once and --dry-run do.  Transport calls are counted
# in the simulator's call log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work dev:bash
qubes-sim create stranger && qubes-sim start stranger
in_vm stranger qvm-remote key gen >/dev/null 2>&1
err=$TEST_DIR/err

t "a wrong key is rejected at once, with the reason, not a timeout"
dom0_start
in_vm dev qvm-remote key gen --force >/dev/null 2>&1
start=$(now_ms)
in_vm dev qvm-remote true 2>"$err"
assert_eq 126 "$?" "exit code"
assert_contains "$(cat "$err")" "authentication failed" "message"
assert_contains "$(cat "$err")" "qvm-remote key fingerprint" "what to do"
(($(now_ms) - start < 15000)) || fail "rejection took $(($(now_ms) - start)) ms"
assert_contains "$(dom0_log)" "AUTH-FAIL vm=dev" "audit line"
dom0 authorize --from-vm dev >/dev/null
dom0_stop

t "a VM without a key is never polled and its client hears nothing"
dom0_start
sleep 0.5
assert_exit 123 in_vm stranger qvm-remote --wait 2 -q true
assert_eq 0 "$(calls stranger)" "transport calls into the unknown VM"
assert_eq "" "$(in_vm stranger ls "$SIM/vms/stranger/home/.qvm-remote/queue/pending")" \
	"the withdrawn request"
dom0_stop

t "a halted VM costs no transport calls, and works once started"
qubes-sim halt dev
dom0_start
sleep 0.5
qubes-sim calls --reset
sleep 2
assert_eq 0 "$(calls dev)" "calls while dev was halted"
qubes-sim start dev
assert_eq up "$(in_vm dev qvm-remote echo up)" "a command after the start"
dom0_stop

t "at most 2 transport calls per command (watch mode)"
dom0_start
assert_eq ready "$(in_vm work qvm-remote echo ready)"
qubes-sim calls --reset
for i in 1 2 3 4 5; do
	in_vm work qvm-remote true || fail "command $i failed"
done
n=$(calls work)
# with sh programs every command ends one waiting fetch and makes one
# deliver, and the fetch left waiting at the end is the one extra call;
# with the agent's session there are none (test_agent.sh)
((n <= 2 * 5 + 1)) || fail "$n transport calls for 5 commands"
printf '# %s calls for 5 commands\n' "$n"
dom0_stop

t "commands waiting for a slot cost the daemon no CPU while they wait"
printf '%s\n' "QVM_REMOTE_MAX_PER_VM=1" >>"$DOM0_CONF"
dom0_start
assert_eq ready "$(in_vm work qvm-remote echo ready)"
for i in 1 2 3 4; do
	in_vm work qvm-remote 'sleep 1' &
	pids+=("$!")
done
sleep 1
cpu() { awk '{ print $14 + $15 }' "/proc/$DOM0_PID/stat"; }
cpu0=$(cpu)
sleep 2
ticks=$(($(cpu) - cpu0))
printf '# daemon CPU %d of %d ticks while commands waited\n' "$ticks" "$((2 * $(getconf CLK_TCK)))"
((ticks * 5 < 2 * $(getconf CLK_TCK))) || fail "the daemon used $ticks ticks in 2 s"
for p in "${pids[@]}"; do
	wait "$p" || fail "a command ended with $?"
done
sed -i '/QVM_REMOTE_MAX_PER_VM/d' "$DOM0_CONF"
dom0_stop

t "an unused VM's session turns ever less often; a command brings the short wait back"
printf '%s\n' "QVM_REMOTE_WATCH_WAIT=1" >>"$DOM0_CONF"
dom0_start
assert_eq ready "$(in_vm work qvm-remote echo ready)"
# each turn's fetch line says its wait (protocol.md: fetch PREFIX WAIT ...)
strace -q -s 256 -e trace=write -o "$TEST_DIR/turns.trace" -p "$DOM0_PID" &
spid=$!
sleep 16
# the waits, each once (both VMs' sessions write their turns)
waits() { grep -a -o 'fetch [^ ]* [0-9]*' "$TEST_DIR/turns.trace" | awk '{ print $3 }' | sort -un | tr '\n' ' '; }
w=$(waits)
printf '# the waits of 16 s idle at QVM_REMOTE_WATCH_WAIT=1: %s\n' "$w"
# each turn that came back empty doubled the next one's wait, to 8 times
assert_contains " $w" " 2 4 8 " "the waits doubling"
[[ " $w" != *" 16 "* ]] || fail "a wait past 8 times the setting: $w"
: >"$TEST_DIR/turns.trace"
in_vm work qvm-remote true || fail "the command failed"
wait_for "[[ \" \$(waits)\" == *' 1 '* ]]" 10 ||
	fail "no turn waits 1 s after the command: $(waits)"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
sed -i '/QVM_REMOTE_WATCH_WAIT/d' "$DOM0_CONF"
dom0_stop

t "turns of the loop stat no VM's qrexec socket; a change in the qrexec directory does"
dom0_start
assert_eq ready "$(in_vm work qvm-remote echo ready)"
strace -q -f -e trace=stat,lstat,newfstatat,statx -o "$TEST_DIR/stat.trace" -p "$DOM0_PID" &
spid=$!
sleep 1     # strace is attached
for i in 1 2 3 4 5; do
	in_vm work qvm-remote true || fail "command $i failed"
done
n=$(grep -c 'qrexec\.' "$TEST_DIR/stat.trace")
assert_eq 0 "$n" "stats of qrexec sockets during 5 commands"
qubes-sim halt dev
wait_for "grep -q 'qrexec\.dev' '$TEST_DIR/stat.trace'" 10 ||
	fail "dom0 did not look at the VMs when dev's qrexec went away"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
qubes-sim start dev
assert_eq up "$(in_vm dev qvm-remote echo up)" "a command in dev once it is up again"
dom0_stop

t "interval mode with the qvm-run transport"
printf 'QVM_REMOTE_POLL=interval\nQVM_REMOTE_INTERVAL=1\nQVM_REMOTE_TRANSPORT=qvm-run\n' >"$DOM0_CONF"
dom0_start
assert_eq "via qvm-run" "$(in_vm dev qvm-remote echo via qvm-run)"
assert_contains "$(qubes-sim calls --vm dev --tool qvm-run)" "qvm-run dev" "qvm-run was used"
assert_exit 3 in_vm work qvm-remote 'exit 3'
dom0_stop
: >"$DOM0_CONF"

t "watch mode with the qvm-run transport: the agent's session works through it too"
printf 'QVM_REMOTE_POLL=watch\nQVM_REMOTE_TRANSPORT=qvm-run\n' >"$DOM0_CONF"
dom0_start
assert_eq warm "$(in_vm dev qvm-remote echo warm)"
wait_for "pgrep -u '$(cat "$SIM/vms/dev/user")' -f 'qvm-remote-agent session' >/dev/null" 10 ||
	fail "no session in dev"
c0=$(calls dev)
for i in 1 2 3; do
	assert_eq "s$i" "$(in_vm dev qvm-remote "sleep 0.$((i * 3)); echo s$i")" "command $i"
done
assert_eq 0 "$(($(calls dev) - c0))" "transport calls for three commands"
dom0_stop
: >"$DOM0_CONF"

t "--dry-run lists and verifies without claiming or running"
in_vm work qvm-remote -q --wait 120 "touch '$TEST_DIR/ran'" >/dev/null 2>&1 &
client=$!
wait_for "in_vm work sh -c 'ls \$HOME/.qvm-remote/queue/pending/*.auth' >/dev/null 2>&1" 10 ||
	fail "the request never appeared"
dom0 --dry-run 2>"$TEST_DIR/dry.err"
assert_eq 0 "$?" "exit status"
assert_contains "$(dom0_log)" "DRY vm=work" "DRY line"
assert_contains "$(cat "$TEST_DIR/dry.err")" "DRY vm=work" "the DRY line on stderr, without -v"
assert_eq 1 "$(grep -c 'DRY vm=work' "$QVM_REMOTE_LOG")" "DRY lines: one fetch, then the dry run ends"
[[ ! -e $TEST_DIR/ran ]] || fail "the command ran in a dry run"

t "--once claims, runs and delivers, then exits"
assert_exit 0 dom0 --once
wait "$client"
assert_eq 0 "$?" "the waiting client's exit code"
[[ -e $TEST_DIR/ran ]] || fail "the command did not run"

t "--vm narrows the daemon to one VM"
in_vm dev qvm-remote -q --wait 120 "touch '$TEST_DIR/dev-ran'" >/dev/null 2>&1 &
client=$!
wait_for "in_vm dev sh -c 'ls \$HOME/.qvm-remote/queue/pending/*.auth' >/dev/null 2>&1" 10
qubes-sim calls --reset
assert_exit 0 dom0 --once --vm work
assert_eq 0 "$(calls dev)" "calls into dev"
[[ ! -e $TEST_DIR/dev-ran ]] || fail "dev's command ran"
assert_exit 0 dom0 --once --vm dev
wait "$client"
[[ -e $TEST_DIR/dev-ran ]] || fail "dev's command did not run"

t "revoke stops the polling of a VM"
assert_exit 0 dom0 revoke work
assert_exit 0 dom0 --once
assert_contains "$(dom0 keys)" "dev" "keys lists dev"
[[ $(dom0 keys) != *work* ]] || fail "keys still lists work"

t "names that only look like ids or claims never wedge a VM's fetches"
dom0_start
in_vm dev sh -c 'q=$HOME/.qvm-remote/queue
	printf "v2 %064d\n" 0 >"$q/pending/ping-123.auth"
	printf "v2 %064d\n" 0 >"$q/pending/20261128-101500-1-0123456789abcdef.auth~"
	printf "x\n" >"$q/running/20261128-101500-1-0123456789abcdef.auth.deadbeef-1-0~"
	printf "x\n" >"$q/running/20261128-101500-1-0123456789abcdef.auth.x y"'
assert_eq fine "$(in_vm dev qvm-remote echo fine)" "a command after the junk"
assert_eq fine "$(in_vm dev qvm-remote echo fine)" "and another fetch"
[[ $(dom0_log) != *"malformed fetch reply"* ]] || fail "a fetch reply was malformed"
assert_file_exists "$SIM/vms/dev/home/.qvm-remote/queue/pending/ping-123.auth" "the junk, untouched"
dom0_stop
