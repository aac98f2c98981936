#!/bin/bash
# qvm-remote-agent, the VM half in C: dom0 calls it directly once a fetch
# reply says "agent N", runs a session with it when N >= 2 (commands come
# and go through one call), falls back to its sh programs when it is gone,
# and a VM that never used qvm-remote is not polled (with the agent or not).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"
need_build agent

dom0_setup work idle
printf '%s\n' "QVM_REMOTE_POLL=watch" >"$DOM0_CONF"
# the agent behind a wrapper that logs how it was called
AGENT_LOG=$TEST_DIR/agent.log
: >"$AGENT_LOG"
chmod 0666 "$AGENT_LOG"
# The machine's copy of the agent (the VM users may not reach $QVMR_AGENT,
# in a build tree under a 0700 home), where every VM can run it.
VM_AGENT=$SIM/real/qvm-remote-agent
{ mkdir -m 0755 "$SIM/real" && mv "$SIM/vmbin/qvm-remote-agent" "$VM_AGENT"; } ||
	die "cannot move the agent aside"
printf '#!/bin/sh\necho "$1" >>%s\nexec %s "$@"\n' "$AGENT_LOG" "$VM_AGENT" \
	>"$SIM/vmbin/qvm-remote-agent"
chmod 0755 "$SIM/vmbin/qvm-remote-agent"
dom0_start

t "with the agent, commands come and go through one session: no transport call per command"
wait_for "grep -q session '$AGENT_LOG'" 20 || fail "the agent never ran a session"
in_vm work qvm-remote true >/dev/null || fail "the warm-up command failed"
c0=$(calls work)
: >"$AGENT_LOG"
for i in 1 2 3 4 5; do
	out=$(in_vm work qvm-remote "echo via-session-$i; exit $i")
	assert_eq "$i" "$?" "exit code of command $i"
	assert_eq "via-session-$i" "$out" "stdout of command $i"
done
assert_eq 0 "$(($(calls work) - c0))" "transport calls for five commands"
assert_eq "" "$(cat "$AGENT_LOG")" "agents started meanwhile"

t "dom0 restarted: its first call into a VM whose agent an earlier run saw is the agent's session, not an sh program"
assert_eq 6 "$(cat "$QVM_REMOTE_STATE_DIR/agents/work")" "the level stored for work"
dom0_stop
: >"$AGENT_LOG"
c0=$(calls work)
dom0_start
out=$(in_vm work qvm-remote 'echo hinted')
assert_eq hinted "$out" stdout
assert_eq session "$(head -n 1 "$AGENT_LOG")" "the first call's mode"
assert_eq 1 "$(($(calls work) - c0))" "transport calls from the start to the result"

t "a result that comes after its turn goes into the session while it waits: no call either"
c0=$(calls work)
: >"$AGENT_LOG"
for s in 0.5 1.5; do
	out=$(in_vm work qvm-remote "sleep $s; echo late-$s")
	assert_eq "late-$s" "$out" "stdout after $s s"
done
out=$(in_vm work qvm-remote 'echo after')
assert_eq after "$out" "the next command"
assert_eq 0 "$(($(calls work) - c0))" "transport calls"
assert_eq "" "$(cat "$AGENT_LOG")" "agents started meanwhile"

t "a session killed while its command runs: the result comes by the next call, once"
in_vm work qvm-remote 'sleep 1.5; echo survived' >"$TEST_DIR/killed.out" 2>&1 &
cpid=$!
wait_for "grep -q 'EXEC vm=work .*sleep 1.5' '$QVM_REMOTE_LOG'" 10 || fail "the command never started"
pkill -KILL -u "$(cat "$SIM/vms/work/user")" -f 'qvm-remote-agent session' ||
	fail "no session to kill"
wait "$cpid"
assert_eq 0 "$?" "exit code"
assert_eq survived "$(cat "$TEST_DIR/killed.out")" stdout
assert_eq 1 "$(grep -c 'EXEC vm=work .*echo survived' "$QVM_REMOTE_LOG")" "runs of the command"
assert_eq ok "$(in_vm work qvm-remote 'echo ok')" "the next command"

t "commands from one VM at once all come back, on the session or beside it"
for i in 1 2 3 4 5 6; do
	in_vm work qvm-remote "sleep 0.$((i % 3)); echo par-$i" >"$TEST_DIR/par-$i.out" 2>&1 &
	pids+=("$!")
done
for i in 1 2 3 4 5 6; do
	wait "${pids[i - 1]}" || fail "command $i ended with $?"
	assert_eq "par-$i" "$(cat "$TEST_DIR/par-$i.out")" "stdout of command $i"
done

t "an agent of level 1 gets fetch and deliver calls, and dom0 acts on a whole fetch reply while the call is still open"
# an agent that says level 1, knows no sessions (as level 1 did not), and
# keeps each fetch call open 10 s after its answer; dom0's stored level
# (3) costs one refused session
printf '#!/bin/sh
[ "$1" != session ] || exit 2
%s "$@" | sed "s/^agent [0-9]*$/agent 1/"
[ "$1" != fetch ] || sleep 10
' \
	"$VM_AGENT" >"$SIM/vms/work/bin/qvm-remote-agent"
chmod 0755 "$SIM/vms/work/bin/qvm-remote-agent"
dom0_stop   # and its session with it
dom0_start
in_vm work qvm-remote true >/dev/null || fail "the command before the slow agent failed"
sleep 1     # the fetch that waits now is the slow agent's
c0=$(calls work)
t0=$(now_ms)
out=$(in_vm work qvm-remote 'echo early')
assert_eq early "$out" stdout
(($(now_ms) - t0 < 8000)) || fail "the command took $(($(now_ms) - t0)) ms: dom0 waited for the call to end"
wait_for "((\$(calls work) - c0 >= 2))" 10 || fail "$(($(calls work) - c0)) calls for a command of a level-1 agent, not 2"
rm -f "$SIM/vms/work/bin/qvm-remote-agent"

t "a VM that never used qvm-remote gets no more than 2 calls in 4 s"
c0=$(calls idle)
sleep 4
(($(calls idle) - c0 <= 2)) || fail "$(($(calls idle) - c0)) calls into an idle VM with no queue"

t "without the agent, dom0's sh programs serve the VM (after one failed call)"
rm -f "$SIM/vmbin/qvm-remote-agent"
out=$(in_vm work qvm-remote --timeout 60 'echo via-sh')
assert_eq 0 "$?" "exit code"
assert_eq via-sh "$out" stdout
out=$(in_vm work qvm-remote 'echo again')
assert_eq again "$out" "stdout of the next command"

t "dom0 restarted after the agent was removed: the stored level costs one call, logs nothing, and the sh programs serve"
dom0_stop
echo 3 >"$QVM_REMOTE_STATE_DIR/agents/work"
n0=$(wc -l <"$QVM_REMOTE_LOG")
dom0_start
out=$(in_vm work qvm-remote 'echo stale-hint')
assert_eq stale-hint "$out" stdout
assert_eq "" "$(tail -n "+$((n0 + 1))" "$QVM_REMOTE_LOG" | grep 'ERROR vm=work')" "errors logged for work"
[[ ! -e $QVM_REMOTE_STATE_DIR/agents/work ]] || fail "the level of an agent that is gone is still stored"

t "without the agent, a VM that never used qvm-remote gets no more than 2 calls in 4 s"
rm -rf "$SIM/vms/idle/home/.qvm-remote/queue"
sleep 1
c0=$(calls idle)
sleep 4
(($(calls idle) - c0 <= 2)) || fail "$(($(calls idle) - c0)) calls into an idle VM with no queue"

t "the agent refuses a command line cut short, and arguments it does not accept"
q=$(vm_queue work)
assert_exit 2 in_vm work "$VM_AGENT" fetch 0a1b2c3d-1 0 32 1000 1
assert_exit 2 in_vm work "$VM_AGENT" fetch 0a1b2c3d-1 0 32 1000 1 qvmr-e
assert_exit 2 in_vm work "$VM_AGENT" fetch ../x 0 32 1000 1 qvmr-end
assert_exit 2 in_vm work "$VM_AGENT" deliver ../x qvmr-end
assert_exit 2 in_vm work "$VM_AGENT" session ../x 0 32 1000 1 qvmr-end
assert_exit 2 in_vm work "$VM_AGENT" session 0a1b2c3d-1 0 32 1000 1 x qvmr-end
assert_exit 2 in_vm work "$VM_AGENT" remove qvmr-end

t "a session ends cleanly at the end of its input, and refuses a next turn it does not accept"
out=$(printf 'end 0\n' | in_vm work "$VM_AGENT" session 0a1b2c3d-1 0 32 1000 1 qvmr-end)
assert_eq 0 "$?" "exit status after one turn"
assert_eq $'qvmr-fetch 1\nagent 6\ndone 0\nqvmr-deliver 1\ndone 0' "$out" "its replies"
out=$(printf 'end 0\nfetch 0a1b2c3d-2 0 32 1000 1 qvmr-end\nend 0\n' |
	in_vm work "$VM_AGENT" session 0a1b2c3d-1 0 32 1000 1 qvmr-end)
assert_eq 0 "$?" "exit status after two turns"
assert_eq 2 "$(grep -c '^qvmr-fetch 1$' <<<"$out")" "fetch replies in two turns"
for bad in 'fetch 0a1b2c3d-2 0 32 1000 1' 'fetch ../x 0 32 1000 1 qvmr-end' \
	'deliver 0a1b2c3d-2 qvmr-end' 'fetch 0a1b2c3d-2 0 32 1000 1 qvmr-end extra'; do
	assert_exit 2 sh -c "printf 'end 0\n%s\n' '$bad' | \"\$0\" \"\$@\"" \
		"$SIM/bin/qubes-sim" exec work -- "$VM_AGENT" session 0a1b2c3d-1 0 32 1000 1 qvmr-end
done
# cut off in the middle of a deliver: not a clean end
assert_exit 1 sh -c "printf 'item x' | \"\$0\" \"\$@\"" \
	"$SIM/bin/qubes-sim" exec work -- "$VM_AGENT" session 0a1b2c3d-1 0 32 1000 1 qvmr-end

t "a session waiting for a request ends its wait at once when its input ends"
in_vm work mkdir -p .qvm-remote/queue/pending
t0=$(now_ms)
out=$(in_vm work "$VM_AGENT" session 0a1b2c3d-1 30 32 1000 1 qvmr-end </dev/null)
rc=$?
(($(now_ms) - t0 < 10000)) || fail "the wait took $(($(now_ms) - t0)) ms with its input at an end"
assert_eq 0 "$rc" "exit status"
assert_eq $'qvmr-fetch 1\nagent 6\ndone 0' "$out" "its replies"

dom0_stop
