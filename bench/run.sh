#!/bin/bash
# bench/run.sh - the benchmark of qvm-remote (issue 4; docs/performance.md).
#
#   bench/run.sh [--quick] [--out DIR] [--transport sim|real|both]
#
# Starts the real qvm-remote-dom0 against a machine of VMs, sim/qubes-sim
# (the simulator) or sim/qubes-real (Qubes' own qrexec, built by
# tools/qrexec-build.sh; root only), and measures, with the real client and
# agent in the VMs:
#   - the round trip of `qvm-remote true` (p50/p90/p99) in watch and interval
#     mode at simulator latency 0 and 30 ms, beside the physical limit: one
#     transport call (qrexec-client running `true`, measured at that latency)
#     plus `bash -c true` (measured), plus half the poll interval in interval
#     mode as the expected wait before a poll sees the request (there each
#     command starts after a random pause, at a random point of the cycle);
#   - transport calls per command, from the simulator's call log: single
#     commands, and bursts of queued commands from 1 VM and from several;
#   - idle cost: calls a minute into an idle running VM (one that has used
#     qvm-remote, one that never did) and a halted VM, and the daemon's CPU
#     time over the idle window (/proc/PID/stat).  A second daemon, with its
#     own log and state, polls just those three VMs while the
#     round trips are measured on another VM, so the idle window costs no
#     extra time;
#   - memory: the daemon's peak RSS (VmHWM) over the many-VM burst, the
#     client's peak RSS (getrusage), and dom0's memory for the sessions
#     open after that burst: the daemon and its transport children (every
#     descendant running as root; the VMs' own processes are not dom0's),
#     PSS and RSS from /proc;
#   - many VMs (MANY_VMS, 200; 20 for --quick; QVMR_BENCH_MANY_VMS
#     overrides, 0 skips; QVMR_BENCH_MANY_IDLE_S the idle window): a daemon of their own starts with one command
#     waiting in each; the most calls it started in any 100 ms, the time
#     until every result is in, then MANY_IDLE_S idle with a session open
#     into each VM: the calls, the daemon's CPU, RSS and PSS, and its
#     transport children's memory;
#   - the first command after a long idle (IDLE_FIRST_S, 10 minutes; 20 s
#     for --quick) into a VM whose session has been open all that time,
#     served by a daemon of its own started at the beginning, so the wait
#     overlaps the rest of the run.
# Prints one table and writes DIR/results.json and DIR/latency.svg, for the
# real transport DIR/results-real.json and DIR/latency-real.svg, and the
# rows of the side-by-side table in DIR/summary-TRANSPORT.txt (DIR is
# bench/ for the full run, $QVMR_BUILD/bench-quick for --quick).
# --transport both runs the simulator, then the real transport, and prints
# the two side by side; it is the default when the real qrexec is built
# (QUBES_REAL_QREXEC, else $QVMR_BUILD/real-qrexec/bin) and this is root,
# else sim.  Runs as root (each VM its own unix user) or not.  Everything
# it starts lives in one temporary directory, removed at the end with the
# machine.
# Exit status: 0, or 1 when a command failed or a step did not finish.
# QVMR_BENCH_KEEP=1 keeps the temporary directory (logs, call log, samples).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${QVMR_BUILD:-$top/build}
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"

bench_args 3,4 "$@"
real_missing() {   # why the real transport cannot run here, or nothing
	((EUID == 0)) || { echo "the real qrexec needs root"; return; }
	[[ -x $QUBES_REAL_QREXEC/qrexec-daemon ]] ||
		echo "no real qrexec in $QUBES_REAL_QREXEC; build it: tools/qrexec-build.sh"
}
if [[ -z $transport ]]; then
	transport=both
	why=$(real_missing)
	[[ -z $why ]] || { echo "bench: the real transport: skipped: $why" >&2; transport=sim; }
fi
case $transport in
sim | real) ;;
both)
	# one run of each, then the two side by side
	args=()
	((quick)) && args+=(--quick)
	[[ -n $out ]] && args+=(--out "$out")
	rc=0
	"$0" "${args[@]}" --transport sim || rc=1
	"$0" "${args[@]}" --transport real || rc=1
	if [[ -z $out ]]; then
		out=$top/bench
		((quick)) && out=$build/bench-quick
	fi
	awk -f "$top/bench/side-by-side.awk" "$out/summary-sim.txt" "$out/summary-real.txt" || rc=1
	exit "$rc"
	;;
*) echo "bench: --transport is sim, real or both, not '$transport'" >&2; exit 2 ;;
esac
if [[ $transport == real ]]; then
	why=$(real_missing)
	[[ -z $why ]] || { echo "bench: $why" >&2; exit 2; }
fi
MACHINE=$top/sim/qubes-$transport
SUFFIX=
[[ $transport == real ]] && SUFFIX=-real

if ((quick)); then
	[[ -n $out ]] || out=$build/bench-quick
	RUNS=8 LIMIT_RUNS=10 BURST=24 BURST_VMS=4 WARMUP=1 IDLE_FIRST_S=20
	MANY_VMS=20 MANY_IDLE_S=10
	MODES=("watch 0" "watch 30" "interval 30")
else
	[[ -n $out ]] || out=$top/bench
	RUNS=50 LIMIT_RUNS=50 BURST=200 BURST_VMS=8 WARMUP=2 IDLE_FIRST_S=600
	MANY_VMS=200 MANY_IDLE_S=60
	MODES=("watch 0" "watch 30" "interval 0" "interval 30")
fi
MANY_VMS=${QVMR_BENCH_MANY_VMS:-$MANY_VMS}   # 0: no many-VM series
MANY_IDLE_S=${QVMR_BENCH_MANY_IDLE_S:-$MANY_IDLE_S}
INTERVAL_S=1        # QVM_REMOTE_INTERVAL in interval mode (its minimum)
BURST_LATENCY=30    # ms, for the bursts
BURST_TIMEOUT=240   # s: a burst that takes longer fails the benchmark
# WARMUP: commands before each measured series, not counted
SERVICE='DEFAULT:QUBESRPC qubes.VMShell+ dom0'

for f in "$CLIENT" "$DAEMON" "$PROBE" "$AGENT"; do
	[[ -x $f ]] || { echo "bench: $f is missing; run: make all $build/${f##*/}" >&2; exit 2; }
done
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

WORK=$(mktemp -d /tmp/qvmr-bench.XXXXXX) || exit 2
chmod 0755 "$WORK"
SIM=$WORK/sim
D0=$WORK/dom0
CONF=$D0/remote.conf
DPID=
IPID=
SPID=
BG=()
FAILED=0
T_START=$(date +%s)

cleanup() {
	local rc=$? p
	daemon_stop
	idle_stop
	sleeper_stop
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
	if [[ -n ${QVMR_BENCH_KEEP:-} ]]; then
		# for a look afterwards: the VMs and their users go, the files stay
		[[ -e $SIM/.qubes-$transport ]] && "$MACHINE" -r "$SIM" destroy --keep-files >/dev/null 2>&1
		printf 'bench: kept %s\n' "$WORK" >&2
	else
		[[ -e $SIM/.qubes-$transport ]] && "$MACHINE" -r "$SIM" destroy >/dev/null 2>&1
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dom0() { "$DAEMON" -c "$CONF" "$@"; }

# ---------------------------------------------------------------- dom0 --

proc_live() {   # PID: running, sleeping or stopped; not a zombie, not gone
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

daemon_start() {   # CONF-LINE...: a fresh config, then the daemon
	printf '%s\n' "$@" >"$CONF"
	"$DAEMON" -c "$CONF" >>"$D0/daemon.out" 2>&1 &
	DPID=$!
}

stop_pid() {   # PID: SIGTERM, up to 15 s, then SIGKILL
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		proc_live "$1" || break
		sleep 0.05
	done
	proc_live "$1" && { warn "the daemon did not stop in 15 s; killed"; kill -KILL "$1"; }
	wait "$1" 2>/dev/null
}

daemon_stop() {
	[[ -n $DPID ]] || return 0
	stop_pid "$DPID"
	DPID=
}

# own_daemon NAME VM...: a daemon of its own for those VMs (config, log,
# runtime and state under $D0/NAME); its pid in OWN_PID.
own_daemon() {
	local name=$1
	shift
	mkdir -p "$D0/$name"
	printf '%s\n' "QVM_REMOTE_VMS='$*'" "QVM_REMOTE_POLL=watch" >"$D0/$name/remote.conf"
	QVM_REMOTE_LOG=$D0/$name/qvm-remote.log QVM_REMOTE_RUNTIME_DIR=$D0/$name/run \
		QVM_REMOTE_STATE_DIR=$D0/$name/state \
		"$DAEMON" -c "$D0/$name/remote.conf" >>"$D0/$name/daemon.out" 2>&1 &
	OWN_PID=$!
}

# The idle daemon, polling the three VMs of the idle series.
idle_start() { own_daemon idle "$@"; IPID=$OWN_PID; }

idle_stop() {
	[[ -n $IPID ]] || return 0
	stop_pid "$IPID"
	IPID=
}

# The sleeper daemon: one VM, from the start to the end.
sleeper_start() { own_daemon sleeper "$1"; SPID=$OWN_PID; }

sleeper_stop() {
	[[ -n $SPID ]] || return 0
	stop_pid "$SPID"
	SPID=
}

# tree_mem PID: "PSS_KIB RSS_KIB N CHILD_PSS_KIB CHILD_RSS_KIB": PID's own
# memory, then the number and the memory of its descendants that run as
# root (dom0's transport children; what runs as a VM's user is the VM's)
tree_mem() {
	local p pp u pss rss n=0 cpss=0 crss=0 own=""
	local -A parent=()
	local -a todo=("$1")
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		pp=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		pp=${pp##*) }
		read -r _ pp _ <<<"$pp"
		parent[$p]=$pp
	done
	while ((${#todo[@]})); do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		u=$(awk '$1 == "Uid:" { print $2 }' "/proc/$p/status" 2>/dev/null)
		[[ $u == 0 ]] || continue
		pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status" 2>/dev/null)
		if [[ -z $own ]]; then
			own="${pss:-0} ${rss:-0}"
		else
			n=$((n + 1)) cpss=$((cpss + ${pss:-0})) crss=$((crss + ${rss:-0}))
		fi
		for pp in "${!parent[@]}"; do
			[[ ${parent[$pp]} == "$p" ]] && todo+=("$pp")
		done
	done
	echo "${own:-0 0} $n $cpss $crss"
}

daemon_alive() {
	proc_live "$DPID" || die "the daemon died; its output: $(tail -n 5 "$D0/daemon.out")"
}

idle_alive() {
	proc_live "$IPID" || die "the idle daemon died; its output: $(tail -n 5 "$D0/idle/daemon.out")"
}

# calls VM [FROM_MS [TO_MS]]: transport calls into VM logged in that time
# (the log is never reset: two daemons share it)
calls() {
	awk -v vm="$1" -v from="${2:-0}" -v to="${3:-0}" '
		$3 == vm && $1 >= from && (to == 0 || $1 <= to) { n++ }
		END { print n + 0 }' "$SIM/calls.log"
}

# rate VM FROM_MS TO_MS: calls a minute into VM.  With 3 or more calls in
# the window, from the gaps between them ((n - 1) gaps over the time from
# the first to the last), which does not depend on where the window cuts a
# 30 s watch period; else the count over the window, scaled.
rate() {
	awk -v vm="$1" -v from="$2" -v to="$3" '
		$3 == vm && $1 >= from && $1 <= to { if (!n++) first = $1; last = $1 }
		END {
			if (n >= 3 && last > first) printf "%.2f\n", (n - 1) * 60000 / (last - first)
			else printf "%.2f\n", n * 60000 / (to - from)
		}' "$SIM/calls.log"
}

wait_calls() {   # VM N TIMEOUT_S: until N calls into VM were made
	local end=$(($(now_us) + $3 * 1000000))
	while (($(calls "$1") < $2)); do
		(($(now_us) < end)) || return 1
		sleep 0.05
	done
}

# ---------------------------------------------------------------- stats --

# stats FILE: "n p50 p90 p99 min max mean" of the numbers in FILE (ms),
# percentiles by nearest rank: the value at rank ceil(p/100 * n).
stats() {
	sort -g "$1" | awk '
		{ v[++n] = $1; s += $1 }
		function rank(p,   r) { r = int(p / 100 * n); if (r < p / 100 * n) r++; if (r < 1) r = 1; return v[r] }
		END {
			if (n == 0) { print "0 0 0 0 0 0 0"; exit }
			printf "%d %.1f %.1f %.1f %.1f %.1f %.1f\n", n, rank(50), rank(90), rank(99), v[1], v[n], s / n
		}'
}

# field N of a stats line
sf() { local -a a; read -ra a <<<"$1"; printf '%s\n' "${a[$2]}"; }

# ---------------------------------------------------------------- setup --

vms=()
for ((i = 1; i <= BURST_VMS; i++)); do vms+=("vm$i"); done
SLEEP_VM=vm$((BURST_VMS + 1))   # the long idle: in no other series
vms+=("$SLEEP_VM")
say "a machine of qubes-$transport with ${#vms[@]} VMs in $WORK"
"$MACHINE" init "$SIM" --client "$CLIENT" --agent "$AGENT" >/dev/null || die "qubes-$transport init failed"
export QUBES_SIM_ROOT=$SIM PATH=$SIM/bin:$PATH
unset QUBES_SIM_LATENCY_MS
install -m 0755 "$PROBE" "$SIM/vmbin/qvmr-bench-probe" || die "cannot install the probe"
mkdir -p "$D0"
export QVM_REMOTE_KEYS_DIR=$D0/keys QVM_REMOTE_LOG=$D0/qvm-remote.log \
	QVM_REMOTE_RUNTIME_DIR=$D0/run QVM_REMOTE_STATE_DIR=$D0/state \
	QVM_REMOTE_QREXEC_DIR=$SIM/run
: >"$CONF"
for vm in "${vms[@]}"; do
	sim create "$vm" --shell dash && sim start "$vm" || die "cannot create VM $vm"
	in_vm "$vm" qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in $vm"
	dom0 authorize --from-vm "$vm" >/dev/null 2>&1 || die "authorize --from-vm $vm failed"
done
# The long idle starts now: the sleeper's session opens with its first
# command and then waits, untouched, until the end of the run.
sleeper_start "$SLEEP_VM"
in_vm "$SLEEP_VM" qvm-remote true >/dev/null 2>&1 || warn "the first command in $SLEEP_VM failed"
SLEEP_FROM=$(($(now_us) / 1000))
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }' &&
	say "warning: load average $LOAD_START on $(nproc) CPUs; the numbers will be slower than on a quiet machine"

# ------------------------------------------------------------ idle, from --

# Three VMs: IDLE_VM has used qvm-remote before (its queue exists), NEW_VM
# has a key but never sent a command (no queue yet), HALT_VM is halted.
IDLE_VM=vm$((BURST_VMS - 2)) NEW_VM=vm$((BURST_VMS - 1)) HALT_VM=vm$BURST_VMS
say "idle: $IDLE_VM (used before) and $NEW_VM (never used) running, $HALT_VM halted, a daemon of their own, while the round trips run"
# a command nobody takes, withdrawn after 1 s: the queue is made as in use
rc=0
in_vm "$IDLE_VM" qvm-remote -q --wait 1 true >/dev/null 2>&1 || rc=$?
((rc == 123)) || warn "the unanswered command in $IDLE_VM ended with $rc, not 123 (withdrawn)"
sim halt "$HALT_VM"
idle_start "$IDLE_VM" "$NEW_VM" "$HALT_VM"
wait_calls "$IDLE_VM" 1 10 || warn "the idle daemon never called $IDLE_VM"
wait_calls "$NEW_VM" 1 10 || warn "the idle daemon never called $NEW_VM"
sleep 1
idle_alive
TCK=$(getconf CLK_TCK)
cpu() {   # PID -> utime stime cutime cstime, in ticks
	local s
	local -a f
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	read -ra f <<<"$s"
	echo "${f[11]} ${f[12]} ${f[13]} ${f[14]}"
}
read -r u1 s1 cu1 cs1 <<<"$(cpu "$IPID")"
w0=$(($(now_us) / 1000))

# ------------------------------------------------------ physical limit --

# With no daemon polling vm1: one transport call running `true` in it
# (qrexec-client and the qubes.VMShell service, as the daemon calls them,
# with just `true` on stdin: the cheapest call there is), and `bash -c true`
# in dom0.
declare -A CALL_ST
for lat in 0 30; do
	sim latency "$lat"
	"$PROBE" time "$LIMIT_RUNS" -i $'true\n' -- \
		"$SIM/bin/qrexec-client" -d vm1 "$SERVICE" </dev/null >"$WORK/call-$lat.txt" ||
		die "the transport call probe failed"
	awk 'NF == 4 { print $3 / 1000 }' "$WORK/call-$lat.txt" >"$WORK/call-$lat.ms"
	awk 'NF == 4 && $4 != 0 { bad++ } END { exit bad > 0 }' "$WORK/call-$lat.txt" ||
		warn "a transport call at $lat ms failed"
	CALL_ST[$lat]=$(stats "$WORK/call-$lat.ms")
done
"$PROBE" time "$LIMIT_RUNS" -- bash -c true </dev/null >"$WORK/bash.txt" || die "the bash probe failed"
awk 'NF == 4 { print $3 / 1000 }' "$WORK/bash.txt" >"$WORK/bash.ms"
BASH_ST=$(stats "$WORK/bash.ms")
# The unit the VM-side programs pay per external command they run: one
# fork and exec of /bin/true inside a VM.
in_vm vm1 qvmr-bench-probe time "$LIMIT_RUNS" -- /bin/true >"$WORK/exec.txt" || die "the exec probe failed"
awk 'NF == 4 { print $3 / 1000 }' "$WORK/exec.txt" >"$WORK/exec.ms"
EXEC_ST=$(stats "$WORK/exec.ms")
BASH50=$(sf "$BASH_ST" 1)
say "transport call p50: $(sf "${CALL_ST[0]}" 1) ms at 0 ms, $(sf "${CALL_ST[30]}" 1) ms at 30 ms; bash -c true p50: $BASH50 ms"

# ----------------------------------------------------------- round trips --

declare -A RT_ST RT_LIMIT RT_CALLS RT_FAIL
CLIENT_RSS=0
declare -A RT_CMD
cur_mode=
for ml in "${MODES[@]}"; do
	read -r mode lat <<<"$ml"
	if [[ $mode != "$cur_mode" ]]; then
		daemon_stop
		if [[ $mode == watch ]]; then
			daemon_start "QVM_REMOTE_VMS=vm1" "QVM_REMOTE_POLL=watch"
		else
			daemon_start "QVM_REMOTE_VMS=vm1" "QVM_REMOTE_POLL=interval" "QVM_REMOTE_INTERVAL=$INTERVAL_S"
		fi
		cur_mode=$mode
	fi
	sim latency "$lat"
	say "round trips: $mode mode, latency $lat ms, $RUNS runs"
	for ((i = 0; i < WARMUP; i++)); do
		in_vm vm1 qvm-remote true || warn "a warm-up command failed ($mode, $lat ms)"
	done
	daemon_alive
	tag=$mode-$lat
	log0=$(wc -l <"$QVM_REMOTE_LOG")
	r0=$(($(now_us) / 1000))
	# Interval mode: a random pause before each command, so requests come
	# at random points of the poll cycle (as a user's do), not each at the
	# same point after the last result.
	pause=()
	[[ $mode == interval ]] && pause=(-p $((INTERVAL_S * 1000)))
	in_vm vm1 qvmr-bench-probe time "$RUNS" "${pause[@]}" -- qvm-remote true >"$WORK/rt-$tag.txt" ||
		warn "the round-trip probe failed ($tag)"
	r1=$(($(now_us) / 1000))
	awk -v a="$r0" -v b="$r1" '$3 == "vm1" && $1 >= a && $1 <= b' "$SIM/calls.log" >"$WORK/calls-$tag.log"
	awk 'NF == 4 { print $3 / 1000 }' "$WORK/rt-$tag.txt" >"$WORK/rt-$tag.ms"
	RT_FAIL[$tag]=$(awk 'NF == 4 && $4 != 0 { n++ } END { print n + 0 }' "$WORK/rt-$tag.txt")
	((RT_FAIL[$tag] == 0)) || warn "${RT_FAIL[$tag]} commands failed ($tag)"
	RT_ST[$tag]=$(stats "$WORK/rt-$tag.ms")
	RT_CALLS[$tag]=$(calc "$(wc -l <"$WORK/calls-$tag.log") / $RUNS" 2)
	limit=$(calc "$(sf "${CALL_ST[$lat]}" 1) + $BASH50")
	[[ $mode == interval ]] && limit=$(calc "$limit + $INTERVAL_S * 1000 / 2")
	RT_LIMIT[$tag]=$limit
	rss=$(awk '$1 == "maxrss_kb" { print $2 }' "$WORK/rt-$tag.txt")
	((${rss:-0} > CLIENT_RSS)) && CLIENT_RSS=$rss
	# the command's own time in dom0, from the DONE lines of the series
	RT_CMD[$tag]=$(tail -n "+$((log0 + 1))" "$QVM_REMOTE_LOG" |
		sed -n 's/^.* DONE vm=vm1 .* ms=\([0-9]*\) .*$/\1/p' >"$WORK/cmd-$tag.ms" &&
		sf "$(stats "$WORK/cmd-$tag.ms")" 1)
done
daemon_stop

# ------------------------------------------------------------- idle, to --

w1=$(($(now_us) / 1000))
idle_alive
read -r u2 s2 cu2 cs2 <<<"$(cpu "$IPID")"
IDLE_WIN=$(calc "($w1 - $w0) / 1000" 2)
IDLE_RUN=$(calls "$IDLE_VM" "$w0" "$w1")
IDLE_NEW=$(calls "$NEW_VM" "$w0" "$w1")
IDLE_NEW_PM=$(rate "$NEW_VM" "$w0" "$w1")
IDLE_HALT=$(calls "$HALT_VM" "$w0" "$w1")
IDLE_RUN_PM=$(rate "$IDLE_VM" "$w0" "$w1")
IDLE_HALT_PM=$(rate "$HALT_VM" "$w0" "$w1")
IDLE_CPU=$(calc "($u2 + $s2 - $u1 - $s1) / $TCK" 2)
IDLE_CCPU=$(calc "($cu2 + $cs2 - $cu1 - $cs1) / $TCK" 2)
IDLE_PCT=$(calc "100 * $IDLE_CPU / $IDLE_WIN" 3)
# How an idle VM waits: in the agent's inotify wait, in the sh program's
# loop, or not at all.  The simulator records the process group of
# everything it starts in a VM; on the real transport the VM's processes
# are those of its unix user.
waiter() {   # VM
	local f user
	local -a sel=()
	if [[ $transport == real ]]; then
		read -r user <"$SIM/vms/$1/user"
		sel=("-u $user")
	else
		for f in "$SIM/vms/$1/procs/"*; do
			[[ -e $f ]] && sel+=("-g ${f##*/}")
		done
	fi
	for f in "${sel[@]}"; do
		# shellcheck disable=SC2086 # an option and its value
		if pgrep $f -f -- 'qvm-remote-agent session' >/dev/null; then
			echo "qvm-remote-agent session (inotify)"
			return
		fi
		# shellcheck disable=SC2086
		if pgrep $f -f -- 'qvm-remote-agent fetch' >/dev/null; then
			echo "qvm-remote-agent (inotify)"
			return
		fi
		# shellcheck disable=SC2086
		if pgrep $f -x sleep >/dev/null; then
			echo "sh wait loop"
			return
		fi
	done
	echo "no waiter"
}
IDLE_WAITER=$(waiter "$IDLE_VM")
NEW_WAITER=$(waiter "$NEW_VM")
idle_stop
sim start "$HALT_VM" || die "cannot start $HALT_VM again"

# ---------------------------------------------------------------- bursts --

# burst NVMS [cold]: BURST requests planted (split evenly) while no
# daemon runs, then the daemon starts; the time until every result is in
# the VMs.  The VMs were served before, as after a restart of dom0's
# service: dom0 knows their agents (STATE_DIR/agents); "cold" forgets
# that first, as on the service's very first start.  B_* are keyed NVMS
# or NVMS-cold.
declare -A B_WALL B_CALLS B_CPC B_FAST B_SLOW B_FAIL
DAEMON_HWM=0 S_PSS=0 S_RSS=0 S_N=0 S_CPSS=0 S_CRSS=0
burst() {
	local nv=$1 key=$1${2:+-$2} per=$((BURST / $1)) vm i t0 t0ms last lastmax=0 fast=-1 slow=0 ok fail=0 line
	local -a bv=() pids=()
	for ((i = 1; i <= nv; i++)); do bv+=("vm$i"); done
	say "burst: $BURST commands from $nv VM(s), latency $BURST_LATENCY ms${2:+, $2}"
	sim latency 0
	daemon_start "QVM_REMOTE_VMS='${bv[*]}'" "QVM_REMOTE_POLL=watch"
	for vm in "${bv[@]}"; do
		in_vm "$vm" qvm-remote true >/dev/null 2>&1 || warn "the command before the burst failed in $vm"
	done
	daemon_stop
	[[ ${2:-} != cold ]] || rm -rf "$D0/state/agents"
	sim latency "$BURST_LATENCY"
	for vm in "${bv[@]}"; do
		in_vm "$vm" qvmr-bench-probe burst "$per" "$BURST_TIMEOUT" >"$WORK/burst-$nv-$vm.txt" 2>&1 &
		pids+=($!)
		BG+=($!)
	done
	for vm in "${bv[@]}"; do
		local end=$(($(now_us) + 60000000))
		until grep -q '^planted' "$WORK/burst-$nv-$vm.txt" 2>/dev/null; do
			(($(now_us) < end)) || die "$vm did not plant its requests: $(cat "$WORK/burst-$nv-$vm.txt")"
			sleep 0.05
		done
	done
	t0=$(now_us)
	printf '%s\n' "$t0" >"$WORK/burst-$nv.t0"
	daemon_start "QVM_REMOTE_VMS='${bv[*]}'" "QVM_REMOTE_POLL=watch"
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || warn "not every result of the burst reached ${bv[$i]}"
	done
	daemon_alive
	if [[ $key == "$BURST_VMS" ]]; then
		DAEMON_HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$DPID/status")
		# the VMs' sessions, open and waiting for the next request
		sleep 2
		read -r S_PSS S_RSS S_N S_CPSS S_CRSS <<<"$(tree_mem "$DPID")"
	fi
	for vm in "${bv[@]}"; do
		line=$(grep '^done ' "$WORK/burst-$nv-$vm.txt") || { warn "no result line from $vm"; continue; }
		read -r _ ok _ _ last <<<"$line"
		fail=$((fail + per - ok))
		last=$(((last - t0) / 1000))
		((last > lastmax)) && lastmax=$last
		((fast < 0 || last < fast)) && fast=$last
		((last > slow)) && slow=$last
	done
	daemon_stop
	t0ms=$((t0 / 1000))
	B_CALLS[$key]=$(awk -v from="$t0ms" -v to=$((t0ms + lastmax)) '$1 >= from && $1 <= to { n++ } END { print n + 0 }' "$SIM/calls.log")
	B_CPC[$key]=$(calc "${B_CALLS[$key]} / $BURST" 3)
	B_WALL[$key]=$(calc "$lastmax / 1000" 2)
	B_FAST[$key]=$(calc "$fast / 1000" 2)
	B_SLOW[$key]=$(calc "$slow / 1000" 2)
	B_FAIL[$key]=$fail
	((fail == 0)) || warn "$fail commands of the $key burst failed"
	BG=()
}
BURST_KEYS=(1 "$BURST_VMS" "$BURST_VMS-cold")
burst 1
burst "$BURST_VMS" cold
burst "$BURST_VMS"

# ------------------------------------------------------------- many VMs --

# MANY_VMS VMs with a daemon of their own, first started with one command
# planted in each: how its first calls spread (the most started in any
# 100 ms, pace.h), the time until every result is in; then MANY_IDLE_S s
# idle with a session open into each: the calls, the daemon's CPU and
# memory, and its transport children's.
many() {
	local i vm t0 t0ms tdone ok=0 end mpid u1 s1 u2 s2 w0 w1 win
	local -a mv=() pids=()
	say "many VMs: $MANY_VMS, each with a command waiting, a daemon of their own"
	for ((i = 1; i <= MANY_VMS; i++)); do
		vm=many$i
		mv+=("$vm")
		{ sim create "$vm" --shell dash && sim start "$vm"; } >/dev/null || die "cannot create VM $vm"
		in_vm "$vm" qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in $vm"
		dom0 authorize --from-vm "$vm" >/dev/null 2>&1 || die "authorize --from-vm $vm failed"
	done
	sim latency 0
	for vm in "${mv[@]}"; do
		in_vm "$vm" qvmr-bench-probe burst 1 "$BURST_TIMEOUT" >"$WORK/many-$vm.txt" 2>&1 &
		pids+=($!)
		BG+=($!)
	done
	for vm in "${mv[@]}"; do
		end=$(($(now_us) + 60000000))
		until grep -q '^planted' "$WORK/many-$vm.txt" 2>/dev/null; do
			(($(now_us) < end)) || die "$vm did not plant its request"
			sleep 0.05
		done
	done
	t0=$(now_us)
	own_daemon many "${mv[@]}"
	mpid=$OWN_PID
	BG+=("$mpid")
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" && ok=$((ok + 1))
	done
	tdone=$(now_us)
	proc_live "$mpid" || die "the many-VM daemon died: $(tail -n 5 "$D0/many/daemon.out")"
	t0ms=$((t0 / 1000))
	M_OK=$ok
	M_WALL=$(calc "($tdone - $t0) / 1000000" 2)
	read -r M_START_CALLS M_PEAK <<<"$(awk -v from="$t0ms" -v to=$((tdone / 1000)) '
		$3 ~ /^many[0-9]+$/ && $1 >= from && $1 <= to { t[n++] = $1 }
		END {
			for (i = 0; i < n; i++) {
				k = 0
				for (j = i; j < n && t[j] < t[i] + 100; j++) k++
				if (k > max) max = k
			}
			print n + 0, max + 0
		}' "$SIM/calls.log")"
	# settled: every VM's session waits; then the idle window
	sleep 5
	read -r u1 s1 _ _ <<<"$(cpu "$mpid")"
	w0=$(($(now_us) / 1000))
	sleep "$MANY_IDLE_S"
	read -r u2 s2 _ _ <<<"$(cpu "$mpid")"
	w1=$(($(now_us) / 1000))
	win=$(calc "($w1 - $w0) / 1000" 2)
	M_WIN=$win
	M_IDLE_CALLS=$(awk -v from="$w0" -v to="$w1" '$3 ~ /^many[0-9]+$/ && $1 >= from && $1 <= to { n++ } END { print n + 0 }' "$SIM/calls.log")
	M_CPU_PCT=$(calc "($u2 + $s2 - $u1 - $s1) / $TCK / $win * 100" 3)
	M_RSS=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$mpid/status")
	M_HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$mpid/status")
	read -r M_PSS _ M_N M_CPSS M_CRSS <<<"$(tree_mem "$mpid")"
	stop_pid "$mpid"
	BG=()
}
if ((MANY_VMS > 0)); then many; fi

# ---------------------------------------------- the first after idle --

sleep_ms=$((IDLE_FIRST_S * 1000 - ($(now_us) / 1000 - SLEEP_FROM)))
if ((sleep_ms > 0)); then
	say "the long idle: $SLEEP_VM waits $((sleep_ms / 1000)) s more, until $IDLE_FIRST_S s"
	sleep "$((sleep_ms / 1000)).$(printf '%03d' $((sleep_ms % 1000)))"
fi
proc_live "$SPID" || die "the sleeper daemon died; its output: $(tail -n 5 "$D0/sleeper/daemon.out")"
SLEEP_TO=$(($(now_us) / 1000))
SLEEP_IDLE_S=$(calc "($SLEEP_TO - $SLEEP_FROM) / 1000" 0)
SLEEP_CALLS=$(calls "$SLEEP_VM" "$SLEEP_FROM" "$SLEEP_TO")
in_vm "$SLEEP_VM" qvmr-bench-probe time 1 -- qvm-remote true >"$WORK/sleeper.txt" ||
	warn "the probe in $SLEEP_VM failed"
SLEEP_MS=$(awk 'NF == 4 { printf "%.1f\n", $3 / 1000 }' "$WORK/sleeper.txt")
awk 'NF == 4 && $4 != 0 { bad++ } END { exit bad > 0 }' "$WORK/sleeper.txt" ||
	warn "the first command after the idle failed"
SLEEP_AFTER=$(calls "$SLEEP_VM" "$SLEEP_TO")
sleeper_stop

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T_START))

# --------------------------------------------------------------- report --

met() { awk "BEGIN { exit !($1) }" && echo met || echo "not met"; }
W30=watch-30
tgt=()   # "name|target|value|verdict"
rt_excess() { calc "$(sf "${RT_ST[$1]}" 1) - ${RT_LIMIT[$1]}"; }
maxcalls=0.00
for ml in "${MODES[@]}"; do
	read -r mode lat <<<"$ml"
	[[ $mode == watch ]] || continue
	awk "BEGIN { exit !(${RT_CALLS[$mode-$lat]} > $maxcalls) }" && maxcalls=${RT_CALLS[$mode-$lat]}
done
tgt+=("calls per command, single (watch)|<= 2|$maxcalls|$(met "$maxcalls <= 2")")
tgt+=("calls per command, burst 1 VM|<= 0.05|${B_CPC[1]}|$(met "${B_CPC[1]} <= 0.05")")
tgt+=("calls per command, burst $BURST_VMS VMs|<= 0.05|${B_CPC[$BURST_VMS]}|$(met "${B_CPC[$BURST_VMS]} <= 0.05")")
tgt+=("  the same, dom0's very first start|report|${B_CPC[$BURST_VMS-cold]}|report")
if [[ -n ${RT_ST[$W30]:-} ]]; then
	ex=$(rt_excess "$W30")
	tgt+=("watch p50 above the limit at 30 ms|<= 15 ms|$ex ms|$(met "$ex <= 15")")
fi
tgt+=("calls a minute, halted VM|0|$IDLE_HALT_PM|$(met "$IDLE_HALT == 0")")
# A watch fetch waits 30 s in the VM: a shorter window cannot tell 1 call
# a minute from 3, so the quick run reports the count without a verdict.
if awk "BEGIN { exit !($IDLE_WIN >= 59) }"; then
	tgt+=("calls a minute, idle running VM (watch)|<= 2|$IDLE_RUN_PM|$(met "$IDLE_RUN_PM <= 2")")
	tgt+=("calls a minute, idle VM never used (watch)|<= 2|$IDLE_NEW_PM|$(met "$IDLE_NEW_PM <= 2")")
else
	tgt+=("calls a minute, idle running VM (watch)|<= 2|$IDLE_RUN_PM|n/a: window < 60 s")
	tgt+=("calls a minute, idle VM never used (watch)|<= 2|$IDLE_NEW_PM|n/a: window < 60 s")
fi
tgt+=("daemon RSS during the $BURST_VMS-VM burst|< 8 MiB|$DAEMON_HWM KiB|$(met "$DAEMON_HWM < 8192")")
tgt+=("daemon CPU when idle|< 1 %|$IDLE_PCT %|$(met "$IDLE_PCT < 1")")
if ((MANY_VMS > 0)); then
	tgt+=("$MANY_VMS VMs idle: calls in ${M_WIN} s|0|$M_IDLE_CALLS|$(met "$M_IDLE_CALLS == 0")")
	tgt+=("$MANY_VMS VMs idle: daemon CPU|< 0.1 %|$M_CPU_PCT %|$(met "$M_CPU_PCT < 0.1")")
	tgt+=("$MANY_VMS VMs idle: daemon RSS|< 16 MiB|$M_RSS KiB|$(met "$M_RSS < 16384")")
	tgt+=("$MANY_VMS VMs at start: calls begun in 100 ms|no burst of all|$M_PEAK|$(met "$M_PEAK < $MANY_VMS || $MANY_VMS <= 16")")
fi
tgt+=("burst from $BURST_VMS VMs: slowest VM vs fastest|no VM starved|${B_SLOW[$BURST_VMS]} s vs ${B_FAST[$BURST_VMS]} s|report")

TRANSPORT_NAME="the simulator (sim/qubes-sim)"
[[ $transport == real ]] && TRANSPORT_NAME="the real qrexec (sim/qubes-real)"
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
KERNEL=$(uname -sr)
NPROC=$(nproc)
VERSION=$(cat "$top/version" 2>/dev/null || echo unknown)
# the code measured: QVMR_BENCH_COMMIT (for a tree exported from git), else git
COMMIT=${QVMR_BENCH_COMMIT:-$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)}

{
	printf '\nqvm-remote benchmark%s on %s, %s  (%s CPUs, %s, %s; %s s)\n' \
		"$( ((quick)) && echo ' (quick)')" "$TRANSPORT_NAME" "$COMMIT" "$NPROC" "$CPU_MODEL" "$KERNEL" "$ELAPSED"
	printf 'load average at start %s, at end %s\n\n' "$LOAD_START" "$LOAD_END"
	printf 'Transport call (qrexec-client, `true`), bash -c true in dom0, a process start in a VM: %d runs each, ms\n' "$LIMIT_RUNS"
	printf '  %-28s %8s %8s %8s\n' "" p50 p90 p99
	for lat in 0 30; do
		printf '  %-28s %8s %8s %8s\n' "call at latency $lat ms" \
			"$(sf "${CALL_ST[$lat]}" 1)" "$(sf "${CALL_ST[$lat]}" 2)" "$(sf "${CALL_ST[$lat]}" 3)"
	done
	printf '  %-28s %8s %8s %8s\n' "bash -c true" "$(sf "$BASH_ST" 1)" "$(sf "$BASH_ST" 2)" "$(sf "$BASH_ST" 3)"
	printf '  %-28s %8s %8s %8s\n' "/bin/true started in a VM" "$(sf "$EXEC_ST" 1)" "$(sf "$EXEC_ST" 2)" "$(sf "$EXEC_ST" 3)"
	printf '\nRound trip of qvm-remote true, ms (%d runs each; interval mode: QVM_REMOTE_INTERVAL=%s s)\n' "$RUNS" "$INTERVAL_S"
	printf '  %-10s %7s %8s %8s %8s %8s %7s %7s %9s %8s\n' mode latency p50 p90 p99 limit ratio excess calls/cmd "in dom0"
	for ml in "${MODES[@]}"; do
		read -r mode lat <<<"$ml"
		st=${RT_ST[$mode-$lat]}
		printf '  %-10s %7s %8s %8s %8s %8s %7s %7s %9s %8s\n' "$mode" "$lat ms" \
			"$(sf "$st" 1)" "$(sf "$st" 2)" "$(sf "$st" 3)" "${RT_LIMIT[$mode-$lat]}" \
			"$(calc "$(sf "$st" 1) / ${RT_LIMIT[$mode-$lat]}" 2)" "$(rt_excess "$mode-$lat")" "${RT_CALLS[$mode-$lat]}" \
			"${RT_CMD[$mode-$lat]}"
	done
	printf '  limit: the transport call at that latency + bash -c true (p50s); interval mode adds %s ms, half the\n' "$((INTERVAL_S * 500))"
	printf '  interval, the expected wait for the next poll (its commands start at random points of the cycle)\n'
	printf '  in dom0: the command itself, from dom0'"'"'s DONE lines (p50); in watch mode a VM with the agent\n'
	printf '  runs a session: the result goes back on the call that fetched the request, no call of its own\n'
	printf '\nBursts of %d queued commands (latency %d ms, watch mode, defaults MAX_JOBS=8 MAX_PER_VM=2)\n' "$BURST" "$BURST_LATENCY"
	printf '  %-7s %9s %7s %10s %11s %11s %7s\n' VMs "wall s" calls calls/cmd "fastest VM" "slowest VM" failed
	for nv in "${BURST_KEYS[@]}"; do
		printf '  %-7s %9s %7s %10s %11s %11s %7s\n' "$nv" "${B_WALL[$nv]}" "${B_CALLS[$nv]}" "${B_CPC[$nv]}" \
			"${B_FAST[$nv]} s" "${B_SLOW[$nv]} s" "${B_FAIL[$nv]}"
	done
	printf '  the VMs were served before, so dom0 knows their agents (a restart of its service);\n'
	printf '  cold: its very first start, when the first call into each VM finds the agent\n'

	printf '\nIdle, over %s s, watch mode, a daemon polling only these three VMs (a minute: from the gaps between calls)\n' "$IDLE_WIN"
	printf '  running VM, used before: %s calls (%s a minute), waiting in: %s\n' "$IDLE_RUN" "$IDLE_RUN_PM" "$IDLE_WAITER"
	printf '  running VM, never used:  %s calls (%s a minute), waiting in: %s\n' "$IDLE_NEW" "$IDLE_NEW_PM" "$NEW_WAITER"
	printf '  halted VM:               %s calls (%s a minute)\n' "$IDLE_HALT" "$IDLE_HALT_PM"
	printf '  daemon CPU: %s s (%s %%); its reaped children (transport calls): %s s\n' "$IDLE_CPU" "$IDLE_PCT" "$IDLE_CCPU"
	printf '\nMemory: daemon peak RSS (VmHWM) over the %d-VM burst %s KiB; client peak RSS %s KiB\n' \
		"$BURST_VMS" "$DAEMON_HWM" "$CLIENT_RSS"
	printf '  the %d sessions open after the burst, dom0'"'"'s side: daemon PSS %s KiB (RSS %s),\n' \
		"$BURST_VMS" "$S_PSS" "$S_RSS"
	printf '  %s transport children PSS %s KiB (RSS %s); in all PSS %s KiB\n' \
		"$S_N" "$S_CPSS" "$S_CRSS" "$((S_PSS + S_CPSS))"
	if ((MANY_VMS > 0)); then
		printf '\n%s VMs, a daemon of their own (watch mode, latency 0)\n' "$MANY_VMS"
		printf '  start, one command waiting in each: %s of %s results in %s s; %s calls, at most %s begun in any 100 ms\n' \
			"$M_OK" "$MANY_VMS" "$M_WALL" "$M_START_CALLS" "$M_PEAK"
		printf '  idle %s s, a session open into each: %s calls; daemon CPU %s %%, RSS %s KiB (peak %s), PSS %s KiB\n' \
			"$M_WIN" "$M_IDLE_CALLS" "$M_CPU_PCT" "$M_RSS" "$M_HWM" "$M_PSS"
		printf '  its %s transport children: PSS %s KiB (RSS %s), %s KiB a VM\n' \
			"$M_N" "$M_CPSS" "$M_CRSS" "$( ((M_N > 0)) && echo $((M_CPSS / M_N)) || echo 0)"
	fi
	printf '\nThe first command after %s s idle (its session open all along; %s calls meanwhile, %s for it): %s ms\n' \
		"$SLEEP_IDLE_S" "$SLEEP_CALLS" "$SLEEP_AFTER" "$SLEEP_MS"
	printf '\nTargets (issue 4)\n'
	for t in "${tgt[@]}"; do
		IFS='|' read -r a b c d <<<"$t"
		printf '  %-44s %-14s %-20s %s\n' "$a" "$b" "$c" "$d"
	done
	printf '\nresults: %s/results%s.json, chart: %s/latency%s.svg\n' "$out" "$SUFFIX" "$out" "$SUFFIX"
}

# The rows of bench/side-by-side.awk: KEY<TAB>LABEL<TAB>VALUE
{
	printf 'transport\ttransport\t%s\n' "$transport"
	printf 'commit\tcommit\t%s\n' "$COMMIT"
	printf 'load\tload average, start / end\t%s / %s\n' "${LOAD_START%% *}" "${LOAD_END%% *}"
	printf 'call0\ttransport call p50, ms (latency 0)\t%s\n' "$(sf "${CALL_ST[0]}" 1)"
	for ml in "${MODES[@]}"; do
		read -r mode lat <<<"$ml"
		st=${RT_ST[$mode-$lat]}
		printf 'rt-%s-%s\tqvm-remote true, %s, +%s ms: p50 / p90 / p99\t%s / %s / %s\n' "$mode" "$lat" \
			"$mode" "$lat" "$(sf "$st" 1)" "$(sf "$st" 2)" "$(sf "$st" 3)"
		printf 'rtc-%s-%s\t  calls a command\t%s\n' "$mode" "$lat" "${RT_CALLS[$mode-$lat]}"
	done
	printf 'idle-first\tfirst command after %s s idle, ms\t%s\n' "$IDLE_FIRST_S" "$SLEEP_MS"
	printf 'idle-calls\t  calls during that idle\t%s\n' "$SLEEP_CALLS"
	for nv in "${BURST_KEYS[@]}"; do
		printf 'burst-%s\tburst of %s from %s VM(s): wall s / calls / a command\t%s / %s / %s\n' "$nv" \
			"$BURST" "${nv/-cold/, cold}" "${B_WALL[$nv]}" "${B_CALLS[$nv]}" "${B_CPC[$nv]}"
	done
	printf 'mem-daemon\tdom0, %s open sessions: daemon PSS KiB\t%s\n' "$BURST_VMS" "$S_PSS"
	printf 'mem-children\t  transport children: number, PSS KiB\t%s, %s\n' "$S_N" "$S_CPSS"
	printf 'mem-total\t  in all, PSS KiB\t%s\n' "$((S_PSS + S_CPSS))"
	printf 'hwm\tdaemon VmHWM over the burst, KiB\t%s\n' "$DAEMON_HWM"
	if ((MANY_VMS > 0)); then
		printf 'many-start\t%s VMs at start: s to all results / calls / most in 100 ms\t%s / %s / %s\n' \
			"$MANY_VMS" "$M_WALL" "$M_START_CALLS" "$M_PEAK"
		printf 'many-idle\t  idle: calls / daemon CPU %% / RSS KiB\t%s / %s / %s\n' "$M_IDLE_CALLS" "$M_CPU_PCT" "$M_RSS"
		printf 'many-mem\t  transport children: number, PSS KiB\t%s, %s\n' "$M_N" "$M_CPSS"
	fi
} >"$out/summary-$transport.txt"

# JSON: every value here is a number or a string without quotes or
# backslashes (names, numbers, /proc text), so printf is enough.
jstats() {   # STATS-LINE -> {"n":...}
	local -a a
	read -ra a <<<"$1"
	printf '{"n": %s, "p50": %s, "p90": %s, "p99": %s, "min": %s, "max": %s, "mean": %s}' \
		"${a[0]}" "${a[1]}" "${a[2]}" "${a[3]}" "${a[4]}" "${a[5]}" "${a[6]}"
}
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
{
	printf '{\n  "benchmark": "qvm-remote", "transport": "%s", "version": %s, "quick": %s,\n' "$transport" "$(jstr "$VERSION")" "$( ((quick)) && echo true || echo false)"
	printf '  "commit": %s, "date": %s, "elapsed_s": %s,\n' "$(jstr "$COMMIT")" "$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$ELAPSED"
	printf '  "machine": {"nproc": %s, "cpu": %s, "kernel": %s, "root": %s, "loadavg_start": %s, "loadavg_end": %s},\n' \
		"$NPROC" "$(jstr "$CPU_MODEL")" "$(jstr "$KERNEL")" "$( ((EUID == 0)) && echo true || echo false)" \
		"$(jstr "$LOAD_START")" "$(jstr "$LOAD_END")"
	printf '  "settings": {"runs": %s, "warmup_runs": %s, "limit_runs": %s, "latencies_ms": [0, 30], "interval_s": %s, "watch_wait_s": 30, "vm_sh": "dash", "burst_commands": %s, "burst_vms": %s, "burst_latency_ms": %s, "max_jobs": 8, "max_per_vm": 2, "idle_window_s": %s, "percentiles": "nearest rank"},\n' \
		"$RUNS" "$WARMUP" "$LIMIT_RUNS" "$INTERVAL_S" "$BURST" "$BURST_VMS" "$BURST_LATENCY" "$IDLE_WIN"
	printf '  "transport_call_ms": {"0": %s, "30": %s},\n' "$(jstats "${CALL_ST[0]}")" "$(jstats "${CALL_ST[30]}")"
	printf '  "bash_true_ms": %s,\n' "$(jstats "$BASH_ST")"
	printf '  "vm_process_start_ms": %s,\n' "$(jstats "$EXEC_ST")"
	printf '  "simulator_call_overhead_ms": %s,\n' "$(sf "${CALL_ST[0]}" 1)"
	printf '  "roundtrip": [\n'
	sep=
	for ml in "${MODES[@]}"; do
		read -r mode lat <<<"$ml"
		k=$mode-$lat
		printf '%s    {"mode": "%s", "latency_ms": %s, "ms": %s, "limit_ms": %s, "ratio": %s, "excess_ms": %s, "calls_per_command": %s, "command_in_dom0_ms": %s, "failed": %s}' \
			"$sep" "$mode" "$lat" "$(jstats "${RT_ST[$k]}")" "${RT_LIMIT[$k]}" \
			"$(calc "$(sf "${RT_ST[$k]}" 1) / ${RT_LIMIT[$k]}" 3)" "$(rt_excess "$k")" "${RT_CALLS[$k]}" "${RT_CMD[$k]}" "${RT_FAIL[$k]}"
		sep=$',\n'
	done
	printf '\n  ],\n  "burst": [\n'
	sep=
	for nv in "${BURST_KEYS[@]}"; do
		printf '%s    {"vms": %s, "agents_known": %s, "commands": %s, "wall_s": %s, "calls": %s, "calls_per_command": %s, "fastest_vm_s": %s, "slowest_vm_s": %s, "failed": %s}' \
			"$sep" "${nv%-cold}" "$([[ $nv == *-cold ]] && echo false || echo true)" "$BURST" "${B_WALL[$nv]}" "${B_CALLS[$nv]}" "${B_CPC[$nv]}" "${B_FAST[$nv]}" "${B_SLOW[$nv]}" "${B_FAIL[$nv]}"
		sep=$',\n'
	done
	printf '\n  ],\n'
	printf '  "idle": {"window_s": %s, "running_vm_calls": %s, "running_vm_calls_per_min": %s, "running_vm_waits_in": %s, "never_used_vm_calls": %s, "never_used_vm_calls_per_min": %s, "never_used_vm_waits_in": %s, "halted_vm_calls": %s, "halted_vm_calls_per_min": %s, "daemon_cpu_s": %s, "daemon_cpu_percent": %s, "children_cpu_s": %s},\n' \
		"$IDLE_WIN" "$IDLE_RUN" "$IDLE_RUN_PM" "$(jstr "$IDLE_WAITER")" "$IDLE_NEW" "$IDLE_NEW_PM" "$(jstr "$NEW_WAITER")" \
		"$IDLE_HALT" "$IDLE_HALT_PM" "$IDLE_CPU" "$IDLE_PCT" "$IDLE_CCPU"
	if ((MANY_VMS > 0)); then
		printf '  "many_vms": {"vms": %s, "results": %s, "start_wall_s": %s, "start_calls": %s, "start_calls_most_in_100ms": %s, "idle_window_s": %s, "idle_calls": %s, "daemon_cpu_percent": %s, "daemon_rss_kib": %s, "daemon_vmhwm_kib": %s, "daemon_pss_kib": %s, "children": %s, "children_pss_kib": %s, "children_rss_kib": %s},\n' \
			"$MANY_VMS" "$M_OK" "$M_WALL" "$M_START_CALLS" "$M_PEAK" "$M_WIN" "$M_IDLE_CALLS" "$M_CPU_PCT" "$M_RSS" "$M_HWM" "$M_PSS" "$M_N" "$M_CPSS" "$M_CRSS"
	fi
	printf '  "memory": {"daemon_vmhwm_kib": %s, "client_maxrss_kib": %s, "sessions": %s, "sessions_daemon_pss_kib": %s, "sessions_daemon_rss_kib": %s, "sessions_children": %s, "sessions_children_pss_kib": %s, "sessions_children_rss_kib": %s},\n' \
		"$DAEMON_HWM" "$CLIENT_RSS" "$BURST_VMS" "$S_PSS" "$S_RSS" "$S_N" "$S_CPSS" "$S_CRSS"
	printf '  "first_after_idle": {"idle_s": %s, "ms": %s, "calls_during_idle": %s, "calls_for_it": %s},\n' \
		"$SLEEP_IDLE_S" "${SLEEP_MS:-0}" "$SLEEP_CALLS" "$SLEEP_AFTER"
	printf '  "targets": [\n'
	sep=
	for t in "${tgt[@]}"; do
		IFS='|' read -r a b c d <<<"$t"
		printf '%s    {"what": %s, "target": %s, "value": %s, "verdict": %s}' "$sep" "$(jstr "$a")" "$(jstr "$b")" "$(jstr "$c")" "$(jstr "$d")"
		sep=$',\n'
	done
	printf '\n  ],\n  "failed": %s\n}\n' "$( ((FAILED)) && echo true || echo false)"
} >"$out/results$SUFFIX.json"

{
	printf 'T qvm-remote true on %s: round trip per poll mode and added latency\n' "$TRANSPORT_NAME"
	s=0
	for ml in "${MODES[@]}"; do
		read -r mode lat <<<"$ml"
		s=$((s + 1))
		printf 'S %d %s %s, %s ms: p50 %s ms, limit %s ms\n' "$s" "${RT_LIMIT[$mode-$lat]}" "$mode" "$lat" \
			"$(sf "${RT_ST[$mode-$lat]}" 1)" "${RT_LIMIT[$mode-$lat]}"
		sed "s/^/V $s /" "$WORK/rt-$mode-$lat.ms"
	done
} | awk -f "$top/bench/chart.awk" >"$out/latency$SUFFIX.svg"

exit "$FAILED"
