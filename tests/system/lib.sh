# shellcheck shell=bash
# tests/system/lib.sh: helpers for the system tests.  Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#   sim_setup 2                 # machine $SIM with VMs vm1 vm2, running
#   t "qvm-run passes the exit status"
#   assert_exit 42 qvm-run --pass-io vm1 'exit 42'
#   t "next case" ...           # a case ends at the next `t` or at exit
#
# Output: "ok - NAME", "not ok - NAME" or "skip - NAME (REASON)" per case,
# diagnostics as "# " lines; run.sh collects them.  The file exits 1 when a
# case failed.  Everything a test makes lives in $TEST_DIR (mktemp under
# /tmp, 0755 so VM users can reach a machine inside), removed at exit unless
# QVMR_KEEP=1.  Every machine made through sim_setup or sim_init is
# destroyed at exit whatever happens (its VMs' unix users with it), and
# every pid given to track_pid is killed.
set -u

QVMR_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QVMR_BUILD=${QVMR_BUILD:-$QVMR_TOP/build}
QVMR_CLIENT=$QVMR_BUILD/qvm-remote
QVMR_DAEMON=$QVMR_BUILD/qvm-remote-dom0
QVMR_AGENT=$QVMR_BUILD/qvm-remote-agent
QUBES_SIM_SRC=$QVMR_TOP/sim/qubes-sim
TEST_FILE=${0##*/}
# shellcheck disable=SC2034 # for the test files
VMSHELL='DEFAULT:QUBESRPC qubes.VMShell+ dom0'
SIM=

TEST_DIR=$(mktemp -d /tmp/qvmr-test.XXXXXX) || { echo "not ok - $TEST_FILE: mktemp failed"; exit 1; }
chmod 0755 "$TEST_DIR"
[[ -n ${QVMR_SIM_REGISTRY:-} ]] && printf '%s\n' "$TEST_DIR" >>"$QVMR_SIM_REGISTRY"

_case=""
_case_failed=0
_failures=0
_sims=()
_pids=()
_at_exit=()

# ------------------------------------------------------------ cases --

_case_end() {
	[[ -n $_case ]] || return 0
	if ((_case_failed)); then
		printf 'not ok - %s\n' "$_case"
		((_failures++))
	else
		printf 'ok - %s\n' "$_case"
	fi
	_case=""
}

t() {   # NAME: start a test case (ending the previous one)
	_case_end
	_case=$1
	_case_failed=0
}

ok() {   # end the current case now
	_case_end
}

fail() {   # [MESSAGE...]: the current case fails
	[[ -n $_case ]] || t "$TEST_FILE: setup"
	_case_failed=1
	(($#)) && printf '#   %s\n' "$@"
	return 1
}

skip() {   # REASON: the current case is skipped
	[[ -n $_case ]] && printf 'skip - %s (%s)\n' "$_case" "$1"
	_case=""
}

skip_all() {   # REASON: nothing in this file can run here
	_case=""
	printf 'skip - %s (%s)\n' "$TEST_FILE" "$1"
	exit 0
}

die() {   # MESSAGE: fail the current case and stop this file
	fail "$@"
	exit 1
}

need_root() {   # skip the current case unless root: if need_root; then ...; fi
	((EUID == 0)) && return 0
	skip "needs root"
	return 1
}

need_build() {   # client|daemon|agent...: skip the whole file when not built
	local what
	for what in "$@"; do
		case $what in
		client) [[ -x $QVMR_CLIENT ]] || skip_all "no client at $QVMR_CLIENT; run make" ;;
		daemon) [[ -x $QVMR_DAEMON ]] || skip_all "no daemon at $QVMR_DAEMON; run make" ;;
		agent) [[ -x $QVMR_AGENT ]] || skip_all "no agent at $QVMR_AGENT; run make" ;;
		esac
	done
}

# ------------------------------------------------------- assertions --

_show() {   # VALUE: one line, control bytes visible, at most 300 chars
	local s
	s=$(printf '%q' "$1")
	((${#s} > 300)) && s="${s:0:300}... (${#1} bytes)"
	printf '%s' "$s"
}

assert_eq() {   # EXPECTED GOT [WHAT]
	[[ $1 == "$2" ]] && return 0
	fail "${3:-values differ}" "expected: $(_show "$1")" "     got: $(_show "$2")"
}

assert_ne() {   # UNEXPECTED GOT [WHAT]
	[[ $1 != "$2" ]] && return 0
	fail "${3:-values are equal}" "expected anything but: $(_show "$1")"
}

assert_contains() {   # HAYSTACK NEEDLE [WHAT]
	[[ $1 == *"$2"* ]] && return 0
	fail "${3:-text missing}" "expected to contain: $(_show "$2")" "                got: $(_show "$1")"
}

assert_file_exists() {   # PATH [WHAT]
	[[ -e $1 || -L $1 ]] && return 0
	fail "${2:-file missing}" "expected a file at: $1"
}

assert_exit() {   # CODE CMD...: run CMD (stdin inherited), check its status
	local want=$1 rc=0 out=$TEST_DIR/.assert_exit.out
	shift
	"$@" >"$out" 2>&1 || rc=$?
	[[ $rc == "$want" ]] && return 0
	fail "exit status of: $*" "expected: $want" "     got: $rc" "  output: $(_show "$(head -c 600 "$out")")"
}

# ---------------------------------------------------------- helpers --

wait_for() {   # COND_CMD TIMEOUT_S: poll the shell condition every 50 ms
	local cond=$1 end
	end=$(($(now_ms) + ${2:-5} * 1000))
	until eval "$cond"; do
		(($(now_ms) >= end)) && return 1
		sleep 0.05
	done
}

now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	printf '%s\n' "$((t / 1000))"
}

proc_alive() {   # PID: running or stopped; a zombie is dead
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

proc_state() {   # PID: its one-letter state (R S D T Z ...), or nothing
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	printf '%s\n' "${stat:0:1}"
}

track_pid() {   # PID...: killed (with its process group if it leads one) at exit
	_pids+=("$@")
}

at_exit() {   # CMD: run at exit after the tracked pids are killed (umount ...)
	_at_exit+=("$1")
}

# ---------------------------------------------------------- machines --

sim_init() {   # DIR [--client PATH]: a new machine, destroyed at exit
	_sims+=("$1")
	[[ -n ${QVMR_SIM_REGISTRY:-} ]] && printf '%s\n' "$1" >>"$QVMR_SIM_REGISTRY"
	"$QUBES_SIM_SRC" init "$@"
}

# sim_setup [N | VM...]: the machine $SIM ($TEST_DIR/sim) with VMs vm1..vmN
# (1 by default) or the named ones, created with shell ${SIM_SHELL:-dash}
# and running.  The client $QVMR_CLIENT is on the VMs' PATH when built, and
# so is the agent $QVMR_AGENT unless QVMR_NO_AGENT=1 (the VMs then get
# dom0's sh programs, as VMs with only the original client do).
# Exports QUBES_SIM_ROOT and puts $SIM/bin first on PATH, as dom0 would.
sim_setup() {
	local -a vms=() client=()
	local vm i
	if [[ ${1:-1} =~ ^[0-9]+$ ]]; then
		for ((i = 1; i <= ${1:-1}; i++)); do vms+=("vm$i"); done
	else
		vms=("$@")
	fi
	[[ -x $QVMR_CLIENT ]] && client=(--client "$QVMR_CLIENT")
	[[ -x $QVMR_AGENT && ${QVMR_NO_AGENT:-0} != 1 ]] && client+=(--agent "$QVMR_AGENT")
	SIM=$TEST_DIR/sim
	sim_init "$SIM" "${client[@]}" || die "qubes-sim init $SIM failed"
	export QUBES_SIM_ROOT=$SIM PATH=$SIM/bin:$PATH
	for vm in "${vms[@]}"; do
		qubes-sim create "$vm" --shell "${SIM_SHELL:-dash}" || die "cannot create VM $vm"
		qubes-sim start "$vm" || die "cannot start VM $vm"
	done
}

_lib_exit() {
	local rc=$? p root
	trap - EXIT TERM INT HUP
	# The status of a file's last command means nothing (`cond && fail`
	# ends with 1 when all is well); a signal does.
	if ((rc > 128)); then
		fail "this file was stopped by signal $((rc - 128))"
	fi
	_case_end
	for p in "${_pids[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${_at_exit[@]}"; do
		eval "$p"
	done
	# [issue 13] A call the simulator refused (sim/README.md) is one the real
	# qrexec would wedge or die on, or one it does not simulate: the file fails.
	for root in "${_sims[@]}"; do
		[[ -s $root/refused.log ]] || continue
		t "$TEST_FILE: no call the real qrexec could not take"
		fail "the simulator refused these calls (epoch-ms tool VM reason):" \
			"$(head -n 5 -- "$root/refused.log")"
		_case_end
	done
	for root in "${_sims[@]}"; do
		# issue 13: a machine of sim/qubes-sim or of sim/qubes-real,
		# whichever transport this file runs on
		if [[ -f $root/.qubes-sim ]]; then
			p=$QVMR_TOP/sim/qubes-sim
		elif [[ -f $root/.qubes-real ]]; then
			p=$QVMR_TOP/sim/qubes-real
		else
			continue
		fi
		if [[ ${QVMR_KEEP:-0} == 1 ]]; then
			"$p" -r "$root" destroy --keep-files
		else
			"$p" -r "$root" destroy
		fi
	done
	if [[ ${QVMR_KEEP:-0} == 1 ]]; then
		printf '# kept %s\n' "$TEST_DIR"
	else
		rm -rf -- "$TEST_DIR"
	fi
	((_failures)) && exit 1
	exit 0
}

trap _lib_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# ---- issue 13: QVMR_TRANSPORT=real, the real qrexec -----------------------
# The machine is sim/qubes-real: the same verbs and layout as sim/qubes-sim,
# VMs served by Qubes' own qrexec-daemon and qrexec-agent built by
# tools/qrexec-build.sh (QUBES_REAL_QREXEC names its bin/).  Root only.
# not_on_real REASON: skip the whole file on that transport.
not_on_real() { [[ ${QVMR_TRANSPORT:-sim} != real ]] || skip_all "not on the real transport: $1"; }
if [[ ${QVMR_TRANSPORT:-sim} == real ]]; then
	QUBES_SIM_SRC=$QVMR_TOP/sim/qubes-real
	export QUBES_REAL_QREXEC=${QUBES_REAL_QREXEC:-$QVMR_TOP/build/real-qrexec/bin}
	((EUID == 0)) || skip_all "the real transport needs root"
	[[ -x $QUBES_REAL_QREXEC/qrexec-daemon ]] ||
		skip_all "no real qrexec in $QUBES_REAL_QREXEC; build it: tools/qrexec-build.sh"
fi
