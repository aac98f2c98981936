# dom0.sh - sourced by system tests after lib.sh: a simulated dom0 running
# the real daemon against simulated VMs.
#
#   dom0_init DIR            dom0 files under DIR, the simulator at DIR/sim
#   vm_new VM [dash|bash]    create and start VM; make its key; authorize it
#   dom0_start [ARGS...]     start the daemon in the background
#   dom0_stop                SIGTERM, wait, and fail the test if it crashed
#   in_vm VM CMD...          run CMD in VM as its user (a terminal in it)
#   calls VM                 transport calls made into VM so far
: "${QVMR_BUILD:?QVMR_BUILD must name the build directory}"
QVMR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOM0_PID=

dom0_init() {
	D0=$1
	mkdir -p "$D0/dom0"
	chmod 0755 "$D0"
	"$QVMR_TOP/sim/qubes-sim" init "$D0/sim" --client "$QVMR_BUILD/qvm-remote" >/dev/null
	export QUBES_SIM_ROOT="$D0/sim"
	export PATH="$D0/sim/bin:$PATH"
	export QVM_REMOTE_KEYS_DIR="$D0/dom0/keys"
	export QVM_REMOTE_LOG="$D0/dom0/qvm-remote.log"
	export QVM_REMOTE_RUNTIME_DIR="$D0/dom0/run"
	export QVM_REMOTE_STATE_DIR="$D0/dom0/state"
	export QVM_REMOTE_QREXEC_DIR="$D0/sim/run"
	DOM0_CONF="$D0/dom0/remote.conf"
	: >"$DOM0_CONF"
}

qsim() { "$QVMR_TOP/sim/qubes-sim" "$@"; }
dom0() { "$QVMR_BUILD/qvm-remote-dom0" -c "$DOM0_CONF" "$@"; }
in_vm() { local vm=$1; shift; qsim exec "$vm" -- "$@"; }
calls() { qsim calls --vm "$1" --count; }

vm_new() {
	qsim create "$1" --shell "${2:-dash}" >/dev/null
	qsim start "$1" >/dev/null
	in_vm "$1" qvm-remote key gen >/dev/null 2>&1
	dom0 authorize --from-vm "$1" >/dev/null
}

dom0_start() {
	# the binary itself, not the dom0 function: $! must be the daemon
	"$QVMR_BUILD/qvm-remote-dom0" -c "$DOM0_CONF" "$@" \
		>>"$D0/dom0/daemon.out" 2>&1 &
	DOM0_PID=$!
}

dom0_stop() {
	local rc=0
	[ -n "$DOM0_PID" ] || return 0
	kill -TERM "$DOM0_PID" 2>/dev/null || true
	wait "$DOM0_PID" || rc=$?
	DOM0_PID=
	return "$rc"
}
