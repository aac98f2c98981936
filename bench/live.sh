#!/bin/bash
# bench/live.sh - the benchmark of live output (issue 16; docs/performance.md).
#   bench/live.sh [--quick] [--transport sim|real] [--out DIR]
#
# Starts the real qvm-remote-dom0 against a machine of VMs (sim/qubes-sim,
# or sim/qubes-real: Qubes' own qrexec, root only) with the real client and
# agent in the VMs, and measures:
#   - first byte: a command in dom0 prints its clock (EPOCHREALTIME) on a
#     line every 200 ms; in the VM each line the client writes is read as
#     it comes and stamped with the VM's clock.  dom0 and the VMs are one
#     machine here, one clock: the difference is the latency of a line;
#   - throughput: 100 MiB of output (the output cap raised) from dom0 to
#     the client's stdout, a file in the VM, start to exit, against the raw
#     transport in the same run: one qrexec-client call carrying the same
#     bytes the same way (piped into qubes.VMShell running cat into a file
#     in the VM: the transport's copy, without any program of ours);
#     medians of 3 runs each;
#   - memory: 8 commands writing 100 MiB each at once into 8 VMs that read
#     slowly (each VM paused 800 ms of every second: its agent and client
#     stopped), the daemon's RSS sampled every 200 ms and its peak (VmHWM);
#   - the round trip of `qvm-remote true`, p50, as the control.
# --quick: 10 MiB instead of 100, fewer lines and runs.  Prints the figures
# and writes them to DIR/live-TRANSPORT.txt (DIR: bench/, or
# $QVMR_BUILD/bench-quick for --quick).  Exit status 0, or 1 when a command
# failed.  QVMR_BUILD picks the binaries (default build/), so the same run
# of older binaries gives the "before".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build=${QVMR_BUILD:-$top/build}
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"

bench_args 3 "$@"
[[ -n $transport ]] || transport=sim
case $transport in
sim) ;;
real)
	((EUID == 0)) || { echo "bench: the real qrexec needs root" >&2; exit 2; }
	[[ -x $QUBES_REAL_QREXEC/qrexec-daemon ]] ||
		{ echo "bench: no real qrexec in $QUBES_REAL_QREXEC; build it: tools/qrexec-build.sh" >&2; exit 2; }
	;;
*) echo "bench: --transport is sim or real, not '$transport'" >&2; exit 2 ;;
esac
for f in "$CLIENT" "$DAEMON" "$PROBE" "$AGENT"; do
	[[ -x $f ]] || { echo "bench: $f is missing; run: make all $build/${f##*/}" >&2; exit 2; }
done
if ((quick)); then
	MIB=10 LINES=10 RUNS=10
	[[ -n $out ]] || out=$build/bench-quick
else
	MIB=100 LINES=50 RUNS=30
	[[ -n $out ]] || out=$top/bench
fi
STREAMS=8
BYTES=$((MIB << 20))
SERVICE='DEFAULT:QUBESRPC qubes.VMShell+ dom0'
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

WORK=$(mktemp -d /tmp/qvmr-bench.XXXXXX) || exit 2
chmod 0755 "$WORK"
SIM=$WORK/sim D0=$WORK/dom0 MACHINE=$top/sim/qubes-$transport
DPID= FAILED=0

# p50 and p99 (nearest rank) of the numbers in FILE
pcts() {
	sort -g "$1" | awk '{ v[++n] = $1 }
		function rank(p,   r) { r = int(p / 100 * n); if (r < p / 100 * n) r++; if (r < 1) r = 1; return v[r] }
		END { if (n == 0) print "0 0"; else printf "%.1f %.1f\n", rank(50), rank(99) }'
}
kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null; }

cleanup() {
	local rc=$?
	if [[ -n $DPID ]]; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	[[ -e $SIM/.qubes-$transport ]] && "$MACHINE" -r "$SIM" destroy >/dev/null 2>&1
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vms=()
for ((i = 1; i <= STREAMS; i++)); do vms+=("vm$i"); done
say "live output: a machine of qubes-$transport with ${#vms[@]} VMs, $MIB MiB a stream"
"$MACHINE" init "$SIM" --client "$CLIENT" --agent "$AGENT" >/dev/null || die "qubes-$transport init failed"
export QUBES_SIM_ROOT=$SIM PATH=$SIM/bin:$PATH
unset QUBES_SIM_LATENCY_MS
install -m 0755 "$PROBE" "$SIM/vmbin/qvmr-bench-probe" || die "cannot install the probe"
mkdir -p "$D0"
export QVM_REMOTE_KEYS_DIR=$D0/keys QVM_REMOTE_LOG=$D0/qvm-remote.log \
	QVM_REMOTE_RUNTIME_DIR=$D0/run QVM_REMOTE_STATE_DIR=$D0/state \
	QVM_REMOTE_QREXEC_DIR=$SIM/run
printf '%s\n' "QVM_REMOTE_VMS='${vms[*]}'" QVM_REMOTE_POLL=watch \
	"QVM_REMOTE_MAX_OUTPUT=$((BYTES + 1))" "QVM_REMOTE_MAX_JOBS=$STREAMS" \
	>"$D0/remote.conf"
for vm in "${vms[@]}"; do
	sim create "$vm" --shell dash && sim start "$vm" || die "cannot create VM $vm"
	in_vm "$vm" qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in $vm"
	"$DAEMON" -c "$D0/remote.conf" authorize --from-vm "$vm" >/dev/null 2>&1 ||
		die "authorize --from-vm $vm failed"
done
"$DAEMON" -c "$D0/remote.conf" >>"$D0/daemon.out" 2>&1 &
DPID=$!
for vm in "${vms[@]}"; do
	in_vm "$vm" qvm-remote true >/dev/null 2>&1 || die "the first command in $vm failed"
done

# ---- the control: the round trip of true
in_vm vm1 qvmr-bench-probe time "$RUNS" -- qvm-remote true >"$WORK/rt.txt" ||
	warn "the round trip probe failed"
awk 'NF == 4 { print $3 / 1000 }' "$WORK/rt.txt" >"$WORK/rt.ms"
awk 'NF == 4 && $4 != 0 { bad++ } END { exit bad > 0 }' "$WORK/rt.txt" || warn "a true failed"
read -r RT50 RT99 <<<"$(pcts "$WORK/rt.ms")"
say "round trip of true: p50 $RT50 ms, p99 $RT99 ms"

# ---- first byte
# shellcheck disable=SC2016 # expanded by dom0's bash and the VM's bash
in_vm vm1 bash -c 'qvm-remote "for i in \$(seq '"$LINES"'); do echo \${EPOCHREALTIME/./}; sleep 0.2; done" |
	while IFS= read -r t; do n=${EPOCHREALTIME/./}; echo $((n - t)); done' \
	>"$WORK/line.us" || warn "the line-a-200-ms command failed"
(($(wc -l <"$WORK/line.us") == LINES)) || warn "lines: $(wc -l <"$WORK/line.us") of $LINES"
awk '{ printf "%.2f\n", $1 / 1000 }' "$WORK/line.us" >"$WORK/line.ms"
read -r FB50 FB99 <<<"$(pcts "$WORK/line.ms")"
say "a line from dom0's command to the client's stdout: p50 $FB50 ms, p99 $FB99 ms"

# ---- throughput
# Both ways carry the bytes from dom0 into vm1 and into a file there, TP_RUNS
# times each, alternating; the medians.  Ours: dom0's command's output to
# the client's stdout.  Raw: qubes.VMShell running cat into a file, the bytes
# piped into qrexec-client after its command line.
TP_RUNS=3
: >"$WORK/ours.s"
: >"$WORK/raw.s"
for ((k = 0; k < TP_RUNS; k++)); do
	t0=$(now_us)
	in_vm vm1 bash -c 'qvm-remote "head -c '"$BYTES"' /dev/zero" >tp.out' 2>"$WORK/tp.err" ||
		warn "the $MIB MiB command failed: $(head -c 300 "$WORK/tp.err")"
	t1=$(now_us)
	echo "$(((t1 - t0)))" >>"$WORK/ours.s"
	sz=$(in_vm vm1 stat -c %s tp.out)
	((sz == BYTES)) || warn "the client wrote $sz bytes of $BYTES"
	t0=$(now_us)
	{ printf 'exec cat >raw.out\n'; head -c "$BYTES" /dev/zero; } |
		"$SIM/bin/qrexec-client" -d vm1 "$SERVICE" || warn "the raw transport call failed"
	t1=$(now_us)
	echo "$(((t1 - t0)))" >>"$WORK/raw.s"
	sz=$(in_vm vm1 stat -c %s raw.out)
	((sz == BYTES)) || warn "the raw call carried $sz bytes of $BYTES"
	in_vm vm1 rm -f tp.out raw.out
done
median_us() { sort -g "$1" | awk '{ v[++n] = $1 } END { print v[int((n + 1) / 2)] }'; }
OURS=$(calc "$MIB / ($(median_us "$WORK/ours.s") / 1000000)")
RAW=$(calc "$MIB / ($(median_us "$WORK/raw.s") / 1000000)")
say "throughput: $OURS MiB/s through qvm-remote, $RAW MiB/s raw ($(calc "$OURS / $RAW" 2)), medians of $TP_RUNS"

# ---- memory: 8 streams into VMs that read slowly
pids=()
for vm in "${vms[@]}"; do
	in_vm "$vm" qvm-remote "head -c $BYTES /dev/zero" >/dev/null 2>"$WORK/$vm.err" &
	pids+=($!)
done
peak=0 t0=$(now_us)
running() { local p; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
while running; do
	for vm in "${vms[@]}"; do sim pause "$vm" >/dev/null 2>&1; done
	for ((k = 0; k < 4; k++)); do
		r=$(kib "$DPID" VmRSS)
		((${r:-0} > peak)) && peak=$r
		sleep 0.2
	done
	for vm in "${vms[@]}"; do sim unpause "$vm" >/dev/null 2>&1; done
	sleep 0.2
done
t1=$(now_us)
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || warn "stream ${vms[$i]} failed: $(head -c 300 "$WORK/${vms[$i]}.err")"
done
HWM=$(kib "$DPID" VmHWM)
say "8 streams of $MIB MiB into slow VMs: daemon RSS peak $(calc "$peak / 1024") MiB (VmHWM $(calc "$HWM / 1024") MiB), all in $(calc "($t1 - $t0) / 1000000") s"

{
	printf 'transport %s\ntree %s\n' "$transport" "$(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
	printf 'roundtrip_true_ms p50 %s p99 %s\n' "$RT50" "$RT99"
	printf 'first_byte_ms p50 %s p99 %s lines %s\n' "$FB50" "$FB99" "$LINES"
	printf 'throughput_mib_s ours %s raw %s ratio %s mib %s\n' "$OURS" "$RAW" "$(calc "$OURS / $RAW" 2)" "$MIB"
	printf 'slow_streams_rss_mib peak %s hwm %s streams %s\n' "$(calc "$peak / 1024")" "$(calc "$HWM / 1024")" "$STREAMS"
} | tee "$out/live-$transport.txt"
exit "$FAILED"
