#!/bin/bash
# demo.sh - the main job, end to end, on the local Qubes simulator.
#
# A simulated dom0 with two VMs ("work" on dash, "dev" on bash as its sh),
# each with the client and the agent, as the qube package installs them:
# keys are made in the VMs and pulled by dom0, the daemon starts, and each
# VM runs commands in "dom0".  Each line that starts with "$" is what runs
# next, as it is typed.  Everything lives in one temporary directory
# that is removed at the end.  QVMR_BUILD names the build directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${QVMR_BUILD:-$top/build}
demo=$(mktemp -d /tmp/qvm-remote-demo.XXXXXX)
chmod 0755 "$demo"
daemon_pid=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

cleanup() {
	local rc=$?
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	"$top/sim/qubes-sim" -r "$demo/sim" destroy >/dev/null 2>&1 || true
	rm -rf "$demo"
	exit "$rc"
}
trap cleanup EXIT

sim() { "$top/sim/qubes-sim" -r "$demo/sim" "$@"; }
# What a user types in a VM's terminal.
in_vm() { local vm=$1; shift; sim exec "$vm" -- "$@"; }

say "a simulated Qubes machine with two VMs"
"$top/sim/qubes-sim" init "$demo/sim" --client "$build/qvm-remote" --agent "$build/qvm-remote-agent"
sim create work --shell dash
sim create dev --shell bash
sim start work
sim start dev
sim list

# dom0's side: the simulator's tools first on PATH, files under $demo.
export PATH="$demo/sim/bin:$PATH"
export QVM_REMOTE_KEYS_DIR="$demo/dom0/keys"
export QVM_REMOTE_LOG="$demo/dom0/qvm-remote.log"
export QVM_REMOTE_RUNTIME_DIR="$demo/dom0/run"
export QVM_REMOTE_STATE_DIR="$demo/dom0/state"
export QVM_REMOTE_QREXEC_DIR="$demo/sim/run"
conf="$demo/dom0/remote.conf"
mkdir -p "$demo/dom0"
printf 'QVM_REMOTE_TIMEOUT=60\n' >"$conf"
dom0() { "$build/qvm-remote-dom0" -c "$conf" "$@"; }

for vm in work dev; do
	say "set up $vm: a key in the VM, pulled by dom0"
	show "qvm-remote key gen                       (in $vm)"
	in_vm "$vm" qvm-remote key gen
	show "qvm-remote-dom0 authorize --from-vm $vm   (in dom0)"
	dom0 authorize --from-vm "$vm"
done

say "the audit log's verification key, shown once: keep it outside dom0"
show "qvm-remote-dom0 audit setup-key"
dom0 audit setup-key | tee "$demo/verify.key"

say "start the dom0 daemon (watch mode, qrexec-client)"
"$build/qvm-remote-dom0" -c "$conf" >"$demo/daemon.out" 2>&1 &
daemon_pid=$!
dom0 keys

say "commands from work"
show "qvm-remote 'echo hello from dom0; uname -s'"
in_vm work qvm-remote 'echo hello from dom0; uname -s'
show "qvm-remote 'echo to stderr >&2; exit 42'; echo \$?"
in_vm work sh -c "qvm-remote 'echo to stderr >&2; exit 42'; echo \$?"
show "printf 'echo from a script on stdin: \$QVM_REMOTE_VM\\n' | qvm-remote"
printf 'echo from a script on stdin: $QVM_REMOTE_VM\n' | in_vm work qvm-remote

say "commands from dev, at the same time as work"
show "qvm-remote 'sleep 1; echo dev done'  &  (work) qvm-remote 'sleep 1; echo work done'"
in_vm dev qvm-remote 'sleep 1; echo dev done' &
in_vm work qvm-remote 'sleep 1; echo work done'
wait $!

say "a round trip through the agent's session: no transport call of its own"
show "qvm-remote -v true"
in_vm work qvm-remote -v true

say "a timeout: the command is stopped in dom0"
show "qvm-remote -t 2 'sleep 30'; echo \$?"
in_vm dev sh -c "qvm-remote -t 2 'sleep 30'; echo \$?"

say "a forged request: dev's files signed with a wrong key"
show "(an attacker in dev writes a request with a made-up token)"
in_vm dev sh -c '
	q=$HOME/.qvm-remote/queue/pending
	id=$(date -u +%Y%m%d-%H%M%S)-$$-0123456789abcdef0123456789abcdef
	echo "cat /etc/shadow" >"$q/$id"
	printf "v2 %064d\n" 0 >"$q/.t" && mv "$q/.t" "$q/$id.auth"
	r=$HOME/.qvm-remote/queue/results
	i=0; while [ ! -e "$r/$id.exit" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
	echo "exit: $(cat "$r/$id.exit")  stderr: $(cat "$r/$id.err")"'

say "dom0's view"
dom0 status || true
show "qvm-remote-dom0 log -n 12"
dom0 log -n 12

say "the sealed log: proven with the key, and with a VM's anchor"
show "qvm-remote-dom0 audit verify --key KEYFILE"
dom0 audit verify --key "$demo/verify.key"
show "grep RESULT ~/.qvm-remote/audit.log | tail -n 1   (in work: its anchor of dom0's log)"
in_vm work sh -c 'grep RESULT .qvm-remote/audit.log | tail -n 1' 
show "(root in dom0 edits a line of a copy of the log: exit=42 becomes exit=0)"
sed 's/ exit=42 / exit=0 /' "$QVM_REMOTE_LOG" >"$demo/edited.log"
dom0 audit verify --key "$demo/verify.key" "$demo/edited.log" || true

say "transport calls made, per VM (the simulator's call log)"
for vm in work dev; do
	printf '%s: %s calls\n' "$vm" "$(sim calls --vm "$vm" --count)"
done
echo "each: the key pulled by authorize --from-vm; dom0's first fetch, an sh"
echo "program that finds qvm-remote-agent in the VM; and the agent's session,"
echo "one call that has carried every command since (without the agent, each"
echo "command would cost a fetch and a deliver call at most)"
echo
echo "demo finished; everything it created is being removed"
