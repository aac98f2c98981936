#!/bin/bash
# Reliability under load: 50 clients at once in one VM plus commands from
# 20 VMs, all at the same time: every client gets its own, correct result.
. "$(dirname "$0")/../system/lib.sh"
. "$(dirname "$0")/../system/dom0.sh"

NVMS=20
vms=()
for ((i = 1; i <= NVMS; i++)); do vms+=("$(printf 'v%02d' "$i")"); done
out=$TEST_DIR/out
t0=$(now_ms)
# one after the other: VMs made at the same time once ended up with the
# same unix user in the simulator
dom0_setup "${vms[@]}"
printf '# %d VMs set up in %d ms\n' "$NVMS" "$(($(now_ms) - t0))"
mkdir -m 0777 "$out"
wait_rc() {   # PID SEC: RC = its exit status, or "hung"
	RC=hung
	wait_for "! proc_alive $1" "$2" || return 1
	wait "$1"
	RC=$?
}
hwm_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DOM0_PID/status"; }

# more at once than the defaults, to crowd the daemon's tables
printf '%s\n' QVM_REMOTE_MAX_JOBS=16 QVM_REMOTE_MAX_PER_VM=8 >>"$DOM0_CONF"
dom0_start
wait_for "(( \$(grep -c 'action=polling' '$QVM_REMOTE_LOG') >= $NVMS ))" 20 || fail "not every VM is polled"

# ------------------------------------------------------------------
t "50 concurrent clients in one VM plus commands from $NVMS VMs: every result is its own"
many=v04
pids=()
names=()
start=$(now_ms)
# 50 at once in one VM, started together by one sh in that VM; each
# prints its number on both streams and exits with it modulo 7
cat >"$TEST_DIR/many.sh" <<'EOF2'
i=1
while [ $i -le 50 ]; do
	( qvm-remote -q --wait 120 "echo \"many \$QVM_REMOTE_VM $i\"; echo \"err $i\" >&2; exit $((i % 7))" \
		>"$1/many-$i.out" 2>"$1/many-$i.err"; echo $? >"$1/many-$i.rc" ) &
	i=$((i + 1))
done
wait
EOF2
chmod 0644 "$TEST_DIR/many.sh"
in_vm "$many" sh "$TEST_DIR/many.sh" "$out" &
pids+=($!)
track_pid $!
for vm in "${vms[@]}"; do
	for k in 1 2; do
		in_vm "$vm" qvm-remote -q --wait 120 "echo \"from \$QVM_REMOTE_VM $k\"" \
			>"$out/$vm-$k.out" 2>"$out/$vm-$k.err" &
		pids+=($!)
		names+=("$vm-$k")
		track_pid $!
	done
done
wait_for "(( \$(ls '$out' | grep -c '^many-.*\\.rc$') == 50 ))" 150 ||
	fail "only $(ls "$out" | grep -c '^many-.*\.rc$') of 50 clients in $many ended"
bad=0
for i in $(seq 1 50); do
	got="$(cat "$out/many-$i.out" 2>/dev/null)|$(cat "$out/many-$i.err" 2>/dev/null)|$(cat "$out/many-$i.rc" 2>/dev/null)"
	want="many $many $i|err $i|$((i % 7))"
	[[ $got == "$want" ]] || { ((bad++ < 5)) && fail "client $i in $many: expected '$want', got '$got'"; }
done
for idx in "${!names[@]}"; do
	wait_rc "${pids[$((idx + 1))]}" 60
	vm=${names[$idx]%-*} k=${names[$idx]##*-}
	got="$(cat "$out/${names[$idx]}.out")|$RC"
	[[ $got == "from $vm $k|0" ]] || { ((bad++ < 10)) && fail "${names[$idx]}: expected 'from $vm $k|0', got '$got'"; }
done
printf '# %d commands (50 in %s, 2 in each of %d VMs) in %d ms, %d wrong\n' \
	$((50 + 2 * NVMS)) "$many" "$NVMS" "$(($(now_ms) - start))" "$bad"
printf '# daemon memory: VmHWM %d KiB\n' "$(hwm_kib)"
dom0_stop
