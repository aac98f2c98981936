#!/bin/bash
# tests/system/run.sh: run the system tests against the simulator.
#
#   tests/system/run.sh [FILE|NAME...]     (default: every test_*.sh here)
#
# NAME may be "sim" for test_sim.sh.  Each file runs on its own, stdin
# /dev/null, with a 300 s limit (QVMR_TEST_TIMEOUT overrides it; a file
# that needs longer says so in a line "# run.sh limit: N s", N at most
# 900, with its reason, unless QVMR_TEST_TIMEOUT is set).  Prints
# each case as "ok - NAME" or "not ok - NAME" (with its "# " diagnostics),
# skips as "skip - ...", and ends with "N passed, N failed" counting cases.
# A file that dies, times out or reports no case counts as one failed case.
# Exits 1 on any failure.  QVMR_BUILD names the build directory (default:
# build/ at the top); QVMR_KEEP=1 keeps each test's directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export QVMR_BUILD=${QVMR_BUILD:-$top/build}
limit=${QVMR_TEST_TIMEOUT:-300}

files=()
if (($#)); then
	for a in "$@"; do
		if [[ -f $a ]]; then files+=("$a")
		elif [[ -f $here/$a ]]; then files+=("$here/$a")
		elif [[ -f $here/test_$a.sh ]]; then files+=("$here/test_$a.sh")
		else printf 'run.sh: no test file %s in %s\n' "$a" "$here" >&2; exit 2
		fi
	done
else
	for f in "$here"/test_*.sh; do
		[[ -f $f ]] && files+=("$f")
	done
fi
((${#files[@]})) || { printf 'run.sh: no test_*.sh in %s\n' "$here" >&2; exit 2; }

# Machines and directories a killed test could not clean up are cleaned up
# here, so no unix user of a simulated VM outlives the run, even when this
# runner is stopped itself.
export QVMR_SIM_REGISTRY
QVMR_SIM_REGISTRY=$(mktemp /tmp/qvmr-sims.XXXXXX) || exit 2
pgid=""

# What is left of a test file's process group (a daemon or a sleep it
# started, or all of it when this runner is stopped) gets SIGTERM, 5 s to
# clean up, then SIGKILL.
stop_group() {
	local i
	[[ -n $pgid ]] || return 0
	if kill -TERM -- "-$pgid" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do
			ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }' ||
				break
			sleep 0.1
		done
		kill -KILL -- "-$pgid" 2>/dev/null
	fi
	pgid=""
}

clean_after() {   # FILE-NAME
	local path
	stop_group
	while IFS= read -r path; do
		if [[ -f $path/.qubes-real ]]; then # issue 13: a real-qrexec machine
			printf '# %s left machine %s: destroying it\n' "$1" "$path"
			"$top/sim/qubes-real" -r "$path" destroy
			continue
		fi
		[[ -f $path/.qubes-sim ]] || continue
		printf '# %s left machine %s: destroying it\n' "$1" "$path"
		"$top/sim/qubes-sim" -r "$path" destroy
	done <"$QVMR_SIM_REGISTRY"
	if [[ ${QVMR_KEEP:-0} != 1 ]]; then
		while IFS= read -r path; do
			[[ $path == /tmp/qvmr-test.* && -d $path ]] && rm -rf -- "$path"
		done <"$QVMR_SIM_REGISTRY"
	fi
	: >"$QVMR_SIM_REGISTRY"
}

trap 'clean_after "${name:-}"; rm -f -- "$QVMR_SIM_REGISTRY"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

passed=0 failed=0
for f in "${files[@]}"; do
	name=${f##*/}
	printf '# %s\n' "$name"
	start=${EPOCHREALTIME//[!0-9]/}
	cases=0 bad=0 skipped=0 rc=0 other=()
	flimit=$limit
	if [[ -z ${QVMR_TEST_TIMEOUT:-} ]]; then
		l=$(sed -n 's/^# run\.sh limit: \([0-9]\{1,3\}\) s.*/\1/p' "$f" | head -n 1)
		[[ -n $l ]] && ((l > 0 && l <= 900)) && flimit=$l
	fi
	while IFS= read -r line; do
		case $line in
		"ok - "*) ((passed++, cases++)); printf '%s\n' "$line" ;;
		"not ok - "*) ((failed++, cases++, bad++)); printf '%s\n' "$line" ;;
		"skip - "*) ((skipped++)); printf '%s\n' "$line" ;;
		"#"*) printf '%s\n' "$line" ;;
		"__qvmr_pgid "*) pgid=${line#__qvmr_pgid } ;;
		"__qvmr_rc "*) rc=${line#__qvmr_rc }; break ;; # stragglers may hold the pipe
		"") ;;
		*) other+=("$line"); ((${#other[@]} > 20)) && other=("${other[@]:1}") ;;
		esac
	done < <(
		# timeout leads its own process group: the file and its children
		timeout -k 10 "$flimit" bash "$f" </dev/null 2>&1 &
		printf '\n__qvmr_pgid %d\n' "$!"
		wait "$!"
		printf '\n__qvmr_rc %d\n' "$?"
	)
	clean_after "$name"
	took=$(((${EPOCHREALTIME//[!0-9]/} - start) / 1000))
	problem=""
	if ((rc == 124 || (rc == 137 && took >= flimit * 1000))); then
		problem="timed out after $flimit s"
	elif ((rc > 128)); then
		problem="killed by signal $((rc - 128))"
	elif ((rc != 0 && bad == 0)); then
		problem="exited with status $rc"
	elif ((cases == 0 && skipped == 0)); then
		problem="reported no test case"
	fi
	if [[ -n $problem ]]; then
		((failed++))
		printf 'not ok - %s: %s\n' "$name" "$problem"
	fi
	if [[ -n $problem || $bad != 0 ]] && ((${#other[@]})); then
		printf '#   last other output of %s:\n' "$name"
		printf '#   | %s\n' "${other[@]}"
	fi
	printf '# %s: %d ms\n' "$name" "$took"
done

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
