#!/bin/bash
# qvm-remote-agent, the VM half in C: dom0 calls it directly once a fetch
# reply says "agent 1", falls back to its sh programs when it is gone, and
# a VM that never used qvm-remote is not polled (with the agent or not).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"
need_build agent

dom0_setup work idle
printf '%s\n' "QVM_REMOTE_POLL=watch" >"$DOM0_CONF"
# the agent behind a wrapper that logs how it was called
AGENT_LOG=$TEST_DIR/agent.log
: >"$AGENT_LOG"
chmod 0666 "$AGENT_LOG"
rm -f "$SIM/vmbin/qvm-remote-agent"
printf '#!/bin/sh\necho "$1" >>%s\nexec %s "$@"\n' "$AGENT_LOG" "$QVMR_AGENT" \
	>"$SIM/vmbin/qvm-remote-agent"
chmod 0755 "$SIM/vmbin/qvm-remote-agent"
dom0_start

t "with the agent, a command round trip takes 2 transport calls, both the agent's"
wait_for "grep -q fetch '$AGENT_LOG'" 20 || fail "the agent never fetched"
in_vm work qvm-remote true >/dev/null || fail "the warm-up command failed"
c0=$(calls work)
: >"$AGENT_LOG"
out=$(in_vm work qvm-remote 'echo via-agent; exit 7')
assert_eq 7 "$?" "exit code"
assert_eq via-agent "$out" stdout
wait_for "grep -q fetch '$AGENT_LOG'" 20 || fail "no fetch after the deliver"
assert_eq 2 "$(($(calls work) - c0))" "transport calls for one command"
assert_contains "$(cat "$AGENT_LOG")" deliver "the agent's calls"

t "dom0 acts on a whole fetch reply while the call is still open"
# an agent that keeps each fetch call open 10 s after its answer
printf '#!/bin/sh\n%s "$@"\nr=$?\n[ "$1" != fetch ] || sleep 10\nexit $r\n' "$QVMR_AGENT" \
	>"$SIM/vms/work/bin/qvm-remote-agent"
chmod 0755 "$SIM/vms/work/bin/qvm-remote-agent"
in_vm work qvm-remote true >/dev/null || fail "the command before the slow agent failed"
sleep 1     # the fetch that waits now is the slow agent's
t0=$(now_ms)
out=$(in_vm work qvm-remote 'echo early')
assert_eq early "$out" stdout
(($(now_ms) - t0 < 8000)) || fail "the command took $(($(now_ms) - t0)) ms: dom0 waited for the call to end"
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

t "without the agent, a VM that never used qvm-remote gets no more than 2 calls in 4 s"
rm -rf "$SIM/vms/idle/home/.qvm-remote/queue"
sleep 1
c0=$(calls idle)
sleep 4
(($(calls idle) - c0 <= 2)) || fail "$(($(calls idle) - c0)) calls into an idle VM with no queue"

t "the agent refuses a command line cut short, and arguments it does not accept"
q=$(vm_queue work)
assert_exit 2 in_vm work "$QVMR_AGENT" fetch 0a1b2c3d-1 0 32 1000 1
assert_exit 2 in_vm work "$QVMR_AGENT" fetch 0a1b2c3d-1 0 32 1000 1 qvmr-e
assert_exit 2 in_vm work "$QVMR_AGENT" fetch ../x 0 32 1000 1 qvmr-end
assert_exit 2 in_vm work "$QVMR_AGENT" deliver ../x qvmr-end
assert_exit 2 in_vm work "$QVMR_AGENT" remove qvmr-end

dom0_stop
