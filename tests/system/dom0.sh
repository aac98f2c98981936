# tests/system/dom0.sh: a simulated dom0 running the real daemon against
# simulated VMs.  Source after lib.sh:
#
#   dom0_setup VM[:bash]...    the machine $SIM with these VMs (dash unless
#                              :bash), running, each with a key made in the
#                              VM and pulled by dom0 (authorize --from-vm)
#   dom0_start [ARGS...]       start the daemon in the background
#   dom0_stop                  SIGTERM it and wait; fails the case if the
#                              daemon did not exit 0
#   dom0 ARGS...               run qvm-remote-dom0 (a verb) with the config
#   in_vm VM CMD...            run CMD in VM as its user, as in its terminal
#   calls VM                   transport calls made into VM so far
#   dom0_log                   the dom0 audit log
# Settings go in $DOM0_CONF (KEY=value lines) before dom0_start.
need_build client daemon
DOM0=$TEST_DIR/dom0
DOM0_CONF=$DOM0/remote.conf
DOM0_PID=

dom0() { "$QVMR_DAEMON" -c "$DOM0_CONF" "$@"; }
in_vm() { local vm=$1; shift; qubes-sim exec "$vm" -- "$@"; }
calls() { qubes-sim calls --vm "$1" --count; }
dom0_log() { cat "$QVM_REMOTE_LOG"; }

dom0_setup() {
	local spec vm
	sim_setup 0
	mkdir -p "$DOM0"
	: >"$DOM0_CONF"
	export QVM_REMOTE_KEYS_DIR=$DOM0/keys
	export QVM_REMOTE_LOG=$DOM0/qvm-remote.log
	export QVM_REMOTE_RUNTIME_DIR=$DOM0/run
	export QVM_REMOTE_STATE_DIR=$DOM0/state
	export QVM_REMOTE_QREXEC_DIR=$SIM/run
	for spec in "$@"; do
		vm=${spec%%:*}
		qubes-sim create "$vm" --shell "$([[ $spec == *:bash ]] && echo bash || echo dash)" ||
			die "cannot create VM $vm"
		qubes-sim start "$vm" || die "cannot start VM $vm"
		in_vm "$vm" qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in $vm"
		dom0 authorize --from-vm "$vm" >/dev/null || die "authorize --from-vm $vm failed"
	done
}

dom0_start() {
	"$QVMR_DAEMON" -c "$DOM0_CONF" "$@" >>"$DOM0/daemon.out" 2>&1 &
	DOM0_PID=$!
	track_pid "$DOM0_PID"
}

dom0_stop() {
	local rc=0
	[[ -n $DOM0_PID ]] || return 0
	kill -TERM "$DOM0_PID" 2>/dev/null
	wait "$DOM0_PID" || rc=$?
	DOM0_PID=
	assert_eq 0 "$rc" "the daemon's exit status after SIGTERM"
}
