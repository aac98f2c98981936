#!/bin/bash
# Attacks through a session (agent/session.h): a compromised VM whose
# qvm-remote-agent says it can run sessions, then misbehaves inside one.
# dom0 keeps its own memory and time bounded, and every other VM is served.
# docs/threat-model.md maps the cases to their layer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work flood stall spin junk
printf '%s\n' "QVM_REMOTE_POLL=watch" >"$DOM0_CONF"

# A compromised VM's agent: it answers the first fetch of a session (or
# the fetch dom0's sh program hands it) as a level-2 agent with nothing to
# give, after DELAY seconds, then does what its VM's lines below say.
evil_agent() {   # VM SH-LINES [DELAY]
	local f=$SIM/vms/$1/bin/qvm-remote-agent
	printf '#!/bin/dash\nsleep %s\nprintf '"'"'qvmr-fetch 1\\nagent 2\\ndone 0\\n'"'"'\n[ "$1" = session ] || exit 0\n%s\n' \
		"${3:-0}" "$2" >"$f"
	chmod 0755 "$f"
}
# floods what should be its deliver reply: 50 MB with no newline
evil_agent flood 'head -c 50000000 /dev/zero | tr "\0" x'
# never answers the deliver
evil_agent stall 'exec sleep 1000'
# answers every turn at once, without waiting for a request
evil_agent spin 'while IFS= read -r l; do case $l in end*) printf "qvmr-deliver 1\ndone 0\nqvmr-fetch 1\nagent 2\ndone 0\n" ;; esac; done'
# after a first good turn (slow enough to look like a wait), a fetch reply
# that never parses, "done" lines
# and all, then it waits for its input to end
evil_agent junk 'while IFS= read -r l; do case $l in end*) break ;; esac; done
printf "qvmr-deliver 1\ndone 0\n"; read -r l
for i in 1 2 3 4; do printf "qvmr-fetch 1\nagent 2\nbogus $i\ndone 0\n"; sleep 0.3; done
cat >/dev/null' 1.2
dom0_start

t "a session flooding its deliver reply is cut off at the reply's bound; dom0's memory stays small"
wait_for "grep -q 'ERROR vm=flood ' '$QVM_REMOTE_LOG'" 20 ||
	fail "no ERROR line for flood: $(grep 'vm=flood ' "$QVM_REMOTE_LOG" | tail -n 2)"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DOM0_PID/status")
printf '# daemon VmHWM %s kB\n' "$hwm"
# a reply held whole up to the fetch bound would take 24 MiB
((hwm > 0 && hwm < 16 * 1024)) || fail "daemon peak RSS is $hwm kB, not under 16 MiB"
assert_eq ok "$(in_vm work qvm-remote echo ok)" "work is served"

t "a session that never answers its deliver stalls only its own VM"
wait_for "pgrep -u '$(cat "$SIM/vms/stall/user")' -x sleep >/dev/null" 20 ||
	fail "stall's session never began"
for i in 1 2 3; do
	assert_eq "ok-$i" "$(in_vm work qvm-remote echo "ok-$i")" "work's command $i"
done

t "a session that answers every turn at once is not spun: about a call a second"
cpu() { awk '{ print $14 + $15 }' "/proc/$DOM0_PID/stat"; }
c0=$(calls spin) cpu0=$(cpu)
sleep 4
n=$(($(calls spin) - c0)) ticks=$(($(cpu) - cpu0))
printf '# %d calls into spin in 4 s; daemon CPU %d of %d ticks\n' "$n" "$ticks" "$((4 * $(getconf CLK_TCK)))"
((n <= 6)) || fail "$n calls into spin in 4 s"
((ticks * 4 < 4 * $(getconf CLK_TCK))) || fail "the daemon used $ticks ticks of CPU in 4 s"

t "a session whose fetch reply never parses is ended, not kept open until its deadline"
wait_for "grep -q 'ERROR vm=junk .*malformed fetch reply' '$QVM_REMOTE_LOG'" 20 ||
	fail "no ERROR line for junk: $(grep 'vm=junk ' "$QVM_REMOTE_LOG" | tail -n 2)"

t "the daemon stops in time with the stalled session"
kill -TERM "$DOM0_PID"
if ! wait_for "! proc_alive $DOM0_PID" 40; then
	fail "the daemon still runs 40 s after SIGTERM"
	kill -KILL "$DOM0_PID"
fi
wait "$DOM0_PID"
DOM0_PID=
