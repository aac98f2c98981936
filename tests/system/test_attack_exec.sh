#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Attacks on the execution sandbox (L3), through the real daemon and
# client: output floods, children left behind after a timeout, a fork
# bomb.  An authorized VM's command runs as root in dom0, so L3 is not a
# wall against that VM (docs/threat-model.md); it keeps a runaway command
# from taking dom0 or the daemon down.  The fork bomb only ever runs inside
# a pids limit that this file sets up, so the test machine survives it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work dev
cd "$TEST_DIR" || die "cannot enter $TEST_DIR"
err=$TEST_DIR/err
out=$TEST_DIR/out

# ---- cgroups this file makes; removed at exit, with what is inside ----
CG_DIRS=()
CG_V1_PIDS=$(awk '$3 == "cgroup" && $4 ~ /(^|,)pids(,|$)/ { print $2; exit }' /proc/mounts)
CG_V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)

cg_empty() {   # DIR: no process in it or below
	[[ -z $(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null) ]]
}

cg_cleanup() {
	local d i n p
	for ((i = ${#CG_DIRS[@]} - 1; i >= 0; i--)); do
		d=${CG_DIRS[i]}
		[[ -d $d ]] || continue
		for ((n = 0; n < 100; n++)); do
			[[ -e $d/cgroup.kill ]] && echo 1 >"$d/cgroup.kill" 2>/dev/null
			find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null |
				while read -r p; do kill -KILL "$p" 2>/dev/null; done
			cg_empty "$d" && break
			sleep 0.1
		done
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
		rmdir "$d" 2>/dev/null || printf '# cannot remove cgroup %s\n' "$d"
	done
}
# shellcheck disable=SC2154 # _cg_rc is set by the trap itself
trap '_cg_rc=$?; cg_cleanup; (exit "$_cg_rc"); _lib_exit' EXIT

# Empty ones an earlier run of this file could not remove (it was killed).
for _d in "$CG_V1_PIDS"/qvmr-attack-* "$CG_V2"/qvmr-attack-*; do
	[[ -d $_d ]] || continue
	_p=${_d##*/qvmr-attack-}
	kill -0 "${_p%%-*}" 2>/dev/null && continue
	cg_empty "$_d" && find "$_d" -depth -type d -exec rmdir {} \; 2>/dev/null
done

cg_new() {   # MOUNT: a new cgroup directory under it, in $CG
	CG=$1/qvmr-attack-$$-${#CG_DIRS[@]}
	mkdir "$CG" || return 1
	CG_DIRS+=("$CG")
}

dom0_start_in() {   # "CGROUP..." [ARGS...]: dom0_start with the daemon in these cgroups
	local cgs=$1
	shift
	(
		for d in $cgs; do
			printf '%s\n' "$BASHPID" >"$d/cgroup.procs" || exit 1
		done
		exec "$QVMR_DAEMON" -c "$DOM0_CONF" "$@"
	) >>"$DOM0/daemon.out" 2>&1 &
	DOM0_PID=$!
	track_pid "$DOM0_PID"
}

containment() {   # the daemon's containment, from its start line
	sed -n 's/.*action=start .*containment="*\([a-z ]*\)"*.*/\1/p' "$QVM_REMOTE_LOG" | tail -n 1
}

printf 'QVM_REMOTE_MAX_OUTPUT=4194304\n' >"$DOM0_CONF"
dom0_start

t "1 GiB of output: truncated at QVM_REMOTE_MAX_OUTPUT, TRUNC logged, daemon RSS stays small"
start=$(now_ms)
in_vm work qvm-remote 'head -c 1G /dev/zero; echo tail >&2' >"$out" 2>"$err"
rc=$?
printf '# 1 GiB took %d ms\n' "$(($(now_ms) - start))"
assert_eq 122 "$rc" "exit code: the command succeeded, its output was cut"
assert_contains "$(cat "$err")" "dom0 kept only the first 4194304 bytes of stdout" "the client's notice"
assert_eq 4194304 "$(stat -c %s "$out")" "bytes of stdout that arrived"
assert_eq 0 "$(tr -d '\0' <"$out" | wc -c)" "non-zero bytes in stdout"
assert_contains "$(cat "$err")" "tail" "stderr still arrives"
line=$(grep "TRUNC vm=work " "$QVM_REMOTE_LOG" | tail -n 1)
assert_contains "$line" "stream=out" "TRUNC line"
assert_contains "$line" "produced=1073741824" "TRUNC counts what was cut"
assert_contains "$line" "kept=4194304" "TRUNC says what was kept"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DOM0_PID/status")
printf '# daemon VmHWM %s kB\n' "$hwm"
((hwm > 0 && hwm < 64 * 1024)) || fail "daemon peak RSS is $hwm kB, not under 64 MiB"

# Unique arguments find the children of this run only.
tag=$(($$ % 100000))
bg1="sleep 1000.$tag" bg2="sleep 2000.$tag"
survivors() { pgrep -fx "$1"; }
reap_survivors() {   # PATTERN: kill what a failed case left behind, by pid
	local p
	for p in $(survivors "$1"); do kill -KILL "$p" 2>/dev/null; done
}

t "background child after timeout: 'sleep 1000 &' does not survive the timeout"
in_vm work qvm-remote -t 3 "$bg1 & sleep 30" >/dev/null 2>"$err" &
cpid=$!
track_pid "$cpid"
wait_for "survivors '$bg1' >/dev/null" 20 || fail "the background sleep never started"
wait "$cpid"
assert_eq 124 "$?" "the client's exit code"
if ! wait_for "! survivors '$bg1' >/dev/null" 10; then
	fail "the background child survived: pid $(survivors "$bg1")"
	reap_survivors "$bg1"
fi
assert_contains "$(dom0_log | grep 'TIMEOUT vm=work' | tail -n 1)" "TIMEOUT vm=work" "TIMEOUT line"
assert_eq bye "$(in_vm work qvm-remote echo bye)" "work is still served"

t "background child in a new session after timeout: the command's cgroup is killed"
if [[ -z $CG_V2 || ! -w $CG_V2 ]]; then
	skip "no writable cgroup v2 hierarchy to delegate to the daemon"
else
	dom0_stop
	cg_new "$CG_V2" || fail "cannot make a cgroup under $CG_V2"
	dom0_start_in "$CG"
	assert_eq up "$(in_vm work qvm-remote echo up)" "a command under the delegated cgroup"
	if [[ $(containment) != cgroup* ]]; then
		skip "the daemon does not use the delegated cgroup (containment: $(containment))"
	else
		in_vm work qvm-remote -t 3 "setsid $bg2 & sleep 30" >/dev/null 2>"$err" &
		cpid=$!
		track_pid "$cpid"
		wait_for "survivors '$bg2' >/dev/null" 20 || fail "the setsid sleep never started"
		assert_ne "$(ps -o sid= -p "$(survivors "$bg2" | head -n 1)")" \
			"$(ps -o sid= -p "$(pgrep -f "$QVM_REMOTE_RUNTIME_DIR" | head -n 1)" 2>/dev/null)" \
			"the sleep's session (it must have left the command's)"
		wait "$cpid"
		assert_eq 124 "$?" "the client's exit code"
		if ! wait_for "! survivors '$bg2' >/dev/null" 10; then
			fail "the child in its own session survived: pid $(survivors "$bg2")"
			reap_survivors "$bg2"
		fi
	fi
	dom0_stop
fi

t "fork bomb: contained, killed at the timeout, and the daemon keeps serving another VM"
pids_cg=""
if [[ -n $CG_V1_PIDS && -w $CG_V1_PIDS ]]; then
	cg_new "$CG_V1_PIDS" && pids_cg=$CG
elif [[ -n $CG_V2 && -w $CG_V2 ]] && grep -qw pids "$CG_V2/cgroup.subtree_control" 2>/dev/null; then
	cg_new "$CG_V2" && pids_cg=$CG
fi
if [[ -z $pids_cg ]] || ! echo 256 >"$pids_cg/pids.max"; then
	skip "no pids cgroup to contain a fork bomb in (never run without one)"
else
	dom0_stop
	printf 'QVM_REMOTE_MAX_PIDS=64\n' >"$DOM0_CONF"
	dom0_start_in "$pids_cg"
	assert_eq up "$(in_vm dev qvm-remote echo up)" "dev before the bomb"
	# the bomb stops forking by itself after 60 s, whatever happens here
	in_vm work qvm-remote -t 5 'END=$((EPOCHSECONDS + 60))
b() { ((EPOCHSECONDS < END)) || exit 0; b | b & }
b 2>/dev/null
sleep 100.789' >/dev/null 2>"$err" &
	cpid=$!
	track_pid "$cpid"
	peak=0
	while proc_alive "$cpid"; do
		n=$(cat "$pids_cg/pids.current")
		((n > peak)) && peak=$n
		sleep 0.1
	done
	wait "$cpid"
	assert_eq 124 "$?" "the bomb's exit code"
	printf '# bomb: pids.current peaked at %s of %s\n' "$peak" "$(cat "$pids_cg/pids.max")"
	((peak >= 64)) || fail "the bomb never grew: pids.current peaked at $peak"
	start=$(now_ms)
	out_dev=$(in_vm dev qvm-remote -q --wait 120 echo alive)
	printf '# dev served %d ms after the bomb timed out\n' "$(($(now_ms) - start))"
	assert_eq alive "$out_dev" "dev after the bomb"
	wait_for "! pgrep -f '$QVM_REMOTE_RUNTIME_DIR/work/' >/dev/null" 15 ||
		fail "bomb processes remain: $(pgrep -f "$QVM_REMOTE_RUNTIME_DIR/work/" | wc -l)"
	wait_for "((\$(cat '$pids_cg/pids.current') < 40))" 15 ||
		fail "pids.current after the bomb: $(cat "$pids_cg/pids.current")"
	proc_alive "$DOM0_PID" || fail "the daemon died"
	assert_contains "$(dom0_log | grep 'TIMEOUT vm=work' | tail -n 1)" "TIMEOUT vm=work" "TIMEOUT line"
	dom0_stop
fi

t "the audit log's hash chain is intact"
assert_exit 0 dom0 audit verify
