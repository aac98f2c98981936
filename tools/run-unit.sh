#!/bin/sh
# run-unit.sh - runs each unit test binary given as an argument.
#
# Prints one PASS/FAIL line per binary (with its output when it fails) and
# ends with exactly "N passed, N failed"; exits 1 when anything failed.
set -u

passed=0
failed=0
log=$(mktemp) || { echo "run-unit.sh: cannot create a temporary file" >&2; exit 2; }
trap 'rm -f "$log"' EXIT HUP INT TERM

for t in "$@"; do
	name=$(basename "$t")
	if [ ! -x "$t" ]; then
		echo "FAIL $name (not an executable file: $t)"
		failed=$((failed + 1))
		continue
	fi
	if "$t" >"$log" 2>&1; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		rc=$?
		echo "FAIL $name (exit $rc)"
		sed 's/^/    /' "$log"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
