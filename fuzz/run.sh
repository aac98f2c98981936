#!/bin/sh
# run.sh DIR NAME=RUNS... - the smoke run of `make fuzz`.
#
# Runs each built target DIR/fuzz_NAME for RUNS executions on a fresh copy
# of fuzz/corpus/NAME in DIR/corpus/NAME (libFuzzer adds what it finds
# there, never to the committed seeds), prints one line per target, and
# exits 1 when any target reported a crash, a leak, undefined behaviour, a
# broken property or a timeout.  The input that did it is kept in
# DIR/findings/ and shown in hex; the log is DIR/fuzz_NAME.log.
# FUZZ_SEED picks libFuzzer's random seed (default 1, so a run repeats).
set -u

cd "$(dirname "$0")/.." || exit 2
[ $# -ge 1 ] || { echo "usage: fuzz/run.sh DIR NAME=RUNS..." >&2; exit 2; }
dir=$1
shift
seed=${FUZZ_SEED:-1}
failed=
start=$(date +%s)

for spec in "$@"; do
	name=${spec%%=*}
	runs=${spec#*=}
	bin=$dir/fuzz_$name
	corpus=$dir/corpus/$name
	log=$dir/fuzz_$name.log
	rm -rf "$corpus" "$dir/findings/$name-"*
	mkdir -p "$corpus" "$dir/findings"
	if [ -d "fuzz/corpus/$name" ]; then
		cp -R "fuzz/corpus/$name/." "$corpus/"
	fi
	seeds=$(find "$corpus" -type f | wc -l)
	t0=$(date +%s)
	"$bin" -runs="$runs" -seed="$seed" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$dir/findings/$name-" \
	    "$corpus" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	kept=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
		printf 'fuzz: %-13s %8s executions in %3ss, corpus %s -> %s\n' \
		    "$name" "${execs:-?}" "$((t1 - t0))" "$seeds" "$kept"
		continue
	fi
	failed="$failed $name"
	printf 'fuzz: %-13s FAILED (exit %s) after %s executions; log %s\n' \
	    "$name" "$rc" "${execs:-?}" "$log"
	# the report and its stack, without libFuzzer's progress lines
	grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)' \
	    "$log" | tail -n 60 | sed 's/^/    /'
	for f in "$dir/findings/$name-"*; do
		[ -f "$f" ] || continue
		echo "    input: $f"
		if [ "$(wc -c <"$f")" -le 1024 ]; then
			printf '    hex: %s\n' "$(od -An -v -tx1 "$f" | tr -d ' \n')"
		fi
	done
done

printf 'fuzz: %s targets in %ss\n' "$#" "$(($(date +%s) - start))"
if [ -n "$failed" ]; then
	echo "fuzz: findings in:$failed"
	exit 1
fi
exit 0
